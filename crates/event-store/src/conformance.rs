//! What every backend of [`EventStore`] must do, as one function any backend runs against
//! fresh, empty stores of its own: [`run`]. It speaks only through the trait, so a backend
//! passes by behaving, not by sharing code.
//!
//! Covered: positions and versions, the feed and scans, idempotent repeats and id conflicts,
//! expected versions, time order within a stream, lifecycle refusals, atomic batches, one
//! record instant per batch, ranged events, and the hash chain with `verify`.

use chrono::{DateTime, Duration, FixedOffset};
use event_model::{
    Acknowledged, Channel, Complainant, EventData, Forwarded, Hash, NewEvent, Received,
};
use uuid::Uuid;

use crate::{AppendErrorKind, EventStore};

/// A failed expectation: which check, and what was seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub check: &'static str,
    pub detail: String,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.check, self.detail)
    }
}

type Outcome = Result<(), Failure>;

/// One check, on a fresh store.
type Check = fn(&mut dyn EventStore) -> Outcome;

fn expect(check: &'static str, ok: bool, detail: impl FnOnce() -> String) -> Outcome {
    if ok {
        Ok(())
    } else {
        Err(Failure {
            check,
            detail: detail(),
        })
    }
}

fn t0() -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339("2024-03-01T09:00:00+07:00").expect("valid")
}

/// A deterministic id per (stream, n).
fn id(stream: &str, n: u32) -> Uuid {
    let mut b = [0u8; 16];
    for (i, c) in stream.bytes().enumerate() {
        b[i % 12] ^= c;
    }
    b[12..].copy_from_slice(&n.to_be_bytes());
    uuid::Builder::from_bytes(b)
        .with_version(uuid::Version::SortRand)
        .with_variant(uuid::Variant::RFC4122)
        .into_uuid()
}

fn event(stream: &str, n: u32, minutes: i64, data: EventData) -> NewEvent {
    NewEvent {
        id: id(stream, n),
        stream: stream.to_string(),
        occurred_at: t0() + Duration::minutes(minutes),
        occurred_after: None,
        actor: "conformance".into(),
        data,
        expected_version: None,
    }
}

fn received(stream: &str, minutes: i64) -> NewEvent {
    event(
        stream,
        1,
        minutes,
        EventData::Received(Received {
            category: "road".into(),
            channel: Channel::Web,
            complainant: Complainant::anonymous(),
            detail: None,
            district: "bang-rak".into(),
            external_ref: None,
            location: None,
            subject: "pothole".into(),
            urgent: false,
        }),
    )
}

fn forwarded(stream: &str, minutes: i64, unit: &str) -> NewEvent {
    event(
        stream,
        2,
        minutes,
        EventData::Forwarded(Forwarded {
            external: false,
            note: None,
            to_unit: unit.into(),
        }),
    )
}

fn acknowledged(stream: &str, minutes: i64, unit: &str) -> NewEvent {
    event(
        stream,
        3,
        minutes,
        EventData::Acknowledged(Acknowledged { unit: unit.into() }),
    )
}

fn recorded_at(minutes: i64) -> DateTime<FixedOffset> {
    t0() + Duration::days(1) + Duration::minutes(minutes)
}

/// Runs every check against stores `fresh` makes (each empty); the first failure of each
/// check is returned, all checks run.
pub fn run(fresh: &mut dyn FnMut() -> Box<dyn EventStore>) -> Result<(), Vec<Failure>> {
    let checks: [Check; 9] = [
        positions_versions_and_the_feed,
        repeats_are_no_ops_and_changed_repeats_conflict,
        expected_versions,
        time_order_within_a_stream,
        a_refused_batch_stores_nothing,
        group_commit_keeps_each_batch_whole,
        one_record_instant_per_batch,
        ranged_events_keep_their_range,
        the_chain_links_every_event_and_verifies,
    ];
    let failures: Vec<Failure> = checks
        .iter()
        .filter_map(|check| check(fresh().as_mut()).err())
        .collect();
    if failures.is_empty() {
        Ok(())
    } else {
        Err(failures)
    }
}

fn store_error(check: &'static str, e: impl std::fmt::Display) -> Failure {
    Failure {
        check,
        detail: format!("the store failed: {e}"),
    }
}

