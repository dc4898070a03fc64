//! The event log's boundary: the traits every backend implements ([`EventStore`],
//! [`TokenStore`], [`RawLog`], and [`Log`], all three together), the append decisions they
//! share ([`decide`]), and the suite that tells whether a backend keeps them
//! ([`conformance`]). The backends are crates of their own (`event-store-sqlite`,
//! `event-store-postgres`), and one place (`event-store-open`) opens one from a `--db` value;
//! nothing else names a backend.
//!
//! Appends are atomic per batch: every event is checked (form, idempotency, expected version,
//! time order within its stream, lifecycle rules against the stored state and the batch's own
//! earlier events) inside one transaction, and either all are stored or none.

pub mod conformance;
pub mod copy;
pub mod decide;
mod error;

pub use error::{AppendError, AppendErrorKind, StoreError};

use chrono::{DateTime, FixedOffset};
use event_model::{Hash, NewEvent, RecordedEvent, WireError};

/// How hard each commit waits for the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Durability {
    /// `synchronous=FULL`: a committed batch survives power loss. The default.
    #[default]
    Full,
    /// `synchronous=NORMAL`: faster; in WAL mode a power loss may lose the last commits (never
    /// corrupts the log). Opt-in only.
    Normal,
}

/// Where one submitted event ended up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Appended {
    pub position: u64,
    pub version: u64,
    /// True when the event was already stored with identical content (an idempotent repeat).
    pub duplicate: bool,
}

/// The result of an accepted batch.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AppendReport {
    pub events: Vec<Appended>,
    pub appended: u64,
    pub duplicates: u64,
}

/// The last event of the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Head {
    pub position: u64,
    pub hash: Hash,
}

impl Default for Head {
    fn default() -> Self {
        Head {
            position: 0,
            hash: Hash::GENESIS,
        }
    }
}

/// A stored API token (without the token itself: only its hash is kept).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRecord {
    pub id: i64,
    pub role: String,
    pub unit: Option<String>,
    pub label: String,
    pub created_at: String,
    pub revoked_at: Option<String>,
}

/// What `verify` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    /// Events checked.
    pub events: u64,
    pub head: Head,
    /// The first position whose hash chain does not hold, and why.
    pub first_bad: Option<(u64, String)>,
}

/// Whether the event stored at `from.position` (its hash, `None` when there is no such event)
/// is the head verified before; why not, where it is not. Position 0 always is.
pub fn anchor_mismatch(from: Head, stored: Option<Hash>) -> Option<(u64, String)> {
    match stored {
        _ if from.position == 0 => None,
        Some(h) if h == from.hash => None,
        Some(h) => Some((
            from.position,
            format!(
                "the event at position {} has hash {h}, but {} was verified there before",
                from.position, from.hash
            ),
        )),
        None => Some((
            from.position,
            format!(
                "the log holds no event at position {}, which was verified before",
                from.position
            ),
        )),
    }
}

/// The API tokens of a deployment (only their SHA-256 hashes are kept), beside its log.
pub trait TokenStore {
    /// Stores a new token's hash; returns its id.
    fn insert_token(
        &self,
        token_hash: &[u8; 32],
        role: &str,
        unit: Option<&str>,
        label: &str,
        created_at: &str,
    ) -> Result<i64, StoreError>;

    /// The token with this hash, unless revoked.
    fn find_token(&self, token_hash: &[u8; 32]) -> Result<Option<TokenRecord>, StoreError>;

    /// Every token, revoked or not, by id.
    fn list_tokens(&self) -> Result<Vec<TokenRecord>, StoreError>;

    /// Revokes a token; false when there is no such (unrevoked) token.
    fn revoke_token(&self, id: i64, revoked_at: &str) -> Result<bool, StoreError>;
}

/// An append-only event log.
pub trait EventStore {
    /// Appends a batch atomically. Items are decoded events or decoding errors; the first error
    /// of any kind aborts the whole batch, and nothing of it is stored.
    fn append_iter(
        &mut self,
        events: &mut dyn Iterator<Item = Result<NewEvent, WireError>>,
        recorded_at: DateTime<FixedOffset>,
    ) -> Result<AppendReport, AppendError>;

    /// Appends a batch of decoded events atomically.
    fn append(
        &mut self,
        batch: &[NewEvent],
        recorded_at: DateTime<FixedOffset>,
    ) -> Result<AppendReport, AppendError> {
        self.append_iter(&mut batch.iter().cloned().map(Ok), recorded_at)
    }

    /// Group commit: appends several independent batches, each atomic on its own, so that one
    /// refused batch leaves the others whole. A backend that can, covers them all with one
    /// commit (one disk sync); this default appends them one after the other. If the final
    /// commit fails, every batch fails.
    fn append_group(
        &mut self,
        batches: Vec<Vec<NewEvent>>,
        recorded_at: DateTime<FixedOffset>,
    ) -> Result<Vec<Result<AppendReport, AppendError>>, StoreError> {
        Ok(batches
            .iter()
            .map(|b| self.append(b, recorded_at))
            .collect())
    }

