//! The HTTP contract: schemathesis (PyPI, pinned, installed under `target/st`) runs every
//! check it has (`--checks all`: schema-valid requests accepted, schema-violating ones
//! refused, every status code, content type, body and Server-Sent Event as documented) against
//! `schemas/openapi.json` as served by a real server on a generated year, with an admin token.
//! Settings (which answers a schema-valid request may get) are `tests/schemathesis/`.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use tests::{workspace_root, Scratch};

use crate::common::{generated_log, ok as rongtook};

/// The schemathesis release the contract is checked with.
const SCHEMATHESIS: &str = "schemathesis==4.32.5";

/// A free loopback port (bound and released; the server binds it a moment later).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn schemathesis_finds_the_server_as_the_openapi_document_says() {
    let st = tests::pip_package("st", "schemathesis", SCHEMATHESIS)
        .unwrap_or_else(|| panic!("python3 with pip, to install {SCHEMATHESIS}"));
    let dir = Scratch::new("contract");
    let db = generated_log(&dir, 300, 3);
    let s = |p: &std::path::Path| p.to_str().unwrap().to_string();
    let created = rongtook(&["token", "create", "--db", &s(&db), "--role", "admin"]);
    let token = created.split_whitespace().last().unwrap().to_string();
    let addr = format!("127.0.0.1:{}", free_port());
    let mut server = Command::new(env!("CARGO_BIN_EXE_rongtook-under-test"))
        .args(["serve", "--db", &s(&db), "--listen", &addr])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let up = Instant::now();
    while std::net::TcpStream::connect(&addr).is_err() {
        assert!(
            up.elapsed() < Duration::from_secs(30),
            "the server did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = Command::new("python3")
        .args(["-m", "schemathesis.cli", "--config-file"])
        .arg(workspace_root().join("tests/schemathesis/schemathesis.toml"))
        .arg("run")
        .arg(format!("http://{addr}/openapi.json"))
        .args([
            "--checks",
            "all",
            "--max-examples",
            "30",
            "--seed",
            "20240101",
        ])
        .args(["--generation-deterministic", "--no-color"])
        // How fast examples are generated depends on the machine's load, not on the contract.
        .args(["--suppress-health-check", "too_slow"])
        .args(["-H", &format!("Authorization: Bearer {token}")])
        // Its caches and hypothesis's example database go to the scratch folder.
        .current_dir(&dir.0)
        .env("PYTHONPATH", &st)
        // Wide enough that no path or count in its report is wrapped over two lines.
        .env("COLUMNS", "1000")
        .output()
        .unwrap();
    let _ = server.kill();
    let _ = server.wait();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // It read the project's settings.
    assert!(text.contains("schemathesis.toml"), "{text}");
    // It ran: every operation it loaded was tested, and it loaded the document's operations
    // (all but `GET /openapi.json`, the document itself, which it leaves out when it reads the
    // document from the server).
    let doc: serde_json::Value = serde_json::from_str(http_api::OPENAPI).unwrap();
    let operations: usize = doc["paths"]
        .as_object()
        .unwrap()
        .values()
        .map(|ops| ops.as_object().unwrap().len())
        .sum();
    let loaded = format!("{} selected / {} total", operations - 1, operations - 1);
    assert!(text.contains(&loaded), "expected {loaded}: {text}");
    assert!(
        text.contains(&format!("Tested: {}", operations - 1)),
        "{text}"
    );
    assert!(out.status.success(), "schemathesis found failures:\n{text}");
    // The closing line counts failures and errors when there are any.
    let summary = text
        .lines()
        .rev()
        .find(|l| l.starts_with("==") && l.contains(" in "))
        .unwrap_or_default();
    assert!(
        !summary.contains("failure") && !summary.contains("error"),
        "{summary}\n{text}"
    );
}
