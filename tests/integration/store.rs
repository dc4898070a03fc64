//! The event store: durability across reopen, append-only triggers, idempotency, tamper
//! evidence, and clear errors for files that are not logs.

use chrono::DateTime;
use event_model::{parse_wire_event, NewEvent};
use event_store::{AppendErrorKind, Durability, EventStore, StoreError};
use event_store_sqlite::SqliteStore;
use tests::Scratch;

fn now() -> chrono::DateTime<chrono::FixedOffset> {
    DateTime::parse_from_rfc3339("2030-01-01T00:00:00Z").unwrap()
}

fn sample(n: u64) -> Vec<NewEvent> {
    let g = generator::Generator::new(
        generator::GenConfig {
            fiscal_year: calendar::FiscalYear::from_ce(2024),
            complaints: n,
            seed: 42,
        },
        calendar::Calendar::builtin(),
    );
    g.collect()
}

#[test]
fn events_survive_reopening_and_keep_their_order() {
    let dir = Scratch::new("reopen");
    let db = dir.path("log.db");
    // Enough events for several of the parallel scan's chunks (4096 positions each).
    let events = sample(1500);
    assert!(events.len() > 3 * 4096, "{} events", events.len());
    {
        let mut s = SqliteStore::open(&db, Durability::Full).unwrap();
        let r = s.append(&events, now()).unwrap();
        assert_eq!(r.appended as usize, events.len());
        assert_eq!(r.events.last().unwrap().position as usize, events.len());
    }
    let s = SqliteStore::open(&db, Durability::Full).unwrap();
    let mut seen = Vec::new();
    s.scan(0, &mut |e| seen.push(e)).unwrap();
    assert_eq!(seen.len(), events.len());
    for (i, (stored, sent)) in seen.iter().zip(&events).enumerate() {
        assert_eq!(stored.position as usize, i + 1);
        assert_eq!(stored.id, sent.id);
        assert_eq!(stored.data, sent.data);
    }
    let v = s.verify().unwrap();
    assert_eq!(v.first_bad, None);
    assert_eq!(v.head, s.head().unwrap());
}

#[test]
fn a_repeat_is_a_no_op_and_a_changed_repeat_is_a_conflict() {
    let mut s = SqliteStore::open_in_memory().unwrap();
    let events = sample(20);
    let first = s.append(&events, now()).unwrap();
    let again = s.append(&events, now()).unwrap();
    assert_eq!(again.appended, 0);
    assert_eq!(again.duplicates as usize, events.len());
    let positions =
        |r: &event_store::AppendReport| r.events.iter().map(|a| a.position).collect::<Vec<_>>();
    assert_eq!(positions(&first), positions(&again));
    let mut changed = events[0].clone();
    changed.actor = "someone-else".into();
    let err = s.append(&[changed], now()).unwrap_err();
    assert!(
        matches!(err.kind, AppendErrorKind::IdConflict { position: 1 }),
        "{err}"
    );
}

#[test]
fn updates_and_deletes_are_refused_by_the_log() {
    let dir = Scratch::new("append-only");
    let db = dir.path("log.db");
    let mut s = SqliteStore::open(&db, Durability::Full).unwrap();
    s.append(&sample(3), now()).unwrap();
    // Another client of the same file, as any SQLite tool would be.
    let c = rusqlite::Connection::open(&db).unwrap();
    let e = c
        .execute("UPDATE events SET actor = 'x' WHERE position = 1", [])
        .unwrap_err();
    assert!(e.to_string().contains("append-only"), "{e}");
    let e = c
        .execute("DELETE FROM events WHERE position = 1", [])
        .unwrap_err();
    assert!(e.to_string().contains("append-only"), "{e}");
}

#[test]
fn verify_names_the_first_tampered_position() {
    let dir = Scratch::new("tamper");
    let db = dir.path("log.db");
    let mut s = SqliteStore::open(&db, Durability::Full).unwrap();
    s.append(&sample(10), now()).unwrap();
    assert_eq!(s.verify().unwrap().first_bad, None);
    // Edit a row behind the triggers' back, from another connection: the subject of a
    // received event past the start.
    let c = rusqlite::Connection::open(&db).unwrap();
    let p: i64 = c
        .query_row(
            "SELECT min(position) FROM events WHERE type = 'received' AND position > 5",
            [],
            |r| r.get(0),
        )
        .unwrap();
    c.execute_batch(&format!(
        "DROP TRIGGER events_no_update;
         UPDATE events SET data = replace(data, '\"subject\":\"', '\"subject\":\"Not ') WHERE position = {p};"
    ))
    .unwrap();
    let data: String = c
        .query_row("SELECT data FROM events WHERE position = ?1", [p], |r| {
            r.get(0)
        })
        .unwrap();
    assert!(
        data.contains("\"subject\":\"Not "),
        "the fixture must really change row {p}: {data}"
    );
    let v = s.verify().unwrap();
    let (pos, why) = v.first_bad.expect("tampering detected");
    assert_eq!(pos, p as u64, "{why}");
    assert_eq!(v.events, p as u64 - 1);
    assert!(why.contains("hash"), "{why}");
}

