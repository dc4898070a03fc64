//! The PostgreSQL backend of the event log ([`PgStore`]), for more than one machine: several
//! servers append to one database, and PostgreSQL's own replication, backups and recovery
//! keep it.
//!
//! The rows, texts and hashes are SQLite's, so a log copied between the backends keeps every
//! hash. Appends take the one `head` row with `SELECT ... FOR UPDATE`, so they are serial
//! across every process: positions have no gaps and become visible in position order (a reader
//! following "everything after N" never passes over an event committed late). The append
//! decisions are the shared ones (`event_store::decide`); this crate keeps the transaction,
//! the look-ups (one query per chunk of events, not per event) and the SQL.

pub mod baseline;

use std::cell::RefCell;

use chrono::{DateTime, FixedOffset};
use event_model::{
    format_instant, CanonicalFields, FxMap, Hash, NewEvent, RecordedEvent, WireError,
};
use event_store::decide::{
    check, repeat_or_conflict, EventTexts, StoredContent, StoredStep, StreamHead,
};
use event_store::{
    AppendError, AppendErrorKind, AppendReport, Appended, Durability, EventStore, Head, StoreError,
    StoredRow, TokenRecord, VerifyReport,
};
use postgres::fallible_iterator::FallibleIterator;
use postgres::{Client, GenericClient, NoTls};
use uuid::Uuid;

/// Versioned schema migrations, applied in order; `rongtook_schema` records each one applied.
const MIGRATIONS: &[&str] = &[include_str!("../migrations/0001_log.sql")];

/// The channel a commit notifies with its new head position (servers following the log
/// listen on it).
pub const CHANNEL: &str = "rongtook_log";

/// Events a scan's reading thread hands over at a time.
const SCAN_CHUNK: usize = 4096;

/// Events decided per round of look-ups and written per INSERT.
const CHUNK: usize = 2000;

/// The stored columns, in the order [`stored_row`] reads them.
const COLUMNS: &str = "e.position, e.event_id, e.stream, e.version, e.type, e.occurred_at, \
     e.occurred_after, e.batch, b.recorded_at, e.actor, e.schema_version, e.data, e.hash";

/// The events joined to their batches, for whole scans (one hash join).
const FROM: &str = "FROM events e JOIN batches b ON b.id = e.batch";

/// The same columns for bounded reads (a page, a stream): each row's batch looked up by its
/// key, so a read of a few events never joins the whole `batches` table (one row per append).
const COLUMNS_LOOKED_UP: &str = "e.position, e.event_id, e.stream, e.version, e.type, \
     e.occurred_at, e.occurred_after, e.batch, \
     (SELECT b.recorded_at FROM batches b WHERE b.id = e.batch), e.actor, e.schema_version, \
     e.data, e.hash";

/// The PostgreSQL event log: one connection.
pub struct PgStore {
    client: RefCell<Client>,
    /// Where it connected, for the scan's second connection.
    uri: String,
    /// Whether this connection listens on [`CHANNEL`] (from the first wait on).
    listening: std::cell::Cell<bool>,
    /// Whether the server was a hot standby when connected (no notifications there).
    standby: bool,
}

/// PostgreSQL's errors as the store's: a full disk told apart, the server's own message kept.
pub(crate) fn pg_error(e: postgres::Error) -> StoreError {
    use postgres::error::SqlState;
    let message = match e.as_db_error() {
        Some(db) => format!("{}: {} ({})", db.severity(), db.message(), db.code().code()),
        None => match std::error::Error::source(&e) {
            Some(source) => format!("{e}: {source}"),
            None => e.to_string(),
        },
    };
    match e.code() {
        Some(c) if c == &SqlState::DISK_FULL => StoreError::Full(message),
        // Class 58 (system error: I/O) and the server finding its own data damaged.
        Some(c)
            if c.code().starts_with("58")
                || c == &SqlState::DATA_CORRUPTED
                || c == &SqlState::INDEX_CORRUPTED =>
        {
            StoreError::Io(message)
        }
        _ => StoreError::Database(message),
    }
}

/// `?` on PostgreSQL's results, in the store's error.
pub(crate) trait Db<T> {
    fn db(self) -> Result<T, StoreError>;
}

impl<T> Db<T> for Result<T, postgres::Error> {
    fn db(self) -> Result<T, StoreError> {
        self.map_err(pg_error)
    }
}

fn corrupt(position: u64, message: impl Into<String>) -> StoreError {
    StoreError::Corrupt {
        position,
        message: message.into(),
    }
}

/// The advisory lock key that serialises migrations across processes starting together.
const MIGRATION_LOCK: i64 = 0x726f_6e67_746f_6f6b; // "rongtook"

impl PgStore {
    /// Connects to the database at `uri` (a libpq connection URI) and brings its schema up to
    /// date. `Durability::Normal` turns `synchronous_commit` off for this connection. A hot
    /// standby (a server in recovery) is opened for reading only, as
    /// [`open_read_only`](PgStore::open_read_only) does: it takes no appends until promoted.
    pub fn open(uri: &str, durability: Durability) -> Result<PgStore, StoreError> {
        let mut client = connect(uri)?;
        if in_recovery(&mut client)? {
            return Self::reading(client, uri, true);
        }
        if durability == Durability::Normal {
            client.batch_execute("SET synchronous_commit = off").db()?;
        }
        migrate(&mut client)?;
        Ok(PgStore {
            client: RefCell::new(client),
            uri: uri.to_string(),
            listening: std::cell::Cell::new(false),
            standby: false,
        })
    }

    /// Like [`open`](PgStore::open), for a database that must already hold a log: one
    /// without Rongtook's schema is refused (nothing is created by reading).
    pub fn open_existing(uri: &str, durability: Durability) -> Result<PgStore, StoreError> {
        if schema_version(&mut connect(uri)?)? == 0 {
            return Err(StoreError::NotALog {
                path: redact(uri),
                message: "the database holds no Rongtook log (create one with `rongtook \
                          append`, `rongtook demo` or `rongtook copy`)"
                    .into(),
            });
        }
        PgStore::open(uri, durability)
    }

