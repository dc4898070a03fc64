//! Times as the sources write them, read without inventing precision: an instant the record
//! holds exactly is exact; a time without a zone, without seconds or without a time of day is
//! a range that holds every reading the text allows.

use chrono::{DateTime, Duration, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeZone};

/// An instant as far as the data knows it: in (`after`, `at`], or exactly `at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub at: DateTime<FixedOffset>,
    pub after: Option<DateTime<FixedOffset>>,
}

impl Span {
    pub fn exact(at: DateTime<FixedOffset>) -> Span {
        Span { at, after: None }
    }

    /// The earliest instant it may be (just after `after`, taken as `after` itself for bounds).
    pub fn lo(&self) -> DateTime<FixedOffset> {
        self.after.unwrap_or(self.at)
    }

    pub fn is_exact(&self) -> bool {
        self.after.is_none()
    }
}

/// Bangkok's offset, +07:00 all year.
pub fn bangkok() -> FixedOffset {
    FixedOffset::east_opt(7 * 3600).expect("valid offset")
}

fn utc() -> FixedOffset {
    FixedOffset::east_opt(0).expect("valid offset")
}

/// What a time without an offset means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Zone {
    /// Known: the exchange API and the web pages give Bangkok time; a user may say which.
    Known(FixedOffset),
    /// Not stated: the export may have been re-saved in UTC or in Bangkok time, so the time is
    /// the range between the two readings.
    Unknown,
}

/// A wall-clock time read in a zone, `precision` wide (a minute when the seconds are missing).
fn wall(local: NaiveDateTime, zone: Zone, precision: Duration) -> Option<Span> {
    // Only years an RFC 3339 instant can write (a damaged file may hold `-0023`).
    if !(1..=9999).contains(&chrono::Datelike::year(&local)) {
        return None;
    }
    let (first, last) = match zone {
        Zone::Known(z) => {
            let t = z.from_local_datetime(&local).single()?;
            (t, t)
        }
        // Bangkok's reading is 7 hours earlier than UTC's.
        Zone::Unknown => (
            bangkok().from_local_datetime(&local).single()?,
            utc().from_local_datetime(&local).single()?,
        ),
    };
    let last = last + precision - Duration::seconds(1).min(precision);
    if first == last && precision <= Duration::seconds(1) {
        return Some(Span::exact(first));
    }
    Some(Span {
        at: last.max(first),
        after: Some(first - Duration::seconds(1)),
    })
}

/// The platform's times: `2023-05-12 13:27:54.482138+00` (UTC, exact), RFC 3339, or the same
/// without an offset (`2025-05-06 13:49:12`, read in `zone`), or a spreadsheet's re-save
/// `26/11/2023 17:19` (day first, to the minute).
pub fn parse_platform(s: &str, zone: Zone) -> Option<Span> {
    let t = s.trim();
    if t.is_empty() {
        return None;
    }
    let mut norm = t.replacen(' ', "T", 1);
    // `+00` / `+07` offsets without minutes.
    if let Some(tail) = norm.get(norm.len().saturating_sub(3)..) {
        if (tail.starts_with('+') || tail.starts_with('-'))
            && tail[1..].bytes().all(|b| b.is_ascii_digit())
        {
            norm.push_str(":00");
        }
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(&norm) {
        return Some(Span::exact(t));
    }
    for f in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S"] {
        if let Ok(n) = NaiveDateTime::parse_from_str(&norm, f) {
            return wall(n, zone, Duration::zero());
        }
    }
    for f in ["%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M"] {
        if let Ok(n) = NaiveDateTime::parse_from_str(t, f) {
            let precision = if f.ends_with("%S") {
                Duration::zero()
            } else {
                Duration::minutes(1)
            };
            return wall(n, zone, precision);
        }
    }
    None
}

/// Thai month names and abbreviations, January first.
const THAI_MONTHS: [(&str, &str); 12] = [
    ("มกราคม", "ม.ค."),
    ("กุมภาพันธ์", "ก.พ."),
    ("มีนาคม", "มี.ค."),
    ("เมษายน", "เม.ย."),
    ("พฤษภาคม", "พ.ค."),
    ("มิถุนายน", "มิ.ย."),
    ("กรกฎาคม", "ก.ค."),
    ("สิงหาคม", "ส.ค."),
    ("กันยายน", "ก.ย."),
    ("ตุลาคม", "ต.ค."),
    ("พฤศจิกายน", "พ.ย."),
    ("ธันวาคม", "ธ.ค."),
];

