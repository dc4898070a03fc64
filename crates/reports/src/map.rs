//! The map: the complaints of a fiscal year that carry coordinates, counted in hexagonal bins
//! over Bangkok and drawn as a server-side SVG (no map tiles, nothing fetched), filtered by
//! state, unit and category, with the same figures as a table beside it.
//!
//! The frame is a plain equirectangular projection of Bangkok's extent (WGS84); each hexagon
//! is about 1.6 km across. A complaint outside the frame, or without coordinates, is counted
//! as such and never drawn somewhere it was not.

use std::collections::BTreeMap;
use std::fmt::Write;

use event_model::Outcome;
use lifecycle::Status;
use projections::ComplaintView;

use crate::html::{count, esc, page, pct, table_start, Chrome};
use crate::i18n::{self, Lang};

/// Bangkok's extent, drawn (degrees, WGS84).
pub const SOUTH: f64 = 13.48;
pub const NORTH: f64 = 13.97;
pub const WEST: f64 = 100.32;
pub const EAST: f64 = 100.96;

/// Kilometres per degree of latitude, and of longitude at Bangkok's latitude (13.7° N).
const KM_PER_DEG_LAT: f64 = 110.6;
const KM_PER_DEG_LON: f64 = 108.1;
/// A hexagon's radius (centre to corner), in km.
const HEX_KM: f64 = 0.8;
/// Drawing scale.
const PX_PER_KM: f64 = 10.0;

/// Which complaints the map shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MapFilter {
    pub status: Option<Status>,
    /// The complaint's current unit.
    pub unit: Option<String>,
    pub category: Option<String>,
}

impl MapFilter {
    pub fn holds(&self, v: &ComplaintView) -> bool {
        self.status.is_none_or(|s| v.status == s)
            && self
                .unit
                .as_deref()
                .is_none_or(|u| v.unit.as_deref() == Some(u))
            && self.category.as_deref().is_none_or(|c| v.category == c)
    }
}

/// Counts of some complaints.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub complaints: u64,
    /// With coordinates inside the frame.
    pub mapped: u64,
    pub closed: u64,
    /// Closed as resolved.
    pub resolved: u64,
}

impl Tally {
    fn add(&mut self, v: &ComplaintView, mapped: bool) {
        self.complaints += 1;
        self.mapped += u64::from(mapped);
        if v.status == Status::Closed {
            self.closed += 1;
            self.resolved += u64::from(v.outcome == Some(Outcome::Resolved));
        }
    }

    /// The resolved share of the closed ones, in percent.
    pub fn resolved_pct(&self) -> Option<f64> {
        (self.closed > 0).then(|| 100.0 * self.resolved as f64 / self.closed as f64)
    }
}

/// One hexagon: its axial coordinates and what fell in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hex {
    pub q: i32,
    pub r: i32,
    pub tally: Tally,
}

/// What the map page shows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MapFigures {
    /// The complaints the filter selects.
    pub selected: Tally,
    /// Selected, with coordinates outside the frame.
    pub outside: u64,
    /// Selected, without coordinates.
    pub unplaced: u64,
    /// Hexagons holding at least one complaint, by (r, q).
    pub hexes: Vec<Hex>,
    /// Per current unit (`None`: not forwarded yet), most complaints first.
    pub units: Vec<(Option<String>, Tally)>,
    /// The units and categories of the year's complaints, for the filter's choices.
    pub unit_choices: Vec<String>,
    pub category_choices: Vec<String>,
}

/// A point's place in km from the frame's north-west corner, if inside the frame.
fn km(lat: f64, lon: f64) -> Option<(f64, f64)> {
    ((SOUTH..=NORTH).contains(&lat) && (WEST..=EAST).contains(&lon)).then_some((
        (lon - WEST) * KM_PER_DEG_LON,
        (NORTH - lat) * KM_PER_DEG_LAT,
    ))
}

/// The hexagon (pointy-top, axial coordinates) holding a point in km.
fn hex_of((x, y): (f64, f64)) -> (i32, i32) {
    let q = (3f64.sqrt() / 3.0 * x - y / 3.0) / HEX_KM;
    let r = (2.0 / 3.0 * y) / HEX_KM;
    // Rounded in cube coordinates, so every point goes to the hexagon whose centre is nearest.
    let s = -q - r;
    let (mut rq, mut rr, rs) = (q.round(), r.round(), s.round());
    let (dq, dr, ds) = ((rq - q).abs(), (rr - r).abs(), (rs - s).abs());
    if dq > dr && dq > ds {
        rq = -rr - rs;
    } else if dr > ds {
        rr = -rq - rs;
    }
    (rq as i32, rr as i32)
}

/// A hexagon's centre in km.
fn centre(q: i32, r: i32) -> (f64, f64) {
    (
        HEX_KM * 3f64.sqrt() * (f64::from(q) + f64::from(r) / 2.0),
        HEX_KM * 1.5 * f64::from(r),
    )
}

