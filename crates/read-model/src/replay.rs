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

/// The replay without indicators, judging the year's complaints a chunk at a time and handing
/// each chunk to `sink` in id order, so that memory stays that of the fold. Gives the same
/// complaints and overdue list as [`replay`].
pub fn replay_in_chunks<E>(
    folded: &Folded,
    fy: FiscalYear,
    cal: &Calendar,
    rules: &DeadlineRules,
    chunk_size: usize,
    sink: &mut dyn FnMut(&[ComplaintView]) -> Result<(), E>,
) -> Result<(ReplayMeta, OverdueReport), E> {
    let as_of = folded.as_of();
    let ids = folded.fold.ids_in(Some(fy));
    let mut parts = Vec::new();
    for chunk in ids.chunks(chunk_size.max(1)) {
        let views = folded.fold.views_of(chunk, cal, rules);
        sink(&views)?;
        parts.push(projections::overdue(&views, as_of, rules));
    }
    let overdue = projections::merge_overdue(parts, as_of);
    let meta = ReplayMeta::new(folded, fy, as_of, cal, rules, ids.len(), overdue.total);
    Ok((meta, overdue))
}
