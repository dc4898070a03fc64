//! Business days of Thai government offices, Bangkok local dates, fiscal years and
//! Buddhist-era years.
//!
//! The holiday list is data: the built-in file (`data/th-government-holidays.txt`) is compiled
//! in, and a user may supply their own text in the same format ([`Calendar::parse`]). This crate
//! never reads files, the clock or a random source: the caller hands it text and instants.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveDate, TimeZone, Weekday};
use sha2::{Digest, Sha256};

/// The built-in holiday file.
pub const BUILTIN_HOLIDAYS: &str = include_str!("../data/th-government-holidays.txt");

/// Bangkok is UTC+07:00 all year (no daylight saving).
pub const BANGKOK_OFFSET_SECONDS: i32 = 7 * 3600;

/// Offset of Buddhist-era years: B.E. = C.E. + 543.
pub const BUDDHIST_ERA_OFFSET: i32 = 543;

/// A year number above this is read as Buddhist era.
pub const BUDDHIST_ERA_THRESHOLD: i32 = 2400;

/// The Asia/Bangkok offset.
pub fn bangkok() -> FixedOffset {
    FixedOffset::east_opt(BANGKOK_OFFSET_SECONDS).expect("valid offset")
}

/// The local (Asia/Bangkok) date of an instant.
pub fn local_date<Tz: TimeZone>(instant: &DateTime<Tz>) -> NaiveDate {
    instant.with_timezone(&bangkok()).date_naive()
}

/// The first instant of a local date in Bangkok.
pub fn start_of_local_day(date: NaiveDate) -> DateTime<FixedOffset> {
    bangkok()
        .from_local_datetime(&date.and_hms_opt(0, 0, 0).expect("midnight"))
        .single()
        .expect("fixed offset has no gaps")
}

/// Why a calendar text or a year could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    #[error("calendar line {line}: {message}")]
    Syntax { line: usize, message: String },
    #[error("calendar has no `# covers: FIRST-LAST` line")]
    NoCoverage,
    #[error("{0}")]
    Year(String),
}

/// A business-day calendar: weekends plus a list of holidays over a covered range of years.
#[derive(Debug, Clone)]
pub struct Calendar {
    holidays: BTreeMap<NaiveDate, String>,
    first_year: i32,
    last_year: i32,
    version: String,
    /// Bit per day from 1 January of `first_year`: true when a business day.
    business: Vec<bool>,
    origin: NaiveDate,
}

impl Calendar {
    /// The compiled-in Thai government-office calendar.
    pub fn builtin() -> Calendar {
        Calendar::parse(BUILTIN_HOLIDAYS).expect("built-in calendar parses")
    }

