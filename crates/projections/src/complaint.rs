//! The complaint projection: current state of every complaint, with each assignment round's
//! deadlines (R1, R2, R3 checkpoints) judged as of an evaluation instant.

use std::collections::BTreeMap;

use event_model::FxMap;

use calendar::{
    local_date, next_checkpoint_after, previous_checkpoint_before, Calendar, FiscalYear,
};
use chrono::{DateTime, FixedOffset, NaiveDate};
use event_model::{format_instant, Channel, EventData, Outcome, RecordedEvent, UNIT_STREAM_PREFIX};
use lifecycle::Status;
use serde::Serialize;

use crate::judgement::{fulfilled, seen_by, unfulfilled, Days, Judgement, When};
use crate::rules::{CheckpointRoll, DeadlineRules};

mod codec;
pub use codec::{DecodeError, FOLD_FORMAT};

/// How an assignment round ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RoundEnd {
    /// Closed (by the unit or the centre).
    Closed,
    /// Forwarded on to another unit.
    Reforwarded,
}

#[derive(Debug, Clone)]
struct RoundAcc {
    unit: Sym,
    external: bool,
    forwarded_at: When,
    acknowledged_at: Option<When>,
    first_progress_at: Option<When>,
    /// Local dates of the unit's progress reports in this round (ranges for reports known
    /// to a range).
    progress_dates: Vec<Days>,
    ended_at: Option<When>,
    end: Option<RoundEnd>,
    outcome: Option<Outcome>,
    /// The centre's chases of the unit in this round.
    chases: Vec<ChaseView>,
}

/// A name kept once in a fold's [`Names`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Sym(u32);

impl Sym {
    /// The empty name, which every table holds first.
    const EMPTY: Sym = Sym(0);
}

/// The names complaints share (categories, districts, units), each kept once: a complaint
/// holds their numbers instead of copies.
#[derive(Debug, Clone)]
struct Names {
    list: Vec<String>,
    index: FxMap<String, u32>,
}

impl Default for Names {
    fn default() -> Self {
        let mut n = Names {
            list: Vec::new(),
            index: FxMap::default(),
        };
        n.sym(String::new());
        n
    }
}

impl Names {
    fn sym(&mut self, name: String) -> Sym {
        if let Some(&i) = self.index.get(&name) {
            return Sym(i);
        }
        let i = u32::try_from(self.list.len()).expect("fewer than 2^32 names");
        self.list.push(name.clone());
        self.index.insert(name, i);
        Sym(i)
    }

    fn get(&self, s: Sym) -> &str {
        &self.list[s.0 as usize]
    }
}

/// What the public may read of a complaint, kept only by a fold that keeps it (out of line,
/// so that other folds do not carry its room).
#[derive(Debug, Clone, Default)]
struct PublicAcc {
    subject: String,
    location: Option<event_model::Location>,
    last_answer: Option<String>,
}

#[derive(Debug, Clone)]
struct ComplaintAcc {
    status: Status,
    public: Option<Box<PublicAcc>>,
    updated_at: Option<DateTime<FixedOffset>>,
    channel: Option<Channel>,
    category: Sym,
    district: Sym,
    received_at: Option<When>,
    closed_at: Option<When>,
    outcome: Option<Outcome>,
    reopen_count: u32,
    version: u64,
    rounds: Vec<RoundAcc>,
    spot_checks: Vec<SpotCheckView>,
    /// The earliest instant of its latest `observed` event (also one after the evaluation
    /// instant: the log holds every change up to it): the log is complete for it up to then,
    /// and knows nothing after. `None` when the log is its whole record.
    known_until: Option<DateTime<FixedOffset>>,
    /// The earliest start of an event that may or may not have happened by the evaluation
    /// instant (its range straddles it): the record is certain only up to then.
    uncertain_from: Option<DateTime<FixedOffset>>,
    /// Marked urgent (at receipt or by a flag), or assigned by an executive.
    urgent: bool,
    executive_assigned: bool,
    /// The complainant gave a name and asked to be told the outcome.
    wants_update: bool,
    /// When the complainant was told, in order.
    informs: Vec<When>,
    /// Closed by the centre before any forward: no R0.
    closed_before_forward: bool,
    inspections: Vec<InspectionView>,
}

impl ComplaintAcc {
    fn new() -> Self {
        ComplaintAcc {
            status: Status::New,
            public: None,
            updated_at: None,
            channel: None,
            category: Sym::EMPTY,
            district: Sym::EMPTY,
            received_at: None,
            closed_at: None,
            outcome: None,
            reopen_count: 0,
            version: 0,
            rounds: Vec::new(),
            spot_checks: Vec::new(),
            known_until: None,
            uncertain_from: None,
            urgent: false,
            executive_assigned: false,
            wants_update: false,
            informs: Vec::new(),
            closed_before_forward: false,
            inspections: Vec::new(),
        }
    }

    /// Whether a close of a round has no message to the complainant after it (before the next
    /// close) while they asked for one.
    fn owes_inform(&self) -> bool {
        self.wants_update
            && (0..self.rounds.len()).any(|i| {
                self.rounds[i].end == Some(RoundEnd::Closed) && self.message_for(i).is_none()
            })
    }

