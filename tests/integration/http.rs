//! The HTTP API: every endpoint and error class through the router (`oneshot`, no socket),
//! and the real server on a loopback port with a graceful shutdown.

use std::io::{Read, Write};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use event_store::{Durability, TokenStore};
use tests::Scratch;
use tower::ServiceExt;

fn received(id: &str, stream: &str) -> String {
    format!(
        r#"{{"id":"{id}","stream":"{stream}","type":"received","occurred_at":"2024-09-02T09:00:00+07:00","actor":"intake","data":{{"channel":"web","category":"road","district":"bang-rak","subject":"Pothole","complainant":{{"anonymous":true}}}}}}"#
    )
}

fn event(id: &str, stream: &str, ty: &str, at: &str, data: &str) -> String {
    format!(
        r#"{{"id":"{id}","stream":"{stream}","type":"{ty}","occurred_at":"{at}","actor":"x","data":{data}}}"#
    )
}

/// A real server on a loopback port, over a fresh log, with a token for every role.
struct Api {
    _dir: Scratch,
    addr: std::net::SocketAddr,
    state: http_api::AppState,
    tokens: std::collections::BTreeMap<&'static str, String>,
}

/// Creates tokens for every role in the log: intake, admin, evaluator, and units bang-rak and
/// sathon.
pub(crate) fn make_tokens(
    db: &std::path::Path,
) -> std::collections::BTreeMap<&'static str, String> {
    let store = event_store_sqlite::SqliteStore::open(db, Durability::Full).unwrap();
    let mut out = std::collections::BTreeMap::new();
    for (name, role, unit) in [
        ("intake", "intake", None),
        ("admin", "admin", None),
        ("evaluator", "evaluator", None),
        ("connector", "connector", None),
        (
            "inspector",
            "inspector",
            Some("office:governor-secretariat"),
        ),
        ("bang-rak", "unit", Some("district:bang-rak")),
        ("sathon", "unit", Some("district:sathon")),
    ] {
        let token = format!("rtk_test_{name}");
        store
            .insert_token(
                &http_api::token_hash(&token),
                role,
                unit,
                name,
                "2024-01-01T00:00:00Z",
            )
            .unwrap();
        out.insert(name, token);
    }
    out
}

/// Starts the server on 127.0.0.1 (an ephemeral port) as a task of the test's runtime.
async fn api(max_body: usize) -> Api {
    let dir = Scratch::new("http");
    let db = dir.path("log.db");
    let tokens = make_tokens(&db);
    let (state, _thread) = http_api::AppState::start(
        event_store_open::Location::Sqlite(db),
        Durability::Full,
        calendar::Calendar::builtin(),
        Default::default(),
    )
    .unwrap();
    let state = state.with_max_body_bytes(max_body);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(http_api::serve(
        listener,
        state.clone(),
        std::future::pending(),
    ));
    Api {
        _dir: dir,
        addr,
        state,
        tokens,
    }
}

async fn call(
    api: &Api,
    method: &str,
    uri: &str,
    body: &str,
) -> (StatusCode, String, serde_json::Value) {
    call_as(api, Some("admin"), method, uri, body).await
}

/// One request over a real connection; returns the status, content type and JSON body.
async fn call_as(
    api: &Api,
    who: Option<&str>,
    method: &str,
    uri: &str,
    body: &str,
) -> (StatusCode, String, serde_json::Value) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let auth = who
        .map(|w| {
            let token = api.tokens.get(w).cloned().unwrap_or_else(|| w.to_string());
            format!("Authorization: Bearer {token}\r\n")
        })
        .unwrap_or_default();
    let request = format!(
        "{method} {uri} HTTP/1.1\r\nHost: localhost\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let mut conn = tokio::net::TcpStream::connect(api.addr).await.unwrap();
    // A server refusing a large body may close before reading it all: the answer counts.
    let _ = conn.write_all(request.as_bytes()).await;
    let mut raw = Vec::new();
    let _ = conn.read_to_end(&mut raw).await;
    let text = String::from_utf8_lossy(&raw).to_string();
    let (head, payload) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status: u16 = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("no status line: {text}"));
    let ctype = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-type")
                .then(|| v.trim().to_string())
        })
        .unwrap_or_default();
    let json = serde_json::from_str(payload).unwrap_or(serde_json::Value::Null);
    (StatusCode::from_u16(status).unwrap(), ctype, json)
}

const A: &str = "0190a000-0000-7000-8000-0000000000a1";
const B: &str = "0190a000-0000-7000-8000-0000000000b2";
const C: &str = "0190a000-0000-7000-8000-0000000000c3";

#[tokio::test]
async fn appends_answer_with_positions_and_errors_as_problems() {
    let api = api(64 * 1024).await;
    // 201 for new events, 200 for an idempotent repeat.
    let (s, _, v) = call(&api, "POST", "/v1/events", &received(A, "C-1")).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["events"][0]["position"], 1);
    let (s, _, v) = call(&api, "POST", "/v1/events", &received(A, "C-1")).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["events"][0]["duplicate"], true);

    // An atomic batch (array).
    let batch = format!(
        "[{},{}]",
        event(
            B,
            "C-1",
            "forwarded",
            "2024-09-02T10:00:00+07:00",
            r#"{"to_unit":"district:bang-rak"}"#
        ),
        event(
            C,
            "C-1",
            "acknowledged",
            "2024-09-02T11:00:00+07:00",
            r#"{"unit":"district:bang-rak"}"#
        )
    );
    let (s, _, v) = call(&api, "POST", "/v1/events", &batch).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["appended"], 2);

    // 422: lifecycle rule, naming the event and the rule.
    let bad = event(
        "0190a000-0000-7000-8000-0000000000d4",
        "C-1",
        "acknowledged",
        "2024-09-02T12:00:00+07:00",
        r#"{"unit":"district:bang-rak"}"#,
    );
    let (s, ctype, v) = call(&api, "POST", "/v1/events", &bad).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(ctype, "application/problem+json");
    assert_eq!(v["rule"], "already_acknowledged");
    assert_eq!(v["event_id"], "0190a000-0000-7000-8000-0000000000d4");
    assert_eq!(v["status"], 422);

    // 409: id reuse with other content, and expected_version.
    let reuse = event(
        A,
        "C-1",
        "progress_reported",
        "2024-09-03T10:00:00+07:00",
        r#"{"unit":"district:bang-rak","note":"n"}"#,
    );
    let (s, _, v) = call(&api, "POST", "/v1/events", &reuse).await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    assert_eq!(v["rule"], "id_conflict");
    let versioned = received("0190a000-0000-7000-8000-0000000000e5", "C-2")
        .replace("}}}", "}},\"expected_version\":3}");
    let (s, _, v) = call(&api, "POST", "/v1/events", &versioned).await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    assert_eq!(v["rule"], "version_conflict");

    // 400: malformed JSON, and a bad field naming its path and the event's index.
    let (s, _, v) = call(&api, "POST", "/v1/events", "{not json").await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    let bad_field = format!(
        "[{},{}]",
        received("0190a000-0000-7000-8000-0000000000f6", "C-3"),
        received("0190a000-0000-7000-8000-0000000000f7", "C-4").replace("\"web\"", "\"fax\"")
    );
    let (s, _, v) = call(&api, "POST", "/v1/events", &bad_field).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert_eq!(v["event_index"], 1);
    assert_eq!(v["field"], "data.channel");
    // 422: every field has its form, but the range is empty (occurred_after not before
    // occurred_at); nothing is stored.
    let empty_range = received("0190a000-0000-7000-8000-0000000000f8", "C-5").replace(
        "\"actor\"",
        "\"occurred_after\":\"2024-09-02T09:00:00+07:00\",\"actor\"",
    );
    let (s, _, v) = call(&api, "POST", "/v1/events", &empty_range).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["type"], "urn:rongtook:problem:inconsistent");
    assert_eq!(v["field"], "occurred_after");
    let (s, _, _) = call(&api, "GET", "/v1/complaints/C-5", "").await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // 413 over the size limit, as a problem document like every refusal of the framework's.
    let big = format!("[{}]", vec![received(A, "C-1"); 400].join(","));
    let (s, ctype, v) = call(&api, "POST", "/v1/events", &big).await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(ctype, "application/problem+json", "{v}");
    assert_eq!(
        (v["status"].as_u64(), v["type"].as_str()),
        (Some(413), Some("urn:rongtook:problem:too_large"))
    );
    let (s, ctype, v) = call(&api, "GET", "/v1/complaints?per_page=many", "").await;
    assert_eq!(
        (s, ctype.as_str()),
        (StatusCode::BAD_REQUEST, "application/problem+json"),
        "{v}"
    );
    // An evaluation instant the calendar does not cover: 422.
    let (s, _, v) = call(&api, "GET", "/v1/overdue?as_of=2999-01-01", "").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(
        v["detail"].as_str().unwrap().contains("calendar covers"),
        "{v}"
    );

    // Nothing of the refused requests was stored: C-3 does not exist.
    let (s, _, _) = call(&api, "GET", "/v1/complaints/C-3", "").await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // Reads: the complaint, its events, the feed, health.
    let (s, _, v) = call(
        &api,
        "GET",
        "/v1/complaints/C-1?as_of=2024-09-02T12:00:00%2B07:00",
        "",
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["status"], "acknowledged");
    assert_eq!(v["rounds"][0]["ack_on_time"], true);
    let (s, _, v) = call(&api, "GET", "/v1/complaints/C-1/events", "").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v.as_array().unwrap().len(), 3);
    let (_, _, v) = call(&api, "GET", "/v1/events?after=1&limit=1", "").await;
    assert_eq!(v["events"][0]["position"], 2);
    assert_eq!(v["next_after"], 2);
    let (s, _, _) = call(&api, "GET", "/v1/events?limit=0", "").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, _, _) = call(&api, "GET", "/v1/complaints/C-1?as_of=yesterday", "").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (_, _, v) = call(&api, "GET", "/health", "").await;
    assert_eq!(v["head_position"], 3);
    // Ready: the live projections hold every committed event (the writer catches them up
    // before it answers an append).
    let (s, _, v) = call_as(&api, None, "GET", "/ready", "").await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(
        (v["applied"].as_u64(), v["head_position"].as_u64()),
        (Some(3), Some(3))
    );
}

