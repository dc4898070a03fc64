//! Scoring a fiscal year with a spec: per unit and overall, every number with the evidence
//! behind it.

use std::collections::{BTreeMap, BTreeSet};

use calendar::{local_date, FiscalYear};
use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveDate};
use lifecycle::Status;
use projections::{ComplaintView, Judgement, RoundEnd, RoundView, Sign, Timestamp};
use serde::Serialize;

use crate::spec::{Criterion, Deduction, Measure, Scoring, Spec, Undetermined};

/// Where a complaint stands on a criterion, for one unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Met,
    Failed,
    /// An obligation not yet due at the evaluation instant.
    Pending,
    /// The times the data holds cannot tell met from missed.
    Undetermined,
}

/// Counts of verdicts: met, judged (met or failed), pending and undetermined. An undetermined
/// verdict is judged as failed under [`Undetermined::CountAsMissed`], and left out of the
/// judged ones otherwise; it is counted either way.
#[derive(Debug, Clone, Copy, Default)]
struct Tally {
    correct: u64,
    total: u64,
    pending: u64,
    undetermined: u64,
}

impl Tally {
    fn add(&mut self, v: Verdict, policy: Undetermined) {
        match v {
            Verdict::Met => {
                self.correct += 1;
                self.total += 1;
            }
            Verdict::Failed => self.total += 1,
            Verdict::Pending => self.pending += 1,
            Verdict::Undetermined => {
                self.undetermined += 1;
                if policy == Undetermined::CountAsMissed {
                    self.total += 1;
                }
            }
        }
    }

    fn apply(&mut self, v: Verdict, policy: Undetermined, sign: Sign) {
        match sign {
            Sign::Add => self.add(v, policy),
            Sign::Remove => {
                let mut one = Tally::default();
                one.add(v, policy);
                self.correct -= one.correct;
                self.total -= one.total;
                self.pending -= one.pending;
                self.undetermined -= one.undetermined;
            }
        }
    }

    fn sum(self, o: Tally) -> Tally {
        Tally {
            correct: self.correct + o.correct,
            total: self.total + o.total,
            pending: self.pending + o.pending,
            undetermined: self.undetermined + o.undetermined,
        }
    }
}

/// Whether the spec counts a unit's complaints (by the unit's prefix).
fn unit_selected(spec: &Spec, u: &str) -> bool {
    spec.counts
        .unit_prefixes
        .as_ref()
        .is_none_or(|ps| ps.iter().any(|p| u.starts_with(p.as_str())))
}

/// A unit's tally, made empty when it has none yet.
fn tally_of<'t>(
    units: &'t mut BTreeMap<String, UnitTally>,
    steps: usize,
    unit: &str,
) -> &'t mut UnitTally {
    if !units.contains_key(unit) {
        let t = UnitTally {
            steps: vec![Tally::default(); steps],
            quarters: std::array::from_fn(|_| (0, vec![Tally::default(); steps])),
            ..UnitTally::default()
        };
        units.insert(unit.to_string(), t);
    }
    units.get_mut(unit).expect("inserted")
}

/// Several verdicts together: failed if one failed, else undetermined if one is, else
/// pending if one is, else met.
fn combine(vs: impl Iterator<Item = Verdict>) -> Verdict {
    let mut out = Verdict::Met;
    for v in vs {
        match v {
            Verdict::Failed => return Verdict::Failed,
            Verdict::Undetermined => out = Verdict::Undetermined,
            Verdict::Pending if out == Verdict::Met => out = Verdict::Pending,
            Verdict::Pending | Verdict::Met => {}
        }
    }
    out
}

/// A deadline of one round: judged, or `None`: pending while the round is open, not
/// applicable once it ended (a re-forward before the due date).
fn deadline(v: Option<Judgement>, r: &RoundView) -> Verdict {
    match v {
        Some(j) => judged(j),
        None if r.end.is_none() => Verdict::Pending,
        None => Verdict::Met,
    }
}

