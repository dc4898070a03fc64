//! Projection snapshots: a fold saved as bytes with what it was derived from, so a server can
//! start from it and catch up instead of folding the whole log.
//!
//! A snapshot is `MAGIC`, a header (JSON: the fold's format, the log position and head hash
//! it holds, the versions of the calendar and of the rules), the fold's bytes, then the
//! CRC-32 of everything before it (a check against damage, not against forgery: a snapshot is
//! the server's own cache, and the log's hash at its position is checked besides). It is used
//! only when
//! - its checksum holds (a torn or flipped file is refused),
//! - its versions are this server's (another fold format, calendar or rules is refused),
//! - and the log's event at its position has its head hash: the hash chains every earlier
//!   event, so the log holds exactly the events the fold was made from.
//!
//! Otherwise the caller folds from scratch and says why. This module turns bytes into folds
//! and back and asks the log one question; where snapshots are kept is the server's business.

use calendar::Calendar;
use event_model::Hash;
use event_store::{EventStore, Head, StoreError};
use projections::{ComplaintFold, DeadlineRules, FOLD_FORMAT};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::folded::Folded;

/// The first bytes of every snapshot.
pub const MAGIC: &[u8; 16] = b"RONGTOOK-FOLD-2\n";

/// Bytes of the trailing checksum.
const SUM: usize = 4;

/// What a snapshot was derived from, as its header states it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stamp {
    /// [`projections::FOLD_FORMAT`] of the writer.
    pub fold_format: u32,
    pub calendar_version: String,
    /// SHA-256 of the deadline rules' JSON.
    pub rules_sha256: String,
    /// The last event folded in, and its hash.
    pub position: u64,
    pub head_hash: String,
    /// Events folded in.
    pub events: u64,
}

impl Stamp {
    /// The stamp of `folded` judged with `cal` and `rules`.
    pub fn of(folded: &Folded, cal: &Calendar, rules: &DeadlineRules) -> Stamp {
        Stamp {
            fold_format: FOLD_FORMAT,
            calendar_version: cal.version().to_string(),
            rules_sha256: rules_sha256(rules),
            position: folded.head.position,
            head_hash: folded.head.hash.to_hex(),
            events: folded.events,
        }
    }
}

fn rules_sha256(rules: &DeadlineRules) -> String {
    let json = serde_json::to_vec(rules).expect("rules serialise");
    Hash(Sha256::digest(&json).into()).to_hex()
}

/// Why a snapshot is not used.
#[derive(Debug, thiserror::Error)]
pub enum Refused {
    /// The bytes are not a whole snapshot (cut short, flipped, not one at all).
    #[error("the snapshot is damaged: {0}")]
    Damaged(String),
    /// It was written for another fold format, calendar or rules.
    #[error("the snapshot was made with other versions: {0}")]
    OtherVersions(String),
    /// The log does not hold the snapshot's events (another log, or one restored to an
    /// earlier state).
    #[error("the snapshot does not match the log: {0}")]
    OtherLog(String),
    #[error("the log could not be read: {0}")]
    Store(#[from] StoreError),
}

/// A snapshot in pieces: taken while the fold is held still (the fold's parts are encoded on
/// several threads), then assembled and summed after it is let go.
pub struct Pieces {
    stamp: Stamp,
    parts: Vec<Vec<u8>>,
}

/// The pieces of `folded`'s snapshot.
pub fn take(folded: &Folded, cal: &Calendar, rules: &DeadlineRules) -> Pieces {
    Pieces {
        stamp: Stamp::of(folded, cal, rules),
        parts: folded.fold.encode_parts(),
    }
}

impl Pieces {
    /// The log position the snapshot holds.
    pub fn position(&self) -> u64 {
        self.stamp.position
    }

    /// The snapshot's bytes.
    pub fn into_bytes(self) -> Vec<u8> {
        let header = serde_json::to_vec(&self.stamp).expect("a stamp serialises");
        let size = self.parts.iter().map(Vec::len).sum::<usize>();
        let mut out = Vec::with_capacity(MAGIC.len() + 4 + header.len() + size + SUM);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&(header.len() as u32).to_le_bytes());
        out.extend_from_slice(&header);
        for p in self.parts {
            out.extend_from_slice(&p);
        }
        let sum = crc32fast::hash(&out);
        out.extend_from_slice(&sum.to_le_bytes());
        out
    }
}

