//! Rongtook's measurements. `rongtook bench` ([`pipeline`]) times the append, the replay, the
//! indicators and the dashboard on a generated fiscal year, each next to a plain-SQLite
//! yardstick measured in the same run, so figures are ratios that survive a drifting disk.
//! `rongtook load` ([`load`]) is a bounded load test of the HTTP API on loopback. The
//! criterion micro-benchmarks are `benches/micro.rs`. Figures are never asserted by tests.

mod http;
pub mod load;
pub mod measure;
pub mod pg;
pub mod pipeline;
pub mod soak;

pub use load::LoadArgs;
pub use measure::BenchArgs;
pub use pipeline::peak_rss_bytes;

/// A measurement that could not be made: what went wrong, and whether it was the caller's
/// input.
#[derive(Debug)]
pub struct BenchError {
    pub message: String,
    pub bad_input: bool,
}

impl BenchError {
    pub fn new(message: impl Into<String>) -> BenchError {
        BenchError {
            message: message.into(),
            bad_input: false,
        }
    }

    pub fn bad_input(message: impl Into<String>) -> BenchError {
        BenchError {
            message: message.into(),
            bad_input: true,
        }
    }
}

impl std::fmt::Display for BenchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// Any error becomes a failed measurement (`BenchError` is deliberately not an `Error`
/// itself, so that this conversion can exist).
impl<E: std::error::Error> From<E> for BenchError {
    fn from(e: E) -> BenchError {
        BenchError::new(e.to_string())
    }
}

pub type Result<T> = std::result::Result<T, BenchError>;

/// Adds what was being done to an error.
pub trait Context<T> {
    fn context(self, what: &str) -> Result<T>;
    fn with_context(self, what: impl FnOnce() -> String) -> Result<T>;
}

impl<T, E: std::fmt::Display> Context<T> for std::result::Result<T, E> {
    fn context(self, what: &str) -> Result<T> {
        self.map_err(|e| BenchError::new(format!("{what}: {e}")))
    }

    fn with_context(self, what: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|e| BenchError::new(format!("{}: {e}", what())))
    }
}

impl<T> Context<T> for Option<T> {
    fn context(self, what: &str) -> Result<T> {
        self.ok_or_else(|| BenchError::new(what))
    }

    fn with_context(self, what: impl FnOnce() -> String) -> Result<T> {
        self.ok_or_else(|| BenchError::new(what()))
    }
}

/// Fails the measurement unless `cond` holds.
#[macro_export]
macro_rules! ensure {
    ($cond:expr, $($arg:tt)*) => {
        if !$cond {
            return Err($crate::BenchError::new(format!($($arg)*)));
        }
    };
}

/// The current instant.
fn now() -> chrono::DateTime<chrono::FixedOffset> {
    chrono::Utc::now().fixed_offset()
}

/// A generated fiscal year (B.E. or C.E.).
fn generator(fiscal_year: &str, complaints: u64, seed: u64) -> Result<generator::Generator> {
    let fy = fiscal_year_arg(fiscal_year)?;
    Ok(generator::Generator::new(
        generator::GenConfig {
            fiscal_year: fy,
            complaints,
            seed,
        },
        calendar::Calendar::builtin(),
    ))
}

fn fiscal_year_arg(text: &str) -> Result<calendar::FiscalYear> {
    calendar::FiscalYear::parse(text)
        .map_err(|e| BenchError::bad_input(format!("--fiscal-year: {e}")))
}

/// A SQLite log file as a `--db` location.
pub(crate) fn sqlite(path: impl AsRef<std::path::Path>) -> event_store_open::Location {
    event_store_open::Location::Sqlite(path.as_ref().to_path_buf())
}
