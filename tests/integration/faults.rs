//! Faults under a running server: a failed write or sync on the log stops appends until a
//! restart and loses nothing acknowledged; a torn or damaged WAL and a flipped byte in the
//! database file are found, never served as a whole log.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use event_store::EventStore;
use event_store_sqlite::SqliteStore;
use tests::Scratch;

use crate::common::s;
use crate::servers::{admin_token, http, serve_with, serve_wrapped, try_serve, Server};

/// Debian's `strace`, which injects the faults.
fn strace() -> PathBuf {
    let found = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|d| d.join("strace"))
        .find(|p| p.is_file());
    found.expect("these tests inject faults with strace: install Debian's `strace` package")
}

/// A 32-bit FNV-1a hash: distinct ids for distinct tags.
fn fnv(text: &str) -> u32 {
    text.bytes()
        .fold(0x811c9dc5, |h, b| (h ^ b as u32).wrapping_mul(0x01000193))
}

/// A batch of `1 + j % 3` events, each receiving a new complaint: never refused by a rule.
fn batch(tag: &str, j: usize) -> (String, Vec<String>) {
    let mut events = Vec::new();
    let mut ids = Vec::new();
    for k in 0..1 + j % 3 {
        let id = format!("0190b000-0000-7000-8000-{:08x}{:03x}{k:x}", fnv(tag), j);
        events.push(format!(
            r#"{{"id":"{id}","stream":"F-{tag}-{j}-{k}","type":"received","occurred_at":"2024-09-02T09:00:00+07:00","actor":"fault","data":{{"channel":"web","category":"road","district":"bang-rak","subject":"s","complainant":{{"anonymous":true}}}}}}"#
        ));
        ids.push(id);
    }
    (format!("[{}]", events.join(",")), ids)
}

/// The id of every stored event, with how many times it is stored, and whether the chain
/// verifies.
fn stored(db: &Path) -> (HashMap<String, usize>, Option<(u64, String)>) {
    let store = SqliteStore::open_read_only(db).unwrap();
    let mut ids = HashMap::new();
    store
        .scan(0, &mut |e| *ids.entry(e.id.to_string()).or_insert(0) += 1)
        .unwrap();
    (ids, store.verify().unwrap().first_bad)
}

