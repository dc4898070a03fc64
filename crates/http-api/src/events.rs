//! The log itself: appends (`POST /v1/events`), the feed (`GET /v1/events`) and its live
//! form (`GET /v1/events/stream`, Server-Sent Events).

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use event_model::{parse_wire_event, NewEvent};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::auth::{self, Role};
use crate::problem::Problem;
use crate::state::{blocking, AppState};

/// Most events one feed page returns.
pub const MAX_FEED_PAGE: u64 = 10_000;

#[derive(Serialize)]
pub(crate) struct AppendedEvent {
    id: String,
    position: u64,
    version: u64,
    duplicate: bool,
}

#[derive(Serialize)]
pub(crate) struct AppendAnswer {
    appended: u64,
    duplicates: u64,
    events: Vec<AppendedEvent>,
}

/// Decodes a body of `POST /v1/events`: one event object or an array of them (an atomic
/// batch).
pub fn decode_body(body: &[u8]) -> Result<Vec<NewEvent>, Problem> {
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
        .map(|(i, raw)| parse_wire_event(raw.get()).map_err(|e| Problem::wire(&e, Some(i))))
        .collect()
}

pub(crate) async fn post_events(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Problem> {
    let caller = state.caller(&headers).await?;
    let events = decode_body(&body)?;
    append_as_caller(&state, &caller, events, true).await
}

/// The one append path of the API, the webhooks and the dashboard's forms: each event one the
/// caller may append (403 naming it otherwise), recorded as the token when `as_token`, then
/// the writer (the store checks form, order and the lifecycle: 4xx problems).
pub(crate) async fn append_checked(
    state: &AppState,
    caller: &auth::Caller,
    mut events: Vec<NewEvent>,
    as_token: bool,
) -> Result<event_store::AppendReport, Problem> {
    for (i, e) in events.iter_mut().enumerate() {
        caller.may_append(e).map_err(|why| {
            let mut p = auth::forbidden(why);
            p.0.event_index = Some(i);
            p.0.event_id = Some(e.id.to_string());
            p
        })?;
        if as_token {
            e.actor = caller.actor();
        }
    }
    state.writer().append(events).await
}

/// Appends `events` for `caller` (each one it may append; with `as_token`, recorded with the
/// token's identity as the actor rather than what the sender wrote) and answers with what
/// was stored. No events: an empty 200 answer.
pub(crate) async fn append_as_caller(
    state: &AppState,
    caller: &auth::Caller,
    events: Vec<NewEvent>,
    as_token: bool,
) -> Result<Response, Problem> {
    if events.is_empty() {
        let answer = AppendAnswer {
            appended: 0,
            duplicates: 0,
            events: vec![],
        };
        return Ok((StatusCode::OK, Json(answer)).into_response());
    }
    let ids: Vec<String> = events.iter().map(|e| e.id.to_string()).collect();
    let report = append_checked(state, caller, events, as_token).await?;
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
pub(crate) struct FeedQuery {
    #[serde(default)]
    after: u64,
    #[serde(default)]
    limit: Option<u64>,
}

#[derive(Serialize)]
pub(crate) struct Feed {
    events: Vec<event_model::RecordedEvent>,
    /// Pass as `after` for the next page.
    next_after: u64,
}

pub(crate) async fn get_events(
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
    let mut events = blocking(move || state.read(|store| store.read_after(q.after, limit))).await?;
    if !caller.role.sees_personal_data() {
        events.iter_mut().for_each(auth::redact);
    }
    let next_after = events.last().map_or(q.after, |e| e.position);
    Ok(Json(Feed { events, next_after }))
}

#[derive(Deserialize)]
pub(crate) struct StreamQuery {
    #[serde(default)]
    after: u64,
}

/// A follower of the log for one SSE client.
struct Follow {
    state: AppState,
    after: u64,
    buffer: std::collections::VecDeque<event_model::RecordedEvent>,
    head: tokio::sync::watch::Receiver<u64>,
    stopping: tokio::sync::watch::Receiver<bool>,
    redact: bool,
    /// Counted among the SSE subscribers while the stream lives.
    _subscriber: crate::metrics::Subscriber,
}

impl Follow {
    /// The next SSE message: the next event after the last one sent, waiting for a commit
    /// when there is none yet; `None` at shutdown.
    async fn next(mut self) -> Option<(axum::response::sse::Event, Follow)> {
        use axum::response::sse::Event;
        loop {
            if *self.stopping.borrow() {
                return None;
            }
            if let Some(mut e) = self.buffer.pop_front() {
                self.after = e.position;
                if self.redact {
                    auth::redact(&mut e);
                }
                let msg = Event::default()
                    .id(e.position.to_string())
                    .event(e.event_type().as_str())
                    .json_data(&e)
                    .unwrap_or_else(|_| Event::default().comment("unserialisable event"));
                return Some((msg, self));
            }
            let (st, after) = (self.state.clone(), self.after);
            match blocking(move || st.read(|store| store.read_after(after, 1000))).await {
                Ok(events) if !events.is_empty() => self.buffer.extend(events),
                Ok(_) => {
                    // Wait for a commit or for the shutdown.
                    tokio::select! {
                        changed = self.head.changed() => if changed.is_err() { return None },
                        _ = self.stopping.changed() => {},
                    }
                }
                Err(_) => return None,
            }
        }
    }
}

/// Server-Sent Events: every event after `after`, then each new one as it is committed. Each
/// SSE message has the position as its `id` and the event type as its `event`.
pub(crate) async fn stream_events(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<StreamQuery>,
) -> Result<Response, Problem> {
    use axum::response::sse::{KeepAlive, Sse};
    let caller = state.caller(&headers).await?;
    if let Role::Unit(u) = &caller.role {
        return Err(auth::forbidden(format!(
            "the stream holds every unit's complaints; a `unit` token for `{u}` may not read it"
        )));
    }
    let follow = Follow {
        head: state.head(),
        stopping: state.stopping(),
        _subscriber: crate::metrics::Subscriber::new(&state.metrics().sse_subscribers),
        state,
        after: q.after,
        buffer: Default::default(),
        redact: !caller.role.sees_personal_data(),
    };
    let stream = futures_util::stream::unfold(follow, |f| async move {
        f.next()
            .await
            .map(|(msg, f)| (Ok::<_, std::convert::Infallible>(msg), f))
    });
    Ok(Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response())
}
