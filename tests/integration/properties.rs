//! Properties over generated histories (proptest, with a fixed seed so that a run is
//! repeatable): valid years of the generator, of any seed and size, cut anywhere; and invalid
//! batches made from them.

use calendar::{Calendar, FiscalYear};
use chrono::{DateTime, FixedOffset};
use event_model::{EventData, NewEvent};
use event_store::EventStore;
use event_store_sqlite::SqliteStore;
use projections::{ComplaintFold, DeadlineRules};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};
use read_model::{builtin_specs, end_of_time, snapshot, Folded};

use crate::fixtures::recorded_at;

/// A generated fiscal year (B.E. 2567) of `complaints` complaints.
fn history(seed: u64, complaints: u64) -> Vec<NewEvent> {
    generator::Generator::new(
        generator::GenConfig {
            fiscal_year: FiscalYear::parse("2567").unwrap(),
            complaints,
            seed,
        },
        Calendar::builtin(),
    )
    .collect()
}

fn store_of(events: &[NewEvent]) -> SqliteStore {
    let mut s = SqliteStore::open_in_memory().unwrap();
    if !events.is_empty() {
        s.append(events, recorded_at()).unwrap();
    }
    s
}

/// The log folded as of `at` (live information kept when `public`).
fn folded(store: &dyn EventStore, at: DateTime<FixedOffset>, public: bool) -> Folded {
    let mut f = Folded::new(at, public);
    store.scan(0, &mut |e| f.apply(e)).unwrap();
    f
}

fn views(f: &ComplaintFold) -> Vec<projections::ComplaintView> {
    f.views(&Calendar::builtin(), &DeadlineRules::default())
}

/// An instant of the fiscal year, `day` days after its start, at noon in Bangkok.
fn instant_in_year(day: u32) -> DateTime<FixedOffset> {
    let d =
        chrono::NaiveDate::from_ymd_opt(2023, 10, 1).unwrap() + chrono::Duration::days(day as i64);
    read_model::parse_instant(&format!("{d}T12:00:00+07:00")).unwrap()
}

/// The leaves where two JSON values differ, as JSON pointers.
fn differing_leaves(
    a: &serde_json::Value,
    b: &serde_json::Value,
    at: String,
    out: &mut Vec<String>,
) {
    use serde_json::Value;
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            for k in keys {
                let null = Value::Null;
                differing_leaves(
                    x.get(k).unwrap_or(&null),
                    y.get(k).unwrap_or(&null),
                    format!("{at}/{k}"),
                    out,
                );
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (p, q)) in x.iter().zip(y).enumerate() {
                differing_leaves(p, q, format!("{at}/{i}"), out);
            }
        }
        _ if a != b => out.push(at),
        _ => {}
    }
}

/// Every complaint's view as JSON, by id, judged as of `at`.
fn judged(
    events: &[NewEvent],
    at: DateTime<FixedOffset>,
) -> std::collections::BTreeMap<String, serde_json::Value> {
    let f = folded(&store_of(events), at, false);
    f.fold
        .views(&Calendar::builtin(), &DeadlineRules::default())
        .into_iter()
        .map(|v| (v.complaint_id.clone(), serde_json::to_value(&v).unwrap()))
        .collect()
}

fn config() -> Config {
    Config {
        cases: 24,
        rng_seed: RngSeed::Fixed(2567),
        failure_persistence: None,
        ..Config::default()
    }
}

