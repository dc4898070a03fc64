//! `rongtook traffy sync`: the platform's exchange API read as a client. Logs in
//! (`get-auth/v1`), lists the tickets active lately (`get-issues/v2?duration=today|3days`, once
//! per organisation asked for), reads each ticket whose `last_activity` is later than what the
//! log holds (`get-issue/v2`) and appends what its timeline adds (`traffy::exchange`), one
//! atomic batch per ticket. Times without an offset are Bangkok time. An expired token is
//! renewed once per call; a quota warning is reported and the sync goes on; an exhausted quota
//! stops it, keeping what was appended.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, FixedOffset};
use event_store::{AppendError, AppendErrorKind, EventStore, StoreError};
use serde_json::{json, Value};

/// The documented cap of one `get-issues/v2` answer.
pub const LIST_CAP: usize = 5_000;

/// Which tickets the platform lists: those active within a day or three.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    Today,
    ThreeDays,
}

impl Window {
    pub fn parse(s: &str) -> Option<Window> {
        match s {
            "today" => Some(Window::Today),
            "3days" => Some(Window::ThreeDays),
            _ => None,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Window::Today => "today",
            Window::ThreeDays => "3days",
        }
    }
}

/// Where and as whom to sync.
#[derive(Debug, Clone)]
pub struct SyncOptions {
    /// The API's base, e.g. `https://publicapi.traffy.in.th/exchange-api`.
    pub base_url: String,
    pub user: String,
    pub pass: String,
    pub window: Window,
    /// Organisations to list, one call each (none: one call for all the account sees).
    pub org_ids: Vec<String>,
    /// The longest any one call may take.
    pub timeout: Duration,
}

/// What a sync did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncReport {
    /// Distinct tickets listed.
    pub listed: usize,
    /// Listed tickets the log already holds up to their `last_activity` (not read).
    pub current: usize,
    /// Tickets read with `get-issue/v2`.
    pub read: usize,
    /// Tickets that gained events, and how many events.
    pub tickets_appended: usize,
    pub events_appended: u64,
    /// Tickets whose read the log could not take: (ticket, reason).
    pub refused: Vec<(String, String)>,
    /// The platform's warnings (e.g. the quota running low), each once.
    pub warnings: Vec<String>,
    /// Log-ins made (more than one when a token expired).
    pub logins: usize,
    /// The credit balance of the last answer, as the platform wrote it.
    pub credit_balance: Option<String>,
}

/// Why a sync stopped. Whatever was appended before it stays.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("{call}: {detail}")]
    Transport { call: String, detail: String },
    #[error("logging in: the platform refused: {message}")]
    Login { message: String },
    #[error("{call}: the platform refused: {message}")]
    Refused { call: String, message: String },
    #[error("{call}: the API usage quota is used up ({message}); the sync stopped, and what it appended before stays")]
    Quota { call: String, message: String },
    #[error("{call}: {detail}")]
    Answer { call: String, detail: String },
    #[error("the log: {0}")]
    Store(#[from] StoreError),
}

/// A logged-in client of the exchange API.
struct Client<'a> {
    agent: ureq::Agent,
    opts: &'a SyncOptions,
    token: Option<String>,
    report: &'a mut SyncReport,
}

impl Client<'_> {
    fn url(&self, path: &str) -> String {
        format!("{}/{path}", self.opts.base_url.trim_end_matches('/'))
    }

    /// The answer's JSON envelope, whatever the HTTP status (the platform says what went
    /// wrong in `message`).
    fn envelope(
        call: &str,
        answer: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> Result<Value, SyncError> {
        let mut answer = answer.map_err(|e| SyncError::Transport {
            call: call.to_string(),
            detail: e.to_string(),
        })?;
        let status = answer.status();
        let text = answer
            .body_mut()
            .read_to_string()
            .map_err(|e| SyncError::Transport {
                call: call.to_string(),
                detail: format!("reading the answer: {e}"),
            })?;
        match serde_json::from_str::<Value>(&text) {
            Ok(v @ Value::Object(_)) => Ok(v),
            _ => Err(SyncError::Answer {
                call: call.to_string(),
                detail: format!(
                    "HTTP {status}, and the answer is not the API's JSON envelope: {}",
                    text.chars().take(200).collect::<String>()
                ),
            }),
        }
    }

    fn log_in(&mut self) -> Result<(), SyncError> {
        let call = "get-auth/v1";
        let answer = self
            .agent
            .post(&self.url(call))
            .send_json(json!({"user": self.opts.user, "pass": self.opts.pass}));
        let v = Self::envelope(call, answer)?;
        let v = self.checked(call, v).map_err(|e| match e {
            SyncError::Refused { message, .. } => SyncError::Login { message },
            other => other,
        })?;
        let results = match v.get("results") {
            Some(Value::Array(a)) => a.first(),
            other => other,
        };
        let token = results
            .and_then(|r| r.get("token"))
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| SyncError::Answer {
                call: call.to_string(),
                detail: "the answer holds no `results.token`".into(),
            })?;
        self.token = Some(token.to_string());
        self.report.logins += 1;
        Ok(())
    }

    /// The envelope's verdict: `fail` is an error (the quota's own kind), `warning` is noted.
    fn checked(&mut self, call: &str, v: Value) -> Result<Value, SyncError> {
        let message = v
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        if let Some(c) = v.get("credit_balance").filter(|c| !c.is_null()) {
            self.report.credit_balance = Some(match c {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            });
        }
        match v.get("status").and_then(Value::as_str) {
            Some("fail") if message.contains("quota") => Err(SyncError::Quota {
                call: call.to_string(),
                message,
            }),
            Some("fail") => Err(SyncError::Refused {
                call: call.to_string(),
                message,
            }),
            Some("warning") => {
                if !self.report.warnings.contains(&message) {
                    self.report.warnings.push(message);
                }
                Ok(v)
            }
            _ => Ok(v),
        }
    }

    /// A `GET` with the token; a token the platform calls expired or invalid is renewed once.
    fn get(&mut self, call: &str, query: &[(&str, &str)]) -> Result<Value, SyncError> {
        if self.token.is_none() {
            self.log_in()?;
        }
        let mut renewed = false;
        loop {
            let mut request = self.agent.get(&self.url(call)).header(
                "Authorization",
                format!("Bearer {}", self.token.as_deref().unwrap_or("")),
            );
            for (k, v) in query {
                request = request.query(*k, *v);
            }
            let v = Self::envelope(call, request.call())?;
            match self.checked(call, v) {
                Err(SyncError::Refused { message, .. }) if !renewed && token_refused(&message) => {
                    renewed = true;
                    self.log_in()?;
                }
                other => return other,
            }
        }
    }
}