impl MapFigures {
    /// The figures of `complaints` (with `places[i]` the latitude and longitude of
    /// `complaints[i]`, if it has them) under `filter`.
    pub fn compute(
        complaints: &[&ComplaintView],
        places: &[Option<(f64, f64)>],
        filter: &MapFilter,
    ) -> MapFigures {
        let mut f = MapFigures::default();
        let mut hexes: BTreeMap<(i32, i32), Tally> = BTreeMap::new();
        let mut units: BTreeMap<Option<String>, Tally> = BTreeMap::new();
        let mut unit_choices = std::collections::BTreeSet::new();
        let mut category_choices = std::collections::BTreeSet::new();
        for (i, v) in complaints.iter().enumerate() {
            if let Some(u) = &v.unit {
                unit_choices.insert(u.clone());
            }
            category_choices.insert(v.category.clone());
            if !filter.holds(v) {
                continue;
            }
            let place = places.get(i).copied().flatten();
            let at = place.and_then(|(lat, lon)| km(lat, lon));
            match (place, at) {
                (None, _) => f.unplaced += 1,
                (Some(_), None) => f.outside += 1,
                (Some(_), Some(p)) => {
                    let (q, r) = hex_of(p);
                    hexes.entry((r, q)).or_default().add(v, true);
                }
            }
            f.selected.add(v, at.is_some());
            units
                .entry(v.unit.clone())
                .or_default()
                .add(v, at.is_some());
        }
        f.hexes = hexes
            .into_iter()
            .map(|((r, q), tally)| Hex { q, r, tally })
            .collect();
        f.units = units.into_iter().collect();
        f.units
            .sort_by(|a, b| b.1.complaints.cmp(&a.1.complaints).then(a.0.cmp(&b.0)));
        f.unit_choices = unit_choices.into_iter().collect();
        f.category_choices = category_choices.into_iter().collect();
        f
    }
}

/// The colour classes: lower bounds of a hexagon's count, and their fills (light to dark).
const CLASSES: [(u64, &str); 6] = [
    (1, "#ffffb2"),
    (3, "#fed976"),
    (10, "#feb24c"),
    (30, "#fd8d3c"),
    (100, "#f03b20"),
    (300, "#bd0026"),
];

fn fill(n: u64) -> &'static str {
    CLASSES
        .iter()
        .rev()
        .find(|(lo, _)| n >= *lo)
        .map_or(CLASSES[0].1, |c| c.1)
}