/// The real server in its own runtime, on a loopback port, stopped on demand.
struct Server {
    dir: Scratch,
    db: std::path::PathBuf,
    addr: std::net::SocketAddr,
    tokens: std::collections::BTreeMap<&'static str, String>,
    rt: tokio::runtime::Runtime,
    stop: tokio::sync::oneshot::Sender<()>,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
    writer_thread: std::thread::JoinHandle<()>,
}

impl Server {
    fn start(label: &str) -> Server {
        let dir = Scratch::new(label);
        let db = dir.path("log.db");
        let tokens = make_tokens(&db);
        let (state, writer_thread) = http_api::AppState::start(
            event_store_open::Location::Sqlite(db.clone()),
            Durability::Full,
            calendar::Calendar::builtin(),
            Default::default(),
        )
        .unwrap();
        let rt = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .unwrap();
        let listener = rt
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = rt.spawn(http_api::serve(listener, state, async {
            let _ = stopped.await;
        }));
        Server {
            dir,
            db,
            addr,
            tokens,
            rt,
            stop,
            server,
            writer_thread,
        }
    }

    /// Graceful shutdown: the server returns, then the writer finishes and ends. Returns the
    /// scratch folder, so that the log can still be looked at.
    fn stop(self) -> Scratch {
        self.stop.send(()).unwrap();
        self.rt.block_on(self.server).unwrap().unwrap();
        drop(self.rt);
        self.writer_thread.join().unwrap();
        self.dir
    }
}

fn raw_http(addr: std::net::SocketAddr, request: &str) -> String {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    s.write_all(request.as_bytes()).unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

#[test]
fn the_real_server_serves_on_loopback_and_shuts_down_gracefully() {
    let srv = Server::start("server");
    let (addr, tokens, db) = (srv.addr, srv.tokens.clone(), srv.db.clone());
    let body = received(A, "C-9");
    let answer = raw_http(
        addr,
        &format!(
            "POST /v1/events HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            tokens["intake"],
            body.len()
        ),
    );
    assert!(answer.starts_with("HTTP/1.1 201"), "{answer}");
    let health = raw_http(
        addr,
        "GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
    );
    assert!(health.contains("\"head_position\":1"), "{health}");
    // A live follower: the stream replays what is there, then sends each new commit.
    let mut sse = std::net::TcpStream::connect(addr).unwrap();
    sse.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    sse.write_all(
        format!(
            "GET /v1/events/stream?after=0 HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {}\r\n\r\n",
            tokens["evaluator"]
        )
        .as_bytes(),
    )
    .unwrap();
    let mut seen = String::new();
    let mut read_until = |needle: &str, seen: &mut String| {
        let mut buf = [0u8; 4096];
        while !seen.contains(needle) {
            let n = sse.read(&mut buf).expect("the stream answers in time");
            assert!(n > 0, "stream closed before `{needle}`: {seen}");
            seen.push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    };
    read_until("id: 1", &mut seen);
    assert!(
        seen.contains("text/event-stream") && seen.contains("event: received"),
        "{seen}"
    );
    let body2 = received("0190a000-0000-7000-8000-0000000000a9", "C-10");
    let answer = raw_http(
        addr,
        &format!(
            "POST /v1/events HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body2}",
            tokens["intake"],
            body2.len()
        ),
    );
    assert!(answer.starts_with("HTTP/1.1 201"), "{answer}");
    read_until("id: 2", &mut seen);
    // Shutdown completes although a follower is connected, and ends its stream.
    let _dir = srv.stop();
    let mut rest = Vec::new();
    let _ = sse.read_to_end(&mut rest);
    // What was acknowledged is on disk.
    let store = event_store_sqlite::SqliteStore::open(&db, Durability::Full).unwrap();
    assert_eq!(event_store::EventStore::head(&store).unwrap().position, 2);
}

#[tokio::test]
async fn every_role_boundary_is_enforced() {
    let api = api(64 * 1024).await;
    let at = |h: u32| format!("2024-09-02T{h:02}:00:00+07:00");
    let id = |n: u32| format!("0190a000-0000-7000-8000-{n:012x}");
    let post = |who: Option<&'static str>, body: String| {
        let api = &api;
        async move { call_as(api, who, "POST", "/v1/events", &body).await }
    };
    // 401: no token, an unknown token.
    let (s, ctype, _) = post(None, received(&id(1), "C-1")).await;
    assert_eq!(
        (s, ctype.as_str()),
        (StatusCode::UNAUTHORIZED, "application/problem+json")
    );
    let (s, _, _) = post(Some("rtk_nope"), received(&id(1), "C-1")).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);

    // The intake centre receives and forwards; the recorded actor is the token's.
    let (s, _, v) = post(Some("intake"), received(&id(1), "C-1")).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let fwd = event(
        &id(2),
        "C-1",
        "forwarded",
        &at(10),
        r#"{"to_unit":"district:bang-rak"}"#,
    );
    assert_eq!(post(Some("intake"), fwd).await.0, StatusCode::CREATED);
    let (_, _, v) = call_as(&api, Some("intake"), "GET", "/v1/complaints/C-1/events", "").await;
    assert!(v[0]["actor"].as_str().unwrap().ends_with(":intake"), "{v}");
    assert_eq!(v[0]["data"]["complainant"]["anonymous"], true);

    // Forbidden appends, each tried: 403 naming the event.
    let ack = |n, unit: &str| {
        event(
            &id(n),
            "C-1",
            "acknowledged",
            &at(11),
            &format!(r#"{{"unit":"{unit}"}}"#),
        )
    };
    let forbidden = [
        ("intake", ack(3, "district:bang-rak")),
        ("evaluator", ack(3, "district:bang-rak")),
        ("sathon", ack(3, "district:bang-rak")),
        ("bang-rak", received(&id(3), "C-2")),
        (
            "bang-rak",
            event(
                &id(3),
                "C-1",
                "forwarded",
                &at(11),
                r#"{"to_unit":"district:sathon"}"#,
            ),
        ),
        (
            "bang-rak",
            event(
                &id(3),
                "C-1",
                "closed",
                &at(11),
                r#"{"outcome":"resolved","answer":"done"}"#,
            ),
        ),
        (
            "intake",
            event(
                &id(3),
                "C-1",
                "closed",
                &at(11),
                r#"{"unit":"district:bang-rak","outcome":"resolved","answer":"done"}"#,
            ),
        ),
        (
            "intake",
            event(
                &id(3),
                "C-1",
                "spot_checked",
                &at(11),
                r#"{"consistent":true}"#,
            ),
        ),
        (
            "bang-rak",
            event(
                &id(3),
                "unit/district:sathon",
                "monthly_report_submitted",
                &at(11),
                r#"{"unit":"district:sathon","month":"2024-08"}"#,
            ),
        ),
    ];
    for (who, body) in forbidden {
        let (s, _, v) = post(Some(who), body.clone()).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{who} may not: {body}\n{v}");
        assert_eq!(v["event_index"], 0);
    }

    // The unit does its own part.
    assert_eq!(
        post(Some("bang-rak"), ack(3, "district:bang-rak")).await.0,
        StatusCode::CREATED
    );
    let report = event(
        &id(4),
        "unit/district:bang-rak",
        "monthly_report_submitted",
        &at(12),
        r#"{"unit":"district:bang-rak","month":"2024-08"}"#,
    );
    assert_eq!(post(Some("bang-rak"), report).await.0, StatusCode::CREATED);
    let close = event(
        &id(5),
        "C-1",
        "closed",
        &at(13),
        r#"{"unit":"district:bang-rak","outcome":"resolved","answer":"Fixed."}"#,
    );
    assert_eq!(post(Some("bang-rak"), close).await.0, StatusCode::CREATED);
    let spot = event(
        &id(6),
        "C-1",
        "spot_checked",
        &at(14),
        r#"{"consistent":true}"#,
    );
    assert_eq!(post(Some("evaluator"), spot).await.0, StatusCode::CREATED);

    // Reads: a unit sees its own complaints, without personal data, and nothing else.
    let (s, _, v) = call_as(
        &api,
        Some("bang-rak"),
        "GET",
        "/v1/complaints/C-1/events",
        "",
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v[0]["data"]["complainant"]["anonymous"], true);
    let (s, _, _) = call_as(&api, Some("sathon"), "GET", "/v1/complaints/C-1", "").await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _, _) = call_as(&api, Some("sathon"), "GET", "/v1/complaints/C-1/events", "").await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _, _) = call_as(&api, Some("bang-rak"), "GET", "/v1/events", "").await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _, v) = call_as(&api, Some("evaluator"), "GET", "/v1/events", "").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["events"].as_array().unwrap().len(), 6);
    let (s, _, _) = call_as(&api, Some("bang-rak"), "GET", "/v1/events/stream", "").await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _, _) = call_as(
        &api,
        Some("bang-rak"),
        "GET",
        "/v1/overdue?unit=district:sathon",
        "",
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _, _) = call_as(
        &api,
        Some("sathon"),
        "GET",
        "/v1/indicators?fiscal_year=2567&spec=bma-timeliness&unit=district:bang-rak",
        "",
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _, _) = post(Some("evaluator"), received(&id(9), "C-9")).await;
    assert_eq!(
        s,
        StatusCode::FORBIDDEN,
        "an evaluator may not receive complaints"
    );
    let (s, _, _) = post(
        Some("evaluator"),
        event(
            &id(9),
            "C-1",
            "reopened",
            &at(15),
            r#"{"reason":"not_fixed"}"#,
        ),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "an evaluator may not reopen");
    // The admin may do what the others may not.
    let reopen = event(
        &id(10),
        "C-1",
        "reopened",
        &at(16),
        r#"{"reason":"not_fixed"}"#,
    );
    assert_eq!(post(Some("admin"), reopen).await.0, StatusCode::CREATED);
}

