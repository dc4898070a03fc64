//! The embedded SQLite backend of the event log ([`SqliteStore`]): one file, WAL, the
//! schema's versioned migrations in `migrations/`. The append decisions are the shared ones
//! (`event_store::decide`); this crate keeps the transaction, the look-ups and the SQL.

pub mod baseline;
mod record;

use std::path::Path;

use chrono::{DateTime, FixedOffset};
use event_model::{
    format_instant, upcast, EventData, EventType, FxMap, Hash, NewEvent, RecordedEvent, WireError,
    SCHEMA_VERSION,
};
use rusqlite::{params, Connection, OpenFlags, OptionalExtension, TransactionBehavior};
use uuid::Uuid;

use event_store::decide::{
    check, is_unit_stream, repeat_or_conflict, EventTexts, StoredContent, StoredStep, StreamHead,
};
use event_store::{
    AppendError, AppendErrorKind, AppendReport, Appended, Durability, EventStore, Head, StoreError,
    StoredRow, VerifyReport,
};

/// Versioned schema migrations, applied in order; `PRAGMA user_version` records the last.
const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/0001_events.sql"),
    include_str!("../migrations/0002_tokens.sql"),
    include_str!("../migrations/0003_derived_prev_hash.sql"),
    include_str!("../migrations/0004_batches.sql"),
    include_str!("../migrations/0005_occurred_after.sql"),
];

/// SQLite page cache per connection, in KiB (`PRAGMA cache_size = -N`). Appends touch the
/// `(stream, version)` index all over (events of many complaints interleave in time), so a
/// bulk append of a year is bound by how much of that index stays cached.
pub const CACHE_KIB: i64 = 256 * 1024;

/// Page size of new logs, in bytes (takes effect only when the file is created). Larger pages
/// mean fewer B-tree levels and fewer, larger writes for a log of many small rows.
pub const PAGE_SIZE: i64 = 16384;

/// SQLite's errors as the store's: a full disk (or size limit) told apart.
pub(crate) fn sql_error(e: rusqlite::Error) -> StoreError {
    match &e {
        rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::DiskFull => {
            StoreError::Full(e.to_string())
        }
        rusqlite::Error::SqliteFailure(f, m) if f.code == rusqlite::ErrorCode::NotADatabase => {
            StoreError::NotALog {
                path: String::new(),
                message: m.clone().unwrap_or_else(|| "file is not a database".into()),
            }
        }
        rusqlite::Error::SqliteFailure(f, _)
            if matches!(
                f.code,
                rusqlite::ErrorCode::SystemIoFailure | rusqlite::ErrorCode::DatabaseCorrupt
            ) =>
        {
            StoreError::Io(e.to_string())
        }
        _ => StoreError::Database(e.to_string()),
    }
}

/// `?` on SQLite's results, in the store's error.
pub(crate) trait Db<T> {
    fn db(self) -> Result<T, StoreError>;
}

impl<T> Db<T> for rusqlite::Result<T> {
    fn db(self) -> Result<T, StoreError> {
        self.map_err(sql_error)
    }
}

/// The SQLite event log.
pub struct SqliteStore {
    conn: Connection,
    /// The file, for the scan's second (reader) connection; `None` in memory.
    path: Option<std::path::PathBuf>,
    /// The head record beside the file, when opened for writing.
    record: Option<record::HeadRecord>,
}

/// How much of each payload a read decodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Decode {
    Full,
    /// Only what the projection folds read (`EventData::from_json_projected`; no actor).
    ForFolds,
}

/// The stored columns, in the order [`decode_row`] reads them. `prev_hash` is not stored: it is
/// the previous position's `hash`.
const SELECT_COLUMNS: &str = "position, event_id, stream, version, type, occurred_at, batch, actor, schema_version, data, hash, occurred_after";

/// The `recorded_at` of batches, looked up by batch id and remembered for the next rows
/// (rows read in position order mostly share their batch).
struct Batches<'c> {
    conn: &'c Connection,
    last: Option<(i64, String, DateTime<FixedOffset>)>,
}

impl<'c> Batches<'c> {
    fn new(conn: &'c Connection) -> Batches<'c> {
        Batches { conn, last: None }
    }

    /// The batch's `recorded_at`, as stored and parsed.
    fn get(&mut self, id: i64, position: u64) -> Result<(&str, DateTime<FixedOffset>), StoreError> {
        if self.last.as_ref().is_none_or(|(b, _, _)| *b != id) {
            let text: Option<String> = self
                .conn
                .prepare_cached("SELECT recorded_at FROM batches WHERE id = ?1")
                .db()?
                .query_row([id], |r| r.get(0))
                .optional()
                .db()?;
            let text = text.ok_or_else(|| corrupt(position, format!("batch {id} is missing")))?;
            let at = event_model::parse_instant(&text).ok_or_else(|| {
                corrupt(position, format!("recorded_at: `{text}` is not RFC 3339"))
            })?;
            self.last = Some((id, text, at));
        }
        let (_, text, at) = self.last.as_ref().expect("set above");
        Ok((text, *at))
    }
}

impl SqliteStore {
    /// Opens (creating if needed) a log file and brings its schema up to date.
    pub fn open(path: &Path, durability: Durability) -> Result<SqliteStore, StoreError> {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .db()?;
        let mut store =
            Self::init(conn, durability, Some(path.to_path_buf())).map_err(|e| match e {
                StoreError::NotALog { message, .. } => StoreError::NotALog {
                    path: path.display().to_string(),
                    message,
                },
                other => other,
            })?;
        // SQLite has recovered the WAL by now: the log must reach every acknowledged event.
        let record = record::HeadRecord::open(path)?;
        let ack = record.marks().acknowledged;
        record::check(
            record.marks(),
            path,
            store.head()?,
            store.hash_at(ack.position)?,
        )?;
        store.record = Some(record);
        store.acknowledge()?;
        Ok(store)
    }