    /// The last event's position and hash (position 0 for an empty log).
    fn head(&self) -> Result<Head, StoreError>;

    /// Every event of one stream, in version order.
    fn read_stream(&self, stream: &str) -> Result<Vec<RecordedEvent>, StoreError>;

    /// Up to `limit` events after position `after`, in position order (the catch-up feed).
    fn read_after(&self, after: u64, limit: u64) -> Result<Vec<RecordedEvent>, StoreError>;

    /// Calls `f` with every event after `after`, in position order; returns how many.
    fn scan(&self, after: u64, f: &mut dyn FnMut(RecordedEvent)) -> Result<u64, StoreError>;

    /// Like [`scan`](EventStore::scan), for projection folds: payloads may be decoded with
    /// only the fields the folds read (`EventData::from_json_projected`), texts and the actor
    /// left empty.
    /// Never for output. A backend may simply scan.
    fn scan_for_folds(
        &self,
        after: u64,
        f: &mut dyn FnMut(RecordedEvent),
    ) -> Result<u64, StoreError> {
        self.scan(after, f)
    }

    /// Walks the hash chain from the first event and reports the first position that does not
    /// match.
    fn verify(&self) -> Result<VerifyReport, StoreError> {
        self.verify_from(Head::default())
    }

    /// Walks the hash chain on from `from`, a head verified before: the event at its position
    /// must still carry its hash, and every later event must chain on from it. Reports the
    /// first position that does not hold ([`VerifyReport::events`] counts the events after
    /// `from`).
    fn verify_from(&self, from: Head) -> Result<VerifyReport, StoreError>;

    /// The head up to which the chain was last verified, where the backend keeps that record
    /// (`None`: no record, verify from the first event).
    fn verified_head(&self) -> Result<Option<Head>, StoreError> {
        Ok(None)
    }

    /// Records that the chain holds up to `head`, for the next
    /// [`verified_head`](EventStore::verified_head). A backend that keeps no record ignores it.
    fn record_verified(&mut self, head: Head) -> Result<(), StoreError> {
        let _ = head;
        Ok(())
    }

    /// Waits at most `timeout` for a commit to the log by any process; the head position the
    /// commits announced, when they announced one (`None`: look). A backend that announces
    /// commits (PostgreSQL's notifications) wakes at once; this default just waits.
    fn wait_for_commit(&self, timeout: std::time::Duration) -> Result<Option<u64>, StoreError> {
        std::thread::sleep(timeout);
        Ok(None)
    }
}

/// One stored event exactly as the log keeps it: the texts its hash covers (not upcast, not
/// re-encoded), its batch and its hash. What a copy between backends moves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRow {
    pub position: u64,
    pub id: uuid::Uuid,
    pub stream: String,
    pub version: u64,
    pub event_type: String,
    pub occurred_at: String,
    pub occurred_after: Option<String>,
    /// The batch the event was appended in, and the batch's record instant.
    pub batch: u64,
    pub recorded_at: String,
    pub actor: String,
    pub schema_version: u32,
    pub data: String,
    pub hash: Hash,
}

impl StoredRow {
    /// The hash this row must carry after `prev` (see [`StoredRowRef::chain_hash`]).
    pub fn chain_hash(&self, prev: &Hash) -> Hash {
        self.as_ref().chain_hash(prev, &mut Vec::new())
    }

    /// The row, borrowed.
    pub fn as_ref(&self) -> StoredRowRef<'_> {
        StoredRowRef {
            position: self.position,
            id: self.id,
            stream: &self.stream,
            version: self.version,
            event_type: &self.event_type,
            occurred_at: &self.occurred_at,
            occurred_after: self.occurred_after.as_deref(),
            recorded_at: &self.recorded_at,
            actor: &self.actor,
            schema_version: self.schema_version,
            data: &self.data,
            hash: self.hash,
        }
    }

    /// The event this row holds, decoded (see [`StoredRowRef::decode`]).
    pub fn decode(self, prev_hash: Hash, for_folds: bool) -> Result<RecordedEvent, StoreError> {
        self.as_ref().decode(prev_hash, for_folds)
    }
}

/// A stored row borrowed from where a backend read it (no copies of its texts).
#[derive(Debug, Clone, Copy)]
pub struct StoredRowRef<'a> {
    pub position: u64,
    pub id: uuid::Uuid,
    pub stream: &'a str,
    pub version: u64,
    pub event_type: &'a str,
    pub occurred_at: &'a str,
    pub occurred_after: Option<&'a str>,
    pub recorded_at: &'a str,
    pub actor: &'a str,
    pub schema_version: u32,
    pub data: &'a str,
    pub hash: Hash,
}

