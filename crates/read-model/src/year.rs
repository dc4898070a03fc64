//! A fiscal year's figures kept up to date per committed batch: the year's complaints judged
//! as of one instant, and each spec's tallies ([`indicators::Scorer`]). After a commit only the
//! complaints the new events touched are judged again: each one's old view leaves the
//! tallies, its new one enters them, and the indicator reports are drawn from the tallies.
//! The result equals [`YearFigures::compute`](crate::YearFigures::compute) of the same fold
//! at the same instant (a test holds it after every batch of a generated year).
//!
//! Judgements depend on the instant only through its local date (deadlines are dates), so
//! figures judged at one instant hold for the whole of its day; the server judges a year
//! afresh each day.

use std::collections::BTreeSet;
use std::sync::Arc;

use calendar::{Calendar, FiscalYear};
use chrono::{DateTime, FixedOffset};
use event_store::Head;
use indicators::{IndicatorReport, Scorer, Spec};
use projections::{ComplaintView, DeadlineRules};

use crate::folded::Folded;

/// One complaint of the year as judged, with where it was reported (latitude, longitude).
#[derive(Debug, Clone, PartialEq)]
pub struct YearComplaint {
    pub view: ComplaintView,
    pub place: Option<(f64, f64)>,
}

/// Where complaints were reported, by id (from the live fold's public information).
pub type PlaceOf<'a> = &'a dyn Fn(&str) -> Option<(f64, f64)>;

/// What an advance changed: the touched complaints' states before (those that were in the
/// year) and after (those in it now).
#[derive(Debug, Default, Clone)]
pub struct Changes {
    pub removed: Vec<Arc<YearComplaint>>,
    pub added: Vec<Arc<YearComplaint>>,
}

/// A fiscal year's complaints and tallies, advanced batch by batch.
#[derive(Clone)]
pub struct LiveYear {
    pub fiscal_year: FiscalYear,
    /// The instant every complaint is judged as of.
    pub at: DateTime<FixedOffset>,
    /// The last event the figures hold.
    pub head: Head,
    /// The year's complaints (received, or forwarded in one of their rounds, in it), sorted
    /// by id. Shared with the pages drawn from earlier states: a new state copies pointers.
    pub complaints: Arc<Vec<Arc<YearComplaint>>>,
    scorers: Vec<Scorer>,
}

impl LiveYear {
    /// The year's figures from `folded`, judged as of `at`, scored with `specs`.
    pub fn build(
        folded: &Folded,
        fy: FiscalYear,
        at: DateTime<FixedOffset>,
        cal: &Calendar,
        rules: &DeadlineRules,
        specs: &[Spec],
        place_of: PlaceOf,
    ) -> LiveYear {
        let views = folded.year_views(fy, at, cal, rules);
        // Each spec tallies on a thread of its own.
        let scorers: Vec<Scorer> = std::thread::scope(|scope| {
            let views = &views;
            let running: Vec<_> = specs
                .iter()
                .map(|spec| {
                    scope.spawn(move || {
                        let mut s = Scorer::new(spec, fy);
                        views.iter().for_each(|v| s.add(v));
                        s
                    })
                })
                .collect();
            running
                .into_iter()
                .map(|r| r.join().expect("a scorer does not panic"))
                .collect()
        });
        let complaints = Arc::new(
            views
                .into_iter()
                .map(|view| {
                    let place = place_of(&view.complaint_id);
                    Arc::new(YearComplaint { view, place })
                })
                .collect(),
        );
        LiveYear {
            fiscal_year: fy,
            at,
            head: folded.head,
            complaints,
            scorers,
        }
    }

    /// Brings the figures up to `folded` (the same fold, later): `touched` are the complaints
    /// the events after [`head`](LiveYear::head) belong to. Returns the complaints that left
    /// (their old states) and entered (their new ones), for tallies kept beside.
    pub fn advance(
        &mut self,
        folded: &Folded,
        touched: &BTreeSet<String>,
        cal: &Calendar,
        rules: &DeadlineRules,
        place_of: PlaceOf,
    ) -> Changes {
        let fy = self.fiscal_year;
        let ids: Vec<&str> = touched.iter().map(String::as_str).collect();
        let fresh = folded.fold.views_of_at(&ids, cal, rules, self.at);
        let mut fresh: Vec<Arc<YearComplaint>> = fresh
            .into_iter()
            .filter(|v| v.in_fiscal_year(fy))
            .map(|view| {
                let place = place_of(&view.complaint_id);
                Arc::new(YearComplaint { view, place })
            })
            .collect();
        fresh.sort_by(|a, b| a.view.complaint_id.cmp(&b.view.complaint_id));
        // The touched complaints' old views leave the tallies and the list (both are sorted:
        // one walk), their new views enter both, merged in id order.
        for c in &fresh {
            self.scorers.iter_mut().for_each(|s| s.add(&c.view));
        }
        let mut changes = Changes {
            removed: Vec::new(),
            added: fresh.clone(),
        };
        let mut merged = Vec::with_capacity(self.complaints.len() + fresh.len());
        let mut fresh = fresh.into_iter().peekable();
        let mut gone = touched.iter().peekable();
        for c in self.complaints.iter() {
            let id = &c.view.complaint_id;
            while gone.next_if(|t| *t < id).is_some() {}
            if gone.peek() == Some(&id) {
                self.scorers.iter_mut().for_each(|s| s.remove(&c.view));
                changes.removed.push(c.clone());
                continue;
            }
            while let Some(f) = fresh.next_if(|f| f.view.complaint_id < *id) {
                merged.push(f);
            }
            merged.push(c.clone());
        }
        merged.extend(fresh);
        self.complaints = Arc::new(merged);
        self.head = folded.head;
        changes
    }

    /// Every spec's report, with `folded`'s monthly reports and provenance.
    pub fn indicators(&self, folded: &Folded, cal: &Calendar) -> Vec<IndicatorReport> {
        let provenance = crate::folded::provenance(self.head, cal);
        self.scorers
            .iter()
            .map(|s| s.report(folded.fold.monthly_reports(), self.at, provenance.clone()))
            .collect()
    }

    /// The specs it scores with.
    pub fn specs(&self) -> Vec<Spec> {
        self.scorers.iter().map(|s| s.spec().clone()).collect()
    }

    /// The complaints' views, in id order.
    pub fn views(&self) -> Vec<&ComplaintView> {
        self.complaints.iter().map(|c| &c.view).collect()
    }
}