    /// The hash of the event at `position`, if there is one.
    fn hash_at(&self, position: u64) -> Result<Option<Hash>, StoreError> {
        let stored: Option<Vec<u8>> = self
            .conn
            .query_row(
                "SELECT hash FROM events WHERE position = ?1",
                [position as i64],
                |r| r.get(0),
            )
            .optional()
            .db()?;
        Ok(stored.and_then(|h| Hash::from_slice(&h)))
    }

    /// Records the log's head as acknowledged, after a commit.
    fn acknowledge(&mut self) -> Result<(), StoreError> {
        match &mut self.record {
            Some(r) => r.acknowledge(read_head(&self.conn)?),
            None => Ok(()),
        }
    }

    /// Writes an online, consistent copy of the log to `out` (SQLite's `VACUUM INTO`: one read
    /// transaction, so appends may go on meanwhile and the copy holds exactly the events
    /// committed when it began), then opens the copy and verifies its hash chain. `out` must
    /// not exist; the copy is written beside it under a temporary name and renamed into place
    /// only once it verifies, so a failed backup leaves nothing at `out`.
    pub fn backup_to(&self, out: &Path) -> Result<VerifyReport, StoreError> {
        if out.exists() {
            return Err(StoreError::Unavailable(format!(
                "{} exists: a backup never overwrites a file",
                out.display()
            )));
        }
        let name = out
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_else(|| "backup".into());
        let tmp = out.with_file_name(format!(".{name}.partial"));
        let _ = std::fs::remove_file(&tmp);
        let result = (|| {
            self.conn
                .execute("VACUUM INTO ?1", [tmp.to_string_lossy().as_ref()])
                .db()?;
            let report = SqliteStore::open_read_only(&tmp)?.verify()?;
            if let Some((position, why)) = &report.first_bad {
                return Err(StoreError::Corrupt {
                    position: *position,
                    message: format!("the copy does not verify: {why}"),
                });
            }
            std::fs::rename(&tmp, out)
                .map_err(|e| StoreError::Unavailable(format!("{}: {e}", out.display())))?;
            Ok(report)
        })();
        if result.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        result
    }

    /// Opens an existing log for reading only (the schema must be there and current).
    pub fn open_read_only(path: &Path) -> Result<SqliteStore, StoreError> {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .db()?;
        conn.busy_timeout(std::time::Duration::from_secs(10)).db()?;
        let version: i64 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .db()?;
        let known = MIGRATIONS.len() as i64;
        if version != known {
            return Err(if version > known {
                StoreError::SchemaTooNew {
                    found: version,
                    known,
                }
            } else {
                StoreError::NotALog {
                    path: path.display().to_string(),
                    message: format!("schema version {version}, expected {known}"),
                }
            });
        }
        Ok(SqliteStore {
            conn,
            path: Some(path.to_path_buf()),
            record: None,
        })
    }

    fn scan_decoding(
        &self,
        after: u64,
        decode: Decode,
        f: &mut dyn FnMut(RecordedEvent),
    ) -> Result<u64, StoreError> {
        match &self.path {
            // A file: read and decode on other connections in their own threads while the
            // caller folds, handing over batches.
            Some(path) => scan_pipelined(path, &self.conn, after, decode, f),
            None => scan_rows(&self.conn, after, decode, &mut |e| {
                f(e);
                true
            }),
        }
    }

    /// An in-memory log (tests, fixtures).
    pub fn open_in_memory() -> Result<SqliteStore, StoreError> {
        Self::init(Connection::open_in_memory().db()?, Durability::Full, None)
    }

    fn init(
        conn: Connection,
        durability: Durability,
        path: Option<std::path::PathBuf>,
    ) -> Result<SqliteStore, StoreError> {
        conn.busy_timeout(std::time::Duration::from_secs(10)).db()?;
        configure(&conn, durability)?;
        let version: i64 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .db()?;
        let known = MIGRATIONS.len() as i64;
        if version > known {
            return Err(StoreError::SchemaTooNew {
                found: version,
                known,
            });
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            let tx = conn.unchecked_transaction().db()?;
            tx.execute_batch(sql).db()?;
            tx.pragma_update(None, "user_version", (i + 1) as i64)
                .db()?;
            tx.commit().db()?;
        }
        Ok(SqliteStore {
            conn,
            path,
            record: None,
        })
    }

