//! `rongtook traffy sync`: the platform's exchange API into the log (`http_api::traffy_sync`
//! does the work; this parses, opens the log and renders).

use event_store_open::Location;
use std::process::ExitCode;
use std::time::Duration;

use http_api::traffy_sync::{sync, SyncError, SyncOptions, Window};

use crate::commands::{now, progress_bar};
use crate::input::open;
use crate::{bad_input, BadInput};

#[derive(clap::Subcommand)]
pub enum Action {
    /// Log in to the exchange API, list the tickets active lately (`get-issues/v2`), read each
    /// one whose `last_activity` is later than what the log holds (`get-issue/v2`) and append
    /// what its timeline adds, at the timeline's exact times. Running it again adds nothing new.
    Sync {
        #[arg(long)]
        db: Location,
        /// The API's base, e.g. https://publicapi.traffy.in.th/exchange-api
        #[arg(long)]
        base_url: String,
        #[arg(long, env = "TRAFFY_USER")]
        user: String,
        /// The password (better given in the environment, as TRAFFY_PASS).
        #[arg(long, env = "TRAFFY_PASS", hide_env_values = true)]
        pass: String,
        /// Which tickets to list: `today` (active within a day) or `3days`.
        #[arg(long, default_value = "today")]
        duration: String,
        /// Organisations to list, one call each (comma-separated ids); none: all the account
        /// sees, in one call.
        #[arg(long, value_delimiter = ',')]
        org_id: Vec<String>,
        /// The longest one call may take, in seconds.
        #[arg(long, default_value_t = 60)]
        timeout: u64,
    },
}

pub fn run(action: Action) -> anyhow::Result<ExitCode> {
    let Action::Sync {
        db,
        base_url,
        user,
        pass,
        duration,
        org_id,
        timeout,
    } = action;
    let Some(window) = Window::parse(&duration) else {
        bad_input!("--duration: `{duration}` is not today or 3days");
    };
    if !(base_url.starts_with("http://") || base_url.starts_with("https://")) {
        bad_input!("--base-url: `{base_url}` is not an http:// or https:// address");
    }
    let opts = SyncOptions {
        base_url,
        user,
        pass,
        window,
        org_ids: org_id
            .into_iter()
            .filter(|o| !o.trim().is_empty())
            .collect(),
        timeout: Duration::from_secs(timeout.max(1)),
    };
    let mut store = open(&db, event_store::Durability::Full)?;
    let pb = progress_bar(None, "reading tickets");
    let result = sync(&mut *store, &opts, now(), &mut |done, total| {
        pb.set_length(total as u64);
        pb.set_position(done as u64);
    });
    pb.finish_and_clear();
    let report = match result {
        Ok(r) => r,
        Err(e @ SyncError::Login { .. }) => {
            return Err(anyhow::Error::new(BadInput(e.to_string())))
        }
        Err(e) => return Err(anyhow::Error::new(e).context("syncing with the exchange API")),
    };
    for w in &report.warnings {
        eprintln!("warning: {w}");
    }
    for (ticket, why) in &report.refused {
        eprintln!("refused: ticket {ticket}: {why}");
    }
    println!(
        "listed {}: {} already current, {} read; {} events appended to {} tickets; {} refused",
        report.listed,
        report.current,
        report.read,
        report.events_appended,
        report.tickets_appended,
        report.refused.len()
    );
    if let Some(c) = &report.credit_balance {
        println!("credit balance: {c}");
    }
    Ok(ExitCode::SUCCESS)
}
