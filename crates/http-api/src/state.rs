//! What the handlers share: the read model, the writer, the token cache, and the watch channels
//! that live feeds follow. Locks are behind accessors: a handler never sees a lock.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Instant;

use axum::http::HeaderMap;
use calendar::Calendar;
use chrono::{DateTime, FixedOffset};
use event_store::{EventStore, Log};
use event_store_open::Location;
use projections::DeadlineRules;
use read_model::ReadModel;

use crate::auth::{self, token_hash, Caller, Role};
use crate::dashboard_cache::YearCache;
use crate::halt::Halt;
use crate::metrics::Metrics;
use crate::problem::Problem;
use crate::snapshots::{SnapshotConfig, Snapshots};
use crate::writer::Writer;

/// Largest request body accepted, in bytes (413 above).
pub const DEFAULT_MAX_BODY_BYTES: usize = 8 * 1024 * 1024;

/// How long a checked token is trusted without asking the store again: a token revoked with
/// `rongtook token revoke` stops working within this time.
pub const TOKEN_CACHE_TTL: std::time::Duration = std::time::Duration::from_secs(5);

/// What the handlers share.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    model: Arc<ReadModel>,
    metrics: Arc<Metrics>,
    /// The log head, announced by the writer after each commit (for live followers).
    head: tokio::sync::watch::Receiver<u64>,
    /// Set when the server begins to shut down: live streams end.
    stopping: tokio::sync::watch::Sender<bool>,
    /// The dashboard's per-year figures.
    years: YearCache,
    /// Token hash -> caller, with when it was checked.
    tokens: RwLock<HashMap<[u8; 32], (Caller, Instant)>>,
    /// Connections for reads (to the log itself, or to a hot standby of it).
    readers: event_store_open::Readers,
    writer: Writer,
    /// Where the live projections are saved, if anywhere.
    snapshots: Option<Arc<Snapshots>>,
    /// Whether appends are stopped (fail-stop), and why.
    halt: Arc<Halt>,
    max_body_bytes: usize,
}

/// How long the follower waits for a commit announcement before it looks anyway.
pub const FOLLOW_EVERY: std::time::Duration = std::time::Duration::from_millis(500);

/// Follows commits made by other processes on the same log (other servers on one PostgreSQL
/// database, or a `rongtook append` beside the server): on each announcement, or every
/// [`FOLLOW_EVERY`] where the backend announces nothing, the live projections catch up by
/// position and live feeds hear the new head; a snapshot is saved when one is due. Ends when
/// the server stops.
fn follow(
    store: Box<dyn Log>,
    model: Arc<ReadModel>,
    head: Arc<tokio::sync::watch::Sender<u64>>,
    stopping: tokio::sync::watch::Receiver<bool>,
    snapshots: Option<Arc<Snapshots>>,
) -> Result<(), event_store::StoreError> {
    std::thread::Builder::new()
        .name("rongtook-follower".into())
        .spawn(move || {
            while !*stopping.borrow() && Arc::strong_count(&model) > 1 {
                // A commit this server made itself is folded already: no need to read it.
                let looked =
                    store
                        .wait_for_commit(FOLLOW_EVERY)
                        .and_then(|announced| match announced {
                            Some(head) if head <= model.applied() => Ok(()),
                            _ => model.catch_up(&*store),
                        });
                match looked {
                    Ok(()) => {
                        crate::writer::announce(&head, model.applied());
                        if let Some(s) = &snapshots {
                            s.save_if_due(&model);
                        }
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "following the log failed; retrying");
                        std::thread::sleep(FOLLOW_EVERY);
                    }
                }
            }
        })
        .map_err(|e| {
            event_store::StoreError::Unavailable(format!("cannot start the follower thread: {e}"))
        })?;
    Ok(())
}

