//! The subcommands.

use event_store_open::Location;
use std::fs;
use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use calendar::Calendar;
use chrono::{DateTime, FixedOffset, Utc};
use event_model::{parse_wire_event, to_wire_json, NewEvent, RecordedEvent};
use event_store::{AppendError, Durability, Log};
use generator::{GenConfig, Generator};
use projections::DeadlineRules;
use read_model::{ComplaintAt, Folded, ReplayMeta, Replayed};

use crate::args::{Format, Sync};
use crate::input::{
    instant_arg, load_calendar, load_rules, open, open_existing, parse_fiscal_year,
};
use crate::{bad_input, BadInput, CalendarArgs};

pub fn now() -> DateTime<FixedOffset> {
    Utc::now().fixed_offset()
}

pub fn progress_bar(len: Option<u64>, what: &str) -> indicatif::ProgressBar {
    let pb = match len {
        Some(n) => indicatif::ProgressBar::new(n),
        None => indicatif::ProgressBar::new_spinner(),
    };
    pb.set_draw_target(indicatif::ProgressDrawTarget::stderr());
    let style = if len.is_some() {
        "{msg} [{bar:30}] {pos}/{len} ({per_sec}, eta {eta})"
    } else {
        "{msg} {pos} ({per_sec})"
    };
    pb.set_style(
        indicatif::ProgressStyle::with_template(style)
            .expect("valid template")
            .progress_chars("=> "),
    );
    pb.set_message(what.to_string());
    pb
}

/// Turns an append error into one clear line naming the input line.
fn describe_append_error(e: AppendError, lines: &[u64], source: &str) -> anyhow::Error {
    let line = e.index.and_then(|i| lines.get(i)).copied();
    let what = match line {
        Some(l) => format!("{source}:{l}: {e}"),
        None => format!("{source}: {e}"),
    };
    match e.kind {
        event_store::AppendErrorKind::Store(_) => anyhow::anyhow!("{what}; nothing was appended"),
        _ => anyhow::Error::new(BadInput(format!("{what}; nothing was appended"))),
    }
}

/// Lines decoded per batch handed from the parsing thread to the appender.
const PARSE_BATCH: usize = 1024;

type Parsed = (u64, Result<NewEvent, event_model::WireError>);

/// Reads NDJSON and decodes it, sending `(line number, event)` batches; blank lines are
/// skipped. A line that cannot be read is sent as an error and ends the input, so the batch it
/// belongs to is refused whole.
fn parse_lines(
    reader: Box<dyn Read + Send>,
    pb: &indicatif::ProgressBar,
    tx: std::sync::mpsc::SyncSender<Vec<Parsed>>,
) {
    let mut reader = BufReader::with_capacity(1 << 20, reader);
    let mut line_no = 0u64;
    let mut buf = String::new();
    let mut batch = Vec::with_capacity(PARSE_BATCH);
    loop {
        buf.clear();
        match reader.read_line(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                line_no += 1;
                pb.inc(n as u64);
                let line = buf.trim();
                if line.is_empty() {
                    continue;
                }
                batch.push((line_no, parse_wire_event(line)));
            }
            Err(e) => {
                batch.push((
                    line_no + 1,
                    Err(event_model::WireError::new(
                        None,
                        "",
                        format!("cannot read this line: {e}"),
                    )),
                ));
                break;
            }
        }
        if batch.len() == PARSE_BATCH {
            let full = std::mem::replace(&mut batch, Vec::with_capacity(PARSE_BATCH));
            if tx.send(full).is_err() {
                return; // the appender stopped (it refused the batch)
            }
        }
    }
    if !batch.is_empty() {
        let _ = tx.send(batch);
    }
}