    /// Connects for reading only (a primary or a hot standby): the schema must be there and
    /// current; every transaction of the connection is read-only.
    pub fn open_read_only(uri: &str) -> Result<PgStore, StoreError> {
        let mut client = connect(uri)?;
        let standby = in_recovery(&mut client)?;
        Self::reading(client, uri, standby)
    }

    fn reading(mut client: Client, uri: &str, standby: bool) -> Result<PgStore, StoreError> {
        let found = schema_version(&mut client)?;
        let known = MIGRATIONS.len() as i64;
        if found > known {
            return Err(StoreError::SchemaTooNew { found, known });
        }
        if found < known {
            return Err(StoreError::NotALog {
                path: redact(uri),
                message: format!("schema version {found}, expected {known}"),
            });
        }
        client
            .batch_execute("SET default_transaction_read_only = on")
            .db()?;
        Ok(PgStore {
            client: RefCell::new(client),
            uri: uri.to_string(),
            listening: std::cell::Cell::new(false),
            standby,
        })
    }
}

/// Whether the server is a standby (in recovery: read-only, no notifications).
fn in_recovery(client: &mut Client) -> Result<bool, StoreError> {
    Ok(client
        .query_one("SELECT pg_is_in_recovery()", &[])
        .db()?
        .get(0))
}

fn connect(uri: &str) -> Result<Client, StoreError> {
    let config: postgres::Config = uri.parse().map_err(|e| StoreError::NotALog {
        path: redact(uri),
        message: format!("not a PostgreSQL connection URI: {e}"),
    })?;
    config
        .connect(NoTls)
        .map_err(|e| StoreError::Unavailable(format!("{}: {}", redact(uri), pg_error(e))))
}

/// A connection URI without its password.
fn redact(uri: &str) -> String {
    match uri.split_once("://") {
        Some((scheme, rest)) => match rest.split_once('@') {
            Some((userinfo, host)) => match userinfo.split_once(':') {
                Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
                None => uri.to_string(),
            },
            None => uri.to_string(),
        },
        None => uri.to_string(),
    }
}

/// The last migration applied (0 for a database without the log).
fn schema_version(client: &mut Client) -> Result<i64, StoreError> {
    let exists: bool = client
        .query_one("SELECT to_regclass('rongtook_schema') IS NOT NULL", &[])
        .db()?
        .get(0);
    if !exists {
        return Ok(0);
    }
    Ok(client
        .query_one(
            "SELECT COALESCE(MAX(version), 0)::BIGINT FROM rongtook_schema",
            &[],
        )
        .db()?
        .get(0))
}

/// Applies the migrations not yet applied, each in its own transaction, under an advisory
/// lock so that servers starting together migrate once.
fn migrate(client: &mut Client) -> Result<(), StoreError> {
    let mut tx = client.transaction().db()?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .db()?;
    // "already exists, skipping" is no news at every start.
    tx.batch_execute("SET LOCAL client_min_messages = warning")
        .db()?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS rongtook_schema (
             version    INTEGER PRIMARY KEY,
             applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
         )",
    )
    .db()?;
    let found: i64 = tx
        .query_one(
            "SELECT COALESCE(MAX(version), 0)::BIGINT FROM rongtook_schema",
            &[],
        )
        .db()?
        .get(0);
    let known = MIGRATIONS.len() as i64;
    if found > known {
        return Err(StoreError::SchemaTooNew { found, known });
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        tx.batch_execute(sql).db()?;
        tx.execute(
            "INSERT INTO rongtook_schema (version) VALUES ($1)",
            &[&((i + 1) as i32)],
        )
        .db()?;
    }
    tx.commit().db()
}

/// The head row: the last position, its hash, the last batch id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct HeadRow {
    head: Head,
    batch: u64,
}

fn hash_of(bytes: &[u8], position: u64) -> Result<Hash, StoreError> {
    Hash::from_slice(bytes).ok_or_else(|| corrupt(position, "hash is not 32 bytes"))
}

/// Takes the head row until the transaction ends: appends are serial from here.
fn lock_head(tx: &mut impl GenericClient) -> Result<HeadRow, StoreError> {
    let r = tx
        .query_one("SELECT position, hash, batch FROM head FOR UPDATE", &[])
        .db()?;
    let position = r.get::<_, i64>(0) as u64;
    Ok(HeadRow {
        head: Head {
            position,
            hash: hash_of(r.get(1), position)?,
        },
        batch: r.get::<_, i64>(2) as u64,
    })
}

/// Moves the head row and tells the followers (the notification is sent at commit).
fn move_head(tx: &mut impl GenericClient, to: HeadRow) -> Result<(), StoreError> {
    tx.execute(
        "WITH moved AS (UPDATE head SET position = $1, hash = $2, batch = $3 RETURNING position) \
         SELECT pg_notify($4, position::TEXT) FROM moved",
        &[
            &(to.head.position as i64),
            &to.head.hash.0.as_slice(),
            &(to.batch as i64),
            &CHANNEL,
        ],
    )
    .db()?;
    Ok(())
}

/// What an append compares of an event whose id is already stored.
struct Identity {
    position: u64,
    version: u64,
    stream: String,
    event_type: String,
    occurred_at: String,
    actor: String,
    data: String,
    occurred_after: Option<String>,
}

/// Rows decided and not yet written, column by column (one INSERT of arrays).
#[derive(Default)]
struct Rows {
    position: Vec<i64>,
    id: Vec<Vec<u8>>,
    stream: Vec<String>,
    version: Vec<i64>,
    event_type: Vec<String>,
    occurred_at: Vec<String>,
    occurred_after: Vec<Option<String>>,
    batch: Vec<i64>,
    actor: Vec<String>,
    schema_version: Vec<i32>,
    data: Vec<String>,
    hash: Vec<Vec<u8>>,
}

