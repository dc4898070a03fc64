//! The platform's exchange API (`get-issue/v2`): one ticket with its organisations (`orgs[]`)
//! and its timeline (`timeline[]`) becomes events at the exact instants the timeline holds.
//! Times carry no offset and are Bangkok time. Each event's id is derived from the entry it
//! comes from (ticket, time, status, organisation, note), so reading a ticket again, or a
//! longer timeline of it, adds only what is new.

use std::collections::BTreeMap;

use chrono::{DateTime, FixedOffset};
use event_model::*;
use serde_json::Value;

use crate::map::{derived_id, responsible, IMPORT_ACTOR};
use crate::record::Ticket;
use crate::shapes::{district_in_address, province_in_address, Fields};
use crate::states::{phase_of, Phase};
use crate::time::{bangkok, parse_platform, Zone};

/// The ticket of an answer: `results` as an object, or a list holding it (the example client
/// reads `results[0]`).
pub fn issue_of(answer: &Value) -> Option<&serde_json::Map<String, Value>> {
    match answer.get("results")? {
        Value::Object(o) => Some(o),
        Value::Array(a) => a.first()?.as_object(),
        _ => None,
    }
}

/// A field as text, read as every JSON record is (`shapes::Fields`).
fn text(o: &serde_json::Map<String, Value>, k: &str) -> Option<String> {
    o.field(&[k])
}

/// An exchange API time: Bangkok time without an offset (an offset, if given, is kept).
pub fn instant(s: &str) -> Option<DateTime<FixedOffset>> {
    parse_platform(s, Zone::Known(bangkok()))
        .filter(|span| span.is_exact())
        .map(|span| span.at)
}

/// The events of one ticket of `get-issue/v2`, in time order.
pub fn events_of_issue(
    issue: &serde_json::Map<String, Value>,
    districts: &BTreeMap<String, String>,
) -> Result<Vec<NewEvent>, String> {
    let id = text(issue, "ticket_id").ok_or("no ticket_id")?;
    let filed = text(issue, "timestamp").ok_or("no timestamp")?;
    let received_at =
        instant(&filed).ok_or_else(|| format!("timestamp `{filed}` is not a date-time"))?;
    let address = text(issue, "address").unwrap_or_default();
    let orgs: Vec<&serde_json::Map<String, Value>> = issue
        .get("orgs")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_object).collect())
        .unwrap_or_default();
    let org_name = |o: &serde_json::Map<String, Value>| text(o, "name").or_else(|| text(o, "org"));
    let organizations: Vec<String> = if orgs.is_empty() {
        text(issue, "organization")
            .map(|s| s.split(',').map(|x| x.trim().to_string()).collect())
            .unwrap_or_default()
    } else {
        orgs.iter().filter_map(|o| org_name(o)).collect()
    };
    let ticket = Ticket {
        ticket_id: id.clone(),
        types: text(issue, "type")
            .map(|t| t.split(',').map(|x| x.trim().to_string()).collect())
            .unwrap_or_default(),
        organizations,
        comment: text(issue, "description").unwrap_or_default(),
        lon: text(issue, "longitude").and_then(|x| x.parse().ok()),
        lat: text(issue, "latitude").and_then(|x| x.parse().ok()),
        district: text(issue, "district")
            .map(|d| d.trim_start_matches("เขต").trim().to_string())
            .or_else(|| district_in_address(&address)),
        province: text(issue, "province").or_else(|| province_in_address(&address)),
        address,
        timestamp: crate::time::Span::exact(received_at),
    };
    let (unit, external) = responsible(&ticket, districts);
    // Routed when the first organisation joined (`orgs[]`), else at the receipt.
    let forwarded_at = orgs
        .iter()
        .filter_map(|o| text(o, "timestamp").and_then(|t| instant(&t)))
        .min()
        .unwrap_or(received_at)
        .max(received_at);
    let mut out: Vec<(String, DateTime<FixedOffset>, String, EventData)> = Vec::new();
    let first = crate::map::events_for(
        &ticket,
        &[
            (crate::series::Step::Received, ticket.timestamp),
            (
                crate::series::Step::Forwarded,
                crate::time::Span::exact(forwarded_at),
            ),
        ],
        0,
        districts,
    );
    for (e, key) in first.into_iter().zip(["received", "forwarded"]) {
        out.push((key.to_string(), e.occurred_at, e.actor, e.data));
    }
    let entries = timeline_of(issue);
    let mut state = (false, false);
    out.extend(timeline_events(
        (&unit, external),
        entries,
        &mut state,
        received_at,
    ));
    Ok(to_events(&id, out))
}

