//! Copying a log between backends (`rongtook copy`): every row as stored (positions, batches,
//! record instants, hashes), through the traits only, so any backend copies to any other.
//! The target must be empty or a prefix of the source; a copy into a prefix resumes after it.
//! Both logs are verified at the end.

use crate::{Log, StoreError, VerifyReport};

/// Rows moved per transaction.
pub const COPY_CHUNK: u64 = 10_000;

/// Why a copy did not happen, or did not finish.
#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("the target holds {target} events but the source only {in_source}: it is not a prefix of the source")]
    TargetAhead { target: u64, in_source: u64 },
    #[error(
        "the target is not a prefix of the source: their events differ at position {position}"
    )]
    Diverged { position: u64 },
    #[error("the {which} log does not verify at position {position}: {why}")]
    Unverified {
        which: &'static str,
        position: u64,
        why: String,
    },
}

/// What a copy did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyReport {
    /// Events the target held before (a prefix of the source).
    pub resumed_from: u64,
    /// Events copied now.
    pub copied: u64,
    /// The source, verified (up to its head when the copy began).
    pub source: VerifyReport,
    /// The target after the copy, verified.
    pub target: VerifyReport,
}

/// Copies `from` into `to`, up to the source's head when the copy begins; `progress` hears
/// (copied so far, to copy in all) after each chunk.
pub fn copy(
    from: &dyn Log,
    to: &mut dyn Log,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<CopyReport, CopyError> {
    let end = from.head()?;
    let start = to.head()?;
    if start.position > end.position {
        return Err(CopyError::TargetAhead {
            target: start.position,
            in_source: end.position,
        });
    }
    if start.position > 0 {
        let theirs = from.raw_after(start.position - 1, 1)?;
        if theirs.first().map(|r| r.hash) != Some(start.hash) {
            return Err(CopyError::Diverged {
                position: start.position,
            });
        }
    }
    let mut at = start.position;
    while at < end.position {
        let rows = from.raw_after(at, COPY_CHUNK.min(end.position - at))?;
        let Some(last) = rows.last() else { break };
        let last = last.position;
        to.import_raw(&rows)?;
        at = last;
        progress(at - start.position, end.position - start.position);
    }
    let source = checked("source", from.verify()?)?;
    let target = checked("target", to.verify()?)?;
    // The source may have grown meanwhile; the target must hold its first `end` events.
    if target.head != end {
        return Err(CopyError::Diverged {
            position: target.head.position.min(end.position),
        });
    }
    Ok(CopyReport {
        resumed_from: start.position,
        copied: end.position - start.position,
        source,
        target,
    })
}

fn checked(which: &'static str, r: VerifyReport) -> Result<VerifyReport, CopyError> {
    match &r.first_bad {
        Some((position, why)) => Err(CopyError::Unverified {
            which,
            position: *position,
            why: why.clone(),
        }),
        None => Ok(r),
    }
}