/// Verifies the chain from the head verified last (the whole log where the backend keeps no
/// record) before any append is taken; a chain that does not hold stops appends, naming the
/// position. Returns whether part of the log was taken as verified before (then
/// [`verify_again_in_background`] walks the whole log once the projections are ready).
fn verify_at_start(store: &mut dyn Log, halt: &Halt) -> Result<bool, event_store::StoreError> {
    let t = Instant::now();
    let from = store.verified_head()?.unwrap_or_default();
    let report = store.verify_from(from)?;
    if let Some((position, why)) = report.first_bad {
        halt.stop(format!(
            "the log does not verify at position {position}: {why}"
        ));
        return Ok(false);
    }
    store.record_verified(report.head)?;
    tracing::info!(
        from = from.position,
        to = report.head.position,
        millis = t.elapsed().as_millis() as u64,
        "chain verified"
    );
    Ok(from.position > 0)
}

/// Walks the whole log's chain in a thread of its own, so that damage to events verified at
/// an earlier start is found too; a chain that does not hold stops appends, naming the
/// position.
fn verify_again_in_background(
    db: &Location,
    halt: &Arc<Halt>,
) -> Result<(), event_store::StoreError> {
    let reader = event_store_open::open_read_only(db)?;
    let halt = halt.clone();
    std::thread::Builder::new()
        .name("rongtook-verify".into())
        .spawn(move || {
            let t = Instant::now();
            match reader.verify() {
                Ok(r) => match r.first_bad {
                    None => tracing::info!(
                        events = r.events,
                        millis = t.elapsed().as_millis() as u64,
                        "whole chain verified"
                    ),
                    Some((position, why)) => halt.stop(format!(
                        "the log does not verify at position {position}: {why}"
                    )),
                },
                Err(e) if e.is_fatal() => halt.stop(format!("verifying the log failed: {e}")),
                Err(e) => tracing::error!(error = %e, "verifying the whole log failed"),
            }
        })
        .map_err(|e| {
            event_store::StoreError::Unavailable(format!("cannot start the verify thread: {e}"))
        })?;
    Ok(())
}

/// How a server starts, beyond its log and rules.
#[derive(Debug, Clone, Default)]
pub struct StartOptions {
    /// Where reads go (the feed, complaint and figure reads, the dashboard): a hot standby
    /// of the log kept by synchronous replication. Appends, the live projections and the
    /// follower stay on the log itself. `None`: the log.
    pub read_db: Option<Location>,
    /// Where and how often the live projections are saved, to start from at the next start.
    /// `None`: every start folds the whole log.
    pub snapshots: Option<SnapshotConfig>,
}

impl AppState {
    /// Opens the log at `db`: folds it into the live projections (logging how long that took)
    /// and starts the writer thread. The thread ends once every clone of the state is dropped
    /// and the queued appends are committed; join it after `serve` returns.
    pub fn start(
        db: Location,
        durability: event_store::Durability,
        calendar: Calendar,
        rules: DeadlineRules,
    ) -> Result<(AppState, std::thread::JoinHandle<()>), event_store::StoreError> {
        Self::start_with(db, durability, calendar, rules, StartOptions::default())
    }

