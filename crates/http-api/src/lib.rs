//! The HTTP API of Rongtook: `app(state)` builds the router, `serve` runs it on a listener
//! until a shutdown signal. The only crate that knows HTTP.
//!
//! Appends go through one writer thread that owns the log and commits the requests waiting
//! at that moment together (group commit): one disk sync for many requests, each request still
//! its own atomic batch. A 2xx answer means the events are on disk.

mod auth;
mod dashboard;
mod live;
mod open311;
mod problem;
mod writer;

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use calendar::Calendar;
use event_model::{parse_wire_event, NewEvent};
use event_store::{EventStore, SqliteStore};
use projections::{ComplaintFold, DeadlineRules};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

pub use auth::{token_hash, Caller, Role};
pub use problem::{Problem, ProblemDoc};
pub use writer::Writer;

/// Largest request body accepted, in bytes (413 above).
pub const DEFAULT_MAX_BODY_BYTES: usize = 8 * 1024 * 1024;

/// How long a checked token is trusted without asking the store again: a token revoked with
/// `rongtook token revoke` stops working within this time.
pub const TOKEN_CACHE_TTL: std::time::Duration = std::time::Duration::from_secs(5);

/// Most events one feed page returns.
pub const MAX_FEED_PAGE: u64 = 10_000;

/// The OpenAPI 3.1 document of this API (`schemas/openapi.json`), served at `/openapi.json`.
pub const OPENAPI: &str = include_str!("../../../schemas/openapi.json");

/// Every route of [`app`], as `(method, path)`; a test checks them against [`OPENAPI`].
pub const ROUTES: &[(&str, &str)] = &[
    ("get", "/health"),
    ("get", "/openapi.json"),
    ("post", "/v1/events"),
    ("get", "/v1/events"),
    ("get", "/v1/events/stream"),
    ("get", "/v1/complaints"),
    ("get", "/v1/complaints/{id}"),
    ("get", "/v1/complaints/{id}/events"),
    ("get", "/v1/overdue"),
    ("get", "/v1/indicators"),
    ("get", "/open311/v2/{file}"),
    ("get", "/open311/v2/requests.json"),
    ("post", "/open311/v2/requests.json"),
    ("get", "/open311/v2/requests/{file}"),
    ("get", "/"),
    ("get", "/dashboard"),
    ("get", "/dashboard/league"),
    ("get", "/dashboard/overdue"),
    ("get", "/dashboard/units/{unit}"),
    ("get", "/dashboard/complaints/{id}"),
    ("get", "/dashboard/live"),
    ("get", "/dashboard/login"),
    ("post", "/dashboard/login"),
    ("post", "/dashboard/logout"),
];

/// What the handlers share.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    live: Arc<live::Live>,
    /// Folds as of past instants, most recently used first.
    past: std::sync::Mutex<Vec<(chrono::DateTime<chrono::FixedOffset>, PastFold)>>,
    /// The log head, announced by the writer after each commit (for live followers).
    head: tokio::sync::watch::Receiver<u64>,
    /// Set when the server begins to shut down: live streams end.
    stopping: tokio::sync::watch::Sender<bool>,
    /// The dashboard's per-year figures, newest first.
    year_data: std::sync::Mutex<Vec<Arc<dashboard::YearData>>>,
    /// Held while a year's figures are computed: one computation at a time.
    computing: std::sync::Mutex<()>,
    /// Years whose figures are being refreshed in the background.
    refreshing: std::sync::Mutex<std::collections::HashSet<i32>>,
    /// The log position of the newest figures refreshed (for the dashboard's live feed).
    figures: tokio::sync::watch::Sender<u64>,
    /// Token hash -> caller, with when it was checked.
    tokens: std::sync::RwLock<std::collections::HashMap<[u8; 32], (Caller, Instant)>>,
    db: PathBuf,
    writer: Writer,
    calendar: Calendar,
    rules: DeadlineRules,
    max_body_bytes: usize,
}