fn judged(j: Judgement) -> Verdict {
    match j {
        Judgement::Met => Verdict::Met,
        Judgement::Missed => Verdict::Failed,
        Judgement::Pending => Verdict::Pending,
        Judgement::Undetermined => Verdict::Undetermined,
    }
}

fn round_verdict(c: Criterion, r: &RoundView) -> Verdict {
    match c {
        Criterion::R1Met => deadline(r.ack_status, r),
        // A round never acknowledged cannot report first progress: R2 follows its R1.
        Criterion::R2Met if r.acknowledged_at.is_none() => deadline(r.ack_status, r),
        Criterion::R2Met => deadline(r.first_progress_status, r),
        Criterion::R3AllMet => judged(r.r3_status()),
        Criterion::ClosedWithAnswer | Criterion::Resolved => Verdict::Met,
    }
}

/// The verdict of a criterion for a complaint and one of its units.
pub fn verdict(c: Criterion, complaint: &ComplaintView, unit: &str) -> Verdict {
    match c {
        // Its state at the evaluation instant is not known when its record ends before it.
        Criterion::ClosedWithAnswer | Criterion::Resolved if complaint.known_until.is_some() => {
            Verdict::Undetermined
        }
        Criterion::ClosedWithAnswer => {
            if complaint.status == Status::Closed {
                Verdict::Met
            } else {
                Verdict::Failed
            }
        }
        Criterion::Resolved => {
            if complaint.status == Status::Closed
                && complaint.outcome == Some(event_model::Outcome::Resolved)
            {
                Verdict::Met
            } else {
                Verdict::Failed
            }
        }
        _ => combine(
            complaint
                .rounds
                .iter()
                .filter(|r| r.unit == unit)
                .map(|r| round_verdict(c, r)),
        ),
    }
}

