//! Event types and their `data` payloads.
//!
//! Struct fields are declared in lexicographic order on purpose: serialising a payload then
//! yields its canonical JSON (sorted keys, no whitespace) without an intermediate map. A test
//! checks that every payload serialises with sorted keys.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Every kind of event the log may hold.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum EventType {
    Received,
    Forwarded,
    Acknowledged,
    ProgressReported,
    Closed,
    Reopened,
    SpotChecked,
    MonthlyReportSubmitted,
    Observed,
    Flagged,
    Chased,
    ComplainantInformed,
    FieldInspected,
}

impl EventType {
    pub const ALL: [EventType; 13] = [
        EventType::Received,
        EventType::Forwarded,
        EventType::Acknowledged,
        EventType::ProgressReported,
        EventType::Closed,
        EventType::Reopened,
        EventType::SpotChecked,
        EventType::MonthlyReportSubmitted,
        EventType::Observed,
        EventType::Flagged,
        EventType::Chased,
        EventType::ComplainantInformed,
        EventType::FieldInspected,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Received => "received",
            EventType::Forwarded => "forwarded",
            EventType::Acknowledged => "acknowledged",
            EventType::ProgressReported => "progress_reported",
            EventType::Closed => "closed",
            EventType::Reopened => "reopened",
            EventType::SpotChecked => "spot_checked",
            EventType::MonthlyReportSubmitted => "monthly_report_submitted",
            EventType::Observed => "observed",
            EventType::Flagged => "flagged",
            EventType::Chased => "chased",
            EventType::ComplainantInformed => "complainant_informed",
            EventType::FieldInspected => "field_inspected",
        }
    }

    pub fn parse(s: &str) -> Option<EventType> {
        EventType::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// Whether events of this type belong on a `unit/...` stream rather than a complaint's.
    pub fn is_unit_level(self) -> bool {
        matches!(self, EventType::MonthlyReportSubmitted)
    }
}

impl std::fmt::Display for EventType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a complaint entered the system.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    #[serde(rename = "hotline_1555")]
    Hotline1555,
    TraffyFondue,
    GovernorDistrictVisit,
    GovernorCommunityVisit,
    Letter,
    WalkIn,
    Web,
    Other,
}

impl Channel {
    pub const ALL: [Channel; 8] = [
        Channel::Hotline1555,
        Channel::TraffyFondue,
        Channel::GovernorDistrictVisit,
        Channel::GovernorCommunityVisit,
        Channel::Letter,
        Channel::WalkIn,
        Channel::Web,
        Channel::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Hotline1555 => "hotline_1555",
            Channel::TraffyFondue => "traffy_fondue",
            Channel::GovernorDistrictVisit => "governor_district_visit",
            Channel::GovernorCommunityVisit => "governor_community_visit",
            Channel::Letter => "letter",
            Channel::WalkIn => "walk_in",
            Channel::Web => "web",
            Channel::Other => "other",
        }
    }
}

/// How a round was closed.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Resolved,
    OutsideAuthority,
    AnonymousNoEvidence,
    Duplicate,
    Withdrawn,
    NotActionable,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Resolved => "resolved",
            Outcome::OutsideAuthority => "outside_authority",
            Outcome::AnonymousNoEvidence => "anonymous_no_evidence",
            Outcome::Duplicate => "duplicate",
            Outcome::Withdrawn => "withdrawn",
            Outcome::NotActionable => "not_actionable",
        }
    }
}

/// Why a complainant had a closed complaint reopened.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ReopenReason {
    NotFixed,
    Dissatisfied,
    Other,
}

/// Where the complaint is about.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Location {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = -90.0, max = 90.0))]
    pub lat: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = -180.0, max = 180.0))]
    pub lon: Option<f64>,
}

/// Who complained. Name and contact are personal data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Complainant {
    pub anonymous: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default)]
    pub wants_update: bool,
}

