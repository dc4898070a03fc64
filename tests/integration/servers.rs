//! Several `rongtook serve` processes on one PostgreSQL log: all take appends (optimistic
//! concurrency across processes), each follows the others' commits, and a server killed with
//! `kill -9` mid-load loses nothing acknowledged.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tests::pg::PgCluster;
use tests::Scratch;

use crate::common::{ok, s};

/// A server process.
pub struct Server {
    pub child: Child,
    pub port: u16,
}

impl Server {
    /// Asks the server to stop (SIGTERM) and returns whether it exited cleanly.
    pub fn stop_gracefully(&mut self) -> bool {
        let sent = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .is_ok_and(|s| s.success());
        sent && self.child.wait().is_ok_and(|s| s.success())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts `rongtook serve` on `db` and waits until it answers `/ready`.
pub fn serve(db: &str, log: &std::path::Path) -> Server {
    serve_with(db, &[], log)
}

/// Like [`serve`], with more arguments.
pub fn serve_with(db: &str, more: &[&str], log: &std::path::Path) -> Server {
    serve_wrapped(&[], db, more, log)
}

/// Like [`serve_with`], run by another program (`wrapper`: its command line before the
/// server's, e.g. `strace` and its options).
pub fn serve_wrapped(wrapper: &[&str], db: &str, more: &[&str], log: &std::path::Path) -> Server {
    start(wrapper, db, more, log, "/ready")
        .unwrap_or_else(|said| panic!("the server exited before it was ready: {said}"))
}

/// Starts `rongtook serve` on `db` and waits until it answers `/health` (ready or not); the
/// server, or what it said when it exited instead.
pub fn try_serve(db: &str, more: &[&str], log: &std::path::Path) -> Result<Server, String> {
    start(&[], db, more, log, "/health")
}

/// Starts `rongtook serve` (under `wrapper`, if any) and waits until `path` answers 200; the
/// server, or its exit status and what it said when it exited first.
fn start(
    wrapper: &[&str],
    db: &str,
    more: &[&str],
    log: &std::path::Path,
    path: &str,
) -> Result<Server, String> {
    let port = free_port();
    let server = env!("CARGO_BIN_EXE_rongtook-under-test");
    let mut command = match wrapper.split_first() {
        None => Command::new(server),
        Some((program, args)) => {
            let mut c = Command::new(program);
            c.args(args).arg(server);
            c
        }
    };
    let child = command
        .args([
            "serve",
            "--db",
            db,
            "--listen",
            &format!("127.0.0.1:{port}"),
        ])
        .args(more)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log).unwrap())
        .spawn()
        .expect("start rongtook serve");
    let mut server = Server { child, port };
    let t = Instant::now();
    loop {
        if let Ok((200, _)) = http(port, "GET", path, None, None) {
            return Ok(server);
        }
        if let Ok(Some(status)) = server.child.try_wait() {
            let said = std::fs::read_to_string(log).unwrap_or_default();
            return Err(format!("{status}: {said}"));
        }
        assert!(
            t.elapsed() < Duration::from_secs(120),
            "the server did not answer {path}: {}",
            std::fs::read_to_string(log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// One HTTP/1.1 request on its own connection; the status and body.
pub fn http(
    port: u16,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&str>,
) -> std::io::Result<(u16, String)> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(60)))?;
    let auth = token.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
    let body = body.unwrap_or("");
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)?;
    let text = String::from_utf8_lossy(&raw).to_string();
    let (head, rest) = text.split_once("\r\n\r\n").ok_or_else(|| {
        std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "no complete response")
    })?;
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other("no status"))?;
    Ok((status, rest.to_string()))
}

