//! A fiscal year's replay: the year's complaints, the overdue list, indicator results, and the
//! header that says what they were derived from.

use calendar::{Calendar, FiscalYear};
use chrono::{DateTime, FixedOffset};
use indicators::Spec;
use projections::{ComplaintView, DeadlineRules, OverdueReport};
use serde::Serialize;

use crate::folded::Folded;
use crate::query::YearFigures;

/// The header of a replay: what a result was derived from, so it can be re-derived.
#[derive(Debug, Clone, Serialize)]
pub struct ReplayMeta {
    pub fiscal_year: i32,
    pub fiscal_year_be: i32,
    pub as_of: String,
    pub log_head_position: u64,
    pub log_head_hash: String,
    pub events_replayed: u64,
    pub calendar_version: String,
    pub rules: DeadlineRules,
    pub complaints: usize,
    pub overdue_obligations: usize,
}

impl ReplayMeta {
    fn new(
        folded: &Folded,
        fy: FiscalYear,
        as_of: DateTime<FixedOffset>,
        cal: &Calendar,
        rules: &DeadlineRules,
        complaints: usize,
        overdue_obligations: usize,
    ) -> ReplayMeta {
        ReplayMeta {
            fiscal_year: fy.ce(),
            fiscal_year_be: fy.be(),
            as_of: event_model::format_instant(&as_of),
            log_head_position: folded.head.position,
            log_head_hash: folded.head.hash.to_hex(),
            events_replayed: folded.events,
            calendar_version: cal.version().to_string(),
            rules: rules.clone(),
            complaints,
            overdue_obligations,
        }
    }
}

/// A replayed fiscal year.
pub struct Replayed {
    pub meta: ReplayMeta,
    pub figures: YearFigures,
    pub overdue: OverdueReport,
}

/// Replays fiscal year `fy` from a fold of the log as of the evaluation instant, scoring it
/// with `specs`.
pub fn replay(
    folded: &Folded,
    fy: FiscalYear,
    cal: &Calendar,
    rules: &DeadlineRules,
    specs: &[Spec],
) -> Replayed {
    let as_of = folded.as_of();
    let figures = YearFigures::compute(folded, fy, as_of, cal, rules, specs);
    let overdue = figures.overdue(rules);
    let meta = ReplayMeta::new(
        folded,
        fy,
        as_of,
        cal,
        rules,
        figures.complaints.len(),
        overdue.total,
    );
    Replayed {
        meta,
        figures,
        overdue,
    }
}

/// The replay judging the year's complaints a chunk at a time and handing each chunk to
/// `sink` in id order, the specs tallying each chunk as it passes ([`indicators::Scorer`]), so
/// that memory stays that of the fold (and the indicators' evidence). Gives the same
/// complaints, overdue list and indicator results as [`replay`].
pub fn replay_in_chunks<E>(
    folded: &Folded,
    fy: FiscalYear,
    cal: &Calendar,
    rules: &DeadlineRules,
    specs: &[Spec],
    chunk_size: usize,
    sink: &mut dyn FnMut(&[ComplaintView]) -> Result<(), E>,
) -> Result<ChunkedReplay, E> {
    let as_of = folded.as_of();
    let ids = folded.fold.ids_in(Some(fy));
    let mut scorers: Vec<indicators::Scorer> = specs
        .iter()
        .map(|s| indicators::Scorer::new(s, fy))
        .collect();
    let mut parts = Vec::new();
    for chunk in ids.chunks(chunk_size.max(1)) {
        let views = folded.fold.views_of(chunk, cal, rules);
        sink(&views)?;
        parts.push(projections::overdue(&views, as_of, rules));
        for s in &mut scorers {
            views.iter().for_each(|v| s.add(v));
        }
    }
    let overdue = projections::merge_overdue(parts, as_of);
    let meta = ReplayMeta::new(folded, fy, as_of, cal, rules, ids.len(), overdue.total);
    let provenance = folded.provenance(cal);
    let indicators = scorers
        .into_iter()
        .map(|s| s.report(folded.fold.monthly_reports(), as_of, provenance.clone()))
        .collect();
    Ok(ChunkedReplay {
        meta,
        overdue,
        indicators,
    })
}

/// What [`replay_in_chunks`] gives besides the complaints it handed on.
pub struct ChunkedReplay {
    pub meta: ReplayMeta,
    pub overdue: OverdueReport,
    /// One per spec, in the order given.
    pub indicators: Vec<indicators::IndicatorReport>,
}
