//! Data-driven replay fixtures: `replay-fixtures/<case>/events.ndjson` is appended to a fresh
//! log and replayed as of the case's instant; the projections must equal the case's
//! `complaints.json` and `overdue.json`. `replay-fixtures/rejected/<case>/` holds batches that
//! must be refused with the error in `error.txt`, leaving the log as `setup.ndjson` made it.
//! Run with `UPDATE_EXPECT=1` to rewrite expected files (then review the diff by hand).

use std::fs;
use std::path::{Path, PathBuf};

use calendar::{Calendar, FiscalYear};
use chrono::DateTime;
use event_model::{parse_wire_event, NewEvent};
use event_store::EventStore;
use event_store_sqlite::SqliteStore;
use projections::{overdue, write_json_lines, ComplaintFold, DeadlineRules};
use serde::Deserialize;
use tests::{check_expect, workspace_root};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    description: String,
    #[serde(default)]
    as_of: Option<String>,
    #[serde(default)]
    fiscal_year: Option<String>,
    /// Indicator specs (built-in ids) to score the fiscal year with; each writes
    /// `indicators-<id>.json`.
    #[serde(default)]
    specs: Vec<String>,
    /// Deadline rules other than the defaults (fields of `DeadlineRules`).
    #[serde(default)]
    rules: Option<serde_json::Value>,
    /// The specs' option for undetermined obligations, when not the default.
    #[serde(default)]
    undetermined: Option<indicators::Undetermined>,
    /// Inspecting offices whose selection list to write (`inspection-list-<office>.json`,
    /// without the `office:` prefix).
    #[serde(default)]
    inspect: Vec<String>,
    /// Write each office's inspections per month (`inspection-months.json`).
    #[serde(default)]
    inspection_months: bool,
}

pub(crate) fn case_dirs(root: &Path) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = fs::read_dir(root)
        .unwrap_or_else(|e| panic!("{}: {e}", root.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir() && p.file_name().unwrap() != "rejected")
        .collect();
    dirs.sort();
    dirs
}

fn read_case(dir: &Path) -> Case {
    let text = fs::read_to_string(dir.join("case.json"))
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let case: Case =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}/case.json: {e}", dir.display()));
    assert!(
        !case.description.trim().is_empty(),
        "{}: empty description",
        dir.display()
    );
    case
}

/// Parses an NDJSON file; every line must be well-formed.
pub(crate) fn parse_all(path: &Path) -> Vec<NewEvent> {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            parse_wire_event(l).unwrap_or_else(|e| panic!("{}:{}: {e}", path.display(), i + 1))
        })
        .collect()
}

pub(crate) fn recorded_at() -> chrono::DateTime<chrono::FixedOffset> {
    DateTime::parse_from_rfc3339("2030-01-01T00:00:00Z").unwrap()
}

/// Replays one case and returns its expected files' names and contents: `complaints.json`,
/// `overdue.json`, and `indicators-<spec>.json` for each spec of the case.
fn replay_case(dir: &Path, case: &Case, mut store: Box<dyn EventStore>) -> Vec<(String, String)> {
    let events = parse_all(&dir.join("events.ndjson"));
    store
        .append(&events, recorded_at())
        .unwrap_or_else(|e| panic!("{}: append refused: {e}", dir.display()));
    let as_of =
        DateTime::parse_from_rfc3339(case.as_of.as_deref().expect("accepted cases have as_of"))
            .unwrap();
    let mut fold = ComplaintFold::new(as_of);
    store.scan(0, &mut |e| fold.apply(e)).unwrap();
    let fy = case
        .fiscal_year
        .as_deref()
        .map(|y| FiscalYear::parse(y).unwrap());
    let rules = match &case.rules {
        Some(v) => DeadlineRules::from_json(&v.to_string())
            .unwrap_or_else(|e| panic!("{}: rules: {e}", dir.display())),
        None => DeadlineRules::default(),
    };
    let cal = Calendar::builtin();
    let all = fold.views(&cal, &rules);
    let views: Vec<_> = all
        .iter()
        .filter(|v| fy.is_none_or(|fy| v.in_fiscal_year(fy)))
        .collect();
    let mut complaints = Vec::new();
    write_json_lines(&mut complaints, &views).unwrap();
    let report = overdue(views.iter().copied(), as_of, &rules);
    let mut od = serde_json::to_string_pretty(&report).unwrap();
    od.push('\n');
    let mut out = vec![
        (
            "complaints.json".to_string(),
            String::from_utf8(complaints).unwrap(),
        ),
        ("overdue.json".to_string(), od),
    ];
    for office in &case.inspect {
        let o = projections::InspectingOffice::by_id(office)
            .unwrap_or_else(|| panic!("{}: no inspecting office {office}", dir.display()));
        let list = projections::inspection_list(views.iter().copied(), &o, as_of, &rules);
        let mut text = Vec::new();
        write_json_lines(&mut text, &list).unwrap();
        let name = office.trim_start_matches("office:");
        out.push((
            format!("inspection-list-{name}.json"),
            String::from_utf8(text).unwrap(),
        ));
    }
    if case.inspection_months {
        let months = projections::inspection_months(views.iter().copied(), as_of, &rules);
        let mut text = Vec::new();
        write_json_lines(&mut text, &months).unwrap();
        out.push((
            "inspection-months.json".to_string(),
            String::from_utf8(text).unwrap(),
        ));
    }
    let head = store.head().unwrap();
    for id in &case.specs {
        let mut spec = indicators::builtin(id)
            .unwrap_or_else(|| panic!("{}: no built-in spec {id}", dir.display()));
        if let Some(u) = case.undetermined {
            spec.undetermined = u;
        }
        let fy = fy.unwrap_or_else(|| panic!("{}: specs need a fiscal_year", dir.display()));
        let provenance = indicators::Provenance {
            log_head_position: head.position,
            log_head_hash: head.hash.to_hex(),
            calendar_version: cal.version().to_string(),
        };
        let rep = indicators::evaluate(&spec, &all, fold.monthly_reports(), fy, as_of, provenance);
        let mut text = serde_json::to_string_pretty(&rep).unwrap();
        text.push('\n');
        out.push((format!("indicators-{id}.json"), text));
    }
    out
}

