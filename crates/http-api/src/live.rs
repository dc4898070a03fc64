//! Projections kept live in memory: built from the log at start, then brought up to date by the
//! writer after each commit, so that reads never replay the whole log.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::RwLock;

use chrono::DateTime;
use event_store::{EventStore, SqliteStore, StoreError};
use projections::ComplaintFold;

/// Events read per step when catching up.
const CATCH_UP_PAGE: u64 = 10_000;

pub struct Live {
    pub fold: RwLock<ComplaintFold>,
    applied: AtomicU64,
}

fn end_of_time() -> chrono::DateTime<chrono::FixedOffset> {
    DateTime::parse_from_rfc3339("9999-12-31T23:59:59+07:00").expect("valid")
}

impl Live {
    /// Folds the whole log.
    pub fn load(store: &SqliteStore) -> Result<Live, StoreError> {
        let mut fold = ComplaintFold::new(end_of_time()).with_public_info();
        let mut last = 0;
        store.scan(0, &mut |e| {
            last = e.position;
            fold.apply(e);
        })?;
        Ok(Live {
            fold: RwLock::new(fold),
            applied: AtomicU64::new(last),
        })
    }

    /// The last position folded in.
    pub fn applied(&self) -> u64 {
        self.applied.load(Ordering::Acquire)
    }

    /// Folds in what was committed since the last call.
    pub fn catch_up(&self, store: &SqliteStore) -> Result<(), StoreError> {
        loop {
            let after = self.applied();
            let events = store.read_after(after, CATCH_UP_PAGE)?;
            let Some(last) = events.last().map(|e| e.position) else {
                return Ok(());
            };
            let mut fold = self.fold.write().expect("live fold");
            events.into_iter().for_each(|e| fold.apply(e));
            self.applied.store(last, Ordering::Release);
        }
    }
}