/// Follows a server's SSE feed from the start and returns the positions it yields, until it
/// has yielded `until` (set once known) or the connection ends.
fn follow_feed(port: u16, token: String, until: Arc<AtomicU64>) -> Vec<u64> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    write!(
        s,
        "GET /v1/events/stream?after=0 HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\nAccept: text/event-stream\r\n\r\n"
    )
    .unwrap();
    let mut r = BufReader::new(s);
    let mut positions = Vec::new();
    let mut body = String::new();
    let mut in_headers = true;
    let deadline = Instant::now() + Duration::from_secs(300);
    // Chunked transfer: a size line, that many bytes, CRLF.
    let mut line = String::new();
    loop {
        if positions.last().copied().unwrap_or(0) >= until.load(Ordering::SeqCst)
            || Instant::now() > deadline
        {
            return positions;
        }
        line.clear();
        match r.read_line(&mut line) {
            Ok(0) => return positions,
            Ok(_) => {}
            Err(e)
                if e.kind() == std::io::ErrorKind::WouldBlock
                    || e.kind() == std::io::ErrorKind::TimedOut =>
            {
                // Keep what was read of a partial line.
                body.push_str(&line);
                continue;
            }
            Err(_) => return positions,
        }
        if in_headers {
            if line == "\r\n" {
                in_headers = false;
            }
            continue;
        }
        let size_line = std::mem::take(&mut line);
        let Ok(size) = usize::from_str_radix(size_line.trim(), 16) else {
            continue;
        };
        let mut chunk = vec![0u8; size + 2];
        let mut got = 0;
        while got < chunk.len() {
            match r.read(&mut chunk[got..]) {
                Ok(0) => return positions,
                Ok(n) => got += n,
                Err(e)
                    if e.kind() == std::io::ErrorKind::WouldBlock
                        || e.kind() == std::io::ErrorKind::TimedOut => {}
                Err(_) => return positions,
            }
        }
        body.push_str(&String::from_utf8_lossy(&chunk[..size]));
        while let Some(end) = body.find("\n\n") {
            let message: String = body.drain(..end + 2).collect();
            for l in message.lines() {
                if let Some(data) = l.strip_prefix("data:") {
                    let v: serde_json::Value = serde_json::from_str(data.trim()).unwrap();
                    positions.push(v["position"].as_u64().unwrap());
                }
            }
        }
    }
}

pub(crate) fn id(client: usize, j: usize, k: usize) -> String {
    format!("0190b000-0000-7000-8{client:03x}-{j:08x}{k:04x}")
}

/// One request of the load: a new complaint and its flag, or (every fourth) a flag on the one
/// shared complaint with the version the client believes current.
pub(crate) fn body(client: usize, j: usize, shared_version: u64) -> (String, Vec<String>) {
    if j % 4 == 3 {
        let i = id(client, j, 0);
        return (
            format!(
                r#"{{"id":"{i}","stream":"SHARED","type":"flagged","occurred_at":"2024-09-02T10:00:00+07:00","actor":"load","expected_version":{shared_version},"data":{{"flag":"urgent","note":"n"}}}}"#
            ),
            vec![i],
        );
    }
    let (a, b) = (id(client, j, 0), id(client, j, 1));
    (
        format!(
            r#"[{{"id":"{a}","stream":"S-{client}-{j}","type":"received","occurred_at":"2024-09-02T09:00:00+07:00","actor":"load","data":{{"channel":"web","category":"road","district":"bang-rak","subject":"s","complainant":{{"anonymous":true}}}}}},{{"id":"{b}","stream":"S-{client}-{j}","type":"flagged","occurred_at":"2024-09-02T09:30:00+07:00","actor":"load","data":{{"flag":"urgent","note":"n"}}}}]"#
        ),
        vec![a, b],
    )
}

/// Every page of a server's complaint list, as text.
pub(crate) fn complaints(port: u16, token: &str) -> String {
    let mut out = String::new();
    for page in 1.. {
        let (status, text) = http(
            port,
            "GET",
            &format!("/v1/complaints?per_page=500&page={page}"),
            Some(token),
            None,
        )
        .unwrap();
        assert_eq!(status, 200, "{text}");
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        let list = v["complaints"].as_array().unwrap();
        if list.is_empty() {
            return out;
        }
        out.push_str(&serde_json::to_string(list).unwrap());
    }
    unreachable!()
}

