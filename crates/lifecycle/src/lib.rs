//! The complaint lifecycle of `rules.md`: which event may follow which.
//!
//! [`validate`] decides whether an event may be appended to a complaint in a given state and
//! says why not; [`evolve`] applies an accepted event and never fails. The store calls both for
//! every event of a batch, in order, so a batch is checked against its own earlier events too.

use event_model::{EventData, EventType};
use serde::Serialize;

/// Where a complaint stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// No event yet.
    New,
    Received,
    Forwarded,
    Acknowledged,
    InProgress,
    Closed,
    /// Reopened after a close; waits for the centre to forward it again.
    Reopened,
}

impl Status {
    /// Every status a complaint with at least one event can be in, in lifecycle order.
    pub const LISTED: [Status; 6] = [
        Status::Received,
        Status::Forwarded,
        Status::Acknowledged,
        Status::InProgress,
        Status::Closed,
        Status::Reopened,
    ];

    /// A listed status by its name.
    pub fn parse(name: &str) -> Option<Status> {
        Status::LISTED.into_iter().find(|s| s.as_str() == name)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Status::New => "new",
            Status::Received => "received",
            Status::Forwarded => "forwarded",
            Status::Acknowledged => "acknowledged",
            Status::InProgress => "in_progress",
            Status::Closed => "closed",
            Status::Reopened => "reopened",
        }
    }

    pub fn is_open(self) -> bool {
        !matches!(self, Status::New | Status::Closed)
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The current assignment of a complaint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    pub unit: String,
    pub external: bool,
    pub acknowledged: bool,
}

/// The lifecycle state of one complaint: as much as the rules need, no more.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lifecycle {
    pub status: Status,
    /// The round in force (kept after a close, cleared by a reopen).
    pub assignment: Option<Assignment>,
}

impl Default for Lifecycle {
    fn default() -> Self {
        Lifecycle {
            status: Status::New,
            assignment: None,
        }
    }
}

/// Which rule an event breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// Every complaint starts with exactly one `received`.
    NotReceived,
    SecondReceived,
    /// After a close only `reopened` and `spot_checked` may follow.
    AfterClose,
    /// Acknowledge, report progress or close as a unit only while assigned to that unit.
    NotAssignedToUnit,
    AlreadyAcknowledged,
    /// Progress (or a unit's close) needs the unit's acknowledgement first.
    NotAcknowledged,
    /// A forward to the unit that already holds the complaint.
    AlreadyAssigned,
    /// `reopened` and `spot_checked` need a closed complaint.
    NotClosed,
    /// A unit-level event names another unit than the one of its `unit/<unit-id>` stream.
    OtherUnitsStream,
    /// A `chased` event about an obligation the unit does not owe (an acknowledgement it
    /// gave, a first progress before any acknowledgement, an external agency).
    NothingToChase,
}

impl Rule {
    pub fn as_str(self) -> &'static str {
        match self {
            Rule::NotReceived => "not_received",
            Rule::SecondReceived => "second_received",
            Rule::AfterClose => "after_close",
            Rule::NotAssignedToUnit => "not_assigned_to_unit",
            Rule::AlreadyAcknowledged => "already_acknowledged",
            Rule::NotAcknowledged => "not_acknowledged",
            Rule::AlreadyAssigned => "already_assigned",
            Rule::NotClosed => "not_closed",
            Rule::OtherUnitsStream => "other_units_stream",
            Rule::NothingToChase => "nothing_to_chase",
        }
    }
}

/// An event the lifecycle refuses: names the complaint, its state, the event and the rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("complaint {complaint} is `{status}`: `{event_type}` refused ({}): {message}", rule.as_str())]
pub struct Rejection {
    pub complaint: String,
    pub status: Status,
    pub event_type: EventType,
    pub rule: Rule,
    pub message: String,
}

/// Decides whether a unit-level event may be appended to the stream of unit `unit`
/// (`unit/<unit>`): it must be about that unit.
pub fn validate_unit_event(unit: &str, data: &EventData) -> Result<(), Rejection> {
    match data {
        EventData::MonthlyReportSubmitted(d) if d.unit != unit => Err(Rejection {
            complaint: format!("{}{unit}", event_model::UNIT_STREAM_PREFIX),
            status: Status::New,
            event_type: data.event_type(),
            rule: Rule::OtherUnitsStream,
            message: format!("it reports for `{}`, not for `{unit}`", d.unit),
        }),
        _ => Ok(()),
    }
}

