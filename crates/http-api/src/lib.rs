//! The HTTP API of Rongtook: `app(state)` builds the router, `serve` runs it on a listener
//! until a shutdown signal. The only crate that knows HTTP.
//!
//! Appends go through one writer thread that owns the log and commits the requests waiting
//! at that moment together (group commit): one disk sync for many requests, each request still
//! its own atomic batch. A 2xx answer means the events are on disk.
//!
//! Handlers are grouped by resource (`events`, `complaints`, `figures`, `open311`,
//! `dashboard`); each parses its input, asks the read model (`read-model`) or the writer, and
//! renders. The state and its accessors are in `state`, the dashboard's cache in
//! `dashboard_cache`.

mod auth;
mod complaints;
mod connectors;
mod dashboard;
mod dashboard_cache;
mod events;
mod figures;
mod halt;
mod metrics;
mod open311;
pub mod open311_form;
mod problem;
mod snapshots;
mod state;
pub mod traffy_sync;
mod worklist;
mod writer;

use std::future::Future;
use std::time::Instant;

use axum::extract::{DefaultBodyLimit, Path, Query, Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post, MethodRouter};
use axum::{Json, Router};
use serde::Serialize;

pub use auth::{issue_token, token_hash, Caller, IssueError, Role};
pub use complaints::MAX_PAGE_SIZE;
pub use events::{decode_body, MAX_FEED_PAGE};
pub use problem::{Problem, ProblemDoc};
pub use snapshots::{SnapshotConfig, DEFAULT_EVERY as DEFAULT_SNAPSHOT_EVERY};
pub use state::{AppState, StartOptions, DEFAULT_MAX_BODY_BYTES, TOKEN_CACHE_TTL};
pub use writer::Writer;

use state::blocking;

/// The OpenAPI 3.1 document of this API (`schemas/openapi.json`), served at `/openapi.json`.
pub const OPENAPI: &str = include_str!("../../../schemas/openapi.json");

/// Every route of [`app`], as `(method, path)`: the router is built from this list (each
/// entry's handler is [`handler`]'s), and a test checks it against [`OPENAPI`] both ways.
pub const ROUTES: &[(&str, &str)] = &[
    ("get", "/health"),
    ("get", "/ready"),
    ("get", "/metrics"),
    ("get", "/openapi.json"),
    ("post", "/v1/events"),
    ("get", "/v1/events"),
    ("get", "/v1/events/stream"),
    ("get", "/v1/complaints"),
    ("get", "/v1/complaints/{id}"),
    ("get", "/v1/complaints/{id}/events"),
    ("get", "/v1/overdue"),
    ("get", "/v1/indicators"),
    ("post", "/v1/connectors/traffy/webhook"),
    ("patch", "/v1/connectors/traffy/webhook"),
    ("get", "/open311/v2/{file}"),
    ("get", "/open311/v2/requests.json"),
    ("post", "/open311/v2/requests.json"),
    ("get", "/open311/v2/requests/{file}"),
    ("get", "/"),
    ("get", "/v1/inspection-list"),
    ("get", "/dashboard"),
    ("get", "/dashboard/league"),
    ("get", "/dashboard/overdue"),
    ("get", "/dashboard/map"),
    ("get", "/dashboard/inspection"),
    ("get", "/dashboard/oversight"),
    ("get", "/dashboard/worklist"),
    ("post", "/dashboard/worklist"),
    ("get", "/dashboard/units/{unit}"),
    ("get", "/dashboard/complaints/{id}"),
    ("get", "/dashboard/live"),
    ("get", "/dashboard/login"),
    ("post", "/dashboard/login"),
    ("post", "/dashboard/logout"),
];

/// The handler of one entry of [`ROUTES`].
fn handler(method: &str, path: &str) -> MethodRouter<AppState> {
    match (method, path) {
        ("get", "/health") => get(health),
        ("get", "/ready") => get(ready),
        ("get", "/metrics") => get(metrics_text),
        ("get", "/openapi.json") => get(openapi),
        ("post", "/v1/events") => post(events::post_events),
        ("get", "/v1/events") => get(events::get_events),
        ("get", "/v1/events/stream") => get(events::stream_events),
        ("get", "/v1/complaints") => get(complaints::list_complaints),
        ("get", "/v1/complaints/{id}") => get(complaints::get_complaint),
        ("get", "/v1/complaints/{id}/events") => get(complaints::get_complaint_events),
        ("get", "/v1/overdue") => get(figures::get_overdue),
        ("get", "/v1/indicators") => get(figures::get_indicators),
        ("post", "/v1/connectors/traffy/webhook") => post(connectors::traffy_post),
        ("patch", "/v1/connectors/traffy/webhook") => patch(connectors::traffy_patch),
        ("get", "/open311/v2/{file}") => get(open311::root_file),
        ("get", "/open311/v2/requests.json") => get(open311_requests_json),
        ("post", "/open311/v2/requests.json") => post(open311::submit),
        ("get", "/open311/v2/requests/{file}") => get(open311::one_request),
        ("get", "/") => get(dashboard::root),
        ("get", "/v1/inspection-list") => get(figures::get_inspection_list),
        ("get", "/dashboard") => get(dashboard::overview),
        ("get", "/dashboard/league") => get(dashboard::league),
        ("get", "/dashboard/overdue") => get(dashboard::overdue),
        ("get", "/dashboard/map") => get(dashboard::map),
        ("get", "/dashboard/inspection") => get(dashboard::inspection),
        ("get", "/dashboard/oversight") => get(dashboard::oversight),
        ("get", "/dashboard/worklist") => get(worklist::show),
        ("post", "/dashboard/worklist") => post(worklist::record),
        ("get", "/dashboard/units/{unit}") => get(dashboard::unit),
        ("get", "/dashboard/complaints/{id}") => get(dashboard::complaint),
        ("get", "/dashboard/live") => get(dashboard::live),
        ("get", "/dashboard/login") => get(dashboard::login_form),
        ("post", "/dashboard/login") => post(dashboard::login),
        ("post", "/dashboard/logout") => post(dashboard::logout),
        _ => unreachable!("ROUTES lists {method} {path} without a handler"),
    }
}