/// The platform's messages for a token it no longer takes.
fn token_refused(message: &str) -> bool {
    message.contains("token has expired") || message.contains("Invalid token")
}

/// Syncs the log with the platform: see the module's documentation. `progress` is told
/// (tickets done, tickets to read) as the reads go.
pub fn sync<S: EventStore + ?Sized>(
    store: &mut S,
    opts: &SyncOptions,
    recorded_at: DateTime<FixedOffset>,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<SyncReport, SyncError> {
    let mut report = SyncReport::default();
    let agent = ureq::Agent::new_with_config(
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(opts.timeout))
            .build(),
    );
    let mut client = Client {
        agent,
        opts,
        token: None,
        report: &mut report,
    };
    client.log_in()?;
    // The tickets listed, each with its latest activity.
    let mut listed: BTreeMap<String, Option<DateTime<FixedOffset>>> = BTreeMap::new();
    let orgs: Vec<Option<&str>> = if opts.org_ids.is_empty() {
        vec![None]
    } else {
        opts.org_ids.iter().map(|o| Some(o.as_str())).collect()
    };
    for org in orgs {
        let call = "get-issues/v2";
        let mut query = vec![("duration", opts.window.as_str())];
        if let Some(o) = org {
            query.push(("org_id", o));
        }
        let v = client.get(call, &query)?;
        let rows: Vec<&Value> = match v.get("results") {
            Some(Value::Array(a)) => a.iter().collect(),
            Some(Value::Object(_)) => vec![&v["results"]],
            Some(Value::Null) | None => vec![],
            Some(_) => {
                return Err(SyncError::Answer {
                    call: call.into(),
                    detail: "`results` is neither a list nor a ticket".into(),
                })
            }
        };
        if rows.len() >= LIST_CAP {
            client.report.warnings.push(format!(
                "{call}{}: {} tickets, the most one answer holds: some may be missing; sync more often, or per organisation (--org-id)",
                org.map(|o| format!(" (org_id {o})")).unwrap_or_default(),
                rows.len()
            ));
        }
        for row in rows {
            let Some(id) = row
                .get("ticket_id")
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|s| !s.is_empty())
            else {
                client.report.refused.push((
                    String::new(),
                    format!("a ticket listed by {call} has no ticket_id"),
                ));
                continue;
            };
            let activity = row
                .get("last_activity")
                .and_then(Value::as_str)
                .and_then(traffy::exchange::instant);
            let seen = listed.entry(id.to_string()).or_insert(activity);
            *seen = (*seen).max(activity);
        }
    }
    client.report.listed = listed.len();
    // The tickets whose latest activity the log does not hold yet.
    let mut to_read = Vec::new();
    for (id, activity) in listed {
        let stored = store.read_stream(&traffy::stream_of(&id))?;
        let prior = traffy::Prior::of(&stored);
        let current = match (&prior, activity) {
            (Some(p), Some(a)) => a <= p.last_at,
            _ => false,
        };
        if current {
            client.report.current += 1;
        } else {
            to_read.push(id);
        }
    }
    let districts = crate::connectors::districts();
    let total = to_read.len();
    for (done, id) in to_read.into_iter().enumerate() {
        progress(done, total);
        let v = client.get("get-issue/v2", &[("ticket_id", &id)])?;
        client.report.read += 1;
        let Some(issue) = traffy::exchange::issue_of(&v) else {
            client
                .report
                .refused
                .push((id, "get-issue/v2 answered without the ticket".into()));
            continue;
        };
        let stored = store.read_stream(&traffy::stream_of(&id))?;
        let known: std::collections::HashSet<_> = stored.iter().map(|e| e.id).collect();
        let prior = traffy::Prior::of(&stored);
        let events = match traffy::exchange::events_after(issue, prior.as_ref(), &districts) {
            Ok(events) => events,
            Err(why) => {
                client.report.refused.push((id, why));
                continue;
            }
        };
        let new: Vec<_> = events
            .into_iter()
            .filter(|e| !known.contains(&e.id))
            .collect();
        if new.is_empty() {
            continue;
        }
        match store.append(&new, recorded_at) {
            Ok(r) => {
                if r.appended > 0 {
                    client.report.tickets_appended += 1;
                    client.report.events_appended += r.appended;
                }
            }
            Err(AppendError {
                kind: AppendErrorKind::Store(e),
                ..
            }) => return Err(SyncError::Store(e)),
            Err(e) => client.report.refused.push((id, e.to_string())),
        }
    }
    progress(total, total);
    Ok(report)
}
