//! Faults under a running server: a failed write or sync on the log stops appends until a
//! restart and loses nothing acknowledged; a torn or damaged WAL and a flipped byte in the
//! database file are found, never served as a whole log.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use event_store::EventStore;
use event_store_sqlite::SqliteStore;
use tests::Scratch;

use crate::common::s;
use crate::servers::{admin_token, http, serve_with, serve_wrapped, Server};

/// Debian's `strace`, which injects the faults.
fn strace() -> PathBuf {
    let found = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|d| d.join("strace"))
        .find(|p| p.is_file());
    found.expect("these tests inject faults with strace: install Debian's `strace` package")
}

/// A batch of `1 + j % 3` events, each receiving a new complaint: never refused by a rule.
fn batch(tag: &str, j: usize) -> (String, Vec<String>) {
    let mut events = Vec::new();
    let mut ids = Vec::new();
    for k in 0..1 + j % 3 {
        let id = format!(
            "0190b000-0000-7000-8000-{:04x}{:04x}{:04x}",
            tag.len(),
            j,
            k
        );
        events.push(format!(
            r#"{{"id":"{id}","stream":"F-{tag}-{j}-{k}","type":"received","occurred_at":"2024-09-02T09:00:00+07:00","actor":"fault","data":{{"channel":"web","category":"road","district":"bang-rak","subject":"s","complainant":{{"anonymous":true}}}}}}"#
        ));
        ids.push(id);
    }
    (format!("[{}]", events.join(",")), ids)
}

/// The id of every stored event, with how many times it is stored, and whether the chain
/// verifies.
fn stored(db: &Path) -> (HashMap<String, usize>, Option<(u64, String)>) {
    let store = SqliteStore::open_read_only(db).unwrap();
    let mut ids = HashMap::new();
    store
        .scan(0, &mut |e| *ids.entry(e.id.to_string()).or_insert(0) += 1)
        .unwrap();
    (ids, store.verify().unwrap().first_bad)
}