impl Rows {
    fn push(&mut self, f: &CanonicalFields<'_>, batch: u64, hash: Hash) {
        self.position.push(f.position as i64);
        self.id.push(f.id.as_bytes().to_vec());
        self.stream.push(f.stream.to_string());
        self.version.push(f.version as i64);
        self.event_type.push(f.event_type.to_string());
        self.occurred_at.push(f.occurred_at.to_string());
        self.occurred_after
            .push(f.occurred_after.map(str::to_string));
        self.batch.push(batch as i64);
        self.actor.push(f.actor.to_string());
        self.schema_version.push(f.schema_version as i32);
        self.data.push(f.data.to_string());
        self.hash.push(hash.0.to_vec());
    }

    fn push_stored(&mut self, r: &StoredRow) {
        self.position.push(r.position as i64);
        self.id.push(r.id.as_bytes().to_vec());
        self.stream.push(r.stream.clone());
        self.version.push(r.version as i64);
        self.event_type.push(r.event_type.clone());
        self.occurred_at.push(r.occurred_at.clone());
        self.occurred_after.push(r.occurred_after.clone());
        self.batch.push(r.batch as i64);
        self.actor.push(r.actor.clone());
        self.schema_version.push(r.schema_version as i32);
        self.data.push(r.data.clone());
        self.hash.push(r.hash.0.to_vec());
    }

    /// Keeps the first `n` rows.
    fn truncate(&mut self, n: usize) {
        self.position.truncate(n);
        self.id.truncate(n);
        self.stream.truncate(n);
        self.version.truncate(n);
        self.event_type.truncate(n);
        self.occurred_at.truncate(n);
        self.occurred_after.truncate(n);
        self.batch.truncate(n);
        self.actor.truncate(n);
        self.schema_version.truncate(n);
        self.data.truncate(n);
        self.hash.truncate(n);
    }

    /// Writes the rows with one INSERT and empties them.
    fn flush(&mut self, tx: &mut impl GenericClient) -> Result<(), postgres::Error> {
        if self.position.is_empty() {
            return Ok(());
        }
        tx.execute(
            "INSERT INTO events (position, event_id, stream, version, type, occurred_at, \
             occurred_after, batch, actor, schema_version, data, hash) \
             SELECT * FROM unnest($1::BIGINT[], $2::BYTEA[], $3::TEXT[], $4::BIGINT[], \
             $5::TEXT[], $6::TEXT[], $7::TEXT[], $8::BIGINT[], $9::TEXT[], $10::INTEGER[], \
             $11::TEXT[], $12::BYTEA[])",
            &[
                &self.position,
                &self.id,
                &self.stream,
                &self.version,
                &self.event_type,
                &self.occurred_at,
                &self.occurred_after,
                &self.batch,
                &self.actor,
                &self.schema_version,
                &self.data,
                &self.hash,
            ],
        )?;
        *self = Rows::default();
        Ok(())
    }
}

/// The stored events among `ids`, by id.
fn stored_ids(
    tx: &mut impl GenericClient,
    ids: &[Vec<u8>],
) -> Result<FxMap<Uuid, Identity>, StoreError> {
    let rows = tx
        .query(
            "SELECT event_id, position, version, stream, type, occurred_at, actor, data, \
             occurred_after FROM events WHERE event_id = ANY($1)",
            &[&ids],
        )
        .db()?;
    let mut out = FxMap::default();
    for r in rows {
        let position = r.get::<_, i64>(1) as u64;
        let id = Uuid::from_slice(r.get(0)).map_err(|e| corrupt(position, e.to_string()))?;
        out.insert(
            id,
            Identity {
                position,
                version: r.get::<_, i64>(2) as u64,
                stream: r.get(3),
                event_type: r.get(4),
                occurred_at: r.get(5),
                actor: r.get(6),
                data: r.get(7),
                occurred_after: r.get(8),
            },
        );
    }
    Ok(out)
}

/// Loads the heads of `streams` (new streams get an empty head).
fn load_streams(
    tx: &mut impl GenericClient,
    streams: Vec<String>,
    into: &mut FxMap<String, StreamHead>,
) -> Result<(), StoreError> {
    if streams.is_empty() {
        return Ok(());
    }
    let rows = tx
        .query(
            "SELECT stream, position, version, type, occurred_at, data, schema_version \
             FROM events WHERE stream = ANY($1) ORDER BY stream, version",
            &[&streams],
        )
        .db()?;
    for s in streams {
        into.entry(s).or_default();
    }
    for r in rows {
        let stream: &str = r.get(0);
        let head = into.get_mut(stream).expect("every asked stream has a head");
        head.apply_stored(
            stream,
            StoredStep {
                position: r.get::<_, i64>(1) as u64,
                version: r.get::<_, i64>(2) as u64,
                event_type: r.get(3),
                occurred_at: r.get(4),
                data: r.get(5),
                schema_version: r.get::<_, i32>(6) as u32,
            },
        )?;
    }
    Ok(())
}

/// The append decisions of one transaction, made in memory: the head, the stream heads and
/// stored ids looked up a chunk at a time, and the rows decided but not yet written. The head
/// row lock makes the look-ups exact (no other append runs meanwhile), so a refused batch is
/// undone in memory: nothing of it reached the database.
struct Decider {
    head: HeadRow,
    streams: FxMap<String, StreamHead>,
    stored: FxMap<Uuid, Identity>,
    /// Ids decided in this transaction and not yet written, by row index.
    fresh: FxMap<Uuid, usize>,
    rows: Rows,
    /// Batches decided and not yet written: (id, recorded_at).
    batches: Vec<(i64, String)>,
    scratch: Vec<u8>,
    /// Whether a `received` of a stream not known yet is taken to open it, and ids to be
    /// unused, without looking (the INSERT's unique keys say otherwise, and the chunk is then
    /// decided again after looking).
    assume_new: bool,
}

/// What a refused batch must restore.
struct Undo {
    head: HeadRow,
    rows: usize,
    /// Each stream the batch touched, as it was before (`None`: not known before).
    streams: FxMap<String, Option<StreamHead>>,
}

impl Decider {
    fn new(head: HeadRow) -> Decider {
        Decider {
            head,
            streams: FxMap::default(),
            stored: FxMap::default(),
            fresh: FxMap::default(),
            rows: Rows::default(),
            batches: Vec::new(),
            scratch: Vec::with_capacity(1024),
            assume_new: false,
        }
    }

