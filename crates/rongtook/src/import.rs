//! `rongtook import traffy`: Traffy Fondue's real data, in any of its shapes, into the log.
//! Every record is accounted for: imported, duplicate, stale or refused with its place and
//! reason. Refused records never stop the good ones unless `--strict`.

use event_store_open::Location;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use event_store::Durability;
use traffy::{Outcome, ReadOptions, RecordFate, Zone};

use crate::commands::{now, progress_bar};
use crate::input::open;
use crate::{bad_input, BadInput};

#[derive(clap::Subcommand)]
pub enum Source {
    /// Traffy Fondue data: CSV exports and API records (every header variant), API JSON
    /// (search pages, GeoJSON), `.tar.zst` archives of snapshots, `.xlsx`, the Thai web scrape
    /// and scraped cards, each told by its content. Several files of one ticket are a series
    /// of captures: each change of state becomes events bounded by the captures around it.
    Traffy {
        #[arg(long)]
        db: Location,
        /// Data files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Refuse the whole import if any record is refused.
        #[arg(long)]
        strict: bool,
        /// When the files were captured, if known (RFC 3339, or a date: the end of that day in
        /// Bangkok): an upper bound for the changes they show (archive members are bounded by
        /// the time in their names).
        #[arg(long)]
        observed_at: Option<String>,
        /// What times without an offset mean: `unknown` (the default: the range between the
        /// Bangkok and the UTC reading), `bangkok` or `utc`.
        #[arg(long, default_value = "unknown")]
        timezone: String,
        /// Also write every record's fate to this CSV file (file, part, line, ticket, fate,
        /// reason).
        #[arg(long)]
        fates: Option<PathBuf>,
    },
}

/// Tickets appended per transaction.
const GROUP: usize = 500;

/// Refused and duplicate records listed one by one per file up to this many; beyond, a count
/// per reason (`--fates` lists them all).
const LIST_AT_MOST: usize = 200;

