use event_model::WireError;
use lifecycle::Rejection;
use uuid::Uuid;

/// A failure to read or write the log.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The backend's own error, as it said it.
    #[error("database error: {0}")]
    Database(String),
    #[error("`{path}` is not a Rongtook event log: {message}")]
    NotALog { path: String, message: String },
    #[error("the database schema version {found} is newer than this build knows ({known})")]
    SchemaTooNew { found: i64, known: i64 },
    #[error("stored event at position {position} cannot be read: {message}")]
    Corrupt { position: u64, message: String },
    #[error("the log is unavailable: {0}")]
    Unavailable(String),
    /// The disk (or the database's size limit) is full: nothing of the write was stored.
    #[error("the disk holding the log is full: {0}")]
    Full(String),
    /// The storage under the log failed: a write, a sync or a read returned an I/O error, or
    /// the database found its own file damaged. What the disk holds is no longer known, so the
    /// writer stops (see [`is_fatal`](StoreError::is_fatal)).
    #[error("the log's storage failed: {0}")]
    Io(String),
    /// The log holds fewer events than were acknowledged (the record of acknowledged events
    /// kept beside it says more), or another event at an acknowledged position.
    #[error("acknowledged events are missing from the log: {0}")]
    Lost(String),
}

impl StoreError {
    /// Whether the write failed because the disk holding the log is full.
    pub fn is_full(&self) -> bool {
        matches!(self, StoreError::Full(_))
    }

    /// Whether the failure leaves the log's durable state unknown, so that no further append
    /// may be trusted: an I/O error on a write or sync (after a failed sync the kernel may
    /// already have dropped the pages it could not write, and a later sync would succeed over
    /// the hole), or a damaged file. A full disk is not fatal: nothing of the write was
    /// stored, and the database says so.
    pub fn is_fatal(&self) -> bool {
        matches!(
            self,
            StoreError::Io(_) | StoreError::Lost(_) | StoreError::Corrupt { .. }
        )
    }
}

/// Why a batch was refused.
#[derive(Debug, thiserror::Error)]
pub enum AppendErrorKind {
    #[error("{0}")]
    Malformed(WireError),
    #[error("{0}")]
    Rejected(Rejection),
    #[error("expected_version {expected} does not match stream `{stream}` at version {actual}")]
    VersionConflict {
        stream: String,
        expected: u64,
        actual: u64,
    },
    #[error("id already used by a different event (stored at position {position})")]
    IdConflict { position: u64 },
    #[error("occurred_at {occurred_at} is earlier than the previous event of stream `{stream}` ({previous})")]
    OutOfOrder {
        stream: String,
        occurred_at: String,
        previous: String,
    },
    #[error("{0}")]
    Store(#[from] StoreError),
}

/// A refused batch: which event (0-based index in the batch, and its id) and why. Nothing of
/// the batch was stored.
#[derive(Debug, thiserror::Error)]
pub struct AppendError {
    pub index: Option<usize>,
    pub event_id: Option<Uuid>,
    pub kind: AppendErrorKind,
}

impl AppendError {
    /// A refusal of the batch's event `index`.
    pub fn at(index: usize, event_id: Option<Uuid>, kind: AppendErrorKind) -> Self {
        AppendError {
            index: Some(index),
            event_id,
            kind,
        }
    }

    /// A short machine-readable name of the error class.
    pub fn class(&self) -> &'static str {
        match &self.kind {
            AppendErrorKind::Malformed(w) if w.inconsistent => "inconsistent",
            AppendErrorKind::Malformed(_) => "malformed",
            AppendErrorKind::Rejected(_) => "rule_violation",
            AppendErrorKind::VersionConflict { .. } => "version_conflict",
            AppendErrorKind::IdConflict { .. } => "id_conflict",
            AppendErrorKind::OutOfOrder { .. } => "out_of_order",
            AppendErrorKind::Store(s) if s.is_full() => "disk_full",
            AppendErrorKind::Store(s) if s.is_fatal() => "appends_stopped",
            AppendErrorKind::Store(_) => "storage",
        }
    }
}

impl std::fmt::Display for AppendError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Malformed events name their own id when they have one.
        match (&self.kind, &self.event_id) {
            (AppendErrorKind::Malformed(_), _) | (_, None) => write!(f, "{}", self.kind),
            (_, Some(id)) => write!(f, "event {id}: {}", self.kind),
        }
    }
}

impl From<StoreError> for AppendError {
    fn from(e: StoreError) -> Self {
        AppendError {
            index: None,
            event_id: None,
            kind: AppendErrorKind::Store(e),
        }
    }
}
