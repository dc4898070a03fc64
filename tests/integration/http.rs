//! The HTTP API: every endpoint and error class through the router (`oneshot`, no socket),
//! and the real server on a loopback port with a graceful shutdown.

use std::io::{Read, Write};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use event_store::Durability;
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

struct Api {
    _dir: Scratch,
    state: http_api::AppState,
}

fn api(max_body: usize) -> Api {
    let dir = Scratch::new("http");
    let db = dir.path("log.db");
    let (writer, _thread) = http_api::Writer::start(&db, Durability::Full).unwrap();
    let state = http_api::AppState::new(
        db,
        writer,
        calendar::Calendar::builtin(),
        Default::default(),
    )
    .with_max_body_bytes(max_body);
    Api { _dir: dir, state }
}

async fn call(
    api: &Api,
    method: &str,
    uri: &str,
    body: &str,
) -> (StatusCode, String, serde_json::Value) {
    let req = Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    let res = http_api::app(api.state.clone()).oneshot(req).await.unwrap();
    let status = res.status();
    let ctype = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let bytes = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .unwrap();
    let json = serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
    (status, ctype, json)
}

const A: &str = "0190a000-0000-7000-8000-0000000000a1";
const B: &str = "0190a000-0000-7000-8000-0000000000b2";
const C: &str = "0190a000-0000-7000-8000-0000000000c3";

#[tokio::test]
async fn appends_answer_with_positions_and_errors_as_problems() {
    let api = api(64 * 1024);
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

    // 413 over the size limit.
    let big = format!("[{}]", vec![received(A, "C-1"); 400].join(","));
    let (s, _, _) = call(&api, "POST", "/v1/events", &big).await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE);

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
    let dir = Scratch::new("server");
    let db = dir.path("log.db");
    let (writer, writer_thread) = http_api::Writer::start(&db, Durability::Full).unwrap();
    let state = http_api::AppState::new(
        db.clone(),
        writer,
        calendar::Calendar::builtin(),
        Default::default(),
    );
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
    let body = received(A, "C-9");
    let answer = raw_http(
        addr,
        &format!(
            "POST /v1/events HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ),
    );
    assert!(answer.starts_with("HTTP/1.1 201"), "{answer}");
    let health = raw_http(
        addr,
        "GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
    );
    assert!(health.contains("\"head_position\":1"), "{health}");
    stop.send(()).unwrap();
    rt.block_on(server).unwrap().unwrap();
    drop(rt);
    writer_thread.join().unwrap();
    // What was acknowledged is on disk.
    let store = event_store::SqliteStore::open(&db, Durability::Full).unwrap();
    assert_eq!(event_store::EventStore::head(&store).unwrap().position, 1);
}
