//! The PostgreSQL backend against real, throwaway clusters (Debian's PostgreSQL 15): the
//! conformance suite, every replay fixture, append-only enforced by the database, and the
//! schema's migrations.

use event_store::{Durability, EventStore};
use event_store_postgres::PgStore;
use tests::pg::PgCluster;
use tests::Scratch;

use crate::common::{ok, s};
use crate::fixtures;

/// A fresh database per call, numbered.
fn fresh_logs<'a>(
    cluster: &'a PgCluster,
    prefix: &str,
) -> impl FnMut() -> Box<dyn EventStore> + 'a {
    let prefix = prefix.to_string();
    let mut n = 0;
    move || {
        n += 1;
        let uri = cluster.create_db(&format!("{prefix}_{n}"));
        Box::new(PgStore::open(&uri, Durability::Full).unwrap()) as Box<dyn EventStore>
    }
}

#[test]
fn postgres_passes_the_backend_conformance_suite() {
    let cluster = PgCluster::start();
    let outcome = event_store::conformance::run(&mut fresh_logs(&cluster, "conformance"));
    assert_eq!(outcome, Ok(()));
    let uri = cluster.create_db("reopened");
    let reopened = event_store::conformance::reopen(&mut || {
        Box::new(PgStore::open(&uri, Durability::Full).unwrap()) as Box<dyn EventStore>
    });
    assert_eq!(reopened, Ok(()));
}

#[test]
fn every_replay_fixture_gives_the_same_files_on_postgres() {
    let cluster = PgCluster::start();
    fixtures::accepted_fixtures_on(&mut fresh_logs(&cluster, "accepted"));
    fixtures::rejected_fixtures_on(&mut fresh_logs(&cluster, "rejected"));
}

fn received(n: u32) -> event_model::NewEvent {
    event_model::parse_wire_event(&format!(
        r#"{{"id":"0190a000-0000-7000-8000-{n:012}","stream":"C-{n}","type":"received","occurred_at":"2024-09-02T09:00:00+07:00","actor":"a","data":{{"channel":"web","category":"road","district":"d","subject":"s","complainant":{{"anonymous":true}}}}}}"#
    ))
    .unwrap()
}

fn now() -> chrono::DateTime<chrono::FixedOffset> {
    chrono::DateTime::parse_from_rfc3339("2024-09-02T10:00:00+07:00").unwrap()
}

/// The database itself keeps the log append-only: the owning role has no right to change or
/// remove rows, and the triggers refuse even the superuser.
#[test]
fn the_database_refuses_to_change_or_remove_events() {
    let cluster = PgCluster::start();
    let uri = cluster.create_db("append_only");
    let mut store = PgStore::open(&uri, Durability::Full).unwrap();
    store.append(&[received(1), received(2)], now()).unwrap();
    let head = store.head().unwrap();
    let mut owner = postgres::Client::connect(&uri, postgres::NoTls).unwrap();
    for sql in [
        "UPDATE events SET actor = 'x'",
        "DELETE FROM events",
        "TRUNCATE events",
        "DELETE FROM batches",
        "DELETE FROM head",
        "UPDATE head SET position = 0",
    ] {
        let e = owner.batch_execute(sql).unwrap_err();
        let code = e.code().map(|c| c.code().to_string()).unwrap_or_default();
        assert!(
            code == "42501" || code == "P0001",
            "{sql}: refused for the owner, got {e:?}"
        );
    }
    let mut superuser =
        postgres::Client::connect(&cluster.superuser_uri("append_only"), postgres::NoTls).unwrap();
    for sql in [
        "UPDATE events SET actor = 'x'",
        "DELETE FROM events WHERE position = 2",
        "TRUNCATE events CASCADE",
        "UPDATE batches SET recorded_at = 'x'",
        "UPDATE head SET position = 1",
    ] {
        let e = superuser.batch_execute(sql).unwrap_err();
        let message = e
            .as_db_error()
            .map(|d| d.message().to_string())
            .unwrap_or_default();
        assert!(
            message.contains("append-only") || message.contains("only moves forward"),
            "{sql}: refused by a trigger, got {e:?}"
        );
    }
    assert_eq!(store.head().unwrap(), head);
    assert!(store.verify().unwrap().first_bad.is_none());
}

