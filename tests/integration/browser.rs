//! The dashboard end to end in a real browser: Debian's headless Chromium driven by
//! playwright-core (`tests/e2e/dashboard.cjs`) against the real server on a loopback port,
//! over a generated fiscal year and real Traffy Fondue tickets. Screenshots land in `target/e2e-artifacts/`.
//!
//! What it needs is installed when missing: playwright-core (pinned by
//! `tests/e2e/package-lock.json`) under `target/e2e/`, and Chromium with `apt-get` when the
//! tests run as root. Without them the test fails and says what to install: it never passes
//! without driving the browser.

use std::path::{Path, PathBuf};
use std::process::Command;

use event_store::{Durability, EventStore};
use event_store_sqlite::SqliteStore;
use tests::{workspace_root, Scratch};

use crate::common::{generated_log, report};

fn chromium() -> PathBuf {
    let path = std::env::var_os("RONGTOOK_CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    if path.exists() {
        return path;
    }
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    if root {
        for args in [
            &["install", "-y", "--no-install-recommends", "chromium"][..],
            &["update"][..],
            &["install", "-y", "--no-install-recommends", "chromium"][..],
        ] {
            let _ = Command::new("apt-get")
                .args(args)
                .env("DEBIAN_FRONTEND", "noninteractive")
                .status();
            if path.exists() {
                return path;
            }
        }
    }
    panic!(
        "the browser test needs Chromium at {} (Debian: `apt-get install -y chromium`, or set RONGTOOK_CHROMIUM)",
        path.display()
    );
}

/// Thai fonts, so that the screenshots are legible (best effort: the checks do not need them).
fn thai_fonts() {
    let has = || {
        Command::new("fc-list")
            .arg(":lang=th")
            .output()
            .is_ok_and(|o| !o.stdout.is_empty())
    };
    if !has() {
        let _ = Command::new("apt-get")
            .args([
                "install",
                "-y",
                "--no-install-recommends",
                "fonts-thai-tlwg",
            ])
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status();
    }
}

/// `target/e2e/node_modules`, with the pinned playwright-core installed.
fn node_modules() -> PathBuf {
    let src = workspace_root().join("tests/e2e");
    let dir = workspace_root().join("target/e2e");
    let installed = dir.join("node_modules/playwright-core/package.json");
    let wanted = std::fs::read_to_string(src.join("package-lock.json")).unwrap();
    let current = std::fs::read_to_string(dir.join("package-lock.json")).unwrap_or_default();
    if !installed.exists() || current != wanted {
        std::fs::create_dir_all(&dir).unwrap();
        for f in ["package.json", "package-lock.json"] {
            std::fs::copy(src.join(f), dir.join(f)).unwrap();
        }
        let mut ok = false;
        for _ in 0..3 {
            let status = Command::new("npm")
                .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
                .current_dir(&dir)
                .status();
            match status {
                Ok(s) if s.success() => {
                    ok = true;
                    break;
                }
                Ok(_) => std::thread::sleep(std::time::Duration::from_secs(3)),
                Err(e) => panic!("the browser test needs Node.js and npm: {e}"),
            }
        }
        assert!(
            ok,
            "npm ci of tests/e2e/package-lock.json failed three times"
        );
    }
    dir.join("node_modules")
}

/// A log holding a generated fiscal year 2567, with a token for every role (as the HTTP
/// tests make them).
fn demo_log(db: &Path) -> std::collections::BTreeMap<&'static str, String> {
    let events: Vec<_> = generator::Generator::new(
        generator::GenConfig {
            fiscal_year: calendar::FiscalYear::from_ce(2024),
            complaints: 600,
            seed: 11,
        },
        calendar::Calendar::builtin(),
    )
    .collect();
    let mut store = SqliteStore::open(db, Durability::Full).unwrap();
    let at = chrono::DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z").unwrap();
    store.append(&events, at).unwrap();
    drop(store);
    // Real tickets too (November 2023, with coordinates), for the map.
    let real = workspace_root().join("tests/data/traffy/tphaengnet__work-1__teamchadchart.csv");
    crate::common::ok(&[
        "import",
        "traffy",
        "--db",
        db.to_str().unwrap(),
        real.to_str().unwrap(),
    ]);
    crate::http::make_tokens(db)
}