/// A Thai date as the web pages write it: `6 ธ.ค. 67`, `3-ธ.ค.-67`, `21 เมษายน 68`
/// (Buddhist era, two or four digits).
pub fn parse_thai_date(s: &str) -> Option<NaiveDate> {
    let parts: Vec<&str> = s
        .split(|c: char| c == '-' || c.is_whitespace())
        .filter(|p| !p.is_empty())
        .collect();
    let [day, month, year] = parts[..] else {
        return None;
    };
    let day: u32 = day.parse().ok()?;
    let month = THAI_MONTHS.iter().position(|(full, abbr)| {
        month == *full || month == *abbr || month == abbr.trim_end_matches('.')
    })? as u32
        + 1;
    let year: i32 = year.parse().ok()?;
    let be = if year < 100 { 2500 + year } else { year };
    NaiveDate::from_ymd_opt(be - 543, month, day)
}

/// A Thai date and a time of day (`09:00 น.`) in Bangkok time, to the minute; the whole day
/// when there is no time.
pub fn parse_thai_moment(date: &str, time: Option<&str>) -> Option<Span> {
    let d = parse_thai_date(date)?;
    let time = time
        .map(|t| t.trim().trim_end_matches("น.").trim())
        .filter(|t| !t.is_empty());
    match time {
        Some(t) => {
            let hm = NaiveTime::parse_from_str(t, "%H:%M")
                .or_else(|_| NaiveTime::parse_from_str(t, "%H.%M"))
                .ok()?;
            wall(d.and_time(hm), Zone::Known(bangkok()), Duration::minutes(1))
        }
        None => wall(
            d.and_time(NaiveTime::MIN),
            Zone::Known(bangkok()),
            Duration::days(1),
        ),
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_year_rfc_3339_cannot_write_is_not_a_time() {
        // Found by fuzzing: a negative year read without an offset.
        assert_eq!(parse_platform("-0023-11-28 20:56:59", Zone::Unknown), None);
        assert!(parse_platform("2023-11-28 20:56:59", Zone::Unknown).is_some());
    }

    #[test]
    fn a_time_ending_in_thai_letters_is_not_a_time() {
        // Found by fuzzing: the offset check sliced inside a multi-byte character.
        assert_eq!(
            parse_platform("2023-04-08T12:26:48.2มห00", Zone::Unknown),
            None
        );
        assert_eq!(parse_platform("ง0", Zone::Unknown), None);
    }

    use super::*;

    fn t(s: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(s).unwrap()
    }

    #[test]
    fn platform_times() {
        let s = parse_platform("2023-05-12 13:27:54.482138+00", Zone::Unknown).unwrap();
        assert_eq!(s, Span::exact(t("2023-05-12T13:27:54.482138Z")));
        // The exchange API: Bangkok time without an offset.
        let s = parse_platform("2026-08-27 22:15:33.416627", Zone::Known(bangkok())).unwrap();
        assert_eq!(s, Span::exact(t("2026-08-27T22:15:33.416627+07:00")));
        // No zone stated: between the Bangkok and the UTC reading.
        let s = parse_platform("2025-05-06 13:49:12", Zone::Unknown).unwrap();
        assert_eq!(s.at, t("2025-05-06T13:49:12Z"));
        assert_eq!(s.after, Some(t("2025-05-06T13:49:11+07:00")));
        // A spreadsheet's re-save: day first, to the minute, no zone.
        let s = parse_platform("26/11/2023 17:19", Zone::Unknown).unwrap();
        assert_eq!(s.at, t("2023-11-26T17:19:59Z"));
        assert_eq!(s.after, Some(t("2023-11-26T17:18:59+07:00")));
        let s = parse_platform("26/11/2023 17:19", Zone::Known(bangkok())).unwrap();
        assert_eq!(
            (s.after, s.at),
            (
                Some(t("2023-11-26T17:18:59+07:00")),
                t("2023-11-26T17:19:59+07:00")
            )
        );
        assert!(parse_platform("yesterday", Zone::Unknown).is_none());
        assert!(parse_platform("", Zone::Unknown).is_none());
    }

    #[test]
    fn thai_dates() {
        let d = |y, m, dd| NaiveDate::from_ymd_opt(y, m, dd).unwrap();
        assert_eq!(parse_thai_date("6 ธ.ค. 67"), Some(d(2024, 12, 6)));
        assert_eq!(parse_thai_date("3-ธ.ค.-67"), Some(d(2024, 12, 3)));
        assert_eq!(parse_thai_date("21 เมษายน 68"), Some(d(2025, 4, 21)));
        assert_eq!(parse_thai_date("21 เมษายน 2568"), Some(d(2025, 4, 21)));
        assert_eq!(parse_thai_date("31 ก.พ. 67"), None);
        let s = parse_thai_moment("3-ธ.ค.-67", Some("09:00 น.")).unwrap();
        assert_eq!(
            (s.after, s.at),
            (
                Some(t("2024-12-03T08:59:59+07:00")),
                t("2024-12-03T09:00:59+07:00")
            )
        );
        let s = parse_thai_moment("21 เมษายน 68", None).unwrap();
        assert_eq!(
            (s.after, s.at),
            (
                Some(t("2025-04-20T23:59:59+07:00")),
                t("2025-04-21T23:59:59+07:00")
            )
        );
    }
}
