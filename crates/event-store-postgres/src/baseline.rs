//! The plain-PostgreSQL yardsticks the benchmarks compare the store against, on the same
//! server in the same run: the same rows inserted with multi-row INSERTs (arrays, 2,000 rows
//! each) in one transaction into a table with the same keys, and read back by a bare ordered
//! SELECT that parses each payload. No validation, no hash chain, no lifecycle. Also scratch
//! databases for a run (the role needs CREATEDB).

use std::time::{Duration, Instant};

use postgres::fallible_iterator::FallibleIterator;
use postgres::NoTls;

pub use event_store::PlainRow;
use event_store::StoreError;

use crate::Db;

/// Rows per INSERT.
const CHUNK: usize = 2000;

fn client(uri: &str) -> Result<postgres::Client, StoreError> {
    postgres::Client::connect(uri, NoTls).db()
}

/// A new, empty database `name` on the server of `uri` (connected through `uri`'s database);
/// returns its URI.
pub fn create_database(uri: &str, name: &str) -> Result<String, StoreError> {
    check_name(name)?;
    client(uri)?
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .db()?;
    let config: postgres::Config = uri
        .parse()
        .map_err(|e| StoreError::Unavailable(format!("{e}")))?;
    let base = match config.get_dbname() {
        Some(db) => uri.rsplit_once(db),
        None => None,
    };
    match base {
        Some((head, tail)) => Ok(format!("{head}{name}{tail}")),
        None => Err(StoreError::Unavailable(format!(
            "cannot name database {name} in the URI; give the database in it"
        ))),
    }
}

/// Drops database `name` (connected through `uri`'s database), waiting up to ten seconds
/// for its last sessions (an autovacuum worker, a server shutting down) to end.
pub fn drop_database(uri: &str, name: &str) -> Result<(), StoreError> {
    check_name(name)?;
    let mut c = client(uri)?;
    let mut tries = 0;
    loop {
        match c.batch_execute(&format!("DROP DATABASE IF EXISTS {name}")) {
            Ok(()) => return Ok(()),
            Err(e) if tries < 20 && e.code() == Some(&postgres::error::SqlState::OBJECT_IN_USE) => {
                tries += 1;
                std::thread::sleep(Duration::from_millis(500));
            }
            Err(e) => return Err(crate::pg_error(e)),
        }
    }
}

fn check_name(name: &str) -> Result<(), StoreError> {
    if name.is_empty()
        || !name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    {
        return Err(StoreError::Unavailable(format!(
            "`{name}` is not a plain database name"
        )));
    }
    Ok(())
}

/// Inserts rows into a fresh table with a position key, `UNIQUE(id)` and
/// `UNIQUE(stream, version)`, with multi-row INSERTs in one transaction. Returns the elapsed
/// time and the row count.
pub fn plain_insert<'a>(
    uri: &str,
    rows: impl Iterator<Item = PlainRow<'a>>,
) -> Result<(Duration, u64), StoreError> {
    let mut c = client(uri)?;
    c.batch_execute(
        "CREATE TABLE plain_events (position BIGINT PRIMARY KEY, id TEXT NOT NULL UNIQUE, \
         stream TEXT NOT NULL, version BIGINT NOT NULL, type TEXT NOT NULL, \
         occurred_at TEXT NOT NULL, actor TEXT NOT NULL, data TEXT NOT NULL, \
         UNIQUE(stream, version))",
    )
    .db()?;
    let start = Instant::now();
    let mut tx = c.transaction().db()?;
    let stmt = tx
        .prepare(
            "INSERT INTO plain_events (position, id, stream, version, type, occurred_at, actor, data) \
             SELECT * FROM unnest($1::BIGINT[], $2::TEXT[], $3::TEXT[], $4::BIGINT[], $5::TEXT[], \
             $6::TEXT[], $7::TEXT[], $8::TEXT[])",
        )
        .db()?;
    let mut n = 0u64;
    let mut rows = rows.peekable();
    while rows.peek().is_some() {
        let chunk: Vec<PlainRow<'a>> = rows.by_ref().take(CHUNK).collect();
        let position: Vec<i64> = (0..chunk.len() as i64).map(|i| n as i64 + i + 1).collect();
        let col =
            |f: fn(&PlainRow<'a>) -> &'a str| -> Vec<&'a str> { chunk.iter().map(f).collect() };
        let version: Vec<i64> = chunk.iter().map(|r| r.version).collect();
        tx.execute(
            &stmt,
            &[
                &position,
                &col(|r| r.id),
                &col(|r| r.stream),
                &version,
                &col(|r| r.event_type),
                &col(|r| r.occurred_at),
                &col(|r| r.actor),
                &col(|r| r.data),
            ],
        )
        .db()?;
        n += chunk.len() as u64;
    }
    tx.commit().db()?;
    Ok((start.elapsed(), n))
}

/// Reads every row of [`plain_insert`]'s table in order, streaming, and parses each payload as
/// untyped JSON. Returns the elapsed time and the row count.
pub fn plain_scan(uri: &str) -> Result<(Duration, u64), StoreError> {
    let mut c = client(uri)?;
    let start = Instant::now();
    let mut tx = c.transaction().db()?;
    let mut rows = tx
        .query_raw(
            "SELECT position, id, stream, version, type, occurred_at, actor, data \
             FROM plain_events ORDER BY position",
            std::iter::empty::<i64>(),
        )
        .db()?;
    let mut n = 0u64;
    let mut fields = 0usize;
    while let Some(row) = rows.next().db()? {
        let data: &str = row.get(7);
        let v: serde_json::Value = serde_json::from_str(data).map_err(|e| StoreError::Corrupt {
            position: n + 1,
            message: e.to_string(),
        })?;
        fields += v.as_object().map_or(0, |m| m.len());
        n += 1;
    }
    drop(rows);
    tx.commit().db()?;
    std::hint::black_box(fields);
    Ok((start.elapsed(), n))
}