/// The SVG map of `f`'s hexagons.
pub fn svg(lang: Lang, f: &MapFigures) -> String {
    let w = (EAST - WEST) * KM_PER_DEG_LON * PX_PER_KM;
    let h = (NORTH - SOUTH) * KM_PER_DEG_LAT * PX_PER_KM;
    let legend_h = 40.0;
    let mut s = String::new();
    let _ = write!(
        s,
        "<svg class=\"map\" id=\"map\" role=\"img\" viewBox=\"0 0 {w:.0} {:.0}\" width=\"100%\" \
         aria-labelledby=\"map-title map-desc\"><title id=\"map-title\">{}</title><desc id=\"map-desc\">{}</desc>\
         <rect x=\"0\" y=\"0\" width=\"{w:.0}\" height=\"{h:.0}\" fill=\"#eef3f7\" stroke=\"#c8c8c8\"/>",
        h + legend_h,
        lang.t("แผนที่เรื่องร้องเรียนในกรุงเทพมหานคร", "Map of complaints in Bangkok"),
        lang.t(
            "จำนวนเรื่องในแต่ละช่องหกเหลี่ยมกว้างประมาณ 1.6 กม. ตัวเลขอยู่ในตารางข้างแผนที่",
            "Complaints per hexagon about 1.6 km across; the figures are in the table beside the map"
        ),
    );
    // A graticule every 0.1 degree, labelled, to find one's way.
    let mut lat = (SOUTH * 10.0).ceil() / 10.0;
    while lat <= NORTH {
        let y = (NORTH - lat) * KM_PER_DEG_LAT * PX_PER_KM;
        let _ = write!(
            s,
            "<line x1=\"0\" y1=\"{y:.1}\" x2=\"{w:.0}\" y2=\"{y:.1}\" stroke=\"#d5dde5\"/>\
             <text x=\"4\" y=\"{:.1}\" font-size=\"11\" fill=\"#4d4d4d\">{lat:.1}°N</text>",
            y - 3.0
        );
        lat += 0.1;
    }
    let mut lon = (WEST * 10.0).ceil() / 10.0;
    while lon <= EAST {
        let x = (lon - WEST) * KM_PER_DEG_LON * PX_PER_KM;
        let _ = write!(
            s,
            "<line x1=\"{x:.1}\" y1=\"0\" x2=\"{x:.1}\" y2=\"{h:.0}\" stroke=\"#d5dde5\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" fill=\"#4d4d4d\">{lon:.1}°E</text>",
            x + 3.0,
            h - 4.0
        );
        lon += 0.1;
    }
    let r = HEX_KM * PX_PER_KM;
    for hex in &f.hexes {
        let (cx, cy) = centre(hex.q, hex.r);
        let (cx, cy) = (cx * PX_PER_KM, cy * PX_PER_KM);
        let mut d = String::new();
        for i in 0..6 {
            let a = std::f64::consts::PI / 180.0 * (60.0 * f64::from(i) - 30.0);
            let _ = write!(
                d,
                "{}{:.1},{:.1}",
                if i == 0 { "M" } else { "L" },
                cx + r * a.cos(),
                cy + r * a.sin()
            );
        }
        let t = hex.tally;
        let _ = write!(
            s,
            "<path class=\"hex\" data-n=\"{}\" d=\"{d}Z\" fill=\"{}\" stroke=\"#fff\" stroke-width=\"0.5\"><title>{}</title></path>",
            t.complaints,
            fill(t.complaints),
            esc(&format!(
                "{} {}, {} {} ({} {})",
                count(t.complaints),
                lang.t("เรื่อง", "complaints"),
                count(t.closed),
                lang.t("ยุติแล้ว", "closed"),
                pct(t.resolved_pct()),
                lang.t("แก้ไขแล้ว", "resolved"),
            ))
        );
    }
    // The legend.
    let _ = write!(
        s,
        "<text x=\"4\" y=\"{:.0}\" font-size=\"12\">{}</text>",
        h + 25.0,
        lang.t("เรื่องต่อช่อง:", "Complaints per hexagon:")
    );
    for (i, (lo, colour)) in CLASSES.iter().enumerate() {
        let x = 170.0 + 80.0 * i as f64;
        let label = match CLASSES.get(i + 1) {
            Some((next, _)) if next - 1 > *lo => format!("{lo}–{}", next - 1),
            Some(_) => lo.to_string(),
            None => format!("{lo}+"),
        };
        let _ = write!(
            s,
            "<rect x=\"{x:.0}\" y=\"{:.0}\" width=\"18\" height=\"14\" fill=\"{colour}\" stroke=\"#999\"/>\
             <text x=\"{:.0}\" y=\"{:.0}\" font-size=\"12\">{label}</text>",
            h + 13.0,
            x + 22.0,
            h + 25.0
        );
    }
    s.push_str("</svg>");
    s
}

