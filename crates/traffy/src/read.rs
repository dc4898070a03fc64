//! Reading an export: the shape from its header, then one ticket per record, refusing (with
//! the line and the reason) what cannot be read.

use chrono::{DateTime, FixedOffset};

/// The two export shapes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// The platform's CSV export: `ticket_id,type,organization,comment,coords,...`.
    CsvExport,
    /// The public API's shape: `type,org,description,ticket_id,coords,...`.
    Api,
}

/// One ticket as read, before mapping.
#[derive(Debug, Clone, PartialEq)]
pub struct Ticket {
    /// The line the record starts on (1-based, the header is line 1).
    pub line: u64,
    pub ticket_id: String,
    pub types: Vec<String>,
    pub organizations: Vec<String>,
    pub comment: String,
    pub lon: Option<f64>,
    pub lat: Option<f64>,
    pub address: String,
    /// The district's Thai name without `เขต`, when known.
    pub district: Option<String>,
    pub province: Option<String>,
    pub timestamp: DateTime<FixedOffset>,
    pub state: String,
    pub count_reopen: u32,
    pub last_activity: DateTime<FixedOffset>,
}

/// A record that could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub line: u64,
    pub ticket_id: Option<String>,
    pub reason: String,
}

/// Why a whole file cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum TraffyError {
    #[error(
        "not a Traffy Fondue export: the header `{0}` is neither the CSV export's nor the API's"
    )]
    UnknownHeader(String),
    #[error("cannot read the header: {0}")]
    Header(String),
}

/// Platform timestamps: `2023-05-12 13:27:54.482138+00` (also RFC 3339).
pub fn parse_time(s: &str) -> Option<DateTime<FixedOffset>> {
    let t = s.trim();
    if t.is_empty() {
        return None;
    }
    let mut norm = t.replacen(' ', "T", 1);
    // `+00` / `+07` offsets without minutes.
    let bytes = norm.as_bytes();
    if bytes.len() >= 3 {
        let tail = &norm[norm.len() - 3..];
        if (tail.starts_with('+') || tail.starts_with('-'))
            && tail[1..].bytes().all(|b| b.is_ascii_digit())
        {
            norm.push_str(":00");
        }
    }
    DateTime::parse_from_rfc3339(&norm).ok()
}

/// `{ถนน,ทางเท้า}`, `ถนน,ทางเท้า` or `{}`.
fn parse_types(s: &str) -> Vec<String> {
    s.trim()
        .trim_start_matches('{')
        .trim_end_matches('}')
        .split(',')
        .map(|x| x.trim().trim_matches('"').to_string())
        .filter(|x| !x.is_empty())
        .collect()
}

