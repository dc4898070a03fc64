//! The dashboard's per-year figures, cached per (fiscal year, log head, day), so a warm page
//! costs only its rendering. When events were appended since the cached figures were
//! computed, those are answered at once and fresh ones computed in the background; pages hear
//! of them on `/dashboard/live`. Only a year not yet computed today makes a request wait.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use calendar::FiscalYear;
use chrono::NaiveDate;
use read_model::YearFigures;
use reports::Overview;

use std::sync::MutexGuard;

use crate::problem::Problem;

/// What the cache asks of the server: itself, the live log head, the local day, and fresh
/// figures of a year. The server's state is one (`dashboard.rs`); the cache knows no more of it.
pub trait Years: Clone + Send + 'static {
    fn cache(&self) -> &YearCache;
    /// The last log position the live projections hold.
    fn head(&self) -> u64;
    /// Today, in Bangkok.
    fn today(&self) -> NaiveDate;
    /// The year's figures as of now (a past year: as the log stood at its end).
    fn compute(&self, fy: FiscalYear) -> Result<Arc<YearData>, Problem>;
}

/// A poisoned lock still holds whole values here (every critical section replaces them).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// How many years' figures are kept.
const YEARS_KEPT: usize = 4;

/// Everything the pages of one fiscal year share.
pub struct YearData {
    /// Fiscal year (C.E.), log head, and the local day they were computed for.
    pub key: (i32, u64, NaiveDate),
    pub figures: YearFigures,
    pub overview: Overview,
    /// Where each of `figures.complaints` was reported (latitude, longitude), if known.
    pub places: Vec<Option<(f64, f64)>>,
}

pub struct YearCache {
    /// Newest first.
    years: Mutex<Vec<Arc<YearData>>>,
    /// Held while a year's figures are computed: one computation at a time.
    computing: Mutex<()>,
    /// Years whose figures are being refreshed in the background.
    refreshing: Mutex<HashSet<i32>>,
    /// The log position of the newest figures refreshed (for the dashboard's live feed).
    refreshed: tokio::sync::watch::Sender<u64>,
}

impl Default for YearCache {
    fn default() -> Self {
        YearCache {
            years: Default::default(),
            computing: Default::default(),
            refreshing: Default::default(),
            refreshed: tokio::sync::watch::channel(0).0,
        }
    }
}

impl YearCache {
    /// A follower of the refreshes.
    pub fn refreshed(&self) -> tokio::sync::watch::Receiver<u64> {
        self.refreshed.subscribe()
    }
}

/// The year's figures (see the module's documentation).
pub fn year_data<S: Years>(state: &S, fy: FiscalYear) -> Result<Arc<YearData>, Problem> {
    let cache = state.cache();
    let head = state.head();
    let day = state.today();
    let cached = |exact: bool| {
        lock(&cache.years)
            .iter()
            .find(|d| d.key.0 == fy.ce() && d.key.2 == day && (!exact || d.key.1 == head))
            .cloned()
    };
    if let Some(d) = cached(true) {
        return Ok(d);
    }
    if let Some(stale) = cached(false) {
        refresh_in_background(state, fy);
        return Ok(stale);
    }
    // One computation at a time: concurrent first requests wait for it instead of repeating it.
    let _computing = lock(&cache.computing);
    if let Some(d) = cached(false) {
        return Ok(d);
    }
    let data = state.compute(fy)?;
    keep(cache, data.clone());
    Ok(data)
}

/// Computes a year's figures again on a thread of its own (once at a time per year), then
/// announces them on the live feed.
fn refresh_in_background<S: Years>(state: &S, fy: FiscalYear) {
    if !lock(&state.cache().refreshing).insert(fy.ce()) {
        return;
    }
    let state = state.clone();
    std::thread::spawn(move || {
        let cache = state.cache();
        let fresh = {
            let _computing = lock(&cache.computing);
            state.compute(fy)
        };
        match fresh {
            Ok(data) => {
                let position = data.key.1;
                keep(cache, data);
                cache.refreshed.send_replace(position);
            }
            Err(p) => tracing::error!(detail = %p.0.detail, "dashboard figures not refreshed"),
        }
        lock(&cache.refreshing).remove(&fy.ce());
    });
}

/// Keeps `data` as the year's newest figures of the day.
fn keep(cache: &YearCache, data: Arc<YearData>) {
    let mut years = lock(&cache.years);
    let (fy, _, day) = data.key;
    years.retain(|d| d.key.2 == day && d.key.0 != fy);
    years.insert(0, data);
    years.truncate(YEARS_KEPT);
}