    /// Number of events in the log.
    pub fn count(&self) -> Result<u64, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT count(*) FROM events", [], |r| r.get::<_, i64>(0))
            .db()? as u64)
    }
}

/// The connection settings of a log (and of the plain-SQLite yardstick): page size (new files
/// only), WAL, page cache, synchronous mode.
pub(crate) fn configure(conn: &Connection, durability: Durability) -> Result<(), StoreError> {
    conn.pragma_update(None, "page_size", PAGE_SIZE).db()?;
    conn.pragma_update(None, "journal_mode", "WAL").db()?;
    conn.pragma_update(None, "cache_size", -CACHE_KIB).db()?;
    conn.pragma_update(
        None,
        "synchronous",
        match durability {
            Durability::Full => "FULL",
            Durability::Normal => "NORMAL",
        },
    )
    .db()?;
    Ok(())
}

fn token_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<event_store::TokenRecord> {
    Ok(event_store::TokenRecord {
        id: r.get(0)?,
        role: r.get(1)?,
        unit: r.get(2)?,
        label: r.get(3)?,
        created_at: r.get(4)?,
        revoked_at: r.get(5)?,
    })
}

/// Appends one batch inside the caller's transaction (or savepoint): all its checks and
/// inserts, stopping at the first refused event. The caller commits, or rolls back on error.
fn append_batch(
    conn: &Connection,
    events: &mut dyn Iterator<Item = Result<NewEvent, WireError>>,
    recorded_at: DateTime<FixedOffset>,
) -> Result<AppendReport, AppendError> {
    let mut report = AppendReport::default();
    {
        let mut head = read_head(conn)?;
        let recorded_text = format_instant(&recorded_at);
        // The batch row is written after the events, and only if one was appended: a batch
        // of repeats leaves no trace.
        let batch: i64 = conn
            .query_row("SELECT COALESCE(MAX(id), 0) + 1 FROM batches", [], |r| {
                r.get(0)
            })
            .db()?;
        let mut streams: FxMap<String, StreamHead> = FxMap::default();
        let mut find_id = conn.prepare_cached(
            "SELECT position, stream, version, type, occurred_at, actor, data, occurred_after FROM events WHERE event_id = ?1",
        ).db()?;
        let mut load_stream = conn.prepare_cached(
            "SELECT version, type, occurred_at, data, position, schema_version FROM events WHERE stream = ?1 ORDER BY version",
        ).db()?;
        let mut insert = conn.prepare_cached(
            "INSERT INTO events (position, event_id, stream, version, type, occurred_at, batch, actor, schema_version, data, hash, occurred_after) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        ).db()?;
        let mut scratch = Vec::with_capacity(1024);
        for (index, item) in events.enumerate() {
            let ev = item.map_err(|e| {
                let id = e.event_id.as_deref().and_then(|s| Uuid::parse_str(s).ok());
                AppendError::at(index, id, AppendErrorKind::Malformed(e))
            })?;
            let fail = |kind: AppendErrorKind| AppendError::at(index, Some(ev.id), kind);
            let texts = EventTexts::of(&ev);
            let event_type = texts.event_type;
            let unit_stream = is_unit_stream(&ev.stream);
            // A repeat of a stored event (same id) is looked for only when a check or the
            // insert fails, so the common path pays no look-up by id.
            let repeat = |find_id: &mut rusqlite::CachedStatement<'_>| {
                find_repeat(find_id, &ev, &texts).map_err(fail)
            };
            let mut reloaded = false;
            loop {
                if !streams.contains_key(ev.stream.as_str()) {
                    // A `received` opens a stream: assume it is new and let
                    // UNIQUE(stream, version) say otherwise, saving a look-up per complaint.
                    let sh = if event_type == EventType::Received && !unit_stream && !reloaded {
                        StreamHead::new()
                    } else {
                        load_stream_head(&mut load_stream, &ev.stream)
                            .map_err(|e| fail(e.into()))?
                    };
                    streams.insert(ev.stream.clone(), sh);
                }
                let sh = streams.get_mut(ev.stream.as_str()).expect("inserted above");
                if let Err(kind) = check(sh, &ev) {
                    if let Some(a) = repeat(&mut find_id)? {
                        report.duplicates += 1;
                        report.events.push(a);
                        break;
                    }
                    return Err(fail(kind));
                }
                let position = head.position + 1;
                let version = sh.version + 1;
                let fields = texts.fields(&ev, position, version, &recorded_text);
                let hash = fields.chain_hash(&head.hash, &mut scratch);
                let inserted = insert.execute(params![
                    position as i64,
                    ev.id.as_bytes().as_slice(),
                    ev.stream,
                    version as i64,
                    event_type.as_str(),
                    texts.occurred_at,
                    batch,
                    ev.actor,
                    SCHEMA_VERSION,
                    texts.data,
                    hash.0.as_slice(),
                    texts.occurred_after,
                ]);
                match inserted {
                    Ok(_) => {}
                    Err(e) if is_unique_violation(&e) => {
                        // The id is taken (a repeat, or a conflict), or a stream assumed
                        // new already exists: load it and judge the event again.
                        if let Some(a) = repeat(&mut find_id)? {
                            report.duplicates += 1;
                            report.events.push(a);
                            break;
                        }
                        if !reloaded {
                            reloaded = true;
                            streams.remove(ev.stream.as_str());
                            continue;
                        }
                        return Err(fail(sql_error(e).into()));
                    }
                    Err(e) => return Err(fail(sql_error(e).into())),
                }
                sh.advance(&ev.stream, version, ev.occurred_at, &ev.data);
                report.events.push(Appended {
                    position,
                    version,
                    duplicate: false,
                });
                report.appended += 1;
                head = Head { position, hash };
                break;
            }
        }
        if report.appended > 0 {
            conn.execute(
                "INSERT INTO batches (id, recorded_at) VALUES (?1, ?2)",
                params![batch, recorded_text],
            )
            .db()?;
        }
    }
    Ok(report)
}