/// `100.87281,13.81565` or `['100.55650', '13.74179']`: longitude first.
fn parse_coords(s: &str) -> (Option<f64>, Option<f64>) {
    let cleaned: String = s
        .chars()
        .filter(|c| !matches!(c, '[' | ']' | '\'' | '"' | ' '))
        .collect();
    let mut it = cleaned.split(',').map(|x| x.parse::<f64>().ok());
    let lon = it.next().flatten();
    let lat = it.next().flatten();
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

struct Columns {
    ticket_id: usize,
    types: usize,
    org: usize,
    comment: usize,
    coords: usize,
    address: usize,
    district: Option<usize>,
    province: Option<usize>,
    timestamp: usize,
    state: usize,
    count_reopen: usize,
    last_activity: usize,
}

fn columns(header: &csv::StringRecord) -> Result<(Shape, Columns), TraffyError> {
    let names: Vec<String> = header
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').trim().to_string())
        .collect();
    let find = |n: &str| names.iter().position(|h| h == n);
    let need = |n: &str| find(n).ok_or_else(|| TraffyError::UnknownHeader(names.join(",")));
    let shape = match names.first().map(String::as_str) {
        Some("ticket_id") => Shape::CsvExport,
        Some("type") if find("org").is_some() && find("description").is_some() => Shape::Api,
        _ => return Err(TraffyError::UnknownHeader(names.join(","))),
    };
    let (org, comment) = match shape {
        Shape::CsvExport => (need("organization")?, need("comment")?),
        Shape::Api => (need("org")?, need("description")?),
    };
    Ok((
        shape,
        Columns {
            ticket_id: need("ticket_id")?,
            types: need("type")?,
            org,
            comment,
            coords: need("coords")?,
            address: need("address")?,
            district: find("district"),
            province: find("province"),
            timestamp: need("timestamp")?,
            state: need("state")?,
            count_reopen: need("count_reopen")?,
            last_activity: need("last_activity")?,
        },
    ))
}

/// Reads an export: its shape, and per record a ticket or the reason it was refused.
pub fn read(text: &str) -> Result<(Shape, Vec<Result<Ticket, Refused>>), TraffyError> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(true)
        .from_reader(text.as_bytes());
    let header = reader
        .headers()
        .map_err(|e| TraffyError::Header(e.to_string()))?
        .clone();
    let (shape, c) = columns(&header)?;
    let width = header.len();
    let mut out = Vec::new();
    let mut record = csv::StringRecord::new();
    loop {
        let line = reader.position().line() + 1;
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                let line = record.position().map_or(line, |p| p.line());
                out.push(ticket(&record, &c, width, line));
            }
            Err(e) => {
                let line = e.position().map_or(line, |p| p.line());
                out.push(Err(Refused {
                    line,
                    ticket_id: None,
                    reason: format!("unreadable record: {e}"),
                }));
                if !matches!(
                    e.kind(),
                    csv::ErrorKind::UnequalLengths { .. } | csv::ErrorKind::Utf8 { .. }
                ) {
                    break;
                }
            }
        }
    }
    Ok((shape, out))
}