/// What the evaluation was derived from, recorded in its output.
#[derive(Debug, Clone, Serialize)]
pub struct Provenance {
    pub log_head_position: u64,
    pub log_head_hash: String,
    pub calendar_version: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeductionLine {
    pub month: String,
    /// Why, in English (as `indicators.json` gives it).
    pub reason: String,
    pub amount: f64,
    /// Why, as values, for renderings in other languages (not in the JSON).
    #[serde(skip)]
    pub why: DeductionWhy,
}

/// What a deduction line is for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum DeductionWhy {
    /// The monthly report was submitted on the first date, after the second.
    ReportLate(NaiveDate, NaiveDate),
    /// No monthly report; it was due on this date.
    ReportMissing(NaiveDate),
    /// Spot checks of the month: consistent, checked, and the required share.
    SpotChecks {
        consistent: u64,
        checked: u64,
        min_pct: f64,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StepResult {
    pub id: String,
    /// Complaints (or months) meeting the step.
    pub correct: u64,
    /// Complaints (or months) judged: met or failed; pending ones are not counted.
    pub total: u64,
    /// Not yet judged at the evaluation instant.
    pub pending: u64,
    /// Not judged because the data's times cannot tell (out of `total` unless the spec counts
    /// them as missed).
    pub undetermined: u64,
    /// `null` when nothing was judged (no division by zero).
    pub pct: Option<f64>,
    /// The step's points before deductions; `null` when `pct` is.
    pub points: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub level: Option<u32>,
    pub deductions: Vec<DeductionLine>,
    /// Points minus deductions, never below 0; `null` when `points` is.
    pub score: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The step's title from its spec, for renderings (not in the JSON).
    #[serde(skip)]
    pub title: Option<crate::spec::Text>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UnitResult {
    pub unit: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<crate::spec::Text>,
    /// Complaints counted for the unit.
    pub total: u64,
    pub steps: Vec<StepResult>,
    /// Sum of the step scores; `null` when a step has no score.
    pub score: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pct: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub level: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub points: Option<f64>,
    /// Evidence: per criterion, the complaints that failed it.
    pub failed: BTreeMap<String, Vec<String>>,
    /// Evidence: per criterion, the complaints the data's times cannot judge on it.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub undetermined: BTreeMap<String, Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QuarterResult {
    pub quarter: u32,
    pub units: Vec<QuarterUnit>,
    pub overall: QuarterUnit,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QuarterUnit {
    pub unit: String,
    pub total: u64,
    pub steps: Vec<StepResult>,
}

#[derive(Debug, Clone, Serialize)]
pub struct IndicatorReport {
    pub spec: String,
    pub spec_title: crate::spec::Text,
    pub spec_hash: String,
    pub fiscal_year: i32,
    pub fiscal_year_be: i32,
    pub as_of: String,
    #[serde(flatten)]
    pub provenance: Provenance,
    pub units: Vec<UnitResult>,
    pub overall: UnitResult,
    /// Results by quarter of the forward date (Q1 Oct-Dec ... Q4 Jul-Sep), complaint steps
    /// only and without deductions, as the sources report them.
    pub quarters: Vec<QuarterResult>,
}

/// Points are reported to 6 decimals, so that sums like `2 - 1.1` read `0.9`.
fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

fn pct(correct: u64, total: u64) -> Option<f64> {
    (total > 0).then(|| correct as f64 * 100.0 / total as f64)
}

fn base_points(scoring: &Scoring, pct: Option<f64>) -> (Option<f64>, Option<u32>) {
    match scoring {
        Scoring::Proportional {
            points,
            full_at_pct,
        } => (
            pct.map(|p| {
                if p >= *full_at_pct {
                    *points
                } else {
                    round6(p * points / full_at_pct)
                }
            }),
            None,
        ),
        Scoring::Levels { levels } => match pct {
            None => (None, None),
            Some(p) => {
                let l = levels
                    .iter()
                    .find(|l| p >= l.min_pct)
                    .unwrap_or(levels.last().expect("checked"));
                (Some(l.points), Some(l.level))
            }
        },
        Scoring::FixedMinusDeductions { points } => (Some(*points), None),
    }
}

fn month_key(d: NaiveDate) -> String {
    calendar::month_of(d)
}

/// The months of a fiscal year, first to last.
fn fy_months(fy: FiscalYear) -> Vec<NaiveDate> {
    (0..12)
        .map(|i| {
            let first = fy.first_day();
            let total = first.year() * 12 + first.month0() as i32 + i;
            NaiveDate::from_ymd_opt(total / 12, (total % 12) as u32 + 1, 1).expect("valid")
        })
        .collect()
}

fn report_due(month: NaiveDate, due_day: u32) -> NaiveDate {
    let next = month + Duration::days(32);
    NaiveDate::from_ymd_opt(next.year(), next.month(), due_day).expect("checked day 1-28")
}

enum MonthReport {
    OnTime,
    Late(NaiveDate, NaiveDate),
    Missing(NaiveDate),
    Pending,
}

fn judge_month(
    reports: Option<&BTreeMap<String, Timestamp>>,
    month: NaiveDate,
    due_day: u32,
    today: NaiveDate,
) -> MonthReport {
    let due = report_due(month, due_day);
    match reports.and_then(|r| r.get(&month_key(month))) {
        Some(t) if local_date(&t.0) <= due => MonthReport::OnTime,
        Some(t) => MonthReport::Late(local_date(&t.0), due),
        None if today > due => MonthReport::Missing(due),
        None => MonthReport::Pending,
    }
}

/// Scores a fiscal year. `complaints` are all complaints of the log judged as of `as_of`
/// (not only those received in the year: a unit's complaints are those forwarded to it in the
/// year); `reports` are the units' monthly reports. The same as feeding a [`Scorer`] every
/// complaint.
pub fn evaluate(
    spec: &Spec,
    complaints: &[ComplaintView],
    reports: &BTreeMap<String, BTreeMap<String, Timestamp>>,
    fy: FiscalYear,
    as_of: DateTime<FixedOffset>,
    provenance: Provenance,
) -> IndicatorReport {
    let mut scorer = Scorer::new(spec, fy);
    complaints.iter().for_each(|c| scorer.add(c));
    scorer.report(reports, as_of, provenance)
}

/// A spec's scores, tallied one complaint at a time: each complaint's verdicts go into its
/// units' counts and evidence as it comes, so a year can be scored without holding every
/// complaint at once, and a complaint judged anew is taken out ([`Scorer::remove`], with the
/// view it was added with) and added again. [`Scorer::report`] gives the same report as
/// [`evaluate`] of the complaints added and not removed.
#[derive(Clone)]
pub struct Scorer {
    spec: Spec,
    fy: FiscalYear,
    /// The fiscal year's months (`YYYY-MM`), for spot checks.
    months: BTreeSet<String>,
    units: BTreeMap<String, UnitTally>,
}

/// What a unit's complaints have added up to so far.
#[derive(Default, Clone)]
struct UnitTally {
    /// Complaints counted for the unit.
    counted: u64,
    /// Per step (complaint steps only; others stay empty).
    steps: Vec<Tally>,
    /// Per quarter (1-4): complaints counted, and per step.
    quarters: [(u64, Vec<Tally>); 4],
    /// Evidence: per criterion, the complaints failed or undetermined (with how many steps
    /// put them there).
    failed: BTreeMap<String, BTreeMap<String, u32>>,
    undetermined: BTreeMap<String, BTreeMap<String, u32>>,
    /// Spot checks of the unit's closes, per month of the year: (consistent, checked).
    spot_checks: BTreeMap<String, (u64, u64)>,
}

impl Scorer {
    pub fn new(spec: &Spec, fy: FiscalYear) -> Scorer {
        Scorer {
            spec: spec.clone(),
            fy,
            months: fy_months(fy).into_iter().map(month_key).collect(),
            units: BTreeMap::new(),
        }
    }

    fn tally_of(&mut self, unit: &str) -> &mut UnitTally {
        tally_of(&mut self.units, self.spec.steps.len(), unit)
    }

    /// The spec it scores with.
    pub fn spec(&self) -> &Spec {
        &self.spec
    }

    /// Adds one complaint, judged as of the evaluation instant.
    pub fn add(&mut self, c: &ComplaintView) {
        self.apply(c, Sign::Add)
    }

    /// Takes out a complaint added before, as it was added (the same view).
    pub fn remove(&mut self, c: &ComplaintView) {
        self.apply(c, Sign::Remove)
    }

    fn apply(&mut self, c: &ComplaintView, sign: Sign) {
        self.spot_checks_of(c, sign);
        let Scorer {
            spec, fy, units, ..
        } = self;
        let sel = &spec.counts;
        let unit_ok = |u: &str| unit_selected(spec, u);
        if let Some(chs) = &sel.channels {
            if !c.channel.is_some_and(|ch| chs.contains(&ch)) {
                return;
            }
        }
        if let Some(cats) = &sel.categories {
            if !cats.contains(&c.category) {
                return;
            }
        }
        let forward_ok = |external: bool| match sel.forwards {
            crate::spec::Forwards::Internal => !external,
            crate::spec::Forwards::External => external,
            crate::spec::Forwards::Any => true,
        };
        // Each unit counts the complaint once, in the quarter of its first forward to it in
        // the year.
        let mut counted: Vec<(&str, u32)> = Vec::new();
        for r in c
            .rounds
            .iter()
            .filter(|r| forward_ok(r.external) && unit_ok(&r.unit))
        {
            let d = local_date(&r.forwarded_at.0);
            if fy.contains(d) && !counted.iter().any(|(u, _)| *u == r.unit) {
                counted.push((r.unit.as_str(), FiscalYear::quarter_of(d)));
            }
        }
        let policy = spec.undetermined;
        for (unit, quarter) in counted {
            let t = tally_of(units, spec.steps.len(), unit);
            sign.step(&mut t.counted);
            sign.step(&mut t.quarters[quarter as usize - 1].0);
            for (i, step) in spec.steps.iter().enumerate() {
                let Measure::Complaints { all_of } = &step.measure else {
                    continue;
                };
                let vs: Vec<Verdict> = all_of.iter().map(|k| verdict(*k, c, unit)).collect();
                for (k, v) in all_of.iter().zip(&vs) {
                    let evidence = match v {
                        Verdict::Failed => &mut t.failed,
                        Verdict::Undetermined => &mut t.undetermined,
                        _ => continue,
                    };
                    if !evidence.contains_key(k.as_str()) {
                        evidence.insert(k.as_str().to_string(), BTreeMap::new());
                    }
                    let ids = evidence.get_mut(k.as_str()).expect("inserted");
                    match sign {
                        Sign::Add => *ids.entry(c.complaint_id.clone()).or_default() += 1,
                        Sign::Remove => {
                            if let Some(n) = ids.get_mut(&c.complaint_id) {
                                *n -= 1;
                                if *n == 0 {
                                    ids.remove(&c.complaint_id);
                                }
                            }
                        }
                    }
                }
                let v = combine(vs.into_iter());
                t.steps[i].apply(v, policy, sign);
                t.quarters[quarter as usize - 1].1[i].apply(v, policy, sign);
            }
        }
    }

    /// A spot-checked complaint's checks, for each unit whose close in a month of the year
    /// they check (whether or not the complaint is counted for the unit).
    fn spot_checks_of(&mut self, c: &ComplaintView, sign: Sign) {
        if c.spot_checks.is_empty() {
            return;
        }
        let mut units: Vec<&str> = c
            .rounds
            .iter()
            .filter(|r| r.end == Some(RoundEnd::Closed))
            .map(|r| r.unit.as_str())
            .collect();
        units.sort_unstable();
        units.dedup();
        for unit in units {
            let closes: BTreeSet<String> = c
                .rounds
                .iter()
                .filter(|r| r.unit == unit && r.end == Some(RoundEnd::Closed))
                .filter_map(|r| r.closed_at.map(|t| month_key(local_date(&t.0))))
                .collect();
            for sc in &c.spot_checks {
                if closes.contains(&sc.month) && self.months.contains(&sc.month) {
                    let month = sc.month.clone();
                    let checks = &mut self.tally_of(unit).spot_checks;
                    let e = checks.entry(month.clone()).or_default();
                    if sc.consistent {
                        sign.step(&mut e.0);
                    }
                    sign.step(&mut e.1);
                    if e.1 == 0 {
                        checks.remove(&month);
                    }
                }
            }
        }
    }

    /// The report: every unit with a counted complaint (and, for a spec with monthly
    /// reports, every unit that reported), overall and by quarter.
    pub fn report(
        &self,
        reports: &BTreeMap<String, BTreeMap<String, Timestamp>>,
        as_of: DateTime<FixedOffset>,
        provenance: Provenance,
    ) -> IndicatorReport {
        let Scorer {
            spec,
            fy,
            months: _,
            units: tallies,
        } = self;
        let fy = *fy;
        let today = local_date(&as_of);
        let policy = spec.undetermined;
        let monthly = spec
            .steps
            .iter()
            .any(|s| matches!(s.measure, Measure::MonthlyReports { .. }));
        let unit_ok = |u: &str| unit_selected(spec, u);
        let mut units: BTreeSet<&str> = tallies
            .iter()
            .filter(|(_, t)| t.counted > 0)
            .map(|(u, _)| u.as_str())
            .collect();
        if monthly {
            units.extend(reports.keys().map(String::as_str).filter(|u| unit_ok(u)));
        }
        let empty = UnitTally {
            steps: vec![Tally::default(); spec.steps.len()],
            quarters: std::array::from_fn(|_| (0, vec![Tally::default(); spec.steps.len()])),
            ..UnitTally::default()
        };
        let months = fy_months(fy);
        let names = crate::spec::bangkok_unit_names();
        let mut unit_results = Vec::new();
        for unit in &units {
            let tally = tallies.get(*unit).unwrap_or(&empty);
            let mut steps = Vec::new();
            for (i, step) in spec.steps.iter().enumerate() {
                let t = match &step.measure {
                    Measure::Complaints { .. } => tally.steps[i],
                    Measure::MonthlyReports { due_day } => {
                        let mut t = Tally::default();
                        for m in &months {
                            let v = match judge_month(reports.get(*unit), *m, *due_day, today) {
                                MonthReport::OnTime => Verdict::Met,
                                MonthReport::Late(..) | MonthReport::Missing(_) => Verdict::Failed,
                                MonthReport::Pending => Verdict::Pending,
                            };
                            t.add(v, policy);
                        }
                        t
                    }
                };
                let (total, pending) = (t.total, t.pending);
                let mut result = undeducted_step(step, t);
                for d in &step.deductions {
                    result.deductions.extend(deduction_lines(
                        d,
                        &tally.spot_checks,
                        reports.get(*unit),
                        &months,
                        today,
                    ));
                }
                let taken: f64 = result.deductions.iter().map(|d| d.amount).sum();
                result.score = result.points.map(|p| round6((p - taken).max(0.0)));
                result.note = (matches!(step.measure, Measure::Complaints { .. }) && total == 0)
                    .then(|| {
                        if t.undetermined > 0 {
                            "no complaint could be judged: the data's times cannot tell".to_string()
                        } else if pending > 0 {
                            "no complaint judged yet".to_string()
                        } else {
                            "no complaints".to_string()
                        }
                    });
                steps.push(result);
            }
            let evidence = |m: &BTreeMap<String, BTreeMap<String, u32>>| {
                m.iter()
                    .filter(|(_, ids)| !ids.is_empty())
                    .map(|(k, ids)| (k.clone(), ids.keys().cloned().collect::<Vec<String>>()))
                    .collect::<BTreeMap<String, Vec<String>>>()
            };
            unit_results.push(unit_result(
                spec,
                &names,
                unit,
                tally.counted,
                steps,
                (evidence(&tally.failed), evidence(&tally.undetermined)),
            ));
        }

        // Overall: every counted (unit, complaint) pair; monthly steps over every unit-month;
        // no deductions (they are per unit).
        let mut overall_steps = Vec::new();
        for (i, step) in spec.steps.iter().enumerate() {
            let t = unit_results.iter().fold(Tally::default(), |acc, u| {
                let s = &u.steps[i];
                acc.sum(Tally {
                    correct: s.correct,
                    total: s.total,
                    pending: s.pending,
                    undetermined: s.undetermined,
                })
            });
            let mut result = undeducted_step(step, t);
            if let Scoring::FixedMinusDeductions { .. } = step.scoring {
                // Its points are the unit's minus the unit's own deductions: no overall score.
                result.points = None;
                result.score = None;
                result.note = Some("scored per unit only".to_string());
            }
            overall_steps.push(result);
        }
        let overall_total = tallies.values().map(|t| t.counted).sum();
        let overall = unit_result(
            spec,
            &names,
            "overall",
            overall_total,
            overall_steps,
            (BTreeMap::new(), BTreeMap::new()),
        );

        let quarters = (1..=4)
            .map(|q| quarter(spec, q, tallies, &units, &empty))
            .collect();
        IndicatorReport {
            spec: spec.id.clone(),
            spec_title: spec.title.clone(),
            spec_hash: spec.content_hash(),
            fiscal_year: fy.ce(),
            fiscal_year_be: fy.be(),
            as_of: event_model::format_instant(&as_of),
            provenance,
            units: unit_results,
            overall,
            quarters,
        }
    }
}

fn unit_result(
    spec: &Spec,
    default_names: &BTreeMap<String, crate::spec::Text>,
    unit: &str,
    total: u64,
    steps: Vec<StepResult>,
    (failed, undetermined): (BTreeMap<String, Vec<String>>, BTreeMap<String, Vec<String>>),
) -> UnitResult {
    let score = steps
        .iter()
        .map(|s| s.score)
        .sum::<Option<f64>>()
        .map(round6);
    let lv = spec
        .has_levels()
        .then(|| steps.iter().find(|s| s.level.is_some() || s.pct.is_none()))
        .flatten();
    UnitResult {
        unit: unit.to_string(),
        name: spec
            .unit_names
            .get(unit)
            .or_else(|| default_names.get(unit))
            .cloned(),
        total,
        score,
        pct: lv.and_then(|s| s.pct),
        level: lv.and_then(|s| s.level),
        points: lv.and_then(|s| s.score),
        steps,
        failed,
        undetermined,
    }
}

fn quarter(
    spec: &Spec,
    q: u32,
    tallies: &BTreeMap<String, UnitTally>,
    units: &BTreeSet<&str>,
    empty: &UnitTally,
) -> QuarterResult {
    let mut rows = Vec::new();
    let mut sums = vec![Tally::default(); spec.steps.len()];
    let mut overall_total = 0;
    for unit in units {
        let (counted, tallies) = &tallies.get(*unit).unwrap_or(empty).quarters[q as usize - 1];
        overall_total += counted;
        let mut steps = Vec::new();
        for (i, step) in spec.steps.iter().enumerate() {
            if !matches!(step.measure, Measure::Complaints { .. }) {
                continue;
            }
            sums[i] = sums[i].sum(tallies[i]);
            steps.push(undeducted_step(step, tallies[i]));
        }
        rows.push(QuarterUnit {
            unit: unit.to_string(),
            total: *counted,
            steps,
        });
    }
    let overall_steps = spec
        .steps
        .iter()
        .enumerate()
        .filter(|(_, s)| matches!(s.measure, Measure::Complaints { .. }))
        .map(|(i, s)| undeducted_step(s, sums[i]))
        .collect();
    QuarterResult {
        quarter: q,
        units: rows,
        overall: QuarterUnit {
            unit: "overall".into(),
            total: overall_total,
            steps: overall_steps,
        },
    }
}

/// A step's result from its counts alone, without deductions (overall and quarterly results).
/// A step's note when it had nothing to judge.
pub const NO_COMPLAINTS: &str = "no complaints";

fn undeducted_step(step: &crate::spec::Step, t: Tally) -> StepResult {
    let Tally {
        correct,
        total,
        pending,
        undetermined,
    } = t;
    let p = pct(correct, total);
    let (points, level) = base_points(&step.scoring, p);
    StepResult {
        id: step.id.clone(),
        correct,
        total,
        pending,
        undetermined,
        pct: p,
        points,
        level,
        deductions: vec![],
        score: points,
        note: (total == 0).then(|| NO_COMPLAINTS.to_string()),
        title: Some(step.title.clone()),
    }
}

fn deduction_lines(
    d: &Deduction,
    spot_checks: &BTreeMap<String, (u64, u64)>,
    reports: Option<&BTreeMap<String, Timestamp>>,
    months: &[NaiveDate],
    today: NaiveDate,
) -> Vec<DeductionLine> {
    match d {
        Deduction::MonthlyReportLateOrMissing { due_day, amount } => months
            .iter()
            .filter_map(|m| match judge_month(reports, *m, *due_day, today) {
                MonthReport::Late(on, due) => Some(DeductionLine {
                    month: month_key(*m),
                    reason: format!("monthly report late: submitted {on}, due {due}"),
                    amount: *amount,
                    why: DeductionWhy::ReportLate(on, due),
                }),
                MonthReport::Missing(due) => Some(DeductionLine {
                    month: month_key(*m),
                    reason: format!("monthly report missing: due {due}"),
                    amount: *amount,
                    why: DeductionWhy::ReportMissing(due),
                }),
                _ => None,
            })
            .collect(),
        Deduction::SpotChecks {
            min_consistent_pct,
            amount,
        } => {
            // month -> (consistent, checked), over the unit's closes of that month.
            spot_checks
                .iter()
                .map(|(m, (ok, n))| (m, *ok, *n))
                .filter(|(_, ok, n)| (*ok as f64 * 100.0 / *n as f64) < *min_consistent_pct)
                .map(|(m, ok, n)| DeductionLine {
                    month: m.to_string(),
                    reason: format!(
                        "spot checks: {ok} of {n} consistent ({:.1}%), below {min_consistent_pct}%",
                        ok as f64 * 100.0 / n as f64
                    ),
                    amount: *amount,
                    why: DeductionWhy::SpotChecks {
                        consistent: ok,
                        checked: n,
                        min_pct: *min_consistent_pct,
                    },
                })
                .collect()
        }
    }
}