#[tokio::test]
async fn the_watchers_record_their_duties_and_no_one_else_does() {
    let api = api(64 * 1024).await;
    let at = |h: u32| format!("2024-09-02T{h:02}:00:00+07:00");
    let id = |n: u32| format!("0190a000-0000-7000-9000-{n:012x}");
    let post = |who: &'static str, body: String| {
        let api = &api;
        async move { call_as(api, Some(who), "POST", "/v1/events", &body).await }
    };
    let named = received(&id(1), "C-W").replace(
        r#""complainant":{"anonymous":true}"#,
        r#""complainant":{"anonymous":false,"name":"Somchai","contact":"0812345678","wants_update":true}"#,
    );
    assert_eq!(post("intake", named).await.0, StatusCode::CREATED);
    let fwd = event(
        &id(2),
        "C-W",
        "forwarded",
        &at(10),
        r#"{"to_unit":"district:bang-rak"}"#,
    );
    assert_eq!(post("intake", fwd).await.0, StatusCode::CREATED);
    let chase = |n| {
        event(
            &id(n),
            "C-W",
            "chased",
            &at(11),
            r#"{"unit":"district:bang-rak","obligation":"ack"}"#,
        )
    };
    let flag = |n| {
        event(
            &id(n),
            "C-W",
            "flagged",
            &at(11),
            r#"{"flag":"executive_assigned","note":"the Governor asks"}"#,
        )
    };
    let inspect = |n, office: &str| {
        event(
            &id(n),
            "C-W",
            "field_inspected",
            &at(12),
            &format!(r#"{{"office":"{office}","consistent":false,"note":"still broken"}}"#),
        )
    };
    let told = |n| {
        event(
            &id(n),
            "C-W",
            "complainant_informed",
            &at(15),
            r#"{"method":"phone","note":"told Somchai on 0812345678"}"#,
        )
    };
    // Who may not: 403.
    for (who, body) in [
        ("bang-rak", chase(3)),
        ("inspector", chase(3)),
        ("evaluator", flag(3)),
        ("bang-rak", flag(3)),
        ("intake", inspect(3, "office:governor-secretariat")),
        (
            "inspector",
            inspect(3, "office:permanent-secretary-secretariat"),
        ),
        ("bang-rak", told(3)),
    ] {
        let (s, _, v) = post(who, body.clone()).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{who} may not: {body}\n{v}");
    }
    // Who may.
    for (who, body) in [
        ("intake", chase(4)),
        ("intake", flag(5)),
        ("admin", flag(6)),
        ("inspector", inspect(7, "office:governor-secretariat")),
    ] {
        let (s, _, v) = post(who, body.clone()).await;
        assert_eq!(s, StatusCode::CREATED, "{who} may: {body}\n{v}");
    }
    let ack = event(
        &id(8),
        "C-W",
        "acknowledged",
        &at(13),
        r#"{"unit":"district:bang-rak"}"#,
    );
    assert_eq!(post("bang-rak", ack).await.0, StatusCode::CREATED);
    let close = event(
        &id(9),
        "C-W",
        "closed",
        &at(14),
        r#"{"unit":"district:bang-rak","outcome":"resolved","answer":"Fixed."}"#,
    );
    assert_eq!(post("bang-rak", close).await.0, StatusCode::CREATED);
    assert_eq!(post("intake", told(10)).await.0, StatusCode::CREATED);
    // The complaint shows the duties judged, and the inspection.
    let (_, _, v) = call_as(&api, Some("admin"), "GET", "/v1/complaints/C-W", "").await;
    assert_eq!(v["forward_status"], "met", "{v}");
    assert_eq!(v["executive_assigned"], true);
    assert_eq!(v["rounds"][0]["inform_status"], "met");
    assert_eq!(v["inspections"][0]["consistent"], false);
    // What the complainant was told may name them: hidden from units and inspectors.
    for who in ["bang-rak", "inspector"] {
        let (s, _, v) = call_as(&api, Some(who), "GET", "/v1/complaints/C-W/events", "").await;
        assert_eq!(s, StatusCode::OK, "{who}");
        let text = v.to_string();
        assert!(
            !text.contains("0812345678") && !text.contains("Somchai"),
            "{who}: {text}"
        );
    }
    let (s, _, v) = call_as(&api, Some("inspector"), "GET", "/v1/events", "").await;
    assert_eq!(s, StatusCode::OK);
    assert!(!v.to_string().contains("0812345678"), "{v}");
    let (_, _, v) = call_as(&api, Some("intake"), "GET", "/v1/complaints/C-W/events", "").await;
    assert!(v.to_string().contains("told Somchai on 0812345678"));
    // The dashboard's inspection page lists it for the office of its channel, in both languages.
    for (lang, title) in [("th", "การตรวจพื้นที่"), ("en", "Field inspection")]
    {
        let uri = format!("/dashboard/inspection?lang={lang}&office=office:governor-secretariat");
        let (s, _, body) = page(&api, "GET", &uri, None, "").await;
        assert_eq!(s, 200, "{body}");
        assert!(body.contains(title) && body.contains("id=\"inspection-months\""));
    }
    for report in ["centre", "inspections", "half-year", "directives"] {
        for lang in ["th", "en"] {
            let uri = format!("/dashboard/oversight?lang={lang}&fy=2567&report={report}");
            let (s, _, body) = page(&api, "GET", &uri, None, "").await;
            assert_eq!(s, 200, "{uri}: {body}");
            assert!(body.contains("id=\"oversight-reports\""), "{uri}");
        }
    }
    let (s, _, _) = page(&api, "GET", "/dashboard/oversight?report=gossip", None, "").await;
    assert_eq!(s, 400);
    let (s, _, _) = page(
        &api,
        "GET",
        "/dashboard/inspection?office=office:nowhere",
        None,
        "",
    )
    .await;
    assert_eq!(s, 400);
    // The selection lists: an inspector reads its own, units none, others name the office.
    let (s, _, v) = call_as(&api, Some("inspector"), "GET", "/v1/inspection-list", "").await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["office"], "office:governor-secretariat");
    assert_eq!(v["months"][0]["days"], 1, "{v}");
    let other = "/v1/inspection-list?office=office:permanent-secretary-secretariat";
    let (s, _, _) = call_as(&api, Some("inspector"), "GET", other, "").await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _, _) = call_as(&api, Some("bang-rak"), "GET", other, "").await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _, _) = call_as(&api, Some("admin"), "GET", "/v1/inspection-list", "").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, _, v) = call_as(&api, Some("intake"), "GET", other, "").await;
    assert_eq!((s, v["total"].as_u64()), (StatusCode::OK, Some(0)), "{v}");
    // An inspector token names an inspecting office.
    let store =
        event_store_sqlite::SqliteStore::open(&api._dir.path("log.db"), Durability::Full).unwrap();
    let now = chrono::DateTime::parse_from_rfc3339("2024-09-02T00:00:00Z").unwrap();
    let e =
        http_api::issue_token(&store, "inspector", Some("office:nowhere"), "x", now).unwrap_err();
    assert!(e.to_string().contains("not an inspecting office"), "{e}");
    assert!(http_api::issue_token(
        &store,
        "inspector",
        Some("office:governor-secretariat"),
        "x",
        now
    )
    .is_ok());
}

