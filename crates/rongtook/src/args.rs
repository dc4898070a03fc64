//! The arguments of each subcommand.

use event_store_open::Location;
use std::path::PathBuf;

use event_store::Durability;

use crate::CalendarArgs;

/// How the log syncs commits to disk.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum Sync {
    Full,
    Normal,
}

impl From<Sync> for Durability {
    fn from(s: Sync) -> Durability {
        match s {
            Sync::Full => Durability::Full,
            Sync::Normal => Durability::Normal,
        }
    }
}

/// Renderings of indicator results written beside the JSON.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Json,
    Md,
    Csv,
}

#[derive(clap::Args)]
pub struct AppendArgs {
    #[arg(long)]
    pub db: Location,
    /// The NDJSON file, or `-` for standard input.
    #[arg(default_value = "-")]
    pub input: String,
    /// `normal` trades durability of the last commits on power loss for speed.
    #[arg(long, value_enum, default_value_t = Sync::Full)]
    pub sync: Sync,
}

#[derive(clap::Args)]
pub struct StateArgs {
    #[arg(long)]
    pub db: Location,
    pub complaint_id: String,
    /// Evaluation instant (RFC 3339 or YYYY-MM-DD); default: now.
    #[arg(long)]
    pub as_of: Option<String>,
    #[command(flatten)]
    pub calendar: CalendarArgs,
}

#[derive(clap::Args)]
pub struct EventsArgs {
    #[arg(long)]
    pub db: Location,
    #[arg(long)]
    pub stream: Option<String>,
    /// Only events after this position.
    #[arg(long, default_value_t = 0)]
    pub after: u64,
    /// Show complainants' names and contacts (redacted by default: personal data).
    #[arg(long)]
    pub with_personal_data: bool,
}

#[derive(clap::Args)]
pub struct ReplayArgs {
    #[arg(long)]
    pub db: Location,
    /// Fiscal year, B.E. (2567) or C.E. (2024).
    #[arg(long)]
    pub fiscal_year: String,
    /// Evaluation instant; default: the first instant after the fiscal year.
    #[arg(long)]
    pub as_of: Option<String>,
    #[arg(long)]
    pub out: PathBuf,
    /// An indicator spec: a built-in id (bma-complaint-3step, bma-timeliness,
    /// traffy-resolution-2567, governor-directives-2567) or a spec file. Repeatable; one
    /// spec writes `indicators.json`, several write `indicators-<id>.json`.
    #[arg(long = "spec", value_name = "NAME_OR_FILE")]
    pub specs: Vec<String>,
    /// Also render indicator results as Markdown and/or CSV (UTF-8 with BOM).
    #[arg(long = "format", value_enum)]
    pub formats: Vec<Format>,
    #[command(flatten)]
    pub calendar: CalendarArgs,
}

#[derive(clap::Args)]
pub struct SampleArgs {
    #[arg(long)]
    pub db: Location,
    /// The month of the closes, YYYY-MM.
    #[arg(long)]
    pub month: String,
    /// The published seed of the draw.
    #[arg(long, default_value = "rongtook")]
    pub seed: String,
    /// Percentage of each unit's closes drawn (rounded up).
    #[arg(long, default_value_t = indicators::sample::DEFAULT_SAMPLE_PCT)]
    pub share: u32,
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub calendar: CalendarArgs,
}

#[derive(clap::Args)]
pub struct DiffArgs {
    /// The first replay output folder or event log.
    pub a: PathBuf,
    /// The second replay output folder or event log.
    pub b: PathBuf,
    #[arg(long)]
    pub json: bool,
    /// How many changed complaints the table lists (all are in --json).
    #[arg(long, default_value_t = 50)]
    pub max_complaints: usize,
    /// For logs: the fiscal year to replay.
    #[arg(long)]
    pub fiscal_year: Option<String>,
    /// For logs: the evaluation instant (default: the first instant after the year).
    #[arg(long)]
    pub as_of: Option<String>,
    /// For logs: indicator specs to score with (repeatable).
    #[arg(long = "spec", value_name = "NAME_OR_FILE")]
    pub specs: Vec<String>,
    /// For logs: the specs of B instead (default: the same as A).
    #[arg(long = "spec-b", value_name = "NAME_OR_FILE")]
    pub specs_b: Vec<String>,
    #[command(flatten)]
    pub calendar: CalendarArgs,
    /// For logs: B's holiday file instead of A's.
    #[arg(long, value_name = "FILE")]
    pub calendar_b: Option<PathBuf>,
    /// For logs: B's deadline rules instead of A's.
    #[arg(long, value_name = "FILE")]
    pub rules_b: Option<PathBuf>,
}

