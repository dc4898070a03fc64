//! The event log. The only crate that knows SQL.
//!
//! [`EventStore`] is the boundary the rest of Rongtook sees; [`SqliteStore`] implements it on
//! an embedded SQLite database. A server backend (PostgreSQL) can implement the same trait.
//!
//! Appends are atomic per batch: every event is checked (form, idempotency, expected version,
//! time order within its stream, lifecycle rules against the stored state and the batch's own
//! earlier events) inside one transaction, and either all are stored or none.

pub mod baseline;
pub mod conformance;
pub mod decide;
mod error;
mod sqlite;

pub use error::{AppendError, AppendErrorKind, StoreError};
pub use sqlite::{Durability, SqliteStore, CACHE_KIB, PAGE_SIZE};

use chrono::{DateTime, FixedOffset};
use event_model::{Hash, NewEvent, RecordedEvent, WireError};

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
    fn verify(&self) -> Result<VerifyReport, StoreError>;
}
