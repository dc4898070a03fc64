//! The read model a server keeps: the live fold, folds as of past instants, and the rule data
//! they are judged with. Every question the HTTP API and the dashboard ask is one method here.

use calendar::{Calendar, FiscalYear};
use chrono::{DateTime, FixedOffset};
use event_store::{EventStore, StoreError};
use indicators::{IndicatorReport, Spec};
use lifecycle::Status;
use projections::{ComplaintView, DeadlineRules, OverdueReport};

use crate::folded::{Folded, Live, PastFolds};
use crate::query::{
    complaint_as_of, inspection_list_of, inspection_months_of, overdue_of, ComplaintAt,
    InspectionList, YearFigures,
};
use crate::year::{Changes, LiveYear};

/// Which complaints a list holds.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    /// Complaints ever forwarded to this unit.
    pub unit: Option<String>,
    pub status: Option<Status>,
    /// Only complaints with an overdue obligation now.
    pub overdue: bool,
}

/// One page of a list, and how many complaints the whole list holds.
#[derive(Debug, Clone)]
pub struct ListPage {
    pub total: usize,
    pub complaints: Vec<ComplaintView>,
}

/// Most events a year's figures are advanced by; after more, they are built afresh.
pub const MAX_ADVANCE: u64 = 200_000;

/// Where a complaint was reported (latitude, longitude), as the live fold holds it.
fn place(live: &Folded, id: &str) -> Option<(f64, f64)> {
    let l = live.fold.public_info(id)?.location?;
    Some((l.lat?, l.lon?))
}

/// The streams of the events after position `from` up to `to`, or `None` when they are more
/// than [`MAX_ADVANCE`].
fn touched_between(
    store: &dyn EventStore,
    from: u64,
    to: u64,
) -> Result<Option<std::collections::BTreeSet<String>>, StoreError> {
    if to.saturating_sub(from) > MAX_ADVANCE {
        return Ok(None);
    }
    let mut touched = std::collections::BTreeSet::new();
    let mut at = from;
    while at < to {
        let events = store.read_after(at, (to - at).min(crate::folded::CATCH_UP_PAGE))?;
        let Some(last) = events.last() else {
            // The reads lag behind the fold (a standby): judge everything afresh.
            return Ok(None);
        };
        at = last.position;
        touched.extend(
            events
                .into_iter()
                .filter(|e| e.position <= to)
                .map(|e| e.stream),
        );
    }
    Ok(Some(touched))
}

pub struct ReadModel {
    live: Live,
    past: PastFolds,
    calendar: Calendar,
    rules: DeadlineRules,
}

impl ReadModel {
    /// Folds the whole log into the live fold.
    pub fn load(
        store: &dyn EventStore,
        calendar: Calendar,
        rules: DeadlineRules,
    ) -> Result<ReadModel, StoreError> {
        Self::resume(store, None, calendar, rules)
    }

    /// Starts the live fold from `start` (a snapshot's fold, checked against this log with
    /// [`crate::snapshot::check_log`]) and folds in what was appended after it; from scratch
    /// without one.
    pub fn resume(
        store: &dyn EventStore,
        start: Option<Folded>,
        calendar: Calendar,
        rules: DeadlineRules,
    ) -> Result<ReadModel, StoreError> {
        let live = match start {
            Some(f) => Live::resume(store, f)?,
            None => Live::load(store)?,
        };
        Ok(ReadModel {
            live,
            past: PastFolds::default(),
            calendar,
            rules,
        })
    }

    /// The live fold as a snapshot ([`crate::snapshot`]): its position and bytes. The live
    /// fold is held still (commits wait) only while its parts are encoded.
    pub fn snapshot(&self) -> (u64, Vec<u8>) {
        let pieces = crate::snapshot::take(&self.live.read(), &self.calendar, &self.rules);
        (pieces.position(), pieces.into_bytes())
    }

    pub fn calendar(&self) -> &Calendar {
        &self.calendar
    }

    pub fn rules(&self) -> &DeadlineRules {
        &self.rules
    }

    /// The live fold: every event so far.
    pub fn live(&self) -> &Live {
        &self.live
    }

    /// The last position the live fold holds.
    pub fn applied(&self) -> u64 {
        self.live.applied()
    }

    /// Folds what was committed since into the live fold.
    pub fn catch_up(&self, store: &dyn EventStore) -> Result<(), StoreError> {
        self.live.catch_up(store)
    }

