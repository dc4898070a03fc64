//! `rongtook`: the command-line face of the complaint lifecycle engine. The binary is a thin
//! `main` over [`main`] here, so that the integration tests can build the same program.

pub mod bench;
pub mod commands;
pub mod diff;
pub mod import;
pub mod input;
pub mod load;
pub mod render;
pub mod report;
pub mod serve;

use std::path::PathBuf;
use std::process::ExitCode;

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
        db: PathBuf,
        /// intake, unit, evaluator or admin.
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
        db: PathBuf,
    },
    /// Revoke a token by id.
    Revoke {
        #[arg(long)]
        db: PathBuf,
        id: i64,
    },
}

#[derive(Subcommand)]
enum Command {
    /// Append events (NDJSON, one event per line) atomically: all or nothing.
    Append {
        #[arg(long)]
        db: PathBuf,
        /// The NDJSON file, or `-` for standard input.
        #[arg(default_value = "-")]
        input: String,
        /// `normal` trades durability of the last commits on power loss for speed.
        #[arg(long, value_enum, default_value_t = commands::Sync::Full)]
        sync: commands::Sync,
    },
    /// Print one complaint's current projection as JSON.
    State {
        #[arg(long)]
        db: PathBuf,
        complaint_id: String,
        /// Evaluation instant (RFC 3339 or YYYY-MM-DD); default: now.
        #[arg(long)]
        as_of: Option<String>,
        #[command(flatten)]
        calendar: CalendarArgs,
    },
    /// Print the stored events of the log (or of one stream) as NDJSON.
    Events {
        #[arg(long)]
        db: PathBuf,
        #[arg(long)]
        stream: Option<String>,
        /// Only events after this position.
        #[arg(long, default_value_t = 0)]
        after: u64,
        /// Show complainants' names and contacts (redacted by default: personal data).
        #[arg(long)]
        with_personal_data: bool,
    },
    /// Replay a fiscal year into canonical projection files, and score it with indicator specs.
    Replay {
        #[arg(long)]
        db: PathBuf,
        /// Fiscal year, B.E. (2567) or C.E. (2024).
        #[arg(long)]
        fiscal_year: String,
        /// Evaluation instant; default: the first instant after the fiscal year.
        #[arg(long)]
        as_of: Option<String>,
        #[arg(long)]
        out: PathBuf,
        /// An indicator spec: a built-in id (bma-complaint-3step, bma-timeliness,
        /// traffy-resolution-2567, governor-directives-2567) or a spec file. Repeatable; one
        /// spec writes `indicators.json`, several write `indicators-<id>.json`.
        #[arg(long = "spec", value_name = "NAME_OR_FILE")]
        specs: Vec<String>,
        /// Also render indicator results as Markdown and/or CSV (UTF-8 with BOM).
        #[arg(long = "format", value_enum)]
        formats: Vec<commands::Format>,
        #[command(flatten)]
        calendar: CalendarArgs,
    },
    /// Draw the deterministic spot-check sample of a month: a share of each unit's closes.
    Sample {
        #[arg(long)]
        db: PathBuf,
        /// The month of the closes, YYYY-MM.
        #[arg(long)]
        month: String,
        /// The published seed of the draw.
        #[arg(long, default_value = "rongtook")]
        seed: String,
        /// Percentage of each unit's closes drawn (rounded up).
        #[arg(long, default_value_t = indicators::sample::DEFAULT_SAMPLE_PCT)]
        share: u32,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        calendar: CalendarArgs,
    },
    /// Compare two replays: exit 0 when identical, 1 when different, 2 on error. A and B are
    /// replay output folders, or event logs (databases) replayed on the fly with
    /// --fiscal-year, --spec and the rule data given (B may vary them with the -b options: the
    /// same log under two rule versions is `diff LOG LOG --rules-b FILE`).
    Diff {
        /// The first replay output folder or event log.
        a: PathBuf,
        /// The second replay output folder or event log.
        b: PathBuf,
        #[arg(long)]
        json: bool,
        /// How many changed complaints the table lists (all are in --json).
        #[arg(long, default_value_t = 50)]
        max_complaints: usize,
        /// For logs: the fiscal year to replay.
        #[arg(long)]
        fiscal_year: Option<String>,
        /// For logs: the evaluation instant (default: the first instant after the year).
        #[arg(long)]
        as_of: Option<String>,
        /// For logs: indicator specs to score with (repeatable).
        #[arg(long = "spec", value_name = "NAME_OR_FILE")]
        specs: Vec<String>,
        /// For logs: the specs of B instead (default: the same as A).
        #[arg(long = "spec-b", value_name = "NAME_OR_FILE")]
        specs_b: Vec<String>,
        #[command(flatten)]
        calendar: CalendarArgs,
        /// For logs: B's holiday file instead of A's.
        #[arg(long, value_name = "FILE")]
        calendar_b: Option<PathBuf>,
        /// For logs: B's deadline rules instead of A's.
        #[arg(long, value_name = "FILE")]
        rules_b: Option<PathBuf>,
    },
    /// List missed or late obligations of open complaints as of an instant.
    Overdue {
        #[arg(long)]
        db: PathBuf,
        #[arg(long)]
        as_of: String,
        #[arg(long)]
        unit: Option<String>,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        calendar: CalendarArgs,
    },
    /// Walk the hash chain and name the first position that does not match.
    Verify {
        #[arg(long)]
        db: PathBuf,
    },
    /// Write a realistic synthetic fiscal year as NDJSON (deterministic for a seed).
    Generate {
        #[arg(long)]
        fiscal_year: String,
        #[arg(long)]
        complaints: u64,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Output file; default: standard output.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Import exports of other systems.
    Import {
        #[command(subcommand)]
        source: import::Source,
    },
    /// Manage API tokens (stored only as hashes).
    Token {
        #[command(subcommand)]
        action: TokenAction,
    },
    /// Load-test the HTTP API on loopback: appends/s and latency at N concurrent clients.
    Load(load::LoadArgs),
    /// Write a report: the fiscal-year evaluation of an indicator, or one unit's report
    /// (scores step by step, backlog, the complaints of a month or quarter), as printable
    /// HTML, Markdown or CSV.
    Report(report::ReportArgs),
    /// Run the HTTP API on the log (appends, complaints, the event feed).
    Serve {
        #[arg(long)]
        db: PathBuf,
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: String,
        /// With an empty log, first append a generated demo fiscal year (B.E. 2567, 20,000
        /// complaints).
        #[arg(long)]
        demo: bool,
        #[command(flatten)]
        calendar: CalendarArgs,
    },
    /// Fill a log with a generated demo fiscal year (if empty), replay it and print a summary.
    Demo {
        #[arg(long, default_value = "rongtook.db")]
        db: PathBuf,
        #[arg(long, default_value = "2567")]
        fiscal_year: String,
        #[arg(long, default_value_t = 20_000)]
        complaints: u64,
        #[arg(long, default_value_t = 2567)]
        seed: u64,
    },
    /// Measure append and replay throughput and peak memory on a generated fiscal year.
    Bench(bench::BenchArgs),
}

fn run() -> anyhow::Result<ExitCode> {
    let cli = Cli::parse();
    match cli.command {
        Command::Append { db, input, sync } => commands::append(&db, &input, sync),
        Command::State {
            db,
            complaint_id,
            as_of,
            calendar,
        } => commands::state(&db, &complaint_id, as_of.as_deref(), &calendar),
        Command::Events {
            db,
            stream,
            after,
            with_personal_data,
        } => commands::events(&db, stream.as_deref(), after, with_personal_data),
        Command::Replay {
            db,
            fiscal_year,
            as_of,
            out,
            specs,
            formats,
            calendar,
        } => commands::replay(
            &db,
            &fiscal_year,
            as_of.as_deref(),
            &out,
            &calendar,
            &specs,
            &formats,
        ),
        Command::Sample {
            db,
            month,
            seed,
            share,
            json,
            calendar,
        } => commands::sample(&db, &month, &seed, share, json, &calendar),
        Command::Overdue {
            db,
            as_of,
            unit,
            json,
            calendar,
        } => commands::overdue(&db, &as_of, unit.as_deref(), json, &calendar),
        Command::Verify { db } => commands::verify(&db),
        Command::Diff {
            a,
            b,
            json,
            max_complaints,
            fiscal_year,
            as_of,
            specs,
            specs_b,
            calendar,
            calendar_b,
            rules_b,
        } => {
            let side_b = CalendarArgs {
                calendar: calendar_b.or(calendar.calendar.clone()),
                rules: rules_b.or(calendar.rules.clone()),
            };
            let specs_b = if specs_b.is_empty() {
                specs.clone()
            } else {
                specs_b
            };
            let sides = [
                diff::Side {
                    path: a,
                    specs,
                    rule_data: calendar,
                },
                diff::Side {
                    path: b,
                    specs: specs_b,
                    rule_data: side_b,
                },
            ];
            // Any failure is exit 2, as with diff(1): 1 means "different".
            let d = diff::diff_sides(&sides, fiscal_year.as_deref(), as_of.as_deref())
                .map_err(|e| anyhow::Error::new(BadInput(format!("{e:#}"))))?;
            if json {
                println!("{}", serde_json::to_string_pretty(&d)?);
            } else {
                print!("{}", read_model::diff::render(&d, max_complaints));
            }
            Ok(ExitCode::from(if d.identical { 0 } else { 1 }))
        }
        Command::Generate {
            fiscal_year,
            complaints,
            seed,
            out,
        } => commands::generate(&fiscal_year, complaints, seed, out.as_deref()),
        Command::Demo {
            db,
            fiscal_year,
            complaints,
            seed,
        } => commands::demo(&db, &fiscal_year, complaints, seed),
        Command::Bench(args) => bench::run(&args),
        Command::Load(args) => load::run(&args),
        Command::Report(args) => report::run(&args),
        Command::Import { source } => import::run(source),
        Command::Token { action } => commands::token(action),
        Command::Serve {
            db,
            listen,
            demo,
            calendar,
        } => serve::run(&db, &listen, demo, &calendar),
    }
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