    /// The message to the complainant that tells of round `i`'s close: the first at or after
    /// it and before the complaint's next close (a reopen and a new close ask for a new one).
    fn message_for(&self, i: usize) -> Option<When> {
        let close = self.rounds[i].ended_at?;
        let next_close = self.rounds[i + 1..]
            .iter()
            .find(|n| n.end == Some(RoundEnd::Closed))
            .and_then(|n| n.ended_at);
        self.informs
            .iter()
            .find(|t| t.at >= close.at && next_close.is_none_or(|n| t.at < n.at))
            .copied()
    }

    fn open_round(&mut self) -> Option<&mut RoundAcc> {
        self.rounds.last_mut().filter(|r| r.end.is_none())
    }
}

/// The fold. Feed it every event of the log in position order with [`ComplaintFold::apply`];
/// events that occurred after `as_of` are ignored.
#[derive(Debug, Clone)]
pub struct ComplaintFold {
    as_of: DateTime<FixedOffset>,
    /// Boxed: the table's room per entry stays small (it keeps spare room for growth).
    complaints: FxMap<String, Box<ComplaintAcc>>,
    /// Categories, districts and units, each kept once.
    names: Names,
    /// Unit -> month (`YYYY-MM`) -> first submission of its monthly report.
    reports: BTreeMap<String, BTreeMap<String, Timestamp>>,
    /// Whether to keep what [`ComplaintFold::public_info`] answers (subject, location, answer):
    /// the live API needs it, a replay does not.
    keep_public: bool,
}

impl ComplaintFold {
    pub fn new(as_of: DateTime<FixedOffset>) -> Self {
        ComplaintFold {
            as_of,
            complaints: FxMap::default(),
            names: Names::default(),
            reports: BTreeMap::new(),
            keep_public: false,
        }
    }

    /// The same fold, keeping each complaint's public information (subject, location, the
    /// answer of its last close) for [`ComplaintFold::public_info`].
    pub fn with_public_info(mut self) -> Self {
        self.keep_public = true;
        self
    }

    pub fn as_of(&self) -> DateTime<FixedOffset> {
        self.as_of
    }

    /// Monthly reports: unit -> month (`YYYY-MM`) -> when first submitted.
    pub fn monthly_reports(&self) -> &BTreeMap<String, BTreeMap<String, Timestamp>> {
        &self.reports
    }

    pub fn len(&self) -> usize {
        self.complaints.len()
    }

    pub fn is_empty(&self) -> bool {
        self.complaints.is_empty()
    }

