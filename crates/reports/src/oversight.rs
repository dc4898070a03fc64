//! The watchers' reports ("Oversight duties" in `rules.md`): the 1555 centre's own figures, the
//! inspecting offices' monthly report and their twice-yearly summary, and the Governor's
//! directives followed up per quarter. Each is a few tables, rendered as printable HTML,
//! Markdown or CSV (with a byte-order mark), in Thai or English, by the dashboard and by
//! `rongtook report --oversight`.

use std::collections::BTreeMap;
use std::fmt::Write;

use calendar::FiscalYear;
use chrono::NaiveDate;
use projections::{ComplaintView, DeadlineRules, Judgement, Share};

use crate::export::{csv_field, BOM};
use crate::html::{esc, page, pct, table_start, Chrome, Medium};
use crate::i18n::{self, Lang};
use crate::model::months_of;

/// Which watchers' report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Oversight {
    /// The centre's R0 forwards, chases and messages, per month.
    Centre,
    /// The inspecting offices' monthly report: inspection days, visits, findings, by district.
    Inspections,
    /// The inspecting offices' twice-yearly summary (October-March, April-September).
    HalfYear,
    /// The Governor's directives followed up, per quarter and unit.
    Directives,
}

impl Oversight {
    pub const ALL: [Oversight; 4] = [
        Oversight::Centre,
        Oversight::Inspections,
        Oversight::HalfYear,
        Oversight::Directives,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Oversight::Centre => "centre",
            Oversight::Inspections => "inspections",
            Oversight::HalfYear => "half-year",
            Oversight::Directives => "directives",
        }
    }

    pub fn parse(s: &str) -> Option<Oversight> {
        Oversight::ALL.into_iter().find(|o| o.as_str() == s)
    }

    pub fn title(self, l: Lang) -> &'static str {
        match self {
            Oversight::Centre => l.t(
                "ผลการปฏิบัติงานของศูนย์รับเรื่องราวร้องทุกข์ 1555",
                "The 1555 centre's own duties",
            ),
            Oversight::Inspections => l.t(
                "รายงานการลงพื้นที่ตรวจสอบประจำเดือน",
                "Field inspections, monthly report",
            ),
            Oversight::HalfYear => l.t(
                "สรุปผลการลงพื้นที่ตรวจสอบรอบ 6 เดือน",
                "Field inspections, twice-yearly summary",
            ),
            Oversight::Directives => l.t(
                "ผลการติดตามข้อสั่งการของผู้ว่าราชการ รายไตรมาส",
                "The Governor's directives followed up, per quarter",
            ),
        }
    }
}

/// One table of a report: an id, a heading, its columns (label, numeric) and rows.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub id: &'static str,
    pub title: String,
    pub columns: Vec<(String, bool)>,
    pub rows: Vec<Vec<String>>,
}

fn own(l: Lang, th: &'static str, en: &'static str) -> String {
    l.t(th, en).to_string()
}

fn share(s: &Share) -> String {
    format!("{} ({}/{})", pct(s.pct()), s.met, s.judged())
}