    /// One complaint judged as of `as_of`.
    pub fn complaint(
        &self,
        store: &dyn EventStore,
        id: &str,
        as_of: DateTime<FixedOffset>,
    ) -> Result<ComplaintAt, StoreError> {
        complaint_as_of(store, id, as_of, &self.calendar, &self.rules)
    }

    /// One complaint of the live fold judged as of `now`.
    pub fn complaint_now(&self, id: &str, now: DateTime<FixedOffset>) -> Option<ComplaintView> {
        self.live
            .read()
            .fold
            .view_at(id, &self.calendar, &self.rules, now)
    }

    /// Where each of `complaints` was reported (latitude, longitude), as the live fold holds
    /// it; `None` for one without coordinates.
    pub fn places(&self, complaints: &[ComplaintView]) -> Vec<Option<(f64, f64)>> {
        let live = self.live.read();
        complaints
            .iter()
            .map(|v| place(&live, &v.complaint_id))
            .collect()
    }

    /// The complaints that pass `filter`, sorted by id, judged as of `now`: page `page`
    /// (from 1) of `per_page`.
    pub fn complaints(
        &self,
        filter: &ListFilter,
        now: DateTime<FixedOffset>,
        page: usize,
        per_page: usize,
    ) -> ListPage {
        let live = self.live.read();
        let fold = &live.fold;
        let mut ids: Vec<&str> = fold
            .summaries()
            .filter(|s| filter.unit.as_deref().is_none_or(|u| s.units.contains(&u)))
            .filter(|s| filter.status.is_none_or(|st| s.status == st))
            .filter(|s| !filter.overdue || s.status.is_open())
            .map(|s| s.complaint_id)
            .collect();
        ids.sort_unstable();
        let skip = page.saturating_sub(1).saturating_mul(per_page);
        if filter.overdue {
            let all: Vec<ComplaintView> = fold
                .views_of_at(&ids, &self.calendar, &self.rules, now)
                .into_iter()
                .filter(|v| projections::overdue(std::iter::once(v), now, &self.rules).total > 0)
                .collect();
            ListPage {
                total: all.len(),
                complaints: all.into_iter().skip(skip).take(per_page).collect(),
            }
        } else {
            let shown: Vec<&str> = ids.iter().skip(skip).take(per_page).copied().collect();
            ListPage {
                total: ids.len(),
                complaints: fold.views_of_at(&shown, &self.calendar, &self.rules, now),
            }
        }
    }

    /// What `who` owes now, from the live fold: most pressing first.
    pub fn worklist(
        &self,
        who: &projections::Worker,
        now: DateTime<FixedOffset>,
    ) -> Vec<projections::Task> {
        let live = self.live.read();
        let ids: Vec<&str> = live
            .fold
            .summaries()
            .filter(|s| match who {
                projections::Worker::Centre => s.status.is_open() || s.owes_inform,
                projections::Worker::Unit(u) => s.unit == Some(u.as_str()),
                projections::Worker::Inspector(_) => true,
            })
            .map(|s| s.complaint_id)
            .collect();
        let views = live
            .fold
            .views_of_at(&ids, &self.calendar, &self.rules, now);
        projections::worklist(&views, who, now, &self.rules)
    }

    /// Every complaint of the live fold, judged as of `now`, sorted by id.
    pub fn all_complaints(&self, now: DateTime<FixedOffset>) -> Vec<ComplaintView> {
        let live = self.live.read();
        let ids = live.fold.ids_in(None);
        live.fold
            .views_of_at(&ids, &self.calendar, &self.rules, now)
    }

    /// An inspecting office's selection list as of `as_of` (a past instant: the log as it
    /// stood then), or of now from the live fold; with every office's inspections per month.
    pub fn inspection(
        &self,
        store: &dyn EventStore,
        office: &projections::InspectingOffice,
        as_of: Option<DateTime<FixedOffset>>,
        now: DateTime<FixedOffset>,
    ) -> Result<(InspectionList, Vec<projections::InspectionMonth>), StoreError> {
        let (cal, rules) = (&self.calendar, &self.rules);
        let both = |views: &[ComplaintView], at| {
            (
                inspection_list_of(views, office, at, rules),
                inspection_months_of(views, at, rules),
            )
        };
        match as_of {
            None => Ok(both(&self.all_complaints(now), now)),
            Some(at) => self
                .past
                .with(store, at, |f| both(&f.fold.views(cal, rules), at)),
        }
    }