/// Decides whether `data` may be appended to complaint `complaint` in state `state`.
/// Unit-level events (`monthly_report_submitted`) are not complaint events and are not
/// checked here.
pub fn validate(complaint: &str, state: &Lifecycle, data: &EventData) -> Result<(), Rejection> {
    let reject = |rule: Rule, message: String| {
        Err(Rejection {
            complaint: complaint.to_string(),
            status: state.status,
            event_type: data.event_type(),
            rule,
            message,
        })
    };
    let ty = data.event_type();
    match state.status {
        Status::New if ty != EventType::Received => {
            return reject(
                Rule::NotReceived,
                "no `received` event has been recorded for it".into(),
            )
        }
        Status::Closed
            if !matches!(
                ty,
                EventType::Reopened
                    | EventType::SpotChecked
                    | EventType::Observed
                    | EventType::Flagged
                    | EventType::ComplainantInformed
                    | EventType::FieldInspected
            ) =>
        {
            let rule = if ty == EventType::Received {
                Rule::SecondReceived
            } else {
                Rule::AfterClose
            };
            return reject(
                rule,
                "a closed complaint only takes `reopened`, `spot_checked`, `observed`, \
                 `flagged`, `complainant_informed` or `field_inspected`"
                    .into(),
            );
        }
        _ => {}
    }
    let current = state.assignment.as_ref();
    match data {
        EventData::Received(_) => {
            if state.status != Status::New {
                return reject(Rule::SecondReceived, "it was already received".into());
            }
        }
        EventData::Forwarded(f) => {
            if let Some(a) = current {
                if a.unit == f.to_unit && state.status != Status::Reopened {
                    return reject(
                        Rule::AlreadyAssigned,
                        format!("it is already assigned to `{}`", f.to_unit),
                    );
                }
            }
        }
        EventData::Acknowledged(d) => match current {
            Some(a) if a.unit == d.unit => {
                if a.acknowledged {
                    return reject(
                        Rule::AlreadyAcknowledged,
                        format!("`{}` already acknowledged it", d.unit),
                    );
                }
            }
            _ => return reject(Rule::NotAssignedToUnit, not_assigned(current, &d.unit)),
        },
        EventData::ProgressReported(d) => unit_may_act(current, &d.unit, "report progress")
            .or_else(|(rule, m)| reject(rule, m))?,
        EventData::Closed(d) => {
            if let Some(unit) = &d.unit {
                unit_may_act(current, unit, "close it").or_else(|(rule, m)| reject(rule, m))?;
            }
        }
        EventData::Reopened(_) | EventData::SpotChecked(_) => {
            if state.status != Status::Closed {
                return reject(
                    Rule::NotClosed,
                    "only a closed complaint can take it".into(),
                );
            }
        }
        EventData::ComplainantInformed(_) => {
            if state.status != Status::Closed {
                return reject(
                    Rule::NotClosed,
                    "the complainant is told the outcome of a close: it is not closed".into(),
                );
            }
        }
        EventData::Chased(d) => match current {
            Some(a) if a.unit == d.unit && !a.external => {
                use event_model::ChasedObligation::*;
                match d.obligation {
                    Ack if a.acknowledged => {
                        return reject(
                            Rule::NothingToChase,
                            format!("`{}` already acknowledged it", d.unit),
                        )
                    }
                    FirstProgress if !a.acknowledged => {
                        return reject(
                            Rule::NothingToChase,
                            format!(
                                "`{}` has not acknowledged it: no first progress is due",
                                d.unit
                            ),
                        )
                    }
                    _ => {}
                }
            }
            Some(a) if a.unit == d.unit => {
                return reject(
                    Rule::NothingToChase,
                    format!(
                        "`{}` is an external agency: it owes no BMA deadline",
                        d.unit
                    ),
                )
            }
            _ => return reject(Rule::NotAssignedToUnit, not_assigned(current, &d.unit)),
        },
        // An observation changes nothing: it records what an outside system showed. Flags and
        // field inspections may concern an open or a closed complaint.
        EventData::MonthlyReportSubmitted(_)
        | EventData::Observed(_)
        | EventData::Flagged(_)
        | EventData::FieldInspected(_) => {}
    }
    Ok(())
}

fn not_assigned(current: Option<&Assignment>, unit: &str) -> String {
    match current {
        Some(a) => format!("it is assigned to `{}`, not `{unit}`", a.unit),
        None => format!("it has not been forwarded to `{unit}`"),
    }
}