    /// Applies one stored event. Never fails. Takes the event by value to move its strings
    /// into the projection instead of copying them.
    pub fn apply(&mut self, ev: RecordedEvent) {
        if ev.occurred_at > self.as_of {
            // Not (surely) by the evaluation instant, but it may still say how far the record
            // of a complaint reaches.
            if let Some(c) = self.complaints.get_mut(ev.stream.as_str()) {
                match (&ev.data, ev.occurred_after) {
                    (EventData::Observed(_), after) => {
                        let seen = after.unwrap_or(ev.occurred_at);
                        c.known_until = Some(c.known_until.map_or(seen, |k| k.max(seen)));
                    }
                    (_, Some(after)) if after < self.as_of => {
                        c.uncertain_from = Some(c.uncertain_from.map_or(after, |u| u.min(after)));
                    }
                    _ => {}
                }
            }
            return;
        }
        if ev.stream.starts_with(UNIT_STREAM_PREFIX) {
            if let EventData::MonthlyReportSubmitted(d) = ev.data {
                self.reports
                    .entry(d.unit)
                    .or_default()
                    .entry(d.month)
                    .or_insert(Timestamp(ev.occurred_at));
            }
            return;
        }
        let names = &mut self.names;
        let c = match self.complaints.get_mut(ev.stream.as_str()) {
            Some(c) => c,
            None => self
                .complaints
                .entry(ev.stream)
                .or_insert_with(|| Box::new(ComplaintAcc::new())),
        };
        c.version = ev.version;
        let at = ev.occurred_at;
        let when = When {
            at,
            after: ev.occurred_after,
        };
        if let EventData::Observed(_) = ev.data {
            // A sighting elsewhere, not a change: it says how far the log's record reaches.
            let seen = ev.occurred_after.unwrap_or(at);
            c.known_until = Some(c.known_until.map_or(seen, |k| k.max(seen)));
            return;
        }
        c.updated_at = Some(at);
        c.status = lifecycle::next_status(c.status, &ev.data);
        match ev.data {
            EventData::Received(d) => {
                c.channel = Some(d.channel);
                c.category = names.sym(d.category);
                c.district = names.sym(d.district);
                if self.keep_public {
                    let p = c.public.get_or_insert_with(Box::default);
                    p.subject = d.subject;
                    p.location = d.location;
                }
                c.received_at = Some(when);
                c.urgent |= d.urgent;
                c.wants_update = !d.complainant.anonymous && d.complainant.wants_update;
            }
            EventData::Forwarded(d) => {
                if let Some(r) = c.open_round() {
                    r.ended_at = Some(when);
                    r.end = Some(RoundEnd::Reforwarded);
                }
                c.rounds.push(RoundAcc {
                    unit: names.sym(d.to_unit),
                    external: d.external,
                    forwarded_at: when,
                    acknowledged_at: None,
                    first_progress_at: None,
                    progress_dates: Vec::new(),
                    ended_at: None,
                    end: None,
                    outcome: None,
                    chases: Vec::new(),
                });
            }
            EventData::Acknowledged(_) => {
                if let Some(r) = c.open_round() {
                    r.acknowledged_at.get_or_insert(when);
                }
            }
            EventData::ProgressReported(_) => {
                if let Some(r) = c.open_round() {
                    r.first_progress_at.get_or_insert(when);
                    r.progress_dates.push(when.days());
                }
            }
            EventData::Closed(d) => {
                if c.rounds.is_empty() {
                    c.closed_before_forward = true;
                }
                if let Some(r) = c.open_round() {
                    r.first_progress_at.get_or_insert(when);
                    r.ended_at = Some(when);
                    r.end = Some(RoundEnd::Closed);
                    r.outcome = Some(d.outcome);
                }
                c.closed_at = Some(when);
                c.outcome = Some(d.outcome);
                if self.keep_public {
                    c.public.get_or_insert_with(Box::default).last_answer = Some(d.answer);
                }
            }
            EventData::Reopened(_) => {
                c.reopen_count += 1;
                c.closed_at = None;
                c.outcome = None;
            }
            EventData::SpotChecked(d) => {
                // The check belongs to the month of the close it checks (the sampled month).
                let month = c
                    .closed_at
                    .map(|t| local_date(&t.at))
                    .unwrap_or(local_date(&at));
                c.spot_checks.push(SpotCheckView {
                    month: calendar::month_of(month),
                    checked_at: Timestamp(at),
                    consistent: d.consistent,
                });
            }
            EventData::Flagged(d) => match d.flag {
                event_model::Flag::Urgent => c.urgent = true,
                event_model::Flag::ExecutiveAssigned => c.executive_assigned = true,
            },
            EventData::Chased(d) => {
                if let Some(r) = c.open_round() {
                    r.chases.push(ChaseView {
                        obligation: d.obligation,
                        checkpoint: d.checkpoint,
                        at: when,
                    });
                }
            }
            EventData::ComplainantInformed(_) => c.informs.push(when),
            EventData::FieldInspected(d) => c.inspections.push(InspectionView {
                office: d.office,
                inspected_at: Timestamp(at),
                consistent: d.consistent,
            }),
            EventData::MonthlyReportSubmitted(_) | EventData::Observed(_) => {}
        }
    }

    /// Every complaint, judged as of the fold's instant, sorted by complaint id.
    pub fn views(&self, cal: &Calendar, rules: &DeadlineRules) -> Vec<ComplaintView> {
        self.views_in(cal, rules, None)
    }

    /// The complaints of a fiscal year (received, or forwarded in one of its rounds, on a local
    /// date of that year), or all with `None`; sorted by complaint id.
    pub fn views_in(
        &self,
        cal: &Calendar,
        rules: &DeadlineRules,
        fiscal_year: Option<FiscalYear>,
    ) -> Vec<ComplaintView> {
        // Judged straight from the sorted entries: no second look-up per complaint.
        let entries = self.entries_in(fiscal_year);
        let as_of = self.as_of;
        let names = &self.names;
        judge_spread(&entries, |(id, c)| {
            Some(view(id, c, names, as_of, cal, rules))
        })
    }

    /// The complaints of a fiscal year (or all) with their accumulators, sorted by id.
    fn entries_in(&self, fiscal_year: Option<FiscalYear>) -> Vec<(&str, &ComplaintAcc)> {
        let mut entries: Vec<(&str, &ComplaintAcc)> = self
            .complaints
            .iter()
            .filter(|(_, c)| match fiscal_year {
                None => true,
                Some(fy) => {
                    c.received_at
                        .is_some_and(|t| fy.contains(local_date(&t.at)))
                        || c.rounds
                            .iter()
                            .any(|r| fy.contains(local_date(&r.forwarded_at.at)))
                }
            })
            .map(|(id, c)| (id.as_str(), &**c))
            .collect();
        entries.sort_unstable_by_key(|(id, _)| *id);
        entries
    }

    /// The ids of the complaints of a fiscal year (or all), sorted.
    pub fn ids_in(&self, fiscal_year: Option<FiscalYear>) -> Vec<&str> {
        self.entries_in(fiscal_year)
            .into_iter()
            .map(|(id, _)| id)
            .collect()
    }

    /// These complaints judged as of the fold's instant, in the order given (spread over the
    /// cores); unknown ids are skipped.
    pub fn views_of(
        &self,
        ids: &[&str],
        cal: &Calendar,
        rules: &DeadlineRules,
    ) -> Vec<ComplaintView> {
        self.views_of_at(ids, cal, rules, self.as_of)
    }