fn positions_versions_and_the_feed(s: &mut dyn EventStore) -> Outcome {
    const C: &str = "positions";
    expect(
        C,
        s.head().map_err(|e| store_error(C, e))?.position == 0,
        || "an empty log's head is not 0".into(),
    )?;
    s.append(&[received("A", 0), received("B", 1)], recorded_at(0))
        .map_err(|e| store_error(C, e))?;
    s.append(&[forwarded("A", 2, "district:bang-rak")], recorded_at(1))
        .map_err(|e| store_error(C, e))?;
    let all = s.read_after(0, 100).map_err(|e| store_error(C, e))?;
    let positions: Vec<u64> = all.iter().map(|e| e.position).collect();
    expect(C, positions == [1, 2, 3], || {
        format!("positions {positions:?}")
    })?;
    let a = s.read_stream("A").map_err(|e| store_error(C, e))?;
    let versions: Vec<u64> = a.iter().map(|e| e.version).collect();
    expect(C, versions == [1, 2], || {
        format!("stream A's versions {versions:?}")
    })?;
    // The feed pages without skipping or repeating.
    let mut paged = Vec::new();
    let mut after = 0;
    loop {
        let page = s.read_after(after, 2).map_err(|e| store_error(C, e))?;
        let Some(last) = page.last() else { break };
        after = last.position;
        paged.extend(page.into_iter().map(|e| e.id));
    }
    let ids: Vec<Uuid> = all.iter().map(|e| e.id).collect();
    expect(C, paged == ids, || {
        "paging the feed differs from reading it at once".into()
    })?;
    // Scans see the same events in the same order, from any position.
    let mut scanned = Vec::new();
    let n = s
        .scan(1, &mut |e| scanned.push(e.id))
        .map_err(|e| store_error(C, e))?;
    expect(C, n == 2 && scanned == ids[1..], || {
        format!("scan after 1 gave {n}")
    })?;
    let mut folded = Vec::new();
    s.scan_for_folds(0, &mut |e| folded.push((e.position, e.stream)))
        .map_err(|e| store_error(C, e))?;
    expect(C, folded.len() == 3 && folded[2].1 == "A", || {
        format!("the folds' scan gave {folded:?}")
    })?;
    expect(
        C,
        s.head().map_err(|e| store_error(C, e))?.position == 3,
        || "the head is not the last position".into(),
    )
}

fn repeats_are_no_ops_and_changed_repeats_conflict(s: &mut dyn EventStore) -> Outcome {
    const C: &str = "repeats";
    let batch = [received("R", 0), forwarded("R", 1, "district:bang-rak")];
    s.append(&batch, recorded_at(0))
        .map_err(|e| store_error(C, e))?;
    let again = s
        .append(&batch, recorded_at(1))
        .map_err(|e| store_error(C, e))?;
    expect(C, again.appended == 0 && again.duplicates == 2, || {
        format!(
            "a repeat appended {} ({} duplicates)",
            again.appended, again.duplicates
        )
    })?;
    expect(C, again.events.iter().all(|e| e.duplicate), || {
        "repeats not marked".into()
    })?;
    // A repeat of a later event alone, which its stream's rules would refuse as new.
    let alone = s
        .append(&batch[1..], recorded_at(1))
        .map_err(|e| store_error(C, e))?;
    expect(
        C,
        alone.duplicates == 1 && alone.events[0].position == 2,
        || format!("a repeat of the stream's second event: {alone:?}"),
    )?;
    let mut changed = forwarded("R", 1, "district:sathon");
    changed.id = batch[1].id;
    match s.append(&[changed], recorded_at(2)) {
        Err(e) if matches!(e.kind, AppendErrorKind::IdConflict { .. }) => {}
        other => {
            return Err(Failure {
                check: C,
                detail: format!("an id reused with other content: {other:?}"),
            })
        }
    }
    expect(
        C,
        s.head().map_err(|e| store_error(C, e))?.position == 2,
        || "a refused repeat stored something".into(),
    )
}

fn expected_versions(s: &mut dyn EventStore) -> Outcome {
    const C: &str = "expected_version";
    let mut first = received("V", 0);
    first.expected_version = Some(0);
    s.append(&[first], recorded_at(0))
        .map_err(|e| store_error(C, e))?;
    let mut second = received("V2", 1);
    second.stream = "V".into();
    second.id = id("V", 9);
    second.expected_version = Some(0);
    match s.append(&[second], recorded_at(1)) {
        Err(e) if matches!(e.kind, AppendErrorKind::VersionConflict { .. }) => {}
        other => {
            return Err(Failure {
                check: C,
                detail: format!("expected_version 0 on an existing stream: {other:?}"),
            })
        }
    }
    let mut fwd = forwarded("V", 2, "district:bang-rak");
    fwd.expected_version = Some(1);
    s.append(&[fwd], recorded_at(2))
        .map_err(|e| store_error(C, e))?;
    expect(
        C,
        s.read_stream("V").map_err(|e| store_error(C, e))?.len() == 2,
        || "the right version was refused".into(),
    )
}

