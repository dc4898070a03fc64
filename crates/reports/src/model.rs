//! The figures the pages show, computed from judged complaints and indicator reports.

use std::collections::BTreeMap;

use calendar::{local_date, FiscalYear};
use chrono::{DateTime, Datelike, FixedOffset, NaiveDate};
use event_model::Outcome;
use indicators::evaluate::UnitResult;
use indicators::IndicatorReport;
pub use projections::Share;
use projections::{ComplaintView, OnTime, Sign};

/// Fewer complaints than this, and a unit's share is flagged as not comparable.
pub const SMALL_COUNT: u64 = 30;

/// Complaints received and closed in one month.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonthRow {
    /// `YYYY-MM`.
    pub month: String,
    pub received: u64,
    pub closed: u64,
}

/// An indicator's overall result.
#[derive(Debug, Clone, PartialEq)]
pub struct IndicatorLine {
    pub spec: String,
    pub title: indicators::spec::Text,
    pub units: usize,
    pub complaints: u64,
    pub pct: Option<f64>,
    pub level: Option<u32>,
    pub score: Option<f64>,
}

/// A fiscal year at a glance.
#[derive(Debug, Clone, PartialEq)]
pub struct Overview {
    pub fiscal_year: FiscalYear,
    pub as_of: DateTime<FixedOffset>,
    /// Complaints received in the year.
    pub received: u64,
    /// Of those, closed, closed as resolved, and still open.
    pub closed: u64,
    pub resolved: u64,
    pub open: u64,
    /// Per assignment round forwarded in the year: R1 acknowledged on time, R2 first progress
    /// on time, R3 checkpoints met.
    pub r1: Share,
    pub r2: Share,
    pub r3: Share,
    /// The intake centre's own duties: R0, chasing, telling complainants.
    pub centre: projections::CentreShares,
    pub months: Vec<MonthRow>,
    pub indicators: Vec<IndicatorLine>,
}

/// The twelve `YYYY-MM` months of a fiscal year, October first.
pub fn months_of(fy: FiscalYear) -> Vec<String> {
    let first = fy.first_day();
    (0..12)
        .map(|i| {
            let m0 = first.month0() + i;
            format!("{:04}-{:02}", first.year() + (m0 / 12) as i32, m0 % 12 + 1)
        })
        .collect()
}

impl Overview {
    /// `complaints` judged as of `as_of` (those of the year and perhaps others: only the
    /// year's count); `reports` are the year's indicator results.
    pub fn compute<'a>(
        fy: FiscalYear,
        as_of: DateTime<FixedOffset>,
        complaints: impl IntoIterator<Item = &'a ComplaintView>,
        reports: &[IndicatorReport],
    ) -> Overview {
        let mut o = Overview::empty(fy, as_of);
        complaints.into_iter().for_each(|c| o.add(c));
        o.set_indicators(reports);
        o
    }

    /// The overview of no complaint yet: counted one complaint at a time with
    /// [`add`](Overview::add) and [`remove`](Overview::remove).
    pub fn empty(fy: FiscalYear, as_of: DateTime<FixedOffset>) -> Overview {
        Overview {
            fiscal_year: fy,
            as_of,
            received: 0,
            closed: 0,
            resolved: 0,
            open: 0,
            r1: Share::default(),
            r2: Share::default(),
            r3: Share::default(),
            centre: projections::CentreShares::default(),
            months: months_of(fy)
                .into_iter()
                .map(|month| MonthRow {
                    month,
                    received: 0,
                    closed: 0,
                })
                .collect(),
            indicators: Vec::new(),
        }
    }

    /// Counts one complaint.
    pub fn add(&mut self, c: &ComplaintView) {
        self.count(c, Sign::Add)
    }

    /// Takes out a complaint counted before, as it was counted (the same view).
    pub fn remove(&mut self, c: &ComplaintView) {
        self.count(c, Sign::Remove)
    }

    fn count(&mut self, c: &ComplaintView, sign: Sign) {
        let fy = self.fiscal_year;
        let mut on_time = OnTime {
            r1: self.r1,
            r2: self.r2,
            r3: self.r3,
        };
        for r in c
            .rounds
            .iter()
            .filter(|r| fy.contains(local_date(&r.forwarded_at.0)))
        {
            match sign {
                Sign::Add => on_time.add_round(r),
                Sign::Remove => on_time.remove_round(r),
            }
        }
        (self.r1, self.r2, self.r3) = (on_time.r1, on_time.r2, on_time.r3);
        match sign {
            Sign::Add => self.centre.add(c, fy),
            Sign::Remove => self.centre.remove(c, fy),
        }
        // The months' rows, by the month's place in the year.
        let first = fy.first_day();
        let row = |d: NaiveDate| {
            let i = (d.year() - first.year()) * 12 + d.month0() as i32 - first.month0() as i32;
            (0..12).contains(&i).then_some(i as usize)
        };
        if let Some(closed) = &c.closed_at {
            if let Some(i) = row(local_date(&closed.0)) {
                sign.step(&mut self.months[i].closed);
            }
        }
        let Some(received) = &c.received_at else {
            return;
        };
        let d = local_date(&received.0);
        if !fy.contains(d) {
            return;
        }
        sign.step(&mut self.received);
        if let Some(i) = row(d) {
            sign.step(&mut self.months[i].received);
        }
        if c.status == lifecycle::Status::Closed {
            sign.step(&mut self.closed);
            if c.outcome == Some(Outcome::Resolved) {
                sign.step(&mut self.resolved);
            }
        } else if c.status.is_open() {
            sign.step(&mut self.open);
        }
    }

    /// The indicator lines, from the year's indicator results.
    pub fn set_indicators(&mut self, reports: &[IndicatorReport]) {
        self.indicators = reports
            .iter()
            .map(|r| IndicatorLine {
                spec: r.spec.clone(),
                title: r.spec_title.clone(),
                units: r.units.len(),
                complaints: r.overall.total,
                pct: r.overall.pct,
                level: r.overall.level,
                score: r.overall.score,
            })
            .collect();
    }

    /// The share of the year's complaints closed as resolved.
    pub fn resolved_pct(&self) -> Option<f64> {
        (self.received > 0).then(|| self.resolved as f64 * 100.0 / self.received as f64)
    }
}

