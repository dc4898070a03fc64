//! Every shape the real data comes in, told by content (never by file name): CSV exports and
//! API records (all their header variants), API JSON (search pages and GeoJSON), archives of
//! JSON snapshots (`.tar.zst`), spreadsheets (`.xlsx`), the Thai web scrape and the scraped
//! cards. Each record becomes a [`Record`] or a [`Refused`] with its place and reason.

use std::collections::HashMap;
use std::io::Read;

use chrono::{DateTime, FixedOffset, NaiveDateTime, TimeZone};
use serde_json::Value;

use crate::record::{Capture, Place, Record, Refused, Sighting, Ticket};
use crate::states::{phase_of, timeline_status};
use crate::time::{parse_platform, parse_thai_moment, Span, Zone};

/// The shapes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// The platform's CSV export (`ticket_id,type,organization,comment,...`), with or without
    /// `organization_action`, `timestamp_inprogress`, `timestamp_finished`, separate
    /// latitude/longitude columns or the comment.
    CsvExport,
    /// The public API's record shape as CSV (`type,org,description,ticket_id,...`), with or
    /// without `message_id`, `status` or a leading index column.
    ApiCsv,
    /// The first sheet of a spreadsheet holding either of the CSV shapes.
    Xlsx,
    /// API JSON: a search page `{"results": [...]}`.
    SearchJson,
    /// API JSON: a GeoJSON FeatureCollection.
    GeoJson,
    /// A `.tar.zst` archive of GeoJSON or search-page snapshots, each member named by its
    /// capture time (`20230408T122728Z__f19adc2.json`).
    Archive,
    /// The Thai web scrape (`ticket_id,date,time,status,...,ForwardedStatus,...`).
    WebScrape,
    /// Scraped cards (`title, timestamp, title_state, ..., copied_url`), JSON.
    ScrapedCards,
}

impl Shape {
    pub fn as_str(self) -> &'static str {
        match self {
            Shape::CsvExport => "CSV export",
            Shape::ApiCsv => "API records (CSV)",
            Shape::Xlsx => "spreadsheet",
            Shape::SearchJson => "API search page (JSON)",
            Shape::GeoJson => "GeoJSON",
            Shape::Archive => "snapshot archive (tar.zst)",
            Shape::WebScrape => "web scrape (CSV)",
            Shape::ScrapedCards => "scraped cards (JSON)",
        }
    }
}

/// How to read times the file does not fully state.
#[derive(Debug, Clone, Copy)]
pub struct ReadOptions {
    /// What a time without an offset means.
    pub zone: Zone,
    /// When the file was captured, if the user knows (`--observed-at`).
    pub observed_at: Option<DateTime<FixedOffset>>,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            zone: Zone::Unknown,
            observed_at: None,
        }
    }
}

/// Why a whole file cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum TraffyError {
    #[error("not a Traffy Fondue file: {0}")]
    Unknown(String),
    #[error("holds no tickets: {0}")]
    Empty(String),
    #[error("cannot read it: {0}")]
    Unreadable(String),
}

/// What a file held: its shape and, for an archive, its members' names (a record's
/// `place.part` is the 1-based index into them).
#[derive(Debug, Clone)]
pub struct ReadInfo {
    pub shape: Shape,
    pub parts: Vec<String>,
}

/// Reads a file's bytes, telling its shape by content, and hands every record (or refusal) to
/// `sink` in order.
pub fn read(
    bytes: &[u8],
    opts: &ReadOptions,
    sink: &mut dyn FnMut(Result<Record, Refused>),
) -> Result<ReadInfo, TraffyError> {
    if bytes.starts_with(&[0x28, 0xB5, 0x2F, 0xFD]) {
        return read_archive(bytes, opts, sink);
    }
    if bytes.starts_with(b"PK\x03\x04") {
        let rows = xlsx_rows(bytes)?;
        let shape = read_table(rows, opts, sink)?;
        debug_assert!(matches!(shape, Shape::CsvExport | Shape::ApiCsv));
        return Ok(ReadInfo {
            shape: Shape::Xlsx,
            parts: vec![],
        });
    }
    let text = std::str::from_utf8(bytes)
        .map_err(|e| TraffyError::Unreadable(format!("not UTF-8 text ({e})")))?;
    let trimmed = text.trim_start_matches('\u{feff}').trim_start();
    if trimmed.starts_with('{') || trimmed.starts_with('[') {
        let v: Value = serde_json::from_str(trimmed)
            .map_err(|e| TraffyError::Unreadable(format!("malformed JSON: {e}")))?;
        let shape = read_json(&v, 0, opts, Capture::default(), sink)?;
        return Ok(ReadInfo {
            shape,
            parts: vec![],
        });
    }
    let shape = read_table(csv_rows(text), opts, sink)?;
    Ok(ReadInfo {
        shape,
        parts: vec![],
    })
}

/// A table's rows: the header, then each record with its line; a record that cannot be read
/// is an `Err` with its line and why.
type Rows = Box<dyn Iterator<Item = Row>>;

/// A record with its line, or the line of one that cannot be read and why.
type Row = Result<(u64, Vec<String>), (u64, String)>;

