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
}
