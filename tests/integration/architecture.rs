//! The dependency direction and the absences ARCHITECTURE.md promises, checked.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

use tests::workspace_root;

/// The crates that must stay pure: no SQL, no async runtime, no file system, no clock, no
/// randomness, no `anyhow`.
const CORE: &[&str] = &[
    "event-model",
    "calendar",
    "lifecycle",
    "projections",
    "indicators",
    "traffy",
    "generator",
    "reports",
];

/// Crates no core crate may depend on, directly or through a workspace crate.
const FORBIDDEN_FOR_CORE: &[&str] = &[
    "rusqlite",
    "tokio",
    "anyhow",
    "axum",
    "hyper",
    "reqwest",
    "ureq",
    "rand",
    "getrandom",
    "indicatif",
    "clap",
    "event-store",
    "rongtook",
];

/// Source text that means I/O, the clock or randomness.
const FORBIDDEN_SOURCE: &[&str] = &[
    "std::fs",
    "File::open",
    "File::create",
    "std::net",
    "std::env",
    "SystemTime",
    "Instant::now",
    "Utc::now",
    "Local::now",
    "thread_rng",
    "rusqlite",
    "std::io::stdin",
    "println!",
];

/// The names in the `[dependencies]` table of a manifest.
fn dependencies(manifest: &Path) -> BTreeSet<String> {
    let text = fs::read_to_string(manifest).unwrap();
    let mut in_deps = false;
    let mut out = BTreeSet::new();
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') {
            in_deps = line == "[dependencies]";
            continue;
        }
        if in_deps && !line.is_empty() && !line.starts_with('#') {
            let name = line.split(['=', '.', ' ']).next().unwrap().trim();
            out.insert(name.to_string());
        }
    }
    out
}

fn crates() -> BTreeMap<String, BTreeSet<String>> {
    let root = workspace_root().join("crates");
    let mut map = BTreeMap::new();
    for e in fs::read_dir(&root).unwrap() {
        let dir = e.unwrap().path();
        let manifest = dir.join("Cargo.toml");
        let text = fs::read_to_string(&manifest).unwrap();
        let name = text
            .lines()
            .find_map(|l| l.trim().strip_prefix("name = "))
            .unwrap()
            .trim_matches('"')
            .to_string();
        assert_eq!(
            Some(name.as_str()),
            dir.file_name().and_then(|n| n.to_str()),
            "crate folder equals crate name"
        );
        map.insert(name, dependencies(&manifest));
    }
    map
}

fn transitive(map: &BTreeMap<String, BTreeSet<String>>, name: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut todo = vec![name.to_string()];
    while let Some(n) = todo.pop() {
        for d in map.get(&n).into_iter().flatten() {
            if seen.insert(d.clone()) {
                todo.push(d.clone());
            }
        }
    }
    seen
}

#[test]
fn core_crates_depend_on_no_io_runtime_or_sql() {
    let map = crates();
    for core in CORE {
        assert!(map.contains_key(*core), "core crate {core} exists");
        let deps = transitive(&map, core);
        for bad in FORBIDDEN_FOR_CORE {
            assert!(
                !deps.contains(*bad),
                "{core} depends on {bad} (directly or transitively)"
            );
        }
    }
}

/// The backends: the only crates that know SQL and a database client.
const BACKENDS: &[&str] = &["event-store-sqlite", "event-store-postgres"];

/// Database clients.
const SQL_CLIENTS: &[&str] = &["rusqlite", "postgres", "tokio-postgres", "sqlx"];

/// The one place that opens a backend from a `--db` value.
const OPENER: &str = "event-store-open";

#[test]
fn only_the_store_knows_sql_only_the_api_knows_http_and_only_the_cli_uses_anyhow() {
    for (name, deps) in crates() {
        for client in SQL_CLIENTS {
            if deps.contains(*client) {
                assert!(
                    BACKENDS.contains(&name.as_str()),
                    "{name} uses {client}: only the backends know SQL"
                );
            }
        }
        if deps.contains("anyhow") {
            assert_eq!(name, "rongtook", "{name} uses anyhow");
        }
        for http in ["axum", "hyper", "tower", "http", "ureq", "reqwest"] {
            if deps.contains(http) {
                assert_eq!(
                    name, "http-api",
                    "{name} uses {http}: only the HTTP crate knows HTTP"
                );
            }
        }
    }
}

#[test]
fn core_sources_never_touch_files_clock_or_randomness() {
    for core in CORE {
        let src = workspace_root().join("crates").join(core).join("src");
        let mut stack = vec![src];
        while let Some(dir) = stack.pop() {
            for e in fs::read_dir(&dir).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    stack.push(p);
                    continue;
                }
                let text = fs::read_to_string(&p).unwrap();
                for bad in FORBIDDEN_SOURCE {
                    assert!(!text.contains(bad), "{} mentions `{bad}`", p.display());
                }
            }
        }
    }
}

