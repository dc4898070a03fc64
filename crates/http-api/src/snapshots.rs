//! Where a server keeps its projection snapshots (the format is `read_model::snapshot`'s): a
//! directory of `fold-<position>.snap` files, the newest [`KEPT`] of them. A snapshot is
//! written to a temporary file, synced, renamed into place and the directory synced, so a
//! crash leaves either the whole file or none. The server saves one every `every` events
//! (from the follower thread) and one at a clean shutdown (from the writer thread, once the
//! last append is committed); at start it takes the newest that is whole, made with its
//! versions and of this log, and says why it passed over any other.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::SystemTime;

use calendar::Calendar;
use event_store::EventStore;
use projections::DeadlineRules;
use read_model::{snapshot, Folded, ReadModel};

/// How many snapshots are kept.
pub const KEPT: usize = 2;

/// The default of `every`: events between two snapshots.
pub const DEFAULT_EVERY: u64 = 100_000;

/// Where and how often a server keeps snapshots.
#[derive(Debug, Clone)]
pub struct SnapshotConfig {
    pub dir: PathBuf,
    /// Events between two snapshots.
    pub every: u64,
}

pub(crate) struct Snapshots {
    config: SnapshotConfig,
    /// The position and time of the newest snapshot written or loaded.
    newest: Mutex<Option<(u64, SystemTime)>>,
    /// Held while a snapshot is saved: one at a time.
    saving: Mutex<()>,
}

/// A snapshot file's name for a position.
fn file_name(position: u64) -> String {
    format!("fold-{position:020}.snap")
}

/// The position a snapshot file's name states.
fn position_of(name: &str) -> Option<u64> {
    name.strip_prefix("fold-")?
        .strip_suffix(".snap")?
        .parse()
        .ok()
}

impl Snapshots {
    /// Makes the directory if needed; says why it cannot be used.
    pub(crate) fn open(config: SnapshotConfig) -> Result<Snapshots, String> {
        std::fs::create_dir_all(&config.dir).map_err(|e| {
            format!(
                "cannot make the snapshot directory {}: {e}",
                config.dir.display()
            )
        })?;
        Ok(Snapshots {
            config,
            newest: Mutex::new(None),
            saving: Mutex::new(()),
        })
    }

    /// The snapshot files, newest first (leftover temporary files are removed).
    fn files(&self) -> Vec<(u64, PathBuf)> {
        let Ok(dir) = std::fs::read_dir(&self.config.dir) else {
            return Vec::new();
        };
        let mut files: Vec<(u64, PathBuf)> = dir
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                if name.starts_with("fold-") && name.ends_with(".tmp") {
                    // A save that a crash cut short.
                    let _ = std::fs::remove_file(e.path());
                    return None;
                }
                Some((position_of(&name)?, e.path()))
            })
            .collect();
        files.sort_by_key(|f| std::cmp::Reverse(f.0));
        files
    }

    /// The newest usable snapshot's fold, checked against `store`; `None` (and a log line
    /// saying why for each one passed over) when there is none.
    pub(crate) fn load(
        &self,
        store: &dyn EventStore,
        cal: &Calendar,
        rules: &DeadlineRules,
    ) -> Option<Folded> {
        for (_, path) in self.files() {
            let started = std::time::Instant::now();
            let tried = std::fs::read(&path)
                .map_err(|e| format!("cannot be read: {e}"))
                .and_then(|bytes| {
                    let folded = snapshot::decode(&bytes, cal, rules).map_err(|e| e.to_string())?;
                    snapshot::check_log(store, &folded).map_err(|e| e.to_string())?;
                    Ok(folded)
                });
            match tried {
                Ok(folded) => {
                    tracing::info!(
                        snapshot = %path.display(),
                        position = folded.head.position,
                        millis = started.elapsed().as_millis() as u64,
                        "starting from a snapshot"
                    );
                    let written = std::fs::metadata(&path)
                        .and_then(|m| m.modified())
                        .unwrap_or_else(|_| SystemTime::now());
                    *self.lock() = Some((folded.head.position, written));
                    return Some(folded);
                }
                Err(why) => tracing::warn!(
                    snapshot = %path.display(),
                    reason = %why,
                    "snapshot not used"
                ),
            }
        }
        tracing::info!(
            dir = %self.config.dir.display(),
            "no usable snapshot: folding the whole log"
        );
        None
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<(u64, SystemTime)>> {
        self.newest.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Saves a snapshot when `every` events were folded in since the newest.
    pub(crate) fn save_if_due(&self, model: &ReadModel) {
        let newest = self.lock().map_or(0, |(p, _)| p);
        if model.applied() >= newest.saturating_add(self.config.every) {
            self.save(model);
        }
    }

    /// Saves a snapshot of the live fold now (unless the newest holds the same position);
    /// a failure is logged, and the server goes on without it.
    pub(crate) fn save(&self, model: &ReadModel) {
        let _saving = self.saving.lock().unwrap_or_else(|p| p.into_inner());
        if self.lock().is_some_and(|(p, _)| p == model.applied()) {
            return;
        }
        let started = std::time::Instant::now();
        let (position, bytes) = model.snapshot();
        let encoded = started.elapsed();
        match self.write(position, &bytes) {
            Ok(path) => {
                *self.lock() = Some((position, SystemTime::now()));
                tracing::info!(
                    snapshot = %path.display(),
                    position,
                    bytes = bytes.len(),
                    encode_millis = encoded.as_millis() as u64,
                    millis = started.elapsed().as_millis() as u64,
                    "snapshot saved"
                );
                self.prune();
            }
            Err(e) => tracing::error!(
                dir = %self.config.dir.display(),
                error = %e,
                "snapshot not saved"
            ),
        }
    }

    /// Writes a snapshot whole or not at all.
    fn write(&self, position: u64, bytes: &[u8]) -> std::io::Result<PathBuf> {
        let dir = &self.config.dir;
        let path = dir.join(file_name(position));
        // Named by the process too: servers sharing a directory never write one file.
        let tmp = dir.join(format!(
            "{}.{}.tmp",
            file_name(position),
            std::process::id()
        ));
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, &path)?;
        sync_dir(dir)?;
        Ok(path)
    }

    /// Removes all but the newest [`KEPT`] snapshots.
    fn prune(&self) {
        for (_, path) in self.files().into_iter().skip(KEPT) {
            if let Err(e) = std::fs::remove_file(&path) {
                tracing::warn!(snapshot = %path.display(), error = %e, "old snapshot not removed");
            }
        }
    }

    /// Seconds since the newest snapshot was written, if there is one.
    pub(crate) fn age_seconds(&self) -> Option<f64> {
        let (_, at) = (*self.lock())?;
        Some(at.elapsed().map_or(0.0, |d| d.as_secs_f64()))
    }
}

/// Makes a rename in `dir` durable.
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_state_positions_in_order() {
        assert_eq!(position_of(&file_name(42)), Some(42));
        assert_eq!(position_of("fold-x.snap"), None);
        assert_eq!(position_of("fold-00000000000000000042.snap.1234.tmp"), None);
        assert!(file_name(9) < file_name(10));
    }
}