impl Complainant {
    /// Someone who gave no name or contact and wants no update.
    pub fn anonymous() -> Complainant {
        Complainant {
            anonymous: true,
            contact: None,
            name: None,
            wants_update: false,
        }
    }
}

/// `received`: a complaint enters the system.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Received {
    #[schemars(regex(pattern = crate::text::NON_BLANK_PATTERN))]
    pub category: String,
    pub channel: Channel,
    #[serde(deserialize_with = "crate::object_only::required")]
    pub complainant: Complainant,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    #[schemars(regex(pattern = crate::text::NON_BLANK_PATTERN))]
    pub district: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_ref: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::object_only::optional"
    )]
    pub location: Option<Location>,
    #[schemars(regex(pattern = crate::text::NON_BLANK_PATTERN))]
    pub subject: String,
    /// A threat to life or property (absent: not urgent).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub urgent: bool,
}

/// `forwarded`: sent to a responsible unit, or to an external agency.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Forwarded {
    #[serde(default)]
    pub external: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    #[schemars(regex(pattern = crate::text::IDENT_PATTERN))]
    pub to_unit: String,
}

/// `acknowledged`: the unit accepts the complaint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Acknowledged {
    #[schemars(regex(pattern = crate::text::IDENT_PATTERN))]
    pub unit: String,
}

/// `progress_reported`: the unit reports what it has done so far.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProgressReported {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(inner(regex(pattern = crate::text::NON_BLANK_PATTERN)))]
    pub evidence: Vec<String>,
    #[schemars(regex(pattern = crate::text::NON_BLANK_PATTERN))]
    pub note: String,
    #[schemars(regex(pattern = crate::text::IDENT_PATTERN))]
    pub unit: String,
}

/// `closed`: closed with an outcome and an answer for the complainant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Closed {
    #[schemars(regex(pattern = crate::text::NON_BLANK_PATTERN))]
    pub answer: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(inner(regex(pattern = crate::text::NON_BLANK_PATTERN)))]
    pub evidence: Vec<String>,
    pub outcome: Outcome,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = crate::text::IDENT_PATTERN))]
    pub unit: Option<String>,
}

/// `reopened`: the complainant says it is not fixed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Reopened {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    pub reason: ReopenReason,
}

/// `spot_checked`: an evaluator checked a closed complaint against reality.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SpotChecked {
    pub consistent: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// `monthly_report_submitted` (on a `unit/...` stream): a unit's monthly summary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MonthlyReportSubmitted {
    /// `YYYY-MM`.
    #[schemars(regex(pattern = crate::text::MONTH_PATTERN))]
    pub month: String,
    #[schemars(regex(pattern = crate::text::IDENT_PATTERN))]
    pub unit: String,
}

/// `observed`: an outside system (the platform a complaint came from) showed the complaint in
/// `state` at the event's instant. The log's record of such a complaint is complete up to its
/// latest observation and unknown after it: an obligation it does not show fulfilled is missed
/// only if it was due before that observation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Observed {
    /// Where it was observed (e.g. `traffy_fondue`).
    #[schemars(regex(pattern = crate::text::IDENT_PATTERN))]
    pub source: String,
    /// The state the outside system showed, in its own words.
    #[schemars(regex(pattern = crate::text::NON_BLANK_PATTERN))]
    pub state: String,
}

/// What a `flagged` event marks a complaint as.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Flag {
    /// A threat to life or property.
    Urgent,
    /// Assigned for attention by an executive.
    ExecutiveAssigned,
}

impl Flag {
    pub fn as_str(self) -> &'static str {
        match self {
            Flag::Urgent => "urgent",
            Flag::ExecutiveAssigned => "executive_assigned",
        }
    }
}

/// `flagged`: the centre or an executive marks a complaint urgent or assigned by an executive.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Flagged {
    pub flag: Flag,
    /// Why, or what the executive asked for.
    #[schemars(regex(pattern = crate::text::NON_BLANK_PATTERN))]
    pub note: String,
}