    /// The overdue list as of `as_of` (a past instant: the log as it stood then), or of now
    /// from the live fold's open complaints; of one unit only when `unit` is given.
    pub fn overdue(
        &self,
        store: &dyn EventStore,
        as_of: Option<DateTime<FixedOffset>>,
        now: DateTime<FixedOffset>,
        unit: Option<&str>,
    ) -> Result<OverdueReport, StoreError> {
        let (cal, rules) = (&self.calendar, &self.rules);
        match as_of {
            None => {
                let live = self.live.read();
                let ids: Vec<&str> = live
                    .fold
                    .summaries()
                    .filter(|s| s.status.is_open() || s.owes_inform)
                    .map(|s| s.complaint_id)
                    .collect();
                let views = live.fold.views_of_at(&ids, cal, rules, now);
                Ok(overdue_of(&views, now, rules, unit))
            }
            Some(at) => self.past.with(store, at, |f| {
                overdue_of(&f.fold.views(cal, rules), at, rules, unit)
            }),
        }
    }

    /// `spec` scored for fiscal year `fy` on the log as it stood at `as_of`, of one unit only
    /// when `unit` is given.
    pub fn indicator(
        &self,
        store: &dyn EventStore,
        spec: &Spec,
        fy: FiscalYear,
        as_of: DateTime<FixedOffset>,
        unit: Option<&str>,
    ) -> Result<IndicatorReport, StoreError> {
        let mut rep = self.past.with(store, as_of, |f| {
            YearFigures::compute(
                f,
                fy,
                as_of,
                &self.calendar,
                &self.rules,
                std::slice::from_ref(spec),
            )
        })?;
        let mut rep = rep.indicators.pop().expect("one spec, one result");
        if let Some(u) = unit {
            rep.units.retain(|x| x.unit == u);
        }
        Ok(rep)
    }

    /// A fiscal year's figures to advance batch by batch ([`LiveYear`]), with its indicator
    /// reports: a current year from the live fold judged as of `now`, a past year from the
    /// log as it stood at the year's end, judged then.
    pub fn live_year(
        &self,
        store: &dyn EventStore,
        fy: FiscalYear,
        now: DateTime<FixedOffset>,
        specs: &[Spec],
    ) -> Result<(LiveYear, Vec<IndicatorReport>), StoreError> {
        let at = fy.end_instant().min(now);
        self.with_year_fold(store, fy, at, |fold, live| {
            let year = LiveYear::build(fold, fy, at, &self.calendar, &self.rules, specs, &|id| {
                place(live, id)
            });
            let indicators = year.indicators(fold, &self.calendar);
            Ok((year, indicators))
        })
    }

    /// Brings `year` up to the log its fold now holds: the complaints the events since touched
    /// are judged again (all of them, when more than [`MAX_ADVANCE`] events came since).
    /// Returns its indicator reports, and what changed (`None`: built afresh).
    pub fn advance_year(
        &self,
        store: &dyn EventStore,
        year: &mut LiveYear,
    ) -> Result<(Vec<IndicatorReport>, Option<Changes>), StoreError> {
        let (fy, at) = (year.fiscal_year, year.at);
        self.with_year_fold(store, fy, at, |fold, live| {
            let (from, to) = (year.head.position, fold.head.position);
            let (cal, rules) = (&self.calendar, &self.rules);
            let changes = if to == from {
                Some(Changes::default())
            } else {
                match touched_between(store, from, to)? {
                    Some(touched) => {
                        Some(year.advance(fold, &touched, cal, rules, &|id| place(live, id)))
                    }
                    None => {
                        let specs = year.specs();
                        *year = LiveYear::build(fold, fy, at, cal, rules, &specs, &|id| {
                            place(live, id)
                        });
                        None
                    }
                }
            };
            Ok((year.indicators(fold, &self.calendar), changes))
        })
    }

    /// Runs `f` on the fold a year's figures as of `at` come from (the live fold for a current
    /// year, a past fold caught up with the log for a past one) and on the live fold.
    fn with_year_fold<T>(
        &self,
        store: &dyn EventStore,
        fy: FiscalYear,
        at: DateTime<FixedOffset>,
        f: impl FnOnce(&Folded, &Folded) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        if fy.end_instant() > at {
            let live = self.live.read();
            f(&live, &live)
        } else {
            self.past
                .with(store, at, |past| f(past, &self.live.read()))?
        }
    }

    /// When the newest complaint of the live fold was received.
    pub fn newest_received(&self) -> Option<DateTime<FixedOffset>> {
        self.live
            .read()
            .fold
            .summaries()
            .filter_map(|s| s.received_at)
            .max()
    }
}
