//! Real Traffy Fondue exports: every row accounted for, re-imports add nothing, and the
//! district shares agree with a count made straight from the CSV by another program.

use std::collections::BTreeMap;
use std::process::Command;

use tests::{workspace_root, Scratch};

use crate::common::ok as rongtook;

/// `(records, imported, duplicates, refused)` from an import summary line
/// (`N records: a imported, b duplicates, s stale, c refused`); asserts nothing is stale.
fn summary(out: &str, file: &str) -> (u64, u64, u64, u64) {
    let all = counts(out, file);
    assert_eq!(all[3], 0, "stale records: {out}");
    (all[0], all[1], all[2], all[4])
}

/// `[records, imported, duplicates, stale, refused]` of a file's summary line.
fn counts(out: &str, file: &str) -> Vec<u64> {
    let line = out
        .lines()
        .find(|l| l.contains(file) && l.contains(" records: "))
        .unwrap_or_else(|| panic!("no summary for {file}: {out}"));
    let tail = line.rsplit_once(": ").map_or(line, |(_, t)| t);
    let head = line[..line.len() - tail.len() - 2]
        .rsplit(' ')
        .nth(1)
        .unwrap_or("");
    let mut nums: Vec<u64> = vec![head.parse().unwrap_or_else(|_| panic!("{line}"))];
    nums.extend(
        tail.split(", ")
            .map(|p| p.split(' ').next().unwrap().parse::<u64>().unwrap()),
    );
    assert_eq!(nums.len(), 5, "{line}");
    nums
}

#[test]
fn both_real_exports_import_with_every_row_accounted_for_and_the_shares_reproduced() {
    let dir = Scratch::new("traffy");
    let db = dir.path("log.db");
    let data = workspace_root().join("tests/data/traffy");
    let export = data.join("Bhuribhat__Traffy-Clustering__teamchadchart.csv");
    let api = data.join("Bhuribhat__Traffy-Clustering__fondue.csv");
    let files = [export.to_str().unwrap(), api.to_str().unwrap()];
    let out = rongtook(&[
        "import",
        "traffy",
        "--db",
        db.to_str().unwrap(),
        files[0],
        files[1],
    ]);
    // SOURCES.md: 988 unique ids + 12 rows without one; 983 + 17.
    assert_eq!(summary(&out, "teamchadchart"), (1000, 988, 0, 12), "{out}");
    assert_eq!(summary(&out, "fondue"), (1000, 983, 0, 17), "{out}");
    assert_eq!(out.matches("refused: no ticket_id").count(), 29);

    // Importing the same exports again adds nothing.
    let again = rongtook(&[
        "import",
        "traffy",
        "--db",
        db.to_str().unwrap(),
        files[1],
        files[0],
    ]);
    assert_eq!(
        summary(&again, "teamchadchart"),
        (1000, 0, 988, 12),
        "{again}"
    );
    assert_eq!(summary(&again, "fondue"), (1000, 0, 983, 17), "{again}");
    assert!(rongtook(&["verify", "--db", db.to_str().unwrap()]).starts_with("ok: "));

    // --strict refuses the whole import when a row is refused.
    let strict_db = dir.path("strict.db");
    let o = Command::new(env!("CARGO_BIN_EXE_rongtook-under-test"))
        .args([
            "import",
            "traffy",
            "--strict",
            "--db",
            strict_db.to_str().unwrap(),
            files[0],
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(
        !strict_db.exists()
            || rongtook(&["verify", "--db", strict_db.to_str().unwrap()])
                .starts_with("ok: 0 events")
    );

    // Score FY 2566 as of the last capture and compare every district office with the
    // independent count: tickets seen only in the earlier export are not known by then.
    let (key, as_of) = newest(&files);
    let (rep, ours) = district_shares(&dir, &db, &as_of);
    let counted = independent_as_of(&files, Some(&key));
    assert!(counted["undetermined"].as_u64().unwrap() > 0);
    let independent: BTreeMap<String, (u64, u64)> =
        serde_json::from_value(counted["districts"].clone()).unwrap();
    assert!(ours.len() >= 45, "district offices judged: {}", ours.len());
    assert_eq!(ours, independent);
    // The tickets seen only in the earlier export: not known as of the last capture.
    assert_eq!(
        rep["overall"]["steps"][0]["undetermined"],
        counted["undetermined"]
    );
    assert_eq!(rep["overall"]["level"], 1);
}

/// The real data files (every one but the archives' manifest), in name order.
fn real_files() -> Vec<std::path::PathBuf> {
    let dir = workspace_root().join("tests/data/traffy");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let n = p.file_name().unwrap().to_string_lossy();
            !n.ends_with(".md") && n != "SHA256SUMS" && !n.contains("MANIFEST")
        })
        .collect();
    files.sort();
    files
}

