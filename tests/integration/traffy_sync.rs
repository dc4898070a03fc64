//! `rongtook traffy sync` against a local HTTP server that answers as the platform's exchange
//! API documents: log-in answers with `results` as an object or a list, times without an
//! offset, an expired token, the quota warning and the quota running out.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, FixedOffset};
use serde_json::{json, Value};

use crate::common::{ok, rongtook, s};
use tests::Scratch;

/// What the fake platform holds and how it behaves.
#[derive(Default)]
struct Platform {
    /// Tokens handed out: token -> calls it may still make.
    tokens: BTreeMap<String, usize>,
    /// Calls a new token may make before it expires (none: unlimited).
    token_life: Option<usize>,
    logins: usize,
    /// Tickets as `get-issue/v2` gives them.
    tickets: BTreeMap<String, Value>,
    /// `get-issue/v2` calls made, by ticket.
    reads: Vec<String>,
    /// Answer every call with this warning (`status: warning`).
    warning: Option<String>,
    /// `get-issue/v2` calls left before the quota runs out (none: unlimited).
    credits: Option<usize>,
    /// Log-in answers give `results` as a list (the example client's reading).
    results_as_list: bool,
}

type Shared = Arc<Mutex<Platform>>;

fn envelope(p: &Platform, results: Value) -> Json<Value> {
    let (status, message) = match &p.warning {
        Some(w) => ("warning", w.clone()),
        None => ("success", String::new()),
    };
    Json(json!({
        "status": status, "message": message, "exec_time": 0.01, "source": "db",
        "credit_balance": p.credits.map(|c| json!(c)).unwrap_or(json!(-1)),
        "quota_limit": 1000, "permissions": ["read"], "results": results,
    }))
}

fn fail(code: StatusCode, message: &str) -> (StatusCode, Json<Value>) {
    (
        code,
        Json(json!({"status": "fail", "message": message, "results": null})),
    )
}

async fn auth(State(p): State<Shared>, Json(body): Json<Value>) -> (StatusCode, Json<Value>) {
    let mut p = p.lock().unwrap();
    if body["user"] != "connector" || body["pass"] != "secret" {
        return fail(StatusCode::UNAUTHORIZED, "Invalid user or pass");
    }
    p.logins += 1;
    let token = format!("jwt-{}", p.logins);
    let life = p.token_life.unwrap_or(usize::MAX);
    p.tokens.insert(token.clone(), life);
    let results = json!({"token": token, "expire_timestamp": "2026-12-01 00:00:00"});
    let results = if p.results_as_list {
        json!([results])
    } else {
        results
    };
    (StatusCode::OK, envelope(&p, results))
}

fn authorised(p: &mut Platform, headers: &HeaderMap) -> Result<(), (StatusCode, Json<Value>)> {
    let token = headers
        .get("authorization")
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.strip_prefix("Bearer "))
        .unwrap_or("");
    match p.tokens.get_mut(token) {
        Some(0) => Err(fail(StatusCode::UNAUTHORIZED, "This token has expired")),
        Some(left) => {
            *left -= 1;
            Ok(())
        }
        None => Err(fail(StatusCode::UNAUTHORIZED, "ERR 1 - Invalid token")),
    }
}

async fn list(
    State(p): State<Shared>,
    headers: HeaderMap,
    Query(q): Query<BTreeMap<String, String>>,
) -> (StatusCode, Json<Value>) {
    let mut p = p.lock().unwrap();
    if let Err(e) = authorised(&mut p, &headers) {
        return e;
    }
    if !matches!(
        q.get("duration").map(String::as_str),
        Some("today" | "3days")
    ) {
        return fail(StatusCode::BAD_REQUEST, "duration is not specified");
    }
    // The list's rows: the base fields, not the timeline.
    let rows: Vec<Value> = p
        .tickets
        .values()
        .map(|t| {
            let mut r = t.clone();
            let o = r.as_object_mut().unwrap();
            o.remove("timeline");
            o.remove("orgs");
            r
        })
        .collect();
    (StatusCode::OK, envelope(&p, json!(rows)))
}

async fn read(
    State(p): State<Shared>,
    headers: HeaderMap,
    Query(q): Query<BTreeMap<String, String>>,
) -> (StatusCode, Json<Value>) {
    let mut p = p.lock().unwrap();
    if let Err(e) = authorised(&mut p, &headers) {
        return e;
    }
    if let Some(c) = p.credits {
        if c == 0 {
            return fail(
                StatusCode::TOO_MANY_REQUESTS,
                "Running out of API usage quota",
            );
        }
        p.credits = Some(c - 1);
    }
    let Some(id) = q.get("ticket_id") else {
        return fail(StatusCode::BAD_REQUEST, "ticket_id is not specified");
    };
    p.reads.push(id.clone());
    let Some(t) = p.tickets.get(id).cloned() else {
        return fail(StatusCode::NOT_FOUND, "ticket not found");
    };
    // `results` as a list for one ticket, an object for the other: both are documented.
    let results = if id.ends_with('1') { json!([t]) } else { t };
    (StatusCode::OK, envelope(&p, results))
}