/// Appends NDJSON from a file or standard input as one atomic batch. Decoding runs in its own
/// thread, ahead of the appender.
pub fn append(db: &Location, input: &str, sync: Sync) -> anyhow::Result<ExitCode> {
    let (reader, source): (Box<dyn Read + Send>, String) = if input == "-" {
        (Box::new(std::io::stdin()), "<stdin>".into())
    } else {
        let f = match fs::File::open(input) {
            Ok(f) => f,
            Err(e) => bad_input!("{input}: {e}"),
        };
        (Box::new(f), input.to_string())
    };
    let size = if input == "-" {
        None
    } else {
        fs::metadata(input).ok().map(|m| m.len())
    };
    let mut store = open(db, sync.into())?;
    let pb = progress_bar(size, "appending");
    let mut lines: Vec<u64> = Vec::new();
    let result = std::thread::scope(|scope| {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<Parsed>>(16);
        let pb_reader = &pb;
        scope.spawn(move || parse_lines(reader, pb_reader, tx));
        let mut iter = rx.into_iter().flatten().map(|(line, event)| {
            lines.push(line);
            event
        });
        store.append_iter(&mut iter, now())
    });
    pb.finish_and_clear();
    let report = result.map_err(|e| describe_append_error(e, &lines, &source))?;
    let stored = report.events.iter().filter(|a| !a.duplicate);
    let (first, last) = (
        stored.clone().map(|a| a.position).min(),
        stored.map(|a| a.position).max(),
    );
    match (first, last) {
        (Some(a), Some(b)) => println!(
            "appended {} events (positions {a}..{b}), {} duplicates",
            report.appended, report.duplicates
        ),
        _ => println!("appended 0 events, {} duplicates", report.duplicates),
    }
    Ok(ExitCode::SUCCESS)
}

pub fn state(
    db: &Location,
    id: &str,
    as_of: Option<&str>,
    cal: &CalendarArgs,
) -> anyhow::Result<ExitCode> {
    let rules = load_rules(cal)?;
    let cal = load_calendar(cal)?;
    let as_of = match as_of {
        Some(t) => instant_arg(t, &cal)?,
        None => now(),
    };
    let store = open_existing(db)?;
    match read_model::complaint_as_of(&*store, id, as_of, &cal, &rules)? {
        ComplaintAt::View(v) => {
            println!("{}", serde_json::to_string_pretty(&v)?);
            Ok(ExitCode::SUCCESS)
        }
        ComplaintAt::Unknown => bad_input!("no complaint `{id}` in {}", db),
        ComplaintAt::NotYet => bad_input!("complaint `{id}` has no events at or before {as_of}"),
    }
}