fn csv_rows(text: &str) -> (Vec<String>, Rows) {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(true)
        .from_reader(std::io::Cursor::new(text.as_bytes().to_vec()));
    let header: Vec<String> = reader
        .headers()
        .map(|h| h.iter().map(clean_header).collect())
        .unwrap_or_default();
    let mut done = false;
    let rows = std::iter::from_fn(move || {
        if done {
            return None;
        }
        let mut record = csv::StringRecord::new();
        let line = reader.position().line() + 1;
        match reader.read_record(&mut record) {
            Ok(false) => None,
            Ok(true) => {
                let line = record.position().map_or(line, |p| p.line());
                Some(Ok((line, record.iter().map(str::to_string).collect())))
            }
            Err(e) => {
                let line = e.position().map_or(line, |p| p.line());
                if !matches!(e.kind(), csv::ErrorKind::Utf8 { .. }) {
                    done = true;
                }
                Some(Err((line, format!("unreadable record: {e}"))))
            }
        }
    });
    (header, Box::new(rows))
}

fn clean_header(h: &str) -> String {
    h.trim_start_matches('\u{feff}').trim().to_string()
}

fn xlsx_rows(bytes: &[u8]) -> Result<(Vec<String>, Rows), TraffyError> {
    use calamine::{Data, Reader, Xlsx};
    let mut book: Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(bytes.to_vec()))
            .map_err(|e| TraffyError::Unreadable(format!("not a readable spreadsheet: {e}")))?;
    let first = book
        .sheet_names()
        .first()
        .cloned()
        .ok_or_else(|| TraffyError::Empty("the spreadsheet has no sheet".into()))?;
    let range = book
        .worksheet_range(&first)
        .map_err(|e| TraffyError::Unreadable(format!("sheet `{first}`: {e}")))?;
    let cell = |c: &Data| match c {
        Data::Empty => String::new(),
        Data::String(s) => s.clone(),
        Data::Float(f) if f.fract() == 0.0 => format!("{}", *f as i64),
        Data::Int(i) => i.to_string(),
        other => other.to_string(),
    };
    let mut rows = range.rows();
    let header: Vec<String> = rows
        .next()
        .map(|r| r.iter().map(|c| clean_header(&cell(c))).collect())
        .unwrap_or_default();
    // Sheet rows are numbered as the spreadsheet shows them (the header is row 1).
    let body: Vec<Row> = rows
        .enumerate()
        .map(|(i, r)| Ok((i as u64 + 2, r.iter().map(cell).collect())))
        .collect();
    Ok((header, Box::new(body.into_iter())))
}

/// Column positions by name; a column may go by several names.
struct Columns(HashMap<String, usize>);

impl Columns {
    fn new(header: &[String]) -> Columns {
        Columns(
            header
                .iter()
                .enumerate()
                .map(|(i, h)| (h.clone(), i))
                .collect(),
        )
    }
    fn has(&self, name: &str) -> bool {
        self.0.contains_key(name)
    }
    fn find(&self, names: &[&str]) -> Option<usize> {
        names.iter().find_map(|n| self.0.get(*n).copied())
    }
}

/// A record's fields by name, from a table row or a JSON object.
pub(crate) trait Fields {
    fn field(&self, names: &[&str]) -> Option<String>;
}

struct RowFields<'a> {
    cols: &'a Columns,
    row: &'a [String],
}

impl Fields for RowFields<'_> {
    fn field(&self, names: &[&str]) -> Option<String> {
        let i = self.cols.find(names)?;
        self.row
            .get(i)
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
    }
}

impl Fields for serde_json::Map<String, Value> {
    fn field(&self, names: &[&str]) -> Option<String> {
        names
            .iter()
            .find_map(|n| match serde_json::Map::get(self, *n)? {
                Value::Null => None,
                Value::String(s) => Some(s.trim().to_string()).filter(|s| !s.is_empty()),
                Value::Number(x) => Some(x.to_string()),
                Value::Bool(b) => Some(b.to_string()),
                Value::Array(a) => Some(
                    a.iter()
                        .filter_map(|x| match x {
                            Value::String(s) => Some(s.clone()),
                            Value::Number(n) => Some(n.to_string()),
                            _ => None,
                        })
                        .collect::<Vec<_>>()
                        .join(","),
                )
                .filter(|s| !s.is_empty()),
                Value::Object(_) => None,
            })
    }
}

fn read_table(
    (header, rows): (Vec<String>, Rows),
    opts: &ReadOptions,
    sink: &mut dyn FnMut(Result<Record, Refused>),
) -> Result<Shape, TraffyError> {
    let cols = Columns::new(&header);
    let shape = if cols.has("ticket_id") && cols.has("ForwardedStatus") {
        Shape::WebScrape
    } else if cols.has("ticket_id") && cols.has("organization") {
        Shape::CsvExport
    } else if cols.has("ticket_id") && cols.has("org") {
        Shape::ApiCsv
    } else {
        return Err(TraffyError::Unknown(format!(
            "the header `{}` is none of the platform export's, the API's or the web scrape's",
            header.join(",")
        )));
    };
    let width = header.len();
    let mut records = Vec::new();
    for row in rows {
        let item = match row {
            Err((line, why)) => Err(Refused {
                place: Place { part: 0, line },
                ticket_id: None,
                reason: why,
            }),
            Ok((line, row)) => {
                let place = Place { part: 0, line };
                let f = RowFields {
                    cols: &cols,
                    row: &row,
                };
                if row.len() != width && shape != Shape::WebScrape {
                    Err(Refused {
                        place,
                        ticket_id: f.field(&["ticket_id"]),
                        reason: format!(
                            "{} fields where the header has {width} (broken quoting?)",
                            row.len()
                        ),
                    })
                } else if shape == Shape::WebScrape {
                    scraped_row(&f, place)
                } else {
                    platform_record(&f, place, opts.zone)
                }
            }
        };
        records.push(item);
    }
    emit_part(records, opts.observed_at, sink)?;
    Ok(shape)
}