/// Starts the fake platform on a free loopback port; returns its base URL and state.
fn start() -> (String, Shared) {
    let shared: Shared = Arc::default();
    let app = Router::new()
        .route("/exchange-api/get-auth/v1", post(auth))
        .route("/exchange-api/get-issues/v2", get(list))
        .route("/exchange-api/get-issue/v2", get(read))
        .with_state(shared.clone());
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            axum::serve(listener, app).await.unwrap();
        });
    });
    (format!("http://{addr}/exchange-api"), shared)
}

/// A ticket in the documented `get-issue/v2` shape: Bangkok times without an offset.
fn ticket(id: &str, filed: &str, timeline: &[(&str, &str, Option<&str>)]) -> Value {
    let mut entries = vec![
        json!({"timestamp": filed, "status": "รอรับเรื่อง", "org_id": null, "org": null, "note": null}),
    ];
    for (at, status, note) in timeline {
        entries.push(json!({"timestamp": at, "status": status, "org_id": 11, "org": "เขตบางรัก", "note": note}));
    }
    let last = timeline.last().map(|t| t.0).unwrap_or(filed);
    json!({
        "ticket_id": id, "type": "ถนน", "description": "หลุมบนถนน",
        "latitude": "13.72", "longitude": "100.52",
        "address": "ถนนสีลม แขวงสีลม เขตบางรัก กรุงเทพมหานคร",
        "district": "บางรัก", "province": "กรุงเทพมหานคร",
        "timestamp": filed, "count_reopen": 0, "last_activity": last,
        "orgs": [{"timestamp": filed, "org_id": 11, "name": "เขตบางรัก", "status_type": "inprogress"}],
        "timeline": entries,
    })
}

/// The events the log holds of a ticket: (type, occurred_at).
fn events_of(db: &std::path::Path, id: &str) -> Vec<(String, DateTime<FixedOffset>)> {
    ok(&["events", "--db", s(db), "--stream", &format!("traffy:{id}")])
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            assert!(v.get("occurred_after").is_none(), "exact times: {l}");
            (
                v["type"].as_str().unwrap().to_string(),
                DateTime::parse_from_rfc3339(v["occurred_at"].as_str().unwrap()).unwrap(),
            )
        })
        .collect()
}

fn bangkok(t: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(t).unwrap()
}

fn add_entry(p: &Shared, id: &str, at: &str, status: &str, note: Option<&str>) {
    let mut p = p.lock().unwrap();
    let t = p.tickets.get_mut(id).unwrap();
    t["timeline"].as_array_mut().unwrap().push(
        json!({"timestamp": at, "status": status, "org_id": 11, "org": "เขตบางรัก", "note": note}),
    );
    t["last_activity"] = json!(at);
}