/// Which obligation of a unit a `chased` event is about.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ChasedObligation {
    /// R1, the acknowledgement.
    Ack,
    /// R2, the first progress report.
    FirstProgress,
    /// An R3 checkpoint (its date in `checkpoint`).
    Checkpoint,
}

impl ChasedObligation {
    pub fn as_str(self) -> &'static str {
        match self {
            ChasedObligation::Ack => "ack",
            ChasedObligation::FirstProgress => "first_progress",
            ChasedObligation::Checkpoint => "checkpoint",
        }
    }
}

/// `chased`: the centre chases a unit about an overdue obligation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(extend(
    "if" = {"properties": {"obligation": {"const": "checkpoint"}}},
    "then" = {"required": ["checkpoint"], "properties": {"checkpoint": {"type": "string"}}},
    "else" = {"properties": {"checkpoint": {"type": "null"}}}
))]
pub struct Chased {
    /// The checkpoint's date (as due), for a `checkpoint` chase only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkpoint: Option<chrono::NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    pub obligation: ChasedObligation,
    /// The unit chased: the one holding the complaint.
    #[schemars(regex(pattern = crate::text::IDENT_PATTERN))]
    pub unit: String,
}

/// How a complainant was told.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum InformMethod {
    Phone,
    Sms,
    Letter,
    Email,
    InPerson,
    Other,
}

impl InformMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            InformMethod::Phone => "phone",
            InformMethod::Sms => "sms",
            InformMethod::Letter => "letter",
            InformMethod::Email => "email",
            InformMethod::InPerson => "in_person",
            InformMethod::Other => "other",
        }
    }
}

/// `complainant_informed`: the centre told the complainant the outcome of the latest close.
/// The note may hold personal data (it is redacted like names and contacts).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ComplainantInformed {
    pub method: InformMethod,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// `field_inspected`: an inspecting office went and looked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FieldInspected {
    /// Whether what was found matches what the unit reported.
    pub consistent: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(inner(regex(pattern = crate::text::NON_BLANK_PATTERN)))]
    pub evidence: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The inspecting office.
    #[schemars(regex(pattern = crate::text::IDENT_PATTERN))]
    pub office: String,
}

/// A typed payload. Serialises as the bare payload object (its type is beside it in the
/// envelope).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum EventData {
    Received(Received),
    Forwarded(Forwarded),
    Acknowledged(Acknowledged),
    ProgressReported(ProgressReported),
    Closed(Closed),
    Reopened(Reopened),
    SpotChecked(SpotChecked),
    MonthlyReportSubmitted(MonthlyReportSubmitted),
    Observed(Observed),
    Flagged(Flagged),
    Chased(Chased),
    ComplainantInformed(ComplainantInformed),
    FieldInspected(FieldInspected),
}

impl EventData {
    pub fn event_type(&self) -> EventType {
        match self {
            EventData::Received(_) => EventType::Received,
            EventData::Forwarded(_) => EventType::Forwarded,
            EventData::Acknowledged(_) => EventType::Acknowledged,
            EventData::ProgressReported(_) => EventType::ProgressReported,
            EventData::Closed(_) => EventType::Closed,
            EventData::Reopened(_) => EventType::Reopened,
            EventData::SpotChecked(_) => EventType::SpotChecked,
            EventData::Observed(_) => EventType::Observed,
            EventData::MonthlyReportSubmitted(_) => EventType::MonthlyReportSubmitted,
            EventData::Flagged(_) => EventType::Flagged,
            EventData::Chased(_) => EventType::Chased,
            EventData::ComplainantInformed(_) => EventType::ComplainantInformed,
            EventData::FieldInspected(_) => EventType::FieldInspected,
        }
    }

    /// The canonical JSON text of the payload (sorted keys, no whitespace).
    pub fn to_canonical_json(&self) -> String {
        serde_json::to_string(self).expect("payloads always serialise")
    }