    /// Parses a holiday file: `YYYY-MM-DD<TAB or spaces>name` lines, `#` comments, and one
    /// `# covers: FIRST-LAST` line giving the years the list is complete for.
    pub fn parse(text: &str) -> Result<Calendar, CalendarError> {
        let mut holidays = BTreeMap::new();
        let mut covers = None;
        for (i, raw) in text.lines().enumerate() {
            let line_no = i + 1;
            let line = raw.trim();
            if line.is_empty() {
                continue;
            }
            if let Some(comment) = line.strip_prefix('#') {
                if let Some(range) = comment.trim().strip_prefix("covers:") {
                    let (a, b) = range.trim().split_once('-').ok_or(CalendarError::Syntax {
                        line: line_no,
                        message: format!("expected `covers: FIRST-LAST`, found `{}`", range.trim()),
                    })?;
                    let parse = |s: &str| {
                        s.trim().parse::<i32>().map_err(|_| CalendarError::Syntax {
                            line: line_no,
                            message: format!("`{}` is not a year", s.trim()),
                        })
                    };
                    let (a, b) = (parse(a)?, parse(b)?);
                    if a > b || a < 1900 || b > 2200 {
                        return Err(CalendarError::Syntax {
                            line: line_no,
                            message: format!("covered range {a}-{b} is not a C.E. range"),
                        });
                    }
                    covers = Some((a, b));
                }
                continue;
            }
            let (date, name) = match line.split_once(['\t', ' ']) {
                Some((d, n)) => (d, n.trim()),
                None => (line, ""),
            };
            let date =
                NaiveDate::parse_from_str(date, "%Y-%m-%d").map_err(|_| CalendarError::Syntax {
                    line: line_no,
                    message: format!("`{date}` is not a date YYYY-MM-DD"),
                })?;
            holidays.insert(date, name.to_string());
        }
        let (first_year, last_year) = covers.ok_or(CalendarError::NoCoverage)?;
        if let Some((d, _)) = holidays
            .iter()
            .find(|(d, _)| d.year() < first_year || d.year() > last_year)
        {
            return Err(CalendarError::Syntax {
                line: 0,
                message: format!(
                    "holiday {d} lies outside the covered years {first_year}-{last_year}"
                ),
            });
        }
        let version = {
            let mut h = Sha256::new();
            for d in holidays.keys() {
                h.update(d.to_string().as_bytes());
                h.update(b"\n");
            }
            h.update(format!("{first_year}-{last_year}").as_bytes());
            let digest = h.finalize();
            let hex: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
            format!("th-gov-{first_year}-{last_year}-{hex}")
        };
        // Precompute business days for the covered years plus one year each side, so that
        // deadlines near the edges still resolve.
        let origin = NaiveDate::from_ymd_opt(first_year - 1, 1, 1).expect("valid");
        let end = NaiveDate::from_ymd_opt(last_year + 2, 1, 1).expect("valid");
        let days = (end - origin).num_days() as usize;
        let mut business = Vec::with_capacity(days);
        let mut d = origin;
        for _ in 0..days {
            business.push(is_weekday(d) && !holidays.contains_key(&d));
            d = d.succ_opt().expect("in range");
        }
        Ok(Calendar {
            holidays,
            first_year,
            last_year,
            version,
            business,
            origin,
        })
    }

    /// A short identifier of this calendar's content (covered years and a content hash).
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The years (C.E.) the holiday list is complete for.
    pub fn covered_years(&self) -> (i32, i32) {
        (self.first_year, self.last_year)
    }

    /// Whether `date` lies in the covered years.
    pub fn covers(&self, date: NaiveDate) -> bool {
        (self.first_year..=self.last_year).contains(&date.year())
    }

    /// The holiday name of a date, if it is a holiday.
    pub fn holiday(&self, date: NaiveDate) -> Option<&str> {
        self.holidays.get(&date).map(String::as_str)
    }

    /// Holidays in the calendar, in date order.
    pub fn holidays(&self) -> impl Iterator<Item = (NaiveDate, &str)> {
        self.holidays.iter().map(|(d, n)| (*d, n.as_str()))
    }

    /// Monday to Friday and not a government-office holiday. Outside the covered years only
    /// weekends are known.
    pub fn is_business_day(&self, date: NaiveDate) -> bool {
        let idx = (date - self.origin).num_days();
        if idx >= 0 && (idx as usize) < self.business.len() {
            self.business[idx as usize]
        } else {
            is_weekday(date)
        }
    }

    /// The `n`-th business day strictly after `date` ("within n business days counted from the
    /// day after `date`"). With `n == 0` it is `date` itself.
    pub fn nth_business_day_after(&self, date: NaiveDate, n: u32) -> NaiveDate {
        let mut d = date;
        let mut left = n;
        while left > 0 {
            d = d.succ_opt().expect("date in range");
            if self.is_business_day(d) {
                left -= 1;
            }
        }
        d
    }
}

fn is_weekday(d: NaiveDate) -> bool {
    !matches!(d.weekday(), Weekday::Sat | Weekday::Sun)
}

/// A fiscal year, held as its Common-Era number: FY N runs 1 October N-1 to 30 September N.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FiscalYear(i32);

impl FiscalYear {
    /// From a C.E. year number.
    pub fn from_ce(year: i32) -> FiscalYear {
        FiscalYear(year)
    }