/// Looks the event's id up: `None` when unused, the stored event's place when it is an
/// identical repeat, an id conflict when it holds other content.
fn find_repeat(
    find_id: &mut rusqlite::CachedStatement<'_>,
    ev: &NewEvent,
    texts: &EventTexts,
) -> Result<Option<Appended>, AppendErrorKind> {
    let stored = find_id
        .query_row([ev.id.as_bytes().as_slice()], |r| {
            let position = r.get::<_, i64>(0)? as u64;
            let version = r.get::<_, i64>(2)? as u64;
            let same = texts.same_as(
                ev,
                StoredContent {
                    stream: r.get_ref(1)?.as_str()?,
                    event_type: r.get_ref(3)?.as_str()?,
                    occurred_at: r.get_ref(4)?.as_str()?,
                    actor: r.get_ref(5)?.as_str()?,
                    data: r.get_ref(6)?.as_str()?,
                    occurred_after: r.get_ref(7)?.as_str_or_null()?,
                },
            );
            Ok((position, version, same))
        })
        .optional()
        .map_err(|e| AppendErrorKind::Store(sql_error(e)))?;
    stored
        .map(|(position, version, same)| repeat_or_conflict(same, position, version))
        .transpose()
}

fn is_unique_violation(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _)
        if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
            || f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY)
}

fn corrupt(position: u64, message: impl Into<String>) -> StoreError {
    StoreError::Corrupt {
        position,
        message: message.into(),
    }
}

/// A text column, borrowed.
fn text<'r>(row: &'r rusqlite::Row<'_>, i: usize, position: u64) -> Result<&'r str, StoreError> {
    row.get_ref(i)
        .db()?
        .as_str()
        .map_err(|e| corrupt(position, format!("column {i}: {e}")))
}

/// A blob column, borrowed.
fn blob<'r>(row: &'r rusqlite::Row<'_>, i: usize, position: u64) -> Result<&'r [u8], StoreError> {
    row.get_ref(i)
        .db()?
        .as_blob()
        .map_err(|e| corrupt(position, format!("column {i}: {e}")))
}

/// Decodes one row selected with [`SELECT_COLUMNS`], borrowing its columns; `prev_hash` is the
/// hash of the position before it.
fn decode_row(
    row: &rusqlite::Row<'_>,
    prev_hash: Hash,
    decode: Decode,
    batches: &mut Batches<'_>,
) -> Result<RecordedEvent, StoreError> {
    let position = row.get::<_, i64>(0).db()? as u64;
    let id = Uuid::from_slice(blob(row, 1, position)?)
        .map_err(|e| corrupt(position, format!("event_id: {e}")))?;
    let type_text = text(row, 4, position)?;
    let event_type = EventType::parse(type_text)
        .ok_or_else(|| corrupt(position, format!("unknown type `{type_text}`")))?;
    let schema_version = row.get::<_, i64>(8).db()? as u32;
    let data_text = upcast(schema_version, event_type, text(row, 9, position)?)
        .map_err(|m| corrupt(position, m))?;
    let data = match decode {
        Decode::Full => EventData::from_json(event_type, data_text),
        Decode::ForFolds => EventData::from_json_projected(event_type, data_text),
    }
    .map_err(|e| corrupt(position, format!("data.{}: {}", e.path, e.message)))?;
    let hash_of = |i: usize, name: &str| -> Result<Hash, StoreError> {
        Hash::from_slice(blob(row, i, position)?)
            .ok_or_else(|| corrupt(position, format!("{name} is not 32 bytes")))
    };
    let instant = |i: usize, name: &str| -> Result<DateTime<FixedOffset>, StoreError> {
        let t = text(row, i, position)?;
        event_model::parse_instant(t)
            .ok_or_else(|| corrupt(position, format!("{name}: `{t}` is not RFC 3339")))
    };
    Ok(RecordedEvent {
        position,
        id,
        stream: text(row, 2, position)?.to_string(),
        version: row.get::<_, i64>(3).db()? as u64,
        occurred_at: instant(5, "occurred_at")?,
        occurred_after: match row.get_ref(11).db()? {
            rusqlite::types::ValueRef::Null => None,
            _ => Some(instant(11, "occurred_after")?),
        },
        recorded_at: batches.get(row.get(6).db()?, position)?.1,
        // The folds never read who recorded an event.
        actor: match decode {
            Decode::Full => text(row, 7, position)?.to_string(),
            Decode::ForFolds => String::new(),
        },
        schema_version,
        data,
        prev_hash,
        hash: hash_of(10, "hash")?,
    })
}

