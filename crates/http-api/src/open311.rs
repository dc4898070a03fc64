//! The public face: the read side of Open311 GeoReport v2 (services, requests, one request, in
//! JSON and XML) and citizens' submissions (`POST requests.json`, with an `intake` API key).
//! No personal data is ever shown.

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Form;
use chrono::{DateTime, Duration, FixedOffset};
use event_model::{format_instant, Channel, Complainant, EventData, Location, NewEvent, Received};
use projections::ComplaintView;
use serde::Serialize;

use crate::auth::{self, Role};
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

fn service_name(code: &str) -> String {
    if let Some(c) = event_model::categories::known(code) {
        return c.en.to_string();
    }
    let mut n = code.replace('_', " ");
    if let Some(first) = n.get_mut(0..1) {
        first.make_ascii_uppercase();
    }
    n
}

/// `GET /open311/v2/services.{json,xml}` and `GET /open311/v2/requests.{json,xml}`.
pub async fn root_file(
    State(state): State<AppState>,
    Path(file): Path<String>,
    Query(q): Query<BTreeMap<String, String>>,
) -> Result<Response, Problem> {
    let (stem, format) = split_format(&file)?;
    match stem {
        "services" => {
            let records: Vec<Record> = event_model::categories::CODES
                .iter()
                .map(|c| {
                    vec![
                        ("service_code", Some(c.to_string())),
                        ("service_name", Some(service_name(c))),
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

fn requests(state: &AppState, q: &BTreeMap<String, String>) -> Result<Vec<Record>, Problem> {
    let list = |k: &str| -> Option<Vec<String>> {
        q.get(k).map(|v| {
            v.split(',')
                .map(|x| x.trim().to_string())
                .filter(|x| !x.is_empty())
                .collect()
        })
    };
    let ids = list("service_request_id");
    let codes = list("service_code");
    let statuses = list("status");
    if let Some(st) = &statuses {
        if let Some(bad) = st.iter().find(|s| *s != "open" && *s != "closed") {
            return Err(Problem::bad_query(format!(
                "status `{bad}`: open or closed"
            )));
        }
    }
    let now = crate::state::now();
    let end = q
        .get("end_date")
        .map(|v| parse_w3("end_date", v))
        .transpose()?;
    let start = q
        .get("start_date")
        .map(|v| parse_w3("start_date", v))
        .transpose()?;
    let (start, end) = match (start, end) {
        (Some(s), Some(e)) => (s, e),
        (Some(s), None) => (s, s + Duration::days(DEFAULT_SPAN_DAYS)),
        (None, Some(e)) => (e - Duration::days(DEFAULT_SPAN_DAYS), e),
        (None, None) => (now - Duration::days(DEFAULT_SPAN_DAYS), now),
    };
    let live = state.model().live().read();
    let fold = &live.fold;
    let mut found: Vec<(&str, bool)> = fold
        .summaries()
        .filter(|s| match &ids {
            // Ids override every other filter.
            Some(ids) => ids.iter().any(|i| i == s.complaint_id),
            None => {
                codes
                    .as_ref()
                    .is_none_or(|c| c.iter().any(|c| c == s.category))
                    && s.received_at.is_some_and(|t| t >= start && t <= end)
                    && statuses.as_ref().is_none_or(|st| {
                        st.iter()
                            .any(|x| (x == "closed") == (s.status == lifecycle::Status::Closed))
                    })
            }
        })
        .map(|s| (s.complaint_id, s.status == lifecycle::Status::Closed))
        .collect();
    found.sort_unstable();
    found.truncate(MAX_REQUESTS);
    Ok(found
        .into_iter()
        .filter_map(|(id, _)| fold.view_at(id, state.calendar(), state.rules(), now))
        .map(|v| record(fold, &v))
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
        ("service_name", Some(service_name(&v.category))),
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

#[derive(serde::Deserialize)]
pub struct Submission {
    api_key: Option<String>,
    service_code: String,
    lat: Option<f64>,
    long: Option<f64>,
    address_string: Option<String>,
    description: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
    phone: Option<String>,
    email: Option<String>,
    #[serde(default)]
    district: Option<String>,
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
    Form(f): Form<Submission>,
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
    if !event_model::categories::CODES.contains(&f.service_code.as_str()) {
        return Err(Problem::malformed(
            format!(
                "service_code `{}` is not a service (see services.json)",
                f.service_code
            ),
            None,
            None,
            Some("service_code".into()),
        ));
    }
    let description = f
        .description
        .clone()
        .filter(|d| !d.trim().is_empty())
        .unwrap_or_else(|| service_name(&f.service_code));
    let name = match (f.first_name.as_deref(), f.last_name.as_deref()) {
        (None, None) => None,
        (a, b) => Some(
            format!("{} {}", a.unwrap_or(""), b.unwrap_or(""))
                .trim()
                .to_string(),
        ),
    };
    let contact = f.phone.clone().or(f.email.clone());
    let anonymous = name.is_none() && contact.is_none();
    let now = crate::state::now();
    let id = uuid::Uuid::now_v7();
    let stream = format!("O311-{}", id.simple());
    let event = NewEvent {
        id,
        stream: stream.clone(),
        occurred_at: now,
        actor: caller.actor(),
        data: EventData::Received(Received {
            category: f.service_code.clone(),
            channel: Channel::Web,
            complainant: Complainant {
                anonymous,
                wants_update: contact.is_some(),
                name,
                contact,
            },
            detail: f.description.clone(),
            district: f
                .district
                .clone()
                .filter(|d| !d.trim().is_empty())
                .unwrap_or_else(|| "unknown".into()),
            external_ref: None,
            location: (f.lat.is_some() || f.long.is_some() || f.address_string.is_some()).then(
                || Location {
                    address: f.address_string.clone(),
                    lat: f.lat,
                    lon: f.long,
                },
            ),
            subject: description,
        }),
        expected_version: Some(0),
    };
    event_model::wire::check_form(&event)
        .map_err(|(field, msg)| Problem::malformed(msg, None, Some(id.to_string()), Some(field)))?;
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