    /// Like [`views_of`](ComplaintFold::views_of), judged as of `at` (for a live fold).
    pub fn views_of_at(
        &self,
        ids: &[&str],
        cal: &Calendar,
        rules: &DeadlineRules,
        as_of: DateTime<FixedOffset>,
    ) -> Vec<ComplaintView> {
        judge_spread(ids, |id| {
            self.complaints
                .get(*id)
                .map(|c| view(id, c, &self.names, as_of, cal, rules))
        })
    }

    /// One complaint, judged as of the fold's instant.
    pub fn view(&self, id: &str, cal: &Calendar, rules: &DeadlineRules) -> Option<ComplaintView> {
        self.view_at(id, cal, rules, self.as_of)
    }

    /// One complaint, judged as of `at` (for a live fold that holds every event so far and is
    /// judged as of now).
    pub fn view_at(
        &self,
        id: &str,
        cal: &Calendar,
        rules: &DeadlineRules,
        at: DateTime<FixedOffset>,
    ) -> Option<ComplaintView> {
        self.complaints
            .get(id)
            .map(|c| view(id, c, &self.names, at, cal, rules))
    }

    /// What the public may know of a complaint (no personal data): its subject, location,
    /// last change and the answer of its last close (empty unless the fold was made
    /// [`with_public_info`](ComplaintFold::with_public_info)).
    pub fn public_info(&self, id: &str) -> Option<PublicInfo<'_>> {
        self.complaints.get(id).map(|c| {
            let p = c.public.as_deref();
            PublicInfo {
                subject: p.map_or("", |p| &p.subject),
                location: p.and_then(|p| p.location.as_ref()),
                updated_at: c.updated_at,
                answer: p.and_then(|p| p.last_answer.as_deref()),
            }
        })
    }

    /// What a list can filter on without judging deadlines, for every complaint (in no
    /// particular order).
    pub fn summaries(&self) -> impl Iterator<Item = Summary<'_>> {
        self.complaints.iter().map(|(id, c)| Summary {
            complaint_id: id,
            status: c.status,
            unit: match c.status {
                Status::Reopened | Status::New | Status::Received => None,
                _ => c.rounds.last().map(|r| self.names.get(r.unit)),
            },
            units: c.rounds.iter().map(|r| self.names.get(r.unit)).collect(),
            category: self.names.get(c.category),
            received_at: c.received_at.map(|t| t.at),
            owes_inform: c.owes_inform(),
        })
    }
}

/// See [`ComplaintFold::public_info`].
#[derive(Debug, Clone)]
pub struct PublicInfo<'a> {
    pub subject: &'a str,
    pub location: Option<&'a event_model::Location>,
    pub updated_at: Option<DateTime<FixedOffset>>,
    pub answer: Option<&'a str>,
}

/// A complaint's place in lists, without deadlines judged.
#[derive(Debug, Clone)]
pub struct Summary<'a> {
    pub complaint_id: &'a str,
    pub status: Status,
    /// The unit of the round in force.
    pub unit: Option<&'a str>,
    /// Every unit it was ever forwarded to.
    pub units: Vec<&'a str>,
    pub category: &'a str,
    pub received_at: Option<DateTime<FixedOffset>>,
    /// The complainant asked to be told, and a close has no message after it yet (the
    /// centre may owe one, open or closed).
    pub owes_inform: bool,
}

/// An instant in a view: kept as a value while judging, written in the log's one format
/// ([`format_instant`]) when serialised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Timestamp(pub DateTime<FixedOffset>);

impl Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format_instant(&self.0))
    }
}

/// A spot check recorded on a complaint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SpotCheckView {
    /// `YYYY-MM`: the local month of the close the check is about.
    pub month: String,
    pub checked_at: Timestamp,
    pub consistent: bool,
}

/// A field inspection recorded on a complaint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InspectionView {
    pub office: String,
    pub inspected_at: Timestamp,
    pub consistent: bool,
}

/// A chase of a round's unit by the centre, as recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChaseView {
    pub obligation: event_model::ChasedObligation,
    /// The checkpoint chased (for a checkpoint).
    pub checkpoint: Option<NaiveDate>,
    pub at: When,
}

/// The centre's chase of a unit's missed R1, R2 or R3 obligation: on time when it falls after
/// the obligation became overdue and on or before `chase_due` (the rules' business days
/// after the day it became overdue).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChaseJudgement {
    pub obligation: event_model::ChasedObligation,
    /// The obligation's deadline (a checkpoint's date).
    pub due: NaiveDate,
    pub chase_due: NaiveDate,
    /// The first chase of it after it became overdue.
    pub chased_at: Option<Timestamp>,
    /// Met (chased on time), missed (chased late, or `chase_due` passed unchased), pending.
    pub status: Judgement,
}