impl AppState {
    /// Opens the log at `db`: folds it into the live projections (logging how long that took)
    /// and starts the writer thread. The thread ends once every clone of the state is dropped
    /// and the queued appends are committed; join it after `serve` returns.
    pub fn start(
        db: PathBuf,
        durability: event_store::Durability,
        calendar: Calendar,
        rules: DeadlineRules,
    ) -> Result<(AppState, std::thread::JoinHandle<()>), event_store::StoreError> {
        let t = Instant::now();
        let live = Arc::new(live::Live::load(&SqliteStore::open(&db, durability)?)?);
        tracing::info!(
            events = live.applied(),
            millis = t.elapsed().as_millis() as u64,
            "projections rebuilt from the log"
        );
        let (head_tx, head) = tokio::sync::watch::channel(live.applied());
        let (writer, thread) = Writer::start(&db, durability, live.clone(), head_tx)?;
        let state = AppState {
            inner: Arc::new(Inner {
                live,
                past: Default::default(),
                head,
                stopping: tokio::sync::watch::channel(false).0,
                tokens: Default::default(),
                year_data: Default::default(),
                computing: Default::default(),
                refreshing: Default::default(),
                figures: tokio::sync::watch::channel(0).0,
                db,
                writer,
                calendar,
                rules,
                max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            }),
        };
        Ok((state, thread))
    }

    /// The same state with another body limit.
    pub fn with_max_body_bytes(self, max: usize) -> AppState {
        let inner = Arc::try_unwrap(self.inner)
            .unwrap_or_else(|_| panic!("set limits before sharing the state"));
        AppState {
            inner: Arc::new(Inner {
                max_body_bytes: max,
                ..inner
            }),
        }
    }

    fn reader(&self) -> Result<SqliteStore, Problem> {
        SqliteStore::open_read_only(&self.inner.db).map_err(|e| Problem::internal(e.to_string()))
    }

    /// The caller behind a request's bearer token (401 without a valid one).
    async fn caller(&self, headers: &HeaderMap) -> Result<Caller, Problem> {
        self.caller_for_token(auth::bearer(headers)?).await
    }

    /// The caller a token stands for (401 for an unknown or revoked one).
    async fn caller_for_token(&self, token: String) -> Result<Caller, Problem> {
        let hash = token_hash(&token);
        if let Some((caller, at)) = self.inner.tokens.read().expect("token cache").get(&hash) {
            if at.elapsed() < TOKEN_CACHE_TTL {
                return Ok(caller.clone());
            }
        }
        let state = self.clone();
        let record = blocking(move || {
            state
                .reader()?
                .find_token(&hash)
                .map_err(|e| Problem::internal(e.to_string()))
        })
        .await?
        .ok_or_else(|| auth::unauthorized("unknown or revoked token"))?;
        let role = Role::parse(&record.role, record.unit.as_deref())
            .ok_or_else(|| Problem::internal(format!("token {} has no valid role", record.id)))?;
        let caller = Caller {
            token_id: record.id,
            role,
        };
        let mut cache = self.inner.tokens.write().expect("token cache");
        cache.retain(|_, (_, at)| at.elapsed() < TOKEN_CACHE_TTL);
        cache.insert(hash, (caller.clone(), Instant::now()));
        Ok(caller)
    }
}