/// The pid of the server a wrapper (strace) runs.
fn child_of(pid: u32) -> u32 {
    let t = Instant::now();
    loop {
        let out = Command::new("pgrep")
            .args(["-P", &pid.to_string()])
            .output()
            .unwrap();
        if let Some(p) = String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .next()
        {
            return p.parse().unwrap();
        }
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "no server under {pid}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// How a server under a fault is stopped before its restart.
#[derive(Debug, Clone, Copy)]
enum Stop {
    /// SIGTERM: a clean shutdown.
    Term,
    /// SIGKILL: the process dies where it is.
    Kill,
}

/// What one run under an injected fault saw.
struct Run {
    acknowledged: Vec<Vec<String>>,
    failed: Vec<(String, Vec<String>)>,
}

/// Appends batches one at a time under the fault until appends have been refused a few times;
/// checks that, once refused, every append is refused with the cause, reads go on, and the
/// server says it is not ready.
fn append_until_stopped(server: &Server, token: &str, tag: &str, log: &Path) -> Run {
    let mut run = Run {
        acknowledged: Vec::new(),
        failed: Vec::new(),
    };
    for j in 0..200 {
        let (body, ids) = batch(tag, j);
        let (status, text) = http(server.port, "POST", "/v1/events", Some(token), Some(&body))
            .expect("the server answers");
        match status {
            201 if run.failed.is_empty() => run.acknowledged.push(ids),
            503 => {
                let p: serde_json::Value = serde_json::from_str(&text).unwrap();
                assert_eq!(p["type"], "urn:rongtook:problem:appends_stopped", "{text}");
                assert!(p["detail"].as_str().unwrap().contains("I/O"), "{text}");
                run.failed.push((body, ids));
            }
            _ => panic!(
                "{tag}: batch {j} answered {status} (after {} refusals): {text}",
                run.failed.len()
            ),
        }
        if run.failed.len() == 4 {
            break;
        }
    }
    assert!(
        !run.failed.is_empty(),
        "{tag}: the fault never hit: {}",
        std::fs::read_to_string(log).unwrap_or_default()
    );
    // Refused for good, not ready, reads answered from what was committed.
    let (status, text) = http(server.port, "GET", "/ready", None, None).unwrap();
    assert_eq!(status, 503, "{text}");
    assert!(text.contains("appends are stopped"), "{text}");
    if let Some(first) = run.acknowledged.first() {
        let stream = format!("/v1/complaints/F-{tag}-0-0");
        let (status, text) = http(server.port, "GET", &stream, Some(token), None).unwrap();
        assert_eq!(status, 200, "{} {text}", first[0]);
    }
    let (_, metrics) = http(server.port, "GET", "/metrics", Some(token), None).unwrap();
    assert!(metrics.contains("rongtook_appends_stopped 1"), "{metrics}");
    let said = std::fs::read_to_string(log).unwrap();
    assert_eq!(said.matches("APPENDS STOPPED").count(), 1, "{said}");
    run
}

/// After the restart: every acknowledged event is stored once; each refused batch is stored
/// whole or not at all (its outcome was unknown), and stored once after it is sent again;
/// nothing else is stored, and the chain verifies.
fn check_after_restart(db: &str, port: u16, token: &str, tag: &str, run: &Run) -> usize {
    let (ids, bad) = stored(Path::new(db));
    assert_eq!(bad, None, "{tag}: the chain does not verify");
    for id in run.acknowledged.iter().flatten() {
        assert_eq!(ids.get(id), Some(&1), "{tag}: acknowledged {id} lost");
    }
    let mut appeared = 0;
    for (_, batch) in &run.failed {
        let present: Vec<_> = batch.iter().filter(|id| ids.contains_key(*id)).collect();
        assert!(
            present.is_empty() || present.len() == batch.len(),
            "{tag}: a refused batch is stored in part: {present:?} of {batch:?}"
        );
        appeared += !present.is_empty() as usize;
    }
    let known = run.acknowledged.len() + run.failed.len();
    let sent: usize = run.acknowledged.iter().map(Vec::len).sum::<usize>()
        + run.failed.iter().map(|(_, b)| b.len()).sum::<usize>();
    assert!(ids.len() <= sent, "{tag}: events never sent are stored");
    for (body, _) in &run.failed {
        let (status, text) = http(port, "POST", "/v1/events", Some(token), Some(body)).unwrap();
        assert!(
            status == 200 || status == 201,
            "{tag}: resent: {status} {text}"
        );
    }
    let (body, _) = batch(tag, known);
    let (status, text) = http(port, "POST", "/v1/events", Some(token), Some(&body)).unwrap();
    assert_eq!(status, 201, "{tag}: a new append after the restart: {text}");
    let (ids, bad) = stored(Path::new(db));
    assert_eq!(bad, None);
    for (_, batch) in &run.failed {
        for id in batch {
            assert_eq!(ids.get(id), Some(&1), "{tag}: resent {id}");
        }
    }
    appeared
}

#[test]
fn a_failed_write_or_sync_stops_appends_until_a_restart_and_loses_nothing_acknowledged() {
    let strace = strace();
    // Where the fault hits, counted in calls from the start (a start takes two syncs and 17
    // writes): the sync of a commit (SQLite syncs the WAL with fsync or fdatasync), early and
    // later; the writes of a commit (its statement journal, the WAL's header and frames, the
    // head record after it) in the first and the second commit.
    let cases = [
        ("fsync-4", "fsync,fdatasync", 4, Stop::Term),
        ("fsync-11", "fsync,fdatasync", 11, Stop::Kill),
        ("write-19", "pwrite64", 19, Stop::Kill),
        ("write-22", "pwrite64", 22, Stop::Term),
        ("write-35", "pwrite64", 35, Stop::Kill),
        ("write-40", "pwrite64", 40, Stop::Term),
    ];
    let mut report = Vec::new();
    for (tag, calls, when, stop) in cases {
        let dir = Scratch::new(&format!("fault-{tag}"));
        let db = dir.path("log.db");
        let db = s(&db).to_string();
        let token = admin_token(&db, "faults");
        let trace = dir.path("strace.out");
        let log = dir.path("serve-1.log");
        let server = serve_wrapped(
            &[
                s(&strace),
                "-f",
                "-qq",
                "-o",
                s(&trace),
                "-e",
                &format!("trace={calls}"),
                "-e",
                &format!("inject={calls}:error=EIO:when={when}"),
            ],
            &db,
            &["--snapshots", "none"],
            &log,
        );
        let run = append_until_stopped(&server, &token, tag, &log);
        let pid = child_of(server.child.id());
        let signal = match stop {
            Stop::Term => "-TERM",
            Stop::Kill => "-KILL",
        };
        assert!(Command::new("kill")
            .args([signal, &pid.to_string()])
            .status()
            .unwrap()
            .success());
        drop(server);

        let log = dir.path("serve-2.log");
        let again = serve_with(&db, &["--snapshots", "none"], &log);
        let said = std::fs::read_to_string(&log).unwrap();
        assert!(said.contains("chain verified"), "{said}");
        let appeared = check_after_restart(&db, again.port, &token, tag, &run);
        report.push(format!(
            "{tag} ({stop:?}): {} acknowledged, {} refused, {appeared} of them stored",
            run.acknowledged.len(),
            run.failed.len()
        ));
    }
    eprintln!("{}", report.join("\n"));
}