    /// Looks up only what cannot be assumed: the heads of unknown streams of events other
    /// than `received`. Ids are taken to be unused.
    fn look_up_assuming_new<'e>(
        &mut self,
        tx: &mut impl GenericClient,
        events: impl Iterator<Item = &'e NewEvent>,
    ) -> Result<(), StoreError> {
        self.stored.clear();
        let events: Vec<&NewEvent> = events.collect();
        // Streams a `received` of these events opens need no look-up either.
        let opened: std::collections::HashSet<&str> = events
            .iter()
            .filter(|e| e.event_type() == event_model::EventType::Received)
            .map(|e| e.stream.as_str())
            .collect();
        let mut unknown: Vec<String> = events
            .iter()
            .filter(|e| {
                !opened.contains(e.stream.as_str()) && !self.streams.contains_key(e.stream.as_str())
            })
            .map(|e| e.stream.clone())
            .collect();
        unknown.sort_unstable();
        unknown.dedup();
        load_streams(tx, unknown, &mut self.streams)
    }

    /// Looks up what deciding `events` needs: their ids among the stored events, and the heads
    /// of their streams not known yet.
    fn look_up<'e>(
        &mut self,
        tx: &mut impl GenericClient,
        events: impl Iterator<Item = &'e NewEvent> + Clone,
    ) -> Result<(), StoreError> {
        let ids: Vec<Vec<u8>> = events.clone().map(|e| e.id.as_bytes().to_vec()).collect();
        self.stored = stored_ids(tx, &ids)?;
        let mut unknown: Vec<String> = events
            .filter(|e| !self.streams.contains_key(e.stream.as_str()))
            .map(|e| e.stream.clone())
            .collect();
        unknown.sort_unstable();
        unknown.dedup();
        load_streams(tx, unknown, &mut self.streams)
    }

    /// Decides one event (the `index`th of its batch) of batch `batch`: a repeat, a conflict,
    /// a refusal, or a row.
    fn decide(
        &mut self,
        index: usize,
        ev: &NewEvent,
        batch: u64,
        recorded_text: &str,
        undo: &mut Undo,
    ) -> Result<Appended, AppendError> {
        let fail = |kind: AppendErrorKind| AppendError::at(index, Some(ev.id), kind);
        let texts = EventTexts::of(ev);
        let rows = &self.rows;
        let earlier = match self.stored.get(&ev.id) {
            Some(s) => Some((
                texts.same_as(
                    ev,
                    StoredContent {
                        stream: &s.stream,
                        event_type: &s.event_type,
                        occurred_at: &s.occurred_at,
                        actor: &s.actor,
                        data: &s.data,
                        occurred_after: s.occurred_after.as_deref(),
                    },
                ),
                s.position,
                s.version,
            )),
            None => self.fresh.get(&ev.id).map(|&r| {
                (
                    texts.same_as(
                        ev,
                        StoredContent {
                            stream: &rows.stream[r],
                            event_type: &rows.event_type[r],
                            occurred_at: &rows.occurred_at[r],
                            actor: &rows.actor[r],
                            data: &rows.data[r],
                            occurred_after: rows.occurred_after[r].as_deref(),
                        },
                    ),
                    rows.position[r] as u64,
                    rows.version[r] as u64,
                )
            }),
        };
        if let Some((same, position, version)) = earlier {
            return repeat_or_conflict(same, position, version).map_err(fail);
        }
        if self.assume_new && !self.streams.contains_key(ev.stream.as_str()) {
            // A stream some `received` of the chunk opens (the others were looked up); an
            // event before its `received` is refused here, and the chunk decided again.
            undo.streams.insert(ev.stream.clone(), None);
            self.streams.insert(ev.stream.clone(), StreamHead::new());
        }
        let sh = self
            .streams
            .get_mut(ev.stream.as_str())
            .expect("every stream of the chunk is looked up");
        check(sh, ev).map_err(fail)?;
        if !undo.streams.contains_key(ev.stream.as_str()) {
            undo.streams.insert(ev.stream.clone(), Some(sh.clone()));
        }
        let position = self.head.head.position + 1;
        let version = sh.version + 1;
        let fields = texts.fields(ev, position, version, recorded_text);
        let hash = fields.chain_hash(&self.head.head.hash, &mut self.scratch);
        self.fresh.insert(ev.id, self.rows.position.len());
        self.rows.push(&fields, batch, hash);
        sh.advance(&ev.stream, version, ev.occurred_at, &ev.data);
        self.head.head = Head { position, hash };
        Ok(Appended {
            position,
            version,
            duplicate: false,
        })
    }

    fn undo_point(&self) -> Undo {
        Undo {
            head: self.head,
            rows: self.rows.position.len(),
            streams: FxMap::default(),
        }
    }

    /// Forgets a refused batch's rows and moves.
    fn undo(&mut self, undo: Undo) {
        for id in self.rows.id.drain(undo.rows..) {
            self.fresh.remove(&Uuid::from_slice(&id).expect("16 bytes"));
        }
        self.rows.truncate(undo.rows);
        for (stream, head) in undo.streams {
            match head {
                Some(h) => self.streams.insert(stream, h),
                None => self.streams.remove(&stream),
            };
        }
        self.head = undo.head;
    }

    /// Decides a whole batch (looked up already), atomically: on a refusal nothing of it stays.
    fn batch(
        &mut self,
        events: &[NewEvent],
        recorded_text: &str,
    ) -> Result<AppendReport, AppendError> {
        let batch = self.head.batch + 1;
        let mut undo = self.undo_point();
        let mut report = AppendReport::default();
        for (i, ev) in events.iter().enumerate() {
            match self.decide(i, ev, batch, recorded_text, &mut undo) {
                Ok(a) => {
                    if a.duplicate {
                        report.duplicates += 1;
                    } else {
                        report.appended += 1;
                    }
                    report.events.push(a);
                }
                Err(e) => {
                    self.undo(undo);
                    return Err(e);
                }
            }
        }
        if report.appended > 0 {
            self.head.batch = batch;
            self.batches.push((batch as i64, recorded_text.to_string()));
        }
        Ok(report)
    }

    /// Writes the decided rows and batches.
    fn flush(&mut self, tx: &mut impl GenericClient) -> Result<(), StoreError> {
        self.rows.flush(tx).db()?;
        self.fresh.clear();
        if !self.batches.is_empty() {
            let (ids, ats): (Vec<i64>, Vec<String>) =
                std::mem::take(&mut self.batches).into_iter().unzip();
            tx.execute(
                "INSERT INTO batches (id, recorded_at) SELECT * FROM unnest($1::BIGINT[], $2::TEXT[])",
                &[&ids, &ats],
            )
            .db()?;
        }
        Ok(())
    }
}