    /// Decodes a payload of a known type; errors carry the JSON path of the offending field.
    pub fn from_json(event_type: EventType, json: &str) -> Result<EventData, FieldError> {
        fn de<T: serde::de::DeserializeOwned>(json: &str) -> Result<T, FieldError> {
            // Fast path; only a failure pays for tracking the path of the offending field.
            let mut d = serde_json::Deserializer::from_str(json);
            if let Ok(v) = T::deserialize(crate::object_only::ObjectOnly(&mut d)) {
                if d.end().is_ok() {
                    return Ok(v);
                }
            }
            let mut d = serde_json::Deserializer::from_str(json);
            let v = serde_path_to_error::deserialize(crate::object_only::ObjectOnly(&mut d))
                .map_err(|e| FieldError {
                    path: e.path().to_string(),
                    message: e.into_inner().to_string(),
                })?;
            d.end().map_err(|e| FieldError {
                path: String::new(),
                message: e.to_string(),
            })?;
            Ok(v)
        }
        Ok(match event_type {
            EventType::Received => EventData::Received(de(json)?),
            EventType::Forwarded => EventData::Forwarded(de(json)?),
            EventType::Acknowledged => EventData::Acknowledged(de(json)?),
            EventType::ProgressReported => EventData::ProgressReported(de(json)?),
            EventType::Closed => EventData::Closed(de(json)?),
            EventType::Reopened => EventData::Reopened(de(json)?),
            EventType::SpotChecked => EventData::SpotChecked(de(json)?),
            EventType::MonthlyReportSubmitted => EventData::MonthlyReportSubmitted(de(json)?),
            EventType::Observed => EventData::Observed(de(json)?),
            EventType::Flagged => EventData::Flagged(de(json)?),
            EventType::Chased => EventData::Chased(de(json)?),
            EventType::ComplainantInformed => EventData::ComplainantInformed(de(json)?),
            EventType::FieldInspected => EventData::FieldInspected(de(json)?),
        })
    }

    /// Decodes only the fields the projection folds read (channel, category, district, units,
    /// outcomes, reasons, months, spot-check verdicts), skipping the texts they never read
    /// without allocating them: a `received` comes back with an empty subject, no detail,
    /// location or external reference and an anonymous complainant; notes, answers and
    /// evidence come back empty. For folding stored (already validated) payloads only: never
    /// for output, and never for a fold that keeps public information.
    pub fn from_json_projected(event_type: EventType, json: &str) -> Result<EventData, FieldError> {
        use projected as p;
        fn de<T: serde::de::DeserializeOwned>(json: &str) -> Result<T, FieldError> {
            serde_json::from_str(json).map_err(|e| FieldError {
                path: String::new(),
                message: e.to_string(),
            })
        }
        Ok(match event_type {
            EventType::Received => {
                let d: p::Received = de(json)?;
                EventData::Received(Received {
                    category: d.category,
                    channel: d.channel,
                    // Whether the complainant asked to be told: a duty, not personal data.
                    complainant: Complainant {
                        anonymous: d.complainant.anonymous,
                        contact: None,
                        name: None,
                        wants_update: d.complainant.wants_update,
                    },
                    detail: None,
                    district: d.district,
                    external_ref: None,
                    location: None,
                    subject: String::new(),
                    urgent: d.urgent,
                })
            }
            EventType::Forwarded => {
                let d: p::Forwarded = de(json)?;
                EventData::Forwarded(Forwarded {
                    external: d.external,
                    note: None,
                    to_unit: d.to_unit,
                })
            }
            EventType::Acknowledged => EventData::Acknowledged(de(json)?),
            EventType::ProgressReported => {
                let d: p::Unit = de(json)?;
                EventData::ProgressReported(ProgressReported {
                    evidence: Vec::new(),
                    note: String::new(),
                    unit: d.unit,
                })
            }
            EventType::Closed => {
                let d: p::Closed = de(json)?;
                EventData::Closed(Closed {
                    answer: String::new(),
                    evidence: Vec::new(),
                    outcome: d.outcome,
                    unit: d.unit,
                })
            }
            EventType::Reopened => {
                let d: p::Reopened = de(json)?;
                EventData::Reopened(Reopened {
                    note: None,
                    reason: d.reason,
                })
            }
            EventType::SpotChecked => {
                let d: p::SpotChecked = de(json)?;
                EventData::SpotChecked(SpotChecked {
                    consistent: d.consistent,
                    note: None,
                })
            }
            EventType::MonthlyReportSubmitted => EventData::MonthlyReportSubmitted(de(json)?),
            EventType::Observed => EventData::Observed(de(json)?),
            EventType::Flagged => {
                let d: p::Flagged = de(json)?;
                EventData::Flagged(Flagged {
                    flag: d.flag,
                    note: String::new(),
                })
            }
            EventType::Chased => {
                let d: p::Chased = de(json)?;
                EventData::Chased(Chased {
                    checkpoint: d.checkpoint,
                    note: None,
                    obligation: d.obligation,
                    unit: d.unit,
                })
            }
            EventType::ComplainantInformed => {
                let d: p::Informed = de(json)?;
                EventData::ComplainantInformed(ComplainantInformed {
                    method: d.method,
                    note: None,
                })
            }
            EventType::FieldInspected => {
                let d: p::Inspected = de(json)?;
                EventData::FieldInspected(FieldInspected {
                    consistent: d.consistent,
                    evidence: Vec::new(),
                    note: None,
                    office: d.office,
                })
            }
        })
    }

