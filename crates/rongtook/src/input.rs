//! Reading what the user hands us: instants, calendars, databases, NDJSON.

use anyhow::Context;
use calendar::{Calendar, FiscalYear};
use chrono::{DateTime, FixedOffset};
use event_store::{Durability, Log};
use event_store_open::Location;

use crate::{bad_input, CalendarArgs};

/// An evaluation instant: RFC 3339 with an offset, or a local date `YYYY-MM-DD` meaning the
/// end of that day in Bangkok (23:59:59), in the years the calendar covers.
pub fn instant_arg(text: &str, cal: &Calendar) -> anyhow::Result<DateTime<FixedOffset>> {
    match read_model::parse_as_of(text, cal) {
        Ok(t) => Ok(t),
        Err(e @ read_model::AsOfError::Bad(_)) => bad_input!("{e}"),
        Err(e) => bad_input!("--as-of: {e}"),
    }
}

pub fn parse_fiscal_year(text: &str) -> anyhow::Result<FiscalYear> {
    match FiscalYear::parse(text) {
        Ok(fy) => Ok(fy),
        Err(e) => bad_input!("--fiscal-year: {e}"),
    }
}

pub fn load_calendar(args: &CalendarArgs) -> anyhow::Result<Calendar> {
    match &args.calendar {
        None => Ok(Calendar::builtin()),
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading calendar {}", path.display()))?;
            match Calendar::parse(&text) {
                Ok(c) => Ok(c),
                Err(e) => bad_input!("{}: {e}", path.display()),
            }
        }
    }
}

/// Opens an existing log; a missing file is bad input (we never create one by reading).
pub fn open_existing(db: &Location) -> anyhow::Result<Box<dyn Log>> {
    if !db.exists() {
        bad_input!("{db}: no such database (create one with `rongtook append` or `rongtook demo`)");
    }
    match event_store_open::open_existing(db, Durability::Full) {
        Ok(s) => Ok(s),
        Err(e @ event_store::StoreError::NotALog { .. }) => bad_input!("{e}"),
        Err(e) => Err(anyhow::Error::new(e).context(format!("opening {db}"))),
    }
}

/// Opens the log at `db`, creating it when needed.
pub fn open(db: &Location, durability: Durability) -> anyhow::Result<Box<dyn Log>> {
    match event_store_open::open(db, durability) {
        Ok(s) => Ok(s),
        Err(e @ event_store::StoreError::NotALog { .. }) => bad_input!("{e}"),
        Err(e) => Err(anyhow::Error::new(e).context(format!("opening {db}"))),
    }
}

pub fn load_rules(args: &CalendarArgs) -> anyhow::Result<projections::DeadlineRules> {
    match &args.rules {
        None => Ok(projections::DeadlineRules::default()),
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading rules {}", path.display()))?;
            match projections::DeadlineRules::from_json(&text) {
                Ok(r) => Ok(r),
                Err(e) => bad_input!("rules {}: {e}", path.display()),
            }
        }
    }
}