/// The snapshot of `folded`.
pub fn encode(folded: &Folded, cal: &Calendar, rules: &DeadlineRules) -> Vec<u8> {
    take(folded, cal, rules).into_bytes()
}

/// The header of a snapshot, read without checking the rest.
pub fn stamp(bytes: &[u8]) -> Result<Stamp, Refused> {
    Ok(split(bytes)?.0)
}

/// The stamp and the fold's bytes.
fn split(bytes: &[u8]) -> Result<(Stamp, &[u8]), Refused> {
    let damaged = |what: &str| Refused::Damaged(what.to_string());
    let rest = bytes
        .strip_prefix(MAGIC.as_slice())
        .ok_or_else(|| damaged("it does not begin as a snapshot does"))?;
    if rest.len() < 4 + SUM {
        return Err(damaged("it is cut short"));
    }
    let (len, rest) = rest.split_at(4);
    let len = u32::from_le_bytes(len.try_into().expect("4")) as usize;
    if rest.len() < len + SUM {
        return Err(damaged("it is cut short"));
    }
    let (header, body) = rest.split_at(len);
    let stamp: Stamp = serde_json::from_slice(header)
        .map_err(|e| Refused::Damaged(format!("its header does not read: {e}")))?;
    Ok((stamp, &body[..body.len() - SUM]))
}

/// The fold a snapshot holds, when it is whole and was made with these versions. Whether the
/// log holds its events is [`check_log`]'s question.
pub fn decode(bytes: &[u8], cal: &Calendar, rules: &DeadlineRules) -> Result<Folded, Refused> {
    if bytes.len() < SUM {
        return Err(Refused::Damaged("it is cut short".into()));
    }
    let (covered, sum) = bytes.split_at(bytes.len() - SUM);
    let whole = || crc32fast::hash(covered).to_le_bytes() == sum;
    let damaged = || Refused::Damaged("its checksum does not match its contents".into());
    let (stamp, body) = split(bytes).map_err(|e| if whole() { e } else { damaged() })?;
    let mut differs = Vec::new();
    if stamp.fold_format != FOLD_FORMAT {
        differs.push(format!(
            "fold format {} (this server: {FOLD_FORMAT})",
            stamp.fold_format
        ));
    }
    if stamp.calendar_version != cal.version() {
        differs.push(format!(
            "calendar `{}` (this server: `{}`)",
            stamp.calendar_version,
            cal.version()
        ));
    }
    let ours = rules_sha256(rules);
    if stamp.rules_sha256 != ours {
        differs.push(format!(
            "rules {} (this server: {})",
            short(&stamp.rules_sha256),
            short(&ours)
        ));
    }
    if !differs.is_empty() {
        return Err(if whole() {
            Refused::OtherVersions(differs.join(", "))
        } else {
            damaged()
        });
    }
    let hash = Hash::from_hex(&stamp.head_hash)
        .ok_or_else(|| Refused::Damaged("its head hash is not one".into()))?;
    // The checksum is summed while the fold is decoded.
    let (whole, fold) = std::thread::scope(|scope| {
        let summing = scope.spawn(whole);
        let fold = ComplaintFold::decode(body);
        (summing.join().expect("summing does not panic"), fold)
    });
    if !whole {
        return Err(damaged());
    }
    let fold = fold.map_err(|e| Refused::Damaged(e.to_string()))?;
    Ok(Folded {
        fold,
        head: Head {
            position: stamp.position,
            hash,
        },
        events: stamp.events,
    })
}

fn short(hex: &str) -> &str {
    hex.get(..12).unwrap_or(hex)
}

/// Whether `store` holds the events `folded` was made from: the event at its position has its
/// head hash (which chains every earlier one).
pub fn check_log(store: &dyn EventStore, folded: &Folded) -> Result<(), Refused> {
    let Head { position, hash } = folded.head;
    if position == 0 {
        return Ok(());
    }
    let there = store.read_after(position - 1, 1)?;
    match there.first() {
        Some(e) if e.position == position && e.hash == hash => Ok(()),
        Some(e) if e.position == position => Err(Refused::OtherLog(format!(
            "the log's event {position} has hash {}, the snapshot's head {}",
            short(&e.hash.to_hex()),
            short(&hash.to_hex())
        ))),
        _ => Err(Refused::OtherLog(format!(
            "the snapshot holds {position} events, the log fewer"
        ))),
    }
}