#[tokio::test]
async fn units_never_see_complainants_names_or_contacts() {
    let api = api(64 * 1024).await;
    let named = received("0190a000-0000-7000-8000-000000000101", "C-P").replace(
        r#""complainant":{"anonymous":true}"#,
        r#""complainant":{"anonymous":false,"name":"Somchai","contact":"0812345678"}"#,
    );
    assert_eq!(
        call_as(&api, Some("intake"), "POST", "/v1/events", &named)
            .await
            .0,
        StatusCode::CREATED
    );
    let fwd = event(
        "0190a000-0000-7000-8000-000000000102",
        "C-P",
        "forwarded",
        "2024-09-02T10:00:00+07:00",
        r#"{"to_unit":"district:bang-rak"}"#,
    );
    assert_eq!(
        call_as(&api, Some("intake"), "POST", "/v1/events", &fwd)
            .await
            .0,
        StatusCode::CREATED
    );
    let (_, _, unit_view) = call_as(
        &api,
        Some("bang-rak"),
        "GET",
        "/v1/complaints/C-P/events",
        "",
    )
    .await;
    let text = unit_view.to_string();
    assert!(
        !text.contains("Somchai") && !text.contains("0812345678"),
        "{text}"
    );
    assert_eq!(unit_view[0]["data"]["complainant"]["name"], "[redacted]");
    for who in ["intake", "evaluator", "admin"] {
        let (_, _, v) = call_as(&api, Some(who), "GET", "/v1/complaints/C-P/events", "").await;
        assert_eq!(
            v[0]["data"]["complainant"]["contact"], "0812345678",
            "{who}"
        );
    }
}

#[tokio::test]
async fn lists_overdue_and_indicators_read_the_live_projections() {
    let api = api(1024 * 1024).await;
    let events = std::fs::read_to_string(
        tests::workspace_root().join("replay-fixtures/spec-traffy-levels/events.ndjson"),
    )
    .unwrap();
    let batch = format!("[{}]", events.lines().collect::<Vec<_>>().join(","));
    let (s, _, v) = call(&api, "POST", "/v1/events", &batch).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");

    // Lists: by unit, by status, paged; read-your-write through the live projections.
    let (s, _, v) = call(
        &api,
        "GET",
        "/v1/complaints?unit=district:sathon&per_page=4&page=3",
        "",
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["total"], 10);
    let ids: Vec<&str> = v["complaints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["complaint_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["C-TS-09", "C-TS-10"]);
    let (_, _, v) = call(&api, "GET", "/v1/complaints?status=reopened", "").await;
    assert_eq!(v["total"], 1);
    assert_eq!(v["complaints"][0]["complaint_id"], "C-TS-08");
    let (_, _, v) = call(
        &api,
        "GET",
        "/v1/complaints?unit=district:dusit&overdue=true",
        "",
    )
    .await;
    assert_eq!(
        v["total"], 2,
        "dusit's two open complaints are long overdue: {v}"
    );
    let (s, _, _) = call(&api, "GET", "/v1/complaints?status=lost", "").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, _, _) = call(&api, "GET", "/v1/complaints?per_page=100000", "").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);

    // A unit sees its own list only.
    let (_, _, v) = call_as(&api, Some("bang-rak"), "GET", "/v1/complaints", "").await;
    assert_eq!(v["total"], 5);
    let (s, _, _) = call_as(
        &api,
        Some("bang-rak"),
        "GET",
        "/v1/complaints?unit=district:sathon",
        "",
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    // Overdue now, and as of a past instant (before the reopen of C-TS-08).
    let (_, _, v) = call(&api, "GET", "/v1/overdue?unit=district:sathon", "").await;
    assert!(v["total"].as_u64().unwrap() > 0, "{v}");
    let (_, _, v) = call(
        &api,
        "GET",
        "/v1/overdue?unit=district:sathon&as_of=2024-02-10T12:00:00%2B07:00",
        "",
    )
    .await;
    assert_eq!(v["total"], 0, "nothing was overdue yet on 10 February: {v}");

    // Indicators, with the unit scope of a unit token.
    let (s, _, v) = call(
        &api,
        "GET",
        "/v1/indicators?fiscal_year=2567&spec=traffy-resolution-2567",
        "",
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["overall"]["level"], 3);
    let (_, _, v) = call_as(
        &api,
        Some("bang-rak"),
        "GET",
        "/v1/indicators?fiscal_year=2567&spec=traffy-resolution-2567",
        "",
    )
    .await;
    let units: Vec<&str> = v["units"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["unit"].as_str().unwrap())
        .collect();
    assert_eq!(units, ["district:bang-rak"]);
    let (s, _, _) = call(&api, "GET", "/v1/indicators?fiscal_year=2567&spec=nope", "").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);

    // Read-your-write: a close is in the next list.
    let close = event(
        "0190a000-0000-7000-8000-000000000301",
        "C-TS-09",
        "closed",
        "2024-03-01T10:00:00+07:00",
        r#"{"unit":"district:sathon","outcome":"resolved","answer":"Fixed."}"#,
    );
    assert_eq!(
        call(&api, "POST", "/v1/events", &close).await.0,
        StatusCode::CREATED
    );
    let (_, _, v) = call(
        &api,
        "GET",
        "/v1/complaints?unit=district:sathon&status=closed",
        "",
    )
    .await;
    assert_eq!(v["total"], 8, "{v}");
    // The fold kept for the year's end catches up too: sathon now has 8 resolved of 10.
    let (_, _, v) = call(
        &api,
        "GET",
        "/v1/indicators?fiscal_year=2567&spec=traffy-resolution-2567&unit=district:sathon",
        "",
    )
    .await;
    assert_eq!(v["units"][0]["steps"][0]["correct"], 8, "{v}");
    assert_eq!(v["log_head_position"], 84);
}

