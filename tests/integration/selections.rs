//! Indicator selection rules that the fixtures' built-in specs do not exercise.

use calendar::{Calendar, FiscalYear};
use chrono::DateTime;
use event_model::parse_wire_event;
use event_store::EventStore;
use event_store_sqlite::SqliteStore;
use projections::{ComplaintFold, DeadlineRules};
use tests::workspace_root;

fn units_of(spec_json: &str) -> Vec<(String, u64)> {
    let text = std::fs::read_to_string(
        workspace_root().join("replay-fixtures/spec-traffy-levels/events.ndjson"),
    )
    .unwrap();
    let events: Vec<_> = text.lines().map(|l| parse_wire_event(l).unwrap()).collect();
    let mut store = SqliteStore::open_in_memory().unwrap();
    store
        .append(
            &events,
            DateTime::parse_from_rfc3339("2030-01-01T00:00:00Z").unwrap(),
        )
        .unwrap();
    let as_of = DateTime::parse_from_rfc3339("2024-10-01T00:00:00+07:00").unwrap();
    let mut fold = ComplaintFold::new(as_of);
    store.scan(0, &mut |e| fold.apply(e)).unwrap();
    let views = fold.views(&Calendar::builtin(), &DeadlineRules::default());
    let spec = indicators::Spec::parse(spec_json, None).unwrap();
    let provenance = indicators::Provenance {
        log_head_position: 0,
        log_head_hash: String::new(),
        calendar_version: String::new(),
    };
    let rep = indicators::evaluate(
        &spec,
        &views,
        fold.monthly_reports(),
        FiscalYear::from_ce(2024),
        as_of,
        provenance,
    );
    rep.units
        .iter()
        .map(|u| (u.unit.clone(), u.total))
        .collect()
}

fn spec(counts: &str) -> String {
    format!(
        r#"{{"id": "t", "title": {{"th": "t", "en": "t"}}, "counts": {counts},
            "steps": [{{"id": "s", "title": {{"th": "s", "en": "s"}},
              "measure": {{"kind": "complaints", "all_of": ["resolved"]}},
              "scoring": {{"kind": "proportional", "points": 1, "full_at_pct": 100}}}}]}}"#
    )
}

#[test]
fn selections_filter_forwards_channels_and_units() {
    let all = units_of(&spec("{}"));
    assert_eq!(
        all,
        [
            ("dept:public-works".to_string(), 1),
            ("district:bang-rak".to_string(), 5),
            ("district:dusit".to_string(), 5),
            ("district:sathon".to_string(), 10)
        ]
    );
    assert_eq!(
        units_of(&spec(r#"{"forwards": "external"}"#)),
        [("ext:mea".to_string(), 1)]
    );
    assert_eq!(
        units_of(&spec(
            r#"{"forwards": "any", "unit_prefixes": ["ext:", "dept:"]}"#
        ))
        .len(),
        2
    );
    assert_eq!(
        units_of(&spec(r#"{"channels": ["letter"]}"#)),
        [("district:bang-rak".to_string(), 1)]
    );
    assert_eq!(units_of(&spec(r#"{"categories": ["noise"]}"#)), []);
}
