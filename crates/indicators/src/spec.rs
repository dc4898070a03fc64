//! Indicator specs: what a fiscal-year indicator counts, how it judges each complaint, and how
//! it scores. Specs are data (JSON); the built-in ones live in `specs/` and a user may pass
//! their own file. `schemas/indicators/spec.schema.json` is generated from these types.

use std::collections::BTreeMap;

use event_model::Channel;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// A text in Thai and English.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Text {
    pub th: String,
    pub en: String,
}

/// An indicator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    /// Stable identifier, e.g. `bma-complaint-3step`.
    pub id: String,
    pub title: Text,
    /// Where the rule comes from (document, year).
    #[serde(default)]
    pub source: Option<String>,
    /// Which complaints count.
    #[serde(default)]
    pub counts: Selection,
    /// The steps; the unit's score is the sum of its step scores.
    pub steps: Vec<Step>,
    /// Names of units shown in reports (`district:bang-rak` -> Thai and English); units not
    /// named here take the built-in names of the BMA's units.
    #[serde(default)]
    pub unit_names: BTreeMap<String, Text>,
    /// What an undetermined obligation (one the data's times cannot judge, see
    /// `projections::judgement`) counts as: `exclude` (the default: out of the step's
    /// denominator) or `count_as_missed`. Either way results report how many there were.
    #[serde(default, skip_serializing_if = "Undetermined::is_default")]
    pub undetermined: Undetermined,
}

/// See [`Spec::undetermined`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Undetermined {
    #[default]
    Exclude,
    CountAsMissed,
}

impl Undetermined {
    // The default is left out of the spec's JSON, so that its content hash is what it was
    // before the option existed.
    fn is_default(&self) -> bool {
        *self == Undetermined::Exclude
    }
}

/// The complaints an indicator counts: those forwarded (internal forward) to a unit with the
/// forward's local date in the fiscal year, narrowed by these filters (each absent filter lets
/// everything through).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Selection {
    /// Only complaints received through these channels.
    #[serde(default)]
    pub channels: Option<Vec<Channel>>,
    /// Only complaints of these categories.
    #[serde(default)]
    pub categories: Option<Vec<String>>,
    /// Only units whose id starts with one of these (e.g. `district:` for the district offices).
    #[serde(default)]
    pub unit_prefixes: Option<Vec<String>>,
    /// Which forwards count: to BMA units (`internal`, the default), to external agencies
    /// (`external`), or `any`.
    #[serde(default)]
    pub forwards: Forwards,
}

/// See [`Selection::forwards`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Forwards {
    #[default]
    Internal,
    External,
    Any,
}

/// Per-complaint criteria, computed from the complaint projection for one unit. A complaint
/// meets a criterion for a unit only if every round assigned to that unit meets it.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Criterion {
    /// R1: acknowledged within the deadline.
    R1Met,
    /// R2: first progress (or the close) within the deadline.
    R2Met,
    /// R3: every follow-up checkpoint met.
    R3AllMet,
    /// The complaint is closed (a close always carries a non-empty answer).
    ClosedWithAnswer,
    /// Its last round closed with outcome `resolved`, not reopened since.
    Resolved,
}

impl Criterion {
    pub const ALL: [Criterion; 5] = [
        Criterion::R1Met,
        Criterion::R2Met,
        Criterion::R3AllMet,
        Criterion::ClosedWithAnswer,
        Criterion::Resolved,
    ];

    /// A criterion by its name.
    pub fn parse(name: &str) -> Option<Criterion> {
        Criterion::ALL.into_iter().find(|c| c.as_str() == name)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Criterion::R1Met => "r1_met",
            Criterion::R2Met => "r2_met",
            Criterion::R3AllMet => "r3_all_met",
            Criterion::ClosedWithAnswer => "closed_with_answer",
            Criterion::Resolved => "resolved",
        }
    }
}

/// One step of an indicator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Step {
    pub id: String,
    pub title: Text,
    /// What the step measures.
    pub measure: Measure,
    /// How the step's share becomes points.
    pub scoring: Scoring,
    /// Amounts taken off the step's score (never below 0).
    #[serde(default)]
    pub deductions: Vec<Deduction>,
}