#[tokio::test]
async fn the_openapi_document_lists_exactly_the_routes() {
    let doc: serde_json::Value = serde_json::from_str(http_api::OPENAPI).unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    let mut documented: Vec<(String, String)> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, ops)| {
            ops.as_object()
                .unwrap()
                .keys()
                .map(move |m| (m.clone(), path.clone()))
        })
        .collect();
    documented.sort();
    let mut routes: Vec<(String, String)> = http_api::ROUTES
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    routes.sort();
    assert_eq!(
        documented, routes,
        "schemas/openapi.json and the router disagree"
    );
    // Every listed route exists in the router: none answers 404 or 405.
    let api = api(64 * 1024).await;
    for (method, path) in http_api::ROUTES {
        if path.ends_with("/stream") || path.ends_with("/live") {
            continue; // an endless stream; covered by the server test
        }
        let uri = path
            .replace("{id}", "C-404")
            .replace("{unit}", "C-404")
            .replace("requests/{file}", "requests/C-404.json")
            .replace("{file}", "services.json");
        let (s, _, _) = call(&api, &method.to_uppercase(), &uri, "{}").await;
        assert!(
            s != StatusCode::METHOD_NOT_ALLOWED
                && (s != StatusCode::NOT_FOUND || uri.contains("C-404")),
            "{method} {uri}: {s}"
        );
    }
    let (s, ctype, v) = call_as(&api, None, "GET", "/openapi.json", "").await;
    assert_eq!((s, ctype.as_str()), (StatusCode::OK, "application/json"));
    assert_eq!(v["info"]["title"], "Rongtook API");
    // The router alone, without a socket (`oneshot`), answers the same.
    let req = Request::builder()
        .uri("/openapi.json")
        .body(Body::empty())
        .unwrap();
    let res = http_api::app(api.state.clone()).oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}

/// Where the PyPI client `georeport` is installed for the tests (under the target directory).
fn python_with_georeport() -> Option<std::path::PathBuf> {
    tests::pip_package("pydeps", "georeport", "georeport==0.3.1")
}

