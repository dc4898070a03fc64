//! Instants as users write them, parsed one way for every entry point.

use calendar::bangkok;
use chrono::{DateTime, FixedOffset, NaiveDate, TimeZone};

/// Text that is not an instant.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not an instant: give RFC 3339 with an offset (2024-03-01T17:00:00+07:00) or a date (2024-03-01)")]
pub struct BadInstant(pub String);

/// An evaluation instant: RFC 3339 with an offset, or a local date `YYYY-MM-DD` meaning the
/// end of that day in Bangkok (23:59:59).
pub fn parse_instant(text: &str) -> Result<DateTime<FixedOffset>, BadInstant> {
    let text = text.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t);
    }
    if let Ok(d) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        if let Some(t) = d
            .and_hms_opt(23, 59, 59)
            .and_then(|t| bangkok().from_local_datetime(&t).single())
        {
            return Ok(t);
        }
    }
    Err(BadInstant(text.to_string()))
}

/// An evaluation instant the holiday calendar cannot judge deadlines at.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{at} is outside the years the holiday calendar covers ({first}-{last}): deadlines there cannot be judged")]
pub struct OutsideCalendar {
    pub at: String,
    pub first: i32,
    pub last: i32,
}

/// Refuses an evaluation instant outside the years the calendar covers: business days there
/// are unknown, and an instant centuries ahead would list every R3 checkpoint until then.
pub fn check_covered(
    at: DateTime<FixedOffset>,
    cal: &calendar::Calendar,
) -> Result<(), OutsideCalendar> {
    let (first, last) = cal.covered_years();
    if cal.covers(calendar::local_date(&at)) {
        Ok(())
    } else {
        Err(OutsideCalendar {
            at: event_model::format_instant(&at),
            first,
            last,
        })
    }
}

/// Why an evaluation instant a user wrote cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AsOfError {
    #[error(transparent)]
    Bad(#[from] BadInstant),
    #[error(transparent)]
    Outside(#[from] OutsideCalendar),
}

/// An evaluation instant as a user writes it ([`parse_instant`]), in the years the calendar
/// covers ([`check_covered`]): the one rule for which instants may be asked.
pub fn parse_as_of(
    text: &str,
    cal: &calendar::Calendar,
) -> Result<DateTime<FixedOffset>, AsOfError> {
    let at = parse_instant(text)?;
    check_covered(at, cal)?;
    Ok(at)
}

/// An instant after every event: a fold as of it takes the whole log.
pub fn end_of_time() -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339("9999-12-31T23:59:59+07:00").expect("valid")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_the_end_of_the_day_in_bangkok() {
        assert_eq!(
            parse_instant("2024-03-01").unwrap().to_rfc3339(),
            "2024-03-01T23:59:59+07:00"
        );
        assert_eq!(
            parse_instant("2024-03-01T17:00:00Z").unwrap().to_rfc3339(),
            "2024-03-01T17:00:00+00:00"
        );
        assert!(parse_instant("2024-02-30").is_err());
        assert!(parse_instant("yesterday").is_err());
        assert!(parse_instant("2024-03-01T17:00:00").is_err());
    }
}
