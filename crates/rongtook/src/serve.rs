//! `rongtook serve`: the HTTP API on a log, with graceful shutdown on SIGINT/SIGTERM.

use std::process::ExitCode;

use anyhow::Context;
use event_store::Durability;

use crate::args::{LogFormat, ServeArgs};
use crate::commands::fill_demo;
use crate::input::{load_calendar, load_rules, open};
use crate::{bad_input, CalendarArgs};

/// The demo year `--demo` appends to an empty log.
pub const DEMO_FISCAL_YEAR: &str = "2567";
pub const DEMO_COMPLAINTS: u64 = 20_000;
pub const DEMO_SEED: u64 = 2567;

pub fn run(a: &ServeArgs) -> anyhow::Result<ExitCode> {
    let (db, listen, demo) = (&a.db, a.listen.as_str(), a.demo);
    let addr: std::net::SocketAddr = match listen.parse() {
        Ok(a) => a,
        Err(_) => bad_input!("--listen `{listen}` is not an address such as 127.0.0.1:8080"),
    };
    let rule_data = CalendarArgs {
        calendar: a.calendar.clone(),
        rules: a.rules.clone(),
    };
    let calendar = load_calendar(&rule_data)?;
    let rules = load_rules(&rule_data)?;
    let log_format = a.log_format;
    init_log(log_format);
    {
        let mut store = open(db, Durability::Full)?;
        if demo
            && fill_demo(
                &mut *store,
                db,
                DEMO_FISCAL_YEAR,
                DEMO_COMPLAINTS,
                DEMO_SEED,
            )?
        {
            // A fresh demo log has no tokens yet: make one so that the API can be tried.
            let (id, token) = crate::commands::create_token(&*store, "admin", None, "demo")?;
            eprintln!("demo admin token {id} (shown only this once): {token}");
        }
    }
    let options = http_api::StartOptions {
        read_db: a.read_db.clone(),
        snapshots: snapshot_dir(a).map(|dir| http_api::SnapshotConfig {
            dir,
            every: a.snapshot_every,
        }),
    };
    let (state, writer_thread) =
        http_api::AppState::start_with(db.clone(), Durability::Full, calendar, rules, options)
            .with_context(|| format!("opening {}", db))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async move {
        let listener = match tokio::net::TcpListener::bind(addr).await {
            Ok(l) => l,
            Err(e) => bad_input!("cannot listen on {addr}: {e}"),
        };
        let local = listener.local_addr()?;
        tracing::info!(address = %local, db = %db, "listening");
        if log_format == LogFormat::Text {
            eprintln!("dashboard: http://{local}/dashboard");
        }
        http_api::serve(listener, state, shutdown_signal()).await?;
        tracing::info!("stopped accepting requests; finishing appends");
        anyhow::Ok(())
    })?;
    writer_thread
        .join()
        .map_err(|_| anyhow::anyhow!("the writer thread panicked"))?;
    tracing::info!("shut down");
    Ok(ExitCode::SUCCESS)
}

/// Where snapshots go: `--snapshots`, `none` for nowhere, by default beside a SQLite file.
fn snapshot_dir(a: &ServeArgs) -> Option<std::path::PathBuf> {
    match &a.snapshots {
        Some(d) if d.as_os_str() == "none" => None,
        Some(d) => Some(d.clone()),
        None => a.db.file().map(|f| {
            let mut name = f.as_os_str().to_owned();
            name.push(".snapshots");
            name.into()
        }),
    }
}

/// The server's log on standard error: lines for a terminal or `json` objects for a
/// collector; `RUST_LOG` filters it (default `info`).
fn init_log(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let log = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(filter);
    match format {
        LogFormat::Json => log.json().init(),
        LogFormat::Text => log
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .init(),
    }
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
