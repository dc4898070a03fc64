//! From a ticket's lifecycle steps to events: the responsible unit, the `received` payload,
//! and ids derived from the ticket and the step's place, so that importing again adds nothing.

use std::collections::BTreeMap;

use chrono::{DateTime, FixedOffset};
use event_model::*;
use sha2::{Digest, Sha256};

use crate::record::{stream_of, Ticket};
use crate::series::{outcome_of, Step};

/// The name of the BMA itself in `organization`: a ticket held at that level goes to the
/// district office of its address.
pub const BMA: &str = "กรุงเทพมหานคร";

/// The actor of imported events.
pub const IMPORT_ACTOR: &str = "import:traffy-fondue";

/// District Thai names (without `สำนักงานเขต`) to unit ids, from `(unit id, Thai name)` pairs.
pub fn units_of<'a>(names: impl Iterator<Item = (&'a str, &'a str)>) -> BTreeMap<String, String> {
    names
        .filter_map(|(unit, th)| {
            th.strip_prefix("สำนักงานเขต")
                .map(|d| (d.to_string(), unit.to_string()))
        })
        .collect()
}

fn district_unit(name: &str, districts: &BTreeMap<String, String>) -> String {
    districts
        .get(name)
        .cloned()
        .unwrap_or_else(|| unit_id("district", name))
}

/// A unit id from an organisation's name: white space becomes `-` (ids have none).
fn unit_id(prefix: &str, name: &str) -> String {
    let words: Vec<&str> = name
        .split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|w| !w.is_empty())
        .collect();
    // Within the longest identifier: the platform's names are far shorter, a damaged file's
    // may not be.
    let room = event_model::text::MAX_ID_CHARS - prefix.chars().count() - 1;
    format!(
        "{prefix}:{}",
        words.join("-").chars().take(room).collect::<String>()
    )
}

/// Accounts that follow tickets without being responsible for them: the Governor's volunteer
/// group that shares tickets, and the 1555 centre that relays them.
pub const WATCHERS: &[&str] = &["เพื่อนชัชชาติ", "ร้องทุกข์ กทม. 1555"];

/// The unit a ticket is forwarded to, and whether it is outside the BMA: the first district
/// office among its organisations; else the first organisation that is not a watching account
/// (the BMA itself meaning the district office of the address).
pub(crate) fn responsible(t: &Ticket, districts: &BTreeMap<String, String>) -> (String, bool) {
    // Tickets outside Bangkok are kept, but no BMA unit is accountable for them.
    if !in_bangkok(t) {
        let province = t.province.as_deref().unwrap_or("unknown");
        return (unit_id("outside-bangkok", province), true);
    }
    if let Some(d) = t.organizations.iter().find_map(|o| o.strip_prefix("เขต")) {
        return (district_unit(d.trim(), districts), false);
    }
    let first = t
        .organizations
        .iter()
        .map(String::as_str)
        .find(|o| !WATCHERS.contains(o))
        .unwrap_or(BMA);
    if first == BMA || first.starts_with("กรุงเทพ") {
        // The record's district, unless it names no district office (the platform cuts long
        // names: `ป้อมปราบศัตรูพ่า`) and the address names one.
        let known = |d: &String| districts.contains_key(d);
        let in_address = crate::shapes::district_in_address(&t.address).filter(known);
        return match (&t.district, in_address) {
            (Some(d), _) if known(d) => (district_unit(d, districts), false),
            (_, Some(a)) => (district_unit(&a, districts), false),
            (Some(d), None) => (district_unit(d, districts), false),
            (None, None) => (unit_id("bma", first), false),
        };
    }
    if first.starts_with("สำนัก") {
        return (unit_id("dept", first), false);
    }
    (unit_id("ext", first), true)
}

/// Whether the ticket is in Bangkok (the province is spelled two ways).
pub fn in_bangkok(t: &Ticket) -> bool {
    matches!(
        t.province.as_deref(),
        Some("กรุงเทพมหานคร") | Some("จังหวัดกรุงเทพมหานคร")
    )
}

/// A time-ordered (v7-shaped) id derived from `key` (what the event is, e.g. the ticket and
/// its place in the stream, or the timeline entry it comes from) and its instant: the same
/// event read again gets the same id.
pub(crate) fn derived_id(key: &str, at: &DateTime<FixedOffset>) -> uuid::Uuid {
    let digest = Sha256::digest(key.as_bytes());
    let mut rand = [0u8; 10];
    rand.copy_from_slice(&digest[..10]);
    uuid::Builder::from_unix_timestamp_millis(at.timestamp_millis().max(0) as u64, &rand)
        .into_uuid()
}