    /// Reads `2567` (B.E., above 2400) or `2024` (C.E.), optionally prefixed `FY`.
    pub fn parse(text: &str) -> Result<FiscalYear, CalendarError> {
        let t = text.trim();
        let t = t
            .strip_prefix("FY")
            .or_else(|| t.strip_prefix("fy"))
            .unwrap_or(t)
            .trim();
        let n: i32 = t.parse().map_err(|_| {
            CalendarError::Year(format!("`{text}` is not a fiscal year (e.g. 2567 or 2024)"))
        })?;
        let ce = if n > BUDDHIST_ERA_THRESHOLD {
            n - BUDDHIST_ERA_OFFSET
        } else {
            n
        };
        if !(1900..=2200).contains(&ce) {
            return Err(CalendarError::Year(format!(
                "fiscal year `{text}` is out of range"
            )));
        }
        Ok(FiscalYear(ce))
    }

    /// The fiscal year a local date belongs to.
    pub fn of_date(date: NaiveDate) -> FiscalYear {
        if date.month() >= 10 {
            FiscalYear(date.year() + 1)
        } else {
            FiscalYear(date.year())
        }
    }

    pub fn ce(self) -> i32 {
        self.0
    }

    pub fn be(self) -> i32 {
        self.0 + BUDDHIST_ERA_OFFSET
    }

    /// 1 October of the previous year.
    pub fn first_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.0 - 1, 10, 1).expect("valid")
    }

    /// 30 September.
    pub fn last_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.0, 9, 30).expect("valid")
    }

    pub fn contains(self, date: NaiveDate) -> bool {
        date >= self.first_day() && date <= self.last_day()
    }

    /// Quarter 1..=4 of a date in this fiscal year (Q1 Oct-Dec ... Q4 Jul-Sep).
    pub fn quarter_of(date: NaiveDate) -> u32 {
        match date.month() {
            10..=12 => 1,
            1..=3 => 2,
            4..=6 => 3,
            _ => 4,
        }
    }

    /// The first instant after the fiscal year, Bangkok time (1 October 00:00 +07:00).
    pub fn end_instant(self) -> DateTime<FixedOffset> {
        start_of_local_day(self.last_day() + Duration::days(1))
    }
}

impl fmt::Display for FiscalYear {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FY{} (B.E. {})", self.0, self.be())
    }
}

/// The R3 follow-up checkpoint dates of a month: the 15th and the 30th; in February the 15th
/// and the last day of the month.
/// A date's month as `YYYY-MM`, the one form months are written in.
pub fn month_of(date: NaiveDate) -> String {
    format!("{:04}-{:02}", date.year(), date.month())
}

pub fn checkpoints_of_month(year: i32, month: u32) -> [NaiveDate; 2] {
    let fifteenth = NaiveDate::from_ymd_opt(year, month, 15).expect("valid");
    let second = if month == 2 {
        last_day_of_month(year, month)
    } else {
        NaiveDate::from_ymd_opt(year, month, 30).expect("every month but February has a 30th")
    };
    [fifteenth, second]
}

/// The last day of a month.
pub fn last_day_of_month(year: i32, month: u32) -> NaiveDate {
    let (ny, nm) = if month == 12 {
        (year + 1, 1)
    } else {
        (year, month + 1)
    };
    NaiveDate::from_ymd_opt(ny, nm, 1).expect("valid") - Duration::days(1)
}

/// The first checkpoint date strictly after `date`.
pub fn next_checkpoint_after(date: NaiveDate) -> NaiveDate {
    let (mut y, mut m) = (date.year(), date.month());
    loop {
        for c in checkpoints_of_month(y, m) {
            if c > date {
                return c;
            }
        }
        if m == 12 {
            y += 1;
            m = 1;
        } else {
            m += 1;
        }
    }
}

