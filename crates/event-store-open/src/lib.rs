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

/// Opens a log that must exist already (a SQLite file that is there, a database holding the
/// schema); nothing is created.
pub fn open_existing(at: &Location, durability: Durability) -> Result<Box<dyn Log>, StoreError> {
    match at {
        Location::Sqlite(path) if !path.exists() => Err(StoreError::NotALog {
            path: path.display().to_string(),
            message: "no such file (create one with `rongtook append` or `rongtook demo`)".into(),
        }),
        Location::Sqlite(path) => Ok(Box::new(SqliteStore::open(path, durability)?)),
        Location::Postgres(uri) => Ok(Box::new(PgStore::open_existing(uri, durability)?)),
    }
}

/// Opens an existing log for reading only.
pub fn open_read_only(at: &Location) -> Result<Box<dyn Log>, StoreError> {
    match at {
        Location::Sqlite(path) => Ok(Box::new(SqliteStore::open_read_only(path)?)),
        Location::Postgres(uri) => Ok(Box::new(PgStore::open_read_only(uri)?)),
    }
}

/// How many idle read connections [`Readers`] keeps.
pub const MAX_IDLE_READERS: usize = 16;

/// Read-only connections to one log, kept for reuse: a server's reads take one, use it and
/// give it back, instead of connecting for every request (on PostgreSQL a connection is a
/// server process). A connection whose use failed is dropped, not kept.
pub struct Readers {
    at: Location,
    idle: std::sync::Mutex<Vec<Box<dyn Log>>>,
}

impl Readers {
    pub fn new(at: Location) -> Readers {
        Readers {
            at,
            idle: std::sync::Mutex::new(Vec::new()),
        }
    }

    /// Where the connections go.
    pub fn location(&self) -> &Location {
        &self.at
    }

    /// How many connections wait for reuse.
    pub fn idle(&self) -> usize {
        self.idle.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    /// An idle connection, or a new one.
    pub fn get(&self) -> Result<Reader<'_>, StoreError> {
        let kept = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let store = match kept {
            Some(s) => s,
            None => open_read_only(&self.at)?,
        };
        Ok(Reader {
            pool: self,
            store: Some(store),
            keep: true,
        })
    }

    /// Runs `f` on a connection; a connection whose use failed is not kept.
    pub fn with<T>(
        &self,
        f: impl FnOnce(&dyn Log) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut reader = self.get()?;
        let out = f(&*reader);
        if out.is_err() {
            reader.keep = false;
        }
        out
    }
}

/// Idle connections are closed on a thread of their own: a client that closes by blocking
/// (PostgreSQL's) must not close on an async runtime's thread, where a server may drop its
/// state.
impl Drop for Readers {
    fn drop(&mut self) {
        let idle = std::mem::take(&mut *self.idle.lock().unwrap_or_else(|p| p.into_inner()));
        if idle.is_empty() {
            return;
        }
        if let Ok(closing) = std::thread::Builder::new()
            .name("rongtook-close-readers".into())
            .spawn(move || drop(idle))
        {
            let _ = closing.join();
        }
    }
}

/// A connection taken from [`Readers`]; it goes back when dropped.
pub struct Reader<'a> {
    pool: &'a Readers,
    store: Option<Box<dyn Log>>,
    keep: bool,
}

impl std::ops::Deref for Reader<'_> {
    type Target = dyn Log;
    fn deref(&self) -> &(dyn Log + 'static) {
        &**self.store.as_ref().expect("held until dropped")
    }
}

impl Drop for Reader<'_> {
    fn drop(&mut self) {
        if let Some(store) = self.store.take() {
            let mut idle = self.pool.idle.lock().unwrap_or_else(|p| p.into_inner());
            if self.keep && idle.len() < MAX_IDLE_READERS {
                idle.push(store);
            }
        }
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
    fn readers_are_reused_and_a_failed_one_is_dropped() {
        let dir = std::env::temp_dir().join(format!("rongtook-readers-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let at = Location::Sqlite(dir.join("log.db"));
        drop(open(&at, Durability::Full).unwrap());
        let readers = Readers::new(at);
        {
            let a = readers.get().unwrap();
            let b = readers.get().unwrap();
            assert_eq!(a.head().unwrap().position, 0);
            assert_eq!(b.head().unwrap().position, 0);
            assert_eq!(readers.idle(), 0);
        }
        assert_eq!(readers.idle(), 2, "both given back");
        drop(readers.get().unwrap());
        assert_eq!(readers.idle(), 2, "one taken and given back");
        let failed: Result<(), StoreError> =
            readers.with(|_| Err(StoreError::Unavailable("gone".into())));
        assert!(failed.is_err());
        assert_eq!(readers.idle(), 1, "the failed connection is not kept");
        let _ = std::fs::remove_dir_all(&dir);
    }

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