/// Migrations: a reopened log is migrated once and keeps everything; a database from a newer
/// build is refused with a clear error; a read-only connection writes nothing.
#[test]
fn migrations_run_once_and_a_newer_schema_is_refused() {
    let cluster = PgCluster::start();
    let uri = cluster.create_db("migrations");
    let mut store = PgStore::open(&uri, Durability::Full).unwrap();
    store.append(&[received(1)], now()).unwrap();
    drop(store);
    let mut again = PgStore::open(&uri, Durability::Full).unwrap();
    assert_eq!(again.head().unwrap().position, 1);
    again.append(&[received(2)], now()).unwrap();
    let mut c = postgres::Client::connect(&uri, postgres::NoTls).unwrap();
    let applied: i64 = c
        .query_one("SELECT count(*) FROM rongtook_schema", &[])
        .unwrap()
        .get(0);
    assert_eq!(applied, 1, "each migration is recorded once");
    let mut reader = PgStore::open_read_only(&uri).unwrap();
    assert_eq!(reader.head().unwrap().position, 2);
    let refused = reader.append(&[received(3)], now()).unwrap_err();
    assert!(refused.to_string().contains("read-only"), "{refused}");
    c.batch_execute("INSERT INTO rongtook_schema (version) VALUES (99)")
        .unwrap();
    match PgStore::open(&uri, Durability::Full) {
        Err(event_store::StoreError::SchemaTooNew {
            found: 99,
            known: 1,
        }) => {}
        Err(e) => panic!("unexpected error: {e}"),
        Ok(_) => panic!("a newer schema was opened"),
    }
    // Reading never creates: a database without the log is refused and left as it was.
    let empty = cluster.create_db("empty");
    let o = crate::common::rongtook(&["verify", "--db", &empty]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("holds no Rongtook log"), "{err}");
    let mut e = postgres::Client::connect(&empty, postgres::NoTls).unwrap();
    let created: bool = e
        .query_one("SELECT to_regclass('rongtook_schema') IS NOT NULL", &[])
        .unwrap()
        .get(0);
    assert!(!created, "reading created the schema");
    let unreachable = cluster.uri("no_such_database");
    let err = PgStore::open(&unreachable, Durability::Full).err().unwrap();
    assert!(err.to_string().contains("no_such_database"), "{err}");
}

/// The files of a replay output folder, by name.
fn files(dir: &std::path::Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let p = e.unwrap().path();
            (
                p.file_name().unwrap().to_string_lossy().to_string(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect()
}

/// Every row of a log as stored.
fn rows(db: &str) -> Vec<event_store::StoredRow> {
    let store = event_store_open::open_read_only(&event_store_open::Location::parse(db)).unwrap();
    store.raw_after(0, u64::MAX).unwrap()
}

/// `rongtook copy` moves a generated year SQLite -> PostgreSQL -> SQLite with every position,
/// batch and hash; a copy into a prefix resumes after it, a complete copy adds nothing, and a
/// target that is not a prefix is refused. A replay on PostgreSQL writes the same bytes.
#[test]
fn copy_round_trips_a_year_through_postgres_with_identical_hashes() {
    let dir = Scratch::new("copy");
    let cluster = PgCluster::start();
    let events = dir.path("e.ndjson");
    ok(&[
        "generate",
        "--fiscal-year",
        "2567",
        "--complaints",
        "1500",
        "--seed",
        "11",
        "--out",
        s(&events),
    ]);
    let text = std::fs::read_to_string(&events).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let cut = lines.len() * 3 / 5;
    let (first, rest) = (dir.path("first.ndjson"), dir.path("rest.ndjson"));
    std::fs::write(&first, lines[..cut].join("\n") + "\n").unwrap();
    std::fs::write(&rest, lines[cut..].join("\n") + "\n").unwrap();
    let a = dir.path("a.db");
    ok(&["append", "--db", s(&a), s(&first)]);
    let pg = cluster.create_db("copy");

    let out = ok(&["copy", "--from", s(&a), "--to", &pg]);
    assert!(out.contains(&format!("copied {cut} events")), "{out}");
    ok(&["append", "--db", s(&a), s(&rest)]);
    let out = ok(&["copy", "--from", s(&a), "--to", &pg]);
    assert!(
        out.contains(&format!("copied {} events", lines.len() - cut))
            && out.contains(&format!("resumed after position {cut}")),
        "{out}"
    );
    let out = ok(&["copy", "--from", s(&a), "--to", &pg]);
    assert!(out.contains("copied 0 events"), "{out}");

    let b = dir.path("b.db");
    ok(&["copy", "--from", &pg, "--to", s(&b)]);
    let original = rows(s(&a));
    assert_eq!(original.len(), lines.len());
    assert_eq!(rows(&pg), original, "SQLite -> PostgreSQL keeps every row");
    assert_eq!(rows(s(&b)), original, "and back to SQLite too");
    assert!(ok(&["verify", "--db", &pg]).starts_with("ok:"));

    // The same replay, byte for byte, from either backend.
    let (ra, rp) = (dir.path("replay-a"), dir.path("replay-pg"));
    crate::common::replay(&a, &ra, &[]);
    ok(&[
        "replay",
        "--db",
        &pg,
        "--fiscal-year",
        "2567",
        "--out",
        s(&rp),
    ]);
    assert_eq!(files(&ra), files(&rp));

    // Refused: a target that holds another log, and a target longer than the source.
    let other = dir.path("other.db");
    ok(&[
        "demo",
        "--db",
        s(&other),
        "--fiscal-year",
        "2567",
        "--complaints",
        "50",
    ]);
    for (from, to, why) in [
        (s(&other), pg.as_str(), "not a prefix"),
        (s(&other), s(&b), "not a prefix"),
    ] {
        let o = crate::common::rongtook(&["copy", "--from", from, "--to", to]);
        assert_eq!(o.status.code(), Some(2), "{from} -> {to}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(why), "{err}");
    }
    assert_eq!(rows(&pg), original, "a refused copy changes nothing");
}