fn independent(files: &[&str]) -> serde_json::Value {
    independent_as_of(files, None)
}

/// The independent count, counting only tickets known up to `as_of` (its time key).
fn independent_as_of(files: &[&str], as_of: Option<&str>) -> serde_json::Value {
    let py = Command::new("python3")
        .arg(workspace_root().join("tests/traffy/independent_count.py"))
        .args(as_of.map(|k| ["--as-of", k]).into_iter().flatten())
        .args(files)
        .output()
        .expect("python3");
    assert!(
        py.status.success(),
        "{}",
        String::from_utf8_lossy(&py.stderr)
    );
    serde_json::from_slice(&py.stdout).unwrap()
}

/// The newest platform time of the files (the independent count's key, and as RFC 3339): the
/// last capture's, when a series ends there.
fn newest(files: &[&str]) -> (String, String) {
    let ind = independent(files);
    let key = ind["newest"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_str().unwrap().to_string())
        .max()
        .unwrap();
    // `20230518T080300.123456` -> `2023-05-18T08:03:00.123456Z`
    let rfc = format!(
        "{}-{}-{}T{}:{}:{}Z",
        &key[0..4],
        &key[4..6],
        &key[6..8],
        &key[9..11],
        &key[11..13],
        &key[13..]
    );
    (key, rfc)
}

/// Traffy indicator of FY 2566 as of `as_of`: the report, and per district office (Thai
/// name) its judged tickets and how many were resolved, for offices with any judged.
fn district_shares(
    dir: &Scratch,
    db: &std::path::Path,
    as_of: &str,
) -> (serde_json::Value, BTreeMap<String, (u64, u64)>) {
    let out_dir = dir.path("replay");
    rongtook(&[
        "replay",
        "--db",
        db.to_str().unwrap(),
        "--fiscal-year",
        "2566",
        "--as-of",
        as_of,
        "--out",
        out_dir.to_str().unwrap(),
        "--spec",
        "traffy-resolution-2567",
    ]);
    let rep: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out_dir.join("indicators.json")).unwrap()).unwrap();
    let names = indicators::spec::bangkok_unit_names();
    let mut ours = BTreeMap::new();
    for u in rep["units"].as_array().unwrap() {
        let unit = u["unit"].as_str().unwrap();
        let th = names
            .get(unit)
            .map(|n| n.th.trim_start_matches("สำนักงานเขต").to_string())
            .unwrap_or_else(|| unit.to_string());
        let step = &u["steps"][0];
        let (total, correct) = (
            step["total"].as_u64().unwrap(),
            step["correct"].as_u64().unwrap(),
        );
        if total > 0 {
            ours.insert(th, (total, correct));
        }
    }
    (rep, ours)
}

/// Each record's fate from `--fates`: (file name, ticket id, fate, reason).
fn fates(path: &std::path::Path) -> Vec<(String, String, String, String)> {
    let mut r = csv::Reader::from_path(path).unwrap();
    r.records()
        .map(|x| {
            let x = x.unwrap();
            let name = x[0].rsplit('/').next().unwrap().to_string();
            (name, x[3].to_string(), x[4].to_string(), x[5].to_string())
        })
        .collect()
}

