//! The one place that turns a `--db` value into an open log. Everything above the backends
//! holds a [`Location`] and a `Box<dyn Log>`; only this crate names a backend type.
//!
//! - a path, or `sqlite:PATH`, is an embedded SQLite file;
//! - `postgres://…` or `postgresql://…` is a PostgreSQL database (a libpq connection URI).

use std::path::{Path, PathBuf};

use event_store::{Durability, Log, StoreError, VerifyReport};
use event_store_postgres::PgStore;
use event_store_sqlite::SqliteStore;

/// The plain-SQLite yardsticks the benchmarks measure the SQLite backend against.
pub use event_store_sqlite::baseline as sqlite_baseline;

/// The plain-PostgreSQL yardsticks (and scratch databases) the benchmarks measure the
/// PostgreSQL backend against.
pub use event_store_postgres::baseline as postgres_baseline;

/// Where a log lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// An embedded SQLite file.
    Sqlite(PathBuf),
    /// A PostgreSQL database, by its connection URI.
    Postgres(String),
}

impl Location {
    /// Reads a `--db` value. Anything that is not a `postgres://` or `postgresql://` URI is
    /// a SQLite path (an optional `sqlite:` prefix is dropped).
    pub fn parse(text: &str) -> Location {
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            Location::Postgres(text.to_string())
        } else {
            Location::Sqlite(PathBuf::from(text.strip_prefix("sqlite:").unwrap_or(text)))
        }
    }

    /// The SQLite file, when the log is one.
    pub fn file(&self) -> Option<&Path> {
        match self {
            Location::Sqlite(p) => Some(p),
            Location::Postgres(_) => None,
        }
    }

    /// Whether there is a log to open without creating one (a server database is taken to
    /// exist: connecting tells).
    pub fn exists(&self) -> bool {
        match self {
            Location::Sqlite(p) => p.exists(),
            Location::Postgres(_) => true,
        }
    }
}

impl std::str::FromStr for Location {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Location, Self::Err> {
        Ok(Location::parse(s))
    }
}

/// Shown without a password.
impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Location::Sqlite(p) => write!(f, "{}", p.display()),
            Location::Postgres(uri) => write!(f, "{}", redact(uri)),
        }
    }
}

/// A connection URI with its password replaced by `***`.
fn redact(uri: &str) -> String {
    let Some((scheme, rest)) = uri.split_once("://") else {
        return uri.to_string();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}{tail}"),
            None => uri.to_string(),
        },
        None => uri.to_string(),
    }
}

/// Opens the log, creating it (and bringing its schema up to date) when needed.
pub fn open(at: &Location, durability: Durability) -> Result<Box<dyn Log>, StoreError> {
    match at {
        Location::Sqlite(path) => Ok(Box::new(SqliteStore::open(path, durability)?)),
        Location::Postgres(uri) => Ok(Box::new(PgStore::open(uri, durability)?)),
    }
}

/// Opens an existing log for reading only.
pub fn open_read_only(at: &Location) -> Result<Box<dyn Log>, StoreError> {
    match at {
        Location::Sqlite(path) => Ok(Box::new(SqliteStore::open_read_only(path)?)),
        Location::Postgres(uri) => Ok(Box::new(PgStore::open_read_only(uri)?)),
    }
}

/// A fresh log in memory (tests, fixtures, benchmarks).
pub fn in_memory() -> Result<Box<dyn Log>, StoreError> {
    Ok(Box::new(SqliteStore::open_in_memory()?))
}

/// An online, consistent copy of a SQLite log into a new file, verified before it is kept.
pub fn backup(at: &Location, out: &Path) -> Result<VerifyReport, StoreError> {
    match at {
        Location::Sqlite(path) => SqliteStore::open(path, Durability::Full)?.backup_to(out),
        Location::Postgres(_) => Err(StoreError::Unavailable(
            "a PostgreSQL log is backed up with PostgreSQL's own tools (pg_basebackup, \
             pg_dump), or copied into a SQLite file with `rongtook copy`"
                .into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn db_values_name_their_backend() {
        assert_eq!(
            Location::parse("year.db"),
            Location::Sqlite(PathBuf::from("year.db"))
        );
        assert_eq!(
            Location::parse("sqlite:dir/year.db"),
            Location::Sqlite(PathBuf::from("dir/year.db"))
        );
        assert!(matches!(
            Location::parse("postgresql://u@h/db"),
            Location::Postgres(_)
        ));
        assert_eq!(
            Location::parse("postgres://rt:secret@127.0.0.1:5432/log").to_string(),
            "postgres://rt:***@127.0.0.1:5432/log"
        );
    }
}