/// The tables of a report over fiscal year `fy`: `year` are its complaints (received or
/// forwarded in it), `all` every complaint judged as of the same instant (inspections of
/// older complaints count in the month they were made).
pub fn tables(
    kind: Oversight,
    l: Lang,
    fy: FiscalYear,
    as_of: chrono::DateTime<chrono::FixedOffset>,
    year: &[&ComplaintView],
    all: &[ComplaintView],
    rules: &DeadlineRules,
) -> Vec<Table> {
    let months = months_of(fy);
    let col = |th: &'static str, en: &'static str, n: bool| (own(l, th, en), n);
    match kind {
        Oversight::Centre => {
            let mut rows = Vec::new();
            for m in &months {
                let s = projections::CentreShares::of_dates(year.iter().copied(), |d| {
                    &calendar::month_of(d) == m
                });
                rows.push(vec![
                    i18n::month_label(l, m),
                    share(&s.forward),
                    share(&s.chased),
                    share(&s.informed),
                ]);
            }
            let t = projections::CentreShares::of(year.iter().copied(), fy);
            rows.push(vec![
                l.t("ทั้งปี", "The year").to_string(),
                share(&t.forward),
                share(&t.chased),
                share(&t.informed),
            ]);
            vec![Table {
                id: "centre-months",
                title: own(
                    l,
                    "ทันเวลา/ที่ครบกำหนดแล้ว รายเดือน (R0 ตามวันรับเรื่อง การติดตามและการแจ้งผลตามวันส่งต่อ)",
                    "Met / due so far, per month (R0 by receipt; chases and messages by forward)",
                ),
                columns: vec![
                    col("เดือน", "Month", false),
                    col("R0 ส่งต่อภายใน 1 วัน", "R0 forwarded within a day", true),
                    col(
                        "ติดตามเรื่องเกินกำหนดทันเวลา",
                        "Overdue obligations chased on time",
                        true,
                    ),
                    col("แจ้งผลผู้ร้องทันเวลา", "Complainants told on time", true),
                ],
                rows,
            }]
        }
        Oversight::Inspections => {
            let in_year = |m: &str| months.iter().any(|x| x == m);
            let ms = projections::inspection_months(all, as_of, rules);
            let rows = ms
                .iter()
                .filter(|m| in_year(&m.month))
                .map(|m| {
                    vec![
                        i18n::office_name(l, &m.office).to_string(),
                        i18n::month_label(l, &m.month),
                        m.days.to_string(),
                        i18n::judgement(l, Some(m.duty)).to_string(),
                        m.inspections.to_string(),
                        m.complaints.to_string(),
                        m.inconsistent.to_string(),
                    ]
                })
                .collect();
            let by_district = projections::inspections_by_district(all)
                .into_iter()
                .filter(|d| in_year(&d.month))
                .map(|d| {
                    vec![
                        i18n::office_name(l, &d.office).to_string(),
                        i18n::month_label(l, &d.month),
                        d.district.clone(),
                        d.inspections.to_string(),
                        d.complaints.to_string(),
                        d.inconsistent.to_string(),
                    ]
                })
                .collect();
            vec![
                Table {
                    id: "inspection-months",
                    title: own(
                        l,
                        "วันลงพื้นที่ต่อเดือน (อย่างน้อย 4 วัน)",
                        "Inspection days a month (at least 4)",
                    ),
                    columns: vec![
                        col("หน่วยตรวจ", "Office", false),
                        col("เดือน", "Month", false),
                        col("วันที่ตรวจ", "Days", true),
                        col("หน้าที่ 4 วัน", "4-day duty", false),
                        col("ครั้ง", "Visits", true),
                        col("เรื่อง", "Complaints", true),
                        col("ไม่สอดคล้องกับรายงาน", "Not as reported", true),
                    ],
                    rows,
                },
                Table {
                    id: "inspection-districts",
                    title: own(l, "รายเขต", "By district"),
                    columns: vec![
                        col("หน่วยตรวจ", "Office", false),
                        col("เดือน", "Month", false),
                        col("เขต", "District", false),
                        col("ครั้ง", "Visits", true),
                        col("เรื่อง", "Complaints", true),
                        col("ไม่สอดคล้องกับรายงาน", "Not as reported", true),
                    ],
                    rows: by_district,
                },
            ]
        }
        Oversight::HalfYear => {
            // Per office and half: days, months meeting the duty, visits, complaints, findings.
            let half_of = |m: &str| {
                let i = months.iter().position(|x| x == m)?;
                Some(if i < 6 { 1 } else { 2 })
            };
            let mut acc: BTreeMap<(String, u32), [u32; 5]> = BTreeMap::new();
            for office in projections::INSPECTING_OFFICES {
                for h in [1, 2] {
                    acc.insert((office.id.to_string(), h), [0; 5]);
                }
            }
            for m in projections::inspection_months(all, as_of, rules) {
                let Some(h) = half_of(&m.month) else { continue };
                let a = acc.entry((m.office.clone(), h)).or_insert([0; 5]);
                a[0] += m.days;
                a[1] += u32::from(m.duty == Judgement::Met);
                a[2] += m.inspections;
                a[3] += m.complaints;
                a[4] += m.inconsistent;
            }
            let rows = acc
                .into_iter()
                .map(|((office, h), a)| {
                    let half = match h {
                        1 => l.t("ต.ค.-มี.ค.", "October-March"),
                        _ => l.t("เม.ย.-ก.ย.", "April-September"),
                    };
                    vec![
                        i18n::office_name(l, &office).to_string(),
                        half.to_string(),
                        a[0].to_string(),
                        format!("{}/6", a[1]),
                        a[2].to_string(),
                        a[3].to_string(),
                        a[4].to_string(),
                    ]
                })
                .collect();
            vec![Table {
                id: "inspection-halves",
                title: own(l, "รอบ 6 เดือน", "Half-years"),
                columns: vec![
                    col("หน่วยตรวจ", "Office", false),
                    col("ช่วง", "Half", false),
                    col("วันที่ตรวจ", "Days", true),
                    col("เดือนที่ครบ 4 วัน", "Months with 4 days", true),
                    col("ครั้ง", "Visits", true),
                    col("เรื่อง", "Complaints", true),
                    col("ไม่สอดคล้องกับรายงาน", "Not as reported", true),
                ],
                rows,
            }]
        }
        Oversight::Directives => {
            let mut quarters = Vec::new();
            let mut units = Vec::new();
            for q in 1..=4u32 {
                let in_q = |d: NaiveDate| fy.contains(d) && FiscalYear::quarter_of(d) == q;
                let per_unit = projections::directive_follow_ups(year.iter().copied(), in_q);
                let mut total = Share::default();
                let mut pending = 0;
                for (unit, s, p) in &per_unit {
                    total.met += s.met;
                    total.missed += s.missed;
                    total.undetermined += s.undetermined;
                    pending += p;
                    units.push(vec![
                        format!("Q{q}"),
                        unit.clone(),
                        s.met.to_string(),
                        s.missed.to_string(),
                        p.to_string(),
                        pct(s.pct()),
                    ]);
                }
                quarters.push(vec![
                    format!("Q{q}"),
                    total.met.to_string(),
                    total.missed.to_string(),
                    pending.to_string(),
                    total.undetermined.to_string(),
                    pct(total.pct()),
                ]);
            }
            let cols = |first: (String, bool)| {
                let mut c = vec![col("ไตรมาส", "Quarter", false)];
                if !first.0.is_empty() {
                    c.push(first);
                }
                c.extend([
                    col("ครบ 3 เดือนมีผล", "Met at 3 months", true),
                    col("ไม่มีผล", "Missed", true),
                    col("ยังไม่ถึงกำหนด", "Pending", true),
                ]);
                c
            };
            let mut q_cols = cols((String::new(), false));
            q_cols.push(col("ระบุไม่ได้", "Undetermined", true));
            q_cols.push(col("ร้อยละ", "Share", true));
            let mut u_cols = cols(col("หน่วยงาน", "Unit", false));
            u_cols.push(col("ร้อยละ", "Share", true));
            vec![
                Table {
                    id: "directive-quarters",
                    title: own(
                        l,
                        "ข้อสั่งการที่ส่งต่อในแต่ละไตรมาส",
                        "Directives forwarded in each quarter",
                    ),
                    columns: q_cols,
                    rows: quarters,
                },
                Table {
                    id: "directive-units",
                    title: own(l, "รายหน่วยงาน", "By unit"),
                    columns: u_cols,
                    rows: units,
                },
            ]
        }
    }
}

