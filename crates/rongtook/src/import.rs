//! `rongtook import traffy`: Traffy Fondue exports (either shape) into the log. Every row is
//! accounted for: imported, duplicate (already in the log, or repeated in the input), or
//! refused with its line and reason. Refused rows never stop the good ones unless `--strict`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use event_store::Durability;

use crate::commands::{now, progress_bar};
use crate::input::open;
use crate::{bad_input, BadInput};

#[derive(clap::Subcommand)]
pub enum Source {
    /// Traffy Fondue exports: the CSV export or the public API's shape, told by the header.
    Traffy {
        #[arg(long)]
        db: PathBuf,
        /// Export files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Refuse the whole import if any row is refused.
        #[arg(long)]
        strict: bool,
    },
}

/// What became of one row.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Fate {
    Imported,
    Duplicate(String),
    Refused(String),
}

/// Tickets appended per transaction.
const GROUP: usize = 500;

/// Each row's fate, by (file, line, ticket id), and the tickets to append with the index of
/// their fate.
#[derive(Default)]
struct Plan {
    fates: Vec<(usize, u64, Option<String>, Fate)>,
    pending: Vec<(usize, Vec<event_model::NewEvent>)>,
}

pub fn run(source: Source) -> anyhow::Result<ExitCode> {
    let Source::Traffy { db, files, strict } = source;
    let mut plan = read_files(&files)?;
    let refused: Vec<_> = plan
        .fates
        .iter()
        .filter(|x| matches!(x.3, Fate::Refused(_)))
        .collect();
    if strict && !refused.is_empty() {
        for (f, line, id, fate) in &refused {
            if let Fate::Refused(why) = fate {
                eprintln!(
                    "{}:{line}: {}{why}",
                    files[*f].display(),
                    id.as_deref().map(|i| format!("{i}: ")).unwrap_or_default()
                );
            }
        }
        return Err(anyhow::Error::new(BadInput(format!(
            "{} rows refused and --strict given: nothing was imported",
            refused.len()
        ))));
    }
    append(&db, &mut plan)?;
    print_fates(&files, &plan);
    Ok(ExitCode::SUCCESS)
}

/// Reads every file and maps its tickets to events; a ticket seen in an earlier row (of any
/// file) is a duplicate.
fn read_files(files: &[PathBuf]) -> anyhow::Result<Plan> {
    let names = indicators::spec::bangkok_unit_names();
    let districts = traffy::units_of(names.iter().map(|(u, t)| (u.as_str(), t.th.as_str())));
    let mut plan = Plan::default();
    let mut first_seen: BTreeMap<String, (usize, u64)> = BTreeMap::new();
    for (f, path) in files.iter().enumerate() {
        let text = match std::fs::read(path).map(String::from_utf8) {
            Ok(Ok(t)) => t,
            Ok(Err(e)) => bad_input!("{}: not UTF-8 text ({e})", path.display()),
            Err(e) => bad_input!("{}: {e}", path.display()),
        };
        let (shape, rows) = match traffy::read(&text) {
            Ok(r) => r,
            Err(e) => bad_input!("{}: {e}", path.display()),
        };
        eprintln!("{}: {:?} shape, {} rows", path.display(), shape, rows.len());
        for row in rows {
            let t = match row {
                Err(r) => {
                    plan.fates
                        .push((f, r.line, r.ticket_id, Fate::Refused(r.reason)));
                    continue;
                }
                Ok(t) => t,
            };
            if let Some((pf, pl)) = first_seen.get(&t.ticket_id) {
                let why = format!("ticket repeated (first at {}:{pl})", files[*pf].display());
                plan.fates
                    .push((f, t.line, Some(t.ticket_id), Fate::Duplicate(why)));
                continue;
            }
            first_seen.insert(t.ticket_id.clone(), (f, t.line));
            let fate = match traffy::events_for(&t, &districts) {
                Ok(events) => {
                    plan.pending.push((plan.fates.len(), events));
                    Fate::Imported
                }
                Err(reason) => Fate::Refused(reason),
            };
            plan.fates.push((f, t.line, Some(t.ticket_id), fate));
        }
    }
    Ok(plan)
}

/// Appends the planned tickets, a group of tickets per transaction, each ticket its own
/// atomic batch; records what became of each.
fn append(db: &Path, plan: &mut Plan) -> anyhow::Result<()> {
    let mut store = open(db, Durability::Full)?;
    let pb = progress_bar(Some(plan.pending.len() as u64), "importing");
    let recorded_at = now();
    for chunk in plan.pending.chunks(GROUP) {
        let batches = chunk.iter().map(|(_, e)| e.clone()).collect();
        let outcomes = store
            .append_group(batches, recorded_at)
            .context("appending")?;
        for ((i, _), outcome) in chunk.iter().zip(outcomes) {
            plan.fates[*i].3 = match outcome {
                Ok(r) if r.appended == 0 => Fate::Duplicate("already in the log".into()),
                Ok(_) => Fate::Imported,
                Err(e) => Fate::Refused(e.to_string()),
            };
        }
        pb.inc(chunk.len() as u64);
    }
    pb.finish_and_clear();
    Ok(())
}

/// Per file: its counts, then each refused or duplicate row.
fn print_fates(files: &[PathBuf], plan: &Plan) {
    for (f, path) in files.iter().enumerate() {
        let mine: Vec<_> = plan.fates.iter().filter(|x| x.0 == f).collect();
        let count = |k: fn(&Fate) -> bool| mine.iter().filter(|x| k(&x.3)).count();
        println!(
            "{}: {} rows: {} imported, {} duplicates, {} refused",
            path.display(),
            mine.len(),
            count(|x| matches!(x, Fate::Imported)),
            count(|x| matches!(x, Fate::Duplicate(_))),
            count(|x| matches!(x, Fate::Refused(_)))
        );
        for (_, line, id, fate) in &mine {
            let id = id.as_deref().map(|i| format!(" ({i})")).unwrap_or_default();
            match fate {
                Fate::Refused(why) => println!("  line {line}: refused{id}: {why}"),
                Fate::Duplicate(why) => println!("  line {line}: duplicate{id}: {why}"),
                Fate::Imported => {}
            }
        }
    }
}
