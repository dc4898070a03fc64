//! The dashboard's year figures advanced batch by batch equal a fresh computation after every
//! batch of a generated year: the complaints, their places, every spec's report and the
//! overview's tallies.

use std::collections::BTreeSet;

use calendar::{Calendar, FiscalYear};
use event_store::EventStore;
use event_store_sqlite::SqliteStore;
use projections::DeadlineRules;
use read_model::{builtin_specs, end_of_time, Folded, LiveYear, YearFigures};

/// Where the live fold says a complaint was reported.
fn place(folded: &Folded, id: &str) -> Option<(f64, f64)> {
    let l = folded.fold.public_info(id)?.location?;
    Some((l.lat?, l.lon?))
}

fn assert_same_as_fresh(year: &LiveYear, live: &Folded, cal: &Calendar, rules: &DeadlineRules) {
    let specs = builtin_specs();
    let fresh = YearFigures::compute(live, year.fiscal_year, year.at, cal, rules, &specs);
    assert_eq!(year.head, live.head);
    let ours: Vec<_> = year.views().into_iter().cloned().collect();
    assert!(
        ours == fresh.complaints,
        "at position {}: the complaints differ ({} / {})",
        live.head.position,
        ours.len(),
        fresh.complaints.len()
    );
    for c in year.complaints.iter() {
        assert_eq!(c.place, place(live, &c.view.complaint_id));
    }
    let a = serde_json::to_string(&year.indicators(live, cal)).unwrap();
    let b = serde_json::to_string(&fresh.indicators).unwrap();
    assert!(
        a == b,
        "at position {}: the indicators differ",
        live.head.position
    );
}

#[test]
fn year_figures_advanced_per_batch_equal_a_fresh_computation_after_every_batch() {
    let (cal, rules) = (Calendar::builtin(), DeadlineRules::default());
    let fy = FiscalYear::parse("2567").unwrap();
    let events: Vec<_> = generator::Generator::new(
        generator::GenConfig {
            fiscal_year: fy,
            complaints: 400,
            seed: 9,
        },
        cal.clone(),
    )
    .collect();
    assert!(events.len() > 3000);
    let recorded = read_model::parse_instant("2030-01-01").unwrap();
    // Judged mid-year: some obligations met, some missed, some pending.
    let at = read_model::parse_instant("2024-03-15T12:00:00+07:00").unwrap();
    let mut store = SqliteStore::open_in_memory().unwrap();
    let mut live = Folded::new(end_of_time(), true);
    let mut year = LiveYear::build(&live, fy, at, &cal, &rules, &builtin_specs(), &|_| None);
    let mut overview = reports::Overview::compute(fy, at, year.views(), &[]);
    let mut batches = 0;
    // Batches of varying size, as commits come: 1 event, then 7, 30, 150, ... .
    let sizes = [1usize, 7, 30, 150, 3, 400];
    let mut rest = &events[..];
    while !rest.is_empty() {
        let n = sizes[batches % sizes.len()].min(rest.len());
        let (batch, tail) = rest.split_at(n);
        rest = tail;
        store.append(batch, recorded).unwrap();
        let mut touched = BTreeSet::new();
        for e in store.read_after(live.head.position, 100_000).unwrap() {
            touched.insert(e.stream.clone());
            live.apply(e);
        }
        let changes = year.advance(&live, &touched, &cal, &rules, &|id| place(&live, id));
        assert_same_as_fresh(&year, &live, &cal, &rules);
        changes
            .removed
            .iter()
            .for_each(|c| overview.remove(&c.view));
        changes.added.iter().for_each(|c| overview.add(&c.view));
        assert_eq!(
            overview,
            reports::Overview::compute(fy, at, year.views(), &[]),
            "at position {}",
            live.head.position
        );
        batches += 1;
    }
    assert!(batches > 20, "{batches} batches");
    assert!(year.complaints.len() >= 400);
    // Built at once from the whole fold, it is the same too.
    let whole = LiveYear::build(&live, fy, at, &cal, &rules, &builtin_specs(), &|id| {
        place(&live, id)
    });
    assert_same_as_fresh(&whole, &live, &cal, &rules);
}