/// The router: every endpoint, the body limit and the request log.
pub fn app(state: AppState) -> Router {
    let limit = state.inner.max_body_bytes;
    Router::new()
        .route("/health", get(health))
        .route(
            "/openapi.json",
            get(|| async {
                (
                    [(axum::http::header::CONTENT_TYPE, "application/json")],
                    OPENAPI,
                )
            }),
        )
        .route("/v1/events", post(post_events).get(get_events))
        .route("/v1/events/stream", get(stream_events))
        .route("/v1/complaints", get(list_complaints))
        .route("/v1/overdue", get(get_overdue))
        .route("/v1/indicators", get(get_indicators))
        .route(
            "/open311/v2/requests.json",
            post(open311::submit).get(open311_requests_json),
        )
        .route("/open311/v2/{file}", get(open311::root_file))
        .route("/open311/v2/requests/{file}", get(open311::one_request))
        .route("/v1/complaints/{id}", get(get_complaint))
        .route("/v1/complaints/{id}/events", get(get_complaint_events))
        .route("/", get(dashboard::root))
        .route("/dashboard", get(dashboard::overview))
        .route("/dashboard/league", get(dashboard::league))
        .route("/dashboard/overdue", get(dashboard::overdue))
        .route("/dashboard/units/{unit}", get(dashboard::unit))
        .route("/dashboard/complaints/{id}", get(dashboard::complaint))
        .route("/dashboard/live", get(dashboard::live))
        .route(
            "/dashboard/login",
            get(dashboard::login_form).post(dashboard::login),
        )
        .route("/dashboard/logout", post(dashboard::logout))
        .layer(DefaultBodyLimit::max(limit))
        .layer(middleware::from_fn(log_request))
        .with_state(state)
}

/// Serves `app` on `listener` until `shutdown` completes; requests in flight finish first
/// (an acknowledged append is on disk before its answer is sent).
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let stopping = state.inner.stopping.clone();
    axum::serve(listener, app(state))
        .with_graceful_shutdown(async move {
            shutdown.await;
            // Live streams never end by themselves: tell them to, so that shutdown completes.
            stopping.send_replace(true);
        })
        .await
}

/// One log line per request: method, path, status, latency.
async fn log_request(req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let start = Instant::now();
    let res = next.run(req).await;
    tracing::info!(
        method = %method,
        path = %path,
        status = res.status().as_u16(),
        latency_us = start.elapsed().as_micros() as u64,
        "request"
    );
    res
}

#[derive(Serialize)]
struct Health {
    status: &'static str,
    head_position: u64,
    head_hash: String,
}

async fn health(State(state): State<AppState>) -> Result<Json<Health>, Problem> {
    let head = blocking(move || {
        let store = state.reader()?;
        store.head().map_err(|e| Problem::internal(e.to_string()))
    })
    .await?;
    Ok(Json(Health {
        status: "ok",
        head_position: head.position,
        head_hash: head.hash.to_hex(),
    }))
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, Problem> + Send + 'static,
) -> Result<T, Problem> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Problem::internal(format!("worker failed: {e}")))?
}

#[derive(Serialize)]
struct AppendedEvent {
    id: String,
    position: u64,
    version: u64,
    duplicate: bool,
}

#[derive(Serialize)]
struct AppendAnswer {
    appended: u64,
    duplicates: u64,
    events: Vec<AppendedEvent>,
}

/// Decodes a body: one event object or an array of them (an atomic batch).
fn decode_body(body: &[u8]) -> Result<Vec<NewEvent>, Problem> {
    let text = std::str::from_utf8(body)
        .map_err(|_| Problem::malformed("the body is not UTF-8".into(), None, None, None))?;
    let trimmed = text.trim_start();
    let raws: Vec<&RawValue> = if trimmed.starts_with('[') {
        serde_json::from_str(text).map_err(|e| {
            Problem::malformed(format!("malformed JSON array: {e}"), None, None, None)
        })?
    } else {
        vec![serde_json::from_str(text)
            .map_err(|e| Problem::malformed(format!("malformed JSON: {e}"), None, None, None))?]
    };
    if raws.is_empty() {
        return Err(Problem::malformed(
            "the batch is empty".into(),
            None,
            None,
            None,
        ));
    }
    raws.iter()
        .enumerate()
        .map(|(i, raw)| {
            parse_wire_event(raw.get()).map_err(|e| {
                Problem::malformed(
                    e.message.clone(),
                    Some(i),
                    e.event_id.clone(),
                    e.field.clone(),
                )
            })
        })
        .collect()
}