pub fn events(
    db: &Location,
    stream: Option<&str>,
    after: u64,
    personal_data: bool,
) -> anyhow::Result<ExitCode> {
    let store = open_existing(db)?;
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let mut write_err = None;
    let mut write = |e: &RecordedEvent| {
        let mut redacted;
        let e = if personal_data {
            e
        } else {
            redacted = e.clone();
            redacted.redact_personal_data();
            &redacted
        };
        if write_err.is_none() {
            if let Err(err) = serde_json::to_writer(&mut out, e)
                .map_err(anyhow::Error::from)
                .and_then(|_| out.write_all(b"\n").map_err(anyhow::Error::from))
            {
                write_err = Some(err);
            }
        }
    };
    match stream {
        Some(s) => store
            .read_stream(s)?
            .iter()
            .filter(|e| e.position > after)
            .for_each(&mut write),
        None => {
            store.scan(after, &mut |e| write(&e))?;
        }
    }
    if let Some(e) = write_err {
        return Err(e);
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// A built-in spec by id, or a spec file.
pub fn load_spec(name_or_file: &str) -> anyhow::Result<indicators::Spec> {
    if let Some(s) = indicators::builtin(name_or_file) {
        return Ok(s);
    }
    let path = Path::new(name_or_file);
    if !path.exists() {
        let names: Vec<&str> = indicators::BUILTIN.iter().map(|(n, _)| *n).collect();
        bad_input!(
            "--spec `{name_or_file}` is neither a built-in spec ({}) nor a file",
            names.join(", ")
        );
    }
    let text = fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    match indicators::Spec::parse(&text, Some(&path.display().to_string())) {
        Ok(s) => Ok(s),
        Err(e) => bad_input!("{e}"),
    }
}

/// Folds the whole log as of `as_of`, with a progress bar on a terminal.
pub fn fold_with_progress(store: &dyn Log, as_of: DateTime<FixedOffset>) -> anyhow::Result<Folded> {
    let pb = progress_bar(Some(store.head()?.position), "replaying");
    let folded = read_model::fold_log(store, as_of, &mut |n| pb.set_position(n))?;
    pb.finish_and_clear();
    Ok(folded)
}

/// The fiscal year and the log folded as of `as_of` (default: the first instant after the
/// fiscal year).
pub fn fold_year(
    store: &dyn Log,
    fiscal_year: &str,
    as_of: Option<&str>,
    cal: &Calendar,
) -> anyhow::Result<(calendar::FiscalYear, Folded)> {
    let fy = parse_fiscal_year(fiscal_year)?;
    let as_of = match as_of {
        Some(t) => instant_arg(t, cal)?,
        None => fy.end_instant(),
    };
    if let Err(e) = read_model::check_covered(as_of, cal) {
        bad_input!("--fiscal-year {fiscal_year}: {e}");
    }
    Ok((fy, fold_with_progress(store, as_of)?))
}

pub fn replay_store(
    store: &dyn Log,
    fiscal_year: &str,
    as_of: Option<&str>,
    cal: &Calendar,
    rules: &DeadlineRules,
    specs: &[indicators::Spec],
) -> anyhow::Result<Replayed> {
    let (fy, folded) = fold_year(store, fiscal_year, as_of, cal)?;
    Ok(read_model::replay(&folded, fy, cal, rules, specs))
}

/// Complaints judged and written per chunk by [`replay_streaming`].
pub const REPLAY_CHUNK: usize = 16_384;

/// The replay outputs, judging and writing complaints a chunk at a time while the specs tally
/// them, so memory stays that of the fold. Writes the same bytes as [`write_replay`].
#[allow(clippy::too_many_arguments)]
pub fn replay_streaming(
    store: &dyn Log,
    fiscal_year: &str,
    as_of: Option<&str>,
    cal: &Calendar,
    rules: &DeadlineRules,
    specs: &[indicators::Spec],
    formats: &[Format],
    out: &Path,
    chunk_size: usize,
) -> anyhow::Result<read_model::ChunkedReplay> {
    let (fy, folded) = fold_year(store, fiscal_year, as_of, cal)?;
    fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let result = std::cell::RefCell::new(None);
    write_file(out, "complaints.json", &|w| {
        w.write_all(b"[")?;
        let mut first = true;
        let r = read_model::replay_in_chunks(
            &folded,
            fy,
            cal,
            rules,
            specs,
            chunk_size,
            &mut |views| {
                for v in views {
                    w.write_all(if first { b"\n" } else { b",\n" })?;
                    first = false;
                    serde_json::to_writer(&mut *w, v)?;
                }
                Ok::<(), anyhow::Error>(())
            },
        )?;
        w.write_all(if first { b"]\n" } else { b"\n]\n" })?;
        *result.borrow_mut() = Some(r);
        Ok(())
    })?;
    let r = result.into_inner().expect("written");
    write_file(out, "overdue.json", &|w| pretty_json(w, &r.overdue))?;
    write_file(out, "meta.json", &|w| pretty_json(w, &r.meta))?;
    write_indicators(out, &r.indicators, formats)?;
    Ok(r)
}

type Writer<'a> = &'a dyn Fn(&mut BufWriter<fs::File>) -> anyhow::Result<()>;

/// Writes a file whole or not at all: into a temporary name, synced, then renamed.
fn write_file(out: &Path, name: &str, f: Writer<'_>) -> anyhow::Result<()> {
    let path = out.join(name);
    let tmp = out.join(format!(".{name}.tmp"));
    let file = fs::File::create(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
    let mut w = BufWriter::new(file);
    f(&mut w)?;
    w.into_inner().map_err(|e| e.into_error())?.sync_all()?;
    fs::rename(&tmp, &path).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

fn pretty_json<T: serde::Serialize>(w: &mut BufWriter<fs::File>, v: &T) -> anyhow::Result<()> {
    serde_json::to_writer_pretty(&mut *w, v)?;
    w.write_all(b"\n")?;
    Ok(())
}

pub fn write_replay(out: &Path, r: &Replayed, formats: &[Format]) -> anyhow::Result<()> {
    fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    write_file(out, "complaints.json", &|w| {
        Ok(projections::write_json_lines(w, &r.figures.complaints)?)
    })?;
    write_file(out, "overdue.json", &|w| pretty_json(w, &r.overdue))?;
    write_file(out, "meta.json", &|w| pretty_json(w, &r.meta))?;
    write_indicators(out, &r.figures.indicators, formats)
}

/// Each indicator report as JSON, and as Markdown and CSV when asked.
fn write_indicators(
    out: &Path,
    reps: &[indicators::IndicatorReport],
    formats: &[Format],
) -> anyhow::Result<()> {
    let n = reps.len();
    for rep in reps {
        let stem = read_model::diff::indicator_stem(&rep.spec, n);
        write_file(out, &format!("{stem}.json"), &|w| pretty_json(w, rep))?;
        if formats.contains(&Format::Md) {
            write_file(out, &format!("{stem}.md"), &|w| {
                Ok(w.write_all(reports::evaluation::markdown(rep).as_bytes())?)
            })?;
        }
        if formats.contains(&Format::Csv) {
            write_file(out, &format!("{stem}.csv"), &|w| {
                Ok(w.write_all(reports::evaluation::csv(rep).as_bytes())?)
            })?;
        }
    }
    Ok(())
}

pub fn replay(a: &crate::args::ReplayArgs) -> anyhow::Result<ExitCode> {
    let (db, fiscal_year, as_of, out) = (&a.db, &a.fiscal_year, a.as_of.as_deref(), &a.out);
    let rules = load_rules(&a.calendar)?;
    let cal = load_calendar(&a.calendar)?;
    let specs = a
        .specs
        .iter()
        .map(|s| load_spec(s))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let store = open_existing(db)?;
    // Nothing needs every complaint at once: judge, write and score them a chunk at a time,
    // so memory stays that of the fold.
    let r = replay_streaming(
        &*store,
        fiscal_year,
        as_of,
        &cal,
        &rules,
        &specs,
        &a.formats,
        out,
        REPLAY_CHUNK,
    )?;
    print_replayed(&r.meta, out);
    for rep in &r.indicators {
        println!("{}", crate::render::one_line(rep));
    }
    Ok(ExitCode::SUCCESS)
}

fn print_replayed(meta: &ReplayMeta, out: &Path) {
    println!(
        "replayed {} events: {} complaints of FY {} (B.E. {}) as of {}; {} overdue obligations; written to {}",
        meta.events_replayed,
        meta.complaints,
        meta.fiscal_year,
        meta.fiscal_year_be,
        meta.as_of,
        meta.overdue_obligations,
        out.display()
    );
}

/// The spot-check sample of a month.
pub fn sample(a: &crate::args::SampleArgs) -> anyhow::Result<ExitCode> {
    let (month, seed, share) = (&a.month, &a.seed, a.share);
    if !event_model::wire::is_month(month) {
        bad_input!("--month `{month}` is not a month YYYY-MM");
    }
    if !(1..=100).contains(&share) {
        bad_input!("--share {share} is not a percentage 1-100");
    }
    let rules = load_rules(&a.calendar)?;
    let cal = load_calendar(&a.calendar)?;
    let store = open_existing(&a.db)?;
    // Every close in the log counts, whenever the sample is drawn; deadlines are judged as of
    // the end of the month (judged as of the end of time, an open complaint would list every
    // R3 checkpoint until then).
    let folded = read_model::fold_log(&*store, read_model::end_of_time(), &mut |_| {})?;
    let month_end = month_end(month)?;
    let views = folded
        .fold
        .views_of_at(&folded.fold.ids_in(None), &cal, &rules, month_end);
    let s = indicators::sample::draw(&views, month, seed, share);
    print_json_or(a.json, &s, |out| {
        write_sample_table(out, &s, month, seed, share)
    })?;
    Ok(ExitCode::SUCCESS)
}

/// Prints `value` as pretty JSON, or as the text that `table` writes.
fn print_json_or<T: serde::Serialize>(
    json: bool,
    value: &T,
    table: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> anyhow::Result<()> {
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    if json {
        serde_json::to_writer_pretty(&mut out, value)?;
        writeln!(out)?;
    } else {
        table(&mut out)?;
    }
    out.flush()?;
    Ok(())
}

/// The last instant of a month `YYYY-MM` in Bangkok.
fn month_end(month: &str) -> anyhow::Result<DateTime<FixedOffset>> {
    let first = chrono::NaiveDate::parse_from_str(&format!("{month}-01"), "%Y-%m-%d")?;
    let next = first
        .checked_add_months(chrono::Months::new(1))
        .ok_or_else(|| anyhow::anyhow!("no month after {month}"))?;
    let last = next.pred_opt().expect("a day before the first of a month");
    Ok(read_model::parse_instant(&last.to_string())?)
}

/// A column of a text table: its heading, its width (0: as long as its text), right-aligned
/// or not, and the space before it.
struct Column(&'static str, usize, bool, &'static str);

/// A text table: the heading line, then a line per row.
fn write_table(
    out: &mut dyn Write,
    columns: &[Column],
    rows: impl IntoIterator<Item = Vec<String>>,
) -> std::io::Result<()> {
    let line = |cells: Vec<String>| -> String {
        columns
            .iter()
            .zip(cells)
            .map(|(Column(_, w, right, gap), t)| match right {
                true => format!("{gap}{t:>w$}"),
                false => format!("{gap}{t:<w$}"),
            })
            .collect()
    };
    writeln!(
        out,
        "{}",
        line(columns.iter().map(|c| c.0.to_string()).collect())
    )?;
    for row in rows {
        writeln!(out, "{}", line(row))?;
    }
    Ok(())
}

/// The sample as a text table: a unit's counts on its first row only.
fn write_sample_table(
    out: &mut dyn Write,
    s: &indicators::sample::Sample,
    month: &str,
    seed: &str,
    share: u32,
) -> std::io::Result<()> {
    writeln!(
        out,
        "spot-check sample for {month} (seed `{seed}`, {share}% of each unit's closes, rounded up)"
    )?;
    let columns = [
        Column("UNIT", 32, false, ""),
        Column("CLOSED", 6, true, " "),
        Column("DRAWN", 6, true, " "),
        Column("COMPLAINT", 16, false, "  "),
        Column("CLOSED AT", 26, false, " "),
        Column("OUTCOME", 0, false, " "),
    ];
    let rows = s.units.iter().flat_map(|u| {
        u.sample.iter().enumerate().map(move |(i, c)| {
            let first = |v: String| if i == 0 { v } else { String::new() };
            vec![
                first(u.unit.clone()),
                first(u.closed.to_string()),
                first(u.sample.len().to_string()),
                c.complaint_id.clone(),
                event_model::format_instant(&c.closed_at.0),
                c.outcome.map_or("-", |o| o.as_str()).to_string(),
            ]
        })
    });
    write_table(out, &columns, rows)
}

pub fn overdue(
    db: &Location,
    as_of: &str,
    unit: Option<&str>,
    json: bool,
    cal: &CalendarArgs,
) -> anyhow::Result<ExitCode> {
    let rules = load_rules(cal)?;
    let cal = load_calendar(cal)?;
    let as_of = instant_arg(as_of, &cal)?;
    let store = open_existing(db)?;
    let folded = read_model::fold_log(&*store, as_of, &mut |_| {})?;
    let views = folded.fold.views(&cal, &rules);
    let report = read_model::overdue_of(&views, as_of, &rules, unit);
    print_json_or(json, &report, |out| write_overdue_table(out, &report))?;
    Ok(ExitCode::SUCCESS)
}

/// The overdue list as a text table.
fn write_overdue_table(
    out: &mut dyn Write,
    report: &projections::OverdueReport,
) -> std::io::Result<()> {
    writeln!(
        out,
        "overdue obligations as of {}: {}",
        report.as_of, report.total
    )?;
    let columns = [
        Column("UNIT", 32, false, ""),
        Column("COMPLAINT", 16, false, " "),
        Column("KIND", 24, false, " "),
        Column("DUE", 10, false, " "),
        Column("DAYS", 5, true, " "),
        Column("CHASED", 10, false, " "),
    ];
    let rows = report.units.iter().flat_map(|u| {
        u.items.iter().map(|i| {
            vec![
                u.unit.clone(),
                i.complaint_id.clone(),
                i.kind.as_str().to_string(),
                i.due.to_string(),
                i.days_overdue.to_string(),
                match (&i.chased_at, i.chase_due) {
                    (Some(t), _) => calendar::local_date(&t.0).to_string(),
                    (None, Some(_)) => "-".into(),
                    (None, None) => String::new(),
                },
            ]
        })
    });
    write_table(out, &columns, rows)
}

/// An inspecting office's selection list as of an instant.
pub fn inspect_list(
    db: &Location,
    as_of: &str,
    office: &str,
    json: bool,
    cal: &CalendarArgs,
) -> anyhow::Result<ExitCode> {
    let rules = load_rules(cal)?;
    let cal = load_calendar(cal)?;
    let as_of = instant_arg(as_of, &cal)?;
    let office = match read_model::inspecting_office(office) {
        Ok(o) => o,
        Err(e) => bad_input!("--office: {e}"),
    };
    let store = open_existing(db)?;
    let folded = read_model::fold_log(&*store, as_of, &mut |_| {})?;
    let views = folded.fold.views(&cal, &rules);
    let list = read_model::inspection_list_of(&views, &office, as_of, &rules);
    print_json_or(json, &list, |out| {
        writeln!(
            out,
            "{} ({}): {} complaints to inspect as of {}, oldest first",
            office.en, list.office, list.total, list.as_of
        )?;
        let columns = [
            Column("COMPLAINT", 16, false, ""),
            Column("RECEIVED", 10, false, " "),
            Column("STATUS", 12, false, " "),
            Column("UNIT", 28, false, " "),
            Column("REASONS", 40, false, " "),
            Column("INSPECTED", 9, true, " "),
        ];
        let rows = list.complaints.iter().map(|c| {
            vec![
                c.complaint_id.clone(),
                c.received_at
                    .map(|t| calendar::local_date(&t.0).to_string())
                    .unwrap_or_default(),
                c.status.as_str().to_string(),
                c.unit.clone().unwrap_or_default(),
                c.reasons
                    .iter()
                    .map(|r| r.as_str())
                    .collect::<Vec<_>>()
                    .join(","),
                c.inspections.len().to_string(),
            ]
        });
        write_table(out, &columns, rows)
    })?;
    Ok(ExitCode::SUCCESS)
}

/// An online copy of the log, verified before it is put in place.
pub fn backup(db: &Location, out: &Path) -> anyhow::Result<ExitCode> {
    if out.exists() {
        bad_input!(
            "{}: already exists (a backup never overwrites a file)",
            out.display()
        );
    }
    if !db.exists() {
        bad_input!("{db}: no such database");
    }
    let t = std::time::Instant::now();
    let r = event_store_open::backup(db, out)
        .with_context(|| format!("backing up {} to {}", db, out.display()))?;
    println!(
        "backed up {} events to {} in {:.2?}; hash chain verified, head position {} hash {}",
        r.events,
        out.display(),
        t.elapsed(),
        r.head.position,
        r.head.hash
    );
    Ok(ExitCode::SUCCESS)
}

/// Copies a log into another (any backends), then verifies both.
pub fn copy(from: &Location, to: &Location) -> anyhow::Result<ExitCode> {
    if from == to {
        bad_input!("--from and --to are the same log");
    }
    let source = open_existing(from)?;
    let mut target = open(to, Durability::Full)?;
    let t = std::time::Instant::now();
    let pb = progress_bar(Some(0), "copying");
    let outcome = event_store::copy::copy(&*source, &mut *target, &mut |done, all| {
        pb.set_length(all);
        pb.set_position(done);
    });
    pb.finish_and_clear();
    let r = match outcome {
        Ok(r) => r,
        Err(
            e @ (event_store::copy::CopyError::TargetAhead { .. }
            | event_store::copy::CopyError::Diverged { .. }),
        ) => bad_input!("{to}: {e}"),
        Err(e) => return Err(anyhow::Error::new(e).context(format!("copying {from} to {to}"))),
    };
    println!(
        "copied {} events from {from} to {to} in {:.2?}{}; both verified, head position {} hash {}",
        r.copied,
        t.elapsed(),
        if r.resumed_from > 0 {
            format!(" (resumed after position {})", r.resumed_from)
        } else {
            String::new()
        },
        r.target.head.position,
        r.target.head.hash
    );
    Ok(ExitCode::SUCCESS)
}

pub fn verify(db: &Location) -> anyhow::Result<ExitCode> {
    let store = open_existing(db)?;
    let r = store.verify()?;
    match r.first_bad {
        None => {
            println!(
                "ok: {} events, hash chain intact; head position {} hash {}",
                r.events, r.head.position, r.head.hash
            );
            Ok(ExitCode::SUCCESS)
        }
        Some((position, why)) => {
            println!(
                "TAMPERED: first bad position {position}: {why} ({} events before it verified)",
                r.events
            );
            Ok(ExitCode::from(1))
        }
    }
}

pub fn generator(fiscal_year: &str, complaints: u64, seed: u64) -> anyhow::Result<Generator> {
    let fy = parse_fiscal_year(fiscal_year)?;
    Ok(Generator::new(
        GenConfig {
            fiscal_year: fy,
            complaints,
            seed,
        },
        Calendar::builtin(),
    ))
}

pub fn generate(
    fiscal_year: &str,
    complaints: u64,
    seed: u64,
    out: Option<&Path>,
) -> anyhow::Result<ExitCode> {
    let g = generator(fiscal_year, complaints, seed)?;
    let mut w: Box<dyn Write> = match out {
        Some(p) => {
            Box::new(fs::File::create(p).with_context(|| format!("creating {}", p.display()))?)
        }
        None => Box::new(std::io::stdout().lock()),
    };
    let mut w = BufWriter::with_capacity(1 << 20, &mut w);
    let pb = progress_bar(None, "generating events");
    for (i, e) in g.enumerate() {
        w.write_all(to_wire_json(&e).as_bytes())?;
        w.write_all(b"\n")?;
        if i.is_multiple_of(65536) {
            pb.set_position(i as u64);
        }
    }
    w.flush()?;
    pb.finish_and_clear();
    Ok(ExitCode::SUCCESS)
}

/// Fills an empty log with a generated demo fiscal year; returns whether it did.
pub fn fill_demo(
    store: &mut dyn Log,
    db: &Location,
    fiscal_year: &str,
    complaints: u64,
    seed: u64,
) -> anyhow::Result<bool> {
    if store.head()?.position != 0 {
        return Ok(false);
    }
    let g = generator(fiscal_year, complaints, seed)?;
    eprintln!(
        "generating and appending a demo fiscal year of {complaints} complaints into {}",
        db
    );
    let pb = progress_bar(None, "appending");
    let t = std::time::Instant::now();
    let mut it = g
        .inspect(|_| pb.inc(1))
        .map(Ok::<NewEvent, event_model::WireError>);
    let report = store
        .append_iter(&mut it, now())
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    pb.finish_and_clear();
    eprintln!("appended {} events in {:.2?}", report.appended, t.elapsed());
    Ok(true)
}

/// A demo fiscal year replayed into a summary.
pub fn demo(
    db: &Location,
    fiscal_year: &str,
    complaints: u64,
    seed: u64,
) -> anyhow::Result<ExitCode> {
    let mut store = open(db, Durability::Full)?;
    if !fill_demo(&mut *store, db, fiscal_year, complaints, seed)? {
        eprintln!("{} already holds events: replaying them", db);
    }
    let cal = Calendar::builtin();
    let t = std::time::Instant::now();
    let specs = read_model::builtin_specs();
    let r = replay_store(
        &*store,
        fiscal_year,
        None,
        &cal,
        &DeadlineRules::default(),
        &specs,
    )?;
    let elapsed = t.elapsed();
    print_summary(&r, elapsed);
    Ok(ExitCode::SUCCESS)
}

pub fn print_summary(r: &Replayed, elapsed: std::time::Duration) {
    use lifecycle::Status;
    let m = &r.meta;
    println!(
        "Rongtook - FY {} (B.E. {}) as of {}",
        m.fiscal_year, m.fiscal_year_be, m.as_of
    );
    println!(
        "log: {} events, head position {} hash {}",
        m.events_replayed,
        m.log_head_position,
        &m.log_head_hash[..16]
    );
    println!(
        "replayed in {:.2?} ({:.0} events/s)",
        elapsed,
        m.events_replayed as f64 / elapsed.as_secs_f64()
    );
    let c = &r.figures.complaints;
    let closed = c.iter().filter(|x| x.status == Status::Closed).count();
    println!(
        "complaints: {} received/forwarded in the year, {} closed, {} open, {} stale",
        c.len(),
        closed,
        c.len() - closed,
        c.iter().filter(|x| x.stale).count()
    );
    let on_time = projections::OnTime::of(c, r.figures.fiscal_year);
    let pct = |s: projections::Share| {
        let share = match s.pct() {
            Some(p) => format!("{p:.2}% ({}/{})", s.met, s.judged()),
            None => "n/a".into(),
        };
        if s.undetermined > 0 {
            format!("{share}, {} undetermined", s.undetermined)
        } else {
            share
        }
    };
    println!(
        "on time (rounds forwarded in the year): R1 acknowledgement {}, R2 first progress {}, R3 checkpoints met {}",
        pct(on_time.r1),
        pct(on_time.r2),
        pct(on_time.r3),
    );
    let centre = projections::CentreShares::of(c, r.figures.fiscal_year);
    println!(
        "the centre on time: R0 forward {}, overdue obligations chased {}, complainants told {}",
        pct(centre.forward),
        pct(centre.chased),
        pct(centre.informed),
    );
    println!("overdue obligations: {}", r.overdue.total);
    let mut units: Vec<_> = r.overdue.units.iter().collect();
    units.sort_by(|a, b| b.count.cmp(&a.count).then(a.unit.cmp(&b.unit)));
    for u in units.iter().take(5) {
        println!("  {:<32} {:>6}", u.unit, u.count);
    }
    for rep in &r.figures.indicators {
        println!("{}", crate::render::one_line(rep));
    }
}

/// Issues a token in the log's store; returns its id and the token.
pub fn create_token(
    store: &dyn Log,
    role: &str,
    unit: Option<&str>,
    label: &str,
) -> anyhow::Result<(i64, String)> {
    match http_api::issue_token(store, role, unit, label, now()) {
        Ok(t) => Ok(t),
        Err(http_api::IssueError::BadRole(why)) => bad_input!("{why}"),
        Err(e) => Err(e.into()),
    }
}

pub fn token(action: crate::TokenAction) -> anyhow::Result<ExitCode> {
    use crate::TokenAction;
    match action {
        TokenAction::Create {
            db,
            role,
            unit,
            label,
        } => {
            let store = open(&db, Durability::Full)?;
            let (id, token) = create_token(&*store, &role, unit.as_deref(), &label)?;
            println!(
                "created token {id} ({role}{}); it is shown only this once: {token}",
                unit.map(|u| format!(" of {u}")).unwrap_or_default()
            );
        }
        TokenAction::List { db } => {
            let store = open_existing(&db)?;
            println!(
                "{:>4}  {:<10} {:<32} {:<26} {:<26} LABEL",
                "ID", "ROLE", "UNIT", "CREATED", "REVOKED"
            );
            for t in store.list_tokens()? {
                println!(
                    "{:>4}  {:<10} {:<32} {:<26} {:<26} {}",
                    t.id,
                    t.role,
                    t.unit.as_deref().unwrap_or("-"),
                    t.created_at,
                    t.revoked_at.as_deref().unwrap_or("-"),
                    t.label
                );
            }
        }
        TokenAction::Revoke { db, id } => {
            let store = open_existing(&db)?;
            if !store.revoke_token(id, &event_model::format_instant(&now()))? {
                bad_input!("no unrevoked token {id} in {}", db);
            }
            println!("revoked token {id}");
        }
    }
    Ok(ExitCode::SUCCESS)
}