/// Sets every sighting's capture (after the newest time the part holds; by `by`), then hands
/// the records on.
fn emit_part(
    mut records: Vec<Result<Record, Refused>>,
    by: Option<DateTime<FixedOffset>>,
    sink: &mut dyn FnMut(Result<Record, Refused>),
) -> Result<(), TraffyError> {
    finish_part(&mut records, by)?;
    records.into_iter().for_each(sink);
    Ok(())
}

/// Sets every sighting's capture: at or after the newest time the part holds, at or before
/// `by`. A part without records holds no tickets.
fn finish_part(
    records: &mut [Result<Record, Refused>],
    by: Option<DateTime<FixedOffset>>,
) -> Result<(), TraffyError> {
    if records.is_empty() {
        return Err(TraffyError::Empty("no records".into()));
    }
    let newest = records
        .iter()
        .filter_map(|r| r.as_ref().ok())
        .flat_map(|r| std::iter::once(r.ticket.timestamp.at).chain(r.sighting.newest_time()))
        .max();
    let capture = Capture {
        after: match (newest, by) {
            (Some(n), Some(b)) => Some(n.min(b)),
            (n, _) => n,
        },
        by,
    };
    for rec in records.iter_mut().flatten() {
        rec.sighting.capture = capture;
    }
    Ok(())
}

/// `{ถนน,ทางเท้า}`, `ถนน,ทางเท้า` or `{}`; the geometry type `Point` some extracts put in this
/// column is no complaint type.
fn parse_types(s: &str) -> Vec<String> {
    s.trim()
        .trim_start_matches('{')
        .trim_end_matches('}')
        .split(',')
        .map(|x| x.trim().trim_matches('"').to_string())
        .filter(|x| !x.is_empty() && x != "Point")
        .collect()
}

/// `100.87281,13.81565` or `['100.55650', '13.74179']`: longitude first.
fn parse_coords(s: &str) -> (Option<f64>, Option<f64>) {
    let cleaned: String = s
        .chars()
        .filter(|c| !matches!(c, '[' | ']' | '\'' | '"' | ' '))
        .collect();
    let mut it = cleaned.split(',').map(|x| x.parse::<f64>().ok());
    checked_point(it.next().flatten(), it.next().flatten())
}

/// A point from longitude and latitude columns. One export labels its columns
/// `Latitute,Longitude` and holds the longitude first: a "latitude" beyond ±90° with a
/// "longitude" that can be a latitude is such a swap, and is read the other way round (no
/// point on Earth reads both ways).
fn columns_point(lon: Option<f64>, lat: Option<f64>) -> (Option<f64>, Option<f64>) {
    match (lon, lat) {
        (Some(lo), Some(la)) if la.abs() > 90.0 && lo.abs() <= 90.0 => checked_point(lat, lon),
        _ => checked_point(lon, lat),
    }
}

fn checked_point(lon: Option<f64>, lat: Option<f64>) -> (Option<f64>, Option<f64>) {
    match (lon, lat) {
        (Some(lo), Some(la)) if (-180.0..=180.0).contains(&lo) && (-90.0..=90.0).contains(&la) => {
            (Some(lo), Some(la))
        }
        _ => (None, None),
    }
}

/// The district named in an address: `เขตวัฒนา`, `เขต หนองจอก` or `เขต: สายไหม`. Addresses end
/// with the district and the province, and texts relayed from the hotline may name a district
/// earlier too, so the last one wins.
pub fn district_in_address(address: &str) -> Option<String> {
    let thai = |c: &char| ('\u{0E00}'..='\u{0E7F}').contains(c);
    address
        .match_indices("เขต")
        .filter_map(|(i, m)| {
            let rest = address[i + m.len()..].trim_start_matches([' ', ':', '\t']);
            let name: String = rest.chars().take_while(thai).collect();
            (!name.is_empty() && name != "กรุงเทพมหานคร" && name != "พื้นที่").then_some(name)
        })
        .last()
}

/// The province when an address names Bangkok.
pub(crate) fn province_in_address(address: &str) -> Option<String> {
    address
        .contains("กรุงเทพมหานคร")
        .then(|| "กรุงเทพมหานคร".to_string())
}

fn split_orgs(s: &str) -> Vec<String> {
    s.split(',')
        .map(|o| o.trim().to_string())
        .filter(|o| !o.is_empty())
        .collect()
}

/// A record refused, naming its ticket when it has an id.
fn refused(place: Place, id: &str, reason: String) -> Refused {
    Refused {
        place,
        ticket_id: (!id.is_empty()).then(|| id.to_string()),
        reason,
    }
}

