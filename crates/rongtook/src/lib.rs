//! `rongtook`: the command-line face of the complaint lifecycle engine. The binary is a thin
//! `main` over [`main`] here, so that the integration tests can build the same program.

pub mod args;
pub mod commands;
pub mod diff;
pub mod import;
pub mod input;
pub mod render;
pub mod report;
pub mod serve;
pub mod traffy_sync;

use event_store_open::Location;
use std::path::PathBuf;
use std::process::ExitCode;

use args::{
    AppendArgs, BackupArgs, CopyArgs, DemoArgs, DiffArgs, EventsArgs, GenerateArgs,
    InspectListArgs, OverdueArgs, ReplayArgs, SampleArgs, ServeArgs, StateArgs, VerifyArgs,
};
use clap::{Parser, Subcommand};

/// An error caused by what the user gave us (exit code 2).
#[derive(Debug)]
pub struct BadInput(pub String);

impl std::fmt::Display for BadInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BadInput {}

/// Returns a bad-input error from the current function.
#[macro_export]
macro_rules! bad_input {
    ($($arg:tt)*) => {
        return Err(anyhow::Error::new($crate::BadInput(format!($($arg)*))))
    };
}

#[derive(Parser)]
#[command(
    name = "rongtook",
    version,
    about = "Event-sourced complaint lifecycle engine for Bangkok's citizen complaints"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// The rule data a replay runs with: the holiday calendar and the deadline rules.
#[derive(clap::Args, Clone)]
pub struct CalendarArgs {
    /// A holiday file replacing the built-in Thai government-office calendar
    /// (format: `YYYY-MM-DD<TAB>name` lines and a `# covers: FIRST-LAST` line).
    #[arg(long, value_name = "FILE")]
    pub calendar: Option<PathBuf>,
    /// Deadline rules as JSON (fields of `DeadlineRules`; absent fields keep the rules.md
    /// defaults), e.g. `{"checkpoint_on_non_business_day": "next_business_day"}`.
    #[arg(long, value_name = "FILE")]
    pub rules: Option<PathBuf>,
}

#[derive(Subcommand)]
pub enum TokenAction {
    /// Create a token; it is printed once, as the last word of the output.
    Create {
        #[arg(long)]
        db: Location,
        /// intake, unit, evaluator, connector, inspector or admin.
        #[arg(long)]
        role: String,
        /// The unit of a `unit` token (e.g. district:bang-rak).
        #[arg(long)]
        unit: Option<String>,
        /// A note on who holds it.
        #[arg(long, default_value = "")]
        label: String,
    },
    /// List tokens (never the tokens themselves).
    List {
        #[arg(long)]
        db: Location,
    },
    /// Revoke a token by id.
    Revoke {
        #[arg(long)]
        db: Location,
        id: i64,
    },
}

#[derive(Subcommand)]
enum Command {
    /// Append events (NDJSON, one event per line) atomically: all or nothing.
    Append(AppendArgs),
    /// Print one complaint's current projection as JSON.
    State(StateArgs),
    /// Print the stored events of the log (or of one stream) as NDJSON.
    Events(EventsArgs),
    /// Replay a fiscal year into canonical projection files, and score it with indicator specs.
    Replay(ReplayArgs),
    /// Draw the deterministic spot-check sample of a month: a share of each unit's closes.
    Sample(SampleArgs),
    /// Compare two replays: exit 0 when identical, 1 when different, 2 on error. A and B are
    /// replay output folders, or event logs (databases) replayed on the fly with
    /// --fiscal-year, --spec and the rule data given (B may vary them with the -b options: the
    /// same log under two rule versions is `diff LOG LOG --rules-b FILE`).
    Diff(DiffArgs),
    /// List missed or late obligations of open complaints as of an instant.
    Overdue(OverdueArgs),
    /// An inspecting office's selection list as of an instant: the complaints to inspect in
    /// the field, each with every reason that holds, oldest first.
    InspectList(InspectListArgs),
    /// Walk the hash chain and name the first position that does not match.
    Verify(VerifyArgs),
    /// Copy the log online and consistently (while `serve` appends), then verify the copy's
    /// hash chain.
    Backup(BackupArgs),
    /// Copy a log into another, on the same or another backend (SQLite, PostgreSQL): every
    /// event with its position, batch and hash; both are verified after. The target must be
    /// empty or a prefix of the source, and a copy into a prefix resumes.
    Copy(CopyArgs),
    /// Write a realistic synthetic fiscal year as NDJSON (deterministic for a seed).
    Generate(GenerateArgs),
    /// Import exports of other systems.
    Import {
        #[command(subcommand)]
        source: import::Source,
    },
    /// Talk to the Traffy Fondue platform's exchange API.
    Traffy {
        #[command(subcommand)]
        action: traffy_sync::Action,
    },
    /// Manage API tokens (stored only as hashes).
    Token {
        #[command(subcommand)]
        action: TokenAction,
    },
    /// Load-test the HTTP API on loopback: appends/s and latency at N concurrent clients.
    Load(bench::LoadArgs),
    /// Write a report: the fiscal-year evaluation of an indicator, or one unit's report
    /// (scores step by step, backlog, the complaints of a month or quarter), as printable
    /// HTML, Markdown or CSV.
    Report(report::ReportArgs),
    /// Run the HTTP API on the log (appends, complaints, the event feed).
    Serve(ServeArgs),
    /// Fill a log with a generated demo fiscal year (if empty), replay it and print a summary.
    Demo(DemoArgs),
    /// Measure append and replay throughput and peak memory on a generated fiscal year.
    Bench(bench::BenchArgs),
}

