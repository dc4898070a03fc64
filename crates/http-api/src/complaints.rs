//! Complaints: one complaint judged as of an instant, its events, and the list.

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use lifecycle::Status;
use read_model::{ComplaintAt, ListFilter};
use serde::{Deserialize, Serialize};

use crate::auth::{self, Role};
use crate::problem::Problem;
use crate::state::{blocking, now, parse_as_of, AppState};

#[derive(Deserialize)]
pub(crate) struct AsOfQuery {
    as_of: Option<String>,
}

pub(crate) async fn get_complaint(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<AsOfQuery>,
) -> Result<Response, Problem> {
    let caller = state.caller(&headers).await?;
    let as_of = parse_as_of(&state, q.as_of.as_deref())?.unwrap_or_else(now);
    let view =
        blocking(
            move || match state.read(|store| state.model().complaint(store, &id, as_of))? {
                ComplaintAt::View(v) => Ok(v),
                ComplaintAt::Unknown | ComplaintAt::NotYet => {
                    Err(Problem::not_found(format!("no complaint `{id}`")))
                }
            },
        )
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

pub(crate) async fn get_complaint_events(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let caller = state.caller(&headers).await?;
    let mut events = blocking(move || {
        let events = state.read(|store| store.read_stream(&id))?;
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
pub(crate) struct ListQuery {
    unit: Option<String>,
    status: Option<String>,
    #[serde(default)]
    overdue: bool,
    /// At most `u32::MAX` (the document says so; a larger number does not decode).
    #[serde(default = "first_page")]
    page: u32,
    #[serde(default = "default_per_page")]
    per_page: usize,
}

fn first_page() -> u32 {
    1
}

fn default_per_page() -> usize {
    50
}

#[derive(Serialize)]
pub(crate) struct ListPage {
    page: usize,
    per_page: usize,
    total: usize,
    complaints: Vec<projections::ComplaintView>,
}

pub(crate) async fn list_complaints(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<ListQuery>,
) -> Result<Json<ListPage>, Problem> {
    let unit = state.scoped_unit(&headers, q.unit).await?;
    if q.page == 0 || q.per_page == 0 || q.per_page > MAX_PAGE_SIZE {
        return Err(Problem::bad_query(format!(
            "page starts at 1; per_page must be 1 to {MAX_PAGE_SIZE}"
        )));
    }
    let status = match q.status.as_deref() {
        None => None,
        Some(s) => Some(Status::parse(s).ok_or_else(|| {
            let names: Vec<&str> = Status::LISTED.iter().map(|s| s.as_str()).collect();
            Problem::bad_query(format!("status `{s}` is not one of {}", names.join(", ")))
        })?),
    };
    let filter = ListFilter {
        unit,
        status,
        overdue: q.overdue,
    };
    blocking(move || {
        let page = state
            .model()
            .complaints(&filter, now(), q.page as usize, q.per_page);
        Ok(Json(ListPage {
            page: q.page as usize,
            per_page: q.per_page,
            total: page.total,
            complaints: page.complaints,
        }))
    })
    .await
}