/// Why a ticket id cannot be used, if it cannot: missing, or unfit to name the ticket's stream
/// (white space or a control character in it, or too long).
fn unusable_ticket_id(id: &str) -> Option<String> {
    if id.is_empty() {
        return Some("no ticket_id".into());
    }
    event_model::text::check_identifier(&crate::record::stream_of(id))
        .err()
        .map(|why| format!("ticket_id cannot name a stream: {why}"))
}

/// A platform record (CSV export, API record, JSON result or GeoJSON properties).
fn platform_record(f: &dyn Fields, place: Place, zone: Zone) -> Result<Record, Refused> {
    let id = f.field(&["ticket_id"]).unwrap_or_default();
    let refuse = |reason: String| refused(place, &id, reason);
    if let Some(why) = unusable_ticket_id(&id) {
        return Err(refuse(why));
    }
    let time = |names: &[&str]| -> Result<Option<Span>, Refused> {
        match f.field(names) {
            None => Ok(None),
            Some(t) => parse_platform(&t, zone)
                .map(Some)
                .ok_or_else(|| refuse(format!("{} `{t}` is not a date-time", names[0]))),
        }
    };
    let timestamp = time(&["timestamp"])?.ok_or_else(|| refuse("no timestamp".into()))?;
    let state = f
        .field(&["state", "status_th_latest"])
        .or_else(|| f.field(&["status", "status_type"]))
        .ok_or_else(|| refuse("no state".into()))?;
    let phase = phase_of(&state)
        .ok_or_else(|| refuse(format!("state `{state}` is not one the platform uses")))?;
    let count_reopen = match f.field(&["count_reopen"]) {
        None => None,
        Some(c) => Some(
            c.parse::<f64>()
                .ok()
                .filter(|x| *x >= 0.0 && x.fract() == 0.0)
                .map(|x| x as u32)
                .ok_or_else(|| refuse(format!("count_reopen `{c}` is not a count")))?,
        ),
    };
    let address = f.field(&["address"]).unwrap_or_default();
    let (lon, lat) = match f.field(&["coords"]) {
        Some(c) => parse_coords(&c),
        None => columns_point(
            f.field(&["Longitude", "longitude", "lon"])
                .and_then(|x| x.parse().ok()),
            f.field(&["Latitute", "Latitude", "latitude", "lat"])
                .and_then(|x| x.parse().ok()),
        ),
    };
    Ok(Record {
        ticket: Ticket {
            types: parse_types(&f.field(&["type"]).unwrap_or_default()),
            organizations: split_orgs(&f.field(&["organization", "org"]).unwrap_or_default()),
            comment: f.field(&["comment", "description"]).unwrap_or_default(),
            lon,
            lat,
            district: f
                .field(&["district"])
                .map(|d| d.trim_start_matches("เขต").trim().to_string())
                .or_else(|| district_in_address(&address)),
            province: f
                .field(&["province"])
                .or_else(|| province_in_address(&address)),
            address,
            timestamp,
            ticket_id: id.clone(),
        },
        sighting: Sighting {
            count_reopen,
            last_activity: time(&["last_activity"])?,
            in_progress_at: time(&["timestamp_inprogress"])?,
            finished_at: time(&["timestamp_finished"])?,
            ..Sighting::of(place, state, phase)
        },
    })
}

/// A row of the Thai web scrape: listed under a state filter, with one timeline entry of the
/// detail page (`ForwardedStatus` at `ForwardedDate` `ForwardedTime`).
fn scraped_row(f: &dyn Fields, place: Place) -> Result<Record, Refused> {
    let id = f.field(&["ticket_id"]).unwrap_or_default();
    let refuse = |reason: String| refused(place, &id, reason);
    if let Some(why) = unusable_ticket_id(&id) {
        return Err(refuse(why));
    }
    let date = f.field(&["date"]).unwrap_or_default();
    let timestamp = parse_thai_moment(&date, f.field(&["time"]).as_deref())
        .ok_or_else(|| refuse(format!("date `{date}` is not a Thai date")))?;
    // `รอรับเรื่อง 2 นาทีที่แล้ว`: the state, then how long ago (of the page, not of the data).
    let status = f.field(&["status"]).unwrap_or_default();
    let state = status
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_string();
    let phase = phase_of(&state).ok_or_else(|| {
        refuse(format!(
            "status `{status}` is not a state the platform uses"
        ))
    })?;
    let mut timeline = vec![];
    if let Some(label) = f.field(&["ForwardedStatus"]) {
        let when = f
            .field(&["ForwardedDate"])
            .and_then(|d| parse_thai_moment(&d, f.field(&["ForwardedTime"]).as_deref()));
        match (timeline_status(&label), when) {
            (Some(s), Some(w)) => timeline.push((s, w)),
            (None, _) => {
                return Err(refuse(format!(
                    "ForwardedStatus `{label}` is not a state the platform uses"
                )))
            }
            (Some(_), None) => {}
        }
    }
    let address = f.field(&["address"]).unwrap_or_default();
    Ok(Record {
        ticket: Ticket {
            types: parse_types(&f.field(&["category"]).unwrap_or_default()),
            organizations: split_orgs(&f.field(&["agency"]).unwrap_or_default()),
            comment: f.field(&["description"]).unwrap_or_default(),
            lon: None,
            lat: None,
            district: district_in_address(&address),
            // The scrape lists Bangkok's tickets (the BMA's own site).
            province: Some("กรุงเทพมหานคร".into()),
            address,
            timestamp,
            ticket_id: id.clone(),
        },
        sighting: Sighting {
            timeline,
            ..Sighting::of(place, state, phase)
        },
    })
}