impl event_store::TokenStore for SqliteStore {
    /// Stores a new API token (its hash only); returns its id.
    fn insert_token(
        &self,
        token_hash: &[u8; 32],
        role: &str,
        unit: Option<&str>,
        label: &str,
        created_at: &str,
    ) -> Result<i64, StoreError> {
        self.conn.execute(
            "INSERT INTO tokens (token_hash, role, unit, label, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            rusqlite::params![token_hash.as_slice(), role, unit, label, created_at],
        ).db()?;
        Ok(self.conn.last_insert_rowid())
    }

    /// The token with this hash, unless revoked.
    fn find_token(
        &self,
        token_hash: &[u8; 32],
    ) -> Result<Option<event_store::TokenRecord>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, role, unit, label, created_at, revoked_at FROM tokens WHERE token_hash = ?1 AND revoked_at IS NULL",
        ).db()?;
        stmt.query_row([token_hash.as_slice()], token_row)
            .optional()
            .db()
    }

    /// Every token, revoked or not, by id.
    fn list_tokens(&self) -> Result<Vec<event_store::TokenRecord>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT id, role, unit, label, created_at, revoked_at FROM tokens ORDER BY id")
            .db()?;
        let rows = stmt.query_map([], token_row).db()?;
        rows.collect::<Result<_, _>>().db()
    }

    /// Revokes a token; false when there is no such (unrevoked) token.
    fn revoke_token(&self, id: i64, revoked_at: &str) -> Result<bool, StoreError> {
        let n = self
            .conn
            .execute(
                "UPDATE tokens SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
                rusqlite::params![id, revoked_at],
            )
            .db()?;
        Ok(n == 1)
    }
}

impl EventStore for SqliteStore {
    /// Group commit: appends several independent batches in one transaction, each in its own
    /// savepoint, so one refused batch leaves the others whole and one disk sync covers all.
    /// Returns each batch's outcome; if the final commit fails, every batch fails.
    fn append_group(
        &mut self,
        batches: Vec<Vec<NewEvent>>,
        recorded_at: DateTime<FixedOffset>,
    ) -> Result<Vec<Result<AppendReport, AppendError>>, StoreError> {
        let mut tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .db()?;
        let mut outcomes = Vec::with_capacity(batches.len());
        for batch in batches {
            let sp = tx.savepoint().db()?;
            match append_batch(&sp, &mut batch.into_iter().map(Ok), recorded_at) {
                Ok(r) => {
                    sp.commit().db()?;
                    outcomes.push(Ok(r));
                }
                // The database failed, not the batch: SQLite may have rolled the whole
                // transaction back already, so the group fails as one.
                Err(AppendError {
                    kind: AppendErrorKind::Store(e),
                    ..
                }) => return Err(e),
                Err(e) => {
                    drop(sp); // rolls the savepoint back
                    outcomes.push(Err(e));
                }
            }
        }
        tx.commit().db()?;
        self.acknowledge()?;
        Ok(outcomes)
    }

    fn read_after(&self, after: u64, limit: u64) -> Result<Vec<RecordedEvent>, StoreError> {
        read_range(&self.conn, after, after.saturating_add(limit), Decode::Full)
    }

