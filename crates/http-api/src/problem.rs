//! Errors as `application/problem+json` (RFC 9457), naming the event, field and rule.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use event_store::{AppendError, AppendErrorKind};
use serde::Serialize;

/// A problem, boxed so that results carrying it stay small.
#[derive(Debug, Clone)]
pub struct Problem(pub Box<ProblemDoc>);

/// A problem document.
#[derive(Debug, Clone, Serialize)]
pub struct ProblemDoc {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// 0-based index of the offending event in the batch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_index: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// The lifecycle rule or the conflict class.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
}

impl Problem {
    pub(crate) fn doc(class: &str, title: &str, status: StatusCode, detail: String) -> ProblemDoc {
        ProblemDoc {
            kind: format!("urn:rongtook:problem:{class}"),
            title: title.to_string(),
            status: status.as_u16(),
            detail,
            event_index: None,
            event_id: None,
            field: None,
            rule: None,
        }
    }

    pub fn malformed(
        detail: String,
        index: Option<usize>,
        event_id: Option<String>,
        field: Option<String>,
    ) -> Problem {
        Problem(Box::new(ProblemDoc {
            event_index: index,
            event_id,
            field,
            ..Problem::doc(
                "malformed",
                "Malformed event",
                StatusCode::BAD_REQUEST,
                detail,
            )
        }))
    }

    /// A wire-format event refused before any rule ran: malformed (400), or well-formed with
    /// fields that disagree (422).
    pub fn wire(e: &event_model::WireError, index: Option<usize>) -> Problem {
        let mut p = Problem::malformed(
            e.message.clone(),
            index,
            e.event_id.clone(),
            e.field.clone(),
        );
        if e.inconsistent {
            *p.0 = ProblemDoc {
                event_index: index,
                event_id: e.event_id.clone(),
                field: e.field.clone(),
                ..Problem::doc(
                    "inconsistent",
                    "Fields disagree",
                    StatusCode::UNPROCESSABLE_ENTITY,
                    e.message.clone(),
                )
            };
        }
        p
    }

    /// A refusal the framework made before any handler ran (a body too large, a wrong content
    /// type, a form or query that does not decode, an unknown method), as a problem.
    pub fn rejected(status: StatusCode, detail: String) -> Problem {
        let (class, title) = match status {
            StatusCode::PAYLOAD_TOO_LARGE => ("too_large", "Request body too large"),
            StatusCode::UNSUPPORTED_MEDIA_TYPE => ("media_type", "Unsupported media type"),
            StatusCode::UNPROCESSABLE_ENTITY => ("unprocessable", "Request does not decode"),
            StatusCode::METHOD_NOT_ALLOWED => ("method", "Method not allowed"),
            StatusCode::NOT_FOUND => ("not_found", "Not found"),
            s if s.is_server_error() => ("internal", "Internal error"),
            _ => ("bad_request", "Bad request"),
        };
        Problem(Box::new(Problem::doc(class, title, status, detail)))
    }

    /// A query the server understood but cannot answer: an instant outside the holiday
    /// calendar's years.
    pub fn outside_calendar(e: read_model::OutsideCalendar) -> Problem {
        Problem(Box::new(Problem::doc(
            "outside_calendar",
            "Outside the calendar",
            StatusCode::UNPROCESSABLE_ENTITY,
            e.to_string(),
        )))
    }

    /// A well-formed request that cannot be taken (a webhook the lifecycle cannot place).
    pub fn unprocessable(detail: String) -> Problem {
        Problem(Box::new(Problem::doc(
            "unprocessable",
            "Request cannot be taken",
            StatusCode::UNPROCESSABLE_ENTITY,
            detail,
        )))
    }

    pub fn bad_query(detail: String) -> Problem {
        Problem(Box::new(Problem::doc(
            "bad_query",
            "Bad query parameter",
            StatusCode::BAD_REQUEST,
            detail,
        )))
    }

    pub fn not_found(detail: String) -> Problem {
        Problem(Box::new(Problem::doc(
            "not_found",
            "Not found",
            StatusCode::NOT_FOUND,
            detail,
        )))
    }