fn time_order_within_a_stream(s: &mut dyn EventStore) -> Outcome {
    const C: &str = "time_order";
    s.append(&[received("T", 10)], recorded_at(0))
        .map_err(|e| store_error(C, e))?;
    match s.append(&[forwarded("T", 5, "district:bang-rak")], recorded_at(1)) {
        Err(e) if matches!(e.kind, AppendErrorKind::OutOfOrder { .. }) => {}
        other => {
            return Err(Failure {
                check: C,
                detail: format!("an event earlier than its stream's last: {other:?}"),
            })
        }
    }
    // Another stream may be earlier: order is per stream.
    s.append(&[received("U", 0)], recorded_at(2))
        .map_err(|e| store_error(C, e))?;
    Ok(())
}

fn a_refused_batch_stores_nothing(s: &mut dyn EventStore) -> Outcome {
    const C: &str = "atomic";
    // The second event breaks the lifecycle (acknowledged by a unit that does not hold it).
    let batch = [
        received("X", 0),
        forwarded("X", 1, "district:bang-rak"),
        acknowledged("X", 2, "district:sathon"),
    ];
    match s.append(&batch, recorded_at(0)) {
        Err(e) if matches!(e.kind, AppendErrorKind::Rejected(_)) && e.index == Some(2) => {}
        other => {
            return Err(Failure {
                check: C,
                detail: format!("a lifecycle refusal at the third event: {other:?}"),
            })
        }
    }
    expect(
        C,
        s.head().map_err(|e| store_error(C, e))?.position == 0,
        || "part of a refused batch was stored".into(),
    )?;
    expect(
        C,
        s.read_stream("X")
            .map_err(|e| store_error(C, e))?
            .is_empty(),
        || "the stream holds events".into(),
    )
}

fn group_commit_keeps_each_batch_whole(s: &mut dyn EventStore) -> Outcome {
    const C: &str = "group commit";
    let outcomes = s
        .append_group(
            vec![
                vec![received("G1", 0)],
                // Refused at its third event: none of it stays, G2 is new again after it.
                vec![
                    received("G2", 1),
                    forwarded("G2", 2, "district:bang-rak"),
                    acknowledged("G2", 3, "district:sathon"),
                ],
                // A repeat of the first batch's event.
                vec![received("G1", 0)],
                // The refused batch's first event, whose id is therefore unused.
                vec![received("G2", 1)],
                vec![forwarded("G1", 4, "district:bang-rak")],
            ],
            recorded_at(3),
        )
        .map_err(|e| store_error(C, e))?;
    let places: Vec<Option<(u64, u64, bool)>> = outcomes
        .iter()
        .map(|o| {
            o.as_ref().ok().map(|r| {
                (
                    r.events[0].position,
                    r.events[0].version,
                    r.events[0].duplicate,
                )
            })
        })
        .collect();
    expect(
        C,
        places
            == [
                Some((1, 1, false)),
                None,
                Some((1, 1, true)),
                Some((2, 1, false)),
                Some((3, 2, false)),
            ],
        || format!("each batch's first event (position, version, repeat): {places:?}"),
    )?;
    expect(
        C,
        matches!(&outcomes[1], Err(e) if e.index == Some(2)),
        || format!("the refused batch names its third event: {:?}", outcomes[1]),
    )?;
    let head = s.head().map_err(|e| store_error(C, e))?;
    let g2 = s.read_stream("G2").map_err(|e| store_error(C, e))?;
    expect(C, head.position == 3 && g2.len() == 1, || {
        format!(
            "head {} and stream G2 of {} events",
            head.position,
            g2.len()
        )
    })?;
    let report = s.verify().map_err(|e| store_error(C, e))?;
    expect(C, report.first_bad.is_none() && report.events == 3, || {
        format!("verify after a group: {report:?}")
    })
}

fn one_record_instant_per_batch(s: &mut dyn EventStore) -> Outcome {
    const C: &str = "recorded_at";
    s.append(
        &[received("P", 0), forwarded("P", 1, "district:bang-rak")],
        recorded_at(7),
    )
    .map_err(|e| store_error(C, e))?;
    let events = s.read_stream("P").map_err(|e| store_error(C, e))?;
    expect(
        C,
        events.iter().all(|e| e.recorded_at == recorded_at(7)),
        || {
            format!(
                "recorded at {:?}",
                events.iter().map(|e| e.recorded_at).collect::<Vec<_>>()
            )
        },
    )
}

