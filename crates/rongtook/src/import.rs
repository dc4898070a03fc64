//! `rongtook import traffy`: Traffy Fondue exports (either shape) into the log. Every row is
//! accounted for: imported, duplicate (already in the log, or repeated in the input), or
//! refused with its line and reason. Refused rows never stop the good ones unless `--strict`.

use std::collections::BTreeMap;
use std::path::PathBuf;
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

pub fn run(source: Source) -> anyhow::Result<ExitCode> {
    let Source::Traffy { db, files, strict } = source;
    let names = indicators::spec::bangkok_unit_names();
    let districts = traffy::units_of(names.iter().map(|(u, t)| (u.as_str(), t.th.as_str())));
    // (file, line) -> fate; tickets waiting to be appended.
    let mut fates: Vec<(usize, u64, Option<String>, Fate)> = Vec::new();
    let mut pending: Vec<(usize, Vec<event_model::NewEvent>)> = Vec::new();
    let mut first_seen: BTreeMap<String, (usize, u64)> = BTreeMap::new();
    for (f, path) in files.iter().enumerate() {
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) => bad_input!("{}: {e}", path.display()),
        };
        let text = match String::from_utf8(bytes) {
            Ok(t) => t,
            Err(e) => bad_input!("{}: not UTF-8 text ({e})", path.display()),
        };
        let (shape, rows) = match traffy::read(&text) {
            Ok(r) => r,
            Err(e) => bad_input!("{}: {e}", path.display()),
        };
        eprintln!("{}: {:?} shape, {} rows", path.display(), shape, rows.len());
        for row in rows {
            match row {
                Err(r) => fates.push((f, r.line, r.ticket_id, Fate::Refused(r.reason))),
                Ok(t) => {
                    if let Some((pf, pl)) = first_seen.get(&t.ticket_id) {
                        let fate = Fate::Duplicate(format!(
                            "ticket repeated (first at {}:{pl})",
                            files[*pf].display()
                        ));
                        fates.push((f, t.line, Some(t.ticket_id), fate));
                        continue;
                    }
                    first_seen.insert(t.ticket_id.clone(), (f, t.line));
                    match traffy::events_for(&t, &districts) {
                        Ok(events) => {
                            pending.push((fates.len(), events));
                            fates.push((f, t.line, Some(t.ticket_id), Fate::Imported));
                        }
                        Err(reason) => {
                            fates.push((f, t.line, Some(t.ticket_id), Fate::Refused(reason)))
                        }
                    }
                }
            }
        }
    }
    let refused = fates
        .iter()
        .filter(|x| matches!(x.3, Fate::Refused(_)))
        .count();
    if strict && refused > 0 {
        for (f, line, id, fate) in fates.iter().filter(|x| matches!(x.3, Fate::Refused(_))) {
            if let Fate::Refused(why) = fate {
                eprintln!(
                    "{}:{line}: {}{why}",
                    files[*f].display(),
                    id.as_deref().map(|i| format!("{i}: ")).unwrap_or_default()
                );
            }
        }
        return Err(anyhow::Error::new(BadInput(format!(
            "{refused} rows refused and --strict given: nothing was imported"
        ))));
    }
    let mut store = open(&db, Durability::Full)?;
    let pb = progress_bar(Some(pending.len() as u64), "importing");
    let recorded_at = now();
    for chunk in pending.chunks(GROUP) {
        let batches = chunk.iter().map(|(_, e)| e.clone()).collect();
        let outcomes = store
            .append_group(batches, recorded_at)
            .context("appending")?;
        for ((i, _), outcome) in chunk.iter().zip(outcomes) {
            fates[*i].3 = match outcome {
                Ok(r) if r.appended == 0 => Fate::Duplicate("already in the log".into()),
                Ok(_) => Fate::Imported,
                Err(e) => Fate::Refused(e.to_string()),
            };
        }
        pb.inc(chunk.len() as u64);
    }
    pb.finish_and_clear();
    for (f, path) in files.iter().enumerate() {
        let mine: Vec<_> = fates.iter().filter(|x| x.0 == f).collect();
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
            match fate {
                Fate::Refused(why) => println!(
                    "  line {line}: refused{}: {why}",
                    id.as_deref().map(|i| format!(" ({i})")).unwrap_or_default()
                ),
                Fate::Duplicate(why) => println!(
                    "  line {line}: duplicate{}: {why}",
                    id.as_deref().map(|i| format!(" ({i})")).unwrap_or_default()
                ),
                Fate::Imported => {}
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
