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
        let store = crate::input::open_existing(&side.path)?;
        let r = crate::commands::replay_store(&store, fy, as_of, &cal, &rules, &specs)?;
        files.push(read_model::diff::files_of(&r)?);
    }
    Ok(read_model::diff::diff(&files[0], &files[1]))
}
