//! Who may do what: bearer tokens (stored only as SHA-256 hashes) and their roles.

use axum::http::{header, HeaderMap, StatusCode};
use event_model::{EventData, NewEvent, RecordedEvent};
use sha2::{Digest, Sha256};

use crate::problem::{Problem, ProblemDoc};

/// What a token may do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Role {
    /// The intake centre: receives, forwards, reopens, closes as the centre.
    Intake,
    /// One unit: acknowledges, reports progress, closes and reports monthly for itself only,
    /// and reads only its own complaints, without personal data.
    Unit(String),
    /// Records spot checks; reads everything.
    Evaluator,
    /// Delivers an outside platform's webhooks (Traffy Fondue): its tickets' lifecycle events
    /// on their `traffy:` streams.
    Connector,
    /// One inspecting office: records its field inspections; reads everything, without
    /// personal data.
    Inspector(String),
    Admin,
}

impl Role {
    /// Reads a stored role (`unit` needs its unit).
    pub fn parse(role: &str, unit: Option<&str>) -> Option<Role> {
        match (role, unit) {
            ("intake", None) => Some(Role::Intake),
            ("unit", Some(u)) if !u.is_empty() => Some(Role::Unit(u.to_string())),
            ("evaluator", None) => Some(Role::Evaluator),
            ("connector", None) => Some(Role::Connector),
            ("inspector", Some(o)) if !o.is_empty() => Some(Role::Inspector(o.to_string())),
            ("admin", None) => Some(Role::Admin),
            _ => None,
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            Role::Intake => "intake",
            Role::Unit(_) => "unit",
            Role::Evaluator => "evaluator",
            Role::Connector => "connector",
            Role::Inspector(_) => "inspector",
            Role::Admin => "admin",
        }
    }

    /// The role as a page names who is signed in: with its unit or office.
    pub fn label(&self) -> String {
        match self {
            Role::Unit(u) => format!("unit {u}"),
            Role::Inspector(o) => format!("inspector {o}"),
            r => r.name().to_string(),
        }
    }

    /// Whether the role may see complainants' names and contacts (Thailand's PDPA).
    pub fn sees_personal_data(&self) -> bool {
        !matches!(self, Role::Unit(_) | Role::Inspector(_))
    }
}

/// The caller behind a request.
#[derive(Debug, Clone)]
pub struct Caller {
    pub token_id: i64,
    pub role: Role,
}

impl Caller {
    /// The identity recorded as the `actor` of the events this caller appends.
    pub fn actor(&self) -> String {
        match &self.role {
            Role::Unit(u) => format!("token:{}:unit:{u}", self.token_id),
            Role::Inspector(o) => format!("token:{}:inspector:{o}", self.token_id),
            r => format!("token:{}:{}", self.token_id, r.name()),
        }
    }

    /// Why this caller may not append `e`, if it may not.
    pub fn may_append(&self, e: &NewEvent) -> Result<(), String> {
        let own = |unit: &str| matches!(&self.role, Role::Unit(u) if u == unit);
        let ok = match (&self.role, &e.data) {
            (Role::Admin, _) => true,
            (
                Role::Intake,
                EventData::Received(_) | EventData::Forwarded(_) | EventData::Reopened(_),
            ) => true,
            (Role::Intake, EventData::Closed(c)) => c.unit.is_none(),
            // The centre's own duties, and its flags.
            (
                Role::Intake,
                EventData::Chased(_) | EventData::ComplainantInformed(_) | EventData::Flagged(_),
            ) => true,
            (Role::Inspector(o), EventData::FieldInspected(d)) => &d.office == o,
            (Role::Unit(_), EventData::Acknowledged(d)) => own(&d.unit),
            (Role::Unit(_), EventData::ProgressReported(d)) => own(&d.unit),
            (Role::Unit(_), EventData::Closed(d)) => d.unit.as_deref().is_some_and(own),
            (Role::Unit(_), EventData::MonthlyReportSubmitted(d)) => own(&d.unit),
            (Role::Evaluator, EventData::SpotChecked(_)) => true,
            (
                Role::Connector,
                EventData::Received(_)
                | EventData::Forwarded(_)
                | EventData::Acknowledged(_)
                | EventData::ProgressReported(_)
                | EventData::Closed(_)
                | EventData::Reopened(_)
                | EventData::Observed(_),
            ) => e.stream.starts_with("traffy:"),
            _ => false,
        };
        if ok {
            Ok(())
        } else {
            Err(match &self.role {
                Role::Unit(u) => format!(
                    "a `unit` token for `{u}` may not append this `{}` event",
                    e.event_type()
                ),
                Role::Inspector(o) => format!(
                    "an `inspector` token for `{o}` may not append this `{}` event",
                    e.event_type()
                ),
                r => format!(
                    "a `{}` token may not append `{}` events",
                    r.name(),
                    e.event_type()
                ),
            })
        }
    }
}