    fn append_iter(
        &mut self,
        events: &mut dyn Iterator<Item = Result<NewEvent, WireError>>,
        recorded_at: DateTime<FixedOffset>,
    ) -> Result<AppendReport, AppendError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .db()?;
        let report = append_batch(&tx, events, recorded_at)?;
        tx.commit().db()?;
        self.acknowledge()?;
        Ok(report)
    }

    fn head(&self) -> Result<Head, StoreError> {
        read_head(&self.conn)
    }

    fn read_stream(&self, stream: &str) -> Result<Vec<RecordedEvent>, StoreError> {
        // A stream's events are scattered over the log: each one's `prev_hash` is looked up.
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {SELECT_COLUMNS}, (SELECT p.hash FROM events p WHERE p.position = events.position - 1) \
             FROM events WHERE stream = ?1 ORDER BY version"
        )).db()?;
        let mut rows = stmt.query([stream]).db()?;
        let mut out = Vec::new();
        let mut batches = Batches::new(&self.conn);
        while let Some(row) = rows.next().db()? {
            let prev = match row.get_ref(12).db()? {
                rusqlite::types::ValueRef::Null => Hash::GENESIS,
                v => {
                    let position = row.get::<_, i64>(0).db()? as u64 - 1;
                    Hash::from_slice(v.as_blob().map_err(rusqlite::Error::from).db()?)
                        .ok_or_else(|| corrupt(position, "hash is not 32 bytes"))?
                }
            };
            out.push(decode_row(row, prev, Decode::Full, &mut batches)?);
        }
        Ok(out)
    }

    fn scan(&self, after: u64, f: &mut dyn FnMut(RecordedEvent)) -> Result<u64, StoreError> {
        self.scan_decoding(after, Decode::Full, f)
    }

    fn scan_for_folds(
        &self,
        after: u64,
        f: &mut dyn FnMut(RecordedEvent),
    ) -> Result<u64, StoreError> {
        self.scan_decoding(after, Decode::ForFolds, f)
    }

    fn verify_from(&self, from: Head) -> Result<VerifyReport, StoreError> {
        // Read before the walk, so that it never names a head past what the walk can see.
        let record = match (from.position, &self.path) {
            (0, Some(path)) => record::HeadRecord::read(path)?,
            _ => None,
        };
        if let Some(bad) = event_store::anchor_mismatch(from, self.hash_at(from.position)?) {
            return Ok(VerifyReport {
                events: 0,
                head: Head::default(),
                first_bad: Some(bad),
            });
        }
        let mut stmt = self
            .conn
            .prepare(&format!(
                "SELECT {SELECT_COLUMNS} FROM events WHERE position > ?1 ORDER BY position"
            ))
            .db()?;
        let mut rows = stmt.query([from.position as i64]).db()?;
        let mut prev = from;
        let mut scratch = Vec::with_capacity(1024);
        let mut batches = Batches::new(&self.conn);
        let mut checked = 0;
        while let Some(row) = rows.next().db()? {
            let position = row.get::<_, i64>(0).db()? as u64;
            let bad = |why: String| {
                Ok(VerifyReport {
                    events: checked,
                    head: prev,
                    first_bad: Some((position, why)),
                })
            };
            if position != prev.position + 1 {
                return bad(format!(
                    "position {position} follows {}: the log has a gap",
                    prev.position
                ));
            }
            let id_bytes: Vec<u8> = row.get(1).db()?;
            let Ok(id) = Uuid::from_slice(&id_bytes) else {
                return bad("event_id is not a 16-byte UUID".into());
            };
            let stream: String = row.get(2).db()?;
            let version = row.get::<_, i64>(3).db()? as u64;
            let ty: String = row.get(4).db()?;
            let occurred: String = row.get(5).db()?;
            let recorded = match batches.get(row.get(6).db()?, position) {
                Ok((text, _)) => text.to_string(),
                Err(e) => return bad(e.to_string()),
            };
            let actor: String = row.get(7).db()?;
            let schema_version = row.get::<_, i64>(8).db()? as u32;
            let data: String = row.get(9).db()?;
            let hash: Vec<u8> = row.get(10).db()?;
            let after: Option<String> = row.get(11).db()?;
            let stored = Hash::from_slice(&hash);
            let computed = event_store::StoredRowRef {
                position,
                id,
                stream: &stream,
                version,
                event_type: &ty,
                occurred_at: &occurred,
                occurred_after: after.as_deref(),
                recorded_at: &recorded,
                actor: &actor,
                schema_version,
                data: &data,
                hash: stored.unwrap_or(Hash::GENESIS),
            }
            .chain_hash(&prev.hash, &mut scratch);
            if stored != Some(computed) {
                return bad(format!(
                    "stored hash does not match its content (computed {computed})"
                ));
            }
            prev = Head {
                position,
                hash: computed,
            };
            checked += 1;
        }
        // A whole walk also holds the log to its head record: every acknowledged event there.
        if let (Some(marks), Some(path)) = (record, &self.path) {
            let ack = marks.acknowledged.position;
            if let Err(e) = record::check(marks, path, prev, self.hash_at(ack)?) {
                return Ok(VerifyReport {
                    events: checked,
                    head: prev,
                    first_bad: Some((ack.min(prev.position + 1), e.to_string())),
                });
            }
        }
        Ok(VerifyReport {
            events: checked,
            head: prev,
            first_bad: None,
        })
    }

    fn verified_head(&self) -> Result<Option<Head>, StoreError> {
        Ok(self
            .record
            .as_ref()
            .map(|r| r.marks().verified)
            .filter(|h| h.position > 0))
    }

    fn record_verified(&mut self, head: Head) -> Result<(), StoreError> {
        match &mut self.record {
            Some(r) => r.verified(head),
            None => Ok(()),
        }
    }
}