/// What a step measures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Measure {
    /// The share of the unit's complaints that meet every listed criterion.
    Complaints { all_of: Vec<Criterion> },
    /// The share of the fiscal year's months (due by the evaluation date) whose monthly report
    /// the unit submitted by `due_day` of the following month.
    MonthlyReports { due_day: u32 },
}

/// How a share becomes points.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Scoring {
    /// `points` when the share reaches `full_at_pct`, else `pct x points / full_at_pct`.
    Proportional { points: f64, full_at_pct: f64 },
    /// The first level whose `min_pct` the share reaches (levels are listed from the highest).
    Levels { levels: Vec<Level> },
    /// `points` minus the deductions, whatever the share (the share is reported only).
    FixedMinusDeductions { points: f64 },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Level {
    pub min_pct: f64,
    pub level: u32,
    pub points: f64,
}

/// A deduction from a step's score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Deduction {
    /// For each month in which fewer than `min_consistent_pct` percent of the spot checks of
    /// the unit's closes of that month were consistent.
    SpotChecks {
        min_consistent_pct: f64,
        amount: f64,
    },
    /// For each month whose monthly report was submitted after `due_day` of the following
    /// month, or not at all once that day has passed.
    MonthlyReportLateOrMissing { due_day: u32, amount: f64 },
}

/// Why a spec was refused: the field and the reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("indicator spec{}: field `{field}`: {message}", .source_name.as_deref().map(|s| format!(" {s}")).unwrap_or_default())]
pub struct SpecError {
    pub source_name: Option<String>,
    pub field: String,
    pub message: String,
}