/// The SHA-256 of a presented token, as the store keeps it.
pub fn token_hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// The bearer token of a request, if any.
pub fn bearer(headers: &HeaderMap) -> Result<String, Problem> {
    let value = headers
        .get(header::AUTHORIZATION)
        .ok_or_else(|| unauthorized("send `Authorization: Bearer <token>`"))?
        .to_str()
        .map_err(|_| unauthorized("the Authorization header is not text"))?;
    match value.strip_prefix("Bearer ") {
        Some(t) if !t.trim().is_empty() => Ok(t.trim().to_string()),
        _ => Err(unauthorized(
            "the Authorization header is not `Bearer <token>`",
        )),
    }
}

pub fn unauthorized(detail: &str) -> Problem {
    Problem(Box::new(ProblemDoc {
        ..Problem::doc(
            "unauthorized",
            "Unauthorized",
            StatusCode::UNAUTHORIZED,
            detail.to_string(),
        )
    }))
}

pub fn forbidden(detail: String) -> Problem {
    Problem(Box::new(Problem::doc(
        "forbidden",
        "Forbidden",
        StatusCode::FORBIDDEN,
        detail,
    )))
}

/// Removes complainants' names and contacts from an event (for roles that may not see them).
pub fn redact(e: &mut RecordedEvent) {
    e.redact_personal_data();
}

/// A token that could not be issued.
#[derive(Debug)]
pub enum IssueError {
    /// The role is not one of the roles (or a `unit` token lacks its unit).
    BadRole(String),
    Store(event_store::StoreError),
}

impl std::fmt::Display for IssueError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            IssueError::BadRole(why) => f.write_str(why),
            IssueError::Store(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for IssueError {}

/// A new random API token: `rtk_` and 64 hexadecimal digits (244 random bits).
pub fn new_token() -> String {
    format!(
        "rtk_{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

/// Issues a token of `role` (of `unit` for a unit token) in the log's store, created at
/// `now`; returns its id and the token, which is stored only as its hash.
pub fn issue_token(
    store: &dyn event_store::TokenStore,
    role: &str,
    unit: Option<&str>,
    label: &str,
    now: chrono::DateTime<chrono::FixedOffset>,
) -> Result<(i64, String), IssueError> {
    if let Some(Role::Inspector(o)) = Role::parse(role, unit) {
        read_model::inspecting_office(&o)
            .map_err(|e| IssueError::BadRole(format!("--unit {e}")))?;
    }
    if Role::parse(role, unit).is_none() {
        return Err(IssueError::BadRole(format!(
            "--role `{role}`{}: roles are intake, unit (with --unit UNIT), evaluator, connector, inspector (with --unit OFFICE) and admin",
            unit.map(|u| format!(" with --unit `{u}`"))
                .unwrap_or_default()
        )));
    }
    let token = new_token();
    let id = store
        .insert_token(
            &token_hash(&token),
            role,
            unit,
            label,
            &event_model::format_instant(&now),
        )
        .map_err(IssueError::Store)?;
    Ok((id, token))
}