/// A card's "finished in" duration and its precision: `12:03 ชม.` (hours and minutes),
/// `2 วัน 3 ชม.` (days and hours), `6 วัน` (days), `45 นาที` (minutes).
fn finished_after(text: &str) -> Option<(chrono::Duration, chrono::Duration)> {
    use chrono::Duration;
    let t = text.trim();
    let num = |s: &str| s.trim().parse::<i64>().ok();
    if let Some(hm) = t.strip_suffix("ชม.") {
        let hm = hm.trim();
        if let Some((d, h)) = hm.split_once("วัน") {
            return Some((
                Duration::days(num(d)?) + Duration::hours(num(h)?),
                Duration::hours(1),
            ));
        }
        let (h, m) = hm.split_once(':')?;
        return Some((
            Duration::hours(num(h)?) + Duration::minutes(num(m)?),
            Duration::minutes(1),
        ));
    }
    if let Some(d) = t.strip_suffix("วัน") {
        return Some((Duration::days(num(d)?), Duration::days(1)));
    }
    if let Some(m) = t.strip_suffix("นาที") {
        return Some((Duration::minutes(num(m)?), Duration::minutes(1)));
    }
    None
}

/// A scraped card: `title_state` like `เสร็จสิ้นใน 12:03 ชม.` (finished, 12 h 03 min after it
/// was filed), `แจ้ง 3 ชั่วโมงที่แล้ว` (filed, waiting) or `ส่งต่อ 5 นาทีที่แล้ว` (forwarded);
/// the ticket id is in `copied_url`; the date (`21 เมษายน 68`) has no time of day.
fn card(o: &serde_json::Map<String, Value>, place: Place) -> Result<Record, Refused> {
    let url = o.field(&["copied_url"]).unwrap_or_default();
    let id = url
        .split("ticketID=")
        .nth(1)
        .map(|s| s.split('&').next().unwrap_or("").to_string())
        .unwrap_or_default();
    let refuse = |reason: String| refused(place, &id, reason);
    if id.is_empty() {
        return Err(refuse(format!("no ticket id in copied_url `{url}`")));
    }
    if let Some(why) = unusable_ticket_id(&id) {
        return Err(refuse(why));
    }
    let date = o.field(&["timestamp"]).unwrap_or_default();
    let timestamp = parse_thai_moment(&date, None)
        .ok_or_else(|| refuse(format!("timestamp `{date}` is not a Thai date")))?;
    let title_state = o.field(&["title_state"]).unwrap_or_default();
    let (phase, state, finished_at) = if let Some(rest) = title_state.strip_prefix("เสร็จสิ้นใน")
    {
        // `12:03 ชม.`, `2 วัน 3 ชม.`, `6 วัน` or `45 นาที` after filing, counted from a
        // filing time known to the day.
        let finished = finished_after(rest).map(|(d, precision)| Span {
            at: timestamp.at + d + precision,
            after: Some(timestamp.lo() + d),
        });
        (
            crate::states::Phase::Finished,
            "เสร็จสิ้น".to_string(),
            finished,
        )
    } else if title_state.starts_with("ส่งต่อ") {
        (crate::states::Phase::Forwarded, "ส่งต่อ".to_string(), None)
    } else if title_state.starts_with("แจ้ง") || title_state.starts_with("รอรับเรื่อง")
    {
        (crate::states::Phase::Waiting, "รอรับเรื่อง".to_string(), None)
    } else {
        let first = title_state.split_whitespace().next().unwrap_or_default();
        let p = phase_of(first).ok_or_else(|| {
            refuse(format!(
                "title_state `{title_state}` is not a state the platform uses"
            ))
        })?;
        (p, first.to_string(), None)
    };
    let address = o.field(&["location_thailand"]).unwrap_or_default();
    let title = o.field(&["title"]).unwrap_or_default();
    let comment = o.field(&["comment"]).unwrap_or_default();
    Ok(Record {
        ticket: Ticket {
            types: vec![],
            organizations: vec![],
            comment: if title.is_empty() {
                comment
            } else {
                format!("{title}\n{comment}")
            },
            lon: None,
            lat: None,
            district: district_in_address(&address),
            province: province_in_address(&address),
            address,
            timestamp,
            ticket_id: id.clone(),
        },
        sighting: Sighting {
            finished_at,
            ..Sighting::of(place, state, phase)
        },
    })
}

fn read_json(
    v: &Value,
    part: u32,
    opts: &ReadOptions,
    member_capture: Capture,
    sink: &mut dyn FnMut(Result<Record, Refused>),
) -> Result<Shape, TraffyError> {
    let (shape, records) = json_records(v, part, opts, member_capture)?;
    records.into_iter().for_each(sink);
    Ok(shape)
}