#[test]
fn an_unchanged_open311_client_reads_the_georeport_endpoints() {
    let srv = Server::start("open311");
    let (addr, tokens) = (srv.addr, srv.tokens.clone());
    let post = |path: &str, ctype: &str, body: &str| {
        raw_http(
            addr,
            &format!(
                "POST {path} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                tokens["admin"],
                body.len()
            ),
        )
    };
    // A citizen's submission through Open311, with an intake API key in the form.
    let form = format!(
        "api_key={}&service_code=road&lat=13.72&long=100.52&address_string=Silom+Rd&description=Pothole+in+front+of+the+school&first_name=Somchai&phone=0812345678",
        tokens["intake"]
    );
    let answer = post(
        "/open311/v2/requests.json",
        "application/x-www-form-urlencoded",
        &form,
    );
    assert!(answer.starts_with("HTTP/1.1 201"), "{answer}");
    let open_id = answer
        .split("\"service_request_id\":\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    // A unit's key may not submit; a bad service code is refused.
    let bad = post(
        "/open311/v2/requests.json",
        "application/x-www-form-urlencoded",
        &format!("api_key={}&service_code=road", tokens["bang-rak"]),
    );
    assert!(bad.starts_with("HTTP/1.1 403"), "{bad}");
    let bad = post(
        "/open311/v2/requests.json",
        "application/x-www-form-urlencoded",
        &format!("api_key={}&service_code=dragons", tokens["intake"]),
    );
    assert!(bad.starts_with("HTTP/1.1 400"), "{bad}");
    // A complaint received, forwarded, acknowledged and closed through the API.
    let named = received("0190a000-0000-7000-8000-000000000401", "C-O311").replace(
        r#""complainant":{"anonymous":true}"#,
        r#""complainant":{"anonymous":false,"name":"Somchai","contact":"0812345678"}"#,
    );
    let batch = format!(
        "[{named},{},{},{}]",
        event(
            "0190a000-0000-7000-8000-000000000402",
            "C-O311",
            "forwarded",
            "2024-09-02T10:00:00+07:00",
            r#"{"to_unit":"district:bang-rak"}"#
        ),
        event(
            "0190a000-0000-7000-8000-000000000403",
            "C-O311",
            "acknowledged",
            "2024-09-02T11:00:00+07:00",
            r#"{"unit":"district:bang-rak"}"#
        ),
        event(
            "0190a000-0000-7000-8000-000000000404",
            "C-O311",
            "closed",
            "2024-09-03T11:00:00+07:00",
            r#"{"unit":"district:bang-rak","outcome":"resolved","answer":"The road was repaired."}"#
        )
    );
    assert!(post("/v1/events", "application/json", &batch).starts_with("HTTP/1.1 201"));
    // The submission happened now; ask the client for a window that holds both.
    let open_in_window = {
        let fwd = event(
            "0190a000-0000-7000-8000-000000000405",
            &open_id,
            "forwarded",
            &event_model::format_instant(&chrono::Utc::now().fixed_offset()),
            r#"{"to_unit":"district:bang-rak"}"#,
        );
        post("/v1/events", "application/json", &fwd)
    };
    assert!(
        open_in_window.starts_with("HTTP/1.1 201"),
        "{open_in_window}"
    );
    let xml = raw_http(addr, &format!("GET /open311/v2/requests/{open_id}.xml HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"));
    assert!(
        xml.contains("<service_requests><request><service_request_id>") && xml.contains("text/xml"),
        "{xml}"
    );

    let python = python_with_georeport();
    let result = python.map(|pythonpath| {
        // The client's default window is the last 90 days; the script passes explicit dates
        // for the complaint of 2024 and looks the submission up by id.
        std::process::Command::new("python3")
            .arg(tests::workspace_root().join("tests/open311/georeport_client.py"))
            .arg(format!("http://{addr}/open311/v2"))
            .arg("C-O311")
            .arg(&open_id)
            .env("PYTHONPATH", pythonpath)
            .output()
            .unwrap()
    });
    srv.stop();
    let out =
        result.expect("python3 with the PyPI package georeport (pip install georeport==0.3.1)");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{text}");
    assert!(text.contains("passed, 0 failed"), "{text}");
}

/// One dashboard request over a real connection, with an optional cookie and form body;
/// returns the status, the raw head and the body text.
async fn page(
    api: &Api,
    method: &str,
    uri: &str,
    cookie: Option<&str>,
    form: &str,
) -> (u16, String, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let cookie = cookie
        .map(|c| format!("Cookie: {c}\r\n"))
        .unwrap_or_default();
    let request = format!(
        "{method} {uri} HTTP/1.1\r\nHost: localhost\r\n{cookie}Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{form}",
        form.len()
    );
    let mut conn = tokio::net::TcpStream::connect(api.addr).await.unwrap();
    conn.write_all(request.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    conn.read_to_end(&mut raw).await.unwrap();
    let text = String::from_utf8_lossy(&raw).to_string();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    (status, head.to_string(), body.to_string())
}

/// Appends the named complaint C-P (forwarded to bang-rak) of the redaction test.
async fn named_complaint(api: &Api) {
    let named = received("0190a000-0000-7000-8000-000000000201", "C-P").replace(
        r#""complainant":{"anonymous":true}"#,
        r#""complainant":{"anonymous":false,"name":"Somchai","contact":"0812345678"}"#,
    );
    let fwd = event(
        "0190a000-0000-7000-8000-000000000202",
        "C-P",
        "forwarded",
        "2024-09-02T10:00:00+07:00",
        r#"{"to_unit":"district:bang-rak"}"#,
    );
    for e in [named, fwd] {
        let (s, _, v) = call_as(api, Some("intake"), "POST", "/v1/events", &e).await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
    }
}

#[tokio::test]
async fn the_dashboard_pages_render_in_thai_and_english() {
    let api = api(64 * 1024).await;
    named_complaint(&api).await;
    // Thai by default, Buddhist-era year; English on request.
    let (s, _, th) = page(&api, "GET", "/dashboard?fy=2567", None, "").await;
    assert_eq!(s, 200, "{th}");
    assert!(
        th.contains("<html lang=\"th\">") && th.contains("ปีงบประมาณ 2567"),
        "{th}"
    );
    assert!(
        th.contains("<svg class=\"chart\""),
        "the monthly chart is server-drawn SVG"
    );
    assert!(
        th.contains("id=\"received\"><div class=\"v\">1</div>"),
        "{th}"
    );
    let (s, _, en) = page(&api, "GET", "/dashboard?fy=2567&lang=en", None, "").await;
    assert_eq!(s, 200);
    assert!(
        en.contains("<html lang=\"en\">") && en.contains("FY 2024"),
        "{en}"
    );
    // Without fy: the year of the newest complaint (received 2 Sep 2024: FY 2567).
    let (_, _, default) = page(&api, "GET", "/dashboard?lang=en", None, "").await;
    assert!(default.contains("FY 2024"), "{default}");
    // The league table lists the 50 district offices and flags small counts.
    let (s, _, league) = page(
        &api,
        "GET",
        "/dashboard/league?fy=2567&lang=en&spec=bma-timeliness&sort=unit",
        None,
        "",
    )
    .await;
    assert_eq!(s, 200, "{league}");
    assert_eq!(
        league.matches("<tr data-unit=\"district:").count(),
        50,
        "{league}"
    );
    assert!(league.contains("class=\"flag\""));
    // A unit: its backlog holds the forwarded complaint.
    let (s, _, unit) = page(
        &api,
        "GET",
        "/dashboard/units/district:bang-rak?fy=2567&lang=en",
        None,
        "",
    )
    .await;
    assert_eq!(s, 200, "{unit}");
    assert!(unit.contains("Bang Rak") && unit.contains("C-P"), "{unit}");
    // A complaint: rounds, a timeline of both events, the hash chain checked.
    let (s, _, c) = page(&api, "GET", "/dashboard/complaints/C-P?lang=en", None, "").await;
    assert_eq!(s, 200, "{c}");
    assert_eq!(c.matches("<li data-position=").count(), 2, "{c}");
    assert!(c.contains("id=\"chain\" class=\"good\""), "{c}");
    // The overdue list as of an instant, filtered by kind.
    let (s, _, o) = page(
        &api,
        "GET",
        "/dashboard/overdue?lang=en&as_of=2024-09-20T12:00:00%2B07:00&kind=ack_overdue",
        None,
        "",
    )
    .await;
    assert_eq!(s, 200, "{o}");
    assert!(
        o.contains("C-P") && o.contains("not acknowledged (R1)"),
        "{o}"
    );
    // Bad input: a clear page with the status.
    let (s, _, bad) = page(&api, "GET", "/dashboard?fy=abc&lang=en", None, "").await;
    assert_eq!(s, 400);
    assert!(
        bad.contains("role=\"alert\"") && bad.contains("fy:"),
        "{bad}"
    );
    let (s, _, _) = page(&api, "GET", "/dashboard/complaints/C-NONE", None, "").await;
    assert_eq!(s, 404);
    let (s, _, _) = page(&api, "GET", "/dashboard/overdue?kind=late", None, "").await;
    assert_eq!(s, 400);
    let (s, head, _) = page(&api, "GET", "/", None, "").await;
    assert_eq!(s, 303, "{head}");
}

#[tokio::test]
async fn the_dashboard_shows_contacts_only_to_roles_that_may_see_them() {
    let api = api(64 * 1024).await;
    named_complaint(&api).await;
    let uri = "/dashboard/complaints/C-P?lang=en";
    let (_, _, public) = page(&api, "GET", uri, None, "").await;
    assert!(
        !public.contains("0812345678") && !public.contains("Somchai"),
        "{public}"
    );
    assert!(public.contains("[redacted]") && public.contains("personal data hidden"));
    // The hash chain is checked on the stored content, before redaction.
    assert!(public.contains("id=\"chain\" class=\"good\""), "{public}");
    // A wrong token is refused on the form; a good one sets an HTTP-only cookie.
    let (s, _, form) = page(&api, "POST", "/dashboard/login", None, "token=nope&lang=en").await;
    assert_eq!(s, 401);
    assert!(form.contains("Unknown or revoked token"), "{form}");
    for (who, sees) in [
        ("bang-rak", false),
        ("intake", true),
        ("evaluator", true),
        ("admin", true),
    ] {
        let token = api.tokens[who].clone();
        let (s, head, _) = page(
            &api,
            "POST",
            "/dashboard/login",
            None,
            &format!("token={token}"),
        )
        .await;
        assert_eq!(s, 303, "{head}");
        assert!(
            head.contains(&format!(
                "set-cookie: rongtook_token={token}; Path=/; HttpOnly; SameSite=Strict"
            )),
            "{head}"
        );
        let cookie = format!("rongtook_token={token}");
        let (_, _, p) = page(&api, "GET", uri, Some(&cookie), "").await;
        assert_eq!(p.contains("0812345678"), sees, "{who}: {p}");
        assert!(p.contains("Signed in as"), "{who}");
    }
    // Signing out clears the cookie.
    let (s, head, _) = page(&api, "POST", "/dashboard/logout", None, "").await;
    assert_eq!(s, 303);
    assert!(head.contains("Max-Age=0"), "{head}");
}

#[tokio::test]
async fn the_dashboard_live_feed_announces_each_commit() {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt};
    let api = api(64 * 1024).await;
    let mut conn = tokio::net::TcpStream::connect(api.addr).await.unwrap();
    conn.write_all(b"GET /dashboard/live HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();
    let mut lines = tokio::io::BufReader::new(conn).lines();
    let mut next_data = async || loop {
        let line = tokio::time::timeout(std::time::Duration::from_secs(10), lines.next_line())
            .await
            .expect("a head message in time")
            .unwrap()
            .unwrap();
        if let Some(d) = line.strip_prefix("data: ") {
            return d.to_string();
        }
    };
    assert_eq!(next_data().await, "0");
    named_complaint(&api).await;
    let mut seen = next_data().await;
    if seen == "1" {
        seen = next_data().await;
    }
    assert_eq!(seen, "2");
}

#[tokio::test]
async fn the_next_dashboard_page_after_an_append_shows_the_event() {
    let api = api(64 * 1024).await;
    named_complaint(&api).await;
    let uri = "/dashboard?fy=2567&lang=en";
    let received_card = |n: u32| format!("id=\"received\"><div class=\"v\">{n}</div>");
    let (_, _, first) = page(&api, "GET", uri, None, "").await;
    assert!(
        first.contains(&received_card(1)) && first.contains("data-head=\"2\""),
        "{first}"
    );
    let (s, _, v) = call_as(
        &api,
        Some("intake"),
        "POST",
        "/v1/events",
        &received("0190a000-0000-7000-8000-000000000301", "C-Q"),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    // The year's figures are brought up to the event before the page is drawn.
    let (_, _, next) = page(&api, "GET", uri, None, "").await;
    assert!(
        next.contains(&received_card(2)) && next.contains("data-head=\"3\""),
        "{next}"
    );
    // Every page of the year shares them.
    let (_, _, league) = page(&api, "GET", "/dashboard/league?fy=2567&units=", None, "").await;
    assert!(league.contains("data-head=\"3\""), "{league}");
}

/// Values of an enum in the document, by a JSON pointer to its schema (a trailing "" for
/// forms' empty value is left out).
fn doc_enum(doc: &serde_json::Value, pointer: &str) -> Vec<String> {
    doc.pointer(pointer)
        .and_then(|v| v["enum"].as_array())
        .unwrap_or_else(|| panic!("no enum at {pointer}"))
        .iter()
        .filter_map(|v| v.as_str())
        .filter(|v| !v.is_empty())
        .map(String::from)
        .collect()
}

/// The schema of a query parameter of an operation.
fn param_pointer(doc: &serde_json::Value, path: &str, name: &str) -> String {
    let params = doc["paths"][path]["get"]["parameters"].as_array().unwrap();
    let i = params.iter().position(|p| p["name"] == name).unwrap();
    format!(
        "/paths/{}/get/parameters/{i}/schema",
        path.replace('~', "~0").replace('/', "~1")
    )
}

#[test]
fn the_openapi_document_states_the_rust_enums_and_event_schemas() {
    let doc: serde_json::Value = serde_json::from_str(http_api::OPENAPI).unwrap();
    let strs = |v: Vec<&str>| v.into_iter().map(String::from).collect::<Vec<_>>();
    let statuses = strs(
        lifecycle::Status::LISTED
            .iter()
            .map(|s| s.as_str())
            .collect(),
    );
    assert_eq!(
        doc_enum(&doc, &param_pointer(&doc, "/v1/complaints", "status")),
        statuses
    );
    assert_eq!(
        doc_enum(&doc, &param_pointer(&doc, "/dashboard/map", "state")),
        statuses
    );
    let kinds = strs(
        projections::ObligationKind::ALL
            .iter()
            .map(|k| k.as_str())
            .collect(),
    );
    assert_eq!(
        doc_enum(&doc, &param_pointer(&doc, "/dashboard/overdue", "kind")),
        kinds
    );
    let specs = strs(indicators::BUILTIN.iter().map(|(id, _)| *id).collect());
    assert_eq!(
        doc_enum(&doc, &param_pointer(&doc, "/v1/indicators", "spec")),
        specs
    );
    assert_eq!(
        doc_enum(&doc, &param_pointer(&doc, "/dashboard/league", "spec")),
        specs
    );
    let sorts = strs(
        reports::LeagueSort::ALL
            .iter()
            .map(|s| s.as_str())
            .collect(),
    );
    assert_eq!(
        doc_enum(&doc, &param_pointer(&doc, "/dashboard/league", "sort")),
        sorts
    );
    let codes = strs(event_model::categories::CODES.to_vec());
    let form = "/paths/~1open311~1v2~1requests.json/post/requestBody/content/application~1x-www-form-urlencoded/schema/properties/service_code";
    assert_eq!(doc_enum(&doc, form), codes);
    // Each event type's payload is its generated schema, its `$defs` among the components.
    let schemas = &doc["components"]["schemas"];
    for (name, body) in event_model::schema::all_schemas() {
        let Some(ty) = name.strip_suffix(".schema.json") else {
            continue;
        };
        let Some(t) = event_model::EventType::parse(ty) else {
            continue;
        };
        let mut generated: serde_json::Value = serde_json::from_str(&body).unwrap();
        let defs = generated
            .as_object_mut()
            .unwrap()
            .remove("$defs")
            .unwrap_or_default();
        generated.as_object_mut().unwrap().remove("$schema");
        let hoist = |v: &serde_json::Value| {
            serde_json::from_str::<serde_json::Value>(
                &v.to_string().replace("#/$defs/", "#/components/schemas/"),
            )
            .unwrap()
        };
        let component: String = t
            .as_str()
            .split('_')
            .map(|w| w[..1].to_uppercase() + &w[1..])
            .collect();
        assert_eq!(schemas[&component], hoist(&generated), "{component}");
        for (k, v) in defs.as_object().into_iter().flatten() {
            assert_eq!(&schemas[k], &hoist(v), "{k}");
        }
        let variant = schemas["Event"]["oneOf"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["properties"]["type"]["const"] == t.as_str())
            .unwrap_or_else(|| panic!("no Event variant for {ty}"));
        assert_eq!(
            variant["properties"]["data"]["$ref"],
            format!("#/components/schemas/{component}")
        );
    }
}

/// The body of an HTTP answer (after the blank line).
fn body_of(answer: &str) -> &str {
    answer.split_once("\r\n\r\n").map_or("", |(_, b)| b)
}

#[test]
fn metrics_parse_with_a_real_prometheus_parser_and_count_what_happened() {
    let srv = Server::start("metrics");
    let (addr, admin) = (srv.addr, srv.tokens["admin"].clone());
    let post = |body: &str| {
        raw_http(
            addr,
            &format!(
                "POST /v1/events HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {admin}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            ),
        )
    };
    let one = received("0190a000-0000-7000-8000-000000000701", "C-M1");
    let two = format!(
        "[{},{}]",
        received("0190a000-0000-7000-8000-000000000702", "C-M2"),
        received("0190a000-0000-7000-8000-000000000703", "C-M3")
    );
    assert!(post(&one).starts_with("HTTP/1.1 201"));
    assert!(post(&two).starts_with("HTTP/1.1 201"));
    let answer = raw_http(
        addr,
        "GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
    );
    srv.stop();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        answer
            .to_lowercase()
            .contains("content-type: text/plain; version=0.0.4"),
        "{answer}"
    );
    let python = tests::pip_package("prom", "prometheus_client", "prometheus-client==0.21.1")
        .expect("python3 with the PyPI package prometheus-client (pip install prometheus-client)");
    let mut child = std::process::Command::new("python3")
        .args([
            "-c",
            "import sys, json\n\
             from prometheus_client.parser import text_string_to_metric_families as parse\n\
             out = {}\n\
             for f in parse(sys.stdin.read()):\n\
             \x20   for s in f.samples:\n\
             \x20       key = s.name + ''.join('|%s=%s' % kv for kv in sorted(s.labels.items()))\n\
             \x20       out[key] = s.value\n\
             print(json.dumps(out))",
        ])
        .env("PYTHONPATH", python)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(body_of(&answer).as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let samples: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let value = |key: &str| {
        samples[key]
            .as_f64()
            .unwrap_or_else(|| panic!("no {key}: {samples}"))
    };
    assert_eq!(value("rongtook_appends_total"), 2.0);
    assert_eq!(value("rongtook_events_total"), 3.0);
    assert_eq!(value("rongtook_events_per_commit_sum"), 3.0);
    assert!(value("rongtook_commit_seconds_count") >= 1.0);
    assert_eq!(
        value("rongtook_http_requests_total|route=/v1/events|status=201"),
        2.0
    );
    assert_eq!(value("rongtook_projection_lag_positions"), 0.0);
    assert_eq!(value("rongtook_sse_subscribers"), 0.0);
}

/// The Traffy Fondue webhooks under a `connector` token: a new ticket, status changes,
/// redelivery adding nothing, chats recorded as nothing, and clear refusals.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn traffy_webhooks_append_the_ticket_lifecycle() {
    let api = api(http_api::DEFAULT_MAX_BODY_BYTES).await;
    let hook = "/v1/connectors/traffy/webhook";
    let new = r#"{"timestamp":"2026-08-27 08:15:33.416627","ticket_id":"2026-WH0001","description":"หลุมบนถนน","type_id":3,"type":"ถนน","photo":[],"latitude":"13.72","longitude":"100.52","address":"ถนนสีลม แขวงสีลม เขตบางรัก กรุงเทพมหานคร","orgs":[{"org_id":11,"org":"เขตบางรัก"}]}"#;
    let (s, _, v) = call_as(&api, Some("connector"), "POST", hook, new).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["appended"], 2);
    // Redelivered: nothing new.
    let (s, _, v) = call_as(&api, Some("connector"), "POST", hook, new).await;
    assert_eq!(
        (s, v["appended"].as_u64()),
        (StatusCode::OK, Some(0)),
        "{v}"
    );
    let taken = r#"{"timestamp":"2026-08-27 09:00:00","ticket_id":"2026-WH0001","org":"เขตบางรัก","status":"กำลังดำเนินการ","note":null,"photo":[]}"#;
    let (s, _, v) = call_as(&api, Some("connector"), "PATCH", hook, taken).await;
    assert_eq!(
        (s, v["appended"].as_u64()),
        (StatusCode::CREATED, Some(1)),
        "{v}"
    );
    let (s, _, v) = call_as(&api, Some("connector"), "PATCH", hook, taken).await;
    assert_eq!(
        (s, v["appended"].as_u64()),
        (StatusCode::OK, Some(0)),
        "{v}"
    );
    let done = r#"{"timestamp":"2026-08-28 11:00:00","ticket_id":"2026-WH0001","org":"เขตบางรัก","status":"เสร็จสิ้น","note":"ซ่อมแล้ว","photo":[]}"#;
    let (s, _, v) = call_as(&api, Some("connector"), "PATCH", hook, done).await;
    assert_eq!(
        (s, v["appended"].as_u64()),
        (StatusCode::CREATED, Some(1)),
        "{v}"
    );
    let (s, _, c) = call(&api, "GET", "/v1/complaints/traffy:2026-WH0001", "").await;
    assert_eq!(s, StatusCode::OK, "{c}");
    assert_eq!(c["status"], "closed");
    assert_eq!(c["unit"], "district:bang-rak");
    assert_eq!(
        c["rounds"][0]["acknowledged_at"],
        "2026-08-27T09:00:00+07:00"
    );
    assert_eq!(c["rounds"][0]["closed_at"], "2026-08-28T11:00:00+07:00");
    // A chat is taken and records nothing.
    let chat = r#"{"event":"chat","message_comment_id":1,"message_id":2,"ticket_id":"2026-WH0001","comment":"hi","timestamp":"2026-08-28 12:00:00","sender_org_id":null,"sender_org":null}"#;
    let (s, _, v) = call_as(&api, Some("connector"), "POST", hook, chat).await;
    assert_eq!(
        (s, v["appended"].as_u64()),
        (StatusCode::OK, Some(0)),
        "{v}"
    );
    // A status change of a ticket the log does not hold, or with no time: 422.
    let unknown = taken.replace("2026-WH0001", "2026-NOPE00");
    let (s, _, v) = call_as(&api, Some("connector"), "PATCH", hook, &unknown).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(
        v["detail"].as_str().unwrap().contains("not in the log"),
        "{v}"
    );
    let (s, _, _) = call_as(&api, Some("connector"), "POST", hook, "[1]").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    // Only a connector (or an admin) delivers webhooks, and a connector appends only there
    // and only Traffy streams.
    let (s, _, v) = call_as(&api, Some("intake"), "POST", hook, new).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    let (s, _, v) = call_as(
        &api,
        Some("connector"),
        "POST",
        "/v1/events",
        &received("0190a000-0000-7000-8000-0000000000c1", "C-99"),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
}

/// The value of a hidden field of a page's first form.
fn hidden_field<'a>(html: &'a str, name: &str) -> &'a str {
    let at = html
        .find(&format!("name=\"{name}\" value=\""))
        .unwrap_or_else(|| panic!("no `{name}` in {html}"));
    let rest = &html[at + name.len() + 15..];
    &rest[..rest.find('"').unwrap()]
}

#[tokio::test]
async fn worklists_record_through_the_append_path_with_forms_protected_against_forgery() {
    let api = api(64 * 1024).await;
    let post = |who: &'static str, body: String| {
        let api = &api;
        async move { call_as(api, Some(who), "POST", "/v1/events", &body).await }
    };
    let named = received("0190a000-0000-7000-a000-000000000001", "C-WL").replace(
        r#""complainant":{"anonymous":true}"#,
        r#""complainant":{"anonymous":false,"name":"Somchai","contact":"0812345678","wants_update":true}"#,
    );
    assert_eq!(post("intake", named).await.0, StatusCode::CREATED);
    let cookie = |who: &str| format!("rongtook_token={}", api.tokens[who]);
    // Not signed in: to the sign-in page; a form without a session: 401.
    let (s, head, _) = page(&api, "GET", "/dashboard/worklist?lang=en", None, "").await;
    assert_eq!(s, 303);
    assert!(
        head.contains("location: /dashboard/login?lang=en"),
        "{head}"
    );
    let (s, _, _) = page(
        &api,
        "POST",
        "/dashboard/worklist",
        None,
        "csrf=x&kind=forward&stream=C-WL",
    )
    .await;
    assert_eq!(s, 401);
    // The centre sees the complaint to forward, and forwards it from the form.
    let (s, _, html) = page(
        &api,
        "GET",
        "/dashboard/worklist?lang=en",
        Some(&cookie("intake")),
        "",
    )
    .await;
    assert_eq!(s, 200);
    assert!(
        html.contains("data-task=\"forward\"") && html.contains("C-WL"),
        "{html}"
    );
    let csrf = hidden_field(&html, "csrf").to_string();
    // Without the page's token: refused, nothing recorded.
    let forged = "csrf=forged&lang=en&kind=forward&stream=C-WL&to_unit=district%3Abang-rak";
    let (s, _, html) = page(
        &api,
        "POST",
        "/dashboard/worklist",
        Some(&cookie("intake")),
        forged,
    )
    .await;
    assert_eq!(s, 403);
    assert!(html.contains("anti-forgery"), "{html}");
    let (_, _, v) = call_as(&api, Some("admin"), "GET", "/v1/complaints/C-WL", "").await;
    assert_eq!(v["status"], "received");
    let form = format!("csrf={csrf}&lang=en&kind=forward&stream=C-WL&to_unit=district%3Abang-rak");
    let (s, head, _) = page(
        &api,
        "POST",
        "/dashboard/worklist",
        Some(&cookie("intake")),
        &form,
    )
    .await;
    assert_eq!(s, 303, "{head}");
    assert!(head.contains("done=forwarded"), "{head}");
    let (_, _, v) = call_as(&api, Some("admin"), "GET", "/v1/complaints/C-WL/events", "").await;
    assert!(v[1]["actor"].as_str().unwrap().ends_with(":intake"), "{v}");
    // The same forward again: the lifecycle refuses it, shown in the page's language.
    let again = form.replace("lang=en", "lang=th");
    let (s, _, html) = page(
        &api,
        "POST",
        "/dashboard/worklist",
        Some(&cookie("intake")),
        &again,
    )
    .await;
    assert_eq!(s, 422);
    assert!(
        html.contains("ไม่ได้บันทึก") && html.contains("already assigned"),
        "{html}"
    );
    // A form the role may not send: 403, the problem shown.
    let (_, _, unit_page) = page(
        &api,
        "GET",
        "/dashboard/worklist?lang=en",
        Some(&cookie("bang-rak")),
        "",
    )
    .await;
    assert!(
        unit_page.contains("data-task=\"acknowledge\""),
        "{unit_page}"
    );
    let unit_csrf = hidden_field(&unit_page, "csrf").to_string();
    let chase = format!(
        "csrf={unit_csrf}&lang=en&kind=chase&stream=C-WL&unit=district%3Abang-rak&obligation=ack"
    );
    let (s, _, html) = page(
        &api,
        "POST",
        "/dashboard/worklist",
        Some(&cookie("bang-rak")),
        &chase,
    )
    .await;
    assert_eq!(s, 403, "{html}");
    // The unit acknowledges, reports, closes; the centre tells the complainant.
    for body in [
        "kind=acknowledge&stream=C-WL".to_string(),
        "kind=progress&stream=C-WL&note=team+sent".to_string(),
        "kind=close&stream=C-WL&outcome=resolved&answer=fixed".to_string(),
    ] {
        let form = format!("csrf={unit_csrf}&lang=en&{body}");
        let (s, head, html) = page(
            &api,
            "POST",
            "/dashboard/worklist",
            Some(&cookie("bang-rak")),
            &form,
        )
        .await;
        assert_eq!(s, 303, "{body}: {head}{html}");
    }
    let (_, _, html) = page(
        &api,
        "GET",
        "/dashboard/worklist?lang=en",
        Some(&cookie("intake")),
        "",
    )
    .await;
    assert!(html.contains("data-task=\"inform\""), "{html}");
    let inform = format!("csrf={csrf}&lang=en&kind=inform&stream=C-WL&method=phone&note=told");
    let (s, _, _) = page(
        &api,
        "POST",
        "/dashboard/worklist",
        Some(&cookie("intake")),
        &inform,
    )
    .await;
    assert_eq!(s, 303);
    let (_, _, v) = call_as(&api, Some("admin"), "GET", "/v1/complaints/C-WL", "").await;
    assert_eq!(v["rounds"][0]["inform_status"], "met", "{v}");
    // An inspector records a field inspection for its own office only.
    let (_, _, insp) = page(
        &api,
        "GET",
        "/dashboard/worklist?lang=en",
        Some(&cookie("inspector")),
        "",
    )
    .await;
    let insp_csrf = hidden_field(&insp, "csrf").to_string();
    assert_ne!(insp_csrf, csrf, "each session has its own token");
    let form = format!(
        "csrf={insp_csrf}&lang=en&kind=inspect&stream=C-WL&consistent=false&note=still+broken"
    );
    let (s, _, _) = page(
        &api,
        "POST",
        "/dashboard/worklist",
        Some(&cookie("inspector")),
        &form,
    )
    .await;
    assert_eq!(s, 303);
    let (_, _, v) = call_as(&api, Some("admin"), "GET", "/v1/complaints/C-WL", "").await;
    assert_eq!(
        v["inspections"][0]["office"], "office:governor-secretariat",
        "{v}"
    );
}