impl event_store::RawLog for SqliteStore {
    fn raw_after(&self, after: u64, limit: u64) -> Result<Vec<StoredRow>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT e.position, e.event_id, e.stream, e.version, e.type, e.occurred_at, \
                 e.occurred_after, e.batch, b.recorded_at, e.actor, e.schema_version, e.data, e.hash \
                 FROM events e JOIN batches b ON b.id = e.batch \
                 WHERE e.position > ?1 ORDER BY e.position LIMIT ?2",
            )
            .db()?;
        let mut rows = stmt
            .query([after as i64, limit.min(i64::MAX as u64) as i64])
            .db()?;
        let mut out = Vec::new();
        while let Some(r) = rows.next().db()? {
            let position = r.get::<_, i64>(0).db()? as u64;
            out.push(StoredRow {
                position,
                id: Uuid::from_slice(blob(r, 1, position)?)
                    .map_err(|e| corrupt(position, format!("event_id: {e}")))?,
                stream: r.get(2).db()?,
                version: r.get::<_, i64>(3).db()? as u64,
                event_type: r.get(4).db()?,
                occurred_at: r.get(5).db()?,
                occurred_after: r.get(6).db()?,
                batch: r.get::<_, i64>(7).db()? as u64,
                recorded_at: r.get(8).db()?,
                actor: r.get(9).db()?,
                schema_version: r.get::<_, i64>(10).db()? as u32,
                data: r.get(11).db()?,
                hash: Hash::from_slice(blob(r, 12, position)?)
                    .ok_or_else(|| corrupt(position, "hash is not 32 bytes"))?,
            });
        }
        Ok(out)
    }

    fn import_raw(&mut self, rows: &[StoredRow]) -> Result<Head, StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .db()?;
        let head = event_store::check_continuation(read_head(&tx)?, rows)?;
        {
            let mut batch = tx
                .prepare_cached("SELECT recorded_at FROM batches WHERE id = ?1")
                .db()?;
            let mut new_batch = tx
                .prepare_cached("INSERT INTO batches (id, recorded_at) VALUES (?1, ?2)")
                .db()?;
            let mut insert = tx.prepare_cached(
                "INSERT INTO events (position, event_id, stream, version, type, occurred_at, batch, actor, schema_version, data, hash, occurred_after) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            ).db()?;
            for row in rows {
                let stored: Option<String> = batch
                    .query_row([row.batch as i64], |r| r.get(0))
                    .optional()
                    .db()?;
                match stored {
                    None => {
                        new_batch
                            .execute(params![row.batch as i64, row.recorded_at])
                            .db()?;
                    }
                    Some(at) if at == row.recorded_at => {}
                    Some(at) => {
                        return Err(corrupt(
                            row.position,
                            format!(
                                "batch {} is recorded at {at} in the target, {} in the source",
                                row.batch, row.recorded_at
                            ),
                        ))
                    }
                }
                insert
                    .execute(params![
                        row.position as i64,
                        row.id.as_bytes().as_slice(),
                        row.stream,
                        row.version as i64,
                        row.event_type,
                        row.occurred_at,
                        row.batch as i64,
                        row.actor,
                        row.schema_version,
                        row.data,
                        row.hash.0.as_slice(),
                        row.occurred_after,
                    ])
                    .db()?;
            }
        }
        tx.commit().db()?;
        self.acknowledge()?;
        Ok(head)
    }
}

fn read_head(conn: &Connection) -> Result<Head, StoreError> {
    let row = conn
        .query_row(
            "SELECT position, hash FROM events ORDER BY position DESC LIMIT 1",
            [],
            |r| Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?)),
        )
        .optional()
        .db()?;
    match row {
        None => Ok(Head::default()),
        Some((position, hash)) => Ok(Head {
            position: position as u64,
            hash: Hash::from_slice(&hash)
                .ok_or_else(|| corrupt(position as u64, "hash is not 32 bytes"))?,
        }),
    }
}

fn load_stream_head(
    stmt: &mut rusqlite::CachedStatement<'_>,
    stream: &str,
) -> Result<StreamHead, StoreError> {
    let mut head = StreamHead::new();
    let mut rows = stmt.query([stream]).db()?;
    while let Some(r) = rows.next().db()? {
        let position = r.get::<_, i64>(4).db()? as u64;
        head.apply_stored(
            stream,
            StoredStep {
                position,
                version: r.get::<_, i64>(0).db()? as u64,
                event_type: text(r, 1, position)?,
                occurred_at: text(r, 2, position)?,
                data: text(r, 3, position)?,
                schema_version: r.get::<_, i64>(5).db()? as u32,
            },
        )?;
    }
    Ok(head)
}

/// Reads and decodes every event after `after` in position order; `f` returns false to stop.
fn scan_rows(
    conn: &Connection,
    after: u64,
    decode: Decode,
    f: &mut dyn FnMut(RecordedEvent) -> bool,
) -> Result<u64, StoreError> {
    let mut stmt = conn
        .prepare_cached(&format!(
            "SELECT {SELECT_COLUMNS} FROM events WHERE position > ?1 ORDER BY position"
        ))
        .db()?;
    let mut rows = stmt.query([after as i64]).db()?;
    let mut prev = hash_at(conn, after)?;
    let mut batches = Batches::new(conn);
    let mut n = 0;
    while let Some(row) = rows.next().db()? {
        n += 1;
        let e = decode_row(row, prev, decode, &mut batches)?;
        prev = e.hash;
        if !f(e) {
            break;
        }
    }
    Ok(n)
}

/// Events per chunk a decoding thread reads with one range query.
const SCAN_CHUNK: u64 = 4096;

