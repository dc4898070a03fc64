//! What the faces ask of a fold: one complaint, the overdue list, a fiscal year's complaints
//! and indicator results with their provenance. Pure derivations: the fold comes in, values go
//! out.

use calendar::{Calendar, FiscalYear};
use chrono::{DateTime, FixedOffset};
use event_store::{EventStore, Head, StoreError};
use indicators::{IndicatorReport, Spec};
use projections::{ComplaintFold, ComplaintView, DeadlineRules, OverdueReport, Period};

use crate::folded::Folded;

/// One complaint as of an instant.
#[derive(Debug, Clone, PartialEq)]
pub enum ComplaintAt {
    /// No stream of that id.
    Unknown,
    /// The complaint has no event at or before the instant.
    NotYet,
    View(Box<ComplaintView>),
}

/// One complaint judged as of `as_of`, from its own stream only.
pub fn complaint_as_of(
    store: &dyn EventStore,
    id: &str,
    as_of: DateTime<FixedOffset>,
    cal: &Calendar,
    rules: &DeadlineRules,
) -> Result<ComplaintAt, StoreError> {
    let events = store.read_stream(id)?;
    if events.is_empty() {
        return Ok(ComplaintAt::Unknown);
    }
    let mut fold = ComplaintFold::new(as_of);
    events.into_iter().for_each(|e| fold.apply(e));
    Ok(match fold.view(id, cal, rules) {
        Some(v) => ComplaintAt::View(Box::new(v)),
        None => ComplaintAt::NotYet,
    })
}

/// The overdue list of `complaints` as of `at`, of one unit only when `unit` is given.
pub fn overdue_of<'a>(
    complaints: impl IntoIterator<Item = &'a ComplaintView>,
    at: DateTime<FixedOffset>,
    rules: &DeadlineRules,
    unit: Option<&str>,
) -> OverdueReport {
    let mut report = projections::overdue(complaints, at, rules);
    if let Some(u) = unit {
        report.units.retain(|x| x.unit == u);
        report.total = report.units.iter().map(|x| x.count).sum();
    }
    report
}

/// Every spec scored on `complaints` (judged as of `as_of`), with the fold's provenance.
pub fn evaluate_specs(
    specs: &[Spec],
    complaints: &[ComplaintView],
    folded: &Folded,
    fy: FiscalYear,
    as_of: DateTime<FixedOffset>,
    cal: &Calendar,
) -> Vec<IndicatorReport> {
    let provenance = folded.provenance(cal);
    specs
        .iter()
        .map(|spec| {
            indicators::evaluate(
                spec,
                complaints,
                folded.fold.monthly_reports(),
                fy,
                as_of,
                provenance.clone(),
            )
        })
        .collect()
}

/// A fiscal year's complaints and indicator results as of an instant: what the replay, the
/// reports and the dashboard's pages are made from.
#[derive(Debug, Clone)]
pub struct YearFigures {
    pub fiscal_year: FiscalYear,
    pub as_of: DateTime<FixedOffset>,
    /// The log event the figures were derived from.
    pub head: Head,
    /// The complaints of the year (received, or forwarded in one of their rounds, in it),
    /// judged as of `as_of`, sorted by id.
    pub complaints: Vec<ComplaintView>,
    /// The part of the year the indicators score.
    pub period: Period,
    /// One per spec, in the order given, scored on the complaints of the period.
    pub indicators: Vec<IndicatorReport>,
}

impl YearFigures {
    /// The year's figures from `folded`, judged as of `at` (the fold's own instant for a past
    /// year; "now" for the live fold).
    pub fn compute(
        folded: &Folded,
        fy: FiscalYear,
        at: DateTime<FixedOffset>,
        cal: &Calendar,
        rules: &DeadlineRules,
        specs: &[Spec],
    ) -> YearFigures {
        Self::compute_for(folded, fy, Period::Year, at, cal, rules, specs)
    }

