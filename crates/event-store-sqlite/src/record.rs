//! The head record kept beside a log file (`FILE.head`): the last acknowledged head and the
//! last verified one, outside the database and its WAL.
//!
//! SQLite's recovery drops WAL frames whose checksum or salt does not match, so a WAL cut or
//! damaged inside committed frames comes back as a shorter log, silently. The record says how
//! far the log reached when its writers last heard a commit succeed: a log that ends before that
//! position, or holds another event there, has lost acknowledged events, and opening it for
//! writing is refused.
//!
//! The record is written after each commit, in place and without a sync of its own: it survives
//! the death of the process through the page cache, and after a crash of the machine it may be
//! older than the log but never newer (the commit's own sync came first). An older record only
//! checks less; it never refuses a whole log. Several processes on one log each write their own
//! view; the record may then lag, with the same effect.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use event_model::Hash;
use event_store::{Head, StoreError};

/// The record's fixed size: it is always written whole, at offset 0.
const SIZE: usize = 256;
const MAGIC: &str = "rongtook head record 1";

/// What the record holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Marks {
    /// The head after the last commit a writer saw succeed.
    pub acknowledged: Head,
    /// The head up to which the chain was last verified (position 0: never).
    pub verified: Head,
}

/// The open record of one log file.
pub(crate) struct HeadRecord {
    path: PathBuf,
    file: File,
    marks: Marks,
}

/// Where the record of the log at `db` lives.
fn record_path(db: &Path) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push(".head");
    PathBuf::from(name)
}

impl HeadRecord {
    /// Opens (creating if needed) the record of the log at `db`, and reads what it holds
    /// (nothing for a new record).
    pub(crate) fn open(db: &Path) -> Result<HeadRecord, StoreError> {
        let path = record_path(db);
        let io = |e: std::io::Error| StoreError::Io(format!("{}: {e}", path.display()));
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io)?;
        let mut text = String::new();
        std::io::Read::read_to_string(&mut &file, &mut text).map_err(io)?;
        let marks = if text.is_empty() {
            Marks::default()
        } else {
            parse(&text).ok_or_else(|| unreadable(&path))?
        };
        Ok(HeadRecord { path, file, marks })
    }

    /// What the record of the log at `db` holds, without creating it (`None`: no record).
    pub(crate) fn read(db: &Path) -> Result<Option<Marks>, StoreError> {
        let path = record_path(db);
        match std::fs::read_to_string(&path) {
            Ok(text) if text.is_empty() => Ok(None),
            Ok(text) => parse(&text).map(Some).ok_or_else(|| unreadable(&path)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(StoreError::Io(format!("{}: {e}", path.display()))),
        }
    }

    pub(crate) fn marks(&self) -> Marks {
        self.marks
    }

    /// Records a new acknowledged head (ignored when not past the recorded one).
    pub(crate) fn acknowledge(&mut self, head: Head) -> Result<(), StoreError> {
        if head.position <= self.marks.acknowledged.position {
            return Ok(());
        }
        self.write(Marks {
            acknowledged: head,
            ..self.marks
        })
    }

    /// Records a new verified head (and the acknowledged head, if behind it).
    pub(crate) fn verified(&mut self, head: Head) -> Result<(), StoreError> {
        let acknowledged = if head.position > self.marks.acknowledged.position {
            head
        } else {
            self.marks.acknowledged
        };
        self.write(Marks {
            acknowledged,
            verified: head,
        })
    }

    fn write(&mut self, marks: Marks) -> Result<(), StoreError> {
        let mut text = format!(
            "{MAGIC}\nacknowledged {} {}\nverified {} {}\n",
            marks.acknowledged.position,
            marks.acknowledged.hash.to_hex(),
            marks.verified.position,
            marks.verified.hash.to_hex()
        );
        // Padded to one fixed size, so that every write replaces the whole record.
        while text.len() < SIZE - 1 {
            text.push(' ');
        }
        text.push('\n');
        self.file
            .write_all_at(text.as_bytes(), 0)
            .map_err(|e| StoreError::Io(format!("{}: {e}", self.path.display())))?;
        self.marks = marks;
        Ok(())
    }
}

/// Refuses a log (at `db`, its head `head`) that ends before the acknowledged head of
/// `marks`, or holds another event at its position (`stored`: the hash the log holds there, if
/// any).
pub(crate) fn check(
    marks: Marks,
    db: &Path,
    head: Head,
    stored: Option<Hash>,
) -> Result<(), StoreError> {
    let ack = marks.acknowledged;
    if ack.position == 0 {
        return Ok(());
    }
    let why = match stored {
        _ if head.position < ack.position => format!(
            "the log `{}` ends at position {}, but position {} was acknowledged",
            db.display(),
            head.position,
            ack.position
        ),
        Some(h) if h == ack.hash => return Ok(()),
        _ => format!(
            "the log `{}` holds another event at position {} than the one acknowledged \
             (hash {})",
            db.display(),
            ack.position,
            ack.hash
        ),
    };
    Err(StoreError::Lost(format!(
        "{why} (recorded in `{}`). Restore the log from a backup; if the log was replaced on \
         purpose, remove the record",
        record_path(db).display()
    )))
}

fn unreadable(path: &Path) -> StoreError {
    StoreError::Lost(format!(
        "the head record `{}` is unreadable, so whether the log holds every acknowledged event \
         cannot be checked; if the log is known good, remove the record and start again",
        path.display()
    ))
}

fn parse(text: &str) -> Option<Marks> {
    let mut lines = text.lines();
    if lines.next()? != MAGIC {
        return None;
    }
    let mut head = |name: &str| -> Option<Head> {
        let line = lines.next()?;
        let mut parts = line.split(' ');
        if parts.next()? != name {
            return None;
        }
        let position = parts.next()?.parse().ok()?;
        let hash = Hash::from_hex(parts.next()?)?;
        Some(Head { position, hash })
    };
    let acknowledged = head("acknowledged")?;
    let verified = head("verified")?;
    Some(Marks {
        acknowledged,
        verified,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_round_trip_and_damage_is_refused() {
        let dir = std::env::temp_dir().join(format!("rongtook-record-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let db = dir.join("log.db");
        let mut r = HeadRecord::open(&db).unwrap();
        assert_eq!(r.marks(), Marks::default());
        let h = |position| Head {
            position,
            hash: Hash([position as u8; 32]),
        };
        r.acknowledge(h(7)).unwrap();
        r.acknowledge(h(5)).unwrap(); // never back
        r.verified(h(6)).unwrap();
        let again = HeadRecord::open(&db).unwrap();
        assert_eq!(
            again.marks(),
            Marks {
                acknowledged: h(7),
                verified: h(6)
            }
        );
        assert!(check(again.marks(), &db, h(7), Some(h(7).hash)).is_ok());
        assert!(check(again.marks(), &db, h(9), Some(h(7).hash)).is_ok());
        let short = check(again.marks(), &db, h(6), None)
            .unwrap_err()
            .to_string();
        assert!(
            short.contains("ends at position 6, but position 7"),
            "{short}"
        );
        let other = check(again.marks(), &db, h(9), Some(h(1).hash)).unwrap_err();
        assert!(other.to_string().contains("another event at position 7"));
        std::fs::write(record_path(&db), "rongtook head record 1\nacknowledged x\n").unwrap();
        assert!(matches!(HeadRecord::open(&db), Err(StoreError::Lost(_))));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