impl Spec {
    /// Reads and checks a spec. `source_name` names it in errors (a file name).
    pub fn parse(json: &str, source_name: Option<&str>) -> Result<Spec, SpecError> {
        let err = |field: String, message: String| SpecError {
            source_name: source_name.map(String::from),
            field,
            message,
        };
        let mut de = serde_json::Deserializer::from_str(json);
        let spec: Spec = serde_path_to_error::deserialize(&mut de).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner();
            let msg = inner.to_string();
            let msg = match msg.rfind(" at line ") {
                Some(i) if !inner.is_syntax() && !inner.is_eof() => msg[..i].to_string(),
                _ => msg,
            };
            err(
                if path == "." {
                    "(document)".into()
                } else {
                    path
                },
                msg,
            )
        })?;
        de.end()
            .map_err(|e| err("(document)".into(), e.to_string()))?;
        spec.check().map_err(|(f, m)| err(f, m))?;
        Ok(spec)
    }

    fn check(&self) -> Result<(), (String, String)> {
        if self.id.trim().is_empty() {
            return Err(("id".into(), "must not be empty".into()));
        }
        if self.steps.is_empty() {
            return Err((
                "steps".into(),
                "an indicator needs at least one step".into(),
            ));
        }
        let positive = |f: String, v: f64| {
            if v.is_finite() && v >= 0.0 {
                Ok(())
            } else {
                Err((f, format!("{v} must be a non-negative number")))
            }
        };
        let pct = |f: String, v: f64| {
            if (0.0..=100.0).contains(&v) {
                Ok(())
            } else {
                Err((f, format!("{v} is not a percentage (0-100)")))
            }
        };
        let day = |f: String, d: u32| {
            if (1..=28).contains(&d) {
                Ok(())
            } else {
                Err((f, format!("{d} is not a day every month has (1-28)")))
            }
        };
        let mut ids = std::collections::BTreeSet::new();
        for (i, s) in self.steps.iter().enumerate() {
            let at = |f: &str| format!("steps[{i}].{f}");
            if !ids.insert(s.id.as_str()) {
                return Err((at("id"), format!("`{}` is used by two steps", s.id)));
            }
            match &s.measure {
                Measure::Complaints { all_of } if all_of.is_empty() => {
                    return Err((at("measure.all_of"), "name at least one criterion".into()))
                }
                Measure::MonthlyReports { due_day } => day(at("measure.due_day"), *due_day)?,
                _ => {}
            }
            match &s.scoring {
                Scoring::Proportional {
                    points,
                    full_at_pct,
                } => {
                    positive(at("scoring.points"), *points)?;
                    pct(at("scoring.full_at_pct"), *full_at_pct)?;
                    if *full_at_pct == 0.0 {
                        return Err((at("scoring.full_at_pct"), "must be above 0".into()));
                    }
                }
                Scoring::Levels { levels } => {
                    if levels.is_empty() {
                        return Err((at("scoring.levels"), "list at least one level".into()));
                    }
                    for (j, l) in levels.iter().enumerate() {
                        pct(at(&format!("scoring.levels[{j}].min_pct")), l.min_pct)?;
                        positive(at(&format!("scoring.levels[{j}].points")), l.points)?;
                        if j > 0 && l.min_pct >= levels[j - 1].min_pct {
                            return Err((
                                at(&format!("scoring.levels[{j}].min_pct")),
                                "levels must be listed from the highest min_pct down".into(),
                            ));
                        }
                    }
                    if levels.last().map(|l| l.min_pct) != Some(0.0) {
                        return Err((
                            at("scoring.levels"),
                            "the last level must have min_pct 0, so every share has a level".into(),
                        ));
                    }
                }
                Scoring::FixedMinusDeductions { points } => {
                    positive(at("scoring.points"), *points)?
                }
            }
            for (j, d) in s.deductions.iter().enumerate() {
                match d {
                    Deduction::SpotChecks {
                        min_consistent_pct,
                        amount,
                    } => {
                        pct(
                            at(&format!("deductions[{j}].min_consistent_pct")),
                            *min_consistent_pct,
                        )?;
                        positive(at(&format!("deductions[{j}].amount")), *amount)?;
                    }
                    Deduction::MonthlyReportLateOrMissing { due_day, amount } => {
                        day(at(&format!("deductions[{j}].due_day")), *due_day)?;
                        positive(at(&format!("deductions[{j}].amount")), *amount)?;
                    }
                }
            }
        }
        Ok(())
    }

    /// SHA-256 (hex) of the spec's canonical JSON: what a result records so that it can be
    /// re-derived with the same spec.
    pub fn content_hash(&self) -> String {
        let v = serde_json::to_value(self).expect("spec serialises");
        let bytes = serde_json::to_vec(&v).expect("value serialises");
        Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// Whether the spec scores with a levels table (then results carry `level`).
    pub fn has_levels(&self) -> bool {
        self.steps
            .iter()
            .any(|s| matches!(s.scoring, Scoring::Levels { .. }))
    }
}

/// Names of the BMA's units (the 50 district offices and the departments), used where a spec
/// does not name a unit itself.
pub const BANGKOK_UNITS: &str = include_str!("../specs/units-bangkok.json");

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UnitsFile {
    #[allow(dead_code)]
    description: String,
    units: BTreeMap<String, Text>,
}

/// The built-in unit names.
pub fn bangkok_unit_names() -> BTreeMap<String, Text> {
    serde_json::from_str::<UnitsFile>(BANGKOK_UNITS)
        .expect("built-in unit names parse")
        .units
}

/// The built-in specs, by id.
pub const BUILTIN: &[(&str, &str)] = &[
    (
        "bma-complaint-3step",
        include_str!("../specs/bma-complaint-3step.json"),
    ),
    (
        "bma-timeliness",
        include_str!("../specs/bma-timeliness.json"),
    ),
    (
        "traffy-resolution-2567",
        include_str!("../specs/traffy-resolution-2567.json"),
    ),
    (
        "governor-directives-2567",
        include_str!("../specs/governor-directives-2567.json"),
    ),
];

/// A built-in spec by id.
pub fn builtin(id: &str) -> Option<Spec> {
    BUILTIN
        .iter()
        .find(|(n, _)| *n == id)
        .map(|(n, text)| Spec::parse(text, Some(n)).expect("built-in specs parse"))
}

/// The JSON Schema of a spec, pretty-printed.
pub fn spec_schema() -> String {
    let mut s =
        serde_json::to_string_pretty(&schemars::schema_for!(Spec)).expect("schema serialises");
    s.push('\n');
    s
}
