//! The plain-SQLite yardsticks the benchmarks compare the store against: the same rows
//! inserted by a bare prepared-statement loop in one transaction, and read back by a bare
//! ordered SELECT that parses each payload. No validation, no hash chain, no lifecycle.

use std::path::Path;
use std::time::{Duration, Instant};

use rusqlite::{params, Connection};

pub use event_store::PlainRow;
use event_store::{Durability, StoreError};

use crate::Db;

/// Inserts rows into a fresh table with `UNIQUE(id)` and `UNIQUE(stream, version)` in one
/// transaction (WAL, the given synchronous mode). Returns the elapsed time.
pub fn plain_insert<'a>(
    path: &Path,
    durability: Durability,
    rows: impl Iterator<Item = PlainRow<'a>>,
) -> Result<(Duration, u64), StoreError> {
    let conn = Connection::open(path).db()?;
    // The same settings as the store, so the comparison is of the code, not the settings.
    crate::configure(&conn, durability)?;
    conn.execute_batch(
        "CREATE TABLE plain_events (position INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, \
         stream TEXT NOT NULL, version INTEGER NOT NULL, type TEXT NOT NULL, \
         occurred_at TEXT NOT NULL, actor TEXT NOT NULL, data TEXT NOT NULL, \
         UNIQUE(stream, version))",
    )
    .db()?;
    let start = Instant::now();
    let tx = conn.unchecked_transaction().db()?;
    let mut n = 0;
    {
        let mut stmt = tx
            .prepare(
                "INSERT INTO plain_events (id, stream, version, type, occurred_at, actor, data) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )
            .db()?;
        for r in rows {
            stmt.execute(params![
                r.id,
                r.stream,
                r.version,
                r.event_type,
                r.occurred_at,
                r.actor,
                r.data
            ])
            .db()?;
            n += 1;
        }
    }
    tx.commit().db()?;
    Ok((start.elapsed(), n))
}

/// Reads every row of [`plain_insert`]'s table in order and parses each payload as untyped
/// JSON. Returns the elapsed time and the row count.
pub fn plain_scan(path: &Path) -> Result<(Duration, u64), StoreError> {
    let conn = Connection::open(path).db()?;
    let start = Instant::now();
    let mut stmt = conn.prepare(
        "SELECT position, id, stream, version, type, occurred_at, actor, data FROM plain_events ORDER BY position",
    ).db()?;
    let mut rows = stmt.query([]).db()?;
    let mut n = 0u64;
    let mut bytes = 0usize;
    while let Some(row) = rows.next().db()? {
        let data = row
            .get_ref(7)
            .db()?
            .as_str()
            .map_err(rusqlite::Error::from)
            .db()?;
        let v: serde_json::Value = serde_json::from_str(data).map_err(|e| StoreError::Corrupt {
            position: n + 1,
            message: e.to_string(),
        })?;
        bytes += v.as_object().map_or(0, |m| m.len());
        n += 1;
    }
    std::hint::black_box(bytes);
    Ok((start.elapsed(), n))
}