/// The pid of the server a wrapper (strace) runs.
fn child_of(pid: u32) -> u32 {
    let t = Instant::now();
    loop {
        let out = Command::new("pgrep")
            .args(["-P", &pid.to_string()])
            .output()
            .unwrap();
        if let Some(p) = String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .next()
        {
            return p.parse().unwrap();
        }
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "no server under {pid}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// How a server under a fault is stopped before its restart.
#[derive(Debug, Clone, Copy)]
enum Stop {
    /// SIGTERM: a clean shutdown.
    Term,
    /// SIGKILL: the process dies where it is.
    Kill,
}

/// What one run under an injected fault saw.
struct Run {
    acknowledged: Vec<Vec<String>>,
    failed: Vec<(String, Vec<String>)>,
}

/// Appends batches one at a time under the fault until appends have been refused a few times;
/// checks that, once refused, every append is refused with the cause, reads go on, and the
/// server says it is not ready.
fn append_until_stopped(server: &Server, token: &str, tag: &str, log: &Path) -> Run {
    let mut run = Run {
        acknowledged: Vec::new(),
        failed: Vec::new(),
    };
    for j in 0..200 {
        let (body, ids) = batch(tag, j);
        let (status, text) = http(server.port, "POST", "/v1/events", Some(token), Some(&body))
            .expect("the server answers");
        match status {
            201 if run.failed.is_empty() => run.acknowledged.push(ids),
            503 => {
                let p: serde_json::Value = serde_json::from_str(&text).unwrap();
                assert_eq!(p["type"], "urn:rongtook:problem:appends_stopped", "{text}");
                assert!(p["detail"].as_str().unwrap().contains("I/O"), "{text}");
                run.failed.push((body, ids));
            }
            _ => panic!(
                "{tag}: batch {j} answered {status} (after {} refusals): {text}",
                run.failed.len()
            ),
        }
        if run.failed.len() == 4 {
            break;
        }
    }
    assert!(
        !run.failed.is_empty(),
        "{tag}: the fault never hit: {}",
        std::fs::read_to_string(log).unwrap_or_default()
    );
    // Refused for good, not ready, reads answered from what was committed.
    let (status, text) = http(server.port, "GET", "/ready", None, None).unwrap();
    assert_eq!(status, 503, "{text}");
    assert!(text.contains("appends are stopped"), "{text}");
    if let Some(first) = run.acknowledged.first() {
        let stream = format!("/v1/complaints/F-{tag}-0-0");
        let (status, text) = http(server.port, "GET", &stream, Some(token), None).unwrap();
        assert_eq!(status, 200, "{} {text}", first[0]);
    }
    let (_, metrics) = http(server.port, "GET", "/metrics", Some(token), None).unwrap();
    assert!(metrics.contains("rongtook_appends_stopped 1"), "{metrics}");
    let said = std::fs::read_to_string(log).unwrap();
    assert_eq!(said.matches("APPENDS STOPPED").count(), 1, "{said}");
    run
}

/// After the restart: every acknowledged event is stored once; each refused batch is stored
/// whole or not at all (its outcome was unknown), and stored once after it is sent again;
/// nothing else is stored, and the chain verifies.
fn check_after_restart(db: &str, port: u16, token: &str, tag: &str, run: &Run) -> usize {
    let (ids, bad) = stored(Path::new(db));
    assert_eq!(bad, None, "{tag}: the chain does not verify");
    for id in run.acknowledged.iter().flatten() {
        assert_eq!(ids.get(id), Some(&1), "{tag}: acknowledged {id} lost");
    }
    let mut appeared = 0;
    for (_, batch) in &run.failed {
        let present: Vec<_> = batch.iter().filter(|id| ids.contains_key(*id)).collect();
        assert!(
            present.is_empty() || present.len() == batch.len(),
            "{tag}: a refused batch is stored in part: {present:?} of {batch:?}"
        );
        appeared += !present.is_empty() as usize;
    }
    let known = run.acknowledged.len() + run.failed.len();
    let sent: usize = run.acknowledged.iter().map(Vec::len).sum::<usize>()
        + run.failed.iter().map(|(_, b)| b.len()).sum::<usize>();
    assert!(ids.len() <= sent, "{tag}: events never sent are stored");
    for (body, _) in &run.failed {
        let (status, text) = http(port, "POST", "/v1/events", Some(token), Some(body)).unwrap();
        assert!(
            status == 200 || status == 201,
            "{tag}: resent: {status} {text}"
        );
    }
    let (body, _) = batch(tag, known);
    let (status, text) = http(port, "POST", "/v1/events", Some(token), Some(&body)).unwrap();
    assert_eq!(status, 201, "{tag}: a new append after the restart: {text}");
    let (ids, bad) = stored(Path::new(db));
    assert_eq!(bad, None);
    for (_, batch) in &run.failed {
        for id in batch {
            assert_eq!(ids.get(id), Some(&1), "{tag}: resent {id}");
        }
    }
    appeared
}

#[test]
fn a_failed_write_or_sync_stops_appends_until_a_restart_and_loses_nothing_acknowledged() {
    let strace = strace();
    // Where the fault hits, counted in calls from the start (a start takes two syncs and 17
    // writes): the sync of a commit (SQLite syncs the WAL with fsync or fdatasync), early and
    // later; the writes of a commit (its statement journal, the WAL's header and frames, the
    // head record after it) in the first and the second commit.
    let cases = [
        ("fsync-4", "fsync,fdatasync", 4, Stop::Term),
        ("fsync-11", "fsync,fdatasync", 11, Stop::Kill),
        ("write-19", "pwrite64", 19, Stop::Kill),
        ("write-22", "pwrite64", 22, Stop::Term),
        ("write-35", "pwrite64", 35, Stop::Kill),
        ("write-40", "pwrite64", 40, Stop::Term),
    ];
    let mut report = Vec::new();
    for (tag, calls, when, stop) in cases {
        let dir = Scratch::new(&format!("fault-{tag}"));
        let db = dir.path("log.db");
        let db = s(&db).to_string();
        let token = admin_token(&db, "faults");
        let trace = dir.path("strace.out");
        let log = dir.path("serve-1.log");
        let server = serve_wrapped(
            &[
                s(&strace),
                "-f",
                "-qq",
                "-o",
                s(&trace),
                "-e",
                &format!("trace={calls}"),
                "-e",
                &format!("inject={calls}:error=EIO:when={when}"),
            ],
            &db,
            &["--snapshots", "none"],
            &log,
        );
        let run = append_until_stopped(&server, &token, tag, &log);
        let pid = child_of(server.child.id());
        let signal = match stop {
            Stop::Term => "-TERM",
            Stop::Kill => "-KILL",
        };
        assert!(Command::new("kill")
            .args([signal, &pid.to_string()])
            .status()
            .unwrap()
            .success());
        // The server ends (a clean stop for SIGTERM), and strace with it: the restart below
        // is a restart, with the log closed.
        let mut server = server;
        let t = Instant::now();
        while server.child.try_wait().unwrap().is_none() {
            assert!(
                t.elapsed() < Duration::from_secs(60),
                "{tag}: the server did not end on {signal}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(
            !Path::new(&format!("/proc/{pid}")).exists(),
            "{tag}: the server outlived strace"
        );
        if let Stop::Term = stop {
            let said = std::fs::read_to_string(&log).unwrap();
            assert!(!said.contains("panicked"), "{tag}: {said}");
        }
        drop(server);

        let log = dir.path("serve-2.log");
        let again = serve_with(&db, &["--snapshots", "none"], &log);
        let said = std::fs::read_to_string(&log).unwrap();
        assert!(said.contains("chain verified"), "{said}");
        let appeared = check_after_restart(&db, again.port, &token, tag, &run);
        report.push(format!(
            "{tag} ({stop:?}): {} acknowledged, {} refused, {appeared} of them stored",
            run.acknowledged.len(),
            run.failed.len()
        ));
    }
    eprintln!("{}", report.join("\n"));
}

/// A small deterministic generator (the faults must repeat from run to run).
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

/// What a fault does to the WAL's bytes.
type Damage = Box<dyn Fn(&mut Vec<u8>)>;

/// Copies the log's files (the database, its WAL and index, the head record) from one folder
/// to another.
fn copy_log(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for name in ["log.db", "log.db-wal", "log.db-shm", "log.db.head"] {
        if from.join(name).exists() {
            std::fs::copy(from.join(name), to.join(name)).unwrap();
        }
    }
}

/// Appends batches from two clients until `stop`, each keeping what was acknowledged.
fn load(port: u16, token: &str, tag: &str, batches: usize) -> Vec<Vec<String>> {
    let clients: Vec<_> = (0..2)
        .map(|c| {
            let (token, tag) = (token.to_string(), format!("{tag}{c}"));
            std::thread::spawn(move || {
                let mut acknowledged = Vec::new();
                for j in 0..batches {
                    let (body, ids) = batch(&tag, j);
                    match http(port, "POST", "/v1/events", Some(&token), Some(&body)) {
                        Ok((201, _)) => acknowledged.push(ids),
                        Ok((status, text)) => panic!("{status}: {text}"),
                        Err(_) => break, // the server was killed
                    }
                }
                acknowledged
            })
        })
        .collect();
    clients
        .into_iter()
        .flat_map(|c| c.join().unwrap())
        .collect()
}

#[test]
fn a_torn_or_damaged_wal_restarts_as_the_committed_prefix_or_is_refused() {
    let dir = Scratch::new("torn-wal");
    let live = dir.path("live");
    std::fs::create_dir_all(&live).unwrap();
    let db = live.join("log.db");
    let token = admin_token(s(&db), "faults");
    let mut server = serve_with(s(&db), &["--snapshots", "none"], &dir.path("serve.log"));
    // Two clients append; the server is killed with SIGKILL mid-load.
    let port = server.port;
    let (t2, tag) = (token.clone(), "torn");
    let loader = std::thread::spawn(move || load(port, &t2, tag, 400));
    let t = Instant::now();
    while std::fs::metadata(live.join("log.db-wal")).map_or(0, |m| m.len()) < 5_000_000 {
        assert!(
            t.elapsed() < Duration::from_secs(60),
            "the WAL does not grow"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    server.child.kill().unwrap();
    server.child.wait().unwrap();
    let acknowledged = loader.join().unwrap();
    assert!(acknowledged.len() > 20, "{}", acknowledged.len());
    let crashed = dir.path("crashed");
    copy_log(&live, &crashed);
    let wal_len = std::fs::metadata(crashed.join("log.db-wal")).unwrap().len();
    // SQLite's WAL: a 32-byte header, then frames of a 24-byte header and a 16 KiB page.
    let frame = 24 + 16384u64;
    let frames = (wal_len - 32) / frame;

    // The faults: the WAL whole (the control), cut at random offsets, cut inside the WAL
    // header, bytes flipped in its last frames, and a flipped byte in its header.
    let mut rng = Lcg(2567);
    let mut faults: Vec<(String, Damage)> = vec![("none".into(), Box::new(|_| {}))];
    for _ in 0..8 {
        let at = 32 + rng.below(wal_len - 32);
        faults.push((
            format!("cut at {at}"),
            Box::new(move |w| w.truncate(at as usize)),
        ));
    }
    faults.push(("cut at 17".into(), Box::new(|w| w.truncate(17))));
    for _ in 0..4 {
        let at = 32 + (frames - 1 - rng.below(3.min(frames))) * frame + rng.below(frame);
        faults.push((
            format!("byte {at} flipped"),
            Box::new(move |w| w[at as usize] ^= 0x55),
        ));
    }
    faults.push(("header byte 20 flipped".into(), Box::new(|w| w[20] ^= 0x01)));

    let (mut started, mut refused) = (0, 0);
    for (k, (fault, damage)) in faults.iter().enumerate() {
        let trial = dir.path(&format!("trial-{k}"));
        copy_log(&crashed, &trial);
        let wal = trial.join("log.db-wal");
        let mut bytes = std::fs::read(&wal).unwrap();
        damage(&mut bytes);
        std::fs::write(&wal, &bytes).unwrap();
        let db = trial.join("log.db");
        match try_serve(s(&db), &["--snapshots", "none"], &trial.join("serve.log")) {
            Ok(server) => {
                started += 1;
                let (status, text) = http(server.port, "GET", "/ready", None, None).unwrap();
                assert_eq!(status, 200, "{fault}: {text}");
                let (ids, bad) = stored(&db);
                assert_eq!(bad, None, "{fault}: the chain does not verify");
                for id in acknowledged.iter().flatten() {
                    assert_eq!(ids.get(id), Some(&1), "{fault}: acknowledged {id} lost");
                }
            }
            Err(said) => {
                refused += 1;
                assert!(
                    said.contains("acknowledged events are missing")
                        && said.contains("was acknowledged"),
                    "{fault}: refused without saying why: {said}"
                );
                // `verify` names the loss too.
                let out = crate::common::rongtook(&["verify", "--db", s(&db)]);
                let text = String::from_utf8_lossy(&out.stdout).to_string()
                    + &String::from_utf8_lossy(&out.stderr);
                assert!(!out.status.success(), "{fault}: verify passed: {text}");
                assert!(text.contains("acknowledged"), "{fault}: {text}");
            }
        }
        if k == 0 {
            assert_eq!(started, 1, "the undamaged log must start");
        }
    }
    assert!(refused > 0, "no fault was refused");
    eprintln!(
        "{} faults on a WAL of {frames} frames: {started} started with every acknowledged event, {refused} refused",
        faults.len()
    );
}

/// The position of the event whose payload holds `mark`.
fn position_of(db: &Path, mark: &str) -> u64 {
    let store = SqliteStore::open_read_only(db).unwrap();
    let mut found = None;
    store
        .scan(0, &mut |e| {
            if serde_json::to_string(&e.data).unwrap().contains(mark) {
                found = Some(e.position);
            }
        })
        .unwrap();
    found.unwrap_or_else(|| panic!("no event holds {mark}"))
}

/// Flips one byte of `mark` in the database file (`mark` must be there once).
fn flip_in_file(db: &Path, mark: &str) {
    let mut bytes = std::fs::read(db).unwrap();
    let at = bytes
        .windows(mark.len())
        .position(|w| w == mark.as_bytes())
        .unwrap_or_else(|| panic!("{mark} is not in the file"));
    bytes[at + mark.len() - 1] ^= 0x20; // a letter's case: the JSON stays valid
    std::fs::write(db, &bytes).unwrap();
}

/// Flips a byte of `mark` in the database file; `rongtook verify` must fail naming the
/// position of its event, which is returned.
fn flip_and_verify(db: &str, mark: &str) -> u64 {
    let at = position_of(Path::new(db), mark);
    flip_in_file(Path::new(db), mark);
    let out = crate::common::rongtook(&["verify", "--db", db]);
    assert!(!out.status.success());
    let said =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(said.contains(&format!("position {at}")), "{said}");
    at
}

/// A received event whose subject is `mark`.
fn marked(tag: &str, mark: &str) -> String {
    format!(
        r#"{{"id":"0190b000-0000-7000-8000-{:012x}","stream":"M-{tag}","type":"received","occurred_at":"2024-09-02T09:00:00+07:00","actor":"fault","data":{{"channel":"web","category":"road","district":"bang-rak","subject":"{mark}","complainant":{{"anonymous":true}}}}}}"#,
        fnv(mark) as u64
    )
}

/// A server that stopped appends says why, naming the position, on `/ready` and to appends.
fn assert_stopped_at(server: &Server, token: &str, position: u64, log: &Path) {
    let t = Instant::now();
    let why = loop {
        let (status, text) = http(server.port, "GET", "/ready", None, None).unwrap();
        if status == 503 && text.contains("does not verify") {
            break text;
        }
        assert!(
            t.elapsed() < Duration::from_secs(60),
            "not stopped: {status} {text}: {}",
            std::fs::read_to_string(log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(why.contains(&format!("position {position}")), "{why}");
    let (body, _) = batch("after", 0);
    let (status, text) = http(server.port, "POST", "/v1/events", Some(token), Some(&body)).unwrap();
    assert_eq!(status, 503, "{text}");
    assert!(text.contains(&format!("position {position}")), "{text}");
    // Reads go on.
    let (status, _) = http(server.port, "GET", "/v1/complaints", Some(token), None).unwrap();
    assert_eq!(status, 200);
}

#[test]
fn a_flipped_byte_in_the_database_file_is_found_by_verify_and_at_start() {
    let dir = Scratch::new("flipped-byte");
    let db = dir.path("log.db");
    let db = s(&db).to_string();
    let token = admin_token(&db, "faults");
    let opts = ["--snapshots", "none"];
    // An old event (verified at a later start), then events after that start.
    let mut first = serve_with(&db, &opts, &dir.path("serve-1.log"));
    let acknowledged = load(first.port, &token, "old", 20);
    assert_eq!(acknowledged.len(), 40);
    let old = marked("old", "oldmarkq");
    let (status, text) = http(first.port, "POST", "/v1/events", Some(&token), Some(&old)).unwrap();
    assert_eq!(status, 201, "{text}");
    load(first.port, &token, "mid", 5);
    assert!(first.stop_gracefully());
    let mut second = serve_with(&db, &opts, &dir.path("serve-2.log"));
    let new = marked("new", "newmarkq");
    let (status, text) = http(second.port, "POST", "/v1/events", Some(&token), Some(&new)).unwrap();
    assert_eq!(status, 201, "{text}");
    assert!(second.stop_gracefully());
    // Every event into the database file itself.
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
        .unwrap();
    let good = dir.path("good.db");
    std::fs::copy(&db, &good).unwrap();
    std::fs::copy(format!("{db}.head"), dir.path("good.db.head")).unwrap();

    // After the head verified last: found before any append is taken.
    let at = flip_and_verify(&db, "newmarkq");
    let log = dir.path("serve-3.log");
    let third = try_serve(&db, &opts, &log).unwrap();
    assert_stopped_at(&third, &token, at, &log);
    drop(third);

    // Before it (verified at the last start): found by the walk of the whole log that
    // follows a start.
    std::fs::copy(&good, &db).unwrap();
    std::fs::copy(dir.path("good.db.head"), format!("{db}.head")).unwrap();
    let at = flip_and_verify(&db, "oldmarkq");
    let log = dir.path("serve-4.log");
    let fourth = try_serve(&db, &opts, &log).unwrap();
    assert_stopped_at(&fourth, &token, at, &log);
    let said = std::fs::read_to_string(&log).unwrap();
    assert!(said.contains("chain verified"), "{said}");
}
