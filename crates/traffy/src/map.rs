//! From a ticket to events. The mapping of the platform's states is a table (`STATE_MAPPING`,
//! also in the README), with a test per row.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, FixedOffset};
use event_model::*;
use sha2::{Digest, Sha256};

use crate::read::Ticket;

/// What a ticket's final state implies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mapping {
    /// Forwarded, not yet taken by the unit.
    Waiting,
    /// Forwarded (again), left open.
    Forwarded,
    /// Acknowledged by the unit and left open.
    InProgress,
    /// Acknowledged and closed `resolved` by the unit at `last_activity`.
    Finished,
    /// Closed `not_actionable` by the centre at `last_activity`.
    Irrelevant,
}

/// Every state the platform uses, and what it maps to.
pub const STATE_MAPPING: &[(&str, &str, Mapping)] = &[
    ("รอรับเรื่อง", "waiting to be taken", Mapping::Waiting),
    ("ส่งต่อ", "forwarded", Mapping::Forwarded),
    ("ส่งต่อ(ใหม่)", "forwarded (new)", Mapping::Forwarded),
    ("กำลังดำเนินการ", "in progress", Mapping::InProgress),
    ("ศึกษาปัญหา", "studying the problem", Mapping::InProgress),
    ("ของบประมาณ", "requesting budget", Mapping::InProgress),
    ("จัดซื้อจัดจ้าง", "procurement", Mapping::InProgress),
    ("ติดตามเรื่อง", "following up", Mapping::InProgress),
    ("เสร็จสิ้น", "finished", Mapping::Finished),
    ("ไม่เกี่ยวข้อง", "irrelevant", Mapping::Irrelevant),
];

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
    format!(
        "{prefix}:{}",
        name.split_whitespace().collect::<Vec<_>>().join("-")
    )
}

