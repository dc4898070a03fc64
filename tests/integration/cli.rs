//! The `rongtook` command line, run as a real program.

use std::path::Path;

use tests::Scratch;

use crate::common::{generated_log, ok, replay, report, rongtook, s};

/// Appends the events of a replay fixture to a log.
fn append_fixture(db: &Path, case: &str) {
    let events = tests::workspace_root()
        .join("replay-fixtures")
        .join(case)
        .join("events.ndjson");
    ok(&["append", "--db", s(db), s(&events)]);
}

#[test]
fn generate_append_verify_replay_round_trip() {
    let dir = Scratch::new("cli");
    let events = dir.path("year.ndjson");
    let db = dir.path("log.db");
    ok(&[
        "generate",
        "--fiscal-year",
        "2567",
        "--complaints",
        "300",
        "--seed",
        "9",
        "--out",
        s(&events),
    ]);
    let lines = std::fs::read_to_string(&events).unwrap().lines().count();
    assert!(lines > 300 * 3, "{lines} events for 300 complaints");

    let out = ok(&["append", "--db", s(&db), s(&events)]);
    assert_eq!(
        out,
        format!("appended {lines} events (positions 1..{lines}), 0 duplicates\n")
    );
    let out = ok(&["append", "--db", s(&db), s(&events)]);
    assert_eq!(out, format!("appended 0 events, {lines} duplicates\n"));

    let out = ok(&["verify", "--db", s(&db)]);
    assert!(
        out.starts_with(&format!("ok: {lines} events, hash chain intact")),
        "{out}"
    );

    let (a, b) = (dir.path("a"), dir.path("b"));
    replay(&db, &a, &[]);
    ok(&[
        "replay",
        "--db",
        s(&db),
        "--fiscal-year",
        "FY2024",
        "--out",
        s(&b),
    ]);
    for f in ["complaints.json", "overdue.json", "meta.json"] {
        let x = std::fs::read(a.join(f)).unwrap();
        assert!(!x.is_empty());
        assert_eq!(
            x,
            std::fs::read(b.join(f)).unwrap(),
            "{f} differs between two replays"
        );
    }
    let complaints: serde_json::Value =
        serde_json::from_slice(&std::fs::read(a.join("complaints.json")).unwrap()).unwrap();
    assert_eq!(complaints.as_array().unwrap().len(), 300);
    let meta: serde_json::Value =
        serde_json::from_slice(&std::fs::read(a.join("meta.json")).unwrap()).unwrap();
    assert_eq!(meta["log_head_position"], lines as u64);
    assert_eq!(meta["as_of"], "2024-10-01T00:00:00+07:00");

    let state = ok(&[
        "state",
        "--db",
        s(&db),
        "C2567-0000001",
        "--as-of",
        "2024-12-31",
    ]);
    let v: serde_json::Value = serde_json::from_str(&state).unwrap();
    assert_eq!(v["complaint_id"], "C2567-0000001");
    assert!(v["rounds"].is_array());

    let table = ok(&["overdue", "--db", s(&db), "--as-of", "2024-03-01"]);
    assert!(
        table.starts_with("overdue obligations as of 2024-03-01T23:59:59+07:00: "),
        "{table}"
    );
    let json = ok(&[
        "overdue",
        "--db",
        s(&db),
        "--as-of",
        "2024-03-01",
        "--json",
        "--unit",
        "district:bang-rak",
    ]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    for u in v["units"].as_array().unwrap() {
        assert_eq!(u["unit"], "district:bang-rak");
    }

    let stream = ok(&["events", "--db", s(&db), "--stream", "C2567-0000001"]);
    let first: serde_json::Value = serde_json::from_str(stream.lines().next().unwrap()).unwrap();
    assert_eq!(first["type"], "received");
    assert_eq!(first["version"], 1);
    assert_eq!(first["hash"].as_str().unwrap().len(), 64);

    // Exports redact complainants' names and contacts unless asked.
    let all = ok(&["events", "--db", s(&db)]);
    assert!(
        all.contains("[redacted]") && !all.contains("Citizen "),
        "names are redacted"
    );
    let with = ok(&["events", "--db", s(&db), "--with-personal-data"]);
    assert!(with.contains("Citizen ") && !with.contains("[redacted]"));
}

#[test]
fn bad_input_names_the_line_and_stores_nothing() {
    let dir = Scratch::new("bad");
    let db = dir.path("log.db");
    let input = dir.path("bad.ndjson");
    let good = r#"{"id":"018cea3b-a100-7000-8000-000000000001","stream":"C-1","type":"received","occurred_at":"2024-01-09T10:00:00+07:00","actor":"intake","data":{"channel":"web","category":"road","district":"x","subject":"s","complainant":{"anonymous":true}}}"#;
    let bad = r#"{"id":"018cea3b-a100-7000-8000-000000000002","stream":"C-1","type":"closed","occurred_at":"2024-01-09T11:00:00+07:00","actor":"intake","data":{"outcome":"resolved","answer":""}}"#;
    std::fs::write(&input, format!("{good}\n\n{bad}\n")).unwrap();
    let o = rongtook(&["append", "--db", s(&db), s(&input)]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8(o.stderr).unwrap();
    assert_eq!(
        err.trim_end(),
        format!(
            "error: {}:3: event 018cea3b-a100-7000-8000-000000000002: field `data.answer`: must not be empty; nothing was appended",
            input.display()
        )
    );
    let out = ok(&["verify", "--db", s(&db)]);
    assert!(out.starts_with("ok: 0 events"), "{out}");

    let o = rongtook(&[
        "replay",
        "--db",
        s(&dir.path("missing.db")),
        "--fiscal-year",
        "2567",
        "--out",
        s(&dir.path("o")),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no such database"));
    let o = rongtook(&[
        "replay",
        "--db",
        s(&db),
        "--fiscal-year",
        "next year",
        "--out",
        s(&dir.path("o")),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let o = rongtook(&["overdue", "--db", s(&db), "--as-of", "yesterday"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("`yesterday` is not an instant"));
}

#[test]
fn verify_exits_non_zero_on_a_tampered_log() {
    let dir = Scratch::new("tamper");
    let db = generated_log(&dir, 20, 1);
    let c = rusqlite::Connection::open(&db).unwrap();
    c.execute_batch("DROP TRIGGER events_no_update; UPDATE events SET occurred_at = '2024-01-01T00:00:00+07:00' WHERE position = 5;")
        .unwrap();
    drop(c);
    let o = rongtook(&["verify", "--db", s(&db)]);
    assert_eq!(o.status.code(), Some(1));
    let out = String::from_utf8(o.stdout).unwrap();
    assert!(out.starts_with("TAMPERED: first bad position 5:"), "{out}");
}

#[test]
fn a_user_calendar_changes_deadlines() {
    let dir = Scratch::new("calendar");
    let db = dir.path("log.db");
    append_fixture(&db, "basic-on-time");
    let cal = dir.path("cal.txt");
    // A special holiday on 9 January 2024 moves R1 to the 10th.
    std::fs::write(&cal, "# covers: 2024-2024\n2024-01-09\tSpecial holiday\n").unwrap();
    let v: serde_json::Value = serde_json::from_str(&ok(&[
        "state",
        "--db",
        s(&db),
        "C-BASIC",
        "--as-of",
        "2024-03-01",
        "--calendar",
        s(&cal),
    ]))
    .unwrap();
    assert_eq!(v["rounds"][0]["ack_due"], "2024-01-10");
    let v: serde_json::Value = serde_json::from_str(&ok(&[
        "state",
        "--db",
        s(&db),
        "C-BASIC",
        "--as-of",
        "2024-03-01",
    ]))
    .unwrap();
    assert_eq!(v["rounds"][0]["ack_due"], "2024-01-09");
    std::fs::write(&cal, "2024-01-09 no coverage line\n").unwrap();
    let o = rongtook(&["state", "--db", s(&db), "C-BASIC", "--calendar", s(&cal)]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("covers"));
}

#[test]
fn replay_scores_with_specs_and_renders_them() {
    let dir = Scratch::new("specs");
    let db = dir.path("log.db");
    append_fixture(&db, "spec-traffy-levels");
    let out = dir.path("out");
    let printed = replay(
        &db,
        &out,
        &[
            "--spec",
            "traffy-resolution-2567",
            "--format",
            "md",
            "--format",
            "csv",
        ],
    );
    assert!(
        printed.contains("traffy-resolution-2567: 3 units; overall 19 complaints, resolved 68.42%"),
        "{printed}"
    );
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("indicators.json")).unwrap()).unwrap();
    assert_eq!(v["overall"]["level"], 3);
    assert_eq!(
        v["log_head_position"],
        std::fs::read_to_string(
            tests::workspace_root().join("replay-fixtures/spec-traffy-levels/events.ndjson")
        )
        .unwrap()
        .lines()
        .count() as u64
    );
    assert_eq!(v["spec_hash"].as_str().unwrap().len(), 64);
    let md = std::fs::read_to_string(out.join("indicators.md")).unwrap();
    assert!(md.contains("ปีงบประมาณ พ.ศ. 2567"), "{md}");
    assert!(
        md.contains("| สำนักงานเขตบางรัก (district:bang-rak) | 4 | 3/4 (75.00%) | 20.00 | 0 | 20.00 | 20.00 | 5 |"),
        "{md}"
    );
    let csv = std::fs::read(out.join("indicators.csv")).unwrap();
    assert_eq!(
        &csv[..3],
        b"\xEF\xBB\xBF",
        "CSV starts with a UTF-8 byte-order mark"
    );

    // A user spec file: the same rule with the top level at 70% moves sathon (70%) to level 5.
    let spec = indicators::BUILTIN[2]
        .1
        .replace("\"min_pct\": 70,", "\"min_pct\": 69,")
        .replace("\"min_pct\": 75,", "\"min_pct\": 70,");
    let spec_file = dir.path("my-spec.json");
    std::fs::write(&spec_file, spec).unwrap();
    replay(&db, &dir.path("out2"), &["--spec", s(&spec_file)]);
    let v2: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path("out2").join("indicators.json")).unwrap())
            .unwrap();
    assert_ne!(v2["spec_hash"], v["spec_hash"]);
    let sathon = |v: &serde_json::Value| {
        v["units"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["unit"] == "district:sathon")
            .unwrap()["level"]
            .clone()
    };
    assert_eq!((sathon(&v), sathon(&v2)), (4.into(), 5.into()));

    std::fs::write(&spec_file, "{\"id\": \"x\"}").unwrap();
    let o = rongtook(&[
        "replay",
        "--db",
        s(&db),
        "--fiscal-year",
        "2567",
        "--out",
        s(&dir.path("o3")),
        "--spec",
        s(&spec_file),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("missing field `title`"), "{err}");
}

#[test]
fn the_spot_check_sample_is_deterministic_per_seed() {
    let dir = Scratch::new("sample");
    let db = generated_log(&dir, 600, 3);
    let a = ok(&["sample", "--db", s(&db), "--month", "2024-02", "--json"]);
    let b = ok(&["sample", "--db", s(&db), "--month", "2024-02", "--json"]);
    assert_eq!(a, b);
    let c = ok(&[
        "sample",
        "--db",
        s(&db),
        "--month",
        "2024-02",
        "--json",
        "--seed",
        "another",
    ]);
    let v: serde_json::Value = serde_json::from_str(&a).unwrap();
    let w: serde_json::Value = serde_json::from_str(&c).unwrap();
    let mut drawn_total = 0;
    for (u, u2) in v["units"]
        .as_array()
        .unwrap()
        .iter()
        .zip(w["units"].as_array().unwrap())
    {
        let closed = u["closed"].as_u64().unwrap();
        let drawn = u["sample"].as_array().unwrap().len() as u64;
        assert_eq!(
            drawn,
            (closed * 10).div_ceil(100),
            "10% rounded up of {closed}"
        );
        assert_eq!(u2["sample"].as_array().unwrap().len() as u64, drawn);
        drawn_total += drawn;
    }
    assert!(drawn_total > 0);
    assert_ne!(v["units"], w["units"], "another seed draws another sample");
    let o = rongtook(&["sample", "--db", s(&db), "--month", "2024-13"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn diff_is_empty_for_the_same_log_and_names_what_a_rule_change_moves() {
    let dir = Scratch::new("diff");
    let db = dir.path("log.db");
    append_fixture(&db, "spec-traffy-levels");
    let replay = |out: &str, spec: &str| {
        replay(&db, &dir.path(out), &["--spec", spec]);
    };
    replay("a", "traffy-resolution-2567");
    replay("a2", "traffy-resolution-2567");
    let o = rongtook(&["diff", s(&dir.path("a")), s(&dir.path("a2"))]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&o.stdout), "identical\n");

    // One threshold changed: level 5 needs 80%. Only bang-rak (exactly 75%) moves.
    let mut spec: serde_json::Value = serde_json::from_str(indicators::BUILTIN[2].1).unwrap();
    spec["steps"][0]["scoring"]["levels"][0]["min_pct"] = 80.into();
    let spec_file = dir.path("t80.json");
    std::fs::write(&spec_file, spec.to_string()).unwrap();
    replay("b", s(&spec_file));
    let o = rongtook(&["diff", s(&dir.path("a")), s(&dir.path("b")), "--json"]);
    assert_eq!(o.status.code(), Some(1));
    let d: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let units: Vec<&str> = d["indicators"][0]["units"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["unit"].as_str().unwrap())
        .collect();
    assert_eq!(units, ["district:bang-rak"]);
    assert_eq!(d["complaints"]["changed"].as_array().unwrap().len(), 0);
    let table = String::from_utf8(rongtook(&["diff", s(&dir.path("a")), s(&dir.path("b"))]).stdout)
        .unwrap();
    assert!(table.contains("level 5 -> 4"), "{table}");

    // Another log: one more resolved complaint for sathon names the complaint that moved it.
    let close = r#"{"id":"0190a000-0000-7000-8000-000000000001","stream":"C-TS-09","type":"closed","occurred_at":"2024-03-01T10:00:00+07:00","actor":"unit:district:sathon","data":{"unit":"district:sathon","outcome":"resolved","answer":"Fixed."}}"#;
    let extra = dir.path("extra.ndjson");
    std::fs::write(&extra, format!("{close}\n")).unwrap();
    ok(&["append", "--db", s(&db), s(&extra)]);
    replay("c", "traffy-resolution-2567");
    let o = rongtook(&["diff", s(&dir.path("a")), s(&dir.path("c")), "--json"]);
    assert_eq!(o.status.code(), Some(1));
    let d: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let sathon = d["indicators"][0]["units"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["unit"] == "district:sathon")
        .unwrap()
        .clone();
    assert_eq!(
        sathon["no_longer_failed"]["resolved"],
        serde_json::json!(["C-TS-09"])
    );
    let changed: Vec<&str> = d["complaints"]["changed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["complaint_id"].as_str().unwrap())
        .collect();
    assert_eq!(changed, ["C-TS-09"]);

    let o = rongtook(&["diff", s(&dir.path("a")), s(&dir.path("missing"))]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn diff_replays_logs_on_the_fly_under_two_rule_versions() {
    let dir = Scratch::new("diff-rules");
    let db = dir.path("log.db");
    append_fixture(&db, "checkpoint-on-weekend-kept");
    let same = rongtook(&[
        "diff",
        s(&db),
        s(&db),
        "--fiscal-year",
        "2567",
        "--spec",
        "bma-timeliness",
    ]);
    assert_eq!(
        same.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&same.stderr)
    );
    let rules = dir.path("roll.json");
    std::fs::write(
        &rules,
        r#"{"checkpoint_on_non_business_day": "next_business_day"}"#,
    )
    .unwrap();
    let o = rongtook(&[
        "diff",
        s(&db),
        s(&db),
        "--fiscal-year",
        "2567",
        "--spec",
        "bma-timeliness",
        "--rules-b",
        s(&rules),
        "--json",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let d: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let changed = &d["complaints"]["changed"][0];
    assert_eq!(changed["complaint_id"], "C-ROLL");
    let paths: Vec<&str> = changed["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["path"].as_str().unwrap())
        .collect();
    assert!(
        paths.contains(&"rounds[0].checkpoints[0].date"),
        "{paths:?}"
    );
    let o = rongtook(&["diff", s(&db), s(&db)]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--fiscal-year"));
}

#[test]
fn the_load_test_runs_on_loopback_and_finds_every_acknowledged_event() {
    let dir = Scratch::new("load");
    let out = ok(&[
        "load",
        "--requests",
        "200",
        "--clients",
        "1,8",
        "--batch",
        "2",
        "--dir",
        s(&dir.path("runs")),
    ]);
    let lines: Vec<&str> = out.lines().filter(|l| l.starts_with("clients")).collect();
    assert_eq!(lines.len(), 2, "{out}");
    for l in lines {
        assert!(
            l.contains("400 events")
                && l.contains("all 400 acknowledged events in the log, chain verified"),
            "{l}"
        );
    }
}

#[test]
fn tokens_are_created_once_listed_without_secrets_and_revoked() {
    let dir = Scratch::new("tokens");
    let db = dir.path("log.db");
    let out = ok(&[
        "token",
        "create",
        "--db",
        s(&db),
        "--role",
        "unit",
        "--unit",
        "district:bang-rak",
        "--label",
        "Bang Rak officer",
    ]);
    let token = out.split_whitespace().last().unwrap().to_string();
    assert!(token.starts_with("rtk_") && token.len() == 68, "{out}");
    let list = ok(&["token", "list", "--db", s(&db)]);
    assert!(
        list.contains("district:bang-rak") && list.contains("Bang Rak officer"),
        "{list}"
    );
    assert!(!list.contains(&token), "the list never shows a token");
    use event_store::TokenStore;
    let store = event_store_sqlite::SqliteStore::open(&db, event_store::Durability::Full).unwrap();
    assert!(store
        .find_token(&http_api::token_hash(&token))
        .unwrap()
        .is_some());
    ok(&["token", "revoke", "--db", s(&db), "1"]);
    assert!(store
        .find_token(&http_api::token_hash(&token))
        .unwrap()
        .is_none());
    let o = rongtook(&["token", "revoke", "--db", s(&db), "1"]);
    assert_eq!(o.status.code(), Some(2));
    let o = rongtook(&["token", "create", "--db", s(&db), "--role", "unit"]);
    assert_eq!(o.status.code(), Some(2), "a unit token needs its unit");
    let o = rongtook(&["token", "create", "--db", s(&db), "--role", "mayor"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn the_chunked_replay_writes_the_same_bytes_as_the_whole_one() {
    let dir = Scratch::new("chunked");
    let db = generated_log(&dir, 400, 5);
    let store = event_store_sqlite::SqliteStore::open(&db, event_store::Durability::Full).unwrap();
    let cal = calendar::Calendar::builtin();
    let rules = projections::DeadlineRules::default();
    let specs = read_model::builtin_specs();
    let formats = [rongtook::args::Format::Md, rongtook::args::Format::Csv];
    // Chunks of 37 complaints, every spec tallying them as they pass.
    let chunked = dir.path("chunked");
    rongtook::commands::replay_streaming(
        &store, "2567", None, &cal, &rules, &specs, &formats, &chunked, 37,
    )
    .unwrap();
    // The whole year at once, every spec scored on every complaint together.
    let whole = dir.path("whole");
    let r = rongtook::commands::replay_store(&store, "2567", None, &cal, &rules, &specs).unwrap();
    rongtook::commands::write_replay(&whole, &r, &formats).unwrap();
    let mut files: Vec<String> = std::fs::read_dir(&whole)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    // complaints, overdue, meta, and each of the four specs as JSON, Markdown and CSV.
    assert_eq!(files.len(), 3 + 4 * 3, "{files:?}");
    for f in &files {
        let a = std::fs::read(chunked.join(f)).unwrap();
        assert!(a.len() > 100, "{f}");
        assert!(a == std::fs::read(whole.join(f)).unwrap(), "{f} differs");
    }
    // And the command writes the same.
    let command = dir.path("command");
    replay(&db, &command, &["--spec", "bma-timeliness"]);
    for f in ["complaints.json", "overdue.json", "meta.json"] {
        let a = std::fs::read(command.join(f)).unwrap();
        assert!(a == std::fs::read(whole.join(f)).unwrap(), "{f} differs");
    }
}

/// Parses the CSV of `rongtook report --unit`: rows of each section.
fn report_rows(csv: &str, section: &str) -> Vec<Vec<String>> {
    csv.trim_start_matches('\u{feff}')
        .lines()
        .map(|l| l.split(',').map(str::to_string).collect::<Vec<_>>())
        .filter(|r| r[0] == section)
        .collect()
}

#[test]
fn reports_agree_with_the_replay_and_print_on_a4() {
    let dir = Scratch::new("report");
    let db = generated_log(&dir, 800, 5);
    let out = dir.path("replay");
    replay(&db, &out, &["--spec", "bma-complaint-3step"]);
    let indicators: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("indicators.json")).unwrap()).unwrap();
    let complaints: Vec<serde_json::Value> =
        serde_json::from_slice(&std::fs::read(out.join("complaints.json")).unwrap()).unwrap();
    let unit = "district:bang-rak";
    let csv_path = dir.path("unit.csv");
    report(
        &db,
        "bma-complaint-3step",
        &csv_path,
        &["--unit", unit, "--format", "csv"],
    );
    let csv = std::fs::read_to_string(&csv_path).unwrap();
    assert!(csv.starts_with('\u{feff}'), "CSV starts with a BOM");
    // The unit's steps are those of the replay's indicator results.
    let replayed = indicators["units"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["unit"] == unit)
        .unwrap();
    let steps = report_rows(&csv, "score");
    assert_eq!(steps.len(), replayed["steps"].as_array().unwrap().len());
    for (row, st) in steps.iter().zip(replayed["steps"].as_array().unwrap()) {
        assert_eq!(row[3], st["id"].as_str().unwrap());
        assert_eq!(row[4], st["correct"].to_string(), "{row:?}");
        assert_eq!(row[5], st["total"].to_string(), "{row:?}");
        assert_eq!(
            row[10],
            format!("{:.2}", st["score"].as_f64().unwrap()),
            "{row:?}"
        );
    }
    // The backlog is the unit's open complaints of the replay.
    let open: usize = complaints
        .iter()
        .filter(|c| {
            c["unit"] == unit && !["closed", "new"].contains(&c["status"].as_str().unwrap())
        })
        .count();
    assert!(open > 0);
    assert_eq!(report_rows(&csv, "backlog").len(), open);
    // A month: the unit's complaints received in it.
    let month_path = dir.path("month.csv");
    report(
        &db,
        "bma-complaint-3step",
        &month_path,
        &["--unit", unit, "--month", "2024-03", "--format", "csv"],
    );
    let of_month = complaints
        .iter()
        .filter(|c| {
            c["received_at"].as_str().unwrap().starts_with("2024-03")
                && c["rounds"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|r| r["unit"] == unit)
        })
        .count();
    let month_csv = std::fs::read_to_string(&month_path).unwrap();
    assert_eq!(
        report_rows(&month_csv, "period มี.ค. 2567").len(),
        of_month,
        "{month_csv}"
    );
    // The evaluation as printable HTML: A4 print styles, the chart, every district office.
    let html_path = dir.path("eval.html");
    report(
        &db,
        "bma-complaint-3step",
        &html_path,
        &["--format", "html", "--lang", "en"],
    );
    let html = std::fs::read_to_string(&html_path).unwrap();
    assert!(html.contains("<html lang=\"en\">") && html.contains("size:A4"));
    assert!(html.contains("<svg class=\"chart\"") && !html.contains("<nav"));
    assert!(html.contains("Bang Rak District Office"));
    // Bad input: exit 2, a clear line, no file.
    let bad = dir.path("bad.html");
    for (args, says) in [
        (vec!["--month", "2025-03"], "outside fiscal year 2567"),
        (vec!["--month", "March"], "is not YYYY-MM"),
        (vec!["--quarter", "5"], "quarters 1 to 4"),
        (vec!["--unit", "district:atlantis"], "not a known unit"),
        (vec!["--lang", "fr"], "use th or en"),
    ] {
        let mut all = vec![
            "report",
            "--db",
            s(&db),
            "--fiscal-year",
            "2567",
            "--spec",
            "bma-timeliness",
            "--out",
            s(&bad),
        ];
        all.extend(args);
        let o = rongtook(&all);
        assert_eq!(o.status.code(), Some(2), "{all:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(says), "{all:?}: {err}");
        assert!(!bad.exists());
    }
}

/// `(met, judged)` of the R3 checkpoints of the rounds forwarded in FY 2567 (B.E.), counted
/// straight from a replay's `complaints.json`.
fn r3_checkpoints_counted(complaints: &serde_json::Value) -> (u64, u64, u64) {
    let (mut met, mut judged, mut rounds_all_met) = (0, 0, 0);
    for c in complaints.as_array().unwrap() {
        for r in c["rounds"].as_array().unwrap() {
            let day = &r["forwarded_at"].as_str().unwrap()[..10];
            assert!(r["forwarded_at"].as_str().unwrap().ends_with("+07:00"));
            if !("2023-10-01"..="2024-09-30").contains(&day) {
                continue;
            }
            let cps = r["checkpoints"].as_array().unwrap();
            for k in cps {
                match k["met"].as_bool() {
                    Some(true) => (met, judged) = (met + 1, judged + 1),
                    Some(false) => judged += 1,
                    None => {}
                }
            }
            if cps.iter().all(|k| k["met"] == true) {
                rounds_all_met += 1;
            }
        }
    }
    (met, judged, rounds_all_met)
}

#[test]
fn r3_is_one_share_per_checkpoint_in_the_summary_and_the_reports() {
    let dir = Scratch::new("r3");
    let db = generated_log(&dir, 600, 11);
    let out = dir.path("replay");
    replay(&db, &out, &[]);
    let complaints: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("complaints.json")).unwrap())
            .unwrap();
    let (met, judged, rounds_all_met) = r3_checkpoints_counted(&complaints);
    assert!(judged > 100, "the year has judged checkpoints: {judged}");
    // Per round and per checkpoint really differ on this year, so the test tells them apart.
    assert_ne!(met, rounds_all_met);
    let pct = format!("{:.2}%", met as f64 * 100.0 / judged as f64);

    let summary = ok(&["demo", "--db", s(&db), "--fiscal-year", "2567"]);
    let line = summary
        .lines()
        .find(|l| l.starts_with("on time"))
        .expect("an on-time line");
    assert!(
        line.contains(&format!("R3 checkpoints met {pct} ({met}/{judged})")),
        "{line} (counted {met}/{judged})"
    );

    let html = dir.path("eval.html");
    report(&db, "bma-complaint-3step", &html, &[]);
    let page = std::fs::read_to_string(&html).unwrap();
    let cell = format!(
        "{pct} <span class=\"meta\">({}/{})</span>",
        reports::html::count(met),
        reports::html::count(judged)
    );
    let row = page
        .split("<tr>")
        .find(|r| r.contains("<th scope=\"row\">R3 "))
        .expect("the report has an R3 row");
    assert!(
        row.contains(&cell),
        "the report's R3 row shows {cell}: {row}"
    );
}

#[test]
fn a_backup_taken_while_appends_go_on_verifies_and_is_a_prefix_of_the_log() {
    use event_store::EventStore;
    let dir = Scratch::new("backup");
    let db = generated_log(&dir, 300, 2);
    let more = dir.path("more.ndjson");
    ok(&[
        "generate",
        "--fiscal-year",
        "2568",
        "--complaints",
        "600",
        "--seed",
        "4",
        "--out",
        s(&more),
    ]);
    let events: Vec<event_model::NewEvent> = std::fs::read_to_string(&more)
        .unwrap()
        .lines()
        .map(|l| event_model::parse_wire_event(l).unwrap())
        .collect();
    let initial = event_store_sqlite::SqliteStore::open(&db, event_store::Durability::Full)
        .unwrap()
        .head()
        .unwrap()
        .position;
    let (started, go_on) = std::sync::mpsc::channel::<()>();
    let appender = {
        let db = db.clone();
        std::thread::spawn(move || {
            let mut store =
                event_store_sqlite::SqliteStore::open(&db, event_store::Durability::Full).unwrap();
            let at = event_model::parse_instant("2025-10-01T00:00:00+07:00").unwrap();
            for (i, chunk) in events.chunks(100).enumerate() {
                store.append(chunk, at).unwrap();
                if i == 3 {
                    started.send(()).unwrap();
                }
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
        })
    };
    go_on.recv().unwrap();
    let backup = dir.path("backup.db");
    let said = ok(&["backup", "--db", s(&db), "--out", s(&backup)]);
    appender.join().unwrap();
    assert!(said.contains("hash chain verified"), "{said}");
    // The copy verifies on its own, and it is the log up to its head.
    let copy =
        event_store_sqlite::SqliteStore::open(&backup, event_store::Durability::Full).unwrap();
    let v = copy.verify().unwrap();
    assert_eq!(v.first_bad, None);
    let log = event_store_sqlite::SqliteStore::open(&db, event_store::Durability::Full).unwrap();
    let end = log.head().unwrap().position;
    let p = v.head.position;
    assert!(initial < p && p <= end, "{initial} < {p} <= {end}");
    assert_eq!(log.read_after(p - 1, 1).unwrap()[0].hash, v.head.hash);
    assert_eq!(v.events, p);
    // A second backup to the same file is refused and leaves the first as it was.
    let o = rongtook(&["backup", "--db", s(&db), "--out", s(&backup)]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(copy.head().unwrap(), v.head);
}

#[test]
fn serve_takes_its_settings_from_the_environment_and_logs_json() {
    use std::io::Read;
    let dir = Scratch::new("serve-env");
    let db = generated_log(&dir, 20, 3);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_rongtook-under-test"))
        .arg("serve")
        .env("RONGTOOK_DB", &db)
        .env("RONGTOOK_LISTEN", &addr)
        .env("RONGTOOK_LOG_FORMAT", "json")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let get = |path: &str| -> Option<String> {
        use std::io::Write;
        let mut c = std::net::TcpStream::connect(&addr).ok()?;
        write!(
            c,
            "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
        .ok()?;
        let mut out = String::new();
        c.read_to_string(&mut out).ok()?;
        Some(out)
    };
    let start = std::time::Instant::now();
    let ready = loop {
        if let Some(r) = get("/ready") {
            break r;
        }
        assert!(
            start.elapsed().as_secs() < 30,
            "serve did not start from its environment"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    assert!(ready.starts_with("HTTP/1.1 200"), "{ready}");
    assert!(get("/health").unwrap().contains("\"status\":\"ok\""));
    let _ = child.kill();
    let _ = child.wait();
    let mut log = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut log)
        .unwrap();
    let lines: Vec<&str> = log.lines().collect();
    assert!(lines.len() >= 3, "{log}");
    for l in &lines {
        let v: serde_json::Value =
            serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON line ({e}): {l}"));
        assert!(v["level"].is_string() && v["fields"].is_object(), "{l}");
    }
    assert!(log.contains("\"/ready\""), "requests are logged: {log}");
}

#[test]
fn inspect_list_gives_an_office_its_selection_list_as_the_fixture_says() {
    let dir = tests::Scratch::new("inspect-list");
    let db = dir.path("log.db");
    let fixture = tests::workspace_root().join("replay-fixtures/inspection-list-reasons");
    let events = fixture.join("events.ndjson");
    crate::common::ok(&["append", "--db", s(&db), s(&events)]);
    let as_of = "2024-04-01T12:00:00+07:00";
    let out = crate::common::ok(&[
        "inspect-list",
        "--db",
        s(&db),
        "--as-of",
        as_of,
        "--office",
        "office:governor-secretariat",
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let expected: Vec<serde_json::Value> = serde_json::from_str(
        &std::fs::read_to_string(fixture.join("inspection-list-governor-secretariat.json"))
            .unwrap(),
    )
    .unwrap();
    assert_eq!(v["complaints"].as_array().unwrap(), &expected);
    assert_eq!(v["total"], expected.len());
    // The table names every reason; an unknown office is bad input.
    let table = crate::common::ok(&[
        "inspect-list",
        "--db",
        s(&db),
        "--as-of",
        as_of,
        "--office",
        "office:governor-secretariat",
    ]);
    assert!(
        table.contains("urgent,unresolved,executive_assigned"),
        "{table}"
    );
    let o = crate::common::rongtook(&[
        "inspect-list",
        "--db",
        s(&db),
        "--as-of",
        as_of,
        "--office",
        "office:nowhere",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("not an inspecting office"));
}

#[test]
fn the_watchers_reports_print_what_the_fixtures_hold() {
    let dir = Scratch::new("oversight-report");
    let report = |db: &Path, kind: &str, format: &str, lang: &str, more: &[&str]| {
        let out = dir.path(&format!("{kind}-{lang}.{format}"));
        let mut args = vec![
            "report",
            "--db",
            s(db),
            "--fiscal-year",
            "2567",
            "--oversight",
            kind,
            "--format",
            format,
            "--lang",
            lang,
            "--out",
            s(&out),
        ];
        args.extend(more);
        ok(&args);
        std::fs::read_to_string(&out).unwrap()
    };
    // Inspections: 3 days in March for the Governor's secretariat (missed), 4 for the other.
    let db = dir.path("inspections.db");
    append_fixture(&db, "inspection-days-per-month");
    let md = report(&db, "inspections", "md", "en", &[]);
    assert!(
        md.contains("| Office of the Governor's Secretary | Mar 2024 | 3 | missed | 4 | 1 | 0 |"),
        "{md}"
    );
    assert!(md.contains(
        "| Office of the Permanent Secretary's Secretary | Mar 2024 | 4 | met | 4 | 1 | 1 |"
    ));
    let half = report(&db, "half-year", "md", "en", &[]);
    assert!(
        half.contains(
            "| Office of the Governor's Secretary | October-March | 3 | 0/6 | 4 | 1 | 0 |"
        ),
        "{half}"
    );
    let html = report(&db, "inspections", "html", "th", &[]);
    assert!(html.contains("รายงานการลงพื้นที่ตรวจสอบประจำเดือน") && html.contains("มี.ค. 2567"));
    let csv = report(&db, "inspections", "csv", "en", &[]);
    assert!(
        csv.starts_with('\u{feff}') && csv.contains("Mar 2024,3,missed,4,1,0"),
        "{csv}"
    );
    // Directives per quarter, as of the fixture's instant: Q1 one met, one missed; Q2 one
    // missed; Q3 one pending.
    let db = dir.path("directives.db");
    append_fixture(&db, "directive-follow-up-three-months");
    let md = report(
        &db,
        "directives",
        "md",
        "en",
        &["--as-of", "2024-07-01T12:00:00+07:00"],
    );
    for row in [
        "| Q1 | 1 | 1 | 0 | 0 | 50.00% |",
        "| Q2 | 0 | 1 | 0 | 0 | 0.00% |",
        "| Q3 | 0 | 0 | 1 | 0 | – |",
    ] {
        assert!(md.contains(row), "{row}\n{md}");
    }
    // The centre: R0 across a weekend, one met and two missed of three due.
    let db = dir.path("centre.db");
    append_fixture(&db, "r0-forward-across-a-weekend");
    let md = report(
        &db,
        "centre",
        "md",
        "en",
        &["--as-of", "2024-03-09T12:00:00+07:00"],
    );
    assert!(md.contains("| Mar 2024 | 33.33% (1/3) |"), "{md}");
    // An unknown report is bad input; an indicator's options do not mix with it.
    let o = rongtook(&[
        "report",
        "--db",
        s(&db),
        "--fiscal-year",
        "2567",
        "--oversight",
        "gossip",
        "--out",
        s(&dir.path("x.html")),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr)
        .contains("one of centre, inspections, half-year, directives"));
    let o = rongtook(&[
        "report",
        "--db",
        s(&db),
        "--fiscal-year",
        "2567",
        "--oversight",
        "centre",
        "--spec",
        "bma-timeliness",
        "--out",
        s(&dir.path("x.html")),
    ]);
    assert_eq!(o.status.code(), Some(2));
}
