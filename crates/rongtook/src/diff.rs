//! `rongtook diff A B`: reads two replay output folders (or replays two logs) and hands them to
//! the diff engine of `read-model`.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Context;
use read_model::diff::{Diff, ReplayFiles};

use crate::bad_input;

/// Reads every `.json` file of a replay output folder.
fn read_folder(dir: &Path) -> anyhow::Result<ReplayFiles> {
    if !dir.is_dir() {
        bad_input!("{}: not a replay output folder", dir.display());
    }
    let mut files = BTreeMap::new();
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        let name = e.file_name().to_string_lossy().to_string();
        if !name.ends_with(".json") {
            continue;
        }
        let p = e.path();
        let text =
            std::fs::read_to_string(&p).with_context(|| format!("reading {}", p.display()))?;
        match serde_json::from_str(&text) {
            Ok(v) => files.insert(name, v),
            Err(e) => bad_input!("{}: not JSON: {e}", p.display()),
        };
    }
    if !files.contains_key("meta.json") {
        bad_input!(
            "{}: no meta.json: not a replay output folder",
            dir.display()
        );
    }
    Ok(files)
}

/// One side of a diff: a replay output folder, or a log to replay with these specs and rules.
pub struct Side {
    pub path: std::path::PathBuf,
    pub specs: Vec<String>,
    pub rule_data: crate::CalendarArgs,
}

/// Reads the sides that are folders, replays those that are logs, then diffs.
pub fn diff_sides(
    sides: &[Side; 2],
    fiscal_year: Option<&str>,
    as_of: Option<&str>,
) -> anyhow::Result<Diff> {
    let mut files = Vec::new();
    for side in sides {
        if side.path.is_dir() {
            files.push(read_folder(&side.path)?);
            continue;
        }
        if !side.path.is_file() {
            bad_input!(
                "{}: neither a replay output folder nor an event log",
                side.path.display()
            );
        }
        let Some(fy) = fiscal_year else {
            bad_input!(
                "{} is an event log: give --fiscal-year to replay it",
                side.path.display()
            );
        };
        let rules = crate::input::load_rules(&side.rule_data)?;
        let cal = crate::input::load_calendar(&side.rule_data)?;
        let specs = side
            .specs
            .iter()
            .map(|s| crate::commands::load_spec(s))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let store =
            crate::input::open_existing(&event_store_open::Location::Sqlite(side.path.clone()))?;
        let r = crate::commands::replay_store(&*store, fy, as_of, &cal, &rules, &specs)?;
        files.push(read_model::diff::files_of(&r)?);
    }
    Ok(read_model::diff::diff(&files[0], &files[1]))
}

/// `rongtook diff A B`: exit 0 when identical, 1 when different, 2 on any failure (as with
/// diff(1)).
pub fn run(a: crate::args::DiffArgs) -> anyhow::Result<std::process::ExitCode> {
    let side_b = crate::CalendarArgs {
        calendar: a.calendar_b.or(a.calendar.calendar.clone()),
        rules: a.rules_b.or(a.calendar.rules.clone()),
    };
    let specs_b = if a.specs_b.is_empty() {
        a.specs.clone()
    } else {
        a.specs_b
    };
    let sides = [
        Side {
            path: a.a,
            specs: a.specs,
            rule_data: a.calendar,
        },
        Side {
            path: a.b,
            specs: specs_b,
            rule_data: side_b,
        },
    ];
    let d = diff_sides(&sides, a.fiscal_year.as_deref(), a.as_of.as_deref())
        .map_err(|e| anyhow::Error::new(crate::BadInput(format!("{e:#}"))))?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&d)?);
    } else {
        print!("{}", read_model::diff::render(&d, a.max_complaints));
    }
    Ok(std::process::ExitCode::from(if d.identical {
        0
    } else {
        1
    }))
}