/// Decides a chunk of one batch (events `index..` of it) and writes it. With `assume_new`
/// (ids unused, `received` streams new, not looked up) the INSERT runs in a savepoint; when
/// an assumption may have been wrong (a unique key violated, or an event refused, which a
/// repeat of a stored event would explain), the chunk is undone and `None` returned: decide
/// it again without assuming.
fn decide_chunk(
    tx: &mut postgres::Transaction<'_>,
    d: &mut Decider,
    chunk: &[NewEvent],
    index: usize,
    batch: u64,
    recorded_text: &str,
    assume_new: bool,
) -> Result<Option<Vec<Appended>>, AppendError> {
    d.assume_new = assume_new;
    if assume_new {
        d.look_up_assuming_new(tx, chunk.iter())?;
    } else {
        d.look_up(tx, chunk.iter())?;
    }
    let mut undo = d.undo_point();
    let mut places = Vec::with_capacity(chunk.len());
    for (i, ev) in chunk.iter().enumerate() {
        match d.decide(index + i, ev, batch, recorded_text, &mut undo) {
            Ok(a) => places.push(a),
            Err(_) if assume_new => {
                d.assume_new = false;
                d.undo(undo);
                return Ok(None);
            }
            Err(e) => return Err(e),
        }
    }
    d.assume_new = false;
    if !assume_new {
        d.rows.flush(tx).db()?;
        d.fresh.clear();
        return Ok(Some(places));
    }
    let mut sp = tx.savepoint("chunk").db()?;
    match d.rows.flush(&mut sp) {
        Ok(()) => {
            sp.commit().db()?;
            d.fresh.clear();
            Ok(Some(places))
        }
        Err(e) if e.code() == Some(&postgres::error::SqlState::UNIQUE_VIOLATION) => {
            sp.rollback().db()?;
            d.undo(undo);
            Ok(None)
        }
        Err(e) => Err(pg_error(e).into()),
    }
}

/// Appends one batch, streamed a chunk at a time (look-ups, decisions, one INSERT per chunk),
/// inside the caller's transaction; stops at the first refused event (the caller rolls back).
fn append_streamed(
    tx: &mut postgres::Transaction<'_>,
    d: &mut Decider,
    events: &mut dyn Iterator<Item = Result<NewEvent, WireError>>,
    recorded_at: DateTime<FixedOffset>,
) -> Result<AppendReport, AppendError> {
    let recorded_text = format_instant(&recorded_at);
    let batch = d.head.batch + 1;
    let mut report = AppendReport::default();
    let mut index = 0usize;
    loop {
        // A chunk of decoded events, up to the first one that does not decode.
        let mut chunk = Vec::with_capacity(CHUNK);
        let mut malformed = None;
        while chunk.len() < CHUNK {
            match events.next() {
                None => break,
                Some(Ok(ev)) => chunk.push(ev),
                Some(Err(e)) => {
                    let id = e.event_id.as_deref().and_then(|s| Uuid::parse_str(s).ok());
                    malformed = Some(AppendError::at(
                        index + chunk.len(),
                        id,
                        AppendErrorKind::Malformed(e),
                    ));
                    break;
                }
            }
        }
        if chunk.is_empty() && malformed.is_none() {
            break;
        }
        // Optimistically first (ids unused, `received` streams new), else after looking.
        let places = match decide_chunk(tx, d, &chunk, index, batch, &recorded_text, true)? {
            Some(p) => p,
            None => decide_chunk(tx, d, &chunk, index, batch, &recorded_text, false)?
                .expect("a careful decision gives an answer"),
        };
        for a in places {
            if a.duplicate {
                report.duplicates += 1;
            } else {
                report.appended += 1;
            }
            report.events.push(a);
        }
        index += chunk.len();
        if let Some(e) = malformed {
            return Err(e);
        }
    }
    if report.appended > 0 {
        d.head.batch = batch;
        d.batches.push((batch as i64, recorded_text));
        d.flush(tx)?;
    }
    Ok(report)
}