/// The map page: the filter form, the map and the table.
pub fn map_page(c: &Chrome, f: &MapFigures, filter: &MapFilter, fiscal_year: &str) -> String {
    let l = c.lang;
    let names = indicators::spec::bangkok_unit_names();
    let unit_label = |u: &Option<String>| match u {
        Some(u) => i18n::unit_name(l, u, &names).to_string(),
        None => l.t("ยังไม่ส่งต่อ", "not forwarded yet").to_string(),
    };
    let mut s = String::new();
    let _ = write!(
        s,
        "<h1>{} · {}</h1>",
        l.t("แผนที่เรื่องร้องเรียน", "Complaint map"),
        esc(fiscal_year)
    );
    // The filters.
    let _ = write!(
        s,
        "<form class=\"inline\" method=\"get\" action=\"/dashboard/map\" id=\"map-filter\">\
         <input type=\"hidden\" name=\"lang\" value=\"{}\">\
         <label>{}<input name=\"fy\" size=\"6\" value=\"{}\"></label>",
        l.code(),
        l.t("ปีงบประมาณ", "Fiscal year"),
        esc(&i18n::year(l, c.fiscal_year).to_string()),
    );
    let select = |s: &mut String,
                  name: &str,
                  label: &str,
                  chosen: Option<&str>,
                  opts: Vec<(String, String)>| {
        let _ = write!(
            s,
            "<label>{}<select name=\"{name}\" id=\"map-{name}\"><option value=\"\">{}</option>",
            esc(label),
            l.t("ทั้งหมด", "all")
        );
        for (v, text) in opts {
            let sel = if chosen == Some(v.as_str()) {
                " selected"
            } else {
                ""
            };
            let _ = write!(
                s,
                "<option value=\"{}\"{sel}>{}</option>",
                esc(&v),
                esc(&text)
            );
        }
        s.push_str("</select></label>");
    };
    select(
        &mut s,
        "state",
        l.t("สถานะ", "State"),
        filter.status.map(Status::as_str),
        Status::LISTED
            .iter()
            .map(|st| (st.as_str().to_string(), i18n::status(l, *st).to_string()))
            .collect(),
    );
    select(
        &mut s,
        "unit",
        l.t("หน่วยงาน", "Unit"),
        filter.unit.as_deref(),
        f.unit_choices
            .iter()
            .map(|u| (u.clone(), unit_label(&Some(u.clone()))))
            .collect(),
    );
    select(
        &mut s,
        "category",
        l.t("ประเภท", "Category"),
        filter.category.as_deref(),
        f.category_choices
            .iter()
            .map(|k| (k.clone(), i18n::category(l, k).to_string()))
            .collect(),
    );
    let _ = write!(
        s,
        "<button type=\"submit\">{}</button></form>",
        l.t("แสดง", "Show")
    );
    let sel = f.selected;
    let _ = write!(
        s,
        "<p id=\"map-summary\">{} <strong>{}</strong> {}; {} <strong>{}</strong>{}{}</p>",
        l.t("ตรงเงื่อนไข", "Matching:"),
        count(sel.complaints),
        l.t("เรื่อง", "complaints"),
        l.t("อยู่บนแผนที่", "on the map"),
        count(sel.mapped),
        if f.outside > 0 {
            format!(
                "; {} {}",
                count(f.outside),
                l.t("เรื่องพิกัดอยู่นอกกรอบแผนที่", "with coordinates outside the frame")
            )
        } else {
            String::new()
        },
        if f.unplaced > 0 {
            format!(
                "; {} {}",
                count(f.unplaced),
                l.t("เรื่องไม่มีพิกัด", "without coordinates")
            )
        } else {
            String::new()
        },
    );
    s.push_str("<div class=\"map-layout\"><div class=\"map-pane\">");
    if f.hexes.is_empty() {
        let _ = write!(
            s,
            "<p role=\"status\">{}</p>",
            l.t(
                "ไม่มีเรื่องที่มีพิกัดในกรุงเทพฯ ตามเงื่อนไขนี้",
                "No complaint with coordinates in Bangkok matches."
            )
        );
    }
    s.push_str(&svg(l, f));
    s.push_str("</div><div class=\"map-table\">");
    s.push_str(&table_start(
        Some("map-units"),
        &[
            (l.t("หน่วยงาน", "Unit"), false),
            (l.t("เรื่อง", "Complaints"), true),
            (l.t("บนแผนที่", "On the map"), true),
            (l.t("ยุติแล้ว", "Closed"), true),
            (l.t("แก้ไขแล้ว", "Resolved"), true),
        ],
    ));
    for (u, t) in &f.units {
        let _ = write!(
            s,
            "<tr><th scope=\"row\">{}</th><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            esc(&unit_label(u)),
            count(t.complaints),
            count(t.mapped),
            count(t.closed),
            pct(t.resolved_pct())
        );
    }
    let _ = write!(
        s,
        "</tbody><tfoot><tr><th scope=\"row\">{}</th><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr></tfoot></table></div>",
        l.t("รวม", "Total"),
        count(sel.complaints),
        count(sel.mapped),
        count(sel.closed),
        pct(sel.resolved_pct())
    );
    s.push_str("</div></div>");
    page(c, l.t("แผนที่", "Map"), "map", &s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_point_falls_in_the_hexagon_whose_centre_is_nearest() {
        for (x, y) in [
            (0.0, 0.0),
            (5.3, 7.1),
            (33.3, 21.9),
            (60.0, 50.0),
            (1.2, 0.4),
        ] {
            let (q, r) = hex_of((x, y));
            let (cx, cy) = centre(q, r);
            let d = ((cx - x).powi(2) + (cy - y).powi(2)).sqrt();
            for (dq, dr) in [(1, 0), (-1, 0), (0, 1), (0, -1), (1, -1), (-1, 1)] {
                let (nx, ny) = centre(q + dq, r + dr);
                let nd = ((nx - x).powi(2) + (ny - y).powi(2)).sqrt();
                assert!(
                    d <= nd + 1e-9,
                    "({x}, {y}) in ({q}, {r}) at {d}, neighbour at {nd}"
                );
            }
            assert!(d <= HEX_KM + 1e-9);
        }
    }

    #[test]
    fn the_frame_holds_bangkok_and_nothing_far() {
        // Sanam Luang, and the far corners of Nong Chok and Bang Khun Thian.
        assert!(km(13.7563, 100.4930).is_some());
        assert!(km(13.8583, 100.8600).is_some());
        assert!(km(13.5200, 100.4400).is_some());
        // Chiang Mai, and latitude and longitude swapped.
        assert!(km(18.79, 98.98).is_none());
        assert!(km(100.5, 13.7).is_none());
    }

    #[test]
    fn classes_cover_every_count() {
        assert_eq!(fill(1), "#ffffb2");
        assert_eq!(fill(2), "#ffffb2");
        assert_eq!(fill(3), "#fed976");
        assert_eq!(fill(299), "#f03b20");
        assert_eq!(fill(5000), "#bd0026");
    }
}
