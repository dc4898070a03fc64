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

use crate::problem::Problem;
use crate::state::{lock, now, AppState};

/// How many years' figures are kept.
const YEARS_KEPT: usize = 4;

/// Everything the pages of one fiscal year share.
pub struct YearData {
    /// Fiscal year (C.E.), log head, and the local day they were computed for.
    pub key: (i32, u64, NaiveDate),
    pub figures: YearFigures,
    pub overview: Overview,
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
pub fn year_data(state: &AppState, fy: FiscalYear) -> Result<Arc<YearData>, Problem> {
    let cache = state.years();
    let head = state.model().applied();
    let day = calendar::local_date(&now());
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
    let data = compute(state, fy)?;
    keep(cache, data.clone());
    Ok(data)
}

/// Computes a year's figures again on a thread of its own (once at a time per year), then
/// announces them on the live feed.
fn refresh_in_background(state: &AppState, fy: FiscalYear) {
    if !lock(&state.years().refreshing).insert(fy.ce()) {
        return;
    }
    let state = state.clone();
    std::thread::spawn(move || {
        let cache = state.years();
        let fresh = {
            let _computing = lock(&cache.computing);
            compute(&state, fy)
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

/// The year's figures as of now (a past year: as the log stood at its end), scored with every
/// built-in indicator.
fn compute(state: &AppState, fy: FiscalYear) -> Result<Arc<YearData>, Problem> {
    let at = now();
    let specs = read_model::builtin_specs();
    let figures = state.read(|store| state.model().year(store, fy, at, &specs))?;
    let overview = Overview::compute(fy, figures.as_of, &figures.complaints, &figures.indicators);
    Ok(Arc::new(YearData {
        key: (fy.ce(), figures.head.position, calendar::local_date(&at)),
        figures,
        overview,
    }))
}