pub fn run(source: Source) -> anyhow::Result<ExitCode> {
    let Source::Traffy {
        db,
        files,
        strict,
        observed_at,
        timezone,
        fates,
    } = source;
    let zone = match timezone.as_str() {
        "unknown" => Zone::Unknown,
        "bangkok" => Zone::Known(traffy::bangkok()),
        "utc" => Zone::Known(chrono::FixedOffset::east_opt(0).expect("valid")),
        other => bad_input!("--timezone: `{other}` is not unknown, bangkok or utc"),
    };
    let observed_at = match observed_at {
        None => None,
        Some(t) => match read_model::parse_instant(&t) {
            Ok(t) => Some(t),
            Err(e) => bad_input!("--observed-at: {e}"),
        },
    };
    let opts = ReadOptions { zone, observed_at };
    let mut inputs = Vec::new();
    for path in &files {
        match std::fs::read(path) {
            Ok(bytes) => inputs.push((path.display().to_string(), bytes, opts)),
            Err(e) => bad_input!("{}: {e}", path.display()),
        }
    }
    let mut store = open(&db, Durability::Full)?;
    let names = indicators::spec::bangkok_unit_names();
    let districts = traffy::units_of(names.iter().map(|(u, t)| (u.as_str(), t.th.as_str())));
    let pb = progress_bar(Some(files.len() as u64), "reading");
    let mut lookup_error = None;
    let planned = traffy::plan(
        &inputs,
        &districts,
        &mut |id| match store.read_stream(&traffy::stream_of(id)) {
            Ok(events) => traffy::Prior::of(&events),
            Err(e) => {
                lookup_error.get_or_insert(e);
                None
            }
        },
        &mut |n| pb.set_position(n as u64),
    );
    pb.finish_and_clear();
    if let Some(e) = lookup_error {
        return Err(anyhow::Error::new(e).context("reading the log"));
    }
    let mut plan = match planned {
        Ok(p) => p,
        Err(e) => bad_input!("{e}: nothing was imported"),
    };
    for (path, info) in files.iter().zip(&plan.files) {
        eprintln!(
            "{}: {}{}",
            path.display(),
            info.shape.as_str(),
            if info.parts.is_empty() {
                String::new()
            } else {
                format!(", {} snapshots", info.parts.len())
            }
        );
    }
    let refused = plan
        .outcomes
        .iter()
        .filter(|o| matches!(o.fate, RecordFate::Refused(_)))
        .count();
    if strict && refused > 0 {
        print_refused(&files, &plan);
        return Err(anyhow::Error::new(BadInput(format!(
            "{refused} records refused and --strict given: nothing was imported"
        ))));
    }
    append(&mut *store, &mut plan)?;
    print_fates(&files, &plan);
    if let Some(out) = fates {
        write_fates(&out, &files, &plan)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Appends the planned tickets, a group of tickets per transaction, each ticket its own
/// atomic batch; records what became of each.
fn append(store: &mut dyn event_store::Log, plan: &mut traffy::Plan) -> anyhow::Result<()> {
    let pb = progress_bar(Some(plan.tickets.len() as u64), "importing");
    let recorded_at = now();
    for chunk in plan.tickets.chunks(GROUP) {
        let batches = chunk.iter().map(|t| t.events.clone()).collect();
        let results = store
            .append_group(batches, recorded_at)
            .context("appending")?;
        for (t, result) in chunk.iter().zip(results) {
            let fate = match result {
                Ok(r) if r.appended == 0 => RecordFate::Duplicate("already in the log".into()),
                Ok(_) => continue,
                Err(e) => RecordFate::Refused(e.to_string()),
            };
            for i in &t.records {
                plan.outcomes[*i].fate = fate.clone();
            }
        }
        pb.inc(chunk.len() as u64);
    }
    pb.finish_and_clear();
    Ok(())
}

fn place(files: &[PathBuf], plan: &traffy::Plan, o: &Outcome) -> String {
    let parts = &plan
        .files
        .get(o.file)
        .map(|f| f.parts.as_slice())
        .unwrap_or(&[]);
    let id = o
        .ticket_id
        .as_deref()
        .map(|i| format!(" ({i})"))
        .unwrap_or_default();
    match o.place.part {
        0 => format!("line {}{id}", o.place.line),
        p => format!(
            "{} #{}{id}",
            parts.get(p as usize - 1).map_or("?", String::as_str),
            o.place.line
        ),
    }
    .replace(&*files[o.file].display().to_string(), "")
}

fn print_refused(files: &[PathBuf], plan: &traffy::Plan) {
    for o in &plan.outcomes {
        if let RecordFate::Refused(why) = &o.fate {
            eprintln!(
                "{}: {}: {why}",
                files[o.file].display(),
                place(files, plan, o)
            );
        }
    }
}

/// Per file: its counts, then its refused and duplicate records (or, when there are many, a
/// count per reason).
fn print_fates(files: &[PathBuf], plan: &traffy::Plan) {
    for (f, path) in files.iter().enumerate() {
        let mine: Vec<&Outcome> = plan.outcomes.iter().filter(|o| o.file == f).collect();
        let count = |k: fn(&RecordFate) -> bool| mine.iter().filter(|o| k(&o.fate)).count();
        println!(
            "{}: {} records: {} imported, {} duplicates, {} stale, {} refused",
            path.display(),
            mine.len(),
            count(|x| matches!(x, RecordFate::Imported)),
            count(|x| matches!(x, RecordFate::Duplicate(_))),
            count(|x| matches!(x, RecordFate::Stale)),
            count(|x| matches!(x, RecordFate::Refused(_)))
        );
        let notable: Vec<&&Outcome> = mine
            .iter()
            .filter(|o| !matches!(o.fate, RecordFate::Imported))
            .collect();
        if notable.len() <= LIST_AT_MOST {
            for o in notable {
                let at = place(files, plan, o);
                match &o.fate {
                    RecordFate::Refused(why) => println!("  {at}: refused: {why}"),
                    RecordFate::Duplicate(why) => println!("  {at}: duplicate: {why}"),
                    RecordFate::Stale => {
                        println!("  {at}: stale: captured before what the log holds")
                    }
                    RecordFate::Imported => {}
                }
            }
        } else {
            let mut by_reason: std::collections::BTreeMap<String, usize> = Default::default();
            for o in notable {
                let key = match &o.fate {
                    RecordFate::Refused(why) => format!("refused: {}", reason_kind(why)),
                    RecordFate::Duplicate(why) => format!("duplicate: {why}"),
                    RecordFate::Stale => "stale: captured before what the log holds".into(),
                    RecordFate::Imported => continue,
                };
                *by_reason.entry(key).or_default() += 1;
            }
            for (reason, n) in by_reason {
                println!("  {n} {reason}");
            }
        }
    }
}

/// A refusal's reason without the record's own values, to count alike ones together.
fn reason_kind(why: &str) -> String {
    match why.find('`') {
        Some(i) => format!("{}…", &why[..i]),
        None => why.to_string(),
    }
}

fn write_fates(out: &Path, files: &[PathBuf], plan: &traffy::Plan) -> anyhow::Result<()> {
    let mut w =
        csv::Writer::from_path(out).with_context(|| format!("writing {}", out.display()))?;
    w.write_record(["file", "part", "line", "ticket_id", "fate", "reason"])?;
    for o in &plan.outcomes {
        let part = match o.place.part {
            0 => String::new(),
            p => plan.files[o.file].parts[p as usize - 1].clone(),
        };
        let (fate, reason) = match &o.fate {
            RecordFate::Imported => ("imported", String::new()),
            RecordFate::Duplicate(w) => ("duplicate", w.clone()),
            RecordFate::Stale => ("stale", String::new()),
            RecordFate::Refused(w) => ("refused", w.clone()),
        };
        w.write_record([
            files[o.file].display().to_string(),
            part,
            o.place.line.to_string(),
            o.ticket_id.clone().unwrap_or_default(),
            fate.to_string(),
            reason,
        ])?;
    }
    w.flush()?;
    Ok(())
}