#[test]
fn a_file_that_is_not_a_log_gets_a_clear_error() {
    let dir = Scratch::new("notalog");
    let p = dir.path("notes.db");
    std::fs::write(&p, "this is not a database, just text ".repeat(100)).unwrap();
    let e = SqliteStore::open(&p, Durability::Full)
        .err()
        .expect("refused");
    assert!(matches!(e, StoreError::NotALog { .. }), "{e}");
    assert!(e.to_string().contains("is not a Rongtook event log"), "{e}");
}

#[test]
fn a_log_from_a_newer_build_is_refused() {
    let dir = Scratch::new("newer");
    let p = dir.path("log.db");
    drop(SqliteStore::open(&p, Durability::Full).unwrap());
    let c = rusqlite::Connection::open(&p).unwrap();
    c.pragma_update(None, "user_version", 99).unwrap();
    drop(c);
    let e = SqliteStore::open(&p, Durability::Full)
        .err()
        .expect("refused");
    assert!(
        matches!(e, StoreError::SchemaTooNew { found: 99, .. }),
        "{e}"
    );
}

#[test]
fn expected_version_zero_creates_and_then_conflicts() {
    let mut s = SqliteStore::open_in_memory().unwrap();
    let line = r#"{"id":"018cea3b-a100-7000-8000-00000000aaaa","stream":"C-X","type":"received","occurred_at":"2024-01-09T10:00:00+07:00","actor":"intake","data":{"channel":"web","category":"road","district":"x","subject":"s","complainant":{"anonymous":true}},"expected_version":0}"#;
    let e = parse_wire_event(line).unwrap();
    s.append(std::slice::from_ref(&e), now()).unwrap();
    let mut other = e.clone();
    other.id = uuid::Uuid::from_u128(0x018cea3b_a100_7000_8000_00000000bbbb);
    let err = s.append(&[other], now()).unwrap_err();
    assert!(
        matches!(
            err.kind,
            AppendErrorKind::VersionConflict {
                expected: 0,
                actual: 1,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn repeats_inside_one_batch_and_reused_ids_on_new_streams() {
    let mut s = SqliteStore::open_in_memory().unwrap();
    let events = sample(5);
    // The same event twice in one batch: stored once.
    let mut batch = events.clone();
    batch.push(events[0].clone());
    let r = s.append(&batch, now()).unwrap();
    assert_eq!((r.appended as usize, r.duplicates), (events.len(), 1));
    assert_eq!(r.events.last().unwrap().position, 1);
    // A received reusing a stored id for another complaint is a conflict, not a new stream.
    let mut other = events[0].clone();
    other.stream = "C-OTHER".into();
    let err = s.append(&[other], now()).unwrap_err();
    assert!(
        matches!(err.kind, AppendErrorKind::IdConflict { position: 1 }),
        "{err}"
    );
    // A fresh id with a received for an existing complaint is refused by the lifecycle.
    let mut again = events[0].clone();
    again.id = uuid::Uuid::from_u128(7);
    again.occurred_at = DateTime::parse_from_rfc3339("2029-01-01T00:00:00+07:00").unwrap();
    let err = s.append(&[again], now()).unwrap_err();
    match err.kind {
        AppendErrorKind::Rejected(r) => assert_eq!(r.rule, lifecycle::Rule::SecondReceived),
        other => panic!("{other}"),
    }
    assert_eq!(s.head().unwrap().position as usize, events.len());
}

#[test]
fn group_commit_keeps_good_batches_when_one_is_refused() {
    let mut s = SqliteStore::open_in_memory().unwrap();
    let events = sample(6);
    let received: Vec<NewEvent> = events
        .iter()
        .filter(|e| e.event_type() == event_model::EventType::Received)
        .take(3)
        .cloned()
        .collect();
    assert_eq!(received.len(), 3);
    // The second batch repeats the first complaint's received with a fresh id: refused.
    let mut again = received[0].clone();
    again.id = uuid::Uuid::from_u128(99);
    let outcomes = s
        .append_group(
            vec![
                vec![received[0].clone()],
                vec![received[1].clone(), again],
                vec![received[2].clone()],
            ],
            now(),
        )
        .unwrap();
    assert_eq!(outcomes.len(), 3);
    assert_eq!(outcomes[0].as_ref().unwrap().events[0].position, 1);
    assert!(
        outcomes[1].is_err(),
        "the batch with a second received is refused whole"
    );
    assert_eq!(outcomes[2].as_ref().unwrap().events[0].position, 2);
    assert_eq!(s.head().unwrap().position, 2);
    assert_eq!(s.verify().unwrap().first_bad, None);
}

/// A log written before `prev_hash` became derived (schema 2 stored it in every row) opens,
/// is upgraded in place, and reads back and verifies exactly as before.
#[test]
fn a_schema_2_log_is_upgraded_without_losing_anything() {
    let dir = Scratch::new("upgrade");
    let current = dir.path("current.db");
    let old = dir.path("old.db");
    let events = sample(600);
    let mut expected = Vec::new();
    {
        let mut s = SqliteStore::open(&current, Durability::Full).unwrap();
        s.append(&events, now()).unwrap();
        s.scan(0, &mut |e| expected.push(e)).unwrap();
    }
    // The schema-2 tables, with the rows copied and prev_hash stored as it was then.
    let migrations = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../crates/event-store-sqlite/migrations");
    let c = rusqlite::Connection::open(&old).unwrap();
    for f in ["0001_events.sql", "0002_tokens.sql"] {
        c.execute_batch(&std::fs::read_to_string(migrations.join(f)).unwrap())
            .unwrap();
    }
    c.execute("ATTACH DATABASE ?1 AS cur", [current.to_str().unwrap()])
        .unwrap();
    c.execute_batch(
        "INSERT INTO main.events SELECT e.position, e.event_id, e.stream, e.version, e.type, \
         e.occurred_at, b.recorded_at, e.actor, e.schema_version, e.data, \
         COALESCE((SELECT p.hash FROM cur.events p WHERE p.position = e.position - 1), zeroblob(32)), e.hash \
         FROM cur.events e JOIN cur.batches b ON b.id = e.batch ORDER BY e.position; \
         DETACH DATABASE cur; PRAGMA user_version = 2;",
    )
    .unwrap();
    drop(c);

    let s = SqliteStore::open(&old, Durability::Full).unwrap();
    let mut upgraded = Vec::new();
    s.scan(0, &mut |e| upgraded.push(e)).unwrap();
    assert_eq!(upgraded.len(), expected.len());
    for (a, b) in upgraded.iter().zip(&expected) {
        assert_eq!(
            serde_json::to_string(a).unwrap(),
            serde_json::to_string(b).unwrap()
        );
    }
    assert_eq!(s.verify().unwrap().first_bad, None);
    // Reading one stream derives each event's prev_hash from the position before it.
    let last = expected.last().unwrap();
    let stream = s.read_stream(&last.stream).unwrap();
    let in_order: Vec<_> = expected
        .iter()
        .filter(|e| e.stream == last.stream)
        .collect();
    assert_eq!(stream.len(), in_order.len());
    for (a, b) in stream.iter().zip(in_order) {
        assert_eq!(a.prev_hash, b.prev_hash);
        assert_eq!(a.hash, b.hash);
    }
    let columns: Vec<String> = rusqlite::Connection::open(&old)
        .unwrap()
        .prepare("SELECT name FROM pragma_table_info('events')")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(!columns.iter().any(|c| c == "prev_hash"), "{columns:?}");
    // recorded_at is kept once per batch (schema 4), not in every row.
    assert!(!columns.iter().any(|c| c == "recorded_at"), "{columns:?}");
    assert!(columns.iter().any(|c| c == "batch"), "{columns:?}");
    // Schema 5: a nullable range start, NULL in every upgraded row.
    assert!(columns.iter().any(|c| c == "occurred_after"), "{columns:?}");
    assert!(upgraded.iter().all(|e| e.occurred_after.is_none()));
}

/// An event known to a range keeps its range: stored, read back, exported, in the hash (so
/// `verify` notices a changed range), part of what makes a repeat a repeat.
#[test]
fn a_ranged_event_keeps_its_range_in_the_log_and_the_chain() {
    let dir = Scratch::new("ranged");
    let db = dir.path("log.db");
    let line = |id: &str, after: &str| {
        parse_wire_event(&format!(
            r#"{{"id":"{id}","stream":"TF-1","type":"received","occurred_at":"2024-09-02T09:00:00+07:00"{after},"actor":"traffy","data":{{"channel":"traffy_fondue","category":"road","district":"d","subject":"s","complainant":{{"anonymous":true}}}}}}"#
        ))
        .unwrap()
    };
    let ranged = line(
        "0190a000-0000-7000-8000-000000000001",
        r#","occurred_after":"2024-09-01T09:00:00Z""#,
    );
    let mut s = SqliteStore::open(&db, Durability::Full).unwrap();
    s.append(std::slice::from_ref(&ranged), now()).unwrap();
    let back = s.read_stream("TF-1").unwrap();
    assert_eq!(back[0].occurred_after, ranged.occurred_after);
    let json = serde_json::to_value(&back[0]).unwrap();
    assert_eq!(json["occurred_after"], "2024-09-01T09:00:00Z");
    assert_eq!(back[0].recompute_hash(), back[0].hash);
    assert_eq!(s.verify().unwrap().first_bad, None);
    // The same event again is a repeat; the same id with another range (or none) is not.
    assert_eq!(
        s.append(std::slice::from_ref(&ranged), now())
            .unwrap()
            .duplicates,
        1
    );
    for other in [
        line(
            "0190a000-0000-7000-8000-000000000001",
            r#","occurred_after":"2024-09-01T10:00:00Z""#,
        ),
        line("0190a000-0000-7000-8000-000000000001", ""),
    ] {
        let err = s.append(&[other], now()).unwrap_err();
        assert!(
            matches!(err.kind, AppendErrorKind::IdConflict { .. }),
            "{err}"
        );
    }
    drop(s);
    // The range is in the hash: a changed range is found by verify.
    let c = rusqlite::Connection::open(&db).unwrap();
    c.execute_batch("DROP TRIGGER IF EXISTS events_no_update")
        .unwrap();
    c.execute(
        "UPDATE events SET occurred_after = '2024-08-01T09:00:00Z' WHERE position = 1",
        [],
    )
    .unwrap();
    drop(c);
    let s = SqliteStore::open(&db, Durability::Full).unwrap();
    let bad = s
        .verify()
        .unwrap()
        .first_bad
        .expect("a changed range is found");
    assert_eq!(bad.0, 1, "{bad:?}");
}

/// `recorded_at` is stored once per append: every event of a batch reads it back, a second
/// append gets its own, and a batch of repeats leaves nothing behind.
#[test]
fn each_append_records_its_instant_once() {
    let dir = Scratch::new("batches");
    let db = dir.path("log.db");
    let events = sample(40);
    let (first, second) = events.split_at(events.len() / 2);
    let later = DateTime::parse_from_rfc3339("2030-01-02T03:04:05.678Z").unwrap();
    {
        let mut s = SqliteStore::open(&db, Durability::Full).unwrap();
        s.append(first, now()).unwrap();
        s.append(second, later).unwrap();
        assert_eq!(s.append(&events, later).unwrap().appended, 0);
        let mut seen = Vec::new();
        s.scan(0, &mut |e| seen.push(e.recorded_at)).unwrap();
        assert_eq!(seen.len(), events.len());
        assert!(seen[..first.len()].iter().all(|t| *t == now()));
        assert!(seen[first.len()..].iter().all(|t| *t == later));
        assert_eq!(s.verify().unwrap().first_bad, None);
    }
    let c = rusqlite::Connection::open(&db).unwrap();
    let batches: Vec<String> = c
        .prepare("SELECT recorded_at FROM batches ORDER BY id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        batches,
        ["2030-01-01T00:00:00Z", "2030-01-02T03:04:05.678Z"],
        "one row per append that stored something"
    );
    assert!(c.execute("DELETE FROM batches", []).is_err(), "append-only");
}

/// Folding what `scan_for_folds` decodes (payload texts skipped) judges every complaint
/// exactly as folding the fully decoded events does.
#[test]
fn folds_see_the_same_complaints_from_the_lean_scan() {
    let dir = Scratch::new("lean");
    let db = dir.path("log.db");
    let events = sample(1500);
    let mut s = SqliteStore::open(&db, Durability::Full).unwrap();
    s.append(&events, now()).unwrap();
    let (cal, rules) = (
        calendar::Calendar::builtin(),
        projections::DeadlineRules::default(),
    );
    let as_of = DateTime::parse_from_rfc3339("2024-10-01T00:00:00+07:00").unwrap();
    let mut full = projections::ComplaintFold::new(as_of);
    let mut lean = projections::ComplaintFold::new(as_of);
    let mut texts = 0;
    s.scan(0, &mut |e| full.apply(e)).unwrap();
    s.scan_for_folds(0, &mut |e| {
        if let event_model::EventData::Received(r) = &e.data {
            texts += r.subject.len();
        }
        lean.apply(e)
    })
    .unwrap();
    assert_eq!(texts, 0, "the lean scan skips subjects");
    let (a, b) = (full.views(&cal, &rules), lean.views(&cal, &rules));
    assert_eq!(a.len(), 1500);
    assert_eq!(
        serde_json::to_string(&a).unwrap(),
        serde_json::to_string(&b).unwrap()
    );
    assert_eq!(full.monthly_reports(), lean.monthly_reports());
}

/// The backend conformance suite (`event_store::conformance`), on SQLite in memory and on a
/// file: what every backend of the trait must do.
#[test]
fn sqlite_passes_the_backend_conformance_suite() {
    let in_memory = event_store::conformance::run(&mut || {
        Box::new(SqliteStore::open_in_memory().unwrap()) as Box<dyn EventStore>
    });
    assert_eq!(in_memory, Ok(()));
    let dir = Scratch::new("conformance");
    let mut n = 0;
    let on_disk = event_store::conformance::run(&mut || {
        n += 1;
        Box::new(SqliteStore::open(&dir.path(&format!("log-{n}.db")), Durability::Full).unwrap())
            as Box<dyn EventStore>
    });
    assert_eq!(on_disk, Ok(()));
    let path = dir.path("reopened.db");
    let reopened = event_store::conformance::reopen(&mut || {
        Box::new(SqliteStore::open(&path, Durability::Full).unwrap()) as Box<dyn EventStore>
    });
    assert_eq!(reopened, Ok(()));
}

/// The suite can fail: a store that forgets idempotency and time order is caught.
#[test]
fn the_conformance_suite_catches_a_store_that_breaks_the_rules() {
    /// SQLite, but every repeat is sent with fresh ids and every event is re-timed to the
    /// stream's last: repeats are stored again, out-of-order events accepted.
    struct Careless(SqliteStore);
    impl EventStore for Careless {
        fn append_iter(
            &mut self,
            events: &mut dyn Iterator<Item = Result<NewEvent, event_model::WireError>>,
            recorded_at: chrono::DateTime<chrono::FixedOffset>,
        ) -> Result<event_store::AppendReport, event_store::AppendError> {
            let mut batch: Vec<NewEvent> = events.map(|e| e.unwrap()).collect();
            for e in &mut batch {
                e.id = uuid::Uuid::now_v7();
                if let Some(last) = self.0.read_stream(&e.stream).unwrap().last() {
                    e.occurred_at = e.occurred_at.max(last.occurred_at);
                }
            }
            self.0.append(&batch, recorded_at)
        }
        fn head(&self) -> Result<event_store::Head, StoreError> {
            self.0.head()
        }
        fn read_stream(&self, s: &str) -> Result<Vec<event_model::RecordedEvent>, StoreError> {
            self.0.read_stream(s)
        }
        fn read_after(
            &self,
            after: u64,
            limit: u64,
        ) -> Result<Vec<event_model::RecordedEvent>, StoreError> {
            self.0.read_after(after, limit)
        }
        fn scan(
            &self,
            after: u64,
            f: &mut dyn FnMut(event_model::RecordedEvent),
        ) -> Result<u64, StoreError> {
            self.0.scan(after, f)
        }
        fn verify_from(
            &self,
            from: event_store::Head,
        ) -> Result<event_store::VerifyReport, StoreError> {
            self.0.verify_from(from)
        }
    }
    let failures = event_store::conformance::run(&mut || {
        Box::new(Careless(SqliteStore::open_in_memory().unwrap())) as Box<dyn EventStore>
    })
    .unwrap_err();
    let checks: Vec<&str> = failures.iter().map(|f| f.check).collect();
    assert!(
        checks.contains(&"repeats") && checks.contains(&"time_order"),
        "{failures:?}"
    );
}
