//! The one writer: a thread that owns the log and commits waiting requests together.

use std::sync::mpsc;
use std::thread::JoinHandle;

use event_model::NewEvent;
use event_store::{AppendError, AppendReport, Log, StoreError};
use tokio::sync::oneshot;

use crate::halt::Halt;
use crate::problem::Problem;

/// Most batches committed together.
pub const MAX_GROUP: usize = 256;

struct Job {
    events: Vec<NewEvent>,
    reply: oneshot::Sender<Result<AppendReport, AppendError>>,
}

/// A handle to the writer thread. Cloning shares it; the thread ends when every handle is
/// dropped and the queued requests are committed.
#[derive(Clone)]
pub struct Writer {
    tx: mpsc::Sender<Job>,
}

impl Writer {
    /// Starts the writer thread, which owns the open log from then on (and saves a snapshot
    /// of the live projections when it ends, if they are kept).
    pub(crate) fn start(
        mut store: Box<dyn Log>,
        model: std::sync::Arc<read_model::ReadModel>,
        head: std::sync::Arc<tokio::sync::watch::Sender<u64>>,
        metrics: std::sync::Arc<crate::metrics::Metrics>,
        snapshots: Option<std::sync::Arc<crate::snapshots::Snapshots>>,
        halt: std::sync::Arc<Halt>,
    ) -> Result<(Writer, JoinHandle<()>), StoreError> {
        let (tx, rx) = mpsc::channel::<Job>();
        let handle = std::thread::Builder::new()
            .name("rongtook-writer".into())
            .spawn(move || {
                // Block for the first request, then take whatever else is waiting.
                while let Ok(first) = rx.recv() {
                    let mut jobs = vec![first];
                    while jobs.len() < MAX_GROUP {
                        match rx.try_recv() {
                            Ok(j) => jobs.push(j),
                            Err(_) => break,
                        }
                    }
                    match halt.cause() {
                        // Stopped: the log is not touched again.
                        Some(cause) => {
                            for job in jobs {
                                let _ = job.reply.send(Err(crate::halt::refusal(cause)));
                            }
                        }
                        None => commit_group(&mut *store, jobs, &model, &head, &metrics, &halt),
                    }
                }
                // Every handle is gone and the last append committed: a clean shutdown.
                if let Some(s) = snapshots {
                    s.save(&model);
                }
            })
            .map_err(|e| StoreError::Unavailable(format!("cannot start the writer thread: {e}")))?;
        Ok((Writer { tx }, handle))
    }

    /// Appends one atomic batch; resolves once it is committed (or refused).
    pub async fn append(&self, events: Vec<NewEvent>) -> Result<AppendReport, Problem> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Job { events, reply })
            .map_err(|_| Problem::unavailable("the writer has stopped".into()))?;
        let outcome = rx
            .await
            .map_err(|_| Problem::internal("the writer stopped before answering".into()))?;
        outcome.map_err(Problem::from)
    }
}

/// Commits the waiting requests together, brings the live projections up to date, then
/// answers each request; a failed commit answers every one of them with its cause.
fn commit_group(
    store: &mut dyn Log,
    jobs: Vec<Job>,
    model: &read_model::ReadModel,
    head: &tokio::sync::watch::Sender<u64>,
    metrics: &crate::metrics::Metrics,
    halt: &Halt,
) {
    let (batches, replies): (Vec<_>, Vec<_>) =
        jobs.into_iter().map(|j| (j.events, j.reply)).unzip();
    let now = chrono::Utc::now().fixed_offset();
    let started = std::time::Instant::now();
    match store.append_group(batches, now) {
        Ok(outcomes) => {
            metrics
                .commit_seconds
                .observe(started.elapsed().as_secs_f64());
            let stored: u64 = outcomes
                .iter()
                .filter_map(|o| o.as_ref().ok())
                .map(|r| r.appended)
                .sum();
            let batches = outcomes.iter().filter(|o| o.is_ok()).count();
            metrics.appends.inc_by(batches as u64);
            metrics.events.inc_by(stored);
            metrics.events_per_commit.observe(stored as f64);
            // The live projections see the events before their senders hear back, so a read
            // after a 2xx sees the write.
            if let Err(e) = model.catch_up(store) {
                tracing::error!(error = %e, "live projections could not catch up");
                if e.is_fatal() {
                    halt.stop(format!("reading the log back after a commit failed: {e}"));
                }
            }
            announce(head, model.applied());
            for (reply, outcome) in replies.into_iter().zip(outcomes) {
                let _ = reply.send(outcome);
            }
        }
        Err(e) if e.is_fatal() => {
            let why = e.to_string();
            halt.stop(format!("a commit failed: {why}"));
            for reply in replies {
                let _ = reply.send(Err(crate::halt::failed_commit(&why)));
            }
        }
        Err(e) => {
            tracing::error!(error = %e, "group commit failed");
            let why = e.to_string();
            let full = e.is_full();
            for reply in replies {
                let e = if full {
                    StoreError::Full(format!("commit failed: {why}"))
                } else {
                    StoreError::Unavailable(format!("commit failed: {why}"))
                };
                let _ = reply.send(Err(AppendError::from(e)));
            }
        }
    }
}

/// Tells live feeds the log head moved to `now` (never back: the writer and the follower both
/// announce, and their announcements may cross).
pub(crate) fn announce(head: &tokio::sync::watch::Sender<u64>, now: u64) {
    head.send_if_modified(|h| {
        let moved = now > *h;
        *h = (*h).max(now);
        moved
    });
}
