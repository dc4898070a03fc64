//! Projection snapshots: the fold's bytes round-trip on every fixture, a snapshot is refused
//! when damaged, made with other versions or of another log, a model resumed from one answers
//! as a fresh fold, and a server killed with `kill -9` mid-write restarts from its last good
//! snapshot and answers exactly as a server that folded the whole log.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use calendar::{Calendar, FiscalYear};
use event_model::Hash;
use event_store::EventStore;
use event_store_sqlite::SqliteStore;
use projections::{ComplaintFold, DeadlineRules};
use read_model::snapshot::{self, Refused};
use read_model::{end_of_time, fold_log, Folded, Live, ReadModel};
use sha2::{Digest, Sha256};
use tests::{workspace_root, Scratch};

use crate::common::{generated_log, s};
use crate::fixtures::{case_dirs, parse_all, recorded_at};
use crate::servers::{admin_token, body, complaints, http, serve_with};

/// Every accepted fixture's events, with its evaluation instant.
fn fixture_logs() -> Vec<(
    String,
    Vec<event_model::NewEvent>,
    chrono::DateTime<chrono::FixedOffset>,
)> {
    case_dirs(&workspace_root().join("replay-fixtures"))
        .into_iter()
        .map(|dir| {
            let case: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(dir.join("case.json")).unwrap())
                    .unwrap();
            let as_of = read_model::parse_instant(case["as_of"].as_str().unwrap()).unwrap();
            let name = dir.file_name().unwrap().to_string_lossy().into_owned();
            (name, parse_all(&dir.join("events.ndjson")), as_of)
        })
        .collect()
}

fn store_of(events: &[event_model::NewEvent]) -> SqliteStore {
    let mut store = SqliteStore::open_in_memory().unwrap();
    store.append(events, recorded_at()).unwrap();
    store
}