    pub fn internal(detail: String) -> Problem {
        Problem(Box::new(Problem::doc(
            "internal",
            "Internal error",
            StatusCode::INTERNAL_SERVER_ERROR,
            detail,
        )))
    }

    /// The server is up but its projections do not hold every committed event yet.
    pub fn not_ready(detail: String) -> Problem {
        Problem(Box::new(Problem::doc(
            "not_ready",
            "Not ready",
            StatusCode::SERVICE_UNAVAILABLE,
            detail,
        )))
    }

    pub fn unavailable(detail: String) -> Problem {
        Problem(Box::new(Problem::doc(
            "unavailable",
            "Shutting down",
            StatusCode::SERVICE_UNAVAILABLE,
            detail,
        )))
    }
}

impl From<AppendError> for Problem {
    fn from(e: AppendError) -> Problem {
        let class = e.class();
        let (status, title, rule, field) = match &e.kind {
            AppendErrorKind::Malformed(w) if w.inconsistent => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "Fields disagree",
                None,
                w.field.clone(),
            ),
            AppendErrorKind::Malformed(w) => (
                StatusCode::BAD_REQUEST,
                "Malformed event",
                None,
                w.field.clone(),
            ),
            AppendErrorKind::Rejected(r) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "Lifecycle rule violated",
                Some(r.rule.as_str().to_string()),
                None,
            ),
            AppendErrorKind::OutOfOrder { .. } => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "Event earlier than its stream",
                Some("out_of_order".to_string()),
                Some("occurred_at".to_string()),
            ),
            AppendErrorKind::VersionConflict { .. } => (
                StatusCode::CONFLICT,
                "Expected version does not match",
                Some("version_conflict".to_string()),
                Some("expected_version".to_string()),
            ),
            AppendErrorKind::IdConflict { .. } => (
                StatusCode::CONFLICT,
                "Event id already used",
                Some("id_conflict".to_string()),
                Some("id".to_string()),
            ),
            AppendErrorKind::Store(s) if s.is_full() => {
                (StatusCode::INSUFFICIENT_STORAGE, "Disk full", None, None)
            }
            AppendErrorKind::Store(s) if s.is_fatal() => (
                StatusCode::SERVICE_UNAVAILABLE,
                "Appends stopped",
                None,
                None,
            ),
            AppendErrorKind::Store(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "Storage failure",
                None,
                None,
            ),
        };
        Problem(Box::new(ProblemDoc {
            event_index: e.index,
            event_id: e.event_id.map(|u| u.to_string()),
            field,
            rule,
            ..Problem::doc(class, title, status, e.to_string())
        }))
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status =
            StatusCode::from_u16(self.0.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&*self.0).unwrap_or_default();
        (
            status,
            [(header::CONTENT_TYPE, "application/problem+json")],
            body,
        )
            .into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use event_store::StoreError;

    #[test]
    fn a_full_disk_answers_507_and_other_storage_failures_500() {
        let full = Problem::from(AppendError::from(StoreError::Full("commit failed".into())));
        assert_eq!(full.0.status, 507);
        assert_eq!(full.0.kind, "urn:rongtook:problem:disk_full");
        assert!(
            full.0.detail.contains("disk holding the log is full"),
            "{}",
            full.0.detail
        );
        let other = Problem::from(AppendError::from(StoreError::Unavailable("gone".into())));
        assert_eq!(other.0.status, 500);
        assert_eq!(other.0.kind, "urn:rongtook:problem:storage");
    }

    #[test]
    fn a_fatal_storage_failure_answers_503_appends_stopped() {
        for e in [
            StoreError::Io("disk I/O error".into()),
            StoreError::Corrupt {
                position: 7,
                message: "bad".into(),
            },
        ] {
            let p = Problem::from(AppendError::from(e));
            assert_eq!(p.0.status, 503);
            assert_eq!(p.0.kind, "urn:rongtook:problem:appends_stopped");
        }
    }
}
