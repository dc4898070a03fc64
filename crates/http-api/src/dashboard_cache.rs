//! The dashboard's per-year figures, kept per fiscal year and brought up to date per
//! committed batch: a page asked after a commit first advances its year's figures by the
//! events since (only the complaints they touched are judged again, and the indicator
//! tallies move by their difference: `read_model::LiveYear`), so the page shows every
//! acknowledged event. A year is built afresh the first time it is asked for on a day (its
//! judgements are as of that day).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use calendar::FiscalYear;
use chrono::{DateTime, FixedOffset, NaiveDate};
use indicators::IndicatorReport;
use projections::ComplaintView;
use read_model::{Changes, LiveYear, YearComplaint};
use reports::Overview;

use crate::problem::Problem;

/// What the cache asks of the server: itself, the live log head, the local day, a year's
/// figures built afresh and advanced. The server's state is one (`dashboard.rs`); the cache
/// knows no more of it.
pub trait Years: Clone + Send + 'static {
    fn cache(&self) -> &YearCache;
    /// The last log position the live projections hold.
    fn head(&self) -> u64;
    /// Today, in Bangkok.
    fn today(&self) -> NaiveDate;
    /// The year's figures as of now (a past year: as the log stood at its end), with their
    /// indicator reports.
    fn build(&self, fy: FiscalYear) -> Result<(LiveYear, Vec<IndicatorReport>), Problem>;
    /// Advances a year's figures to the log's head: their indicator reports, and what changed
    /// (`None`: built afresh).
    fn advance(
        &self,
        year: &mut LiveYear,
    ) -> Result<(Vec<IndicatorReport>, Option<Changes>), Problem>;
}

/// A poisoned lock still holds whole values here (every critical section replaces them).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Everything the pages of one fiscal year share: one state of its figures.
pub struct YearData {
    /// Fiscal year (C.E.), log head, and the local day they were computed for.
    pub key: (i32, u64, NaiveDate),
    /// The instant the complaints are judged as of.
    pub as_of: DateTime<FixedOffset>,
    /// The year's complaints, sorted by id, with where each was reported.
    pub complaints: Arc<Vec<Arc<YearComplaint>>>,
    /// One report per built-in spec.
    pub indicators: Vec<IndicatorReport>,
    pub overview: Overview,
}

impl YearData {
    fn of(
        year: &LiveYear,
        indicators: Vec<IndicatorReport>,
        overview: Overview,
        day: NaiveDate,
    ) -> YearData {
        let fy = year.fiscal_year;
        YearData {
            key: (fy.ce(), year.head.position, day),
            as_of: year.at,
            complaints: year.complaints.clone(),
            indicators,
            overview,
        }
    }

    /// The complaints' views, in id order.
    pub fn views(&self) -> Vec<&ComplaintView> {
        self.complaints.iter().map(|c| &c.view).collect()
    }

    /// Where each of [`views`](YearData::views) was reported.
    pub fn places(&self) -> Vec<Option<(f64, f64)>> {
        self.complaints.iter().map(|c| c.place).collect()
    }

    /// Whether `unit` is one to report on (`read_model::knows_unit`).
    pub fn knows_unit(&self, unit: &str) -> bool {
        read_model::knows_unit(self.complaints.iter().map(|c| &c.view), unit)
    }
}

/// One year's figures, its overview's tallies, and the page data of their latest state.
struct Kept {
    day: NaiveDate,
    year: LiveYear,
    overview: Overview,
    data: Arc<YearData>,
}

pub struct YearCache {
    /// Per fiscal year (C.E.); each held while it is built or advanced, so concurrent pages
    /// of a year wait for one computation instead of repeating it.
    years: Mutex<HashMap<i32, Arc<Mutex<Option<Kept>>>>>,
    /// The log position of the newest figures (for the dashboard's live feed).
    refreshed: tokio::sync::watch::Sender<u64>,
}

impl Default for YearCache {
    fn default() -> Self {
        YearCache {
            years: Default::default(),
            refreshed: tokio::sync::watch::channel(0).0,
        }
    }
}

impl YearCache {
    /// A follower of the figures' updates.
    pub fn refreshed(&self) -> tokio::sync::watch::Receiver<u64> {
        self.refreshed.subscribe()
    }
}

/// How many years' figures are kept.
const YEARS_KEPT: usize = 4;

/// The year's figures holding every event the live projections hold (see the module's
/// documentation).
pub fn year_data<S: Years>(state: &S, fy: FiscalYear) -> Result<Arc<YearData>, Problem> {
    let cache = state.cache();
    let slot = {
        let mut years = lock(&cache.years);
        if !years.contains_key(&fy.ce()) && years.len() >= YEARS_KEPT {
            // Make room by forgetting another year (a few years at most are ever asked for).
            let other = *years.keys().next().expect("not empty");
            years.remove(&other);
        }
        years.entry(fy.ce()).or_default().clone()
    };
    let mut kept = lock(&slot);
    let day = state.today();
    let head = state.head();
    match kept.as_mut() {
        Some(k) if k.day == day => {
            if k.data.key.1 != head {
                let (indicators, changes) = state.advance(&mut k.year)?;
                match changes {
                    Some(c) => {
                        c.removed.iter().for_each(|x| k.overview.remove(&x.view));
                        c.added.iter().for_each(|x| k.overview.add(&x.view));
                    }
                    None => {
                        let (fy, at) = (k.year.fiscal_year, k.year.at);
                        k.overview = Overview::compute(fy, at, k.year.views(), &[]);
                    }
                }
                k.overview.set_indicators(&indicators);
                k.data = Arc::new(YearData::of(&k.year, indicators, k.overview.clone(), day));
                cache.refreshed.send_replace(k.data.key.1);
            }
            Ok(k.data.clone())
        }
        _ => {
            let (year, indicators) = state.build(fy)?;
            let overview = Overview::compute(fy, year.at, year.views(), &indicators);
            let data = Arc::new(YearData::of(&year, indicators, overview.clone(), day));
            *kept = Some(Kept {
                day,
                year,
                overview,
                data: data.clone(),
            });
            Ok(data)
        }
    }
}
