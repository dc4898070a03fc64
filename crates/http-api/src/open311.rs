//! The public face: the read side of Open311 GeoReport v2 (services, requests, one request, in
//! JSON and XML) and citizens' submissions (`POST requests.json`, with an `intake` API key).
//! No personal data is ever shown.

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Form;
use chrono::{DateTime, Duration, FixedOffset};
use event_model::format_instant;
use projections::ComplaintView;
use serde::Serialize;

use crate::auth::{self, Role};
use crate::open311_form as form;
use crate::problem::Problem;
use crate::state::{blocking, AppState};

/// How far back a request list reaches when no dates are given (GeoReport v2: 90 days).
pub const DEFAULT_SPAN_DAYS: i64 = 90;

/// Most requests one list returns.
pub const MAX_REQUESTS: usize = 1000;

#[derive(Clone, Copy, PartialEq)]
enum Format {
    Json,
    Xml,
}

fn split_format(file: &str) -> Result<(&str, Format), Problem> {
    if let Some(stem) = file.strip_suffix(".json") {
        Ok((stem, Format::Json))
    } else if let Some(stem) = file.strip_suffix(".xml") {
        Ok((stem, Format::Xml))
    } else {
        Err(Problem::not_found(format!(
            "`{file}`: ask for .json or .xml"
        )))
    }
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A flat record as JSON or as an XML element of `tag`.
type Record = Vec<(&'static str, Option<String>)>;

fn render(records: &[Record], root: &str, tag: &str, format: Format, numeric: &[&str]) -> Response {
    match format {
        Format::Json => {
            let list: Vec<serde_json::Map<String, serde_json::Value>> = records
                .iter()
                .map(|r| {
                    r.iter()
                        .map(|(k, v)| {
                            let value = match v {
                                None => serde_json::Value::Null,
                                Some(x) if numeric.contains(k) => x
                                    .parse::<f64>()
                                    .map(serde_json::Value::from)
                                    .unwrap_or(serde_json::Value::Null),
                                Some(x) if *k == "metadata" => serde_json::Value::Bool(x == "true"),
                                Some(x) => serde_json::Value::String(x.clone()),
                            };
                            (k.to_string(), value)
                        })
                        .collect()
                })
                .collect();
            axum::Json(list).into_response()
        }
        Format::Xml => {
            let mut s = format!("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<{root}>");
            for r in records {
                s.push_str(&format!("<{tag}>"));
                for (k, v) in r {
                    match v {
                        Some(v) => s.push_str(&format!("<{k}>{}</{k}>", xml_escape(v))),
                        None => s.push_str(&format!("<{k}/>")),
                    }
                }
                s.push_str(&format!("</{tag}>"));
            }
            s.push_str(&format!("</{root}>\n"));
            ([(header::CONTENT_TYPE, "text/xml; charset=utf-8")], s).into_response()
        }
    }
}

/// Service requests as GeoReport v2 lists them.
fn render_requests(records: &[Record], format: Format) -> Response {
    render(
        records,
        "service_requests",
        "request",
        format,
        &["lat", "long"],
    )
}

/// `GET /open311/v2/services.{json,xml}` and `GET /open311/v2/requests.{json,xml}`.
pub async fn root_file(
    State(state): State<AppState>,
    Path(file): Path<String>,
    Query(q): Query<BTreeMap<String, String>>,
) -> Result<Response, Problem> {
    let (stem, format) = split_format(&file)?;
    // The list's parameters are checked for every file, so a wrong one is never ignored.
    RequestQuery::parse(&q, crate::state::now())?;
    match stem {
        "services" => {
            let records: Vec<Record> = event_model::categories::CODES
                .iter()
                .map(|c| {
                    vec![
                        ("service_code", Some(c.to_string())),
                        (
                            "service_name",
                            Some(event_model::categories::display_name(c)),
                        ),
                        (
                            "description",
                            Some(format!("Complaints about {}", c.replace('_', " "))),
                        ),
                        ("metadata", Some("false".to_string())),
                        ("type", Some("realtime".to_string())),
                        ("keywords", Some(c.to_string())),
                        ("group", Some(String::new())),
                    ]
                })
                .collect();
            Ok(render(&records, "services", "service", format, &[]))
        }
        "requests" => {
            let records = blocking(move || requests(&state, &q)).await?;
            Ok(render_requests(&records, format))
        }
        other => Err(Problem::not_found(format!(
            "no `{other}` here: services or requests"
        ))),
    }
}

/// `GET /open311/v2/requests/{id}.{json,xml}`: a one-element list, as the spec says.
pub async fn one_request(
    State(state): State<AppState>,
    Path(file): Path<String>,
) -> Result<Response, Problem> {
    let (id, format) = split_format(&file)?;
    let id = id.to_string();
    let records = blocking(move || {
        let q = BTreeMap::from([("service_request_id".to_string(), id.clone())]);
        let records = requests(&state, &q)?;
        if records.is_empty() {
            return Err(Problem::not_found(format!("no service request `{id}`")));
        }
        Ok(records)
    })
    .await?;
    Ok(render_requests(&records, format))
}

fn parse_w3(name: &str, v: &str) -> Result<DateTime<FixedOffset>, Problem> {
    event_model::parse_instant(v).ok_or_else(|| {
        Problem::bad_query(format!(
            "{name} `{v}` is not a W3C date-time (2024-01-01T00:00:00Z)"
        ))
    })
}

/// What a request list asks for (GeoReport v2 query parameters).
struct RequestQuery {
    /// Ids override every other filter.
    ids: Option<Vec<String>>,
    codes: Option<Vec<String>>,
    /// `open` and/or `closed`.
    statuses: Option<Vec<String>>,
    start: DateTime<FixedOffset>,
    end: DateTime<FixedOffset>,
}

impl RequestQuery {
    fn parse(q: &BTreeMap<String, String>, now: DateTime<FixedOffset>) -> Result<Self, Problem> {
        let list = |k: &str| -> Option<Vec<String>> {
            q.get(k).map(|v| {
                v.split(',')
                    .map(|x| x.trim().to_string())
                    .filter(|x| !x.is_empty())
                    .collect()
            })
        };
        let statuses = list("status");
        if statuses.as_ref().is_some_and(|s| s.is_empty()) {
            return Err(Problem::bad_query("status: open or closed".into()));
        }
        if let Some(bad) = statuses
            .iter()
            .flatten()
            .find(|s| *s != "open" && *s != "closed")
        {
            return Err(Problem::bad_query(format!(
                "status `{bad}`: open or closed"
            )));
        }
        let date = |k: &str| q.get(k).map(|v| parse_w3(k, v)).transpose();
        let (start, end) = match (date("start_date")?, date("end_date")?) {
            (Some(s), Some(e)) => (s, e),
            (Some(s), None) => (s, s + Duration::days(DEFAULT_SPAN_DAYS)),
            (None, Some(e)) => (e - Duration::days(DEFAULT_SPAN_DAYS), e),
            (None, None) => (now - Duration::days(DEFAULT_SPAN_DAYS), now),
        };
        Ok(RequestQuery {
            ids: list("service_request_id"),
            codes: list("service_code"),
            statuses,
            start,
            end,
        })
    }

    fn wants(&self, s: &projections::Summary<'_>) -> bool {
        if let Some(ids) = &self.ids {
            return ids.iter().any(|i| i == s.complaint_id);
        }
        let closed = s.status == lifecycle::Status::Closed;
        self.codes
            .as_ref()
            .is_none_or(|c| c.iter().any(|c| c == s.category))
            && s.received_at
                .is_some_and(|t| t >= self.start && t <= self.end)
            && self
                .statuses
                .as_ref()
                .is_none_or(|st| st.iter().any(|x| (x == "closed") == closed))
    }
}

fn requests(state: &AppState, q: &BTreeMap<String, String>) -> Result<Vec<Record>, Problem> {
    let now = crate::state::now();
    let query = RequestQuery::parse(q, now)?;
    let live = state.model().live().read();
    let fold = &live.fold;
    let mut found: Vec<&str> = fold
        .summaries()
        .filter(|s| query.wants(s))
        .map(|s| s.complaint_id)
        .collect();
    found.sort_unstable();
    found.truncate(MAX_REQUESTS);
    Ok(fold
        .views_of_at(&found, state.calendar(), state.rules(), now)
        .iter()
        .map(|v| record(fold, v))
        .collect())
}

/// The end of a due date in Bangkok, as an instant.
fn due_instant(d: chrono::NaiveDate) -> String {
    format!("{d}T23:59:59+07:00")
}

/// The next deadline of the round in force, as the projection states it
/// ([`projections::RoundView::next_due`]).
fn expected(v: &ComplaintView) -> Option<String> {
    v.rounds.last()?.next_due.map(due_instant)
}

fn record(fold: &projections::ComplaintFold, v: &ComplaintView) -> Record {
    let info = fold.public_info(&v.complaint_id);
    let closed = v.status == lifecycle::Status::Closed;
    let loc = info.as_ref().and_then(|i| i.location);
    vec![
        ("service_request_id", Some(v.complaint_id.clone())),
        (
            "status",
            Some(if closed { "closed" } else { "open" }.to_string()),
        ),
        (
            "status_notes",
            if closed {
                info.as_ref().and_then(|i| i.answer).map(String::from)
            } else {
                None
            },
        ),
        (
            "service_name",
            Some(event_model::categories::display_name(&v.category)),
        ),
        ("service_code", Some(v.category.clone())),
        ("description", info.as_ref().map(|i| i.subject.to_string())),
        ("agency_responsible", v.unit.clone()),
        ("service_notice", None),
        (
            "requested_datetime",
            v.received_at.map(|t| format_instant(&t.0)),
        ),
        (
            "updated_datetime",
            info.as_ref()
                .and_then(|i| i.updated_at)
                .map(|t| format_instant(&t)),
        ),
        ("expected_datetime", if closed { None } else { expected(v) }),
        ("address", loc.and_then(|l| l.address.clone())),
        ("address_id", None),
        ("zipcode", None),
        ("lat", loc.and_then(|l| l.lat).map(|x| x.to_string())),
        ("long", loc.and_then(|l| l.lon).map(|x| x.to_string())),
        ("media_url", None),
    ]
}

#[derive(Serialize)]
struct Created {
    service_request_id: String,
    service_notice: String,
}

/// `POST /open311/v2/requests.json`: a citizen's submission becomes a `received` event.
pub async fn submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(f): Form<form::Submission>,
) -> Result<Response, Problem> {
    // The API key travels in the form (GeoReport v2) or as a bearer token.
    let mut h = headers.clone();
    if let Some(key) = &f.api_key {
        h.insert(
            header::AUTHORIZATION,
            format!("Bearer {key}")
                .parse()
                .map_err(|_| auth::unauthorized("the api_key is not text"))?,
        );
    }
    let caller = state.caller(&h).await?;
    if !matches!(caller.role, Role::Intake | Role::Admin) {
        return Err(auth::forbidden(
            "submissions need an `intake` API key".into(),
        ));
    }
    let id = uuid::Uuid::now_v7();
    let event = form::to_event(&f, id, crate::state::now(), caller.actor())
        .map_err(|e| Problem::malformed(e.message, None, Some(id.to_string()), Some(e.field)))?;
    let stream = event.stream.clone();
    state.writer().append(vec![event]).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(vec![Created {
            service_request_id: stream,
            service_notice: String::new(),
        }]),
    )
        .into_response())
}
