//! Helpers shared by the integration tests.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

pub mod pg;
pub mod surfaces;

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// Whether expected files should be rewritten from actual output (`UPDATE_EXPECT=1`).
pub fn update_expect() -> bool {
    std::env::var_os("UPDATE_EXPECT").is_some_and(|v| v == "1")
}

/// A fresh, empty scratch directory under the target directory, removed on drop.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(label: &str) -> Scratch {
        static N: AtomicU64 = AtomicU64::new(0);
        let dir = std::env::temp_dir().join(format!(
            "rongtook-test-{}-{}-{label}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create scratch dir");
        Scratch(dir)
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Compares `actual` with the file at `path` (or rewrites it under `UPDATE_EXPECT=1`).
/// Returns a description of the first difference.
pub fn check_expect(path: &Path, actual: &str) -> Result<(), String> {
    if update_expect() {
        std::fs::write(path, actual).map_err(|e| format!("{}: {e}", path.display()))?;
        return Ok(());
    }
    let expected = std::fs::read_to_string(path).map_err(|e| {
        format!(
            "{}: {e} (run with UPDATE_EXPECT=1 to create it)",
            path.display()
        )
    })?;
    if expected == actual {
        return Ok(());
    }
    let (el, al): (Vec<_>, Vec<_>) = (expected.lines().collect(), actual.lines().collect());
    let i = el
        .iter()
        .zip(&al)
        .position(|(a, b)| a != b)
        .unwrap_or(el.len().min(al.len()));
    Err(format!(
        "{} differs at line {}:\n  expected: {}\n  actual:   {}",
        path.display(),
        i + 1,
        el.get(i).unwrap_or(&"<end of file>"),
        al.get(i).unwrap_or(&"<end of file>")
    ))
}

/// A PyPI package installed for the tests under `target/<dir>` (pip `--target`), if it is not
/// there yet; `module` is what `import` checks. Returns the folder to put on `PYTHONPATH`, or
/// `None` when it cannot be installed (the caller fails, saying what is missing).
pub fn pip_package(dir: &str, module: &str, requirement: &str) -> Option<PathBuf> {
    let target = workspace_root().join("target").join(dir);
    let has = |p: &Path| {
        std::process::Command::new("python3")
            .args(["-c", &format!("import {module}")])
            .env("PYTHONPATH", p)
            .status()
            .is_ok_and(|s| s.success())
    };
    if has(&target) {
        return Some(target);
    }
    let installed = std::process::Command::new("python3")
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--target",
        ])
        .arg(&target)
        .arg(requirement)
        .status()
        .is_ok_and(|s| s.success());
    (installed && has(&target)).then_some(target)
}