#[test]
fn the_dashboard_works_in_headless_chromium() {
    let chromium = chromium();
    thai_fonts();
    let modules = node_modules();
    let dir = Scratch::new("browser");
    let db = dir.path("log.db");
    let tokens = demo_log(&db);
    let shots = workspace_root().join("target/e2e-artifacts");
    let _ = std::fs::remove_dir_all(&shots);
    std::fs::create_dir_all(&shots).unwrap();

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (state, writer) = http_api::AppState::start(
        event_store_open::Location::Sqlite(db),
        Durability::Full,
        calendar::Calendar::builtin(),
        Default::default(),
    )
    .unwrap();
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = rt.spawn(http_api::serve(listener, state, async {
        let _ = stopped.await;
    }));

    let out = Command::new("node")
        .arg(workspace_root().join("tests/e2e/dashboard.cjs"))
        .args([
            &format!("http://{addr}"),
            &tokens["admin"],
            &tokens["intake"],
            shots.to_str().unwrap(),
            chromium.to_str().unwrap(),
            &tokens["bang-rak"],
            &tokens["inspector"],
        ])
        .env("NODE_PATH", &modules)
        .output()
        .expect("the browser test needs Node.js (`node`)");
    let _ = stop.send(());
    rt.block_on(server).unwrap().unwrap();
    drop(rt);
    writer.join().unwrap();
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "the browser script failed:\n{log}");
    // Each step checked something and left a screenshot.
    assert!(log.matches("ok - ").count() >= 15, "{log}");
    let pngs = std::fs::read_dir(&shots)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| {
            e.path().extension().is_some_and(|x| x == "png")
                && e.metadata().is_ok_and(|m| m.len() > 1000)
        })
        .count();
    assert!(pngs >= 8, "{pngs} screenshots in {}", shots.display());
}

/// Pages of a PDF that Chromium printed (its page objects are plain, not in object streams).
fn pdf_pages(pdf: &[u8]) -> usize {
    let needle = b"/Type /Page";
    pdf.windows(needle.len() + 1)
        .filter(|w| &w[..needle.len()] == needle && w[needle.len()] != b's')
        .count()
}

/// The words of Latin letters in a page's text (tags, styles and scripts left out).
fn latin_words(html: &str) -> Vec<String> {
    let mut text = html.to_string();
    for tag in ["style", "script"] {
        while let Some(i) = text.find(&format!("<{tag}")) {
            let end = text[i..]
                .find(&format!("</{tag}>"))
                .map_or(text.len(), |j| i + j + tag.len() + 3);
            text.replace_range(i..end, " ");
        }
    }
    let mut plain = String::new();
    let mut in_tag = false;
    for ch in text.chars() {
        match ch {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                plain.push(' ');
            }
            c if !in_tag => plain.push(c),
            _ => {}
        }
    }
    plain
        .split(|c: char| c.is_whitespace() || "(),;·/|".contains(c))
        .filter(|w| w.chars().any(|c| c.is_ascii_alphabetic()))
        .map(|w| w.replace("&amp;", "&"))
        .collect()
}

#[test]
fn the_thai_monthly_unit_report_prints_compactly_and_all_in_thai() {
    let chromium = chromium();
    thai_fonts();
    let dir = Scratch::new("print");
    let db = generated_log(&dir, 6000, 9);
    let s = |p: &Path| p.to_str().unwrap().to_string();
    let html = dir.path("report.html");
    let unit = "dept:traffic-transport";
    report(
        &db,
        "bma-complaint-3step",
        &html,
        &["--unit", unit, "--month", "2024-06"],
    );
    let page = std::fs::read_to_string(&html).unwrap();
    // The backlog: how many complaints, and that their overdue checkpoints are many.
    let backlog: usize = page
        .split("เรื่องค้างดำเนินการ เก่าสุดก่อน (")
        .nth(1)
        .and_then(|r| r.split(')').next())
        .and_then(|n| n.replace(',', "").parse().ok())
        .expect("a backlog heading with its count");
    let missed = page.matches("class=\"overdue\"").count();
    assert!(
        backlog >= 20 && missed >= 10,
        "a real backlog: {backlog} complaints, {missed} overdue"
    );
    assert!(
        page.contains("id=\"appendix\""),
        "the full lists go to an appendix in print"
    );

    // No English label in the Thai report: the Latin words left are codes, ids and names.
    let allowed = |w: &str| {
        w.starts_with('C') && w[1..].chars().next().is_some_and(|c| c.is_ascii_digit())
            || w.starts_with('R') && w.len() == 2
            || w.contains(':')
            || ["Rongtook", "PM2.5"].contains(&w)
    };
    let english: Vec<String> = latin_words(&page)
        .into_iter()
        .filter(|w| !allowed(w))
        .collect();
    assert!(
        english.is_empty(),
        "English in the Thai report: {english:?}"
    );

    // Printed to A4 by Chromium: far fewer pages than backlog complaints.
    let pdf = dir.path("report.pdf");
    let status = Command::new(&chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-pdf-header-footer",
        ])
        .arg(format!("--user-data-dir={}", s(&dir.path("chromium"))))
        .arg(format!("--print-to-pdf={}", s(&pdf)))
        .arg(format!("file://{}", s(&html)))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "chromium printed the report");
    let pages = pdf_pages(&std::fs::read(&pdf).unwrap());
    let artifacts = workspace_root().join("target/e2e-artifacts");
    let _ = std::fs::create_dir_all(&artifacts);
    let _ = std::fs::copy(&pdf, artifacts.join("unit-report-th.pdf"));
    assert!(
        pages >= 1 && pages * 2 <= backlog,
        "{pages} A4 pages for a backlog of {backlog} complaints"
    );
}