#[test]
fn traffy_sync_appends_what_the_exchange_api_adds_at_its_exact_times() {
    let (base, platform) = start();
    {
        let mut p = platform.lock().unwrap();
        p.results_as_list = true;
        p.tickets.insert(
            "2026-AAA001".into(),
            ticket(
                "2026-AAA001",
                "2026-08-27 08:15:33.416627",
                &[("2026-08-27 09:00:00", "กำลังดำเนินการ", None)],
            ),
        );
        p.tickets.insert(
            "2026-BBB002".into(),
            ticket(
                "2026-BBB002",
                "2026-08-28 21:40:00",
                &[
                    ("2026-08-29 08:30:00", "กำลังดำเนินการ", None),
                    ("2026-08-29 16:05:10", "เสร็จสิ้น", Some("ซ่อมแล้ว")),
                ],
            ),
        );
    }
    let dir = Scratch::new("traffy-sync");
    let db = dir.0.join("log.db");
    let sync = |pass: &str| {
        rongtook(&[
            "traffy",
            "sync",
            "--db",
            s(&db),
            "--base-url",
            &base,
            "--user",
            "connector",
            "--pass",
            pass,
            "--duration",
            "3days",
        ])
    };

    // A wrong password: a clear error (bad input), nothing stored.
    let o = sync("wrong");
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("Invalid user or pass"), "{err}");
    assert!(ok(&["events", "--db", s(&db)]).is_empty());

    // The first sync reads both tickets; their times are Bangkok time.
    let o = sync("secret");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains(
            "listed 2: 0 already current, 2 read; 7 events appended to 2 tickets; 0 refused"
        ),
        "{out}"
    );
    assert_eq!(
        events_of(&db, "2026-AAA001"),
        [
            (
                "received".into(),
                bangkok("2026-08-27T08:15:33.416627+07:00")
            ),
            (
                "forwarded".into(),
                bangkok("2026-08-27T08:15:33.416627+07:00")
            ),
            ("acknowledged".into(), bangkok("2026-08-27T09:00:00+07:00")),
        ]
    );
    let b = events_of(&db, "2026-BBB002");
    assert_eq!(
        b.last().unwrap(),
        &("closed".into(), bangkok("2026-08-29T16:05:10+07:00"))
    );

    // Again: both are current, none is read, nothing is added.
    let reads = platform.lock().unwrap().reads.len();
    let out = ok(&[
        "traffy",
        "sync",
        "--db",
        s(&db),
        "--base-url",
        &base,
        "--user",
        "connector",
        "--pass",
        "secret",
    ]);
    assert!(
        out.contains("listed 2: 2 already current, 0 read; 0 events appended"),
        "{out}"
    );
    assert_eq!(platform.lock().unwrap().reads.len(), reads);

    // The ticket moves on, a token lasts one call, and the quota runs low: the token expires
    // after the list, the sync logs in again and says what the platform warned of, and
    // appends only the close.
    add_entry(
        &platform,
        "2026-AAA001",
        "2026-08-30 10:30:00",
        "เสร็จสิ้น",
        Some("ซ่อมแล้ว"),
    );
    {
        let mut p = platform.lock().unwrap();
        p.token_life = Some(1);
        p.warning = Some("Almost running out of API usage quota".into());
        p.results_as_list = false;
    }
    let logins = platform.lock().unwrap().logins;
    let o = sync("secret");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("listed 2: 1 already current, 1 read; 1 events appended to 1 tickets"),
        "{out}"
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("warning: Almost running out of API usage quota"),
        "{err}"
    );
    assert_eq!(
        platform.lock().unwrap().logins,
        logins + 2,
        "a log-in, then a renewal of the expired token"
    );
    platform.lock().unwrap().token_life = None;
    assert_eq!(
        events_of(&db, "2026-AAA001").last().unwrap(),
        &("closed".into(), bangkok("2026-08-30T10:30:00+07:00"))
    );

    // Both tickets reopen, but one read is left: the first is appended, the sync stops with
    // the quota named, and what it appended stays. With credits again, the rest follows.
    add_entry(
        &platform,
        "2026-AAA001",
        "2026-08-31 09:00:00",
        "รอรับเรื่อง",
        Some("ยังไม่เรียบร้อย"),
    );
    add_entry(
        &platform,
        "2026-BBB002",
        "2026-08-31 09:30:00",
        "กำลังดำเนินการ",
        None,
    );
    {
        let mut p = platform.lock().unwrap();
        p.warning = None;
        p.credits = Some(1);
    }
    let o = sync("secret");
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("quota is used up") && err.contains("Running out of API usage quota"),
        "{err}"
    );
    assert_eq!(events_of(&db, "2026-AAA001").last().unwrap().0, "forwarded");
    assert_eq!(events_of(&db, "2026-BBB002").last().unwrap().0, "closed");
    platform.lock().unwrap().credits = None;
    let out = ok(&[
        "traffy",
        "sync",
        "--db",
        s(&db),
        "--base-url",
        &base,
        "--user",
        "connector",
        "--pass",
        "secret",
    ]);
    assert!(
        out.contains("1 read; 3 events appended to 1 tickets"),
        "{out}"
    );
    let b: Vec<String> = events_of(&db, "2026-BBB002")
        .into_iter()
        .map(|e| e.0)
        .collect();
    assert_eq!(
        b[b.len() - 3..],
        [
            "reopened".to_string(),
            "forwarded".into(),
            "acknowledged".into()
        ]
    );
    assert!(ok(&["verify", "--db", s(&db)]).contains("ok"));
}

#[test]
fn traffy_sync_refuses_a_base_url_and_a_duration_it_cannot_use() {
    let dir = Scratch::new("traffy-sync-args");
    let db = dir.0.join("log.db");
    for (base, duration, says) in [
        (
            "ftp://example",
            "today",
            "not an http:// or https:// address",
        ),
        ("http://127.0.0.1:9", "week", "not today or 3days"),
    ] {
        let o = rongtook(&[
            "traffy",
            "sync",
            "--db",
            s(&db),
            "--base-url",
            base,
            "--duration",
            duration,
            "--user",
            "u",
            "--pass",
            "p",
        ]);
        assert_eq!(o.status.code(), Some(2));
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(says), "{err}");
    }
    // Nothing answering: a clear error naming the call.
    let o = rongtook(&[
        "traffy",
        "sync",
        "--db",
        s(&db),
        "--base-url",
        "http://127.0.0.1:9/exchange-api",
        "--user",
        "u",
        "--pass",
        "p",
        "--timeout",
        "5",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("get-auth/v1"));
}