fn heading(kind: Oversight, l: Lang, fy: FiscalYear) -> String {
    format!("{} · {}", kind.title(l), i18n::fiscal_year(l, fy))
}

/// The tables as HTML (inside `main`).
pub fn body(kind: Oversight, l: Lang, fy: FiscalYear, tables: &[Table]) -> String {
    let mut s = format!("<h1>{}</h1>", esc(&heading(kind, l, fy)));
    for t in tables {
        let cols: Vec<(&str, bool)> = t.columns.iter().map(|(c, n)| (c.as_str(), *n)).collect();
        let _ = write!(
            s,
            "<h2>{}</h2>{}",
            esc(&t.title),
            table_start(Some(t.id), &cols)
        );
        if t.rows.is_empty() {
            let _ = write!(
                s,
                "<tr><td colspan=\"{}\">{}</td></tr>",
                t.columns.len(),
                l.t("ไม่มีข้อมูล", "Nothing recorded")
            );
        }
        for r in &t.rows {
            s.push_str("<tr>");
            for (cell, (_, n)) in r.iter().zip(&t.columns) {
                let class = if *n { " class=\"n\"" } else { "" };
                let _ = write!(s, "<td{class}>{}</td>", esc(cell));
            }
            s.push_str("</tr>");
        }
        s.push_str("</tbody></table></div>");
    }
    s
}

