//! The figures the pages show, computed from judged complaints and indicator reports.

use std::collections::BTreeMap;

use calendar::{local_date, FiscalYear};
use chrono::{DateTime, Datelike, FixedOffset, NaiveDate};
use event_model::Outcome;
use indicators::evaluate::UnitResult;
use indicators::IndicatorReport;
pub use projections::Share;
use projections::{ComplaintView, OnTime};

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

fn month_key(d: NaiveDate) -> String {
    calendar::month_of(d)
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
        let months = months_of(fy);
        let mut by_month: BTreeMap<String, MonthRow> = months
            .iter()
            .map(|m| {
                (
                    m.clone(),
                    MonthRow {
                        month: m.clone(),
                        received: 0,
                        closed: 0,
                    },
                )
            })
            .collect();
        let mut o = Overview {
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
            months: Vec::new(),
            indicators: Vec::new(),
        };
        let mut on_time = OnTime::default();
        let complaints: Vec<&ComplaintView> = complaints.into_iter().collect();
        o.centre = projections::CentreShares::of(complaints.iter().copied(), fy);
        for c in complaints {
            c.rounds
                .iter()
                .filter(|r| fy.contains(local_date(&r.forwarded_at.0)))
                .for_each(|r| on_time.add_round(r));
            if let Some(closed) = &c.closed_at {
                let d = local_date(&closed.0);
                if let Some(m) = by_month.get_mut(&month_key(d)) {
                    m.closed += 1;
                }
            }
            let Some(received) = &c.received_at else {
                continue;
            };
            let d = local_date(&received.0);
            if !fy.contains(d) {
                continue;
            }
            o.received += 1;
            if let Some(m) = by_month.get_mut(&month_key(d)) {
                m.received += 1;
            }
            if c.status == lifecycle::Status::Closed {
                o.closed += 1;
                if c.outcome == Some(Outcome::Resolved) {
                    o.resolved += 1;
                }
            } else if c.status.is_open() {
                o.open += 1;
            }
        }
        (o.r1, o.r2, o.r3) = (on_time.r1, on_time.r2, on_time.r3);
        o.months = by_month.into_values().collect();
        o.indicators = reports
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
        o
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
pub fn backlog<'a>(complaints: &'a [ComplaintView], unit: &str) -> Vec<&'a ComplaintView> {
    let mut open: Vec<&ComplaintView> = complaints
        .iter()
        .filter(|c| c.status.is_open() && c.unit.as_deref() == Some(unit))
        .collect();
    open.sort_by(|a, b| {
        let t = |c: &ComplaintView| c.received_at.as_ref().map(|t| t.0);
        t(a).cmp(&t(b))
            .then_with(|| a.complaint_id.cmp(&b.complaint_id))
    });
    open
}
