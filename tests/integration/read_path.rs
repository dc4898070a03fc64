//! The read model's own rules, tried on small logs: deadlines as the projection states them.

use calendar::Calendar;
use chrono::DateTime;
use event_model::parse_wire_event;
use event_store::EventStore;
use event_store_sqlite::SqliteStore;
use projections::{CheckpointRoll, DeadlineRules};
use read_model::ComplaintAt;

/// A complaint forwarded on 4 June 2024, acknowledged on the 5th (R2 due on the 10th), its
/// first progress on the 7th; the first R3 checkpoint, 15 June 2024, is a Saturday.
const EVENTS: &str = r#"
{"id": "018fe0c2-9680-7b46-8561-e084b5ba4455", "stream": "C-NEXT", "type": "received", "occurred_at": "2024-06-04T08:00:00+07:00", "actor": "intake:1555-centre", "data": {"channel": "traffy_fondue", "category": "road", "district": "bang-rak", "subject": "road problem", "complainant": {"anonymous": true, "wants_update": false}}}
{"id": "018fe0f9-8500-7f62-89fd-4d8d76d3530d", "stream": "C-NEXT", "type": "forwarded", "occurred_at": "2024-06-04T09:00:00+07:00", "actor": "intake:1555-centre", "data": {"to_unit": "district:bang-rak"}}
{"id": "018fe656-cf80-7ec2-94ab-06bcfc9967c0", "stream": "C-NEXT", "type": "acknowledged", "occurred_at": "2024-06-05T10:00:00+07:00", "actor": "unit:district:bang-rak", "data": {"unit": "district:bang-rak"}}
{"id": "018ff0c3-1f80-7a07-aa4b-fb6267a58c4c", "stream": "C-NEXT", "type": "progress_reported", "occurred_at": "2024-06-07T10:00:00+07:00", "actor": "unit:district:bang-rak", "data": {"unit": "district:bang-rak", "note": "work in progress"}}
"#;

fn store() -> SqliteStore {
    let mut s = SqliteStore::open_in_memory().unwrap();
    let events: Vec<_> = EVENTS
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| parse_wire_event(l).unwrap())
        .collect();
    s.append(
        &events,
        DateTime::parse_from_rfc3339("2024-06-08T00:00:00+07:00").unwrap(),
    )
    .unwrap();
    s
}

/// The next deadline of the complaint's open round as of a date.
fn next_deadline(rules: &DeadlineRules, as_of: &str) -> String {
    let cal = Calendar::builtin();
    let at = read_model::parse_instant(as_of).unwrap();
    let ComplaintAt::View(v) =
        read_model::complaint_as_of(&store(), "C-NEXT", at, &cal, rules).unwrap()
    else {
        panic!("C-NEXT is in the log");
    };
    let r = v.rounds.last().unwrap();
    r.next_due.map(|d| d.to_string()).unwrap_or_default()
}

#[test]
fn the_next_deadline_is_the_projections_own_with_the_weekend_roll() {
    let keep = DeadlineRules::default();
    let roll = DeadlineRules {
        checkpoint_on_non_business_day: CheckpointRoll::NextBusinessDay,
        ..DeadlineRules::default()
    };
    // The first progress (7 June) already reports for the first R3 checkpoint (15 June, a
    // Saturday; the 17th when checkpoints roll), so the next deadline is the one after: Sunday
    // 30 June as written, Monday 1 July when checkpoints roll. Open311 used to say 15 June
    // (the checkpoint after the last one listed, never rolled).
    assert_eq!(next_deadline(&keep, "2024-06-11"), "2024-06-30");
    assert_eq!(next_deadline(&roll, "2024-06-11"), "2024-07-01");
    assert_eq!(next_deadline(&roll, "2024-06-20"), "2024-07-01");
    // On a checkpoint's own day with no report yet, that checkpoint is the deadline.
    assert_eq!(next_deadline(&keep, "2024-06-30"), "2024-06-30");
    assert_eq!(next_deadline(&roll, "2024-07-01"), "2024-07-01");
    // Missed checkpoints are past: the next is the first from today on.
    assert_eq!(next_deadline(&keep, "2024-07-02"), "2024-07-15");
    // Before the first progress it is R2's deadline, before the acknowledgement R1's.
    assert_eq!(next_deadline(&keep, "2024-06-06"), "2024-06-10");
    assert_eq!(
        next_deadline(&keep, "2024-06-04T12:00:00+07:00"),
        "2024-06-05"
    );
}