/// The last checkpoint date strictly before `date`.
pub fn previous_checkpoint_before(date: NaiveDate) -> NaiveDate {
    let (mut y, mut m) = (date.year(), date.month());
    loop {
        for c in checkpoints_of_month(y, m).into_iter().rev() {
            if c < date {
                return c;
            }
        }
        if m == 1 {
            y -= 1;
            m = 12;
        } else {
            m -= 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn labour_day_is_a_business_day_and_songkran_is_not() {
        let cal = Calendar::builtin();
        assert!(cal.is_business_day(d("2024-05-01")));
        assert!(!cal.is_business_day(d("2024-04-15")));
        assert!(!cal.is_business_day(d("2024-04-12")), "bridge day");
        assert!(!cal.is_business_day(d("2024-04-16")), "in lieu");
        assert!(!cal.is_business_day(d("2024-05-04")), "saturday");
        assert_eq!(cal.covered_years(), (2013, 2030));
    }

    #[test]
    fn nth_business_day_skips_weekends_and_holidays() {
        let cal = Calendar::builtin();
        for (from, n, expected) in [
            // Friday 2024-04-05; Sat, Sun, Mon 8th in lieu -> Tue 9th.
            ("2024-04-05", 1, "2024-04-09"),
            // Thursday 2024-04-11; 12th bridge, 13-16 Songkran, -> 17, 18, 19.
            ("2024-04-11", 3, "2024-04-19"),
            // Action on a holiday: counted from the next business day.
            ("2024-04-13", 1, "2024-04-17"),
            ("2024-04-13", 0, "2024-04-13"),
        ] {
            assert_eq!(
                cal.nth_business_day_after(d(from), n),
                d(expected),
                "{from} + {n}"
            );
        }
    }

    #[test]
    fn fiscal_years_accept_both_eras() {
        let fy = FiscalYear::parse("2567").unwrap();
        assert_eq!(fy, FiscalYear::parse("2024").unwrap());
        assert_eq!(fy, FiscalYear::parse("FY2567").unwrap());
        assert_eq!(fy.first_day(), d("2023-10-01"));
        assert_eq!(fy.last_day(), d("2024-09-30"));
        assert_eq!(FiscalYear::of_date(d("2023-10-01")), fy);
        assert_eq!(FiscalYear::of_date(d("2023-09-30")).ce(), 2023);
        assert_eq!(fy.be(), 2567);
        assert!(FiscalYear::parse("twenty").is_err());
        assert_eq!(FiscalYear::quarter_of(d("2024-01-31")), 2);
    }

    #[test]
    fn february_checkpoint_is_the_last_day() {
        assert_eq!(
            checkpoints_of_month(2024, 2),
            [d("2024-02-15"), d("2024-02-29")]
        );
        assert_eq!(
            checkpoints_of_month(2023, 2),
            [d("2023-02-15"), d("2023-02-28")]
        );
        assert_eq!(
            checkpoints_of_month(2024, 1),
            [d("2024-01-15"), d("2024-01-30")]
        );
        assert_eq!(next_checkpoint_after(d("2024-01-30")), d("2024-02-15"));
        assert_eq!(next_checkpoint_after(d("2024-01-31")), d("2024-02-15"));
        assert_eq!(next_checkpoint_after(d("2024-02-15")), d("2024-02-29"));
        assert_eq!(previous_checkpoint_before(d("2024-03-15")), d("2024-02-29"));
        assert_eq!(previous_checkpoint_before(d("2024-01-15")), d("2023-12-30"));
    }

    #[test]
    fn user_calendar_errors_name_the_line() {
        let err = Calendar::parse("# covers: 2024-2024\n2024-13-01\tbad\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "calendar line 2: `2024-13-01` is not a date YYYY-MM-DD"
        );
        assert_eq!(
            Calendar::parse("2024-01-01 x").unwrap_err(),
            CalendarError::NoCoverage
        );
        let cal = Calendar::parse("# covers: 2024-2024\n2024-01-02 special\n").unwrap();
        assert!(!cal.is_business_day(d("2024-01-02")));
        assert!(cal.is_business_day(d("2024-01-01")));
        assert_ne!(cal.version(), Calendar::builtin().version());
    }

    #[test]
    fn local_date_uses_bangkok_time() {
        let t = DateTime::parse_from_rfc3339("2024-01-31T18:30:00Z").unwrap();
        assert_eq!(local_date(&t), d("2024-02-01"));
    }
}