/// The chases of a round's missed obligations, judged as of `as_of`.
fn chase_judgements(
    v: &RoundView,
    chases: &[ChaseView],
    as_of: NaiveDate,
    cal: &Calendar,
    rules: &DeadlineRules,
) -> Vec<ChaseJudgement> {
    use event_model::ChasedObligation as O;
    let judge = |obligation: O, due: NaiveDate| {
        let chase_due =
            cal.nth_business_day_after(due + chrono::Duration::days(1), rules.chase_business_days);
        let chased_at = chases
            .iter()
            .filter(|ch| ch.obligation == obligation)
            .filter(|ch| obligation != O::Checkpoint || ch.checkpoint == Some(due))
            .filter(|ch| local_date(&ch.at.at) > due)
            .map(|ch| ch.at.at)
            .min();
        let status = match chased_at {
            Some(t) if local_date(&t) <= chase_due => Judgement::Met,
            Some(_) => Judgement::Missed,
            None if as_of > chase_due => Judgement::Missed,
            None => Judgement::Pending,
        };
        ChaseJudgement {
            obligation,
            due,
            chase_due,
            chased_at: chased_at.map(Timestamp),
            status,
        }
    };
    let mut out = Vec::new();
    if let (Some(Judgement::Missed), Some(due)) = (v.ack_status, v.ack_due) {
        out.push(judge(O::Ack, due));
    }
    if let (Some(Judgement::Missed), Some(due)) = (v.first_progress_status, v.first_progress_due) {
        out.push(judge(O::FirstProgress, due));
    }
    for cp in v
        .checkpoints
        .iter()
        .filter(|cp| cp.status == Judgement::Missed)
    {
        out.push(judge(O::Checkpoint, cp.date));
    }
    out
}

/// An R3 follow-up checkpoint of a round.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckpointView {
    pub date: NaiveDate,
    /// `true` met, `false` missed, `null` while pending or when undetermined.
    pub met: Option<bool>,
    /// Met, missed, pending (its day has not passed) or undetermined (the times the data
    /// holds cannot tell, or cannot tell whether the checkpoint applies).
    pub status: Judgement,
}

/// One assignment round (forward to close, or to the next forward).
///
/// Every instant is the event's `occurred_at`; an event known only to a range also gives the
/// range's start (`…_after`, absent for exact events), and a deadline counted from such an
/// event is a range of dates: `…_due` is its latest end, `…_due_earliest` its earliest (absent
/// when they are the same date).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RoundView {
    pub unit: String,
    pub external: bool,
    pub forwarded_at: Timestamp,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub forwarded_after: Option<Timestamp>,
    pub ack_due: Option<NaiveDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ack_due_earliest: Option<NaiveDate>,
    pub acknowledged_at: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acknowledged_after: Option<Timestamp>,
    pub ack_on_time: Option<bool>,
    /// `null` where there is no duty (an external round, or a round that ended before it was
    /// due).
    pub ack_status: Option<Judgement>,
    pub first_progress_due: Option<NaiveDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_progress_due_earliest: Option<NaiveDate>,
    pub first_progress_at: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_progress_after: Option<Timestamp>,
    pub first_progress_on_time: Option<bool>,
    pub first_progress_status: Option<Judgement>,
    pub checkpoints: Vec<CheckpointView>,
    pub closed_at: Option<Timestamp>,
    pub outcome: Option<Outcome>,
    pub ended_at: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ended_after: Option<Timestamp>,
    pub end: Option<RoundEnd>,
    /// Telling the complainant after the round's close (`null` where there is no duty: a
    /// round not ended by a close, an anonymous complainant, or one who did not ask).
    pub inform_due: Option<NaiveDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inform_due_earliest: Option<NaiveDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub informed_at: Option<Timestamp>,
    pub inform_on_time: Option<bool>,
    pub inform_status: Option<Judgement>,
    /// The three-month follow-up of a Governor's directive (`null` for other channels, an
    /// external round, or a round forwarded on before it was due): met when the round was
    /// closed, or the unit reported progress, on or before it.
    pub follow_up_due: Option<NaiveDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub follow_up_due_earliest: Option<NaiveDate>,
    pub follow_up_on_time: Option<bool>,
    pub follow_up_status: Option<Judgement>,
    /// The centre's chases of the round's missed obligations, judged. Not part of the
    /// projection's JSON (the overdue list shows them).
    #[serde(skip)]
    pub chased: Vec<ChaseJudgement>,
    /// The round's next deadline as of the evaluation date, for those who show one (Open311's
    /// `expected_datetime`): the acknowledgement while not acknowledged, the first progress
    /// while none was reported, then the earliest R3 checkpoint from that date on whose
    /// report is not in yet (with the rules' roll). `None` for an ended or external round.
    /// Counted from `occurred_at`. Not part of the projection's JSON.
    #[serde(skip)]
    pub next_due: Option<NaiveDate>,
}