fn ticket(r: &csv::StringRecord, c: &Columns, width: usize, line: u64) -> Result<Ticket, Refused> {
    let get = |i: usize| r.get(i).unwrap_or("").to_string();
    let id = get(c.ticket_id).trim().to_string();
    let refuse = |reason: String| Refused {
        line,
        ticket_id: (!id.is_empty()).then(|| id.clone()),
        reason,
    };
    if r.len() != width {
        return Err(refuse(format!(
            "{} fields where the header has {width} (broken quoting?)",
            r.len()
        )));
    }
    if id.is_empty() {
        return Err(refuse("no ticket_id".into()));
    }
    let timestamp = parse_time(&get(c.timestamp)).ok_or_else(|| {
        refuse(format!(
            "timestamp `{}` is not a date-time",
            get(c.timestamp)
        ))
    })?;
    let last = get(c.last_activity);
    let last_activity = if last.trim().is_empty() {
        timestamp
    } else {
        parse_time(&last)
            .ok_or_else(|| refuse(format!("last_activity `{last}` is not a date-time")))?
    };
    let count = get(c.count_reopen);
    let count_reopen = if count.trim().is_empty() {
        0
    } else {
        count
            .trim()
            .parse()
            .map_err(|_| refuse(format!("count_reopen `{count}` is not a count")))?
    };
    let address = get(c.address).trim().to_string();
    let district = c
        .district
        .map(|i| get(i).trim().to_string())
        .filter(|d| !d.is_empty())
        .or_else(|| district_in_address(&address));
    let province = c
        .province
        .map(|i| get(i).trim().to_string())
        .filter(|p| !p.is_empty())
        .or_else(|| {
            address
                .contains("กรุงเทพมหานคร")
                .then(|| "กรุงเทพมหานคร".to_string())
        });
    let (lon, lat) = parse_coords(&get(c.coords));
    Ok(Ticket {
        line,
        ticket_id: id.clone(),
        types: parse_types(&get(c.types)),
        organizations: get(c.org)
            .split(',')
            .map(|o| o.trim().to_string())
            .filter(|o| !o.is_empty())
            .collect(),
        comment: get(c.comment),
        lon,
        lat,
        address,
        district,
        province,
        timestamp,
        state: get(c.state).trim().to_string(),
        count_reopen,
        last_activity,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn districts_are_found_in_addresses() {
        assert_eq!(
            district_in_address("10 ซอย สุขุมวิท 11 แขวง คลองเตยเหนือ เขตวัฒนา กรุงเทพมหานคร 10110")
                .as_deref(),
            Some("วัฒนา")
        );
        assert_eq!(
            district_in_address("13 ถนน อยู่วิทยา แขวง กระทุ่มราย เขต หนองจอก กรุงเทพมหานคร").as_deref(),
            Some("หนองจอก")
        );
        assert_eq!(
            district_in_address("จุดเกิดเหตุ\nเขต: สายไหม\nแขวง : สายไหม เขตสายไหม กรุงเทพมหานคร")
                .as_deref(),
            Some("สายไหม")
        );
        assert_eq!(district_in_address("ในเขตพื้นที่ ถนนพหลโยธิน"), None);
        assert_eq!(district_in_address("no district"), None);
    }

    #[test]
    fn platform_times_and_coordinates_parse() {
        let t = parse_time("2023-05-12 13:27:54.482138+00").unwrap();
        assert_eq!(t.to_rfc3339(), "2023-05-12T13:27:54.482138+00:00");
        assert!(parse_time("12/05/2023").is_none());
        assert_eq!(
            parse_coords("100.87281,13.81565"),
            (Some(100.87281), Some(13.81565))
        );
        assert_eq!(
            parse_coords("['100.55650', '13.74179']"),
            (Some(100.5565), Some(13.74179))
        );
        assert_eq!(parse_coords(""), (None, None));
        assert_eq!(parse_types("{ถนน,ทางเท้า}"), ["ถนน", "ทางเท้า"]);
        assert!(parse_types("{}").is_empty());
    }

    #[test]
    fn both_headers_are_recognised_and_bad_rows_are_refused_with_their_line() {
        let export = "\u{feff}ticket_id,type,organization,comment,coords,photo,photo_after,address,subdistrict,district,province,timestamp,state,star,count_reopen,last_activity\n\
            2023-A,{ถนน},เขตบางรัก,\"two\nlines\",\"100.5,13.7\",,,addr,สีลม,บางรัก,กรุงเทพมหานคร,2023-05-12 13:27:54.48+00,รอรับเรื่อง,,0,2023-05-12 13:27:54.47+00\n\
            ,{ถนน},เขตบางรัก,x,,,,,,บางรัก,กรุงเทพมหานคร,2023-05-12 13:27:54+00,รอรับเรื่อง,,0,\n\
            2023-C,{ถนน},เขตบางรัก,x,,,,,,บางรัก,กรุงเทพมหานคร,yesterday,รอรับเรื่อง,,0,\n\
            2023-D,{ถนน},เขตบางรัก,x\n";
        let (shape, rows) = read(export).unwrap();
        assert_eq!(shape, Shape::CsvExport);
        assert_eq!(rows.len(), 4);
        let t = rows[0].as_ref().unwrap();
        assert_eq!(
            (t.line, t.ticket_id.as_str(), t.comment.as_str()),
            (2, "2023-A", "two\nlines")
        );
        let refused: Vec<(u64, String)> = rows[1..]
            .iter()
            .map(|r| {
                let r = r.as_ref().unwrap_err();
                (r.line, r.reason.clone())
            })
            .collect();
        assert_eq!(refused[0], (4, "no ticket_id".to_string()));
        assert_eq!(refused[1].0, 5);
        assert!(
            refused[1].1.contains("timestamp `yesterday`"),
            "{:?}",
            refused[1]
        );
        assert_eq!(refused[2].0, 6);
        assert!(refused[2].1.contains("4 fields"), "{:?}", refused[2]);
        let api = "type,org,description,ticket_id,coords,photo_url,after_photo,address,timestamp,problem_type_abdul,star,count_reopen,note,state,last_activity\n";
        assert_eq!(read(api).unwrap().0, Shape::Api);
        assert!(matches!(
            read("a,b,c\n1,2,3\n"),
            Err(TraffyError::UnknownHeader(_))
        ));
    }
}