impl StoredRowRef<'_> {
    /// The hash this row must carry after `prev`: the chain's rule over the stored texts
    /// (`scratch` holds the canonical bytes, reused between rows).
    pub fn chain_hash(&self, prev: &Hash, scratch: &mut Vec<u8>) -> Hash {
        event_model::CanonicalFields {
            position: self.position,
            id: &self.id,
            stream: self.stream,
            version: self.version,
            event_type: self.event_type,
            occurred_at: self.occurred_at,
            occurred_after: self.occurred_after,
            recorded_at: self.recorded_at,
            actor: self.actor,
            schema_version: self.schema_version,
            data: self.data,
        }
        .chain_hash(prev, scratch)
    }

    /// The row, owned, as appended in batch `batch`.
    pub fn to_row(&self, batch: u64) -> StoredRow {
        StoredRow {
            position: self.position,
            id: self.id,
            stream: self.stream.to_string(),
            version: self.version,
            event_type: self.event_type.to_string(),
            occurred_at: self.occurred_at.to_string(),
            occurred_after: self.occurred_after.map(str::to_string),
            batch,
            recorded_at: self.recorded_at.to_string(),
            actor: self.actor.to_string(),
            schema_version: self.schema_version,
            data: self.data.to_string(),
            hash: self.hash,
        }
    }

    /// The event this row holds, decoded (payload upcast to the current schema), given the
    /// hash of the position before it. `for_folds` decodes only what the projection folds
    /// read, and leaves the actor empty (see [`EventStore::scan_for_folds`]).
    pub fn decode(self, prev_hash: Hash, for_folds: bool) -> Result<RecordedEvent, StoreError> {
        let position = self.position;
        let corrupt = |message: String| StoreError::Corrupt { position, message };
        let event_type = event_model::EventType::parse(self.event_type)
            .ok_or_else(|| corrupt(format!("unknown type `{}`", self.event_type)))?;
        let data_text =
            event_model::upcast(self.schema_version, event_type, self.data).map_err(corrupt)?;
        let data = if for_folds {
            event_model::EventData::from_json_projected(event_type, data_text)
        } else {
            event_model::EventData::from_json(event_type, data_text)
        }
        .map_err(|e| corrupt(format!("data.{}: {}", e.path, e.message)))?;
        let instant = |text: &str, name: &str| {
            event_model::parse_instant(text)
                .ok_or_else(|| corrupt(format!("{name}: `{text}` is not RFC 3339")))
        };
        Ok(RecordedEvent {
            position,
            id: self.id,
            occurred_at: instant(self.occurred_at, "occurred_at")?,
            occurred_after: match self.occurred_after {
                None => None,
                Some(t) => Some(instant(t, "occurred_after")?),
            },
            recorded_at: instant(self.recorded_at, "recorded_at")?,
            stream: self.stream.to_string(),
            version: self.version,
            actor: if for_folds {
                String::new()
            } else {
                self.actor.to_string()
            },
            schema_version: self.schema_version,
            data,
            prev_hash,
            hash: self.hash,
        })
    }
}

/// The log's rows as stored, for copying a log between backends.
pub trait RawLog {
    /// Up to `limit` stored rows after position `after`, in position order.
    fn raw_after(&self, after: u64, limit: u64) -> Result<Vec<StoredRow>, StoreError>;

    /// Stores rows read from another log, in one transaction, as they are: positions, batches,
    /// record instants and hashes included. The first must follow this log's head, each must
    /// follow the one before, and each hash must be the chain's over the row; otherwise
    /// nothing is stored.
    fn import_raw(&mut self, rows: &[StoredRow]) -> Result<Head, StoreError>;
}

/// Checks that `rows` continue the log at `head` (positions in a row, each hash the chain's
/// over its row) before a backend stores them; returns the head after them.
pub fn check_continuation(head: Head, rows: &[StoredRow]) -> Result<Head, StoreError> {
    let mut head = head;
    for row in rows {
        if row.position != head.position + 1 {
            return Err(StoreError::Corrupt {
                position: row.position,
                message: format!(
                    "the copied row does not follow position {} of the target",
                    head.position
                ),
            });
        }
        let hash = row.chain_hash(&head.hash);
        if hash != row.hash {
            return Err(StoreError::Corrupt {
                position: row.position,
                message: "the copied row's hash is not the chain's over its content".into(),
            });
        }
        head = Head {
            position: row.position,
            hash,
        };
    }
    Ok(head)
}

/// A whole backend as the programs use it: the log, its tokens and its raw rows, movable to
/// the thread that writes.
pub trait Log: EventStore + TokenStore + RawLog + Send {}

impl<T: EventStore + TokenStore + RawLog + Send> Log for T {}

/// One row for the backends' plain yardsticks (a bare insert loop the benchmarks measure the
/// store against): the fields of a wire-format event.
pub struct PlainRow<'a> {
    pub id: &'a str,
    pub stream: &'a str,
    pub version: i64,
    pub event_type: &'a str,
    pub occurred_at: &'a str,
    pub actor: &'a str,
    pub data: &'a str,
}
