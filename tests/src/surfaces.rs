//! Every input surface as one function of raw bytes: what a fuzz target calls (`tests/fuzz`)
//! and what the suite calls when it replays the kept corpora. Each function feeds the bytes to
//! the same code the program runs on such input; any outcome but a panic is a pass, and some
//! outcomes are checked further (an accepted input must say the same when read again).

use std::collections::BTreeMap;

/// A surface: raw bytes in, a panic on failure.
pub type Surface = fn(&[u8]);

/// The surfaces, by the name of their fuzz target and corpus folder.
pub const TARGETS: &[(&str, Surface)] = &[
    ("wire", wire),
    ("traffy_csv_export", |d| traffy(Shape::CsvExport, d)),
    ("traffy_api_csv", |d| traffy(Shape::ApiCsv, d)),
    ("traffy_web_scrape", |d| traffy(Shape::WebScrape, d)),
    ("traffy_xlsx", |d| traffy(Shape::Xlsx, d)),
    ("traffy_search_json", |d| traffy(Shape::SearchJson, d)),
    ("traffy_geojson", |d| traffy(Shape::GeoJson, d)),
    ("traffy_scraped_cards", |d| traffy(Shape::ScrapedCards, d)),
    ("traffy_archive", |d| traffy(Shape::Archive, d)),
    ("open311_form", open311_form),
    ("indicator_spec", indicator_spec),
    ("rules", rules),
    ("calendar", calendar),
    ("instant", instant),
];

/// The body of `POST /v1/events`: one wire-format event or an array of them. An accepted
/// batch's events read back the same from their own wire form.
pub fn wire(data: &[u8]) {
    if let Ok(events) = http_api::decode_body(data) {
        assert!(!events.is_empty(), "an accepted batch is never empty");
        for e in events {
            let text = event_model::wire::to_wire_json(&e);
            let again = event_model::parse_wire_event(&text)
                .unwrap_or_else(|err| panic!("an accepted event does not read back: {err}"));
            assert_eq!(again, e, "an accepted event reads back otherwise");
        }
    }
}

/// The Traffy Fondue shapes, each fuzzed inside its own envelope so that the fuzzer works on
/// that shape's records rather than on telling shapes apart.
#[derive(Debug, Clone, Copy)]
pub enum Shape {
    /// Rows under the platform's CSV export header.
    CsvExport,
    /// Rows under the API record header.
    ApiCsv,
    /// Rows under the Thai web scrape header.
    WebScrape,
    /// A whole spreadsheet file.
    Xlsx,
    /// The items of a search page's `results`.
    SearchJson,
    /// The features of a GeoJSON FeatureCollection.
    GeoJson,
    /// The items of a scraped cards array.
    ScrapedCards,
    /// One member of a snapshot archive (compressed here).
    Archive,
}

const CSV_EXPORT: &str = "ticket_id,type,organization,organization_action,comment,Latitute,Longitude,photo,photo_after,address,subdistrict,district,province,timestamp,state,star,count_reopen,last_activity,duration_minutes_inprogress,duration_minutes_finished,duration_minutes_total,timestamp_inprogress,timestamp_finished\n";
const API_CSV: &str = "type,org,description,ticket_id,coords,photo_url,after_photo,address,timestamp,problem_type_abdul,star,count_reopen,note,state,last_activity\n";
const WEB_SCRAPE: &str = "ticket_id,date,time,status,address,description,agency,category,ForwardedStatus,ForwardedDate,ForwardedTime,TakeTime\n";

/// The file a shape's envelope makes of `data`.
pub fn traffy_file(shape: Shape, data: &[u8]) -> Vec<u8> {
    let around = |head: &str, tail: &str| [head.as_bytes(), data, tail.as_bytes()].concat();
    match shape {
        Shape::CsvExport => around(CSV_EXPORT, ""),
        Shape::ApiCsv => around(API_CSV, ""),
        Shape::WebScrape => around(WEB_SCRAPE, ""),
        Shape::Xlsx => data.to_vec(),
        Shape::SearchJson => around("{\"results\":[", "]}"),
        Shape::GeoJson => around("{\"type\":\"FeatureCollection\",\"features\":[", "]}"),
        Shape::ScrapedCards => around("[", "]"),
        Shape::Archive => {
            let mut tar = tar::Builder::new(Vec::new());
            let mut header = tar::Header::new_gnu();
            header.set_size(data.len() as u64);
            header.set_mode(0o644);
            header.set_cksum();
            tar.append_data(
                &mut header,
                "geojson_send/20230408T122728Z__f19adc2.json",
                data,
            )
            .expect("a tar in memory");
            let tar = tar.into_inner().expect("a tar in memory");
            zstd::encode_all(tar.as_slice(), 1).expect("zstd in memory")
        }
    }
}

/// A Traffy file of one shape, planned for import as `rongtook import-traffy` plans it (every
/// record read, refused with its place, or turned into events).
pub fn traffy(shape: Shape, data: &[u8]) {
    let file = traffy_file(shape, data);
    let names = indicators::spec::bangkok_unit_names();
    let districts: BTreeMap<String, String> =
        traffy::units_of(names.iter().map(|(u, t)| (u.as_str(), t.th.as_str())));
    let files = vec![("fuzz".to_string(), file, traffy::ReadOptions::default())];
    if let Ok(plan) = traffy::plan(&files, &districts, &mut |_| None, &mut |_| {}) {
        for t in &plan.tickets {
            for e in &t.events {
                let text = event_model::wire::to_wire_json(e);
                event_model::parse_wire_event(&text).unwrap_or_else(|err| {
                    panic!("a planned event is not a valid wire event: {err}: {text}")
                });
            }
        }
    }
}

/// The body of an Open311 `POST /open311/v2/requests.json` (a form), as the server decodes it
/// and turns it into a `received` event.
pub fn open311_form(data: &[u8]) {
    if let Ok(form) = serde_urlencoded::from_bytes::<http_api::open311_form::Submission>(data) {
        let now = chrono::DateTime::parse_from_rfc3339("2024-03-01T10:00:00+07:00").unwrap();
        let id = uuid::Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0001);
        let _ = http_api::open311_form::to_event(&form, id, now, "fuzz".into());
    }
}

/// An indicator spec file.
pub fn indicator_spec(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = indicators::Spec::parse(text, Some("fuzz.json"));
    }
}

/// A deadline rules file.
pub fn rules(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = projections::DeadlineRules::from_json(text);
    }
}

/// A holiday calendar file. An accepted calendar answers business-day questions.
pub fn calendar(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(cal) = calendar::Calendar::parse(text) {
            let (first, last) = cal.covered_years();
            assert!(first <= last, "a calendar covers {first}-{last}");
        }
    }
}

/// An `as_of` as users write it (queries, the CLI), checked against the built-in calendar.
pub fn instant(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        // The built-in calendar, read once (reading it is most of the work).
        static CALENDAR: std::sync::OnceLock<calendar::Calendar> = std::sync::OnceLock::new();
        let cal = CALENDAR.get_or_init(calendar::Calendar::builtin);
        if let Ok(at) = read_model::parse_as_of(text, cal) {
            let written = event_model::format_instant(&at);
            let again = read_model::parse_instant(&written)
                .unwrap_or_else(|e| panic!("an accepted instant does not read back: {e}"));
            assert_eq!(again, at, "{text:?} read back as {written}");
        }
    }
}