/// The records of a JSON document, their captures set.
fn json_records(
    v: &Value,
    part: u32,
    opts: &ReadOptions,
    member_capture: Capture,
) -> Result<(Shape, Vec<Result<Record, Refused>>), TraffyError> {
    let place = |i: usize| Place {
        part,
        line: i as u64 + 1,
    };
    let (shape, records): (Shape, Vec<Result<Record, Refused>>) = match v {
        Value::Object(o) if o.get("features").is_some_and(Value::is_array) => {
            let features = o["features"].as_array().expect("checked");
            let records = features
                .iter()
                .enumerate()
                .map(|(i, f)| feature(f, place(i), opts.zone))
                .collect();
            (Shape::GeoJson, records)
        }
        Value::Object(o) if o.contains_key("results") => {
            let list: Vec<&Value> = match &o["results"] {
                Value::Array(a) => a.iter().collect(),
                Value::Object(_) => vec![&o["results"]],
                _ => vec![],
            };
            let records = each_object(list, "a result", &place, |r, at| {
                platform_record(r, at, opts.zone)
            });
            (Shape::SearchJson, records)
        }
        Value::Array(a) if a.iter().any(|x| x.get("copied_url").is_some()) => {
            let records = each_object(a.iter().collect(), "a card", &place, card);
            (Shape::ScrapedCards, records)
        }
        Value::Array(a) if a.iter().any(|x| x.get("ticket_id").is_some()) => {
            let records = each_object(a.iter().collect(), "a record", &place, |r, at| {
                platform_record(r, at, opts.zone)
            });
            (Shape::SearchJson, records)
        }
        _ => {
            return Err(TraffyError::Unknown(
                "JSON that is neither a GeoJSON FeatureCollection, a search page (`results`), a list of tickets nor scraped cards".into(),
            ))
        }
    };
    let by = member_capture.by.or(opts.observed_at);
    let mut records = records;
    finish_part(&mut records, by)?;
    Ok((shape, records))
}

/// `read` over each element of a JSON list; an element that is not an object is refused.
fn each_object(
    list: Vec<&Value>,
    what: &str,
    place: &dyn Fn(usize) -> Place,
    read: impl Fn(&serde_json::Map<String, Value>, Place) -> Result<Record, Refused>,
) -> Vec<Result<Record, Refused>> {
    list.into_iter()
        .enumerate()
        .map(|(i, v)| match v.as_object() {
            Some(o) => read(o, place(i)),
            None => Err(Refused {
                place: place(i),
                ticket_id: None,
                reason: format!("{what} that is not an object"),
            }),
        })
        .collect()
}

/// A GeoJSON feature: the API's record in `properties`, the point in `geometry`.
fn feature(f: &Value, place: Place, zone: Zone) -> Result<Record, Refused> {
    let Some(props) = f.get("properties").and_then(Value::as_object) else {
        return Err(Refused {
            place,
            ticket_id: None,
            reason: "a feature without properties".into(),
        });
    };
    let mut r = platform_record(props, place, zone)?;
    if r.ticket.lon.is_none() {
        if let Some(Value::Array(c)) = f.get("geometry").and_then(|g| g.get("coordinates")) {
            let num = |v: Option<&Value>| match v {
                Some(Value::Number(n)) => n.as_f64(),
                Some(Value::String(s)) => s.trim().parse().ok(),
                _ => None,
            };
            (r.ticket.lon, r.ticket.lat) = checked_point(num(c.first()), num(c.get(1)));
        }
    }
    Ok(r)
}

/// `20230408T122728Z__f19adc2.json` (or any member whose name starts with such a time): the
/// time the snapshot was committed, so taken at or before.
pub fn member_time(name: &str) -> Option<DateTime<FixedOffset>> {
    let base = name.rsplit('/').next().unwrap_or(name);
    let stamp = base.get(..16)?;
    let t = NaiveDateTime::parse_from_str(stamp, "%Y%m%dT%H%M%SZ").ok()?;
    Some(FixedOffset::east_opt(0)?.from_utc_datetime(&t))
}