/// A timeline entry: (time, status, note, organisation).
type Entry = (DateTime<FixedOffset>, String, Option<String>, String);

fn entry(e: &serde_json::Map<String, Value>) -> Option<Entry> {
    Some((
        instant(&text(e, "timestamp")?)?,
        text(e, "status").unwrap_or_default(),
        text(e, "note"),
        text(e, "org").unwrap_or_default(),
    ))
}

/// An event with the key of the entry it comes from, its time, actor and payload.
type Keyed = (String, DateTime<FixedOffset>, String, EventData);

/// Events keyed by their entry, as the log takes them.
fn to_events(ticket: &str, out: Vec<Keyed>) -> Vec<NewEvent> {
    let stream = crate::record::stream_of(ticket);
    out.into_iter()
        .map(|(key, at, actor, data)| NewEvent {
            id: derived_id(&format!("traffy-exchange/{ticket}/{key}"), &at),
            stream: stream.clone(),
            occurred_at: at,
            occurred_after: None,
            actor,
            data,
            expected_version: None,
        })
        .collect()
}

/// The events of timeline entries for a ticket held by `unit`, from the state
/// `(acknowledged, closed)`, none earlier than `floor`; each keyed by its entry as the
/// platform wrote it, so the same entry always gives the same ids.
fn timeline_events(
    (unit, external): (&str, bool),
    mut entries: Vec<Entry>,
    state: &mut (bool, bool),
    floor: DateTime<FixedOffset>,
) -> Vec<Keyed> {
    let mut out: Vec<Keyed> = Vec::new();
    let unit = unit.to_string();
    let unit_actor = format!("{IMPORT_ACTOR}:{unit}");
    let forward = || {
        EventData::Forwarded(Forwarded {
            external,
            note: None,
            to_unit: unit.clone(),
        })
    };
    entries.sort_by_key(|a| a.0);
    let (mut acked, mut closed) = *state;
    for (at, status, note, org) in entries {
        let key = format!(
            "{}/{status}/{org}/{}",
            at.to_rfc3339(),
            note.as_deref().unwrap_or("")
        );
        let at = at.max(floor);
        let Some(phase) = phase_of(&status) else {
            continue;
        };
        let mut push = |k: &str, actor: &str, data: EventData| {
            out.push((format!("{key}/{k}"), at, actor.to_string(), data))
        };
        // An open state after a close: reopened (the note says why when the ticket went back
        // to waiting) and forwarded again.
        if closed && !phase.is_closed() {
            let why = matches!(phase, Phase::Waiting | Phase::Forwarded).then(|| note.clone());
            push(
                "reopened",
                IMPORT_ACTOR,
                EventData::Reopened(Reopened {
                    note: why.flatten(),
                    reason: ReopenReason::NotFixed,
                }),
            );
            push("forwarded", IMPORT_ACTOR, forward());
            (closed, acked) = (false, false);
        }
        match phase {
            Phase::Waiting | Phase::Forwarded => {}
            Phase::InProgress => {
                if !acked {
                    push(
                        "acknowledged",
                        &unit_actor,
                        EventData::Acknowledged(Acknowledged { unit: unit.clone() }),
                    );
                    acked = true;
                } else if let Some(n) = note.clone() {
                    push(
                        "progress",
                        &unit_actor,
                        EventData::ProgressReported(ProgressReported {
                            evidence: vec![],
                            note: n,
                            unit: unit.clone(),
                        }),
                    );
                }
            }
            Phase::Finished | Phase::Irrelevant if !closed => {
                let resolved = phase == Phase::Finished;
                if resolved && !acked {
                    push(
                        "acknowledged",
                        &unit_actor,
                        EventData::Acknowledged(Acknowledged { unit: unit.clone() }),
                    );
                    acked = true;
                }
                push(
                    "closed",
                    if resolved { &unit_actor } else { IMPORT_ACTOR },
                    EventData::Closed(Closed {
                        answer: note.clone().unwrap_or_else(|| {
                            if resolved {
                                "Finished on Traffy Fondue".into()
                            } else {
                                "Closed on Traffy Fondue as not the platform's business".into()
                            }
                        }),
                        evidence: vec![],
                        outcome: if resolved {
                            Outcome::Resolved
                        } else {
                            Outcome::NotActionable
                        },
                        unit: resolved.then(|| unit.clone()),
                    }),
                );
                closed = true;
            }
            Phase::Finished | Phase::Irrelevant => {}
        }
    }
    *state = (acked, closed);
    out
}

