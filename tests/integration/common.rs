//! Helpers every module of the integration tests shares: the real program, run.

use std::path::Path;
use std::process::{Command, Output, Stdio};

use tests::Scratch;

/// Runs the `rongtook` program built for the tests.
pub fn rongtook(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rongtook-under-test"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run rongtook")
}

/// Runs it and returns its standard output; fails the test when it fails.
pub fn ok(args: &[&str]) -> String {
    let o = rongtook(args);
    assert!(
        o.status.success(),
        "rongtook {args:?} failed: {}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

/// A path as an argument.
pub fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A log holding a generated fiscal year (B.E. 2567) of `complaints` complaints.
pub fn generated_log(dir: &Scratch, complaints: u32, seed: u32) -> std::path::PathBuf {
    let db = dir.path("log.db");
    let events = dir.path("e.ndjson");
    let (complaints, seed) = (complaints.to_string(), seed.to_string());
    ok(&[
        "generate",
        "--fiscal-year",
        "2567",
        "--complaints",
        &complaints,
        "--seed",
        &seed,
        "--out",
        s(&events),
    ]);
    ok(&["append", "--db", s(&db), s(&events)]);
    db
}

/// `rongtook replay` of fiscal year B.E. 2567 into `out`, with `more` arguments.
pub fn replay(db: &Path, out: &Path, more: &[&str]) -> String {
    let mut args = vec![
        "replay",
        "--db",
        s(db),
        "--fiscal-year",
        "2567",
        "--out",
        s(out),
    ];
    args.extend_from_slice(more);
    ok(&args)
}

/// `rongtook report` of fiscal year B.E. 2567 with indicator `spec` into `out`, with `more`
/// arguments (unit, period, format, language).
pub fn report(db: &Path, spec: &str, out: &Path, more: &[&str]) -> String {
    let mut args = vec![
        "report",
        "--db",
        s(db),
        "--fiscal-year",
        "2567",
        "--spec",
        spec,
    ];
    args.extend_from_slice(more);
    args.extend_from_slice(&["--out", s(out)]);
    ok(&args)
}