/// A complaint as of the evaluation instant.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ComplaintView {
    pub complaint_id: String,
    pub status: Status,
    pub channel: Option<Channel>,
    pub category: String,
    pub district: String,
    /// The unit of the round in force (or of the last round once closed).
    pub unit: Option<String>,
    pub received_at: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub received_after: Option<Timestamp>,
    /// R0: the centre's first forward (`null` where there is no duty: closed by the centre
    /// before any forward).
    pub forward_due: Option<NaiveDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub forward_due_earliest: Option<NaiveDate>,
    pub forward_on_time: Option<bool>,
    pub forward_status: Option<Judgement>,
    /// Marked urgent (at receipt or by a `flagged` event).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub urgent: bool,
    /// Assigned for attention by an executive (a `flagged` event).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub executive_assigned: bool,
    pub closed_at: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub closed_after: Option<Timestamp>,
    pub outcome: Option<Outcome>,
    pub reopen_count: u32,
    pub version: u64,
    pub stale: bool,
    pub rounds: Vec<RoundView>,
    pub spot_checks: Vec<SpotCheckView>,
    /// Field inspections, in order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub inspections: Vec<InspectionView>,
    /// When the log's record of the complaint is known complete only up to an instant before
    /// the evaluation instant (its latest observation in the outside system it comes from, or
    /// the start of an event that may or may not have happened by then): that instant. Its
    /// state at the evaluation instant is then not known. Absent when the record is complete.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub known_until: Option<Timestamp>,
}

impl ComplaintView {
    /// Whether the complaint belongs to a fiscal year: received, or forwarded in one of its
    /// rounds, on a local date of that year.
    pub fn in_fiscal_year(&self, fy: FiscalYear) -> bool {
        self.received_at
            .is_some_and(|t| fy.contains(local_date(&t.0)))
            || self
                .rounds
                .iter()
                .any(|r| fy.contains(local_date(&r.forwarded_at.0)))
    }
}

/// Which of a fiscal year's complaints figures cover, by the local date they were received.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    Year,
    /// A quarter of the fiscal year, 1 to 4.
    Quarter(u32),
    /// A calendar month: year (C.E.) and month 1 to 12.
    Month(i32, u32),
}

impl Period {
    /// Whether a complaint of fiscal year `fy` falls in the period.
    pub fn covers(&self, fy: FiscalYear, c: &ComplaintView) -> bool {
        use chrono::Datelike;
        match self {
            Period::Year => true,
            _ => c.received_at.as_ref().is_some_and(|t| {
                let d = local_date(&t.0);
                match self {
                    Period::Quarter(q) => fy.contains(d) && FiscalYear::quarter_of(d) == *q,
                    Period::Month(y, m) => d.year() == *y && d.month() == *m,
                    Period::Year => true,
                }
            }),
        }
    }
}

/// `judge` over `items` spread over the cores in contiguous parts, results in input order
/// (`None`s skipped).
fn judge_spread<T: Sync>(
    items: &[T],
    judge: impl Fn(&T) -> Option<ComplaintView> + Sync,
) -> Vec<ComplaintView> {
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 8);
    let chunk = items.len().div_ceil(workers).max(256);
    let judge = &judge;
    std::thread::scope(|scope| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .map(|part| scope.spawn(move || part.iter().filter_map(judge).collect::<Vec<_>>()))
            .collect();
        let mut out = Vec::with_capacity(items.len());
        for h in handles {
            out.append(&mut h.join().expect("judging thread panicked"));
        }
        out
    })
}

/// What a round's judgement needs of its complaint beyond the round itself.
struct RoundContext {
    as_of: NaiveDate,
    known_until: Option<NaiveDate>,
    observed: bool,
    /// A Governor's directive: followed up after three months.
    directive: bool,
    /// The complainant asked to be told, and the message that told of this round's close.
    wants_update: bool,
    told: Option<When>,
}