/// Streams every row after `after` in position order (one repeatable-read, read-only
/// transaction: the log as of the start) to `f`, until it returns false; returns how many.
fn ordered_scan(
    client: &mut Client,
    after: u64,
    f: &mut dyn FnMut(postgres::Row) -> Result<bool, StoreError>,
) -> Result<u64, StoreError> {
    let mut tx = client
        .build_transaction()
        .isolation_level(postgres::IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .db()?;
    let after = after as i64;
    let mut rows = tx
        .query_raw(
            &format!("SELECT {COLUMNS} {FROM} WHERE e.position > $1 ORDER BY e.position"),
            [&after as &(dyn postgres::types::ToSql + Sync)],
        )
        .db()?;
    let mut n = 0;
    while let Some(r) = rows.next().db()? {
        n += 1;
        if !f(r)? {
            break;
        }
    }
    drop(rows);
    tx.commit().db()?;
    Ok(n)
}

/// The columns of [`COLUMNS`] without the join: `recorded_at` left NULL, for [`merged_scan`].
const COLUMNS_UNJOINED: &str = "e.position, e.event_id, e.stream, e.version, e.type, \
     e.occurred_at, e.occurred_after, e.batch, NULL::TEXT, e.actor, e.schema_version, e.data, \
     e.hash";

/// A batch's record instant, shared by the rows of the batch.
type Recorded = std::sync::Arc<str>;

/// Streams every row after `after` in position order, each with its batch's record instant,
/// to `f` (until it returns false). The batches come from a second ordered query merged on the
/// client instead of a join on the server: batch ids only grow with positions. Both queries
/// run in repeatable-read, read-only transactions; the batches' starts later, so it sees every
/// batch the events' snapshot refers to.
fn merged_scan(
    uri: &str,
    after: u64,
    f: &mut dyn FnMut(postgres::Row, &Recorded) -> Result<bool, StoreError>,
) -> Result<u64, StoreError> {
    let read_only = |c: &mut Client| -> Result<(), StoreError> {
        c.batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            .db()
    };
    let (mut events_client, mut batches_client) = (connect(uri)?, connect(uri)?);
    read_only(&mut events_client)?;
    let after = after as i64;
    let mut rows = events_client
        .query_raw(
            &format!(
                "SELECT {COLUMNS_UNJOINED} FROM events e WHERE e.position > $1 ORDER BY e.position"
            ),
            [&after as &(dyn postgres::types::ToSql + Sync)],
        )
        .db()?;
    read_only(&mut batches_client)?;
    let mut batches = batches_client
        .query_raw(
            "SELECT id, recorded_at FROM batches WHERE id >= \
             COALESCE((SELECT batch FROM events WHERE position = $1::BIGINT + 1), 0) ORDER BY id",
            [&after as &(dyn postgres::types::ToSql + Sync)],
        )
        .db()?;
    let mut current: Option<(i64, Recorded)> = None;
    let mut n = 0;
    while let Some(r) = rows.next().db()? {
        let batch: i64 = r.get(7);
        while current.as_ref().is_none_or(|(id, _)| *id < batch) {
            let Some(b) = batches.next().db()? else {
                break;
            };
            current = Some((b.get(0), Recorded::from(b.get::<_, &str>(1))));
        }
        let recorded = match &current {
            Some((id, at)) if *id == batch => at.clone(),
            _ => {
                let position = r.get::<_, i64>(0) as u64;
                return Err(corrupt(position, format!("batch {batch} is missing")));
            }
        };
        n += 1;
        if !f(r, &recorded)? {
            break;
        }
    }
    Ok(n)
}

/// Borrows one row of the scan columns, with its batch's record instant (column 8 of
/// [`COLUMNS`], or merged from `batches` for [`COLUMNS_UNJOINED`]).
fn row_ref<'r>(
    r: &'r postgres::Row,
    recorded_at: &'r str,
) -> Result<event_store::StoredRowRef<'r>, StoreError> {
    let position = r.get::<_, i64>(0) as u64;
    Ok(event_store::StoredRowRef {
        position,
        id: Uuid::from_slice(r.get(1)).map_err(|e| corrupt(position, format!("event_id: {e}")))?,
        stream: r.get(2),
        version: r.get::<_, i64>(3) as u64,
        event_type: r.get(4),
        occurred_at: r.get(5),
        occurred_after: r.get(6),
        recorded_at,
        actor: r.get(9),
        schema_version: r.get::<_, i32>(10) as u32,
        data: r.get(11),
        hash: hash_of(r.get(12), position)?,
    })
}

/// Reads one row selected with [`COLUMNS`] (or [`COLUMNS_LOOKED_UP`]).
fn stored_row(r: &postgres::Row) -> Result<StoredRow, StoreError> {
    Ok(row_ref(r, r.get(8))?.to_row(r.get::<_, i64>(7) as u64))
}

/// The hash of the event at `position` (the genesis hash before the first, or past the head).
fn hash_at(client: &mut Client, position: u64) -> Result<Hash, StoreError> {
    Ok(stored_hash(client, position)?.unwrap_or(Hash::GENESIS))
}

/// The hash of the event stored at `position`, if there is one (none at position 0).
fn stored_hash(client: &mut Client, position: u64) -> Result<Option<Hash>, StoreError> {
    if position == 0 {
        return Ok(None);
    }
    client
        .query_opt(
            "SELECT hash FROM events WHERE position = $1",
            &[&(position as i64)],
        )
        .db()?
        .map(|r| hash_of(r.get(0), position))
        .transpose()
}

impl PgStore {
    /// Calls `f` with every stored row after `after`, in position order, streaming.
    fn each_row(
        &self,
        after: u64,
        f: &mut dyn FnMut(StoredRow) -> Result<(), StoreError>,
    ) -> Result<u64, StoreError> {
        ordered_scan(&mut self.client.borrow_mut(), after, &mut |r| {
            f(stored_row(&r)?)?;
            Ok(true)
        })
    }

    /// Reads and decodes on a second connection in a thread of its own, handing chunks over,
    /// while the caller folds: reading, decoding and folding overlap. The scan covers the log
    /// as of the moment it starts (one repeatable-read transaction).
    fn scan_decoding(
        &self,
        after: u64,
        for_folds: bool,
        f: &mut dyn FnMut(RecordedEvent),
    ) -> Result<u64, StoreError> {
        let first_prev = hash_at(&mut self.client.borrow_mut(), after)?;
        let uri = self.uri.as_str();
        type Chunk = Result<Vec<RecordedEvent>, StoreError>;
        type Rows = Result<Vec<(postgres::Row, Recorded)>, StoreError>;
        std::thread::scope(|scope| {
            let (raw_tx, raw_rx) = std::sync::mpsc::sync_channel::<Rows>(4);
            let (tx, rx) = std::sync::mpsc::sync_channel::<Chunk>(4);
            // Reading: rows off the wire, a chunk at a time.
            scope.spawn(move || {
                let read = (|| {
                    let mut chunk = Vec::with_capacity(SCAN_CHUNK);
                    merged_scan(uri, after, &mut |r, recorded| {
                        chunk.push((r, recorded.clone()));
                        if chunk.len() < SCAN_CHUNK {
                            return Ok(true);
                        }
                        let full = std::mem::replace(&mut chunk, Vec::with_capacity(SCAN_CHUNK));
                        Ok(raw_tx.send(Ok(full)).is_ok())
                    })?;
                    if !chunk.is_empty() {
                        let _ = raw_tx.send(Ok(chunk));
                    }
                    Ok::<_, StoreError>(())
                })();
                if let Err(e) = read {
                    let _ = raw_tx.send(Err(e));
                }
            });
            // Decoding, in order.
            scope.spawn(move || {
                let mut prev = first_prev;
                for rows in raw_rx {
                    let decoded = rows.and_then(|rows| {
                        rows.iter()
                            .map(|(r, recorded)| {
                                let row = row_ref(r, recorded)?;
                                let hash = row.hash;
                                let e = row.decode(prev, for_folds);
                                prev = hash;
                                e
                            })
                            .collect::<Result<Vec<_>, _>>()
                    });
                    let failed = decoded.is_err();
                    if tx.send(decoded).is_err() || failed {
                        return;
                    }
                }
            });
            let mut n = 0u64;
            for chunk in rx {
                let chunk = chunk?;
                n += chunk.len() as u64;
                chunk.into_iter().for_each(&mut *f);
            }
            Ok(n)
        })
    }
}