proptest! {
    #![proptest_config(config())]

    /// Folding all events equals folding a prefix, keeping it as a snapshot, reading it back
    /// and folding the rest.
    #[test]
    fn a_prefix_kept_as_a_snapshot_then_the_rest_folds_as_the_whole(
        seed in 0u64..1_000_000,
        complaints in 1u64..25,
        cut in 0.0f64..=1.0,
    ) {
        let events = history(seed, complaints);
        let store = store_of(&events);
        let whole = folded(&store, end_of_time(), true);
        let k = (events.len() as f64 * cut) as u64;
        let mut prefix = Folded::new(end_of_time(), true);
        store.scan(0, &mut |e| if e.position <= k { prefix.apply(e) }).unwrap();
        let (cal, rules) = (Calendar::builtin(), DeadlineRules::default());
        let bytes = snapshot::encode(&prefix, &cal, &rules);
        let mut resumed = snapshot::decode(&bytes, &cal, &rules).unwrap();
        snapshot::check_log(&store, &resumed).unwrap();
        store.scan(k, &mut |e| resumed.apply(e)).unwrap();
        prop_assert_eq!(resumed.head, whole.head);
        prop_assert_eq!(resumed.events, whole.events);
        prop_assert!(views(&resumed.fold) == views(&whole.fold));
        prop_assert_eq!(resumed.fold.monthly_reports(), whole.fold.monthly_reports());
    }

    /// A replay as of an instant ignores every event after it: folding the whole log as of
    /// `t` equals folding only the events up to `t`.
    #[test]
    fn a_replay_as_of_an_instant_ignores_every_event_after_it(
        seed in 0u64..1_000_000,
        complaints in 1u64..25,
        day in 0u32..400,
    ) {
        let events = history(seed, complaints);
        let t = instant_in_year(day);
        let all = folded(&store_of(&events), t, false);
        let before: Vec<NewEvent> =
            events.iter().filter(|e| e.occurred_at <= t).cloned().collect();
        let only = folded(&store_of(&before), t, false);
        prop_assert!(views(&all.fold) == views(&only.fold));
        prop_assert_eq!(all.fold.monthly_reports(), only.fold.monthly_reports());
    }

    /// Two replays of one log are byte-identical, and a diff of a log's replay with itself
    /// is empty.
    #[test]
    fn two_replays_are_byte_identical_and_their_diff_is_empty(
        seed in 0u64..1_000_000,
        complaints in 1u64..25,
    ) {
        let events = history(seed, complaints);
        let (cal, rules) = (Calendar::builtin(), DeadlineRules::default());
        let fy = FiscalYear::parse("2567").unwrap();
        let replayed = || {
            let store = store_of(&events);
            let f = folded(&store, fy.end_instant(), false);
            read_model::replay(&f, fy, &cal, &rules, &builtin_specs())
        };
        let (a, b) = (replayed(), replayed());
        let (fa, fb) = (
            read_model::diff::files_of(&a).unwrap(),
            read_model::diff::files_of(&b).unwrap(),
        );
        prop_assert_eq!(
            serde_json::to_string(&fa).unwrap(),
            serde_json::to_string(&fb).unwrap()
        );
        prop_assert!(read_model::diff::diff(&fa, &fb).identical);
    }

    /// A batch made invalid (an event id reused with other content, or a complaint received
    /// twice) is refused whole: the log is as it was.
    #[test]
    fn an_invalid_batch_is_refused_whole_and_the_log_is_unchanged(
        seed in 0u64..1_000_000,
        complaints in 2u64..25,
        cut in 0.0f64..0.9,
        pick in any::<prop::sample::Index>(),
        received_twice in any::<bool>(),
    ) {
        let events = history(seed, complaints);
        let k = (events.len() as f64 * cut) as usize;
        let mut store = store_of(&events[..k]);
        let head = store.head().unwrap();
        let mut batch: Vec<NewEvent> = events[k..].to_vec();
        if received_twice {
            // A `received` for a complaint the log or the batch already holds, new id.
            let received: Vec<&NewEvent> = events
                .iter()
                .filter(|e| matches!(e.data, EventData::Received(_)))
                .collect();
            let mut again: NewEvent = (*pick.get(&received)).clone();
            again.id = uuid::Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0001);
            let at = pick.index(batch.len() + 1);
            batch.insert(at, again);
        } else {
            // An id of the batch reused with other content.
            let mut twin = pick.get(&batch).clone();
            twin.actor = format!("{}-other", twin.actor);
            batch.push(twin);
        }
        prop_assert!(store.append(&batch, recorded_at()).is_err());
        prop_assert_eq!(store.head().unwrap(), head);
        let mut stored = 0;
        store.scan(0, &mut |_| stored += 1).unwrap();
        prop_assert_eq!(stored, k);
    }

    /// Moving one acknowledgement across its deadline (from the last minute of its due day to
    /// the first of the next, or back) flips that round's acknowledgement judgement, and
    /// changes nothing but what depends on it: its instant, R2's due date and judgement, and
    /// the checkpoints between R2's old and new due dates. Every other complaint is unchanged.
    #[test]
    fn moving_an_acknowledgement_across_its_deadline_flips_exactly_its_judgement(
        seed in 0u64..1_000_000,
        complaints in 5u64..40,
        pick in any::<prop::sample::Index>(),
    ) {
        let events = history(seed, complaints);
        let at = read_model::parse_instant("2025-06-30T12:00:00+07:00").unwrap();
        let before = judged(&events, at);
        // Rounds with an exact acknowledgement judged against a due date, whose event can move
        // across that date's end while staying between its stream's neighbours.
        let bangkok = calendar::bangkok();
        let mut movable = Vec::new();
        for (i, e) in events.iter().enumerate() {
            if e.event_type().as_str() != "acknowledged" || e.occurred_after.is_some() {
                continue;
            }
            let view = &before[&e.stream];
            let rounds = view["rounds"].as_array().unwrap();
            let Some(r) = rounds.iter().position(|r| {
                r["acknowledged_at"].as_str().and_then(event_model::parse_instant) == Some(e.occurred_at)
            }) else { continue };
            let round = &rounds[r];
            let (Some(due), Some(on_time)) = (round["ack_due"].as_str(), round["ack_on_time"].as_bool()) else { continue };
            let due = chrono::NaiveDate::parse_from_str(due, "%Y-%m-%d").unwrap();
            let to = if on_time {
                (due + chrono::Duration::days(1)).and_hms_opt(0, 0, 30).unwrap()
            } else {
                due.and_hms_opt(23, 59, 30).unwrap()
            };
            let to = to.and_local_timezone(bangkok).single().unwrap();
            let same_stream = |j: &usize| events[*j].stream == e.stream;
            let prev = (0..i).rev().find(same_stream).map(|j| events[j].occurred_at);
            let next = (i + 1..events.len()).find(same_stream).map(|j| events[j].occurred_at);
            if prev.is_some_and(|p| to < p) || next.is_some_and(|n| to > n) {
                continue;
            }
            movable.push((i, r, to, on_time));
        }
        prop_assume!(!movable.is_empty());
        let (i, r, to, was_on_time) = *pick.get(&movable);
        let mut moved = events.clone();
        let from = moved[i].occurred_at;
        moved[i].occurred_at = to;
        let after = judged(&moved, at);
        let stream = &events[i].stream;
        prop_assert_eq!(
            after[stream]["rounds"][r]["ack_on_time"].as_bool(),
            Some(!was_on_time),
            "{} round {}: moved from {} to {}", stream, r, from, to
        );
        // What depends on the acknowledgement (rules.md, "Deadlines of one assignment round"):
        // R1 of its round; R2's due date, counted from the acknowledgement's date, and R2's
        // judgement; and which R3 checkpoints apply (those after R2's due date): checkpoints
        // between the old and the new R2 due dates may come or go.
        let date = |v: &serde_json::Value| {
            v.as_str().map(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").unwrap())
        };
        let (r2_old, r2_new) = (
            date(&before[stream]["rounds"][r]["first_progress_due"]),
            date(&after[stream]["rounds"][r]["first_progress_due"]),
        );
        let checkpoints = |v: &serde_json::Value| -> std::collections::BTreeSet<String> {
            v["rounds"][r]["checkpoints"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c.to_string())
                .collect()
        };
        let (old_c, new_c) = (checkpoints(&before[stream]), checkpoints(&after[stream]));
        for c in old_c.symmetric_difference(&new_c) {
            let c: serde_json::Value = serde_json::from_str(c).unwrap();
            let d = date(&c["date"]).unwrap();
            let (lo, hi) = (r2_old.min(r2_new).unwrap(), r2_old.max(r2_new).unwrap());
            prop_assert!(
                lo < d && d <= hi,
                "{}: checkpoint {} changed outside R2's move ({:?} to {:?})", stream, c, r2_old, r2_new
            );
        }
        for (id, view) in &before {
            let mut changed = Vec::new();
            differing_leaves(view, &after[id], String::new(), &mut changed);
            for leaf in changed {
                let round = format!("/rounds/{r}/");
                let field = leaf.strip_prefix(&round).unwrap_or("");
                let allowed = id == stream
                    && (matches!(
                        field,
                        "acknowledged_at"
                            | "ack_on_time"
                            | "ack_status"
                            | "first_progress_due"
                            | "first_progress_due_earliest"
                            | "first_progress_on_time"
                            | "first_progress_status"
                    ) || field.starts_with("checkpoints"));
                prop_assert!(
                    allowed,
                    "{} changed at {} (moving {}'s acknowledgement from {} to {})", id, leaf, stream, from, to
                );
            }
        }
    }
}