fn unit_may_act(
    current: Option<&Assignment>,
    unit: &str,
    what: &str,
) -> Result<(), (Rule, String)> {
    match current {
        Some(a) if a.unit == unit => {
            if a.acknowledged {
                Ok(())
            } else {
                Err((
                    Rule::NotAcknowledged,
                    format!("`{unit}` must acknowledge it before it can {what}"),
                ))
            }
        }
        _ => Err((Rule::NotAssignedToUnit, not_assigned(current, unit))),
    }
}

/// Applies an accepted event. Never fails; an event [`validate`] would refuse is applied as
/// well as it can be (replays of a log only ever hold accepted events).
pub fn evolve(state: &mut Lifecycle, data: &EventData) {
    state.status = next_status(state.status, data);
    match data {
        EventData::Forwarded(f) => {
            state.assignment = Some(Assignment {
                unit: f.to_unit.clone(),
                external: f.external,
                acknowledged: false,
            });
        }
        EventData::Acknowledged(_) => {
            if let Some(a) = &mut state.assignment {
                a.acknowledged = true;
            }
        }
        EventData::Reopened(_) => state.assignment = None,
        _ => {}
    }
}

/// The status a complaint is in after an (accepted) event: the one transition table, used by
/// [`evolve`] and by the projections' fold.
pub fn next_status(current: Status, data: &EventData) -> Status {
    match data {
        EventData::Received(_) => Status::Received,
        EventData::Forwarded(_) => Status::Forwarded,
        EventData::Acknowledged(_) => Status::Acknowledged,
        EventData::ProgressReported(_) => Status::InProgress,
        EventData::Closed(_) => Status::Closed,
        EventData::Reopened(_) => Status::Reopened,
        EventData::SpotChecked(_)
        | EventData::MonthlyReportSubmitted(_)
        | EventData::Observed(_)
        | EventData::Flagged(_)
        | EventData::Chased(_)
        | EventData::ComplainantInformed(_)
        | EventData::FieldInspected(_) => current,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use event_model::*;

    fn fwd(unit: &str) -> EventData {
        EventData::Forwarded(Forwarded {
            external: false,
            note: None,
            to_unit: unit.into(),
        })
    }
    fn ack(unit: &str) -> EventData {
        EventData::Acknowledged(Acknowledged { unit: unit.into() })
    }
    fn progress(unit: &str) -> EventData {
        EventData::ProgressReported(ProgressReported {
            evidence: vec![],
            note: "done some".into(),
            unit: unit.into(),
        })
    }
    fn close(unit: Option<&str>) -> EventData {
        EventData::Closed(Closed {
            answer: "fixed".into(),
            evidence: vec![],
            outcome: Outcome::Resolved,
            unit: unit.map(String::from),
        })
    }
    fn received() -> EventData {
        EventData::Received(Received {
            category: "road".into(),
            channel: Channel::Web,
            complainant: Complainant::anonymous(),
            detail: None,
            district: "Bang Rak".into(),
            external_ref: None,
            location: None,
            subject: "pothole".into(),
            urgent: false,
        })
    }
    fn reopen() -> EventData {
        EventData::Reopened(Reopened {
            note: None,
            reason: ReopenReason::NotFixed,
        })
    }

    fn run(events: &[EventData]) -> Result<Lifecycle, Rejection> {
        let mut s = Lifecycle::default();
        for e in events {
            validate("C-1", &s, e)?;
            evolve(&mut s, e);
        }
        Ok(s)
    }

    #[test]
    fn a_full_lifecycle_with_a_reopen_is_accepted() {
        let s = run(&[
            received(),
            fwd("district:a"),
            ack("district:a"),
            progress("district:a"),
            close(Some("district:a")),
            reopen(),
            fwd("district:a"),
            ack("district:a"),
            close(None),
        ])
        .unwrap();
        assert_eq!(s.status, Status::Closed);
    }

    #[test]
    fn illegal_sequences_are_refused_with_their_rule() {
        let rule = |evs: &[EventData]| run(evs).unwrap_err().rule;
        assert_eq!(rule(&[fwd("a")]), Rule::NotReceived);
        assert_eq!(rule(&[received(), received()]), Rule::SecondReceived);
        assert_eq!(rule(&[received(), ack("a")]), Rule::NotAssignedToUnit);
        assert_eq!(
            rule(&[received(), fwd("a"), ack("b")]),
            Rule::NotAssignedToUnit
        );
        assert_eq!(
            rule(&[received(), fwd("a"), progress("a")]),
            Rule::NotAcknowledged
        );
        assert_eq!(
            rule(&[received(), fwd("a"), ack("a"), ack("a")]),
            Rule::AlreadyAcknowledged
        );
        assert_eq!(
            rule(&[received(), close(None), close(None)]),
            Rule::AfterClose
        );
        assert_eq!(rule(&[received(), reopen()]), Rule::NotClosed);
        assert_eq!(
            rule(&[received(), fwd("a"), fwd("a")]),
            Rule::AlreadyAssigned
        );
        assert_eq!(rule(&[received(), close(None), fwd("a")]), Rule::AfterClose);
        assert_eq!(
            rule(&[received(), close(None), received()]),
            Rule::SecondReceived
        );
    }

    #[test]
    fn rejection_names_complaint_state_and_event() {
        let e = run(&[received(), fwd("a"), progress("a")]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "complaint C-1 is `forwarded`: `progress_reported` refused (not_acknowledged): `a` must acknowledge it before it can report progress"
        );
    }
}

#[cfg(test)]
mod oversight_tests {
    use super::*;

    fn ev(json: &str, ty: EventType) -> EventData {
        EventData::from_json(ty, json).unwrap()
    }
    fn run(evs: &[EventData]) -> Result<Lifecycle, Rejection> {
        let mut s = Lifecycle::default();
        for e in evs {
            validate("C-1", &s, e)?;
            evolve(&mut s, e);
        }
        Ok(s)
    }

    #[test]
    fn watchers_events_follow_their_rules() {
        let received = ev(
            r#"{"category":"road","channel":"web","complainant":{"anonymous":true},"district":"x","subject":"s","urgent":true}"#,
            EventType::Received,
        );
        let fwd = ev(r#"{"to_unit":"district:a"}"#, EventType::Forwarded);
        let ext = ev(
            r#"{"to_unit":"ext:mea","external":true}"#,
            EventType::Forwarded,
        );
        let ack = ev(r#"{"unit":"district:a"}"#, EventType::Acknowledged);
        let close = ev(
            r#"{"answer":"done","outcome":"resolved"}"#,
            EventType::Closed,
        );
        let chase = |o: &str| {
            ev(
                &format!(r#"{{"unit":"district:a","obligation":"{o}","checkpoint":null}}"#),
                EventType::Chased,
            )
        };
        let told = ev(r#"{"method":"phone"}"#, EventType::ComplainantInformed);
        let flag = ev(
            r#"{"flag":"executive_assigned","note":"see to it"}"#,
            EventType::Flagged,
        );
        let seen = ev(
            r#"{"office":"office:governor-secretariat","consistent":true}"#,
            EventType::FieldInspected,
        );
        // Chased only about what the unit holding it owes.
        assert!(run(&[received.clone(), fwd.clone(), chase("ack")]).is_ok());
        let rule = |evs: &[EventData]| run(evs).unwrap_err().rule;
        assert_eq!(
            rule(&[received.clone(), chase("ack")]),
            Rule::NotAssignedToUnit
        );
        assert_eq!(
            rule(&[received.clone(), fwd.clone(), ack.clone(), chase("ack")]),
            Rule::NothingToChase
        );
        assert_eq!(
            rule(&[received.clone(), fwd.clone(), chase("first_progress")]),
            Rule::NothingToChase
        );
        let ext_chase = ev(
            r#"{"unit":"ext:mea","obligation":"ack"}"#,
            EventType::Chased,
        );
        assert_eq!(
            rule(&[received.clone(), ext, ext_chase]),
            Rule::NothingToChase
        );
        assert_eq!(
            rule(&[received.clone(), fwd.clone(), close.clone(), chase("ack")]),
            Rule::AfterClose
        );
        // The complainant is told after a close, not before.
        assert_eq!(rule(&[received.clone(), told.clone()]), Rule::NotClosed);
        // Flags and inspections on open and closed complaints; none changes the status.
        let s = run(&[
            received.clone(),
            flag.clone(),
            seen.clone(),
            fwd,
            close,
            told,
            flag,
            seen,
        ])
        .unwrap();
        assert_eq!(s.status, Status::Closed);
        assert_eq!(
            rule(&[ev(r#"{"flag":"urgent","note":"n"}"#, EventType::Flagged)]),
            Rule::NotReceived
        );
    }
}