/// A new `admin` token for the log at `db`.
pub(crate) fn admin_token(db: &str, label: &str) -> String {
    ok(&[
        "token", "create", "--db", db, "--role", "admin", "--label", label,
    ])
    .split_whitespace()
    .last()
    .unwrap()
    .to_string()
}

/// The ids of every stored event.
fn stored_ids(pg: &mut postgres::Client) -> std::collections::HashSet<String> {
    pg.query("SELECT event_id FROM events", &[])
        .unwrap()
        .iter()
        .map(|r| uuid::Uuid::from_slice(r.get(0)).unwrap().to_string())
        .collect()
}

const CLIENTS: usize = 64;
const REQUESTS: usize = 40;

#[test]
fn three_servers_on_one_log_lose_nothing_when_one_is_killed() {
    let dir = Scratch::new("servers");
    let cluster = PgCluster::start();
    let db = cluster.create_db("servers");
    let token = admin_token(&db, "load");
    let mut servers: Vec<Option<Server>> = (0..3)
        .map(|i| Some(serve(&db, &dir.path(&format!("server-{i}.log")))))
        .collect();
    let ports: Vec<u16> = servers.iter().map(|s| s.as_ref().unwrap().port).collect();
    let (status, text) = http(
        ports[0],
        "POST",
        "/v1/events",
        Some(&token),
        Some(r#"{"id":"0190b000-0000-7000-8fff-000000000000","stream":"SHARED","type":"received","occurred_at":"2024-09-02T09:00:00+07:00","actor":"load","data":{"channel":"web","category":"road","district":"bang-rak","subject":"s","complainant":{"anonymous":true}}}"#),
    )
    .unwrap();
    assert_eq!(status, 201, "{text}");

    // The two servers that will survive are followed from the start.
    let until = Arc::new(AtomicU64::new(u64::MAX));
    let feeds: Vec<_> = [ports[1], ports[2]]
        .into_iter()
        .map(|port| {
            let (token, until) = (token.clone(), until.clone());
            std::thread::spawn(move || follow_feed(port, token, until))
        })
        .collect();

    let acked = Arc::new(Mutex::new(Vec::<String>::new()));
    let done = Arc::new(AtomicUsize::new(0));
    let conflicts = Arc::new(AtomicUsize::new(0));
    let shared = Arc::new(AtomicU64::new(1));
    let dead = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|c| {
            let (ports, token, acked, done, conflicts, shared, dead) = (
                ports.clone(),
                token.clone(),
                acked.clone(),
                done.clone(),
                conflicts.clone(),
                shared.clone(),
                dead.clone(),
            );
            std::thread::spawn(move || {
                let mut server = c % 3;
                for j in 0..REQUESTS {
                    let (body, ids) = body(c, j, shared.load(Ordering::SeqCst));
                    let mut tries = 0;
                    loop {
                        tries += 1;
                        assert!(tries < 50, "client {c}: request {j} never answered");
                        match http(
                            ports[server],
                            "POST",
                            "/v1/events",
                            Some(&token),
                            Some(&body),
                        ) {
                            Ok((s, text)) if s == 200 || s == 201 => {
                                acked.lock().unwrap().extend(ids);
                                if j % 4 == 3 {
                                    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
                                    shared.fetch_max(
                                        v["events"][0]["version"].as_u64().unwrap(),
                                        Ordering::SeqCst,
                                    );
                                }
                                break;
                            }
                            Ok((409, _)) => {
                                // Another process moved the shared complaint first: read its
                                // version (from whichever server) and go on.
                                conflicts.fetch_add(1, Ordering::SeqCst);
                                if let Ok((200, text)) = http(
                                    ports[server],
                                    "GET",
                                    "/v1/complaints/SHARED",
                                    Some(&token),
                                    None,
                                ) {
                                    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
                                    shared.fetch_max(
                                        v["version"].as_u64().unwrap(),
                                        Ordering::SeqCst,
                                    );
                                }
                                break;
                            }
                            Ok((s, text)) => panic!("client {c}: {s} {text}"),
                            Err(_) => {
                                // The server is gone (or went mid-request): the same batch,
                                // with the same ids, to the next server.
                                assert!(
                                    dead.load(Ordering::SeqCst),
                                    "client {c}: a live server failed"
                                );
                                server = (server + 1) % 3;
                            }
                        }
                    }
                    done.fetch_add(1, Ordering::SeqCst);
                }
            })
        })
        .collect();
    // kill -9 one server while the load runs.
    while done.load(Ordering::SeqCst) < CLIENTS * REQUESTS / 3 {
        std::thread::sleep(Duration::from_millis(5));
    }
    dead.store(true, Ordering::SeqCst);
    let mut victim = servers[0].take().unwrap();
    victim.child.kill().unwrap(); // SIGKILL
    victim.child.wait().unwrap();
    let killed_at = done.load(Ordering::SeqCst);
    for c in clients {
        c.join().unwrap();
    }
    assert!(
        killed_at < CLIENTS * REQUESTS,
        "the kill came during the load"
    );

    // No acknowledged event is lost.
    let mut pg = postgres::Client::connect(&db, postgres::NoTls).unwrap();
    let stored = stored_ids(&mut pg);
    let acked = acked.lock().unwrap().clone();
    let lost: Vec<&String> = acked.iter().filter(|i| !stored.contains(*i)).collect();
    assert!(
        lost.is_empty(),
        "{} acknowledged events lost: {:?}",
        lost.len(),
        &lost[..lost.len().min(5)]
    );
    assert!(
        acked.len() > CLIENTS * REQUESTS,
        "the load was acknowledged: {}",
        acked.len()
    );
    let head: i64 = pg
        .query_one("SELECT position FROM head", &[])
        .unwrap()
        .get(0);
    let head = head as u64;
    assert_eq!(
        stored.len() as u64,
        head,
        "positions 1..head, one event each"
    );
    assert!(ok(&["verify", "--db", &db]).starts_with("ok:"));

    // Each surviving server's feed yielded every event once, in position order.
    until.store(head, Ordering::SeqCst);
    for (n, feed) in feeds.into_iter().enumerate() {
        let positions = feed.join().unwrap();
        let expected: Vec<u64> = (1..=head).collect();
        assert!(
            positions == expected,
            "server {}'s feed: {} events, not 1..={head} in order",
            n + 1,
            positions.len()
        );
    }

    // Every server's projections equal a fresh fold of the log (a server started now).
    let fresh = serve(&db, &dir.path("server-fresh.log"));
    let want = complaints(fresh.port, &token);
    for port in [ports[1], ports[2]] {
        let t = Instant::now();
        loop {
            let got = complaints(port, &token);
            if got == want {
                break;
            }
            assert!(
                t.elapsed() < Duration::from_secs(10),
                "server on {port} differs from a fresh fold"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    eprintln!(
        "three servers: {} requests, {} acknowledged events, {} version conflicts across servers, server 0 killed after {killed_at} requests; log head {head}",
        CLIENTS * REQUESTS,
        acked.len(),
        conflicts.load(Ordering::SeqCst)
    );
    assert!(
        conflicts.load(Ordering::SeqCst) > 0,
        "clients raced on the shared complaint"
    );
    drop(servers);
}

/// A hot standby kept by synchronous replication (`remote_apply`): the server reads from it
/// (`--read-db`) and sees each acknowledged event there at once; after the primary is killed
/// and the standby promoted, a server pointed at it finds every acknowledged event, the chain
/// verified, and takes appends again.
#[test]
fn a_promoted_standby_holds_every_acknowledged_event() {
    let dir = Scratch::new("standby");
    let mut primary = PgCluster::start();
    let uri_p = primary.create_db("standby_log");
    let token = admin_token(&uri_p, "t");
    let standby = primary.standby("standby1");
    primary.admin("ALTER SYSTEM SET synchronous_standby_names = 'standby1'");
    primary.admin("ALTER SYSTEM SET synchronous_commit = 'remote_apply'");
    primary.admin("SELECT pg_reload_conf()");
    let mut admin =
        postgres::Client::connect(&primary.superuser_uri("postgres"), postgres::NoTls).unwrap();
    let t = Instant::now();
    loop {
        let sync = admin
            .query("SELECT 1 FROM pg_stat_replication WHERE application_name = 'standby1' AND sync_state = 'sync'", &[])
            .unwrap();
        if !sync.is_empty() {
            break;
        }
        assert!(
            t.elapsed() < Duration::from_secs(60),
            "the standby never became synchronous"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    drop(admin);
    let uri_s = standby.uri("standby_log");
    let server = serve_with(&uri_p, &["--read-db", &uri_s], &dir.path("server.log"));
    let port = server.port;

    let acked = Arc::new(Mutex::new(Vec::<String>::new()));
    let done = Arc::new(AtomicUsize::new(0));
    let dead = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..16)
        .map(|c| {
            let (token, acked, done, dead) =
                (token.clone(), acked.clone(), done.clone(), dead.clone());
            std::thread::spawn(move || {
                for j in 0..60 {
                    let (body, ids) = body(c, j * 4, 0);
                    match http(port, "POST", "/v1/events", Some(&token), Some(&body)) {
                        Ok((201, text)) => {
                            let v: serde_json::Value = serde_json::from_str(&text).unwrap();
                            let last = v["events"][1]["position"].as_u64().unwrap();
                            // The read goes to the standby: the event is there already.
                            let (s, feed) = http(
                                port,
                                "GET",
                                &format!("/v1/events?after={}&limit=1", last - 1),
                                Some(&token),
                                None,
                            )
                            .unwrap();
                            assert_eq!(s, 200, "{feed}");
                            assert!(
                                feed.contains(&ids[1]),
                                "an acknowledged event is not on the standby yet: {feed}"
                            );
                            acked.lock().unwrap().extend(ids);
                        }
                        other => {
                            assert!(
                                dead.load(Ordering::SeqCst),
                                "client {c}: {other:?} while the primary ran"
                            );
                            return;
                        }
                    }
                    done.fetch_add(1, Ordering::SeqCst);
                }
            })
        })
        .collect();
    while done.load(Ordering::SeqCst) < 16 * 60 / 2 {
        std::thread::sleep(Duration::from_millis(5));
    }
    // Replays and reports may read from the standby too.
    let replayed = dir.path("replay-standby");
    let summary = ok(&[
        "replay",
        "--db",
        &uri_s,
        "--fiscal-year",
        "2567",
        "--out",
        s(&replayed),
    ]);
    assert!(replayed.join("complaints.json").exists(), "{summary}");
    dead.store(true, Ordering::SeqCst);
    primary.stop_immediately();
    for c in clients {
        c.join().unwrap();
    }
    drop(server);

    standby.promote();
    let server = serve(&uri_s, &dir.path("server-promoted.log"));
    let mut pg = postgres::Client::connect(&uri_s, postgres::NoTls).unwrap();
    let stored = stored_ids(&mut pg);
    let acked = acked.lock().unwrap().clone();
    assert!(
        acked.len() >= 16 * 60,
        "acknowledged before the kill: {}",
        acked.len()
    );
    let lost = acked.iter().filter(|i| !stored.contains(*i)).count();
    assert_eq!(
        lost, 0,
        "acknowledged events missing on the promoted standby"
    );
    assert!(ok(&["verify", "--db", &uri_s]).starts_with("ok:"));
    let (s, text) = http(
        server.port,
        "POST",
        "/v1/events",
        Some(&token),
        Some(&body(999, 1, 0).0),
    )
    .unwrap();
    assert_eq!(s, 201, "the promoted standby takes appends: {text}");
    let mut server = server;
    assert!(
        server.stop_gracefully(),
        "a server on PostgreSQL stops cleanly: {}",
        std::fs::read_to_string(dir.path("server-promoted.log")).unwrap_or_default()
    );
    eprintln!(
        "standby: {} events acknowledged before the primary was killed, all on the promoted standby",
        acked.len()
    );
}