/// How the league table is ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LeagueSort {
    #[default]
    Score,
    Share,
    Complaints,
    Unit,
}

impl LeagueSort {
    /// Every order, as `?sort=` names them.
    pub const ALL: [LeagueSort; 4] = [
        LeagueSort::Score,
        LeagueSort::Share,
        LeagueSort::Complaints,
        LeagueSort::Unit,
    ];

    /// An order by its name; `None` for any other.
    pub fn from_code(s: &str) -> Option<LeagueSort> {
        LeagueSort::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// An order by its name; by score for none or any other.
    pub fn parse(s: Option<&str>) -> LeagueSort {
        s.and_then(LeagueSort::from_code)
            .unwrap_or(LeagueSort::Score)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            LeagueSort::Score => "score",
            LeagueSort::Share => "share",
            LeagueSort::Complaints => "complaints",
            LeagueSort::Unit => "unit",
        }
    }
}

/// One unit's line of the league table.
#[derive(Debug, Clone, PartialEq)]
pub struct LeagueRow<'a> {
    pub rank: usize,
    pub unit: &'a str,
    /// Its result; `None` for a known unit the indicator found nothing for.
    pub result: Option<&'a UnitResult>,
    /// Fewer than [`SMALL_COUNT`] complaints: not comparable with large units.
    pub small: bool,
}

/// The units of a report, and every unit of `known` the report lacks, whose id starts with
/// `prefix` (`district:` for the 50 district offices), ordered by `sort` (descending figures;
/// units without a figure last; ties by unit id) and ranked 1, 2, ... in that order.
pub fn league<'a>(
    rep: &'a IndicatorReport,
    known: impl IntoIterator<Item = &'a str>,
    sort: LeagueSort,
    prefix: &str,
) -> Vec<LeagueRow<'a>> {
    let mut rows: BTreeMap<&str, Option<&UnitResult>> = known
        .into_iter()
        .filter(|u| u.starts_with(prefix))
        .map(|u| (u, None))
        .collect();
    for u in rep.units.iter().filter(|u| u.unit.starts_with(prefix)) {
        rows.insert(&u.unit, Some(u));
    }
    let mut rows: Vec<(&str, Option<&UnitResult>)> = rows.into_iter().collect();
    let key = |u: Option<&UnitResult>| -> Option<f64> {
        let u = u?;
        match sort {
            LeagueSort::Score => u.score.or(u.points),
            LeagueSort::Share => u.pct,
            LeagueSort::Complaints => Some(u.total as f64),
            LeagueSort::Unit => None,
        }
    };
    rows.sort_by(|(a, ra), (b, rb)| {
        if sort == LeagueSort::Unit {
            return a.cmp(b);
        }
        match (key(*ra), key(*rb)) {
            (Some(x), Some(y)) => y.total_cmp(&x).then_with(|| a.cmp(b)),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => a.cmp(b),
        }
    });
    rows.into_iter()
        .enumerate()
        .map(|(i, (unit, result))| LeagueRow {
            rank: i + 1,
            unit,
            result,
            small: result.map_or(0, |r| r.total) < SMALL_COUNT,
        })
        .collect()
}

/// A unit's open complaints, oldest first (by when received, then id).
pub fn backlog<'a>(
    complaints: impl IntoIterator<Item = &'a ComplaintView>,
    unit: &str,
) -> Vec<&'a ComplaintView> {
    let mut open: Vec<&ComplaintView> = complaints
        .into_iter()
        .filter(|c| c.status.is_open() && c.unit.as_deref() == Some(unit))
        .collect();
    open.sort_by(|a, b| {
        let t = |c: &ComplaintView| c.received_at.as_ref().map(|t| t.0);
        t(a).cmp(&t(b))
            .then_with(|| a.complaint_id.cmp(&b.complaint_id))
    });
    open
}
