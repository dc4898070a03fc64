//! A citizen's Open311 GeoReport v2 submission (`POST requests.json`) mapped to a `received`
//! event: a pure function, like the Traffy Fondue mapping. No HTTP here: the handler decodes
//! the form and hands it over with the event's id, the instant and the recorded actor.

use chrono::{DateTime, FixedOffset};
use event_model::{Channel, Complainant, EventData, Location, NewEvent, Received};

/// The form fields of a submission (GeoReport v2, plus Bangkok's `district`).
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct Submission {
    pub api_key: Option<String>,
    pub service_code: String,
    pub lat: Option<f64>,
    pub long: Option<f64>,
    pub address_string: Option<String>,
    pub description: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    #[serde(default)]
    pub district: Option<String>,
}

/// A submission that cannot become an event: the form field and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormError {
    pub field: String,
    pub message: String,
}

/// A text that says something, kept as written; a blank one is as if not given.
fn given(v: &Option<String>) -> Option<String> {
    v.clone().filter(|s| !event_model::wire::is_blank(s))
}

/// The `received` event of a submission, on a new stream `O311-<id>`; checked as any event
/// of the wire format is.
pub fn to_event(
    f: &Submission,
    id: uuid::Uuid,
    now: DateTime<FixedOffset>,
    actor: String,
) -> Result<NewEvent, FormError> {
    if !event_model::categories::CODES.contains(&f.service_code.as_str()) {
        return Err(FormError {
            field: "service_code".into(),
            message: format!(
                "service_code `{}` is not a service (see services.json)",
                f.service_code
            ),
        });
    }
    let name = match (given(&f.first_name), given(&f.last_name)) {
        (None, None) => None,
        (a, b) => Some(
            format!("{} {}", a.unwrap_or_default(), b.unwrap_or_default())
                .trim()
                .to_string(),
        ),
    };
    let contact = given(&f.phone).or(given(&f.email));
    let address = given(&f.address_string);
    let event = NewEvent {
        id,
        stream: format!("O311-{}", id.simple()),
        occurred_at: now,
        occurred_after: None,
        actor,
        data: EventData::Received(Received {
            category: f.service_code.clone(),
            channel: Channel::Web,
            complainant: Complainant {
                anonymous: name.is_none() && contact.is_none(),
                wants_update: contact.is_some(),
                name,
                contact,
            },
            detail: given(&f.description),
            district: given(&f.district).unwrap_or_else(|| "unknown".into()),
            external_ref: None,
            location: (f.lat.is_some() || f.long.is_some() || address.is_some()).then_some(
                Location {
                    address,
                    lat: f.lat,
                    lon: f.long,
                },
            ),
            subject: given(&f.description)
                .unwrap_or_else(|| event_model::categories::display_name(&f.service_code)),
            urgent: false,
        }),
        expected_version: Some(0),
    };
    event_model::wire::check_form(&event)
        .map_err(|(field, message)| FormError { field, message })?;
    Ok(event)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at() -> DateTime<FixedOffset> {
        event_model::parse_instant("2024-03-01T09:00:00+07:00").unwrap()
    }

    #[test]
    fn a_submission_becomes_a_received_event() {
        let f = Submission {
            service_code: "pm25".into(),
            first_name: Some("Somchai".into()),
            email: Some("s@example.org".into()),
            description: Some("  ".into()),
            lat: Some(13.7),
            ..Default::default()
        };
        let e = to_event(&f, uuid::Uuid::nil(), at(), "token:1:intake".into()).unwrap();
        let EventData::Received(r) = &e.data else {
            panic!("received")
        };
        assert_eq!(e.stream, "O311-00000000000000000000000000000000");
        assert_eq!(
            r.subject, "PM2.5",
            "a blank description takes the service's name"
        );
        assert_eq!(r.detail, None);
        assert_eq!(r.complainant.name.as_deref(), Some("Somchai"));
        assert_eq!(r.complainant.contact.as_deref(), Some("s@example.org"));
        assert!(r.complainant.wants_update && !r.complainant.anonymous);
        assert_eq!(r.district, "unknown");
        assert_eq!(r.location.as_ref().and_then(|l| l.lat), Some(13.7));
    }

    #[test]
    fn an_unknown_service_or_a_bad_field_names_the_field() {
        let f = Submission {
            service_code: "potholes".into(),
            ..Default::default()
        };
        let e = to_event(&f, uuid::Uuid::nil(), at(), "a".into()).unwrap_err();
        assert_eq!(e.field, "service_code");
        let f = Submission {
            service_code: "road".into(),
            lat: Some(123.0),
            ..Default::default()
        };
        let e = to_event(&f, uuid::Uuid::nil(), at(), "a".into()).unwrap_err();
        assert!(e.field.contains("lat"), "{e:?}");
    }
}