/// The unit a ticket is forwarded to, and whether it is outside the BMA.
fn responsible(t: &Ticket, districts: &BTreeMap<String, String>) -> (String, bool) {
    // Tickets outside Bangkok are kept, but no BMA unit is accountable for them.
    if !in_bangkok(t) {
        let province = t.province.as_deref().unwrap_or("unknown");
        return (unit_id("outside-bangkok", province), true);
    }
    let first = t.organizations.first().map(String::as_str).unwrap_or(BMA);
    if let Some(d) = first.strip_prefix("เขต") {
        return (district_unit(d.trim(), districts), false);
    }
    if first == BMA || first.starts_with("กรุงเทพ") {
        return match &t.district {
            Some(d) if in_bangkok(t) => (district_unit(d, districts), false),
            _ => (unit_id("bma", first), false),
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

/// A time-ordered (v7-shaped) id derived from the ticket id and the event's place.
fn event_id(ticket: &str, n: usize, at: &DateTime<FixedOffset>) -> uuid::Uuid {
    let digest = Sha256::digest(format!("traffy/{ticket}/{n}").as_bytes());
    let mut rand = [0u8; 10];
    rand.copy_from_slice(&digest[..10]);
    uuid::Builder::from_unix_timestamp_millis(at.timestamp_millis().max(0) as u64, &rand)
        .into_uuid()
}

/// The events of a ticket, in order; `Err` names why the ticket cannot be imported.
pub fn events_for(
    t: &Ticket,
    districts: &BTreeMap<String, String>,
) -> Result<Vec<NewEvent>, String> {
    let mapping = STATE_MAPPING
        .iter()
        .find(|(s, _, _)| *s == t.state)
        .map(|(_, _, m)| *m)
        .ok_or_else(|| format!("state `{}` is not one the platform uses", t.state))?;
    let stream = format!("traffy:{}", t.ticket_id);
    let received_at = t.timestamp;
    // `last_activity` a few milliseconds before `timestamp` is clock skew between the
    // platform's servers, not an error.
    let last = t.last_activity.max(received_at);
    let unit_actor = |u: &str| format!("{IMPORT_ACTOR}:{u}");
    let (unit, external) = responsible(t, districts);
    let comment = t.comment.trim();
    let hotline = comment.ends_with("#1555");
    let subject: String = comment
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("(no text)")
        .chars()
        .take(200)
        .collect();
    let mut events: Vec<(DateTime<FixedOffset>, String, EventData)> = vec![(
        received_at,
        IMPORT_ACTOR.to_string(),
        EventData::Received(Received {
            category: t
                .types
                .first()
                .cloned()
                .unwrap_or_else(|| "unspecified".into()),
            channel: if hotline {
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
        }),
    )];
    let forward = |at| {
        (
            at,
            IMPORT_ACTOR.to_string(),
            EventData::Forwarded(Forwarded {
                external,
                note: (t.organizations.len() > 1)
                    .then(|| format!("organizations: {}", t.organizations.join(", "))),
                to_unit: unit.clone(),
            }),
        )
    };
    let ack = |at| {
        (
            at,
            unit_actor(&unit),
            EventData::Acknowledged(Acknowledged { unit: unit.clone() }),
        )
    };
    let close = |at, outcome: Outcome, by_unit: bool| {
        (
            at,
            if by_unit {
                unit_actor(&unit)
            } else {
                IMPORT_ACTOR.to_string()
            },
            EventData::Closed(Closed {
                answer: format!(
                    "{} on Traffy Fondue (state {})",
                    if outcome == Outcome::Resolved {
                        "Finished"
                    } else {
                        "Closed"
                    },
                    t.state
                ),
                evidence: vec![],
                outcome,
                unit: by_unit.then(|| unit.clone()),
            }),
        )
    };
    events.push(forward(received_at));
    // Reopen rounds between receipt and the last activity, evenly spaced.
    let n = t.count_reopen as i64;
    if n > 0 {
        let span = (last - received_at).num_milliseconds().max(0);
        let step = span / (4 * n + 1);
        let at = |k: i64| received_at + Duration::milliseconds(step * k);
        for r in 0..n {
            let k = 4 * r;
            events.push(ack(at(k + 1)));
            events.push(close(at(k + 2), Outcome::Resolved, true));
            events.push((
                at(k + 3),
                IMPORT_ACTOR.to_string(),
                EventData::Reopened(Reopened {
                    note: None,
                    reason: ReopenReason::NotFixed,
                }),
            ));
            events.push(forward(at(k + 4)));
        }
    }
    match mapping {
        Mapping::Waiting | Mapping::Forwarded => {}
        Mapping::InProgress => events.push(ack(last)),
        Mapping::Finished => {
            events.push(ack(last));
            events.push(close(last, Outcome::Resolved, true));
        }
        Mapping::Irrelevant => events.push(close(last, Outcome::NotActionable, false)),
    }
    Ok(events
        .into_iter()
        .enumerate()
        .map(|(i, (at, actor, data))| NewEvent {
            id: event_id(&t.ticket_id, i, &at),
            stream: stream.clone(),
            occurred_at: at,
            occurred_after: None,
            actor,
            data,
            expected_version: None,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read::parse_time;

    fn ticket(state: &str, orgs: &[&str], reopen: u32) -> Ticket {
        Ticket {
            line: 2,
            ticket_id: "2023-ABCDEF".into(),
            types: vec!["ถนน".into(), "ทางเท้า".into()],
            organizations: orgs.iter().map(|s| s.to_string()).collect(),
            comment: "หลุมบนถนน\nหน้าโรงเรียน #1555".into(),
            lon: Some(100.5),
            lat: Some(13.7),
            address: "ถนน สีลม แขวง สีลม เขต บางรัก กรุงเทพมหานคร".into(),
            district: Some("บางรัก".into()),
            province: Some("กรุงเทพมหานคร".into()),
            timestamp: parse_time("2023-05-12 13:27:54.482138+00").unwrap(),
            state: state.into(),
            count_reopen: reopen,
            last_activity: parse_time("2023-05-15 09:00:00.000000+00").unwrap(),
        }
    }

    fn districts() -> BTreeMap<String, String> {
        units_of([("district:bang-rak", "สำนักงานเขตบางรัก")].into_iter())
    }

    fn types(state: &str, orgs: &[&str], reopen: u32) -> Vec<&'static str> {
        events_for(&ticket(state, orgs, reopen), &districts())
            .unwrap()
            .iter()
            .map(|e| e.event_type().as_str())
            .collect()
    }

    #[test]
    fn every_state_of_the_table_maps_as_documented() {
        let d = &["เขตบางรัก"];
        for (state, _, mapping) in STATE_MAPPING {
            let got = types(state, d, 0);
            let want: &[&str] = match mapping {
                Mapping::Waiting | Mapping::Forwarded => &["received", "forwarded"],
                Mapping::InProgress => &["received", "forwarded", "acknowledged"],
                Mapping::Finished => &["received", "forwarded", "acknowledged", "closed"],
                Mapping::Irrelevant => &["received", "forwarded", "closed"],
            };
            assert_eq!(got, want, "state {state}");
        }
        assert!(events_for(&ticket("ลึกลับ", d, 0), &districts()).is_err());
    }

    #[test]
    fn finished_is_resolved_by_the_unit_and_irrelevant_not_actionable_by_the_centre() {
        let e = events_for(&ticket("เสร็จสิ้น", &["เขตบางรัก"], 0), &districts()).unwrap();
        match &e[3].data {
            EventData::Closed(c) => {
                assert_eq!(
                    (c.outcome, c.unit.as_deref()),
                    (Outcome::Resolved, Some("district:bang-rak"))
                )
            }
            other => panic!("{other:?}"),
        }
        let e = events_for(&ticket("ไม่เกี่ยวข้อง", &["เขตบางรัก"], 0), &districts()).unwrap();
        match &e[2].data {
            EventData::Closed(c) => assert_eq!(
                (c.outcome, c.unit.as_deref()),
                (Outcome::NotActionable, None)
            ),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn received_carries_the_ticket_and_the_hotline_channel() {
        let e = events_for(&ticket("รอรับเรื่อง", &["เขตบางรัก"], 0), &districts()).unwrap();
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
        // Ids are derived from the ticket: the same ticket gives the same ids.
        let again = events_for(&ticket("รอรับเรื่อง", &["เขตบางรัก"], 0), &districts()).unwrap();
        assert_eq!(
            e.iter().map(|x| x.id).collect::<Vec<_>>(),
            again.iter().map(|x| x.id).collect::<Vec<_>>()
        );
    }

    #[test]
    fn organisations_route_to_district_offices_departments_or_external_agencies() {
        let unit = |orgs: &[&str]| match &events_for(&ticket("รอรับเรื่อง", orgs, 0), &districts())
            .unwrap()[1]
            .data
        {
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
        assert_eq!(unit(&["สำนักการโยธา"]), ("dept:สำนักการโยธา".into(), false));
        assert_eq!(
            unit(&["การประปานครหลวง กปน."]),
            ("ext:การประปานครหลวง-กปน.".into(), true)
        );
        let mut t = ticket("รอรับเรื่อง", &["เขตบางรัก"], 0);
        t.province = Some("ยโสธร".into());
        match &events_for(&t, &districts()).unwrap()[1].data {
            EventData::Forwarded(f) => assert_eq!(
                (f.to_unit.as_str(), f.external),
                ("outside-bangkok:ยโสธร", true)
            ),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn reopens_become_rounds_and_clock_skew_is_not_an_error() {
        let got = types("เสร็จสิ้น", &["เขตบางรัก"], 2);
        assert_eq!(got.iter().filter(|t| **t == "reopened").count(), 2);
        assert_eq!(got.last(), Some(&"closed"));
        let mut t = ticket("เสร็จสิ้น", &["เขตบางรัก"], 0);
        t.last_activity = t.timestamp - Duration::milliseconds(10);
        let e = events_for(&t, &districts()).unwrap();
        assert!(e.windows(2).all(|w| w[0].occurred_at <= w[1].occurred_at));
    }
}