#[test]
fn every_real_file_imports_with_every_record_accounted_for_as_an_independent_count_says() {
    let dir = Scratch::new("traffy-all");
    let db = dir.path("log.db");
    let fates_csv = dir.path("fates.csv");
    let files = real_files();
    assert_eq!(files.len(), 19, "{files:?}");
    let paths: Vec<&str> = files.iter().map(|p| p.to_str().unwrap()).collect();
    let mut args = vec!["import", "traffy", "--db", db.to_str().unwrap()];
    args.extend(["--fates", fates_csv.to_str().unwrap()]);
    args.extend(&paths);
    let out = rongtook(&args);
    let ind = independent(&paths);
    let fates = fates(&fates_csv);
    let mut all_ids = std::collections::BTreeSet::new();
    for path in &files {
        let name = path.file_name().unwrap().to_str().unwrap();
        let c = counts(&out, name);
        let want = &ind["files"][name];
        // Every record accounted for, once.
        assert_eq!(c[0], want["records"].as_u64().unwrap(), "{name}");
        assert_eq!(c[1] + c[2] + c[3] + c[4], c[0], "{name}");
        let mine: Vec<_> = fates.iter().filter(|f| f.0 == name).collect();
        assert_eq!(mine.len() as u64, c[0], "{name}: one fate per record");
        let no_id = mine.iter().filter(|f| f.3 == "no ticket_id").count() as u64;
        assert_eq!(no_id, want["no_id"].as_u64().unwrap(), "{name}");
        let ids: std::collections::BTreeSet<&str> = mine
            .iter()
            .filter(|f| !f.1.is_empty())
            .map(|f| f.1.as_str())
            .collect();
        assert_eq!(ids.len() as u64, want["ids"].as_u64().unwrap(), "{name}");
        all_ids.extend(ids);
    }
    assert_eq!(all_ids.len() as u64, ind["tickets"].as_u64().unwrap());
    // The three archives (1,691 snapshots) hold 125,138 distinct tickets.
    let archives: Vec<&str> = paths
        .iter()
        .copied()
        .filter(|p| p.ends_with(".tar.zst"))
        .collect();
    assert_eq!(archives.len(), 3);
    assert_eq!(independent(&archives)["tickets"], 125_143);

    // No imported event carries a time the data does not support: every acknowledgement,
    // close, reopen and later forward is a range, unless it is at the receipt itself (a
    // last_activity not after it).
    let c = rusqlite::Connection::open(&db).unwrap();
    let mut stmt = c
        .prepare(
            "SELECT e.stream, e.type, e.occurred_at, e.occurred_after, e.version, r.occurred_at \
             FROM events e JOIN events r ON r.stream = e.stream AND r.version = 1",
        )
        .unwrap();
    let rows: Vec<(String, String, String, Option<String>, i64, String)> = stmt
        .query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
            ))
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(rows.len() > 400_000, "{} events", rows.len());
    let streams: std::collections::BTreeSet<&str> = rows.iter().map(|r| r.0.as_str()).collect();
    assert!(streams.len() as u64 <= ind["tickets"].as_u64().unwrap());
    for (stream, ty, at, after, version, received) in &rows {
        // The receipt, its forward and observations are at instants the data holds.
        let at_data =
            matches!(ty.as_str(), "received" | "observed") || (ty == "forwarded" && *version == 2);
        let inferred = !at_data;
        if inferred && after.is_none() {
            assert_eq!(
                at, received,
                "{stream} {ty} at {at}: no range, not at the receipt"
            );
        }
    }

    // Every ticket's point is where the raw files put it: the tickets without one, and those
    // outside the map's frame of Bangkok, are those the independent count finds (of the
    // tickets imported).
    let mut stmt = c
        .prepare(
            "SELECT substr(stream, 8), json_extract(data, '$.location.lat'), \
             json_extract(data, '$.location.lon') FROM events WHERE type = 'received'",
        )
        .unwrap();
    let points: Vec<(String, Option<f64>, Option<f64>)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let imported: std::collections::BTreeSet<&str> = points.iter().map(|p| p.0.as_str()).collect();
    let ids_in = |key: &str| -> std::collections::BTreeSet<String> {
        ind[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .filter(|t| imported.contains(t.as_str()))
            .collect()
    };
    let unplaced: std::collections::BTreeSet<String> = points
        .iter()
        .filter(|p| p.1.is_none() || p.2.is_none())
        .map(|p| p.0.clone())
        .collect();
    assert_eq!(unplaced, ids_in("unplaced"));
    let outside: std::collections::BTreeSet<String> = points
        .iter()
        .filter_map(|p| Some((p.0.clone(), p.1?, p.2?)))
        .filter(|(_, lat, lon)| {
            !((reports::map::SOUTH..=reports::map::NORTH).contains(lat)
                && (reports::map::WEST..=reports::map::EAST).contains(lon))
        })
        .map(|p| p.0)
        .collect();
    assert_eq!(outside, ids_in("outside"));
    assert!(points.len() - unplaced.len() - outside.len() > 130_000);

    // The archives' manifest is not a Traffy file: one clear line, nothing imported.
    let manifest = workspace_root()
        .join("tests/data/traffy/boyphongsakorn__traffysharexteamchadchart__MANIFEST.csv");
    let o = Command::new(env!("CARGO_BIN_EXE_rongtook-under-test"))
        .args([
            "import",
            "traffy",
            "--db",
            dir.path("m.db").to_str().unwrap(),
        ])
        .arg(&manifest)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("not a Traffy Fondue file"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
}

#[test]
fn exact_instants_are_kept_and_a_single_export_is_never_late_on_r1_without_evidence() {
    let dir = Scratch::new("traffy-times");
    let data = workspace_root().join("tests/data/traffy");
    // tphaengnet's export: `timestamp_inprogress` is the acknowledgement, to the minute, its
    // zone unstated (the range between the Bangkok and the UTC reading).
    let db = dir.path("t.db");
    let export = data.join("tphaengnet__work-1__teamchadchart.csv");
    rongtook(&[
        "import",
        "traffy",
        "--db",
        db.to_str().unwrap(),
        export.to_str().unwrap(),
    ]);
    let mut r = csv::Reader::from_path(&export).unwrap();
    let header = r.headers().unwrap().clone();
    let col = |n: &str| {
        header
            .iter()
            .position(|h| h.trim_start_matches('\u{feff}') == n)
            .unwrap()
    };
    let (id, inprogress, state) = (col("ticket_id"), col("timestamp_inprogress"), col("state"));
    let c = rusqlite::Connection::open(&db).unwrap();
    let mut checked = 0;
    for rec in r.records() {
        let rec = rec.unwrap();
        // A ticket taken, then forwarded on or back to waiting, is open and not taken now.
        if rec[inprogress].trim().is_empty()
            || !["inprogress", "finish", "follow"].contains(&&rec[state])
        {
            continue;
        }
        let want = ::traffy::parse_platform(&rec[inprogress], ::traffy::Zone::Unknown).unwrap();
        let n: i64 = c
            .query_row(
                "SELECT count(*) FROM events WHERE stream = ?1 AND type = 'acknowledged' \
                 AND occurred_at = ?2 AND occurred_after IS ?3",
                rusqlite::params![
                    format!("traffy:{}", &rec[id]),
                    event_model::format_instant(&want.at),
                    want.after.as_ref().map(event_model::format_instant)
                ],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(n, 1, "{}: acknowledged at {want:?}", &rec[id]);
        checked += 1;
    }
    // SOURCES.md: 1306 rows have timestamp_inprogress; 61 of them are forwarded or waiting.
    assert_eq!(checked, 1245);

    // The Bhuribhat export holds no acknowledgement time: most R1 judgements are
    // undetermined, not late.
    let db = dir.path("b.db");
    let export = data.join("Bhuribhat__Traffy-Clustering__teamchadchart.csv");
    rongtook(&[
        "import",
        "traffy",
        "--db",
        db.to_str().unwrap(),
        export.to_str().unwrap(),
    ]);
    let out_dir = dir.path("replay");
    let summary = rongtook(&[
        "replay",
        "--db",
        db.to_str().unwrap(),
        "--fiscal-year",
        "2566",
        "--out",
        out_dir.to_str().unwrap(),
        "--spec",
        "bma-timeliness",
    ]);
    let text = std::fs::read_to_string(out_dir.join("complaints.json")).unwrap();
    let mut by_status: BTreeMap<String, u64> = BTreeMap::new();
    for line in text.lines().filter(|l| l.starts_with('{')) {
        let v: serde_json::Value = serde_json::from_str(line.trim_end_matches(',')).unwrap();
        for round in v["rounds"].as_array().unwrap() {
            let s = round["ack_status"].as_str().unwrap_or("none").to_string();
            *by_status.entry(s).or_default() += 1;
        }
    }
    // An acknowledgement seen in progress or finished happened at or before the ticket's last
    // activity: met when that is by the deadline. A ticket still waiting at the capture was
    // not late then if its deadline had not passed, and nothing is known after: undetermined,
    // never late. (Invented times made 10.45% of this file "on time".)
    let get = |k: &str| by_status.get(k).copied().unwrap_or(0);
    let due = get("met") + get("missed") + get("undetermined");
    assert_eq!(get("missed"), 0, "{by_status:?}");
    assert!(get("undetermined") * 3 > due, "{by_status:?}");
    assert!(get("met") > 0, "{by_status:?}");
    // The replay's summary says how many complaints it could not judge.
    assert!(summary.contains(" undetermined)"), "{summary}");
}

#[test]
fn a_snapshot_series_becomes_lifecycles_and_its_shares_match_an_independent_count() {
    let dir = Scratch::new("traffy-series");
    let data = workspace_root().join("tests/data/traffy");
    let mut files: Vec<String> = std::fs::read_dir(&data)
        .unwrap()
        .map(|e| e.unwrap().path().to_str().unwrap().to_string())
        .filter(|p| p.contains("Bhuribhat__"))
        .collect();
    files.sort();
    assert_eq!(files.len(), 10);
    let paths: Vec<&str> = files.iter().map(String::as_str).collect();
    let db = dir.path("log.db");
    let mut args = vec!["import", "traffy", "--db", db.to_str().unwrap()];
    args.extend(&paths);
    let out = rongtook(&args);
    for p in &paths {
        let c = counts(&out, p.rsplit('/').next().unwrap());
        assert_eq!(c[3], 0, "nothing stale when imported at once: {out}");
    }
    // Again: every record is a duplicate, nothing is added.
    let before = rongtook(&["verify", "--db", db.to_str().unwrap()]);
    let again = rongtook(&args);
    for p in &paths {
        let c = counts(&again, p.rsplit('/').next().unwrap());
        assert_eq!(c[1], 0, "{again}");
    }
    assert_eq!(rongtook(&["verify", "--db", db.to_str().unwrap()]), before);

    // Each district office's tickets and how many the latest capture shows finished equal
    // the independent count, through the Traffy indicator of FY 2566, as of the last capture
    // (a ticket not in it is not known by then: undetermined, out of the share).
    let (key, as_of) = newest(&paths);
    let (_, ours) = district_shares(&dir, &db, &as_of);
    let ind = independent_as_of(&paths, Some(&key));
    let theirs: BTreeMap<String, (u64, u64)> = ind["districts"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), (v[0].as_u64().unwrap(), v[1].as_u64().unwrap())))
        .collect();
    assert_eq!(ours, theirs);

    // Observed changes: tickets seen waiting, then in progress or finished, have their
    // transitions bounded by the captures (ranges shorter than receipt-to-last-activity for
    // some), and some were reopened.
    let c = rusqlite::Connection::open(&db).unwrap();
    let ranged: i64 = c
        .query_row(
            "SELECT count(*) FROM events WHERE type IN ('acknowledged','closed') AND occurred_after IS NOT NULL \
             AND occurred_after > (SELECT r.occurred_at FROM events r WHERE r.stream = events.stream AND r.version = 1)",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(
        ranged > 0,
        "no change was bounded by a capture after the receipt"
    );
}

/// One dashboard page through the router: its status and body.
async fn dashboard_page(app: axum::Router, uri: &str) -> (u16, String) {
    use tower::ServiceExt;
    let r = app
        .oneshot(
            axum::http::Request::get(uri)
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    let status = r.status().as_u16();
    let body = axum::body::to_bytes(r.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, String::from_utf8(body.to_vec()).unwrap())
}

/// The sum of the `data-n` counts of a map page's hexagons, and how many hexagons.
fn hexes(page: &str) -> (u64, usize) {
    let counts: Vec<u64> = page
        .split("class=\"hex\" data-n=\"")
        .skip(1)
        .map(|r| r.split('"').next().unwrap().parse().unwrap())
        .collect();
    (counts.iter().sum(), counts.len())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_map_draws_the_real_tickets_where_the_raw_file_puts_them() {
    let dir = Scratch::new("traffy-map");
    let db = dir.path("log.db");
    let file = workspace_root().join("tests/data/traffy/tphaengnet__work-1__teamchadchart.csv");
    rongtook(&[
        "import",
        "traffy",
        "--db",
        db.to_str().unwrap(),
        file.to_str().unwrap(),
    ]);
    let ind = independent(&[file.to_str().unwrap()]);
    let mapped = ind["mapped"].as_u64().unwrap();
    assert!(mapped > 1900, "{mapped}");
    let (state, _writer) = http_api::AppState::start(
        event_store_open::Location::Sqlite(db),
        event_store::Durability::Full,
        calendar::Calendar::builtin(),
        Default::default(),
    )
    .unwrap();
    let app = http_api::app(state);

    // Every ticket with a point inside Bangkok is in one hexagon, in Thai and in English.
    let (status, th) = dashboard_page(app.clone(), "/dashboard/map?fy=2567").await;
    assert_eq!(status, 200, "{th}");
    assert!(th.contains("<html lang=\"th\"") && th.contains("แผนที่เรื่องร้องเรียน"));
    let (n, cells) = hexes(&th);
    assert_eq!(n, mapped);
    assert!(cells > 100, "{cells} hexagons");
    let (_, en) = dashboard_page(app.clone(), "/dashboard/map?fy=2024&lang=en").await;
    assert!(en.contains("Complaint map") && en.contains("id=\"map-units\""));
    assert_eq!(hexes(&en).0, mapped);
    // The table beside it adds up to the same.
    let total: String = en
        .split("<tfoot>")
        .nth(1)
        .unwrap()
        .split("<td class=\"n\">")
        .nth(2)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .replace(',', "");
    assert_eq!(total.parse::<u64>().unwrap(), mapped);

    // Filters: the states split the tickets, and add up; a unit's are only its own.
    let mut by_state = Vec::new();
    for st in lifecycle::Status::LISTED {
        let uri = format!("/dashboard/map?fy=2567&state={}", st.as_str());
        by_state.push(hexes(&dashboard_page(app.clone(), &uri).await.1).0);
    }
    assert_eq!(by_state.iter().sum::<u64>(), mapped, "{by_state:?}");
    assert!(
        by_state.iter().filter(|n| **n > 0).count() >= 2,
        "{by_state:?}"
    );
    let (_, unit) = dashboard_page(
        app.clone(),
        "/dashboard/map?fy=2567&unit=district:phra-nakhon",
    )
    .await;
    let u = hexes(&unit).0;
    assert!(u > 0 && u < mapped, "{u}");
    assert!(unit.contains("<option value=\"district:phra-nakhon\" selected>"));
    let (_, cat) =
        dashboard_page(app.clone(), "/dashboard/map?fy=2567&category=nothing-such").await;
    assert_eq!(hexes(&cat), (0, 0));
    // A state the pages do not know is refused, in the page's language.
    let (status, bad) = dashboard_page(app.clone(), "/dashboard/map?state=lost&lang=en").await;
    assert_eq!(status, 400);
    assert!(bad.contains("state `lost`"), "{bad}");
}

/// A snapshot series imported in two parts, split anywhere, judges every complaint as the
/// series imported at once does. The only difference allowed is a complaint's version: an
/// import of the later part cannot merge a sighting into what the log already holds, so the
/// first part's last sighting of an unchanged state stays as an `observed` event (more events,
/// no other judgement). The overdue list and the indicators are identical.
#[test]
fn a_snapshot_series_imported_in_two_parts_judges_as_the_series_at_once() {
    let dir = Scratch::new("traffy-halves");
    let data = workspace_root().join("tests/data/traffy");
    // The ten captures of one source, in capture order (SOURCES.md, 1c and 2).
    let series: Vec<String> = [
        "teamchadchart.csv",
        "teamchadchart__3a58514.csv",
        "fondue__a0886d4.csv",
        "fondue__070c546.csv",
        "fondue__3a58514.csv",
        "fondue__0910611.csv",
        "fondue__a5ba152.csv",
        "fondue__fdebf23.csv",
        "fondue__bbb4286.csv",
        "fondue.csv",
    ]
    .iter()
    .map(|f| {
        data.join(format!("Bhuribhat__Traffy-Clustering__{f}"))
            .display()
            .to_string()
    })
    .collect();
    let import = |db: &std::path::Path, files: &[String]| {
        let mut args = vec!["import", "traffy", "--db", crate::common::s(db)];
        args.extend(files.iter().map(String::as_str));
        rongtook(&args);
    };
    let at_once = dir.path("at-once.db");
    import(&at_once, &series);
    for split in [1, 3, 5, 7, 9] {
        let parts = dir.path(&format!("split-{split}.db"));
        import(&parts, &series[..split]);
        import(&parts, &series[split..]);
        let out = crate::common::rongtook(&[
            "diff",
            crate::common::s(&at_once),
            crate::common::s(&parts),
            "--fiscal-year",
            "2566",
            "--spec",
            "bma-complaint-3step",
            "--spec",
            "traffy-resolution-2567",
            "--json",
        ]);
        let d: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "split {split}: {e}: {}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
        let c = &d["complaints"];
        assert_eq!(c["added"], serde_json::json!([]), "split {split}");
        assert_eq!(c["removed"], serde_json::json!([]), "split {split}");
        for changed in c["changed"].as_array().unwrap() {
            for change in changed["changes"].as_array().unwrap() {
                assert_eq!(change["path"], "version", "split {split}: {changed}");
                assert!(
                    change["new"].as_u64() >= change["old"].as_u64(),
                    "split {split}: {changed}"
                );
            }
        }
        assert_eq!(
            d["overdue"],
            serde_json::json!([]),
            "split {split}: overdue differs"
        );
        assert_eq!(
            d["indicators"],
            serde_json::json!([]),
            "split {split}: indicators differ"
        );
    }
}
