//! What the measurements share: the arguments of `rongtook bench`, rates and their printing,
//! the plain loops' rows, and the judged replay stage timed next to a plain SELECT.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use calendar::Calendar;
use event_model::{format_instant, NewEvent};
use projections::{overdue, ComplaintFold, DeadlineRules};

use crate::Result;

#[derive(clap::Args)]
pub struct BenchArgs {
    /// Measure the PostgreSQL backend on this server instead (a postgres:// URI of a database
    /// the role can connect to; the role needs CREATEDB: the run creates its scratch
    /// databases beside it and drops them afterwards).
    #[arg(long, conflicts_with_all = ["streaming", "dashboard"])]
    pub db: Option<event_store_open::Location>,
    /// Complaints in the generated fiscal year.
    #[arg(long, default_value_t = 300_000)]
    pub complaints: u64,
    #[arg(long, default_value = "2567")]
    pub fiscal_year: String,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Scratch directory for the databases (default: a new folder in the system temp dir);
    /// it is removed afterwards unless --keep.
    #[arg(long)]
    pub dir: Option<PathBuf>,
    #[arg(long)]
    pub keep: bool,
    /// National scale: never hold the year in memory. The generator streams straight into one
    /// append (its time includes generating), then the replay command runs on the log; no
    /// plain-SQLite yardstick.
    #[arg(long)]
    pub streaming: bool,
    /// The dashboard only: append the year, serve it on loopback and time its pages (the
    /// first, cold request, then warm ones: p50, p95, max).
    #[arg(long, conflicts_with = "streaming")]
    pub dashboard: bool,
    /// Server start only: how long `serve` takes to be ready on the generated year, folding the
    /// whole log and then from a projection snapshot (with the snapshot's save and size, and
    /// a plain read of its file as the yardstick). A log left in --dir by an earlier run
    /// (`start.db`, with --keep) is used again.
    #[arg(long, conflicts_with_all = ["streaming", "dashboard", "db"])]
    pub start: bool,
    /// Warm requests per dashboard page.
    #[arg(long, default_value_t = 50)]
    pub requests: usize,
}

pub(crate) fn rate(n: u64, d: Duration) -> f64 {
    n as f64 / d.as_secs_f64()
}

pub(crate) fn fmt_rate(r: f64) -> String {
    if r >= 1e6 {
        format!("{:.2}M/s", r / 1e6)
    } else {
        format!("{:.0}k/s", r / 1e3)
    }
}

pub(crate) struct Rows {
    pub ids: Vec<String>,
    pub versions: Vec<i64>,
    pub occurred: Vec<String>,
    pub data: Vec<String>,
}

pub(crate) fn plain_rows(events: &[NewEvent]) -> Rows {
    let mut versions = HashMap::<&str, i64>::new();
    let mut r = Rows {
        ids: vec![],
        versions: vec![],
        occurred: vec![],
        data: vec![],
    };
    for e in events {
        let v = versions.entry(e.stream.as_str()).or_insert(0);
        *v += 1;
        r.ids.push(e.id.to_string());
        r.versions.push(*v);
        r.occurred.push(format_instant(&e.occurred_at));
        r.data.push(e.data.to_canonical_json());
    }
    r
}

/// The replay stage by stage (scan and fold, then deadlines judged and the overdue list),
/// printed next to the plain SELECT's `(rows, time)` of the same run; returns the fold, its
/// views and the whole time.
pub(crate) fn replay_judged(
    store: &dyn event_store::EventStore,
    fy: calendar::FiscalYear,
    (pn, ps): (u64, Duration),
) -> Result<(ComplaintFold, Vec<projections::ComplaintView>, Duration)> {
    let (cal, rules) = (Calendar::builtin(), DeadlineRules::default());
    let t = Instant::now();
    let mut fold = ComplaintFold::new(fy.end_instant());
    let scanned = store.scan_for_folds(0, &mut |e| fold.apply(e))?;
    let fold_t = t.elapsed();
    let views = fold.views(&cal, &rules);
    let od = overdue(
        views.iter().filter(|v| v.in_fiscal_year(fy)),
        fy.end_instant(),
        &rules,
    );
    let total = t.elapsed();
    std::hint::black_box(&od);
    println!(
        "replay            plain SELECT+parse {} ({ps:.2?}) | rongtook scan+fold {} ({fold_t:.2?}), with deadlines judged {} ({total:.2?}) | ratio {:.2}x",
        fmt_rate(rate(pn, ps)),
        fmt_rate(rate(scanned, fold_t)),
        fmt_rate(rate(scanned, total)),
        ps.as_secs_f64() / total.as_secs_f64()
    );
    Ok((fold, views, total))
}

/// The `p` quantile of `sorted` latencies (zero when there are none).
pub(crate) fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// A size the kernel reports for process `pid` (`self`, or a number) in its status, in bytes
/// (`VmHWM:`, `VmRSS:`; Linux, `None` elsewhere).
pub(crate) fn status_bytes(pid: &str, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}