    /// Like [`compute`](YearFigures::compute), with the indicators scored on the complaints of
    /// a period of the year only.
    pub fn compute_for(
        folded: &Folded,
        fy: FiscalYear,
        period: Period,
        at: DateTime<FixedOffset>,
        cal: &Calendar,
        rules: &DeadlineRules,
        specs: &[Spec],
    ) -> YearFigures {
        let complaints = folded.year_views(fy, at, cal, rules);
        let indicators = if period == Period::Year {
            evaluate_specs(specs, &complaints, folded, fy, at, cal)
        } else {
            let of_period: Vec<ComplaintView> = complaints
                .iter()
                .filter(|c| period.covers(fy, c))
                .cloned()
                .collect();
            evaluate_specs(specs, &of_period, folded, fy, at, cal)
        };
        YearFigures {
            fiscal_year: fy,
            as_of: at,
            head: folded.head,
            complaints,
            period,
            indicators,
        }
    }

    /// The complaints of the period.
    pub fn in_period(&self) -> Vec<&ComplaintView> {
        self.complaints
            .iter()
            .filter(|c| self.period.covers(self.fiscal_year, c))
            .collect()
    }

    /// The overdue list of the year's complaints.
    pub fn overdue(&self, rules: &DeadlineRules) -> OverdueReport {
        projections::overdue(&self.complaints, self.as_of, rules)
    }

    /// Whether `unit` is one to report on (see [`knows_unit`]).
    pub fn knows_unit(&self, unit: &str) -> bool {
        knows_unit(&self.complaints, unit)
    }
}

/// Whether `unit` is one to report on for a year: one of the year's `complaints` was forwarded
/// to it, or it is a Bangkok unit the specs name.
pub fn knows_unit<'a>(complaints: impl IntoIterator<Item = &'a ComplaintView>, unit: &str) -> bool {
    complaints
        .into_iter()
        .any(|c| c.rounds.iter().any(|r| r.unit == unit))
        || indicators::spec::bangkok_unit_names().contains_key(unit)
}

/// Every built-in indicator spec, in their published order.
pub fn builtin_specs() -> Vec<Spec> {
    indicators::BUILTIN
        .iter()
        .map(|(id, _)| indicators::builtin(id).expect("built-in"))
        .collect()
}

/// An inspecting office by its id, or why not (naming the known ones).
pub fn inspecting_office(id: &str) -> Result<projections::InspectingOffice, String> {
    projections::InspectingOffice::by_id(id).ok_or_else(|| {
        let known: Vec<&str> = projections::INSPECTING_OFFICES
            .iter()
            .map(|o| o.id)
            .collect();
        format!("`{id}` is not an inspecting office: {}", known.join(", "))
    })
}

/// An inspecting office's selection list as of `at`, of `complaints` judged then.
#[derive(Debug, Clone, serde::Serialize)]
pub struct InspectionList {
    pub office: String,
    pub as_of: String,
    pub total: usize,
    pub complaints: Vec<projections::Listed>,
}

/// The selection list of `office` from `complaints` judged as of `at`.
pub fn inspection_list_of<'a>(
    complaints: impl IntoIterator<Item = &'a ComplaintView>,
    office: &projections::InspectingOffice,
    at: DateTime<FixedOffset>,
    rules: &DeadlineRules,
) -> InspectionList {
    let complaints = projections::inspection_list(complaints, office, at, rules);
    InspectionList {
        office: office.id.to_string(),
        as_of: event_model::format_instant(&at),
        total: complaints.len(),
        complaints,
    }
}

/// Every office's inspections per month, from `complaints` judged as of `at`.
pub fn inspection_months_of<'a>(
    complaints: impl IntoIterator<Item = &'a ComplaintView>,
    at: DateTime<FixedOffset>,
    rules: &DeadlineRules,
) -> Vec<projections::InspectionMonth> {
    projections::inspection_months(complaints, at, rules)
}
