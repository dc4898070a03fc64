//! The Traffy Fondue exchange API's webhooks, under a `connector` token: a new ticket (`POST`)
//! and a status change (`PATCH`) become events through the same append path as
//! `POST /v1/events`. The mapping is `traffy::exchange`'s: ids come from the webhook's own
//! content, so a redelivery adds nothing, and the events carry the platform's actors (so a
//! later sync of the same ticket finds them as repeats). Chat, comment and rating webhooks are
//! taken and record nothing.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::Value;

use crate::auth::{self, Role};
use crate::events::append_as_caller;
use crate::problem::Problem;
use crate::state::{blocking, AppState};

/// The webhook's JSON object (400 when the body is not one).
fn object(body: &Bytes) -> Result<serde_json::Map<String, Value>, Problem> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(o)) => Ok(o),
        Ok(_) => Err(Problem::malformed(
            "the webhook body must be a JSON object".into(),
            None,
            None,
            None,
        )),
        Err(e) => Err(Problem::malformed(
            format!("malformed JSON: {e}"),
            None,
            None,
            None,
        )),
    }
}

/// The events' form, as `POST /v1/events` checks it (identifiers, texts, coordinates): what a
/// webhook carries may not make a malformed event (422).
fn checked(events: Vec<event_model::NewEvent>) -> Result<Vec<event_model::NewEvent>, Problem> {
    for e in &events {
        event_model::wire::check_form(e).map_err(|(field, why)| {
            Problem::unprocessable(format!("the webhook makes an event whose `{field}` {why}"))
        })?;
    }
    Ok(events)
}

/// What a field of a webhook body may be, as the OpenAPI document states it.
#[derive(Clone, Copy)]
enum Kind {
    Text,
    TextOrNull,
    TextOrInteger,
    TextOrNumber,
    Texts,
    Orgs,
}

fn kind_holds(kind: Kind, v: &Value) -> bool {
    let integer = |v: &Value| {
        v.as_i64().is_some() || v.as_u64().is_some() || v.as_f64().is_some_and(|f| f.fract() == 0.0)
    };
    match kind {
        Kind::Text => v.is_string(),
        Kind::TextOrNull => v.is_string() || v.is_null(),
        Kind::TextOrInteger => v.is_string() || integer(v),
        Kind::TextOrNumber => v.is_string() || v.is_number(),
        Kind::Texts => v.as_array().is_some_and(|a| a.iter().all(Value::is_string)),
        Kind::Orgs => v.as_array().is_some_and(|a| {
            a.iter().all(|o| {
                o.as_object().is_some_and(|o| {
                    o.get("org_id")
                        .is_none_or(|x| kind_holds(Kind::TextOrInteger, x))
                        && o.get("org").is_none_or(Value::is_string)
                })
            })
        }),
    }
}

/// Checks a body's fields against their kinds (400 naming the field): required ones present,
/// the others absent or of their kind; fields the document does not name are let through (the
/// platform may add some).
fn check_fields(
    body: &serde_json::Map<String, Value>,
    fields: &[(&str, Kind, bool)],
) -> Result<(), Problem> {
    for (name, kind, required) in fields {
        match body.get(*name) {
            None if *required => {
                return Err(Problem::malformed(
                    format!("the webhook body has no `{name}`"),
                    None,
                    None,
                    Some((*name).to_string()),
                ))
            }
            Some(v) if !kind_holds(*kind, v) => {
                return Err(Problem::malformed(
                    format!("`{name}` is not what the webhook carries there"),
                    None,
                    None,
                    Some((*name).to_string()),
                ))
            }
            _ => {}
        }
    }
    Ok(())
}

/// The fields of the new-ticket webhook: name, kind, required.
const NEW_TICKET: &[(&str, Kind, bool)] = &[
    ("timestamp", Kind::Text, true),
    ("ticket_id", Kind::Text, true),
    ("description", Kind::Text, false),
    ("type_id", Kind::TextOrInteger, false),
    ("type", Kind::Text, false),
    ("photo", Kind::Texts, false),
    ("latitude", Kind::TextOrNumber, false),
    ("longitude", Kind::TextOrNumber, false),
    ("address", Kind::Text, false),
    ("orgs", Kind::Orgs, false),
];

/// The fields of the status-change webhook.
const STATUS_CHANGE: &[(&str, Kind, bool)] = &[
    ("timestamp", Kind::Text, true),
    ("ticket_id", Kind::Text, true),
    ("org", Kind::Text, false),
    ("status", Kind::Text, true),
    ("note", Kind::TextOrNull, false),
    ("photo", Kind::Texts, false),
];

/// The `event` values of the chat, comment and rating webhooks.
const MESSAGE_EVENTS: [&str; 4] = ["chat", "rating", "comment", "chat_staff_only"];

pub(crate) fn districts() -> std::collections::BTreeMap<String, String> {
    let names = indicators::spec::bangkok_unit_names();
    traffy::units_of(names.iter().map(|(u, t)| (u.as_str(), t.th.as_str())))
}

async fn connector(state: &AppState, headers: &HeaderMap) -> Result<auth::Caller, Problem> {
    let caller = state.caller(headers).await?;
    match caller.role {
        Role::Connector | Role::Admin => Ok(caller),
        _ => Err(auth::forbidden(format!(
            "a `{}` token may not deliver webhooks: a `connector` token may",
            caller.role.name()
        ))),
    }
}

/// `POST /v1/connectors/traffy/webhook`: a new ticket, or a chat, comment or rating.
pub(crate) async fn traffy_post(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Problem> {
    let caller = connector(&state, &headers).await?;
    let body = object(&body)?;
    if let Some(event) = body.get("event") {
        if !event.as_str().is_some_and(|e| MESSAGE_EVENTS.contains(&e)) {
            return Err(Problem::malformed(
                format!("`event` must be one of {}", MESSAGE_EVENTS.join(", ")),
                None,
                None,
                Some("event".into()),
            ));
        }
        // A chat, comment or rating: nothing the lifecycle records.
        return append_as_caller(&state, &caller, vec![], false).await;
    }
    check_fields(&body, NEW_TICKET)?;
    let events =
        traffy::exchange::webhook_new(&body, &districts()).map_err(Problem::unprocessable)?;
    append_as_caller(&state, &caller, checked(events)?, false).await
}

/// `PATCH /v1/connectors/traffy/webhook`: a status change of a ticket the log holds.
pub(crate) async fn traffy_patch(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Problem> {
    let caller = connector(&state, &headers).await?;
    let body = object(&body)?;
    check_fields(&body, STATUS_CHANGE)?;
    let id = body
        .get("ticket_id")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| Problem::unprocessable("no ticket_id".into()))?
        .to_string();
    let reader = state.clone();
    let stored =
        blocking(move || reader.read(|store| store.read_stream(&traffy::stream_of(&id)))).await?;
    let prior = traffy::Prior::of(&stored);
    let events =
        traffy::exchange::webhook_status(&body, prior.as_ref()).map_err(Problem::unprocessable)?;
    append_as_caller(&state, &caller, checked(events)?, false).await
}
