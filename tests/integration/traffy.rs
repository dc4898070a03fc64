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

    // Score FY 2566 and compare every district office with the independent count.
    let out_dir = dir.path("replay");
    rongtook(&[
        "replay",
        "--db",
        db.to_str().unwrap(),
        "--fiscal-year",
        "2566",
        "--out",
        out_dir.to_str().unwrap(),
        "--spec",
        "traffy-resolution-2567",
    ]);
    let rep: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out_dir.join("indicators.json")).unwrap()).unwrap();
    let py = Command::new("python3")
        .arg(workspace_root().join("tests/traffy/independent_count.py"))
        .args(files)
        .output()
        .expect("python3");
    assert!(
        py.status.success(),
        "{}",
        String::from_utf8_lossy(&py.stderr)
    );
    let independent: BTreeMap<String, (u64, u64)> = serde_json::from_slice(&py.stdout).unwrap();
    let names = indicators::spec::bangkok_unit_names();
    let mut ours: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for u in rep["units"].as_array().unwrap() {
        let unit = u["unit"].as_str().unwrap();
        let th = names
            .get(unit)
            .map(|n| n.th.trim_start_matches("สำนักงานเขต").to_string())
            .unwrap_or_else(|| unit.to_string());
        let step = &u["steps"][0];
        ours.insert(
            th,
            (
                step["total"].as_u64().unwrap(),
                step["correct"].as_u64().unwrap(),
            ),
        );
    }
    assert_eq!(ours.len(), 50, "the 50 district offices");
    assert_eq!(ours, independent);
    assert_eq!(rep["overall"]["total"], 1864);
    assert_eq!(rep["overall"]["level"], 1);
}