fn run() -> anyhow::Result<ExitCode> {
    match Cli::parse().command {
        Command::Append(a) => commands::append(&a.db, &a.input, a.sync),
        Command::State(a) => {
            commands::state(&a.db, &a.complaint_id, a.as_of.as_deref(), &a.calendar)
        }
        Command::Events(a) => {
            commands::events(&a.db, a.stream.as_deref(), a.after, a.with_personal_data)
        }
        Command::Replay(a) => commands::replay(&a),
        Command::Sample(a) => commands::sample(&a),
        Command::Overdue(a) => {
            commands::overdue(&a.db, &a.as_of, a.unit.as_deref(), a.json, &a.calendar)
        }
        Command::InspectList(a) => {
            commands::inspect_list(&a.db, &a.as_of, &a.office, a.json, &a.calendar)
        }
        Command::Verify(a) => commands::verify(&a.db),
        Command::Backup(a) => commands::backup(&a.db, &a.out),
        Command::Copy(a) => commands::copy(&a.from, &a.to),
        Command::Diff(a) => diff::run(a),
        Command::Generate(a) => {
            commands::generate(&a.fiscal_year, a.complaints, a.seed, a.out.as_deref())
        }
        Command::Demo(a) => commands::demo(&a.db, &a.fiscal_year, a.complaints, a.seed),
        Command::Bench(a) => measured(bench::pipeline::run(&a)),
        Command::Load(a) => measured(bench::load::run(&a)),
        Command::Report(a) => report::run(&a),
        Command::Import { source } => import::run(source),
        Command::Traffy { action } => traffy_sync::run(action),
        Command::Token { action } => commands::token(action),
        Command::Serve(a) => serve::run(&a),
    }
}

/// A measurement's outcome as the command's: its bad input is ours (exit 2).
fn measured(r: bench::Result<ExitCode>) -> anyhow::Result<ExitCode> {
    r.map_err(|e| match e.bad_input {
        true => anyhow::Error::new(BadInput(e.message)),
        false => anyhow::anyhow!(e.message),
    })
}

/// Runs the command line and returns the process exit code: 0 success, 1 failure (or a
/// tampered log for `verify`), 2 bad input.
pub fn main() -> ExitCode {
    let result = run();
    if std::env::var_os("RONGTOOK_REPORT_PEAK_RSS").is_some() {
        if let Some(b) = bench::peak_rss_bytes() {
            eprintln!("peak_rss_bytes={b}");
        }
    }
    match result {
        Ok(code) => code,
        Err(e) => {
            let bad = e.downcast_ref::<BadInput>().is_some();
            eprintln!("error: {e:#}");
            ExitCode::from(if bad { 2 } else { 1 })
        }
    }
}

/// The replay path allocates and frees many small payload strings, across two threads;
/// mimalloc handles that pattern far better than the system allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