fn read_archive(
    bytes: &[u8],
    opts: &ReadOptions,
    sink: &mut dyn FnMut(Result<Record, Refused>),
) -> Result<ReadInfo, TraffyError> {
    use std::sync::mpsc::{channel, sync_channel};
    use std::sync::{Arc, Mutex};
    type Parsed = (u32, Vec<Result<Record, Refused>>);
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 4);
    // One thread unpacks the members in order, workers parse them, and this thread hands
    // their records on in member order.
    let (member_tx, member_rx) = sync_channel::<(u32, String, Vec<u8>)>(workers * 2);
    let member_rx = Arc::new(Mutex::new(member_rx));
    let (parsed_tx, parsed_rx) = channel::<Parsed>();
    std::thread::scope(|scope| -> Result<ReadInfo, TraffyError> {
        let unpack = scope.spawn(move || -> Result<Vec<String>, TraffyError> {
            let decoder = zstd::stream::read::Decoder::new(bytes)
                .map_err(|e| TraffyError::Unreadable(format!("zstd: {e}")))?;
            let mut archive = tar::Archive::new(decoder);
            let mut parts = Vec::new();
            for entry in archive
                .entries()
                .map_err(|e| TraffyError::Unreadable(format!("tar: {e}")))?
            {
                let mut entry = entry.map_err(|e| TraffyError::Unreadable(format!("tar: {e}")))?;
                if !entry.header().entry_type().is_file() {
                    continue;
                }
                let name = entry
                    .path()
                    .map(|p| p.to_string_lossy().to_string())
                    .unwrap_or_default();
                if !name.ends_with(".json") {
                    continue;
                }
                let mut buf = Vec::with_capacity(entry.size() as usize);
                entry
                    .read_to_end(&mut buf)
                    .map_err(|e| TraffyError::Unreadable(format!("{name}: {e}")))?;
                parts.push(name.clone());
                if member_tx.send((parts.len() as u32, name, buf)).is_err() {
                    break;
                }
            }
            Ok(parts)
        });
        for _ in 0..workers {
            let (rx, tx) = (Arc::clone(&member_rx), parsed_tx.clone());
            scope.spawn(move || loop {
                let next = rx.lock().expect("not poisoned").recv();
                let Ok((part, name, buf)) = next else { break };
                let refused = |reason: String| {
                    vec![Err(Refused {
                        place: Place { part, line: 0 },
                        ticket_id: None,
                        reason: format!("member `{name}`: {reason}"),
                    })]
                };
                let records = match serde_json::from_slice::<Value>(&buf) {
                    Err(e) => refused(format!("malformed JSON: {e}")),
                    Ok(v) => {
                        let capture = Capture {
                            after: None,
                            by: member_time(&name),
                        };
                        match json_records(&v, part, opts, capture) {
                            Ok((_, r)) => r,
                            Err(TraffyError::Empty(_)) => vec![],
                            Err(e) => refused(e.to_string()),
                        }
                    }
                };
                if tx.send((part, records)).is_err() {
                    break;
                }
            });
        }
        drop(parsed_tx);
        let mut waiting: std::collections::BTreeMap<u32, Vec<Result<Record, Refused>>> =
            Default::default();
        let mut next = 1;
        for (part, records) in parsed_rx {
            waiting.insert(part, records);
            while let Some(records) = waiting.remove(&next) {
                records.into_iter().for_each(&mut *sink);
                next += 1;
            }
        }
        let parts = unpack.join().expect("unpacking thread")?;
        if parts.is_empty() {
            return Err(TraffyError::Empty(
                "the archive holds no JSON snapshot".into(),
            ));
        }
        Ok(ReadInfo {
            shape: Shape::Archive,
            parts,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(bytes: &[u8]) -> (Shape, Vec<Result<Record, Refused>>) {
        let mut out = vec![];
        let info = read(bytes, &ReadOptions::default(), &mut |r| out.push(r)).unwrap();
        (info.shape, out)
    }

    #[test]
    fn a_ticket_id_that_cannot_name_a_stream_is_refused() {
        // Found by fuzzing: a control character or white space inside a ticket id.
        let api = "type,org,description,ticket_id,coords,photo_url,after_photo,address,timestamp,problem_type_abdul,star,count_reopen,note,state,last_activity\n\
            ถนน,เขตบางรัก,d,2023-\u{0}E,,,,addr,2023-05-12 13:27:54+00,,,0,,รอรับเรื่อง,\n\
            ถนน,เขตบางรัก,d,2023 E,,,,addr,2023-05-12 13:27:54+00,,,0,,รอรับเรื่อง,\n";
        let (_, rows) = all(api.as_bytes());
        for r in rows {
            let why = r.unwrap_err().reason;
            assert!(why.contains("ticket_id cannot name a stream"), "{why}");
        }
    }

    #[test]
    fn districts_are_found_in_addresses() {
        assert_eq!(
            district_in_address("10 ซอย สุขุมวิท 11 แขวง คลองเตยเหนือ เขตวัฒนา กรุงเทพมหานคร 10110")
                .as_deref(),
            Some("วัฒนา")
        );
        assert_eq!(
            district_in_address("จุดเกิดเหตุ\nเขต: สายไหม\nแขวง : สายไหม เขตสายไหม กรุงเทพมหานคร")
                .as_deref(),
            Some("สายไหม")
        );
        assert_eq!(district_in_address("ในเขตพื้นที่ ถนนพหลโยธิน"), None);
    }

    #[test]
    fn coordinates_and_types() {
        assert_eq!(
            parse_coords("['100.55650', '13.74179']"),
            (Some(100.5565), Some(13.74179))
        );
        assert_eq!(parse_coords(""), (None, None));
        // `Latitute,Longitude` columns holding the longitude first read the other way round;
        // a point that is no point either way is none.
        assert_eq!(
            columns_point(Some(13.75458), Some(100.49385)),
            (Some(100.49385), Some(13.75458))
        );
        assert_eq!(
            columns_point(Some(100.5), Some(13.7)),
            (Some(100.5), Some(13.7))
        );
        assert_eq!(columns_point(Some(200.0), Some(100.0)), (None, None));
        assert_eq!(parse_types("{ถนน,ทางเท้า}"), ["ถนน", "ทางเท้า"]);
        assert!(parse_types("Point").is_empty());
    }

    #[test]
    fn csv_shapes_are_told_by_their_header_and_bad_rows_refused_with_their_line() {
        let export = "\u{feff}ticket_id,type,organization,comment,coords,photo,photo_after,address,subdistrict,district,province,timestamp,state,star,count_reopen,last_activity\n\
            2023-A,{ถนน},เขตบางรัก,\"two\nlines\",\"100.5,13.7\",,,addr,สีลม,บางรัก,กรุงเทพมหานคร,2023-05-12 13:27:54.48+00,รอรับเรื่อง,,0,2023-05-12 13:27:54.47+00\n\
            ,{ถนน},เขตบางรัก,x,,,,,,บางรัก,กรุงเทพมหานคร,2023-05-12 13:27:54+00,รอรับเรื่อง,,0,\n\
            2023-C,{ถนน},เขตบางรัก,x,,,,,,บางรัก,กรุงเทพมหานคร,yesterday,รอรับเรื่อง,,0,\n\
            2023-D,{ถนน},เขตบางรัก,x\n";
        let (shape, rows) = all(export.as_bytes());
        assert_eq!(shape, Shape::CsvExport);
        assert_eq!(rows.len(), 4);
        let t = rows[0].as_ref().unwrap();
        assert_eq!(
            (
                t.sighting.place.line,
                t.ticket.ticket_id.as_str(),
                t.ticket.comment.as_str()
            ),
            (2, "2023-A", "two\nlines")
        );
        let refused: Vec<(u64, String)> = rows[1..]
            .iter()
            .map(|r| {
                let r = r.as_ref().unwrap_err();
                (r.place.line, r.reason.clone())
            })
            .collect();
        assert_eq!(refused[0], (4, "no ticket_id".to_string()));
        assert!(
            refused[1].1.contains("timestamp `yesterday`"),
            "{refused:?}"
        );
        assert!(refused[2].1.contains("4 fields"), "{refused:?}");
        let api = "type,org,description,ticket_id,coords,photo_url,after_photo,address,timestamp,problem_type_abdul,star,count_reopen,note,state,last_activity\n\
            ถนน,เขตบางรัก,d,2023-E,,,,addr เขตบางรัก กรุงเทพมหานคร,2023-05-12 13:27:54+00,,,0,,ขั้นตอนทางกฎหมาย,2023-05-13 01:00:00+00\n";
        let (shape, rows) = all(api.as_bytes());
        assert_eq!(shape, Shape::ApiCsv);
        let r = rows[0].as_ref().unwrap();
        assert_eq!(r.sighting.phase, crate::Phase::InProgress);
        assert_eq!(r.ticket.district.as_deref(), Some("บางรัก"));
        let mut out = vec![];
        assert!(matches!(
            read(b"a,b,c\n1,2,3\n", &ReadOptions::default(), &mut |r| out
                .push(r)),
            Err(TraffyError::Unknown(_))
        ));
        assert!(matches!(
            read(
                b"ticket_id,organization\n",
                &ReadOptions::default(),
                &mut |r| out.push(r)
            ),
            Err(TraffyError::Empty(_))
        ));
    }

    #[test]
    fn json_shapes() {
        let geo = r#"{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Point","coordinates":["100.58330","13.74557"]},"properties":{"type":null,"org":"กรุงเทพมหานคร","description":"d","ticket_id":"2023-G4Y6YK","address":"แขวงบางกะปิ เขตห้วยขวาง กรุงเทพมหานคร 10310","timestamp":"2023-04-08 12:26:48.281426+00","count_reopen":"0","state":"รอรับเรื่อง","last_activity":"2023-04-08 12:26:48.271083+00"}}]}"#;
        let (shape, rows) = all(geo.as_bytes());
        assert_eq!(shape, Shape::GeoJson);
        let r = rows[0].as_ref().unwrap();
        assert_eq!(
            (r.ticket.lon, r.ticket.lat),
            (Some(100.5833), Some(13.74557))
        );
        assert_eq!(r.ticket.district.as_deref(), Some("ห้วยขวาง"));
        assert_eq!(r.sighting.count_reopen, Some(0));
        let page = r#"{"status":"success","results":{"ticket_id":"2026-X","org":"เขตบางรัก","description":"d","timestamp":"2026-08-27 22:15:33","state":"เสร็จสิ้น"}}"#;
        let (shape, rows) = all(page.as_bytes());
        assert_eq!(shape, Shape::SearchJson);
        assert_eq!(rows.len(), 1);
        let cards = r#"[{"title":"t","timestamp":"21 เมษายน 68","title_state":"เสร็จสิ้นใน 12:03 ชม.","comment":"c","location_thailand":"เขตวัฒนา กรุงเทพมหานคร","copied_url":"https://fondue.traffy.in.th/?page=detail&ticketID=2025-CL8WB3"}]"#;
        let (shape, rows) = all(cards.as_bytes());
        assert_eq!(shape, Shape::ScrapedCards);
        let r = rows[0].as_ref().unwrap();
        assert_eq!(r.ticket.ticket_id, "2025-CL8WB3");
        let f = r.sighting.finished_at.unwrap();
        assert_eq!(f.after.unwrap().to_rfc3339(), "2025-04-21T12:02:59+07:00");
        assert_eq!(f.at.to_rfc3339(), "2025-04-22T12:03:59+07:00");
    }

    #[test]
    fn archive_members_are_named_by_their_capture_time() {
        assert_eq!(
            member_time("geojson_wait/20230408T122728Z__f19adc2.json")
                .unwrap()
                .to_rfc3339(),
            "2023-04-08T12:27:28+00:00"
        );
        assert_eq!(member_time("geojson_wait/notes.json"), None);
    }
}