    /// Like [`start`](AppState::start), with [`StartOptions`]: the live projections start
    /// from the newest usable snapshot, if any, and catch up from its position.
    pub fn start_with(
        db: Location,
        durability: event_store::Durability,
        calendar: Calendar,
        rules: DeadlineRules,
        options: StartOptions,
    ) -> Result<(AppState, std::thread::JoinHandle<()>), event_store::StoreError> {
        let t = Instant::now();
        let mut store = event_store_open::open(&db, durability)?;
        let halt = Arc::new(Halt::default());
        let walk_again = verify_at_start(&mut *store, &halt)?;
        let snapshots = options
            .snapshots
            .map(Snapshots::open)
            .transpose()
            .map_err(event_store::StoreError::Unavailable)?
            .map(Arc::new);
        let start = snapshots
            .as_ref()
            .and_then(|s| s.load(&*store, &calendar, &rules));
        let from = start.as_ref().map_or(0, |f| f.head.position);
        let model = Arc::new(ReadModel::resume(&*store, start, calendar, rules)?);
        tracing::info!(
            events = model.applied(),
            from_snapshot_at = from,
            millis = t.elapsed().as_millis() as u64,
            "projections ready"
        );
        if walk_again {
            verify_again_in_background(&db, &halt)?;
        }
        let (head_tx, head) = tokio::sync::watch::channel(model.applied());
        let head_tx = Arc::new(head_tx);
        let metrics = Arc::new(Metrics::new());
        let stopping = tokio::sync::watch::channel(false).0;
        follow(
            event_store_open::open_read_only(&db)?,
            model.clone(),
            head_tx.clone(),
            stopping.subscribe(),
            snapshots.clone(),
        )?;
        let (writer, thread) = Writer::start(
            store,
            model.clone(),
            head_tx,
            metrics.clone(),
            snapshots.clone(),
            halt.clone(),
        )?;
        let state = AppState {
            inner: Arc::new(Inner {
                model,
                metrics,
                head,
                stopping,
                tokens: Default::default(),
                years: YearCache::default(),
                readers: event_store_open::Readers::new(options.read_db.unwrap_or(db)),
                writer,
                snapshots,
                halt,
                max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            }),
        };
        Ok((state, thread))
    }

    /// The same state with another body limit.
    pub fn with_max_body_bytes(self, max: usize) -> AppState {
        let inner = Arc::try_unwrap(self.inner)
            .unwrap_or_else(|_| panic!("set limits before sharing the state"));
        AppState {
            inner: Arc::new(Inner {
                max_body_bytes: max,
                ..inner
            }),
        }
    }

    /// Why appends are stopped, if they are (see [`crate::halt`]).
    pub fn appends_stopped(&self) -> Option<&str> {
        self.inner.halt.cause()
    }

    /// The last log position the live projections hold.
    pub fn applied(&self) -> u64 {
        self.inner.model.applied()
    }

    pub(crate) fn max_body_bytes(&self) -> usize {
        self.inner.max_body_bytes
    }

    /// The read model: live fold, past folds, calendar and rules.
    pub(crate) fn model(&self) -> &ReadModel {
        &self.inner.model
    }

    pub(crate) fn metrics(&self) -> &Metrics {
        &self.inner.metrics
    }

    /// Seconds since the newest snapshot was saved (or the one started from was), if any.
    pub(crate) fn snapshot_age_seconds(&self) -> Option<f64> {
        self.inner.snapshots.as_ref()?.age_seconds()
    }

    pub(crate) fn calendar(&self) -> &Calendar {
        self.inner.model.calendar()
    }

    pub(crate) fn rules(&self) -> &DeadlineRules {
        self.inner.model.rules()
    }

    pub(crate) fn writer(&self) -> &Writer {
        &self.inner.writer
    }

    pub(crate) fn years(&self) -> &YearCache {
        &self.inner.years
    }

    /// A follower of the log head.
    pub(crate) fn head(&self) -> tokio::sync::watch::Receiver<u64> {
        self.inner.head.clone()
    }

    /// A follower of the shutdown.
    pub(crate) fn stopping(&self) -> tokio::sync::watch::Receiver<bool> {
        self.inner.stopping.subscribe()
    }

    /// Tells live streams to end.
    pub(crate) fn stop(&self) {
        self.inner.stopping.send_replace(true);
    }

