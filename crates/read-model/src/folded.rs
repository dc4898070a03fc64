//! The log folded as of an instant, and the two long-lived forms a server keeps: the live fold
//! (every event so far) and folds as of past instants, each caught up with what is appended.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use calendar::Calendar;
use chrono::{DateTime, FixedOffset};
use event_model::RecordedEvent;
use event_store::{EventStore, Head, StoreError};
use projections::ComplaintFold;

use crate::instant::end_of_time;

/// Events read per step when catching up.
pub const CATCH_UP_PAGE: u64 = 10_000;

/// A fold of the log and the last event it has seen (events after the fold's instant are seen
/// and ignored), which is what its results are derived from.
#[derive(Debug, Clone)]
pub struct Folded {
    pub fold: ComplaintFold,
    /// The last event folded in (position 0 and the genesis hash for none).
    pub head: Head,
    /// Events folded in.
    pub events: u64,
}

impl Folded {
    /// An empty fold as of `as_of`; `public` keeps what the public may read of each complaint
    /// (subject, location, answer), which only the live API shows.
    pub fn new(as_of: DateTime<FixedOffset>, public: bool) -> Folded {
        let fold = ComplaintFold::new(as_of);
        Folded {
            fold: if public {
                fold.with_public_info()
            } else {
                fold
            },
            head: Head::default(),
            events: 0,
        }
    }

    pub fn as_of(&self) -> DateTime<FixedOffset> {
        self.fold.as_of()
    }

    /// Folds in one event.
    pub fn apply(&mut self, e: RecordedEvent) {
        self.head = Head {
            position: e.position,
            hash: e.hash,
        };
        self.events += 1;
        self.fold.apply(e);
    }

    /// Folds in what was appended after the last event seen.
    pub fn catch_up(&mut self, store: &dyn EventStore) -> Result<(), StoreError> {
        loop {
            let events = store.read_after(self.head.position, CATCH_UP_PAGE)?;
            let full = events.len() as u64 == CATCH_UP_PAGE;
            events.into_iter().for_each(|e| self.apply(e));
            // A page not full was the end of the log.
            if !full {
                return Ok(());
            }
        }
    }

    /// The complaints of fiscal year `fy` (received, or forwarded in one of their rounds, in
    /// it), judged as of `at`, sorted by id.
    pub fn year_views(
        &self,
        fy: calendar::FiscalYear,
        at: DateTime<FixedOffset>,
        cal: &Calendar,
        rules: &projections::DeadlineRules,
    ) -> Vec<projections::ComplaintView> {
        self.fold
            .views_of_at(&self.fold.ids_in(Some(fy)), cal, rules, at)
    }

    /// What results derived from this fold were derived from.
    pub fn provenance(&self, cal: &Calendar) -> indicators::Provenance {
        provenance(self.head, cal)
    }
}

/// Indicator provenance for results computed from the log up to `head`.
pub fn provenance(head: Head, cal: &Calendar) -> indicators::Provenance {
    indicators::Provenance {
        log_head_position: head.position,
        log_head_hash: head.hash.to_hex(),
        calendar_version: cal.version().to_string(),
    }
}

/// Folds the whole log as of `as_of`. `progress` hears the number of events folded so far
/// from time to time. The fold keeps no public information, so it decodes only what it reads.
pub fn fold_log(
    store: &dyn EventStore,
    as_of: DateTime<FixedOffset>,
    progress: &mut dyn FnMut(u64),
) -> Result<Folded, StoreError> {
    let mut f = Folded::new(as_of, false);
    store.scan_for_folds(0, &mut |e| {
        f.apply(e);
        if f.events.is_multiple_of(65536) {
            progress(f.events);
        }
    })?;
    Ok(f)
}

/// The live fold of a server: every event so far (with public information), brought up to
/// date after each commit, so that reads never replay the whole log. Judged as of "now",
/// which callers pass in.
pub struct Live {
    folded: RwLock<Folded>,
    applied: AtomicU64,
}

impl Live {
    /// Folds the whole log.
    pub fn load(store: &dyn EventStore) -> Result<Live, StoreError> {
        let mut f = Folded::new(end_of_time(), true);
        store.scan(0, &mut |e| f.apply(e))?;
        Ok(Live {
            applied: AtomicU64::new(f.head.position),
            folded: RwLock::new(f),
        })
    }

    /// Starts from `folded` (the live fold as a snapshot kept it, checked against this log)
    /// and folds in what was appended after it.
    pub fn resume(store: &dyn EventStore, mut folded: Folded) -> Result<Live, StoreError> {
        store.scan(folded.head.position, &mut |e| folded.apply(e))?;
        Ok(Live {
            applied: AtomicU64::new(folded.head.position),
            folded: RwLock::new(folded),
        })
    }

    /// The last position folded in.
    pub fn applied(&self) -> u64 {
        self.applied.load(Ordering::Acquire)
    }

    /// Reads the live fold.
    pub fn read(&self) -> std::sync::RwLockReadGuard<'_, Folded> {
        // A panic while folding leaves the fold as it was before the event: readable.
        self.folded.read().unwrap_or_else(|p| p.into_inner())
    }

    /// Folds in what was committed since the last call.
    pub fn catch_up(&self, store: &dyn EventStore) -> Result<(), StoreError> {
        loop {
            let events = store.read_after(self.applied(), CATCH_UP_PAGE)?;
            if events.is_empty() {
                return Ok(());
            }
            let full = events.len() as u64 == CATCH_UP_PAGE;
            let mut f = self.folded.write().unwrap_or_else(|p| p.into_inner());
            // Another thread (the writer, or the follower of other processes' commits) may
            // have folded some of them meanwhile: each event is folded once, in order.
            for e in events {
                if e.position == f.head.position + 1 {
                    f.apply(e);
                }
            }
            self.applied.store(f.head.position, Ordering::Release);
            drop(f);
            // A page not full was the end of the log.
            if !full {
                return Ok(());
            }
        }
    }
}

/// How many past instants keep a fold in memory.
pub const PAST_FOLDS: usize = 4;

/// Folds of the log as of past instants, for questions the live fold (holding every event so
/// far) cannot answer. The first question about an instant folds the whole log; the fold is
/// then kept (for the last [`PAST_FOLDS`] instants asked) and only caught up with what was
/// appended since: events that occurred after the instant are ignored by the fold.
#[derive(Default)]
pub struct PastFolds {
    /// Most recently asked first.
    folds: Mutex<Vec<PastFold>>,
}

/// A fold as of a past instant, shared by the questions about that instant.
type PastFold = (DateTime<FixedOffset>, Arc<Mutex<Folded>>);

impl PastFolds {
    /// The fold as of `as_of`, caught up with the log; `f` reads it.
    pub fn with<T>(
        &self,
        store: &dyn EventStore,
        as_of: DateTime<FixedOffset>,
        f: impl FnOnce(&Folded) -> T,
    ) -> Result<T, StoreError> {
        let entry = {
            let mut folds = self.folds.lock().unwrap_or_else(|p| p.into_inner());
            match folds.iter().position(|(t, _)| *t == as_of) {
                Some(i) => {
                    let e = folds.remove(i);
                    folds.insert(0, e.clone());
                    e.1
                }
                None => {
                    let e = Arc::new(Mutex::new(Folded::new(as_of, false)));
                    folds.insert(0, (as_of, e.clone()));
                    folds.truncate(PAST_FOLDS);
                    e
                }
            }
        };
        let mut folded = entry.lock().unwrap_or_else(|p| p.into_inner());
        folded.catch_up(store)?;
        Ok(f(&folded))
    }
}