fn ranged_events_keep_their_range(s: &mut dyn EventStore) -> Outcome {
    const C: &str = "ranged";
    let mut fwd = forwarded("G", 60, "district:bang-rak");
    fwd.occurred_after = Some(t0() + Duration::minutes(30));
    s.append(&[received("G", 0), fwd], recorded_at(0))
        .map_err(|e| store_error(C, e))?;
    let events = s.read_stream("G").map_err(|e| store_error(C, e))?;
    expect(
        C,
        events.len() == 2 && events[1].occurred_after == Some(t0() + Duration::minutes(30)),
        || {
            format!(
                "read back {:?}",
                events.iter().map(|e| e.occurred_after).collect::<Vec<_>>()
            )
        },
    )?;
    expect(C, events[0].occurred_after.is_none(), || {
        "an exact event gained a range".into()
    })
}

fn the_chain_links_every_event_and_verifies(s: &mut dyn EventStore) -> Outcome {
    const C: &str = "chain";
    s.append(&[received("H", 0), received("I", 1)], recorded_at(0))
        .map_err(|e| store_error(C, e))?;
    s.append(&[forwarded("H", 2, "district:bang-rak")], recorded_at(1))
        .map_err(|e| store_error(C, e))?;
    let all = s.read_after(0, 100).map_err(|e| store_error(C, e))?;
    let mut prev = Hash::GENESIS;
    for e in &all {
        expect(C, e.prev_hash == prev, || {
            format!("position {} does not link to the one before", e.position)
        })?;
        expect(C, e.recompute_hash() == e.hash, || {
            format!("position {}'s hash is not its content's", e.position)
        })?;
        prev = e.hash;
    }
    let head = s.head().map_err(|e| store_error(C, e))?;
    expect(C, head.hash == prev, || {
        "the head's hash is not the last event's".into()
    })?;
    let v = s.verify().map_err(|e| store_error(C, e))?;
    expect(
        C,
        v.first_bad.is_none() && v.events == 3 && v.head == head,
        || format!("verify said {v:?}"),
    )?;
    // On from a head verified before: only the events after it are walked; a head whose
    // event is not the one stored there is named.
    let second = crate::Head {
        position: 2,
        hash: all[1].hash,
    };
    let v = s.verify_from(second).map_err(|e| store_error(C, e))?;
    expect(
        C,
        v.first_bad.is_none() && v.events == 1 && v.head == head,
        || format!("verify_from(2) said {v:?}"),
    )?;
    let other = crate::Head {
        position: 2,
        hash: all[0].hash,
    };
    let v = s.verify_from(other).map_err(|e| store_error(C, e))?;
    expect(C, v.first_bad.as_ref().is_some_and(|b| b.0 == 2), || {
        format!("verify_from a head the log does not hold said {v:?}")
    })?;
    let beyond = crate::Head {
        position: 9,
        hash: head.hash,
    };
    let v = s.verify_from(beyond).map_err(|e| store_error(C, e))?;
    expect(C, v.first_bad.as_ref().is_some_and(|b| b.0 == 9), || {
        format!("verify_from past the head said {v:?}")
    })
}

/// What reopening a log must keep: `open` opens the same log each time it is called (running
/// the backend's migrations again). Events, heads and the chain survive, repeats are still
/// repeats, and appends continue after the head.
pub fn reopen(open: &mut dyn FnMut() -> Box<dyn EventStore>) -> Result<(), Failure> {
    const C: &str = "reopen and migrations";
    let batch = [received("M", 0), forwarded("M", 1, "district:bang-rak")];
    let before = {
        let mut s = open();
        s.append(&batch, recorded_at(0))
            .map_err(|e| store_error(C, e))?;
        s.head().map_err(|e| store_error(C, e))?
    };
    let mut s = open();
    let head = s.head().map_err(|e| store_error(C, e))?;
    expect(C, head == before, || {
        format!("head {head:?} after reopening, {before:?} before")
    })?;
    let again = s
        .append(&batch, recorded_at(1))
        .map_err(|e| store_error(C, e))?;
    expect(C, again.duplicates == 2, || {
        format!("a repeat after reopening: {again:?}")
    })?;
    let next = s
        .append(&[received("M2", 2)], recorded_at(2))
        .map_err(|e| store_error(C, e))?;
    expect(C, next.events[0].position == 3, || {
        format!("the next append after reopening: {next:?}")
    })?;
    let report = s.verify().map_err(|e| store_error(C, e))?;
    expect(C, report.first_bad.is_none() && report.events == 3, || {
        format!("verify after reopening: {report:?}")
    })
}