/// Reads the log on one connection per decoding thread: thread `k` of `W` reads and decodes
/// the position chunks `k, k + W, k + 2W, ...`, and the caller takes the chunks back in order,
/// so events reach `f` in position order while decoding runs in parallel. Each thread keeps at
/// most a few chunks ahead, so memory stays bounded. The scan covers the log up to its head at
/// the start.
fn scan_pipelined(
    path: &Path,
    conn: &Connection,
    after: u64,
    decode: Decode,
    f: &mut dyn FnMut(RecordedEvent),
) -> Result<u64, StoreError> {
    let head = read_head(conn)?.position;
    if head <= after {
        return Ok(0);
    }
    let chunks = (head - after).div_ceil(SCAN_CHUNK);
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 4) as u64;
    let workers = workers.min(chunks);
    type Chunk = Result<Vec<RecordedEvent>, StoreError>;
    std::thread::scope(|scope| {
        let mut receivers = Vec::new();
        for k in 0..workers {
            let (tx, rx) = std::sync::mpsc::sync_channel::<Chunk>(4);
            receivers.push(rx);
            scope.spawn(move || {
                let conn = match Connection::open_with_flags(
                    path,
                    OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
                ) {
                    Ok(c) => c,
                    Err(e) => {
                        let _ = tx.send(Err(sql_error(e)));
                        return;
                    }
                };
                let mut c = k;
                while c < chunks {
                    let lo = after + c * SCAN_CHUNK;
                    let hi = (lo + SCAN_CHUNK).min(head);
                    let chunk = read_range(&conn, lo, hi, decode);
                    let failed = chunk.is_err();
                    if tx.send(chunk).is_err() || failed {
                        return;
                    }
                    c += workers;
                }
            });
        }
        let mut n = 0u64;
        for c in 0..chunks {
            let chunk = receivers[(c % workers) as usize]
                .recv()
                .expect("a scan thread stopped without reporting")?;
            n += chunk.len() as u64;
            chunk.into_iter().for_each(&mut *f);
        }
        Ok(n)
    })
}

/// The events with `lo < position <= hi`, decoded.
fn read_range(
    conn: &Connection,
    lo: u64,
    hi: u64,
    decode: Decode,
) -> Result<Vec<RecordedEvent>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {SELECT_COLUMNS} FROM events WHERE position > ?1 AND position <= ?2 ORDER BY position"
    )).db()?;
    let mut rows = stmt.query([lo as i64, hi as i64]).db()?;
    let mut out = Vec::with_capacity((hi - lo) as usize);
    let mut prev = hash_at(conn, lo)?;
    let mut batches = Batches::new(conn);
    while let Some(row) = rows.next().db()? {
        let e = decode_row(row, prev, decode, &mut batches)?;
        prev = e.hash;
        out.push(e);
    }
    Ok(out)
}

/// The hash of the event at `position` (the genesis hash before the first).
fn hash_at(conn: &Connection, position: u64) -> Result<Hash, StoreError> {
    if position == 0 {
        return Ok(Hash::GENESIS);
    }
    let mut stmt = conn
        .prepare_cached("SELECT hash FROM events WHERE position = ?1")
        .db()?;
    let bytes: Option<Vec<u8>> = stmt
        .query_row([position as i64], |r| r.get(0))
        .optional()
        .db()?;
    match bytes {
        // Past the head: nothing follows, so nothing needs it.
        None => Ok(Hash::GENESIS),
        Some(b) => Hash::from_slice(&b).ok_or_else(|| corrupt(position, "hash is not 32 bytes")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::EventStore;

    fn received(n: usize) -> NewEvent {
        event_model::parse_wire_event(&format!(
            r#"{{"id":"0190a000-0000-7000-8000-{n:012}","stream":"C-{n}","type":"received","occurred_at":"2024-09-02T09:00:00+07:00","actor":"a","data":{{"channel":"web","category":"road","district":"d","subject":"{}","complainant":{{"anonymous":true}}}}}}"#,
            "x".repeat(2000)
        ))
        .unwrap()
    }

    #[test]
    fn a_full_disk_is_told_apart_and_stores_nothing() {
        let mut store = SqliteStore::open_in_memory().unwrap();
        let at = event_model::parse_instant("2024-09-02T10:00:00+07:00").unwrap();
        store.append(&[received(1)], at).unwrap();
        // The database may grow by only a few pages: as a full disk does, SQLite answers
        // SQLITE_FULL.
        let pages: i64 = store
            .conn
            .query_row("PRAGMA page_count", [], |r| r.get(0))
            .unwrap();
        store
            .conn
            .pragma_update(None, "max_page_count", pages + 2)
            .unwrap();
        let batch: Vec<NewEvent> = (2..200).map(received).collect();
        let err = store.append(&batch, at).unwrap_err();
        match &err.kind {
            event_store::AppendErrorKind::Store(s) => assert!(s.is_full(), "{s}"),
            other => panic!("not a storage failure: {other}"),
        }
        assert_eq!(
            store.head().unwrap().position,
            1,
            "nothing of the batch was stored"
        );
    }
}