#[test]
fn chrono_is_built_without_the_clock_for_the_core() {
    let text = fs::read_to_string(workspace_root().join("Cargo.toml")).unwrap();
    let line = text.lines().find(|l| l.starts_with("chrono")).unwrap();
    assert!(
        line.contains("default-features = false") && !line.contains("clock"),
        "{line}"
    );
    for core in CORE {
        let m = fs::read_to_string(
            workspace_root()
                .join("crates")
                .join(core)
                .join("Cargo.toml"),
        )
        .unwrap();
        assert!(!m.contains("clock"), "{core} enables chrono's clock");
    }
}

#[test]
fn architecture_document_names_every_crate() {
    let doc = fs::read_to_string(workspace_root().join("ARCHITECTURE.md")).unwrap();
    for name in crates().keys() {
        assert!(
            doc.contains(&format!("`{name}`")),
            "ARCHITECTURE.md does not describe `{name}`"
        );
    }
}

/// Every `.rs` file under `dir`, with its text.
fn sources(dir: &Path) -> Vec<(std::path::PathBuf, String)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                let text = fs::read_to_string(&p).unwrap();
                out.push((p, text));
            }
        }
    }
    out
}

/// Nothing above the backends names a backend: only the opener depends on a backend crate, and
/// no source outside the backends and the opener names a backend's type.
#[test]
fn nothing_above_the_backends_names_one_but_the_opener() {
    let map = crates();
    for backend in BACKENDS {
        assert!(map.contains_key(*backend), "backend crate {backend} exists");
        assert!(map[OPENER].contains(*backend), "{OPENER} opens {backend}");
        assert!(
            !map["event-store"].contains(*backend),
            "the boundary crate depends on no backend"
        );
    }
    for (name, deps) in &map {
        if BACKENDS.contains(&name.as_str()) || name == OPENER {
            continue;
        }
        for backend in BACKENDS {
            assert!(
                !deps.contains(*backend),
                "{name} depends on {backend}: open logs through {OPENER}"
            );
        }
        let src = workspace_root().join("crates").join(name);
        for (p, text) in sources(&src) {
            for ty in [
                "SqliteStore",
                "PgStore",
                "event_store_sqlite",
                "event_store_postgres",
            ] {
                assert!(
                    !text.contains(ty),
                    "{} names `{ty}`: only {OPENER} names a backend",
                    p.display()
                );
            }
        }
    }
}

#[test]
fn the_read_model_reads_only_through_the_store_trait() {
    let map = crates();
    let deps = &map["read-model"];
    for bad in [
        "rusqlite",
        "tokio",
        "anyhow",
        "axum",
        "clap",
        "indicatif",
        "rand",
        "reports",
    ] {
        assert!(!deps.contains(bad), "read-model depends on {bad}");
    }
    let src = workspace_root().join("crates/read-model/src");
    for (p, text) in sources(&src) {
        for bad in FORBIDDEN_SOURCE.iter().chain(&["SqliteStore", "Sqlite"]) {
            assert!(!text.contains(bad), "{} mentions `{bad}`", p.display());
        }
    }
}

/// What only the read model does: folding the log, judging the overdue and inspection lists, scoring
/// indicators, stating provenance, parsing instants.
const READ_PATH: &[&str] = &[
    "ComplaintFold::new(",
    "projections::overdue(",
    "overdue_report(",
    "projections::inspection_list(",
    "projections::inspection_months(",
    "indicators::evaluate(",
    "Provenance {",
    "parse_from_rfc3339",
    "fn end_of_time",
    "fn parse_instant",
];

#[test]
fn no_entry_point_assembles_the_read_path_itself() {
    let root = workspace_root().join("crates");
    for face in ["rongtook", "http-api"] {
        for (p, text) in sources(&root.join(face).join("src")) {
            // The benchmark times each stage of the read path on its own.
            if p.ends_with("bench.rs") {
                continue;
            }
            for bad in READ_PATH {
                assert!(
                    !text.contains(bad),
                    "{} does `{bad}` itself: ask read-model",
                    p.display()
                );
            }
        }
    }
}

#[test]
fn every_owner_in_the_rules_table_exists() {
    let doc = fs::read_to_string(workspace_root().join("ARCHITECTURE.md")).unwrap();
    let table = doc
        .split("## Rules and their owners")
        .nth(1)
        .and_then(|t| t.split("\n## ").next())
        .expect("ARCHITECTURE.md has a table of rules and their owners");
    let mut rows = 0;
    for row in table
        .lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| rule"))
    {
        let owner = row.rsplit('|').nth(1).unwrap_or_default();
        let names: Vec<&str> = owner.split('`').skip(1).step_by(2).collect();
        let Some(first) = names.first().filter(|n| n.starts_with("crates/")) else {
            continue;
        };
        rows += 1;
        let first = workspace_root().join(first);
        assert!(first.exists(), "{} (in: {row})", first.display());
        let dir = if first.is_dir() {
            first.clone()
        } else {
            first.parent().unwrap().to_path_buf()
        };
        for name in names.iter().skip(1).filter(|n| n.ends_with(".rs")) {
            assert!(
                dir.join(name).exists(),
                "{name} beside {} (in: {row})",
                dir.display()
            );
        }
    }
    assert!(rows >= 20, "the table lists the rules: {rows} rows");
}