async fn post_events(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Problem> {
    let caller = state.caller(&headers).await?;
    let mut events = decode_body(&body)?;
    for (i, e) in events.iter_mut().enumerate() {
        caller.may_append(e).map_err(|why| {
            let mut p = auth::forbidden(why);
            p.0.event_index = Some(i);
            p.0.event_id = Some(e.id.to_string());
            p
        })?;
        // The recorded actor is the token's identity, not what the client wrote.
        e.actor = caller.actor();
    }
    let ids: Vec<String> = events.iter().map(|e| e.id.to_string()).collect();
    let report = state.inner.writer.append(events).await?;
    let status = if report.appended == 0 {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    let answer = AppendAnswer {
        appended: report.appended,
        duplicates: report.duplicates,
        events: report
            .events
            .iter()
            .zip(ids)
            .map(|(a, id)| AppendedEvent {
                id,
                position: a.position,
                version: a.version,
                duplicate: a.duplicate,
            })
            .collect(),
    };
    Ok((status, Json(answer)).into_response())
}

#[derive(Deserialize)]
struct FeedQuery {
    #[serde(default)]
    after: u64,
    #[serde(default)]
    limit: Option<u64>,
}

#[derive(Serialize)]
struct Feed {
    events: Vec<event_model::RecordedEvent>,
    /// Pass as `after` for the next page.
    next_after: u64,
}

async fn get_events(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<FeedQuery>,
) -> Result<Json<Feed>, Problem> {
    let caller = state.caller(&headers).await?;
    if let Role::Unit(u) = &caller.role {
        return Err(auth::forbidden(format!(
            "the feed holds every unit's complaints; a `unit` token for `{u}` may not read it"
        )));
    }
    let limit = q.limit.unwrap_or(1000);
    if limit == 0 || limit > MAX_FEED_PAGE {
        return Err(Problem::bad_query(format!(
            "limit must be 1 to {MAX_FEED_PAGE}"
        )));
    }
    let events = blocking(move || {
        state
            .reader()?
            .read_after(q.after, limit)
            .map_err(|e| Problem::internal(e.to_string()))
    })
    .await?;
    let next_after = events.last().map_or(q.after, |e| e.position);
    Ok(Json(Feed { events, next_after }))
}

#[derive(Deserialize)]
struct AsOfQuery {
    as_of: Option<String>,
}

async fn get_complaint(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<AsOfQuery>,
) -> Result<Response, Problem> {
    let caller = state.caller(&headers).await?;
    let as_of = match &q.as_of {
        Some(t) => event_model::parse_instant(t).ok_or_else(|| {
            Problem::bad_query(format!(
                "as_of `{t}` is not an RFC 3339 instant with an offset"
            ))
        })?,
        None => chrono::Utc::now().fixed_offset(),
    };
    let view = blocking(move || {
        let events = state
            .reader()?
            .read_stream(&id)
            .map_err(|e| Problem::internal(e.to_string()))?;
        let mut fold = ComplaintFold::new(as_of);
        events.into_iter().for_each(|e| fold.apply(e));
        fold.view(&id, &state.inner.calendar, &state.inner.rules)
            .ok_or_else(|| Problem::not_found(format!("no complaint `{id}`")))
    })
    .await?;
    if let Role::Unit(u) = &caller.role {
        if !view.rounds.iter().any(|r| &r.unit == u) {
            return Err(auth::forbidden(format!(
                "complaint `{}` was never forwarded to `{u}`",
                view.complaint_id
            )));
        }
    }
    Ok(Json(view).into_response())
}

async fn get_complaint_events(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let caller = state.caller(&headers).await?;
    let mut events = blocking(move || {
        let events = state
            .reader()?
            .read_stream(&id)
            .map_err(|e| Problem::internal(e.to_string()))?;
        if events.is_empty() {
            return Err(Problem::not_found(format!("no stream `{id}`")));
        }
        Ok(events)
    })
    .await?;
    if let Role::Unit(u) = &caller.role {
        let theirs = events
            .iter()
            .any(|e| matches!(&e.data, event_model::EventData::Forwarded(f) if f.to_unit == *u));
        if !theirs {
            return Err(auth::forbidden(format!(
                "this stream was never forwarded to `{u}`"
            )));
        }
    }
    if !caller.role.sees_personal_data() {
        events.iter_mut().for_each(auth::redact);
    }
    Ok(Json(events).into_response())
}

/// Most complaints one list page returns.
pub const MAX_PAGE_SIZE: usize = 500;

#[derive(Deserialize)]
struct ListQuery {
    unit: Option<String>,
    status: Option<String>,
    #[serde(default)]
    overdue: bool,
    #[serde(default = "first_page")]
    page: usize,
    #[serde(default = "default_per_page")]
    per_page: usize,
}

fn first_page() -> usize {
    1
}

fn default_per_page() -> usize {
    50
}

#[derive(Serialize)]
struct ListPage {
    page: usize,
    per_page: usize,
    total: usize,
    complaints: Vec<projections::ComplaintView>,
}

/// The unit a caller may look at: a unit token only its own (403 for another).
fn unit_scope(caller: &Caller, asked: Option<String>) -> Result<Option<String>, Problem> {
    match (&caller.role, asked) {
        (Role::Unit(u), Some(a)) if &a != u => Err(auth::forbidden(format!(
            "a `unit` token for `{u}` may not read `{a}`"
        ))),
        (Role::Unit(u), _) => Ok(Some(u.clone())),
        (_, a) => Ok(a),
    }
}

fn now() -> chrono::DateTime<chrono::FixedOffset> {
    chrono::Utc::now().fixed_offset()
}

async fn list_complaints(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<ListQuery>,
) -> Result<Json<ListPage>, Problem> {
    let caller = state.caller(&headers).await?;
    let unit = unit_scope(&caller, q.unit)?;
    if q.page == 0 || q.per_page == 0 || q.per_page > MAX_PAGE_SIZE {
        return Err(Problem::bad_query(format!(
            "page starts at 1; per_page must be 1 to {MAX_PAGE_SIZE}"
        )));
    }
    let statuses = [
        "received",
        "forwarded",
        "acknowledged",
        "in_progress",
        "closed",
        "reopened",
    ];
    if let Some(s) = &q.status {
        if !statuses.contains(&s.as_str()) {
            return Err(Problem::bad_query(format!(
                "status `{s}` is not one of {}",
                statuses.join(", ")
            )));
        }
    }
    blocking(move || {
        let fold = state.inner.live.fold.read().expect("live fold");
        let at = now();
        let mut ids: Vec<&str> = fold
            .summaries()
            .filter(|s| unit.as_deref().is_none_or(|u| s.units.contains(&u)))
            .filter(|s| q.status.as_deref().is_none_or(|st| s.status.as_str() == st))
            .filter(|s| !q.overdue || s.status.is_open())
            .map(|s| s.complaint_id)
            .collect();
        ids.sort_unstable();
        let judge = |id: &str| {
            fold.view_at(id, &state.inner.calendar, &state.inner.rules, at)
                .expect("listed")
        };
        let (total, complaints) = if q.overdue {
            let all: Vec<_> = ids
                .iter()
                .map(|id| judge(id))
                .filter(|v| {
                    projections::overdue(std::iter::once(v), at, &state.inner.rules).total > 0
                })
                .collect();
            let total = all.len();
            let page = all
                .into_iter()
                .skip((q.page - 1) * q.per_page)
                .take(q.per_page)
                .collect();
            (total, page)
        } else {
            let page = ids
                .iter()
                .skip((q.page - 1) * q.per_page)
                .take(q.per_page)
                .map(|id| judge(id))
                .collect();
            (ids.len(), page)
        };
        Ok(Json(ListPage {
            page: q.page,
            per_page: q.per_page,
            total,
            complaints,
        }))
    })
    .await
}

#[derive(Deserialize)]
struct OverdueQuery {
    unit: Option<String>,
    as_of: Option<String>,
}

fn parse_as_of(
    t: &Option<String>,
) -> Result<Option<chrono::DateTime<chrono::FixedOffset>>, Problem> {
    t.as_ref()
        .map(|t| {
            event_model::parse_instant(t).ok_or_else(|| {
                Problem::bad_query(format!(
                    "as_of `{t}` is not an RFC 3339 instant with an offset"
                ))
            })
        })
        .transpose()
}

/// How many past instants keep a fold in memory.
pub const PAST_FOLDS: usize = 4;

/// A fold of the log as of a past instant, and the last position it has seen.
type PastFold = Arc<std::sync::Mutex<(ComplaintFold, u64)>>;

/// The log folded as of an instant, for questions about the past, which the live projections
/// (holding every event so far) cannot answer. The first question about an instant folds the
/// whole log; the fold is then kept (for the last few instants asked) and only caught up with
/// what was appended since, as the live projections are: events that occurred after the
/// instant are ignored by the fold.
fn fold_as_of(
    state: &AppState,
    as_of: chrono::DateTime<chrono::FixedOffset>,
) -> Result<PastFold, Problem> {
    let entry = {
        let mut past = state.inner.past.lock().expect("past folds");
        match past.iter().position(|(t, _)| *t == as_of) {
            Some(i) => {
                let e = past.remove(i);
                past.insert(0, e.clone());
                e.1
            }
            None => {
                let e: PastFold = Arc::new(std::sync::Mutex::new((ComplaintFold::new(as_of), 0)));
                past.insert(0, (as_of, e.clone()));
                past.truncate(PAST_FOLDS);
                e
            }
        }
    };
    {
        let store = state.reader()?;
        let mut guard = entry.lock().expect("past fold");
        loop {
            let events = store
                .read_after(guard.1, 10_000)
                .map_err(|e| Problem::internal(e.to_string()))?;
            let Some(last) = events.last().map(|e| e.position) else {
                break;
            };
            events.into_iter().for_each(|e| guard.0.apply(e));
            guard.1 = last;
        }
    }
    Ok(entry)
}

async fn get_overdue(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<OverdueQuery>,
) -> Result<Json<projections::OverdueReport>, Problem> {
    let caller = state.caller(&headers).await?;
    let unit = unit_scope(&caller, q.unit)?;
    let as_of = parse_as_of(&q.as_of)?;
    blocking(move || {
        let (cal, rules) = (&state.inner.calendar, &state.inner.rules);
        let mut report = match as_of {
            // Now (or later): judge the live projections' open complaints.
            None => {
                let at = now();
                let fold = state.inner.live.fold.read().expect("live fold");
                let views: Vec<_> = fold
                    .summaries()
                    .filter(|s| s.status.is_open())
                    .map(|s| {
                        fold.view_at(s.complaint_id, cal, rules, at)
                            .expect("listed")
                    })
                    .collect();
                projections::overdue(&views, at, rules)
            }
            Some(at) => {
                let past = fold_as_of(&state, at)?;
                let fold = &past.lock().expect("past fold").0;
                projections::overdue(&fold.views(cal, rules), at, rules)
            }
        };
        if let Some(u) = unit {
            report.units.retain(|x| x.unit == u);
            report.total = report.units.iter().map(|x| x.count).sum();
        }
        Ok(Json(report))
    })
    .await
}

#[derive(Deserialize)]
struct IndicatorQuery {
    fiscal_year: String,
    spec: String,
    unit: Option<String>,
    as_of: Option<String>,
}

/// Indicator provenance for results computed from the log up to `position`: that event's hash
/// and the calendar's version.
fn provenance(state: &AppState, position: u64) -> Result<indicators::Provenance, Problem> {
    let hash = match position {
        0 => event_model::Hash::GENESIS,
        p => state
            .reader()?
            .read_after(p - 1, 1)
            .map_err(|e| Problem::internal(e.to_string()))?
            .first()
            .map_or(event_model::Hash::GENESIS, |e| e.hash),
    };
    Ok(indicators::Provenance {
        log_head_position: position,
        log_head_hash: hash.to_hex(),
        calendar_version: state.inner.calendar.version().to_string(),
    })
}

async fn get_indicators(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<IndicatorQuery>,
) -> Result<Response, Problem> {
    let caller = state.caller(&headers).await?;
    let unit = unit_scope(&caller, q.unit)?;
    let fy = calendar::FiscalYear::parse(&q.fiscal_year)
        .map_err(|e| Problem::bad_query(format!("fiscal_year: {e}")))?;
    let spec = indicators::builtin(&q.spec).ok_or_else(|| {
        let names: Vec<&str> = indicators::BUILTIN.iter().map(|(n, _)| *n).collect();
        Problem::bad_query(format!(
            "spec `{}` is not one of {}",
            q.spec,
            names.join(", ")
        ))
    })?;
    let as_of = parse_as_of(&q.as_of)?.unwrap_or_else(|| fy.end_instant().min(now()));
    blocking(move || {
        let past = fold_as_of(&state, as_of)?;
        let guard = past.lock().expect("past fold");
        let (fold, seen) = (&guard.0, guard.1);
        let views = fold.views(&state.inner.calendar, &state.inner.rules);
        // The provenance is the last event the fold has seen.
        let provenance = provenance(&state, seen)?;
        let mut rep =
            indicators::evaluate(&spec, &views, fold.monthly_reports(), fy, as_of, provenance);
        if let Some(u) = unit {
            rep.units.retain(|x| x.unit == u);
        }
        Ok(Json(rep).into_response())
    })
    .await
}

#[derive(Deserialize)]
struct StreamQuery {
    #[serde(default)]
    after: u64,
}

/// Server-Sent Events: every event after `after`, then each new one as it is committed. Each
/// SSE message has the position as its `id` and the event type as its `event`.
async fn stream_events(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<StreamQuery>,
) -> Result<Response, Problem> {
    use axum::response::sse::{Event, KeepAlive, Sse};
    let caller = state.caller(&headers).await?;
    if let Role::Unit(u) = &caller.role {
        return Err(auth::forbidden(format!(
            "the stream holds every unit's complaints; a `unit` token for `{u}` may not read it"
        )));
    }
    let redact = !caller.role.sees_personal_data();
    struct Follow {
        state: AppState,
        after: u64,
        buffer: std::collections::VecDeque<event_model::RecordedEvent>,
        head: tokio::sync::watch::Receiver<u64>,
        stopping: tokio::sync::watch::Receiver<bool>,
        redact: bool,
    }
    let follow = Follow {
        head: state.inner.head.clone(),
        stopping: state.inner.stopping.subscribe(),
        state,
        after: q.after,
        buffer: Default::default(),
        redact,
    };
    let stream = futures_util::stream::unfold(follow, |mut f| async move {
        loop {
            if *f.stopping.borrow() {
                return None;
            }
            if let Some(mut e) = f.buffer.pop_front() {
                f.after = e.position;
                if f.redact {
                    auth::redact(&mut e);
                }
                let msg = Event::default()
                    .id(e.position.to_string())
                    .event(e.event_type().as_str())
                    .json_data(&e)
                    .unwrap_or_else(|_| Event::default().comment("unserialisable event"));
                return Some((Ok::<Event, std::convert::Infallible>(msg), f));
            }
            let (st, after) = (f.state.clone(), f.after);
            let page = blocking(move || {
                st.reader()?
                    .read_after(after, 1000)
                    .map_err(|e| Problem::internal(e.to_string()))
            })
            .await;
            match page {
                Ok(events) if !events.is_empty() => f.buffer.extend(events),
                Ok(_) => {
                    // Wait for a commit or for the shutdown.
                    tokio::select! {
                        changed = f.head.changed() => if changed.is_err() { return None },
                        _ = f.stopping.changed() => {},
                    }
                }
                Err(_) => return None,
            }
        }
    });
    Ok(Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response())
}

/// `requests.json` has its own route for the POST; its GET is the list like the other files.
async fn open311_requests_json(
    state: State<AppState>,
    q: Query<std::collections::BTreeMap<String, String>>,
) -> Result<Response, Problem> {
    open311::root_file(state, Path("requests.json".to_string()), q).await
}
