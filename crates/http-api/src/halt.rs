//! Fail-stop: once the log's storage fails (an I/O error on a write or a sync, a damaged
//! file, a chain that does not verify), the server takes no more appends until it restarts.
//! Reads go on from what the live projections hold, which is only what was committed before.

use std::sync::OnceLock;

use event_store::{AppendError, StoreError};

/// Whether appends are stopped, and why. Set once; only a restart clears it.
#[derive(Debug, Default)]
pub(crate) struct Halt {
    cause: OnceLock<String>,
}

impl Halt {
    /// Stops appends for `cause`. The first cause is kept and logged, loudly, once.
    pub(crate) fn stop(&self, cause: String) {
        let mut first = false;
        self.cause.get_or_init(|| {
            first = true;
            cause.clone()
        });
        if first {
            tracing::error!(
                cause = %cause,
                "APPENDS STOPPED: the log's storage failed. The server answers reads from what \
                 was committed before and refuses appends with 503 until it is restarted; a \
                 restart re-opens the log, lets SQLite recover it and verifies the chain first"
            );
        }
    }

    /// Why appends are stopped, if they are.
    pub(crate) fn cause(&self) -> Option<&str> {
        self.cause.get().map(String::as_str)
    }
}

/// The answer to an append while appends are stopped for `cause`.
pub(crate) fn refusal(cause: &str) -> AppendError {
    AppendError::from(StoreError::Io(format!(
        "appends are stopped until the server restarts: {cause}"
    )))
}

/// The answer to the batches of a commit that failed with a fatal error: their outcome is
/// unknown (the database may have written them before the sync failed).
pub(crate) fn failed_commit(why: &str) -> AppendError {
    AppendError::from(StoreError::Io(format!(
        "the commit failed ({why}), and appends are stopped until the server restarts. This \
         batch may or may not be stored: after the restart, send it again unchanged (the same \
         event ids); a batch already stored is answered as such"
    )))
}