/// A fresh, empty log of the backend under test.
pub type Fresh<'a> = &'a mut dyn FnMut() -> Box<dyn EventStore>;

fn in_memory() -> Box<dyn EventStore> {
    Box::new(SqliteStore::open_in_memory().unwrap())
}

#[test]
fn replay_fixtures_match_their_expected_projections() {
    accepted_fixtures_on(&mut in_memory);
}

/// Every accepted fixture replayed twice on fresh logs of a backend, against its expected files.
pub fn accepted_fixtures_on(fresh: Fresh<'_>) {
    let root = workspace_root().join("replay-fixtures");
    let dirs = case_dirs(&root);
    assert!(
        dirs.len() >= 15,
        "at least 15 accepted cases, found {}",
        dirs.len()
    );
    let mut failures = Vec::new();
    for dir in &dirs {
        let case = read_case(dir);
        let files = replay_case(dir, &case, fresh());
        // Replays are deterministic: a second run gives the same bytes.
        assert_eq!(replay_case(dir, &case, fresh()), files, "{}", dir.display());
        for (name, actual) in &files {
            if let Err(e) = check_expect(&dir.join(name), actual) {
                failures.push(e);
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} fixture file(s) differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn rejected_fixtures_are_refused_and_store_nothing() {
    rejected_fixtures_on(&mut in_memory);
}

/// Every rejected fixture on a fresh log of a backend: refused with the expected error, and
/// nothing of it stored.
pub fn rejected_fixtures_on(fresh: Fresh<'_>) {
    let root = workspace_root().join("replay-fixtures").join("rejected");
    let dirs = case_dirs(&root);
    assert!(dirs.len() >= 10, "rejected cases: {}", dirs.len());
    let mut failures = Vec::new();
    for dir in &dirs {
        read_case(dir);
        let mut store = fresh();
        let setup = dir.join("setup.ndjson");
        if setup.exists() {
            store
                .append(&parse_all(&setup), recorded_at())
                .unwrap_or_else(|e| panic!("{}: setup refused: {e}", dir.display()));
        }
        let before = store.head().unwrap();
        // Lines are parsed one by one, like `rongtook append`: malformed lines abort the batch.
        let text = fs::read_to_string(dir.join("events.ndjson")).unwrap();
        let lines: Vec<(usize, &str)> = text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
            .collect();
        let mut items = lines.iter().map(|(_, l)| parse_wire_event(l));
        let err = match store.append_iter(&mut items, recorded_at()) {
            Ok(r) => {
                failures.push(format!(
                    "{}: batch was accepted ({} appended)",
                    dir.display(),
                    r.appended
                ));
                continue;
            }
            Err(e) => e,
        };
        let line = err.index.map(|i| lines[i].0 + 1).unwrap_or(0);
        let actual = format!("line {line}: [{}] {err}\n", err.class());
        if let Err(e) = check_expect(&dir.join("error.txt"), &actual) {
            failures.push(e);
        }
        assert_eq!(
            store.head().unwrap(),
            before,
            "{}: the refused batch left events behind",
            dir.display()
        );
        assert!(store.verify().unwrap().first_bad.is_none());
    }
    assert!(
        failures.is_empty(),
        "{} rejected case(s) differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