/// A printable (or dashboard) page.
///
/// On the dashboard, the other reports are one click away.
pub fn html(c: &Chrome, kind: Oversight, fy: FiscalYear, tables: &[Table]) -> String {
    let mut s = String::new();
    if c.medium == Medium::Dashboard {
        let links: Vec<String> = Oversight::ALL
            .iter()
            .map(|o| {
                format!(
                    "<a href=\"{}\"{}>{}</a>",
                    c.link("/dashboard/oversight", &[("report", o.as_str())]),
                    if *o == kind {
                        " aria-current=\"page\""
                    } else {
                        ""
                    },
                    esc(o.title(c.lang))
                )
            })
            .collect();
        let _ = write!(s, "<p id=\"oversight-reports\">{}</p>", links.join(" · "));
    }
    s.push_str(&body(kind, c.lang, fy, tables));
    page(c, kind.title(c.lang), "oversight", &s)
}

/// Markdown: a heading and one table per section.
pub fn markdown(kind: Oversight, l: Lang, fy: FiscalYear, tables: &[Table]) -> String {
    let cell = |s: &str| s.replace('|', "\\|");
    let mut s = format!("# {}\n", heading(kind, l, fy));
    for t in tables {
        let _ = write!(s, "\n## {}\n\n|", t.title);
        for (c, _) in &t.columns {
            let _ = write!(s, " {} |", cell(c));
        }
        s.push_str("\n|");
        for (_, n) in &t.columns {
            s.push_str(if *n { " ---: |" } else { " --- |" });
        }
        s.push('\n');
        for r in &t.rows {
            s.push('|');
            for c in r {
                let _ = write!(s, " {} |", cell(c));
            }
            s.push('\n');
        }
    }
    s
}

/// CSV (with a byte-order mark): each table under a line naming it, a blank line between.
pub fn csv(kind: Oversight, l: Lang, fy: FiscalYear, tables: &[Table]) -> String {
    let mut s = String::from(BOM);
    let line = |s: &mut String, fields: Vec<String>| {
        let row: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
        s.push_str(&row.join(","));
        s.push_str("\r\n");
    };
    line(&mut s, vec![heading(kind, l, fy)]);
    for t in tables {
        s.push_str("\r\n");
        line(&mut s, vec![t.title.clone()]);
        line(&mut s, t.columns.iter().map(|(c, _)| c.clone()).collect());
        for r in &t.rows {
            line(&mut s, r.clone());
        }
    }
    s
}

/// How many rows the report's tables hold.
pub fn rows(tables: &[Table]) -> u64 {
    tables.iter().map(|t| t.rows.len() as u64).sum()
}