    /// A read-only connection to the log (kept for reuse when it is given back).
    pub(crate) fn reader(&self) -> Result<event_store_open::Reader<'_>, Problem> {
        self.inner
            .readers
            .get()
            .map_err(|e| Problem::internal(e.to_string()))
    }

    /// Refuses an evaluation instant outside the calendar's years (422).
    pub(crate) fn covered(&self, at: DateTime<FixedOffset>) -> Result<(), Problem> {
        read_model::check_covered(at, self.calendar()).map_err(Problem::outside_calendar)
    }

    /// Runs `f` on a read-only connection to the log.
    pub(crate) fn read<T>(
        &self,
        f: impl FnOnce(&dyn EventStore) -> Result<T, event_store::StoreError>,
    ) -> Result<T, Problem> {
        self.inner
            .readers
            .with(|store| f(store))
            .map_err(|e| Problem::internal(e.to_string()))
    }

    /// The caller behind a request's bearer token (401 without a valid one).
    pub(crate) async fn caller(&self, headers: &HeaderMap) -> Result<Caller, Problem> {
        self.caller_for_token(auth::bearer(headers)?).await
    }

    /// The unit a request may look at (see [`unit_scope`]), from its bearer token.
    pub(crate) async fn scoped_unit(
        &self,
        headers: &HeaderMap,
        asked: Option<String>,
    ) -> Result<Option<String>, Problem> {
        unit_scope(&self.caller(headers).await?, asked)
    }

    /// The caller a token stands for (401 for an unknown or revoked one).
    pub(crate) async fn caller_for_token(&self, token: String) -> Result<Caller, Problem> {
        let hash = token_hash(&token);
        if let Some((caller, at)) = self
            .inner
            .tokens
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(&hash)
        {
            if at.elapsed() < TOKEN_CACHE_TTL {
                return Ok(caller.clone());
            }
        }
        let state = self.clone();
        let record = blocking(move || {
            let reader = state.reader()?;
            reader
                .find_token(&hash)
                .map_err(|e| Problem::internal(e.to_string()))
        })
        .await?
        .ok_or_else(|| auth::unauthorized("unknown or revoked token"))?;
        let role = Role::parse(&record.role, record.unit.as_deref())
            .ok_or_else(|| Problem::internal(format!("token {} has no valid role", record.id)))?;
        let caller = Caller {
            token_id: record.id,
            role,
        };
        let mut cache = self.inner.tokens.write().unwrap_or_else(|p| p.into_inner());
        cache.retain(|_, (_, at)| at.elapsed() < TOKEN_CACHE_TTL);
        cache.insert(hash, (caller.clone(), Instant::now()));
        Ok(caller)
    }
}

/// Runs blocking work (the store, folds) off the async threads.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, Problem> + Send + 'static,
) -> Result<T, Problem> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Problem::internal(format!("worker failed: {e}")))?
}

/// The current instant: the only clock of the read side.
pub(crate) fn now() -> DateTime<FixedOffset> {
    chrono::Utc::now().fixed_offset()
}

/// The unit a caller may look at: a unit token only its own (403 for another).
pub(crate) fn unit_scope(
    caller: &Caller,
    asked: Option<String>,
) -> Result<Option<String>, Problem> {
    match (&caller.role, asked) {
        (Role::Unit(u), Some(a)) if &a != u => Err(auth::forbidden(format!(
            "a `unit` token for `{u}` may not read `{a}`"
        ))),
        (Role::Unit(u), _) => Ok(Some(u.clone())),
        (_, a) => Ok(a),
    }
}

/// An optional `as_of` query value: RFC 3339 or a date (the end of that day in Bangkok), in
/// the years the calendar covers (422 outside them).
pub(crate) fn parse_as_of(
    state: &AppState,
    t: Option<&str>,
) -> Result<Option<DateTime<FixedOffset>>, Problem> {
    let Some(t) = t else { return Ok(None) };
    match read_model::parse_as_of(t, state.calendar()) {
        Ok(at) => Ok(Some(at)),
        Err(read_model::AsOfError::Bad(e)) => Err(Problem::bad_query(format!("as_of: {e}"))),
        Err(read_model::AsOfError::Outside(e)) => Err(Problem::outside_calendar(e)),
    }
}

/// A fiscal year as a query value: four digits, B.E. (2567) or C.E. (2024).
pub(crate) fn fiscal_year_param(name: &str, text: &str) -> Result<calendar::FiscalYear, Problem> {
    if text.len() != 4 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Problem::bad_query(format!(
            "{name}: `{text}` is not a fiscal year: four digits, B.E. (2567) or C.E. (2024)"
        )));
    }
    calendar::FiscalYear::parse(text).map_err(|e| Problem::bad_query(format!("{name}: {e}")))
}