/// The events of a ticket's steps, numbered from `first` (the events its stream already
/// holds), in order.
pub fn events_for(
    t: &Ticket,
    steps: &[(Step, crate::time::Span)],
    first: usize,
    districts: &BTreeMap<String, String>,
) -> Vec<NewEvent> {
    let stream = stream_of(&t.ticket_id);
    let unit_actor = |u: &str| format!("{IMPORT_ACTOR}:{u}");
    let (unit, external) = responsible(t, districts);
    steps
        .iter()
        .enumerate()
        .map(|(i, (step, span))| {
            let (actor, data) = match step {
                Step::Received => (IMPORT_ACTOR.to_string(), received(t)),
                Step::Forwarded => (
                    IMPORT_ACTOR.to_string(),
                    EventData::Forwarded(Forwarded {
                        external,
                        note: (t.organizations.len() > 1)
                            .then(|| format!("organizations: {}", t.organizations.join(", "))),
                        to_unit: unit.clone(),
                    }),
                ),
                Step::Acknowledged => (
                    unit_actor(&unit),
                    EventData::Acknowledged(Acknowledged { unit: unit.clone() }),
                ),
                Step::Observed(state) => (
                    IMPORT_ACTOR.to_string(),
                    EventData::Observed(Observed {
                        source: "traffy_fondue".into(),
                        state: state.clone(),
                    }),
                ),
                Step::Finished | Step::Irrelevant => {
                    let outcome = outcome_of(step).expect("a closing step");
                    let by_unit = *step == Step::Finished;
                    (
                        if by_unit {
                            unit_actor(&unit)
                        } else {
                            IMPORT_ACTOR.to_string()
                        },
                        EventData::Closed(Closed {
                            answer: if by_unit {
                                "Finished on Traffy Fondue".into()
                            } else {
                                "Closed on Traffy Fondue as not the platform's business".into()
                            },
                            evidence: vec![],
                            outcome,
                            unit: by_unit.then(|| unit.clone()),
                        }),
                    )
                }
                Step::Reopened => (
                    IMPORT_ACTOR.to_string(),
                    EventData::Reopened(Reopened {
                        note: None,
                        reason: ReopenReason::NotFixed,
                    }),
                ),
            };
            NewEvent {
                id: derived_id(&format!("traffy/{}/{}", t.ticket_id, first + i), &span.at),
                stream: stream.clone(),
                occurred_at: span.at,
                occurred_after: span.after,
                actor,
                data,
                expected_version: None,
            }
        })
        .collect()
}

fn received(t: &Ticket) -> EventData {
    let comment = t.comment.trim();
    // The first line that says something, without control characters.
    let subject: String = comment
        .lines()
        .map(|l| {
            l.chars()
                .filter(|c| !c.is_control())
                .collect::<String>()
                .trim()
                .to_string()
        })
        .find(|l| !event_model::text::is_blank(l))
        .unwrap_or_else(|| "(no text)".into())
        .chars()
        .take(200)
        .collect();
    EventData::Received(Received {
        category: t
            .types
            .iter()
            .find(|c| !event_model::text::is_blank(c))
            .cloned()
            .unwrap_or_else(|| "unspecified".into()),
        channel: if comment.ends_with("#1555") {
            Channel::Hotline1555
        } else {
            Channel::TraffyFondue
        },
        complainant: Complainant {
            anonymous: true,
            contact: None,
            name: None,
            wants_update: false,
        },
        detail: (comment.chars().count() > subject.chars().count() || t.types.len() > 1).then(
            || {
                let mut d = comment.to_string();
                if t.types.len() > 1 {
                    d.push_str(&format!("\n[types: {}]", t.types.join(", ")));
                }
                d
            },
        ),
        district: t.district.clone().unwrap_or_else(|| "unknown".into()),
        external_ref: Some(t.ticket_id.clone()),
        location: Some(Location {
            address: (!t.address.is_empty()).then(|| t.address.clone()),
            lat: t.lat,
            lon: t.lon,
        }),
        subject,
        // The platform's data says nothing of urgency.
        urgent: false,
    })
}

#[cfg(test)]
mod tests {

    #[test]
    fn unit_ids_from_names_hold_no_blank_and_fit() {
        // Found by fuzzing: a control character in an organisation's name.
        let id = unit_id("ext", "เพื่อนชั\u{0}ชชาติ  x");
        assert_eq!(id, "ext:เพื่อนชั-ชชาติ-x");
        let long = unit_id("ext", &"ก".repeat(500));
        assert!(event_model::text::check_identifier(&long).is_ok(), "{long}");
    }

    use super::*;
    use crate::time::Span;

    fn ticket(orgs: &[&str]) -> Ticket {
        Ticket {
            ticket_id: "2023-ABCDEF".into(),
            types: vec!["ถนน".into(), "ทางเท้า".into()],
            organizations: orgs.iter().map(|s| s.to_string()).collect(),
            comment: "หลุมบนถนน\nหน้าโรงเรียน #1555".into(),
            lon: Some(100.5),
            lat: Some(13.7),
            address: "ถนน สีลม แขวง สีลม เขต บางรัก กรุงเทพมหานคร".into(),
            district: Some("บางรัก".into()),
            province: Some("กรุงเทพมหานคร".into()),
            timestamp: Span::exact(
                DateTime::parse_from_rfc3339("2023-05-12T13:27:54.482138Z").unwrap(),
            ),
        }
    }