/// A fold's bytes, decoded and encoded again, are the same bytes, and the decoded fold judges
/// every complaint, lists and shows them as the original does.
fn assert_round_trip(name: &str, fold: &ComplaintFold) {
    let (cal, rules) = (Calendar::builtin(), DeadlineRules::default());
    let mut bytes = Vec::new();
    fold.encode(&mut bytes);
    let back = ComplaintFold::decode(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
    // The map's order may differ after decoding, so the bytes may be ordered otherwise: the
    // same length, and the same fold again.
    let mut again = Vec::new();
    back.encode(&mut again);
    assert_eq!(bytes.len(), again.len(), "{name}");
    let twice = ComplaintFold::decode(&again).unwrap();
    assert_eq!(
        twice.views(&cal, &rules),
        fold.views(&cal, &rules),
        "{name}"
    );
    assert_eq!(back.as_of(), fold.as_of(), "{name}");
    assert_eq!(back.views(&cal, &rules), fold.views(&cal, &rules), "{name}");
    assert_eq!(back.monthly_reports(), fold.monthly_reports(), "{name}");
    let mut ids: Vec<&str> = fold.ids_in(None);
    ids.sort_unstable();
    for id in ids {
        let (a, b) = (fold.public_info(id).unwrap(), back.public_info(id).unwrap());
        assert_eq!(
            (a.subject, a.location, a.updated_at, a.answer),
            (b.subject, b.location, b.updated_at, b.answer),
            "{name}: {id}"
        );
    }
    let summary = |f: &ComplaintFold| {
        let mut v: Vec<String> = f.summaries().map(|s| format!("{s:?}")).collect();
        v.sort();
        v
    };
    assert_eq!(summary(&back), summary(fold), "{name}");
    // Every cut of the bytes is refused, never misread.
    for cut in [0, 1, bytes.len() / 2, bytes.len() - 1] {
        assert!(
            ComplaintFold::decode(&bytes[..cut]).is_err(),
            "{name}: {cut} bytes decoded"
        );
    }
}

#[test]
fn fold_bytes_round_trip_on_every_fixture_and_a_generated_year() {
    for (name, events, as_of) in fixture_logs() {
        let store = store_of(&events);
        // As of the case's instant (events after it mark how far records reach), and the
        // live fold with the public information.
        let mut dated = ComplaintFold::new(as_of);
        let mut live = ComplaintFold::new(end_of_time()).with_public_info();
        store
            .scan(0, &mut |e| {
                dated.apply(e.clone());
                live.apply(e);
            })
            .unwrap();
        assert_round_trip(&name, &dated);
        assert_round_trip(&name, &live);
    }
    let dir = Scratch::new("snapshot-generated");
    let db = generated_log(&dir, 300, 7);
    let store = SqliteStore::open(&db, event_store::Durability::Full).unwrap();
    let live = Live::load(&store).unwrap();
    assert_eq!(live.read().fold.len(), 300);
    assert_round_trip("generated", &live.read().fold);
}

/// The bytes of a known fold, hashed: when the layout or the fold's fields change, this fails
/// until `projections::FOLD_FORMAT` is bumped (so old snapshots are not misread) and the hash
/// below is updated. Each complaint of the fixtures is folded on its own (one entry per fold,
/// so no map order enters the bytes), and the unit streams of each fixture together.
#[test]
fn the_fold_format_is_pinned() {
    let mut all = Sha256::new();
    for (name, events, as_of) in fixture_logs() {
        let store = store_of(&events);
        let mut streams: Vec<String> = Vec::new();
        store
            .scan(0, &mut |e| {
                if !streams.contains(&e.stream) {
                    streams.push(e.stream.clone());
                }
            })
            .unwrap();
        streams.sort();
        let units: Vec<&String> = streams.iter().filter(|s| s.starts_with("unit:")).collect();
        let mut groups: Vec<Vec<&String>> = streams
            .iter()
            .filter(|s| !s.starts_with("unit:"))
            .map(|s| vec![s])
            .collect();
        groups.push(units);
        for group in groups {
            for at in [as_of, end_of_time()] {
                let mut fold = ComplaintFold::new(at).with_public_info();
                store
                    .scan(0, &mut |e| {
                        if group.contains(&&e.stream) {
                            fold.apply(e)
                        }
                    })
                    .unwrap();
                let mut bytes = Vec::new();
                fold.encode(&mut bytes);
                all.update(name.as_bytes());
                all.update(&bytes);
            }
        }
    }
    let got = Hash(all.finalize().into()).to_hex();
    assert_eq!(
        (projections::FOLD_FORMAT, got.as_str()),
        (
            4,
            "50a785f87c344cfc4cc5ba383aa6f1eff08b30292e2bd22bef495340d16b1a76"
        ),
        "the fold's bytes changed: bump projections::FOLD_FORMAT, then pin both here"
    );
}

/// A snapshot of a generated log at `position`, and the log.
fn snapshot_at(db: &Path, position: u64) -> (Folded, Vec<u8>) {
    let store = SqliteStore::open(db, event_store::Durability::Full).unwrap();
    let mut f = Folded::new(end_of_time(), true);
    store
        .scan(0, &mut |e| {
            if e.position <= position {
                f.apply(e)
            }
        })
        .unwrap();
    let bytes = snapshot::encode(&f, &Calendar::builtin(), &DeadlineRules::default());
    (f, bytes)
}

#[test]
fn a_snapshot_is_used_only_when_whole_of_these_versions_and_of_this_log() {
    let dir = Scratch::new("snapshot-refusals");
    let db = generated_log(&dir, 200, 3);
    let store = SqliteStore::open(&db, event_store::Durability::Full).unwrap();
    let head = store.head().unwrap();
    let half = head.position / 2;
    let (cal, rules) = (Calendar::builtin(), DeadlineRules::default());
    let (folded, bytes) = snapshot_at(&db, half);
    let stamp = snapshot::stamp(&bytes).unwrap();
    assert_eq!((stamp.position, stamp.events), (half, half));
    assert_eq!(stamp.fold_format, projections::FOLD_FORMAT);

    // Whole, of these versions and of this log: used.
    let back = snapshot::decode(&bytes, &cal, &rules).unwrap();
    assert_eq!(back.head, folded.head);
    snapshot::check_log(&store, &back).unwrap();

    // Damaged: every flipped byte and every cut is found by the checksum.
    for i in [0, 20, bytes.len() / 3, bytes.len() - 40, bytes.len() - 1] {
        let mut bad = bytes.clone();
        bad[i] ^= 0x40;
        assert!(
            matches!(
                snapshot::decode(&bad, &cal, &rules),
                Err(Refused::Damaged(_))
            ),
            "byte {i} flipped"
        );
    }
    for cut in [0, 10, bytes.len() / 2, bytes.len() - 1] {
        assert!(matches!(
            snapshot::decode(&bytes[..cut], &cal, &rules),
            Err(Refused::Damaged(_))
        ));
    }

    // Made with other rules or another calendar: not used, saying which.
    let other_rules = DeadlineRules {
        ack_business_days: 2,
        ..DeadlineRules::default()
    };
    let e = snapshot::decode(&bytes, &cal, &other_rules).unwrap_err();
    assert!(
        matches!(e, Refused::OtherVersions(ref w) if w.contains("rules")),
        "{e}"
    );
    let other_cal = Calendar::parse("# covers: 2020-2030\n2024-01-01\tNew Year\n").unwrap();
    let e = snapshot::decode(&bytes, &other_cal, &rules).unwrap_err();
    assert!(
        matches!(e, Refused::OtherVersions(ref w) if w.contains("calendar")),
        "{e}"
    );

    // Of another log (same length, other events), or of a longer one: not used.
    let other_dir = Scratch::new("snapshot-other-log");
    let other = generated_log(&other_dir, 200, 4);
    let other = SqliteStore::open(&other, event_store::Durability::Full).unwrap();
    assert!(other.head().unwrap().position >= half);
    let e = snapshot::check_log(&other, &back).unwrap_err();
    assert!(matches!(e, Refused::OtherLog(_)), "{e}");
    let short = store_of(&[]);
    let e = snapshot::check_log(&short, &back).unwrap_err();
    assert!(
        matches!(e, Refused::OtherLog(ref w) if w.contains("fewer")),
        "{e}"
    );

    // Resumed from it, the model answers as one that folded the whole log.
    let fresh = ReadModel::load(&store, cal.clone(), rules.clone()).unwrap();
    let resumed = ReadModel::resume(&store, Some(back), cal.clone(), rules.clone()).unwrap();
    assert_eq!(resumed.applied(), head.position);
    assert_eq!(resumed.live().read().head, fresh.live().read().head);
    assert_eq!(resumed.live().read().events, fresh.live().read().events);
    let now = read_model::parse_instant("2024-09-30").unwrap();
    assert_eq!(resumed.all_complaints(now), fresh.all_complaints(now));
    let fy = FiscalYear::parse("2567").unwrap();
    let specs = read_model::builtin_specs();
    let figures = |m: &ReadModel| {
        let (year, indicators) = m.live_year(&store, fy, now, &specs).unwrap();
        let views: Vec<_> = year.views().into_iter().cloned().collect();
        (views, serde_json::to_string(&indicators).unwrap())
    };
    assert!(figures(&resumed) == figures(&fresh));
    // And its own snapshot is the fresh model's, byte for byte.
    assert!(
        resumed.snapshot() == fresh.snapshot() || {
            // Map order may differ between two folds: compare what they decode to.
            let x = snapshot::decode(&resumed.snapshot().1, &cal, &rules).unwrap();
            let y = snapshot::decode(&fresh.snapshot().1, &cal, &rules).unwrap();
            x.head == y.head && x.fold.views(&cal, &rules) == y.fold.views(&cal, &rules)
        }
    );

    // A whole log's fold as a replay makes it is a fold as of an instant: its snapshot too
    // round-trips.
    let replay_fold = fold_log(&store, now, &mut |_| {}).unwrap();
    let b = snapshot::encode(&replay_fold, &cal, &rules);
    assert_eq!(
        snapshot::decode(&b, &cal, &rules)
            .unwrap()
            .fold
            .views(&cal, &rules),
        replay_fold.fold.views(&cal, &rules)
    );
}

#[test]
fn hashes_read_back_from_hex() {
    let h = Hash(Sha256::digest(b"x").into());
    assert_eq!(Hash::from_hex(&h.to_hex()), Some(h));
    assert_eq!(Hash::from_hex("00"), None);
    assert_eq!(Hash::from_hex(&"g".repeat(64)), None);
    assert_eq!(Hash::from_hex(&h.to_hex().to_uppercase()), None);
}

/// The snapshot files in `dir`, oldest first.
fn snapshot_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .map(|d| d.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    v.retain(|p| p.extension().is_some_and(|e| e == "snap"));
    v.sort();
    v
}

/// `a == b`, or a failure showing where they part.
fn assert_same(what: &str, a: &str, b: &str) {
    if a != b {
        let at = a.bytes().zip(b.bytes()).take_while(|(x, y)| x == y).count();
        let around = |t: &str| {
            t.get(at.saturating_sub(200)..(at + 200).min(t.len()))
                .unwrap_or("")
                .to_string()
        };
        panic!(
            "{what}: the answers part at byte {at} of {} / {}:\n{}\n---\n{}",
            a.len(),
            b.len(),
            around(a),
            around(b)
        );
    }
}

/// What a server answers from its live projections: every complaint, the overdue list, and
/// a current year's indicators.
fn answers(port: u16, token: &str) -> String {
    let mut out = complaints(port, token);
    for path in [
        "/v1/overdue",
        "/v1/indicators?fiscal_year=2567&spec=bma-timeliness",
    ] {
        let (status, text) = http(port, "GET", path, Some(token), None).unwrap();
        assert_eq!(status, 200, "{path}: {text}");
        // The instant the list was judged at is the request's own.
        let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
        v.as_object_mut().unwrap().remove("as_of");
        out.push_str(&v.to_string());
    }
    out
}

#[test]
fn a_server_killed_mid_write_restarts_from_its_last_good_snapshot() {
    let dir = Scratch::new("snapshot-server");
    let db = generated_log(&dir, 400, 11);
    let db = s(&db).to_string();
    let snaps = dir.path("snaps");
    let token = admin_token(&db, "snapshots");
    let with_snaps = ["--snapshots", s(&snaps), "--snapshot-every", "300"];

    // Appends flow in from four clients; snapshots are saved every 300 events; kill -9.
    let server = serve_with(&db, &with_snaps, &dir.path("serve-1.log"));
    let port = server.port;
    let stop = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..4)
        .map(|c| {
            let (stop, token) = (stop.clone(), token.clone());
            std::thread::spawn(move || {
                let mut sent = 0;
                for j in 0.. {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    // New complaints only (no shared stream): every request is accepted.
                    let (b, _) = body(c, j * 4, 0);
                    match http(port, "POST", "/v1/events", Some(&token), Some(&b)) {
                        Ok((201, _)) => sent += 1,
                        Ok((status, text)) => panic!("{status}: {text}"),
                        Err(_) => break,
                    }
                }
                sent
            })
        })
        .collect();
    let t = Instant::now();
    while snapshot_files(&snaps).len() < 2 || t.elapsed() < Duration::from_secs(2) {
        assert!(
            t.elapsed() < Duration::from_secs(120),
            "no two snapshots saved: {}",
            std::fs::read_to_string(dir.path("serve-1.log")).unwrap()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    drop(server); // kill -9, with requests in flight
    stop.store(true, Ordering::Relaxed);
    let sent: usize = clients.into_iter().map(|c| c.join().unwrap()).sum();
    assert!(sent > 150, "only {sent} requests went through");
    let files = snapshot_files(&snaps);
    assert!(files.len() == 2, "{files:?}");
    // A save a crash cut short leaves a temporary file: it is ignored (and removed).
    std::fs::write(snaps.join("fold-99999999999999999999.snap.tmp"), b"torn").unwrap();

    // The fresh fold's answers, from a server that keeps no snapshots.
    let fresh = serve_with(&db, &["--snapshots", "none"], &dir.path("fresh.log"));
    let expected = answers(fresh.port, &token);
    drop(fresh);
    let newest = snapshot::stamp(&std::fs::read(files.last().unwrap()).unwrap())
        .unwrap()
        .position;

    // Restarted: from the newest snapshot, answering exactly as the fresh fold.
    let log = dir.path("serve-2.log");
    let mut again = serve_with(&db, &with_snaps, &log);
    assert_same(
        "from the newest snapshot",
        &answers(again.port, &token),
        &expected,
    );
    assert!(again.stop_gracefully(), "the server did not stop cleanly");
    let said = std::fs::read_to_string(&log).unwrap();
    assert!(said.contains("starting from a snapshot"), "{said}");
    assert!(said.contains(&format!("position={newest}")), "{said}");
    assert!(!snaps.join("fold-99999999999999999999.snap.tmp").exists());
    // The clean shutdown saved one at the head; flip a byte in it: the next start passes it
    // over, saying why, and starts from the one before.
    let files = snapshot_files(&snaps);
    let (older, newest) = (&files[0], &files[1]);
    let older_position = snapshot::stamp(&std::fs::read(older).unwrap())
        .unwrap()
        .position;
    let mut bytes = std::fs::read(newest).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 1;
    std::fs::write(newest, &bytes).unwrap();
    let log = dir.path("serve-3.log");
    let mut third = serve_with(&db, &with_snaps, &log);
    assert_same(
        "from the older snapshot",
        &answers(third.port, &token),
        &expected,
    );
    assert!(third.stop_gracefully());
    let said = std::fs::read_to_string(&log).unwrap();
    assert!(
        said.contains("snapshot not used") && said.contains("checksum"),
        "{said}"
    );
    assert!(
        said.contains(&format!("position={older_position}")),
        "{said}"
    );

    // Every snapshot damaged: the whole log is folded, and the answers are the same.
    for f in snapshot_files(&snaps) {
        std::fs::write(&f, [snapshot::MAGIC.as_slice(), b"not a snapshot"].concat()).unwrap();
    }
    let log = dir.path("serve-4.log");
    let fourth = serve_with(&db, &with_snaps, &log);
    assert_same("from the log", &answers(fourth.port, &token), &expected);
    drop(fourth);
    let said = std::fs::read_to_string(&log).unwrap();
    assert!(said.contains("no usable snapshot"), "{said}");
}