/// A new-ticket webhook (`POST`: `timestamp`, `ticket_id`, `description`, `type`, `latitude`,
/// `longitude`, `address`, `orgs[{org_id, org}]`): its receipt and routing.
pub fn webhook_new(
    body: &serde_json::Map<String, Value>,
    districts: &BTreeMap<String, String>,
) -> Result<Vec<NewEvent>, String> {
    let mut issue = body.clone();
    // The organisations were given the ticket when it was filed.
    if let (Some(Value::Array(orgs)), Some(at)) = (issue.get_mut("orgs"), body.get("timestamp")) {
        for o in orgs.iter_mut().filter_map(Value::as_object_mut) {
            o.entry("timestamp").or_insert_with(|| at.clone());
        }
    }
    issue.remove("timeline");
    events_of_issue(&issue, districts)
}

/// A status-change webhook (`PATCH`: `timestamp`, `ticket_id`, `org`, `status`, `note`): the
/// events it implies after what the log holds of the ticket (`prior`). Their ids are those the
/// same timeline entry gets from `get-issue`, so a redelivery or a later sync adds nothing.
pub fn webhook_status(
    body: &serde_json::Map<String, Value>,
    prior: Option<&crate::series::Prior>,
) -> Result<Vec<NewEvent>, String> {
    let id = text(body, "ticket_id").ok_or("no ticket_id")?;
    let prior = prior.ok_or_else(|| {
        format!("ticket `{id}` is not in the log: its new-ticket webhook (POST) comes first")
    })?;
    let e = entry(body).ok_or("no `timestamp` date-time in the body")?;
    if phase_of(&e.1).is_none() {
        return Err(format!("status `{}` is not a state the platform uses", e.1));
    }
    after_prior(&id, prior, vec![e])
}

/// What a read of one ticket (`get-issue/v2`) adds to the log: the whole ticket when the log
/// does not hold it, else the events of the timeline entries later than its latest event, from
/// the state the log holds (entries at or before that instant are taken as recorded). The ids
/// are those the same entries get from a webhook, so nothing is recorded twice.
pub fn events_after(
    issue: &serde_json::Map<String, Value>,
    prior: Option<&crate::series::Prior>,
    districts: &BTreeMap<String, String>,
) -> Result<Vec<NewEvent>, String> {
    let Some(prior) = prior else {
        return events_of_issue(issue, districts);
    };
    let id = text(issue, "ticket_id").ok_or("no ticket_id")?;
    let entries = timeline_of(issue)
        .into_iter()
        .filter(|e| e.0 > prior.last_at)
        .collect();
    after_prior(&id, prior, entries)
}

/// The events of `entries` after what the log holds of the ticket.
fn after_prior(
    id: &str,
    prior: &crate::series::Prior,
    entries: Vec<Entry>,
) -> Result<Vec<NewEvent>, String> {
    let (unit, external) = prior
        .unit
        .clone()
        .ok_or_else(|| format!("ticket `{id}` was never forwarded"))?;
    let mut state = (prior.acked, prior.closed);
    let out = timeline_events((&unit, external), entries, &mut state, prior.last_at);
    Ok(to_events(id, out))
}