impl EventStore for PgStore {
    fn append_iter(
        &mut self,
        events: &mut dyn Iterator<Item = Result<NewEvent, WireError>>,
        recorded_at: DateTime<FixedOffset>,
    ) -> Result<AppendReport, AppendError> {
        let mut client = self.client.borrow_mut();
        let mut tx = client.transaction().db()?;
        let start = lock_head(&mut tx)?;
        let mut d = Decider::new(start);
        let report = append_streamed(&mut tx, &mut d, events, recorded_at)?;
        if d.head != start {
            move_head(&mut tx, d.head)?;
        }
        tx.commit().db()?;
        Ok(report)
    }

    /// Group commit in one transaction: one round of look-ups for every batch, each batch
    /// decided atomically in memory (a refused one is undone there), one INSERT for all, one
    /// commit.
    fn append_group(
        &mut self,
        batches: Vec<Vec<NewEvent>>,
        recorded_at: DateTime<FixedOffset>,
    ) -> Result<Vec<Result<AppendReport, AppendError>>, StoreError> {
        let mut client = self.client.borrow_mut();
        let mut tx = client.transaction().db()?;
        let start = lock_head(&mut tx)?;
        let mut d = Decider::new(start);
        d.look_up(&mut tx, batches.iter().flatten())?;
        let recorded_text = format_instant(&recorded_at);
        let outcomes: Vec<_> = batches.iter().map(|b| d.batch(b, &recorded_text)).collect();
        d.flush(&mut tx)?;
        if d.head != start {
            move_head(&mut tx, d.head)?;
        }
        tx.commit().db()?;
        Ok(outcomes)
    }

    fn head(&self) -> Result<Head, StoreError> {
        let r = self
            .client
            .borrow_mut()
            .query_one("SELECT position, hash FROM head", &[])
            .db()?;
        let position = r.get::<_, i64>(0) as u64;
        Ok(Head {
            position,
            hash: hash_of(r.get(1), position)?,
        })
    }

    fn read_stream(&self, stream: &str) -> Result<Vec<RecordedEvent>, StoreError> {
        let rows = self
            .client
            .borrow_mut()
            .query(
                &format!(
                    "SELECT {COLUMNS_LOOKED_UP}, (SELECT p.hash FROM events p WHERE p.position = e.position - 1) \
                     FROM events e WHERE e.stream = $1 ORDER BY e.version"
                ),
                &[&stream],
            )
            .db()?;
        rows.iter()
            .map(|r| {
                let row = stored_row(r)?;
                let prev = match r.get::<_, Option<&[u8]>>(13) {
                    None => Hash::GENESIS,
                    Some(b) => hash_of(b, row.position - 1)?,
                };
                row.decode(prev, false)
            })
            .collect()
    }

    fn read_after(&self, after: u64, limit: u64) -> Result<Vec<RecordedEvent>, StoreError> {
        // The hash before the first row comes in the same query (one round trip).
        let found = self
            .client
            .borrow_mut()
            .query(
                &format!(
                    "SELECT {COLUMNS_LOOKED_UP}, (SELECT p.hash FROM events p WHERE p.position = $1) \
                     FROM events e WHERE e.position > $1 ORDER BY e.position LIMIT $2"
                ),
                &[&(after as i64), &(limit.min(i64::MAX as u64) as i64)],
            )
            .db()?;
        let mut prev = match found.first().and_then(|r| r.get::<_, Option<&[u8]>>(13)) {
            Some(b) => hash_of(b, after)?,
            None => Hash::GENESIS,
        };
        let rows = found
            .iter()
            .map(stored_row)
            .collect::<Result<Vec<_>, _>>()?;
        rows.into_iter()
            .map(|row| {
                let hash = row.hash;
                let e = row.decode(prev, false);
                prev = hash;
                e
            })
            .collect()
    }

    fn scan(&self, after: u64, f: &mut dyn FnMut(RecordedEvent)) -> Result<u64, StoreError> {
        self.scan_decoding(after, false, f)
    }

    fn scan_for_folds(
        &self,
        after: u64,
        f: &mut dyn FnMut(RecordedEvent),
    ) -> Result<u64, StoreError> {
        self.scan_decoding(after, true, f)
    }

    fn wait_for_commit(&self, timeout: std::time::Duration) -> Result<Option<u64>, StoreError> {
        if self.standby {
            // A standby delivers no notifications: the caller looks after the wait.
            std::thread::sleep(timeout);
            return Ok(None);
        }
        let mut client = self.client.borrow_mut();
        if !self.listening.get() {
            client.batch_execute(&format!("LISTEN {CHANNEL}")).db()?;
            self.listening.set(true);
        }
        let mut notifications = client.notifications();
        let position = |n: postgres::Notification| n.payload().parse::<u64>().ok();
        let Some(first) = notifications.timeout_iter(timeout).next().db()? else {
            return Ok(None);
        };
        // Take what else is queued: one look covers every commit announced so far.
        let mut head = position(first);
        while let Some(n) = notifications.iter().next().db()? {
            head = head.max(position(n));
        }
        Ok(head)
    }