fn round_view(
    r: &RoundAcc,
    ctx: &RoundContext,
    names: &Names,
    cal: &Calendar,
    rules: &DeadlineRules,
) -> RoundView {
    let (as_of, known_until, observed) = (ctx.as_of, ctx.known_until, ctx.observed);
    let ended = r.ended_at.map(|t| t.days());
    let after = |w: &When| w.after.map(Timestamp);
    let mut v = RoundView {
        unit: names.get(r.unit).to_string(),
        external: r.external,
        forwarded_at: Timestamp(r.forwarded_at.at),
        forwarded_after: after(&r.forwarded_at),
        ack_due: None,
        ack_due_earliest: None,
        acknowledged_at: r.acknowledged_at.map(|t| Timestamp(t.at)),
        acknowledged_after: r.acknowledged_at.as_ref().and_then(after),
        ack_on_time: None,
        ack_status: None,
        first_progress_due: None,
        first_progress_due_earliest: None,
        first_progress_at: r.first_progress_at.map(|t| Timestamp(t.at)),
        first_progress_after: r.first_progress_at.as_ref().and_then(after),
        first_progress_on_time: None,
        first_progress_status: None,
        checkpoints: Vec::new(),
        closed_at: match r.end {
            Some(RoundEnd::Closed) => r.ended_at.map(|t| Timestamp(t.at)),
            _ => None,
        },
        outcome: r.outcome,
        ended_at: r.ended_at.map(|t| Timestamp(t.at)),
        ended_after: r.ended_at.as_ref().and_then(after),
        end: r.end,
        inform_due: None,
        inform_due_earliest: None,
        informed_at: None,
        inform_on_time: None,
        inform_status: None,
        follow_up_due: None,
        follow_up_due_earliest: None,
        follow_up_on_time: None,
        follow_up_status: None,
        chased: Vec::new(),
        next_due: None,
    };
    let earliest = |d: Days| (!d.is_exact()).then_some(d.lo);
    // Telling the complainant after the round's close: the centre's duty, external rounds
    // too.
    if let (Some(RoundEnd::Closed), Some(close), true) = (r.end, r.ended_at, ctx.wants_update) {
        let due = close
            .days()
            .map(|d| cal.nth_business_day_after(d, rules.inform_business_days));
        v.inform_due = Some(due.hi);
        v.inform_due_earliest = earliest(due);
        let told = ctx.told;
        v.informed_at = told.map(|t| Timestamp(t.at));
        v.inform_status = match told {
            Some(t) => Some(fulfilled(t.days(), due)),
            None => unfulfilled(due, None, as_of, known_until),
        };
        v.inform_on_time = v.inform_status.and_then(Judgement::on_time);
    }
    if r.external {
        // No BMA unit is accountable for an external round: no R1-R3 deadlines.
        return v;
    }
    if ctx.directive {
        let due = r.forwarded_at.days().map(|d| {
            d.checked_add_months(chrono::Months::new(rules.follow_up_months))
                .expect("date in range")
        });
        v.follow_up_due = Some(due.hi);
        v.follow_up_due_earliest = earliest(due);
        v.follow_up_status = match r.first_progress_at {
            Some(t) => Some(fulfilled(t.days(), due)),
            None => unfulfilled(due, ended, as_of, known_until),
        };
        v.follow_up_on_time = v.follow_up_status.and_then(Judgement::on_time);
    }
    let ack_due = r
        .forwarded_at
        .days()
        .map(|d| cal.nth_business_day_after(d, rules.ack_business_days));
    v.ack_due = Some(ack_due.hi);
    v.ack_due_earliest = earliest(ack_due);
    if r.end.is_none() && r.acknowledged_at.is_none() {
        v.next_due = Some(ack_due.hi);
    }
    v.ack_status = match r.acknowledged_at {
        Some(t) => Some(fulfilled(t.days(), ack_due)),
        None => unfulfilled(ack_due, ended, as_of, known_until),
    };
    v.ack_on_time = v.ack_status.and_then(Judgement::on_time);
    let r2_anchor = match r.acknowledged_at {
        Some(t) => Some(t.days()),
        None if rules.checkpoints_without_ack => Some(ack_due),
        None => None,
    };
    let Some(anchor) = r2_anchor else { return v };
    let r2_due = anchor.map(|d| cal.nth_business_day_after(d, rules.first_progress_business_days));
    if r.acknowledged_at.is_some() {
        v.first_progress_due = Some(r2_due.hi);
        v.first_progress_due_earliest = earliest(r2_due);
        v.first_progress_status = match r.first_progress_at {
            Some(t) => Some(fulfilled(t.days(), r2_due)),
            None => match unfulfilled(r2_due, ended, as_of, known_until) {
                // Observed elsewhere: its state changes are seen, its progress reports are
                // not; none shown is no evidence that none was made.
                Some(Judgement::Missed) if observed => Some(Judgement::Undetermined),
                other => other,
            },
        };
        v.first_progress_on_time = v.first_progress_status.and_then(Judgement::on_time);
    }
    // R3: checkpoints after the R2 deadline, up to the close date (or, while open, the
    // evaluation date).
    let closed_on = match r.end {
        Some(RoundEnd::Closed) => ended,
        _ => None,
    };
    if r.end.is_none() && r.acknowledged_at.is_some() {
        v.next_due = if r.first_progress_at.is_none() {
            Some(r2_due.hi)
        } else {
            checkpoints_after(r2_due.hi, cal, rules)
                .find(|(prev, due)| {
                    *due >= as_of
                        && !r
                            .progress_dates
                            .iter()
                            .any(|d| d.hi > *prev && d.hi <= *due)
                })
                .map(|(_, due)| due)
        };
    }
    // Checkpoints after the earliest R2 deadline may apply; those after the latest surely do.
    for (prev, due) in checkpoints_after(r2_due.lo, cal, rules) {
        if due > ended.map_or(as_of, |e| e.hi) {
            break;
        }
        let applies = due > r2_due.hi && ended.is_none_or(|e| due <= e.lo);
        let window = |d: &&Days| d.lo > prev && d.hi <= due;
        let may_window = |d: &&Days| d.hi > prev && d.lo <= due;
        let met_surely = r.progress_dates.iter().any(|d| window(&d))
            || closed_on.is_some_and(|e| e.lo == due && e.hi == due);
        let may_be_met = r.progress_dates.iter().any(|d| may_window(&d))
            || closed_on.is_some_and(|e| e.lo <= due && due <= e.hi);
        // A complaint observed elsewhere shows its state changes, not its progress reports:
        // a checkpoint it does not show met is not known to be missed.
        let status = if met_surely {
            Judgement::Met
        } else if ended.is_none() && as_of <= due {
            Judgement::Pending
        } else if !applies
            || may_be_met
            || observed
            || (ended.is_none() && known_until.is_some_and(|k| k <= due))
        {
            Judgement::Undetermined
        } else {
            Judgement::Missed
        };
        v.checkpoints.push(CheckpointView {
            date: due,
            met: status.on_time(),
            status,
        });
    }
    v
}