    /// The unit named in the payload, if any.
    pub fn unit(&self) -> Option<&str> {
        match self {
            EventData::Forwarded(d) => Some(&d.to_unit),
            EventData::Acknowledged(d) => Some(&d.unit),
            EventData::ProgressReported(d) => Some(&d.unit),
            EventData::Closed(d) => d.unit.as_deref(),
            EventData::MonthlyReportSubmitted(d) => Some(&d.unit),
            EventData::Chased(d) => Some(&d.unit),
            EventData::FieldInspected(d) => Some(&d.office),
            _ => None,
        }
    }
}

/// A payload field that could not be decoded: its JSON path (`.` when the whole payload) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub path: String,
    pub message: String,
}

/// The fields of each payload that the projection folds read; the others are skipped.
mod projected {
    use serde::Deserialize;

    use super::{Channel, ChasedObligation, Flag, InformMethod, Outcome, ReopenReason};

    #[derive(Deserialize)]
    pub struct Received {
        pub category: String,
        pub channel: Channel,
        pub complainant: Complainant,
        pub district: String,
        #[serde(default)]
        pub urgent: bool,
    }

    #[derive(Deserialize)]
    pub struct Complainant {
        pub anonymous: bool,
        #[serde(default)]
        pub wants_update: bool,
    }

    #[derive(Deserialize)]
    pub struct Flagged {
        pub flag: Flag,
    }

    #[derive(Deserialize)]
    pub struct Chased {
        #[serde(default)]
        pub checkpoint: Option<chrono::NaiveDate>,
        pub obligation: ChasedObligation,
        pub unit: String,
    }

    #[derive(Deserialize)]
    pub struct Informed {
        pub method: InformMethod,
    }

    #[derive(Deserialize)]
    pub struct Inspected {
        pub consistent: bool,
        pub office: String,
    }

    #[derive(Deserialize)]
    pub struct Forwarded {
        #[serde(default)]
        pub external: bool,
        pub to_unit: String,
    }

    #[derive(Deserialize)]
    pub struct Unit {
        pub unit: String,
    }

    #[derive(Deserialize)]
    pub struct Closed {
        pub outcome: Outcome,
        #[serde(default)]
        pub unit: Option<String>,
    }

    #[derive(Deserialize)]
    pub struct Reopened {
        pub reason: ReopenReason,
    }

    #[derive(Deserialize)]
    pub struct SpotChecked {
        pub consistent: bool,
    }
}