    fn verify_from(&self, from: Head) -> Result<VerifyReport, StoreError> {
        let at = stored_hash(&mut self.client.borrow_mut(), from.position)?;
        if let Some(bad) = event_store::anchor_mismatch(from, at) {
            return Ok(VerifyReport {
                events: 0,
                head: Head::default(),
                first_bad: Some(bad),
            });
        }
        let mut prev = from;
        let mut checked = 0u64;
        let mut first_bad: Option<(u64, String)> = None;
        self.each_row(from.position, &mut |row| {
            if first_bad.is_some() {
                return Ok(());
            }
            if row.position != prev.position + 1 {
                first_bad = Some((
                    row.position,
                    format!(
                        "position {} follows {}: the log has a gap",
                        row.position, prev.position
                    ),
                ));
                return Ok(());
            }
            let computed = row.chain_hash(&prev.hash);
            if computed != row.hash {
                first_bad = Some((
                    row.position,
                    format!("stored hash does not match its content (computed {computed})"),
                ));
                return Ok(());
            }
            prev = Head {
                position: row.position,
                hash: computed,
            };
            checked += 1;
            Ok(())
        })?;
        if first_bad.is_none() {
            // Read after the walk: other servers may have appended since it began, so the
            // head row may be past the walk's end, never behind it or elsewhere at it.
            let head = self.head()?;
            if head.position < prev.position || (head.position == prev.position && head != prev) {
                first_bad = Some((
                    head.position.max(prev.position),
                    format!(
                        "the head row says position {} but the log ends at {}",
                        head.position, prev.position
                    ),
                ));
            }
        }
        Ok(VerifyReport {
            events: checked,
            head: prev,
            first_bad,
        })
    }
}

impl PgStore {
    fn raw_rows(&self, after: u64, limit: u64) -> Result<Vec<StoredRow>, StoreError> {
        let rows = self
            .client
            .borrow_mut()
            .query(
                &format!(
                    "SELECT {COLUMNS_LOOKED_UP} FROM events e WHERE e.position > $1 ORDER BY e.position LIMIT $2"
                ),
                &[&(after as i64), &(limit.min(i64::MAX as u64) as i64)],
            )
            .db()?;
        rows.iter().map(stored_row).collect()
    }
}

impl event_store::RawLog for PgStore {
    fn raw_after(&self, after: u64, limit: u64) -> Result<Vec<StoredRow>, StoreError> {
        self.raw_rows(after, limit)
    }

    fn import_raw(&mut self, rows: &[StoredRow]) -> Result<Head, StoreError> {
        let mut client = self.client.borrow_mut();
        let mut tx = client.transaction().db()?;
        let start = lock_head(&mut tx)?;
        let head = event_store::check_continuation(start.head, rows)?;
        let mut batch_ids: Vec<i64> = rows.iter().map(|r| r.batch as i64).collect();
        batch_ids.dedup();
        let known: FxMap<i64, String> = tx
            .query(
                "SELECT id, recorded_at FROM batches WHERE id = ANY($1)",
                &[&batch_ids],
            )
            .db()?
            .into_iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect();
        let mut new_ids = Vec::new();
        let mut new_at = Vec::new();
        for r in rows {
            match known.get(&(r.batch as i64)) {
                Some(at) if *at != r.recorded_at => {
                    return Err(corrupt(
                        r.position,
                        format!(
                            "batch {} is recorded at {at} in the target, {} in the source",
                            r.batch, r.recorded_at
                        ),
                    ))
                }
                Some(_) => {}
                None if new_ids.last() == Some(&(r.batch as i64)) => {}
                None => {
                    new_ids.push(r.batch as i64);
                    new_at.push(r.recorded_at.clone());
                }
            }
        }
        tx.execute(
            "INSERT INTO batches (id, recorded_at) SELECT * FROM unnest($1::BIGINT[], $2::TEXT[])",
            &[&new_ids, &new_at],
        )
        .db()?;
        let mut out = Rows::default();
        for r in rows {
            out.push_stored(r);
        }
        out.flush(&mut tx).db()?;
        let batch = rows
            .iter()
            .map(|r| r.batch)
            .max()
            .unwrap_or(0)
            .max(start.batch);
        if head != start.head {
            move_head(&mut tx, HeadRow { head, batch })?;
        }
        tx.commit().db()?;
        Ok(head)
    }
}

fn token_record(r: &postgres::Row) -> TokenRecord {
    TokenRecord {
        id: r.get(0),
        role: r.get(1),
        unit: r.get(2),
        label: r.get(3),
        created_at: r.get(4),
        revoked_at: r.get(5),
    }
}

impl event_store::TokenStore for PgStore {
    fn insert_token(
        &self,
        token_hash: &[u8; 32],
        role: &str,
        unit: Option<&str>,
        label: &str,
        created_at: &str,
    ) -> Result<i64, StoreError> {
        Ok(self
            .client
            .borrow_mut()
            .query_one(
                "INSERT INTO tokens (token_hash, role, unit, label, created_at) \
                 VALUES ($1, $2, $3, $4, $5) RETURNING id",
                &[&token_hash.as_slice(), &role, &unit, &label, &created_at],
            )
            .db()?
            .get(0))
    }

    fn find_token(&self, token_hash: &[u8; 32]) -> Result<Option<TokenRecord>, StoreError> {
        Ok(self
            .client
            .borrow_mut()
            .query_opt(
                "SELECT id, role, unit, label, created_at, revoked_at FROM tokens \
                 WHERE token_hash = $1 AND revoked_at IS NULL",
                &[&token_hash.as_slice()],
            )
            .db()?
            .as_ref()
            .map(token_record))
    }

    fn list_tokens(&self) -> Result<Vec<TokenRecord>, StoreError> {
        Ok(self
            .client
            .borrow_mut()
            .query(
                "SELECT id, role, unit, label, created_at, revoked_at FROM tokens ORDER BY id",
                &[],
            )
            .db()?
            .iter()
            .map(token_record)
            .collect())
    }

    fn revoke_token(&self, id: i64, revoked_at: &str) -> Result<bool, StoreError> {
        let n = self
            .client
            .borrow_mut()
            .execute(
                "UPDATE tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL",
                &[&id, &revoked_at],
            )
            .db()?;
        Ok(n == 1)
    }
}