    fn districts() -> BTreeMap<String, String> {
        units_of([("district:bang-rak", "สำนักงานเขตบางรัก")].into_iter())
    }

    fn first_two(t: &Ticket) -> Vec<NewEvent> {
        events_for(
            t,
            &[
                (Step::Received, t.timestamp),
                (Step::Forwarded, t.timestamp),
            ],
            0,
            &districts(),
        )
    }

    #[test]
    fn received_carries_the_ticket_and_the_hotline_channel() {
        let t = ticket(&["เขตบางรัก"]);
        let e = first_two(&t);
        match &e[0].data {
            EventData::Received(r) => {
                assert_eq!(r.channel, Channel::Hotline1555, "text ending with #1555");
                assert_eq!(r.external_ref.as_deref(), Some("2023-ABCDEF"));
                assert_eq!(r.category, "ถนน");
                assert!(r
                    .detail
                    .as_deref()
                    .unwrap()
                    .contains("[types: ถนน, ทางเท้า]"));
                assert!(r.complainant.anonymous);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(e[0].stream, "traffy:2023-ABCDEF");
        // Ids are derived from the ticket and the place: the same ticket gives the same ids.
        let again = first_two(&t);
        assert_eq!(
            e.iter().map(|x| x.id).collect::<Vec<_>>(),
            again.iter().map(|x| x.id).collect::<Vec<_>>()
        );
    }

    #[test]
    fn organisations_route_to_district_offices_departments_or_external_agencies() {
        let unit = |orgs: &[&str]| match &first_two(&ticket(orgs))[1].data {
            EventData::Forwarded(f) => (f.to_unit.clone(), f.external),
            other => panic!("{other:?}"),
        };
        assert_eq!(
            unit(&["เขตบางรัก", "พนักงานกวาด เขตบางรัก"]),
            ("district:bang-rak".into(), false)
        );
        assert_eq!(
            unit(&["กรุงเทพมหานคร"]),
            ("district:bang-rak".into(), false),
            "the BMA level goes to the address's district"
        );
        assert_eq!(unit(&["เขตหนองจอก"]), ("district:หนองจอก".into(), false));
        // Watching accounts are not responsible: the district office after them is.
        assert_eq!(
            unit(&["เพื่อนชัชชาติ", "กรุงเทพมหานคร", "เขตพระนคร"]),
            ("district:พระนคร".into(), false)
        );
        assert_eq!(
            unit(&["ร้องทุกข์ กทม. 1555", "กรุงเทพมหานคร"]),
            ("district:bang-rak".into(), false)
        );
        assert_eq!(unit(&["สำนักการโยธา"]), ("dept:สำนักการโยธา".into(), false));
        assert_eq!(
            unit(&["การประปานครหลวง กปน."]),
            ("ext:การประปานครหลวง-กปน.".into(), true)
        );
        // A district the platform cut short names no office: the address's office is taken;
        // with no office in the address either, the district stays as the record has it.
        let to = |t: &Ticket| match &first_two(t)[1].data {
            EventData::Forwarded(f) => f.to_unit.clone(),
            other => panic!("{other:?}"),
        };
        let mut t = ticket(&["กรุงเทพมหานคร"]);
        t.district = Some("บางร".into());
        assert_eq!(to(&t), "district:bang-rak");
        t.address = "ถนน สีลม กรุงเทพมหานคร".into();
        assert_eq!(to(&t), "district:บางร");
        let mut t = ticket(&["เขตบางรัก"]);
        t.province = Some("ยโสธร".into());
        match &first_two(&t)[1].data {
            EventData::Forwarded(f) => assert_eq!(
                (f.to_unit.as_str(), f.external),
                ("outside-bangkok:ยโสธร", true)
            ),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn closes_say_who_closed_and_ranges_carry_over() {
        let t = ticket(&["เขตบางรัก"]);
        let at = DateTime::parse_from_rfc3339("2023-05-13T01:00:00Z").unwrap();
        let span = Span {
            at,
            after: Some(t.timestamp.at),
        };
        let e = events_for(
            &t,
            &[(Step::Finished, span), (Step::Irrelevant, span)],
            2,
            &districts(),
        );
        match (&e[0].data, &e[1].data) {
            (EventData::Closed(a), EventData::Closed(b)) => {
                assert_eq!(
                    (a.outcome, a.unit.as_deref()),
                    (Outcome::Resolved, Some("district:bang-rak"))
                );
                assert_eq!(
                    (b.outcome, b.unit.as_deref()),
                    (Outcome::NotActionable, None)
                );
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(e[0].occurred_after, Some(t.timestamp.at));
        assert_eq!(e[0].occurred_at, at);
    }
}