/// The R3 checkpoints after an R2 deadline, in order, each with the checkpoint before it (the
/// start of its reporting window): dates as due, that is after the rules' roll of a
/// checkpoint on a weekend or holiday. Endless.
fn checkpoints_after<'a>(
    r2_due: NaiveDate,
    cal: &'a Calendar,
    rules: &'a DeadlineRules,
) -> impl Iterator<Item = (NaiveDate, NaiveDate)> + 'a {
    let effective = move |c: NaiveDate| match rules.checkpoint_on_non_business_day {
        CheckpointRoll::NextBusinessDay if !cal.is_business_day(c) => {
            cal.nth_business_day_after(c, 1)
        }
        _ => c,
    };
    // Start one checkpoint early: a rolled checkpoint may land after the R2 deadline.
    std::iter::successors(
        Some(previous_checkpoint_before(next_checkpoint_after(r2_due))),
        |c| Some(next_checkpoint_after(*c)),
    )
    .map(move |c| (effective(previous_checkpoint_before(c)), effective(c)))
    .filter(move |(_, due)| *due > r2_due)
}

fn view(
    id: &str,
    c: &ComplaintAcc,
    names: &Names,
    as_of_instant: DateTime<FixedOffset>,
    cal: &Calendar,
    rules: &DeadlineRules,
) -> ComplaintView {
    let as_of = local_date(&as_of_instant);
    // How far the record is known to reach: its latest observation elsewhere, and no further
    // than the start of an event that may or may not have happened by now.
    let reach = match (c.known_until, c.uncertain_from) {
        (Some(k), Some(u)) => Some(k.min(u)),
        (k, u) => k.or(u),
    };
    let known_until = reach.map(|t| local_date(&t));
    let observed = c.known_until.is_some();
    let directive = matches!(
        c.channel,
        Some(Channel::GovernorDistrictVisit | Channel::GovernorCommunityVisit)
    );
    let mut rounds: Vec<RoundView> = c
        .rounds
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let ctx = RoundContext {
                as_of,
                known_until,
                observed,
                directive,
                wants_update: c.wants_update,
                told: c.message_for(i),
            };
            round_view(r, &ctx, names, cal, rules)
        })
        .collect();
    for (v, r) in rounds.iter_mut().zip(&c.rounds) {
        v.chased = chase_judgements(v, &r.chases, as_of, cal, rules);
    }
    // R0: the centre's first forward, by the end of the calendar day after the receipt.
    let forward_due = c.received_at.filter(|_| !c.closed_before_forward).map(|t| {
        t.days()
            .map(|d| d + chrono::Duration::days(rules.forward_calendar_days))
    });
    let forward_status = forward_due.and_then(|due| match c.rounds.first() {
        Some(r) => Some(fulfilled(r.forwarded_at.days(), due)),
        None => unfulfilled(due, None, as_of, known_until),
    });
    let unit = match c.status {
        Status::Reopened | Status::New | Status::Received => None,
        _ => c.rounds.last().map(|r| names.get(r.unit).to_string()),
    };
    // Stale only when surely so: counted from the latest possible receipt, up to what is
    // known of the complaint.
    let seen = seen_by(as_of, known_until);
    let stale = c.status.is_open()
        && c.received_at
            .map(|t| (seen - local_date(&t.at)).num_days() > rules.stale_calendar_days)
            .unwrap_or(false);
    ComplaintView {
        complaint_id: id.to_string(),
        status: c.status,
        channel: c.channel,
        category: names.get(c.category).to_string(),
        district: names.get(c.district).to_string(),
        unit,
        received_at: c.received_at.map(|t| Timestamp(t.at)),
        received_after: c.received_at.and_then(|t| t.after.map(Timestamp)),
        forward_due: forward_due.map(|d| d.hi),
        forward_due_earliest: forward_due.and_then(|d| (!d.is_exact()).then_some(d.lo)),
        forward_on_time: forward_status.and_then(Judgement::on_time),
        forward_status,
        urgent: c.urgent,
        executive_assigned: c.executive_assigned,
        closed_at: c.closed_at.map(|t| Timestamp(t.at)),
        closed_after: c.closed_at.and_then(|t| t.after.map(Timestamp)),
        outcome: c.outcome,
        reopen_count: c.reopen_count,
        version: c.version,
        stale,
        rounds,
        spot_checks: c.spot_checks.clone(),
        inspections: c.inspections.clone(),
        known_until: reach.filter(|k| *k < as_of_instant).map(Timestamp),
    }
}