/// The entries of a ticket's `timeline[]` that carry a date-time.
fn timeline_of(issue: &serde_json::Map<String, Value>) -> Vec<Entry> {
    issue
        .get("timeline")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_object)
                .filter_map(entry)
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn districts() -> BTreeMap<String, String> {
        crate::map::units_of([("district:bang-rak", "สำนักงานเขตบางรัก")].into_iter())
    }

    /// A `get-issue/v2` answer in the documented shape; `results` as the example client reads it
    /// (a list) or as the reference says (an object).
    fn answer(as_list: bool, timeline: &str) -> Value {
        let issue = format!(
            r#"{{"ticket_id":"2026-ABC123","type":"ถนน","description":"หลุมบนถนน","latitude":"13.72","longitude":"100.52","address":"ถนนสีลม แขวงสีลม เขตบางรัก กรุงเทพมหานคร","district":"บางรัก","province":"กรุงเทพมหานคร","timestamp":"2026-08-27 08:15:33.416627","count_reopen":1,"last_activity":"2026-08-29 10:00:00","orgs":[{{"timestamp":"2026-08-27 08:15:34","org_id":11,"name":"เขตบางรัก","status_type":"inprogress"}}],"timeline":[{timeline}]}}"#
        );
        let results = if as_list { format!("[{issue}]") } else { issue };
        serde_json::from_str(&format!(
            r#"{{"status":"success","message":"","results":{results}}}"#
        ))
        .unwrap()
    }

    const TIMELINE: &str = r#"{"timestamp":"2026-08-27 08:15:33","status":"รอรับเรื่อง","org_id":null,"org":null,"note":null},
        {"timestamp":"2026-08-27 09:00:00","status":"กำลังดำเนินการ","org_id":11,"org":"เขตบางรัก","note":null},
        {"timestamp":"2026-08-27 15:30:00","status":"กำลังดำเนินการ","org_id":11,"org":"เขตบางรัก","note":"ส่งทีมไปดูแล้ว"},
        {"timestamp":"2026-08-28 11:00:00","status":"เสร็จสิ้น","org_id":11,"org":"เขตบางรัก","note":"ซ่อมแล้ว"},
        {"timestamp":"2026-08-29 10:00:00","status":"รอรับเรื่อง","org_id":11,"org":"เขตบางรัก","note":"ยังไม่เรียบร้อย"}"#;

    #[test]
    fn a_timeline_becomes_events_at_its_exact_bangkok_times() {
        let a = answer(true, TIMELINE);
        let e = events_of_issue(issue_of(&a).unwrap(), &districts()).unwrap();
        let kinds: Vec<&str> = e.iter().map(|x| x.event_type().as_str()).collect();
        assert_eq!(
            kinds,
            [
                "received",
                "forwarded",
                "acknowledged",
                "progress_reported",
                "closed",
                "reopened",
                "forwarded"
            ]
        );
        // Bangkok time without an offset.
        assert_eq!(
            e[0].occurred_at.to_rfc3339(),
            "2026-08-27T08:15:33.416627+07:00"
        );
        assert_eq!(e[1].occurred_at.to_rfc3339(), "2026-08-27T08:15:34+07:00");
        assert_eq!(e[2].occurred_at.to_rfc3339(), "2026-08-27T09:00:00+07:00");
        assert!(e.iter().all(|x| x.occurred_after.is_none()), "exact times");
        match &e[3].data {
            EventData::ProgressReported(p) => assert_eq!(p.note, "ส่งทีมไปดูแล้ว"),
            other => panic!("{other:?}"),
        }
        match &e[4].data {
            EventData::Closed(c) => assert_eq!(c.answer, "ซ่อมแล้ว"),
            other => panic!("{other:?}"),
        }
        match &e[5].data {
            EventData::Reopened(r) => assert_eq!(r.note.as_deref(), Some("ยังไม่เรียบร้อย")),
            other => panic!("{other:?}"),
        }
        // The object form of `results` reads the same.
        let b = answer(false, TIMELINE);
        let again = events_of_issue(issue_of(&b).unwrap(), &districts()).unwrap();
        assert_eq!(again, e);
    }

    #[test]
    fn ids_come_from_the_entries_so_a_longer_timeline_adds_only_what_is_new() {
        let short = answer(
            true,
            &TIMELINE[..TIMELINE
                .find(",\n        {\"timestamp\":\"2026-08-28")
                .unwrap()],
        );
        let long = answer(true, TIMELINE);
        let a = events_of_issue(issue_of(&short).unwrap(), &districts()).unwrap();
        let b = events_of_issue(issue_of(&long).unwrap(), &districts()).unwrap();
        assert!(b.len() > a.len());
        assert_eq!(
            &b[..a.len()],
            &a[..],
            "the events of the shorter timeline, unchanged"
        );
    }

    #[test]
    fn the_log_accepts_them() {
        let a = answer(true, TIMELINE);
        let e = events_of_issue(issue_of(&a).unwrap(), &districts()).unwrap();
        let mut state = lifecycle::Lifecycle::default();
        for ev in &e {
            lifecycle::validate(&ev.stream, &state, &ev.data).unwrap();
            lifecycle::evolve(&mut state, &ev.data);
        }
        assert!(issue_of(&serde_json::json!({"status": "fail", "results": null})).is_none());
    }

    /// Events as the log would hold them.
    fn recorded(log: &[NewEvent]) -> Vec<RecordedEvent> {
        log.iter()
            .enumerate()
            .map(|(i, e)| RecordedEvent {
                position: i as u64 + 1,
                id: e.id,
                stream: e.stream.clone(),
                version: i as u64 + 1,
                occurred_at: e.occurred_at,
                occurred_after: e.occurred_after,
                recorded_at: e.occurred_at,
                actor: e.actor.clone(),
                schema_version: SCHEMA_VERSION,
                data: e.data.clone(),
                prev_hash: Hash::GENESIS,
                hash: Hash::GENESIS,
            })
            .collect()
    }

    #[test]
    fn a_read_after_the_log_holds_a_ticket_adds_only_the_later_entries() {
        let cut = TIMELINE
            .find(",\n        {\"timestamp\":\"2026-08-28")
            .unwrap();
        let short = answer(false, &TIMELINE[..cut]);
        let long = answer(true, TIMELINE);
        let whole = events_of_issue(issue_of(&long).unwrap(), &districts()).unwrap();
        // Not in the log: the whole ticket.
        let first = events_after(issue_of(&short).unwrap(), None, &districts()).unwrap();
        assert_eq!(first[..], whole[..first.len()]);
        // In the log: only the entries after its latest event, with the ids a whole read gives.
        let prior = crate::series::Prior::of(&recorded(&first));
        let more = events_after(issue_of(&long).unwrap(), prior.as_ref(), &districts()).unwrap();
        assert_eq!(more[..], whole[first.len()..]);
        // Read again once all is in: nothing.
        let prior = crate::series::Prior::of(&recorded(&whole));
        let none = events_after(issue_of(&long).unwrap(), prior.as_ref(), &districts()).unwrap();
        assert!(none.is_empty());
    }

    /// The documented webhook bodies: a new ticket, then status changes.
    #[test]
    fn webhooks_give_the_events_a_sync_gives_and_redelivery_adds_nothing() {
        let new: Value = serde_json::from_str(
            r#"{"timestamp":"2026-08-27 08:15:33.416627","ticket_id":"2026-ABC123","description":"หลุมบนถนน","type_id":3,"type":"ถนน","photo":[],"latitude":"13.72","longitude":"100.52","address":"ถนนสีลม แขวงสีลม เขตบางรัก กรุงเทพมหานคร","orgs":[{"org_id":11,"org":"เขตบางรัก"}]}"#,
        )
        .unwrap();
        let first = webhook_new(new.as_object().unwrap(), &districts()).unwrap();
        assert_eq!(first.len(), 2);
        match &first[1].data {
            EventData::Forwarded(f) => assert_eq!(f.to_unit, "district:bang-rak"),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            first,
            webhook_new(new.as_object().unwrap(), &districts()).unwrap()
        );
        let status = |json: &str, log: &[NewEvent]| {
            let recorded = recorded(log);
            let prior = crate::series::Prior::of(&recorded);
            let body: Value = serde_json::from_str(json).unwrap();
            webhook_status(body.as_object().unwrap(), prior.as_ref())
        };
        let taken = r#"{"timestamp":"2026-08-27 09:00:00","ticket_id":"2026-ABC123","org":"เขตบางรัก","status":"กำลังดำเนินการ","note":null,"photo":[]}"#;
        let ack = status(taken, &first).unwrap();
        assert_eq!(ack.len(), 1);
        assert_eq!(ack[0].occurred_at.to_rfc3339(), "2026-08-27T09:00:00+07:00");
        // The same entry read from get-issue has the same id: a later sync adds nothing.
        let a = answer(true, TIMELINE);
        let synced = events_of_issue(issue_of(&a).unwrap(), &districts()).unwrap();
        assert_eq!(synced[2].id, ack[0].id);
        let mut log = first.clone();
        log.extend(ack.clone());
        // Redelivered after it was taken: nothing more.
        assert!(status(taken, &log).unwrap().is_empty());
        let done = r#"{"timestamp":"2026-08-28 11:00:00","ticket_id":"2026-ABC123","org":"เขตบางรัก","status":"เสร็จสิ้น","note":"ซ่อมแล้ว","photo":[]}"#;
        let close = status(done, &log).unwrap();
        assert_eq!(close.len(), 1);
        assert_eq!(close[0].id, synced[4].id);
        // A status change for a ticket the log does not hold, or an unknown status: refused.
        assert!(status(taken, &[]).unwrap_err().contains("not in the log"));
        let odd = taken.replace("กำลังดำเนินการ", "ลึกลับ");
        assert!(status(&odd, &log).unwrap_err().contains("not a state"));
    }
}