/// The router: every entry of [`ROUTES`], the body limit and the request log.
pub fn app(state: AppState) -> Router {
    let limit = state.max_body_bytes();
    ROUTES
        .iter()
        .fold(Router::new(), |r, (method, path)| {
            r.route(path, handler(method, path))
        })
        .layer(DefaultBodyLimit::max(limit))
        .layer(middleware::map_response(plain_errors_as_problems))
        .layer(middleware::from_fn_with_state(state.clone(), log_request))
        .with_state(state)
}

/// Serves `app` on `listener` until `shutdown` completes; requests in flight finish first
/// (an acknowledged append is on disk before its answer is sent).
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let stopper = state.clone();
    axum::serve(listener, app(state))
        .with_graceful_shutdown(async move {
            shutdown.await;
            // Live streams never end by themselves: tell them to, so that shutdown completes.
            stopper.stop();
        })
        .await
}

/// Most bytes of a framework refusal's text kept as the problem's detail.
const MAX_REFUSAL_TEXT: usize = 4096;

/// The framework's own refusals (413 for a large body, 415, 422 for a form or JSON that does
/// not decode, 400 for a query that does not, 405) come as plain text: they are answered as
/// problem documents like every other error. Pages' HTML errors and problems pass unchanged.
async fn plain_errors_as_problems(res: Response) -> Response {
    let status = res.status();
    let plain = res
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|v| v.starts_with("text/plain"));
    if !(status.is_client_error() || status.is_server_error()) || !plain {
        return res;
    }
    let bytes = axum::body::to_bytes(res.into_body(), MAX_REFUSAL_TEXT)
        .await
        .unwrap_or_default();
    let mut detail = String::from_utf8_lossy(&bytes).trim().to_string();
    if detail.is_empty() {
        detail = status.canonical_reason().unwrap_or("refused").to_string();
    }
    axum::response::IntoResponse::into_response(Problem::rejected(status, detail))
}

/// One log line per request: method, path, status, latency; and the request counted by its
/// route and status.
async fn log_request(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let route = req
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |m| m.as_str().to_string());
    let start = Instant::now();
    let res = next.run(req).await;
    state
        .metrics()
        .requests
        .with_label_values(&[route.as_str(), res.status().as_str()])
        .inc();
    tracing::info!(
        method = %method,
        path = %path,
        status = res.status().as_u16(),
        latency_us = start.elapsed().as_micros() as u64,
        "request"
    );
    res
}

async fn openapi() -> impl axum::response::IntoResponse {
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        OPENAPI,
    )
}

#[derive(Serialize)]
struct Health {
    status: &'static str,
    head_position: u64,
    head_hash: String,
}

async fn health(State(state): State<AppState>) -> Result<Json<Health>, Problem> {
    let head = blocking(move || state.read(|store| store.head())).await?;
    Ok(Json(Health {
        status: "ok",
        head_position: head.position,
        head_hash: head.hash.to_hex(),
    }))
}

#[derive(Serialize)]
struct Ready {
    status: &'static str,
    /// The last log position the live projections hold.
    applied: u64,
    head_position: u64,
}

/// 200 once the live projections hold every committed event (a load balancer may send reads
/// here), 503 while they catch up.
async fn ready(State(state): State<AppState>) -> Result<Json<Ready>, Problem> {
    let st = state.clone();
    let head = blocking(move || st.read(|store| store.head())).await?;
    let applied = state.model().applied();
    if let Some(cause) = state.appends_stopped() {
        return Err(Problem::not_ready(format!(
            "appends are stopped until the server restarts: {cause}"
        )));
    }
    if applied < head.position {
        return Err(Problem::not_ready(format!(
            "the projections hold position {applied} of {}; catching up",
            head.position
        )));
    }
    Ok(Json(Ready {
        status: "ready",
        applied,
        head_position: head.position,
    }))
}

/// The metrics in the Prometheus text format (the projection lag measured now).
async fn metrics_text(State(state): State<AppState>) -> Result<Response, Problem> {
    let st = state.clone();
    let head = blocking(move || st.read(|store| store.head())).await?;
    let lag = head.position.saturating_sub(state.model().applied());
    state.metrics().projection_lag.set(lag as i64);
    state
        .metrics()
        .snapshot_age
        .set(state.snapshot_age_seconds().unwrap_or(-1.0));
    state
        .metrics()
        .appends_stopped
        .set(state.appends_stopped().is_some() as i64);
    Ok((
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics().render(),
    )
        .into_response())
}

/// `requests.json` has its own route for the POST; its GET is the list like the other files.
async fn open311_requests_json(
    state: State<AppState>,
    q: Query<std::collections::BTreeMap<String, String>>,
) -> Result<Response, Problem> {
    open311::root_file(state, Path("requests.json".to_string()), q).await
}