#[derive(clap::Args)]
pub struct OverdueArgs {
    #[arg(long)]
    pub db: Location,
    #[arg(long)]
    pub as_of: String,
    #[arg(long)]
    pub unit: Option<String>,
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub calendar: CalendarArgs,
}

#[derive(clap::Args)]
pub struct InspectListArgs {
    #[arg(long)]
    pub db: Location,
    /// RFC 3339 instant, or a date (the end of that day in Bangkok).
    #[arg(long)]
    pub as_of: String,
    /// The inspecting office: office:governor-secretariat (Traffy Fondue) or
    /// office:permanent-secretary-secretariat (the 1555 hotline).
    #[arg(long)]
    pub office: String,
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub calendar: CalendarArgs,
}

#[derive(clap::Args)]
pub struct VerifyArgs {
    #[arg(long)]
    pub db: Location,
}

#[derive(clap::Args)]
pub struct GenerateArgs {
    #[arg(long)]
    pub fiscal_year: String,
    #[arg(long)]
    pub complaints: u64,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Output file; default: standard output.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

#[derive(clap::Args)]
pub struct ServeArgs {
    /// The log: a SQLite file, or a postgres:// URI (several servers may share one).
    #[arg(long, env = "RONGTOOK_DB")]
    pub db: Location,
    /// Where reads go instead (a PostgreSQL hot standby of --db): the feed, complaint and
    /// figure reads, the dashboard. Appends and the live projections stay on --db.
    #[arg(long, env = "RONGTOOK_READ_DB")]
    pub read_db: Option<Location>,
    /// Address to listen on.
    #[arg(long, env = "RONGTOOK_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// With an empty log, first append a generated demo fiscal year (B.E. 2567, 20,000
    /// complaints).
    #[arg(long, env = "RONGTOOK_DEMO")]
    pub demo: bool,
    /// A holiday file replacing the built-in calendar (as for `replay --calendar`).
    #[arg(long, env = "RONGTOOK_CALENDAR", value_name = "FILE")]
    pub calendar: Option<PathBuf>,
    /// Deadline rules as JSON (as for `replay --rules`).
    #[arg(long, env = "RONGTOOK_RULES", value_name = "FILE")]
    pub rules: Option<PathBuf>,
    /// The request log's form: `text` lines, or one JSON object per line.
    #[arg(long, env = "RONGTOOK_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// Where the live projections are saved, to start from at the next start instead of
    /// folding the whole log (default: `FILE.snapshots` beside a SQLite log; none for
    /// PostgreSQL). `none` turns them off.
    #[arg(long, env = "RONGTOOK_SNAPSHOTS", value_name = "DIR")]
    pub snapshots: Option<PathBuf>,
    /// Events between two snapshots (one is also saved at a clean shutdown).
    #[arg(long, env = "RONGTOOK_SNAPSHOT_EVERY", value_name = "EVENTS",
          default_value_t = http_api::DEFAULT_SNAPSHOT_EVERY,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub snapshot_every: u64,
}

/// How `serve` writes its log.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(clap::Args)]
pub struct DemoArgs {
    #[arg(long, default_value = "rongtook.db")]
    pub db: Location,
    #[arg(long, default_value = "2567")]
    pub fiscal_year: String,
    #[arg(long, default_value_t = 20_000)]
    pub complaints: u64,
    #[arg(long, default_value_t = 2567)]
    pub seed: u64,
}

#[derive(clap::Args)]
pub struct BackupArgs {
    /// The log to copy (it may be served and appended to meanwhile).
    #[arg(long)]
    pub db: Location,
    /// Where the copy goes; must not exist.
    #[arg(long)]
    pub out: PathBuf,
}

#[derive(clap::Args)]
pub struct CopyArgs {
    /// The log to copy from (a SQLite path or a postgres:// URI).
    #[arg(long)]
    pub from: Location,
    /// The log to copy into: empty, or a prefix of the source (the copy then resumes after
    /// it). A SQLite file is created when missing.
    #[arg(long)]
    pub to: Location,
}
