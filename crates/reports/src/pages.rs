//! The dashboard's pages (and the printed reports' bodies) as HTML.

use std::collections::BTreeMap;
use std::fmt::Write;

use chrono::{DateTime, FixedOffset};
use event_model::{EventData, RecordedEvent};
use indicators::evaluate::{StepResult, UnitResult};
use indicators::spec::Text;
use indicators::IndicatorReport;
use projections::complaint::PublicInfo;
use projections::{ComplaintView, OverdueItem, OverdueReport};

use crate::html::{count, esc, level, num, page, pct, table_start, url_part, Chrome, Medium};
use crate::i18n::{self, Lang};
use projections::Judgement;

use crate::model::{league, LeagueSort, Overview, Share, SMALL_COUNT};
use crate::svg;

fn card(s: &mut String, label: &str, value: &str, id: &str) {
    let _ = write!(
        s,
        "<div class=\"card\" id=\"{id}\"><div class=\"v\">{value}</div><div class=\"k\">{label}</div></div>"
    );
}

fn share_cell(sh: &Share) -> String {
    format!(
        "{} <span class=\"meta\">({}/{})</span>",
        pct(sh.pct()),
        count(sh.met),
        count(sh.met + sh.missed)
    )
}

/// The obligations the data's times cannot judge: their count and share of those due.
fn undetermined_cell(sh: &Share) -> String {
    format!(
        "{} <span class=\"meta\">({})</span>",
        pct(sh.undetermined_pct()),
        count(sh.undetermined)
    )
}

fn yes_no(lang: Lang, v: Option<Judgement>) -> String {
    let text = i18n::judgement(lang, v);
    match v {
        Some(Judgement::Met) => format!("<span class=\"good\">✓ {text}</span>"),
        Some(Judgement::Missed) => format!("<span class=\"bad\">✗ {text}</span>"),
        Some(Judgement::Undetermined) => format!("<span class=\"meta\">? {text}</span>"),
        _ => format!("<span class=\"meta\">{text}</span>"),
    }
}

/// The monthly received/closed chart and its table.
pub fn trend(lang: Lang, o: &Overview) -> String {
    let received = lang.t("รับเรื่อง", "received");
    let closed = lang.t("ยุติเรื่อง", "closed");
    let groups: Vec<svg::Group> = o
        .months
        .iter()
        .map(|m| svg::Group {
            label: i18n::month_label(lang, &m.month)
                .split(' ')
                .next()
                .unwrap_or("")
                .to_string(),
            values: vec![m.received, m.closed],
        })
        .collect();
    let mut s = svg::grouped_bars(
        lang.t("เรื่องรับและยุติรายเดือน", "Complaints received and closed by month"),
        lang.t(
            "กราฟแท่งจำนวนเรื่องที่รับและยุติในแต่ละเดือนของปีงบประมาณ ตัวเลขอยู่ในตารางถัดไป",
            "Bars of complaints received and closed in each month of the fiscal year; the figures are in the table below.",
        ),
        &[received, closed],
        &groups,
    );
    let _ = write!(
        s,
        "<details><summary>{}</summary>{}",
        lang.t("ตัวเลขรายเดือน", "Monthly figures"),
        table_start(
            None,
            &[
                (lang.t("เดือน", "Month"), false),
                (received, true),
                (closed, true)
            ]
        ),
    );
    for m in &o.months {
        let _ = write!(
            s,
            "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            i18n::month_label(lang, &m.month),
            count(m.received),
            count(m.closed)
        );
    }
    s.push_str("</tbody></table></div></details>");
    s
}

/// The overview of a fiscal year.
pub fn overview(c: &Chrome, o: &Overview) -> String {
    let l = c.lang;
    let mut s = String::new();
    let _ = write!(
        s,
        "<h1>{} {}</h1><p class=\"meta\">{} {}</p><div class=\"cards\">",
        l.t("ภาพรวม", "Overview,"),
        i18n::fiscal_year(l, o.fiscal_year),
        l.t("ณ", "as of"),
        i18n::instant(l, &o.as_of)
    );
    card(
        &mut s,
        l.t("เรื่องที่รับ", "received"),
        &count(o.received),
        "received",
    );
    card(&mut s, l.t("ยุติแล้ว", "closed"), &count(o.closed), "closed");
    card(&mut s, l.t("ยังไม่ยุติ", "open"), &count(o.open), "open");
    card(
        &mut s,
        l.t("แก้ไขสำเร็จ", "resolved"),
        &pct(o.resolved_pct()),
        "resolved",
    );
    card(
        &mut s,
        l.t("R1 ตอบรับทันเวลา", "R1 acknowledged on time"),
        &pct(o.r1.pct()),
        "r1",
    );
    card(
        &mut s,
        l.t("R2 รายงานผลครั้งแรกทันเวลา", "R2 first progress on time"),
        &pct(o.r2.pct()),
        "r2",
    );
    card(
        &mut s,
        l.t("R3 รายงานความคืบหน้าตามรอบ", "R3 checkpoints met"),
        &pct(o.r3.pct()),
        "r3",
    );
    s.push_str("</div>");
    let _ = write!(
        s,
        "<h2>{}</h2>{}",
        l.t("แนวโน้มรายเดือน", "Trend by month"),
        trend(l, o)
    );
    let _ = write!(
        s,
        "<h2>{}</h2>{}",
        l.t("ตัวชี้วัด", "Indicators"),
        table_start(
            Some("indicators"),
            &[
                (l.t("ตัวชี้วัด", "Indicator"), false),
                (l.t("จำนวนเรื่อง", "Complaints"), true),
                (l.t("ร้อยละ", "Share"), true),
                (l.t("ระดับ", "Level"), true),
                (l.t("คะแนน", "Score"), true),
            ]
        ),
    );
    for i in &o.indicators {
        let _ = write!(
            s,
            "<tr><td><a href=\"{}\">{}</a></td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            c.link("/dashboard/league", &[("spec", &i.spec)]),
            esc(l.text(&i.title)),
            count(i.complaints),
            pct(i.pct),
            level(i.level),
            num(i.score)
        );
    }
    s.push_str("</tbody></table></div>");
    s.push_str(&timeliness_table(l, o));
    s.push_str(&centre_table(l, o));
    page(c, &i18n::fiscal_year(l, o.fiscal_year), "overview", &s)
}

/// The intake centre's own duties of the year: met / due so far.
pub(crate) fn centre_table(l: Lang, o: &Overview) -> String {
    let c = &o.centre;
    format!(
        "<h2>{}</h2><div class=\"scroll\"><table id=\"centre\"><thead><tr><th scope=\"col\"></th><th scope=\"col\" class=\"n\">{}</th><th scope=\"col\" class=\"n\">{}</th></tr></thead><tbody>\
         <tr><th scope=\"row\">{}</th><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>\
         <tr><th scope=\"row\">{}</th><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>\
         <tr><th scope=\"row\">{}</th><td class=\"n\">{}</td><td class=\"n\">{}</td></tr></tbody></table></div>",
        l.t("ศูนย์รับเรื่อง 1555 (ทันเวลา/ที่ครบกำหนดแล้ว)", "The 1555 centre's own duties (met / due so far)"),
        l.t("ทันเวลา", "On time"),
        l.t("ระบุไม่ได้", "Undetermined"),
        l.t("R0 ส่งต่อภายใน 1 วัน", "R0 forwarded within a day"),
        share_cell(&c.forward),
        undetermined_cell(&c.forward),
        l.t("ติดตามเรื่องที่เกินกำหนดทันเวลา", "Overdue obligations chased on time"),
        share_cell(&c.chased),
        undetermined_cell(&c.chased),
        l.t("แจ้งผลผู้ร้องทันเวลา", "Complainants told on time"),
        share_cell(&c.informed),
        undetermined_cell(&c.informed),
    )
}

/// R1, R2 and R3 of the year's rounds: met / due so far (R3 per checkpoint, as everywhere).
pub(crate) fn timeliness_table(l: Lang, o: &Overview) -> String {
    format!(
        "<h2>{}</h2><div class=\"scroll\"><table id=\"timeliness\"><thead><tr><th scope=\"col\"></th><th scope=\"col\" class=\"n\">{}</th><th scope=\"col\" class=\"n\">{}</th></tr></thead><tbody>\
         <tr><th scope=\"row\">R1</th><td class=\"n\">{}</td><td class=\"n\">{}</td></tr><tr><th scope=\"row\">R2</th><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>\
         <tr><th scope=\"row\">R3 {}</th><td class=\"n\">{}</td><td class=\"n\">{}</td></tr></tbody></table></div>",
        l.t("ความตรงต่อเวลา (ทันเวลา/ที่ครบกำหนดแล้ว)", "Timeliness (met / due so far)"),
        l.t("ทันเวลา", "On time"),
        l.t(
            "ระบุไม่ได้ (เวลาในข้อมูลไม่พอตัดสิน)",
            "Undetermined (the data's times cannot tell)"
        ),
        share_cell(&o.r1),
        undetermined_cell(&o.r1),
        share_cell(&o.r2),
        undetermined_cell(&o.r2),
        l.t("(นับรายจุดตรวจ)", "(per checkpoint)"),
        share_cell(&o.r3),
        undetermined_cell(&o.r3)
    )
}

/// The league table of one indicator.
pub fn league_table(
    c: &Chrome,
    rep: &IndicatorReport,
    sort: LeagueSort,
    prefix: &str,
    specs: &[(&str, &Text)],
) -> String {
    let l = c.lang;
    let mut s = String::new();
    let _ = write!(
        s,
        "<h1>{}: {}</h1><form class=\"inline\" method=\"get\" action=\"/dashboard/league\">\
         <input type=\"hidden\" name=\"lang\" value=\"{}\"><input type=\"hidden\" name=\"fy\" value=\"{}\">\
         <label>{}<select name=\"spec\" id=\"spec\">",
        l.t("ตารางอันดับ", "League table"),
        esc(l.text(&rep.spec_title)),
        l.code(),
        c.fiscal_year,
        l.t("ตัวชี้วัด", "Indicator"),
    );
    for (id, title) in specs {
        let sel = if *id == rep.spec { " selected" } else { "" };
        let _ = write!(
            s,
            "<option value=\"{}\"{sel}>{}</option>",
            esc(id),
            esc(l.text(title))
        );
    }
    let _ = write!(
        s,
        "</select></label><label>{}<select name=\"units\" id=\"units\">",
        l.t("หน่วยงาน", "Units")
    );
    for (v, th, en) in [
        ("district:", "สำนักงานเขต 50 เขต", "The 50 district offices"),
        ("", "ทุกหน่วยงาน", "All units"),
        ("dept:", "สำนัก", "Departments"),
    ] {
        let sel = if v == prefix { " selected" } else { "" };
        let _ = write!(s, "<option value=\"{v}\"{sel}>{}</option>", l.t(th, en));
    }
    let _ = write!(
        s,
        "</select></label><input type=\"hidden\" name=\"sort\" value=\"{}\"><button type=\"submit\">{}</button></form>",
        sort.as_str(),
        l.t("แสดง", "Show")
    );
    let _ = write!(
        s,
        "<p class=\"meta\">{} <span class=\"flag\">{}</span> = {} {SMALL_COUNT} {}</p>",
        l.t("หมายเหตุ:", "Note:"),
        l.t("น้อย", "few"),
        l.t("มีเรื่องน้อยกว่า", "fewer than"),
        l.t(
            "เรื่อง เทียบกับหน่วยงานที่มีเรื่องมากไม่ได้",
            "complaints: not comparable with large units"
        )
    );
    let head = |key: LeagueSort, label: &str, numeric: bool| -> String {
        let aria = if key == sort {
            " aria-sort=\"descending\""
        } else {
            ""
        };
        let aria = if key == sort && key == LeagueSort::Unit {
            " aria-sort=\"ascending\""
        } else {
            aria
        };
        format!(
            "<th scope=\"col\"{}{aria}><a href=\"{}\">{}</a></th>",
            if numeric { " class=\"n\"" } else { "" },
            c.link(
                "/dashboard/league",
                &[
                    ("spec", &rep.spec),
                    ("units", prefix),
                    ("sort", key.as_str())
                ]
            ),
            esc(label)
        )
    };
    let _ = write!(
        s,
        "<div class=\"scroll\"><table id=\"league\"><thead><tr><th scope=\"col\" class=\"n\">#</th>{}{}{}<th scope=\"col\" class=\"n\">{}</th>{}</tr></thead><tbody>",
        head(LeagueSort::Unit, l.t("หน่วยงาน", "Unit"), false),
        head(LeagueSort::Complaints, l.t("จำนวนเรื่อง", "Complaints"), true),
        head(LeagueSort::Share, l.t("ร้อยละ", "Share"), true),
        l.t("ระดับ", "Level"),
        head(LeagueSort::Score, l.t("คะแนน", "Score"), true),
    );
    let names = indicators::spec::bangkok_unit_names();
    for row in league(rep, names.keys().map(String::as_str), sort, prefix) {
        let u = row.result;
        let name = u.and_then(|u| u.name.as_ref()).map_or_else(
            || i18n::unit_name(l, row.unit, &names).to_string(),
            |t| l.text(t).to_string(),
        );
        let _ = write!(
            s,
            "<tr data-unit=\"{}\"><td class=\"n\">{}</td><td><a href=\"{}\">{}</a>{}</td><td class=\"n\">{}</td><td class=\"n\">{} {}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            esc(row.unit),
            row.rank,
            c.link(&format!("/dashboard/units/{}", url_part(row.unit)), &[]),
            esc(&name),
            if row.small {
                format!(" <span class=\"flag\" title=\"{}\">{}</span>", l.t("เรื่องน้อย เทียบไม่ได้", "few complaints: not comparable"), l.t("น้อย", "few"))
            } else {
                String::new()
            },
            count(u.map_or(0, |u| u.total)),
            svg::share_bar(u.and_then(|u| u.pct)),
            pct(u.and_then(|u| u.pct)),
            level(u.and_then(|u| u.level)),
            num(u.and_then(|u| u.score.or(u.points)))
        );
    }
    s.push_str("</tbody></table></div>");
    page(c, l.t("ตารางอันดับ", "League table"), "league", &s)
}

/// The columns of a steps table (HTML and Markdown), each with whether it holds numbers.
pub(crate) fn step_columns(l: Lang) -> [(&'static str, bool); 7] {
    [
        (l.t("ขั้น", "Step"), false),
        (l.t("ผ่าน/ทั้งหมด", "Met/total"), true),
        (l.t("รอ", "Pending"), true),
        (l.t("ร้อยละ", "Share"), true),
        (l.t("คะแนนขั้น", "Points"), true),
        (l.t("หักคะแนน", "Deductions"), false),
        (l.t("คะแนน", "Score"), true),
    ]
}

/// A unit's score, share and level as `(label, value)` pairs, for each format to mark up.
pub(crate) fn score_parts(l: Lang, u: &UnitResult) -> [(&'static str, String); 3] {
    [
        (l.t("คะแนนรวม", "Score"), num(u.score.or(u.points))),
        (l.t("ร้อยละ", "share"), pct(u.pct)),
        (l.t("ระดับ", "level"), level(u.level)),
    ]
}

fn steps_table(l: Lang, steps: &[StepResult]) -> String {
    let mut s = String::new();
    s.push_str(&table_start(None, &step_columns(l)));
    for st in steps {
        let deductions: Vec<String> = st
            .deductions
            .iter()
            .map(|d| {
                format!(
                    "−{:.2} {} ({})",
                    d.amount,
                    i18n::month_label(l, &d.month),
                    esc(&i18n::deduction(l, d))
                )
            })
            .collect();
        let _ = write!(
            s,
            "<tr><td>{}{}</td><td class=\"n\">{}/{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{}</td><td class=\"n\">{}</td></tr>",
            esc(st.title.as_ref().map_or(st.id.as_str(), |t| l.text(t))),
            st.note.as_ref().map_or(String::new(), |n| format!(" <span class=\"meta\">{}</span>", esc(&i18n::step_note(l, n)))),
            count(st.correct),
            count(st.total),
            count(st.pending),
            pct(st.pct),
            num(st.points),
            if deductions.is_empty() { "–".into() } else { deductions.join("<br>") },
            num(st.score)
        );
    }
    s.push_str("</tbody></table></div>");
    s
}

fn complaint_link(c: &Chrome, id: &str) -> String {
    format!(
        "<a href=\"{}\" class=\"mono\">{}</a>",
        c.link(&format!("/dashboard/complaints/{}", url_part(id)), &[]),
        esc(id)
    )
}

/// What a unit page shows, besides its name.
pub struct UnitPage<'a> {
    pub unit: &'a str,
    pub name: &'a str,
    /// Each indicator's report and this unit's line in it (if the indicator covers it).
    pub results: Vec<(&'a IndicatorReport, Option<&'a UnitResult>)>,
    /// Its open complaints, oldest first.
    pub backlog: Vec<&'a ComplaintView>,
    /// Its overdue obligations as of the page's instant.
    pub overdue: Vec<OverdueItem>,
    /// Show at most this many backlog rows (the dashboard); `None` shows all (reports).
    pub backlog_limit: Option<usize>,
    pub as_of: DateTime<FixedOffset>,
}

impl<'a> UnitPage<'a> {
    /// A unit's page from the judged complaints (as of `as_of`) and the indicator reports:
    /// its line in each, its backlog and the backlog's overdue obligations.
    pub fn new(
        unit: &'a str,
        name: &'a str,
        complaints: &[&'a ComplaintView],
        reports: impl IntoIterator<Item = &'a IndicatorReport>,
        as_of: DateTime<FixedOffset>,
        rules: &projections::DeadlineRules,
    ) -> UnitPage<'a> {
        let backlog = crate::model::backlog(complaints.iter().copied(), unit);
        let overdue = projections::overdue(backlog.iter().copied(), as_of, rules)
            .units
            .into_iter()
            .filter(|u| u.unit == unit)
            .flat_map(|u| u.items)
            .collect();
        UnitPage {
            unit,
            name,
            results: reports
                .into_iter()
                .map(|r| (r, r.units.iter().find(|u| u.unit == unit)))
                .collect(),
            backlog,
            overdue,
            backlog_limit: None,
            as_of,
        }
    }
}

/// A unit's page (also the body of the unit report).
pub fn unit_body(c: &Chrome, p: &UnitPage<'_>) -> String {
    let l = c.lang;
    let mut s = String::new();
    let _ = write!(
        s,
        "<h1>{}</h1><p class=\"meta\"><span class=\"mono\">{}</span> · {} · {} {}</p>",
        esc(p.name),
        esc(p.unit),
        i18n::fiscal_year(l, calendar::FiscalYear::from_ce(c.fiscal_year)),
        l.t("ณ", "as of"),
        i18n::instant(l, &p.as_of)
    );
    let _ = write!(
        s,
        "<h2>{}</h2>",
        l.t("คะแนนตามตัวชี้วัด", "Scores by indicator")
    );
    for (rep, unit) in &p.results {
        let _ = write!(s, "<h3>{}</h3>", esc(l.text(&rep.spec_title)));
        let Some(u) = unit else {
            let _ = write!(
                s,
                "<p class=\"meta\">{}</p>",
                l.t(
                    "ตัวชี้วัดนี้ไม่ครอบคลุมหน่วยงานนี้",
                    "This indicator does not cover this unit."
                )
            );
            continue;
        };
        let [(score_l, score), (share_l, share), (level_l, lvl)] = score_parts(l, u);
        let _ = write!(
            s,
            "<p>{score_l}: <strong>{score}</strong> · {share_l}: {share} · {level_l}: {lvl}{}</p>",
            if u.total < SMALL_COUNT {
                format!(
                    " <span class=\"flag\">{} {}</span>",
                    count(u.total),
                    l.t("เรื่อง", "complaints")
                )
            } else {
                String::new()
            }
        );
        s.push_str(&steps_table(l, &u.steps));
        if !u.failed.is_empty() {
            let _ = write!(
                s,
                "<details><summary>{}</summary><ul>",
                l.t(
                    "เรื่องที่ไม่ผ่านแต่ละเกณฑ์",
                    "Complaints that failed each criterion"
                )
            );
            for (criterion, ids) in &u.failed {
                let links: Vec<String> = ids
                    .iter()
                    .take(200)
                    .map(|id| complaint_link(c, id))
                    .collect();
                let _ = write!(
                    s,
                    "<li><strong>{}</strong> ({}): {}{}</li>",
                    esc(i18n::criterion(l, criterion)),
                    count(ids.len() as u64),
                    links.join(", "),
                    if ids.len() > 200 { " …" } else { "" }
                );
            }
            s.push_str("</ul></details>");
        }
    }
    let _ = write!(
        s,
        "<h2>{} ({})</h2>",
        l.t("เรื่องค้างดำเนินการ เก่าสุดก่อน", "Backlog, oldest first"),
        count(p.backlog.len() as u64)
    );
    let mut overdue_of: BTreeMap<&str, Vec<&OverdueItem>> = BTreeMap::new();
    for it in &p.overdue {
        overdue_of
            .entry(it.complaint_id.as_str())
            .or_default()
            .push(it);
    }
    s.push_str(&table_start(
        Some("backlog"),
        &[
            (l.t("เรื่อง", "Complaint"), false),
            (l.t("รับเมื่อ", "Received"), false),
            (l.t("ประเภท", "Category"), false),
            (l.t("สถานะ", "Status"), false),
            (l.t("เกินกำหนด", "Overdue"), false),
        ],
    ));
    let shown = p.backlog_limit.unwrap_or(usize::MAX).min(p.backlog.len());
    for v in &p.backlog[..shown] {
        let over = overdue_of.get(v.complaint_id.as_str());
        let _ = write!(
            s,
            "<tr{}><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            if over.is_some() {
                " class=\"overdue\""
            } else {
                ""
            },
            complaint_link(c, &v.complaint_id),
            v.received_at
                .as_ref()
                .map_or("–".into(), |t| i18n::instant(l, &t.0)),
            esc(i18n::category(l, &v.category)),
            i18n::status(l, v.status),
            over.map_or(String::new(), |items| obligations_cell(c, items))
        );
    }
    s.push_str("</tbody></table></div>");
    if shown < p.backlog.len() {
        let _ = write!(
            s,
            "<p class=\"meta\" id=\"backlog-more\">{} {} <code>rongtook report --unit {}</code></p>",
            count((p.backlog.len() - shown) as u64),
            l.t("เรื่องที่ใหม่กว่าไม่ได้แสดง รายการเต็มอยู่ใน", "newer complaints not shown; the full list is in"),
            esc(p.unit)
        );
    }
    if c.medium == Medium::Print {
        s.push_str(&obligations_appendix(l, &p.backlog[..shown], &overdue_of));
    }
    s
}

/// A backlog row's overdue obligations, one line per kind: how many, the oldest and newest
/// due dates, and the most days overdue. On screen the full list is one click away; in print
/// it is in the appendix.
fn obligations_cell(c: &Chrome, items: &[&OverdueItem]) -> String {
    let l = c.lang;
    let mut lines = Vec::new();
    for kind in projections::ObligationKind::ALL {
        let of_kind: Vec<&&OverdueItem> = items.iter().filter(|i| i.kind == kind).collect();
        let (Some(first), Some(last)) = (
            of_kind.iter().map(|i| i.due).min(),
            of_kind.iter().map(|i| i.due).max(),
        ) else {
            continue;
        };
        let most = of_kind.iter().map(|i| i.days_overdue).max().unwrap_or(0);
        let due = if first == last {
            i18n::date(l, first)
        } else {
            format!("{} – {}", i18n::date(l, first), i18n::date(l, last))
        };
        lines.push(format!(
            "<span class=\"bad\">{}</span> {} {} ({} {}) · {} {} {}",
            i18n::obligation(l, kind),
            count(of_kind.len() as u64),
            l.t("ครั้ง", "×"),
            l.t("ครบกำหนด", "due"),
            due,
            l.t("เกินกำหนดสูงสุด", "most overdue"),
            most,
            l.t("วัน", "days")
        ));
    }
    let mut cell = lines.join("<br>");
    if items.len() > lines.len() {
        match c.medium {
            Medium::Dashboard => {
                let all: Vec<String> = items
                    .iter()
                    .map(|it| format!("{} {}", i18n::obligation(l, it.kind), i18n::date(l, it.due)))
                    .collect();
                cell.push_str(&format!(
                    "<details><summary>{} ({})</summary>{}</details>",
                    l.t("ทุกรายการ", "every obligation"),
                    count(items.len() as u64),
                    all.join("<br>")
                ));
            }
            Medium::Print => cell.push_str(&format!(
                " <span class=\"meta\">({})</span>",
                l.t("ทุกรายการอยู่ในภาคผนวก", "all in the appendix")
            )),
        }
    }
    cell
}

/// In print: every overdue obligation of the backlog, a line per complaint and kind with all
/// its due dates.
fn obligations_appendix(
    l: Lang,
    backlog: &[&ComplaintView],
    overdue_of: &BTreeMap<&str, Vec<&OverdueItem>>,
) -> String {
    let mut s = String::new();
    let mut rows = 0;
    for v in backlog {
        let Some(items) = overdue_of.get(v.complaint_id.as_str()) else {
            continue;
        };
        for kind in projections::ObligationKind::ALL {
            let dues: Vec<String> = items
                .iter()
                .filter(|i| i.kind == kind)
                .map(|i| i18n::date(l, i.due))
                .collect();
            if dues.is_empty() {
                continue;
            }
            rows += 1;
            let _ = write!(
                s,
                "<tr><td class=\"mono\">{}</td><td>{}</td><td>{}</td></tr>",
                esc(&v.complaint_id),
                i18n::obligation(l, kind),
                dues.join(", ")
            );
        }
    }
    if rows == 0 {
        return String::new();
    }
    format!(
        "<section class=\"appendix\"><h2 id=\"appendix\">{}</h2>{}{}</tbody></table></div></section>",
        l.t("ภาคผนวก: ภาระที่เกินกำหนดทุกรายการ", "Appendix: every overdue obligation"),
        table_start(
            None,
            &[
                (l.t("เรื่อง", "Complaint"), false),
                (l.t("ภาระ", "Obligation"), false),
                (l.t("ครบกำหนด", "Due"), false),
            ],
        ),
        s
    )
}

/// A unit's dashboard page.
pub fn unit(c: &Chrome, p: &UnitPage<'_>) -> String {
    page(c, p.name, "league", &unit_body(c, p))
}

/// One complaint: its rounds with deadlines, and its events as a timeline with each hash
/// link checked. `chain_ok[i]` says whether `events[i]`'s hash matches its content and its
/// predecessor's hash.
pub fn complaint(
    c: &Chrome,
    v: &ComplaintView,
    public: Option<PublicInfo<'_>>,
    events: &[RecordedEvent],
    chain_ok: &[bool],
) -> String {
    let l = c.lang;
    let names = indicators::spec::bangkok_unit_names();
    let mut s = String::new();
    let _ = write!(
        s,
        "<h1>{} <span class=\"mono\">{}</span></h1>",
        l.t("เรื่องร้องทุกข์", "Complaint"),
        esc(&v.complaint_id)
    );
    if let Some(p) = &public {
        if !p.subject.is_empty() {
            let _ = write!(s, "<p><strong>{}</strong></p>", esc(p.subject));
        }
    }
    let _ = write!(
        s,
        "<dl class=\"cards\"><div class=\"card\"><dt class=\"k\">{}</dt><dd id=\"status\">{}</dd></div>\
         <div class=\"card\"><dt class=\"k\">{}</dt><dd>{}</dd></div><div class=\"card\"><dt class=\"k\">{}</dt><dd>{}</dd></div>\
         <div class=\"card\"><dt class=\"k\">{}</dt><dd>{}</dd></div><div class=\"card\"><dt class=\"k\">{}</dt><dd>{}</dd></div></dl>",
        l.t("สถานะ", "Status"),
        i18n::status(l, v.status),
        l.t("ผู้รับผิดชอบ", "Assigned to"),
        v.unit.as_deref().map_or("–".into(), |u| esc(i18n::unit_name(l, u, &names))),
        l.t("ประเภท", "Category"),
        esc(i18n::category(l, &v.category)),
        l.t("เขต", "District"),
        esc(&v.district),
        l.t("รับเมื่อ", "Received"),
        v.received_at.as_ref().map_or("–".into(), |t| i18n::instant(l, &t.0)),
    );
    let (r1, r2, r3) = (
        format!("R1 {}", l.t("ตอบรับ", "acknowledge")),
        format!("R2 {}", l.t("รายงานผลครั้งแรก", "first progress")),
        format!("R3 {}", l.t("รายงานตามรอบ", "checkpoints")),
    );
    let _ = write!(
        s,
        "<h2>{}</h2>{}",
        l.t("รอบการส่งต่อและกำหนดเวลา", "Rounds and deadlines"),
        table_start(
            Some("rounds"),
            &[
                ("#", false),
                (l.t("หน่วยงาน", "Unit"), false),
                (l.t("ส่งต่อเมื่อ", "Forwarded"), false),
                (&r1, false),
                (&r2, false),
                (&r3, false),
                (l.t("ผล", "Outcome"), false),
            ]
        ),
    );
    for (i, r) in v.rounds.iter().enumerate() {
        let checkpoints: Vec<String> = r
            .checkpoints
            .iter()
            .map(|k| format!("{} {}", i18n::date(l, k.date), yes_no(l, Some(k.status))))
            .collect();
        let _ = write!(
            s,
            "<tr><td>{}</td><td>{}{}</td><td>{}</td><td>{} {}</td><td>{} {}</td><td>{}</td><td>{}</td></tr>",
            i + 1,
            esc(i18n::unit_name(l, &r.unit, &names)),
            if r.external { format!(" <span class=\"meta\">({})</span>", l.t("ภายนอก", "external")) } else { String::new() },
            i18n::instant(l, &r.forwarded_at.0),
            r.ack_due.map_or("–".into(), |d| format!("{} {}", l.t("ภายใน", "due"), i18n::date(l, d))),
            yes_no(l, r.ack_status),
            r.first_progress_due.map_or("–".into(), |d| format!("{} {}", l.t("ภายใน", "due"), i18n::date(l, d))),
            yes_no(l, r.first_progress_status),
            if checkpoints.is_empty() { "–".into() } else { checkpoints.join("<br>") },
            r.outcome.map_or("–", |o| i18n::outcome(l, o)),
        );
    }
    s.push_str("</tbody></table></div>");
    let all_ok = chain_ok.iter().all(|ok| *ok);
    let _ = write!(
        s,
        "<h2>{}</h2><p id=\"chain\" class=\"{}\">{}</p><ol class=\"timeline\" id=\"timeline\">",
        l.t("ประวัติเหตุการณ์", "Event history"),
        if all_ok { "good" } else { "bad" },
        if all_ok {
            l.t(
                "✓ ห่วงโซ่แฮชของทุกเหตุการณ์ตรงกับเนื้อหา",
                "✓ Every event's hash matches its content and the hash before it",
            )
        } else {
            l.t(
                "✗ พบเหตุการณ์ที่แฮชไม่ตรง: บันทึกอาจถูกแก้ไข",
                "✗ An event's hash does not match: the log may have been altered",
            )
        }
    );
    for (e, ok) in events.iter().zip(chain_ok) {
        let detail = match &e.data {
            EventData::Received(d) => format!(
                "{} · {}{}",
                esc(d.channel.as_str()),
                esc(&d.subject),
                match (&d.complainant.name, &d.complainant.contact) {
                    (None, None) => String::new(),
                    (n, k) => format!(
                        " · {} {}",
                        esc(n.as_deref().unwrap_or("")),
                        esc(k.as_deref().unwrap_or(""))
                    ),
                }
            ),
            EventData::Forwarded(d) => format!(
                "→ {}{}",
                esc(i18n::unit_name(l, &d.to_unit, &names)),
                if d.external {
                    l.t(" (ภายนอก)", " (external)")
                } else {
                    ""
                }
            ),
            EventData::Acknowledged(d) => esc(i18n::unit_name(l, &d.unit, &names)),
            EventData::ProgressReported(d) => format!(
                "{}: {}",
                esc(i18n::unit_name(l, &d.unit, &names)),
                esc(&d.note)
            ),
            EventData::Closed(d) => format!("{} · {}", i18n::outcome(l, d.outcome), esc(&d.answer)),
            EventData::Reopened(d) => i18n::reopen_reason(l, d.reason).to_string(),
            EventData::SpotChecked(d) => {
                if d.consistent {
                    l.t("สอดคล้อง", "consistent").into()
                } else {
                    l.t("ไม่สอดคล้อง", "not consistent").into()
                }
            }
            EventData::MonthlyReportSubmitted(d) => esc(&d.month),
            EventData::Observed(d) => format!("{} · {}", esc(&d.source), esc(&d.state)),
            EventData::Flagged(d) => format!("{} · {}", i18n::flag(l, d.flag), esc(&d.note)),
            EventData::Chased(d) => format!(
                "{}: {}{}",
                esc(i18n::unit_name(l, &d.unit, &names)),
                i18n::chased(l, d.obligation),
                d.checkpoint
                    .map(|c| format!(" {}", i18n::date(l, c)))
                    .unwrap_or_default()
            ),
            EventData::ComplainantInformed(d) => format!(
                "{}{}",
                i18n::inform_method(l, d.method),
                d.note
                    .as_deref()
                    .map(|n| format!(" · {}", esc(n)))
                    .unwrap_or_default()
            ),
            EventData::FieldInspected(d) => format!(
                "{} · {}",
                esc(i18n::unit_name(l, &d.office, &names)),
                if d.consistent {
                    l.t("สอดคล้องกับรายงาน", "consistent with the report")
                } else {
                    l.t("ไม่สอดคล้องกับรายงาน", "not consistent with the report")
                }
            ),
        };
        let _ = write!(
            s,
            "<li data-position=\"{}\"><strong>{}</strong> <span class=\"meta\">{} · {} · #{}</span><br>{detail}<br>\
             <span class=\"meta mono\">{} {}…</span> {}</li>",
            e.position,
            i18n::event_type(l, e.event_type()),
            i18n::instant(l, &e.occurred_at),
            esc(&e.actor),
            e.position,
            l.t("แฮช", "hash"),
            &e.hash.to_hex()[..16],
            if *ok { "<span class=\"good\">✓</span>".to_string() } else { format!("<span class=\"bad\">✗ {}</span>", l.t("ไม่ตรง", "mismatch")) }
        );
    }
    s.push_str("</ol>");
    page(c, &v.complaint_id, "", &s)
}

/// The overdue list, with its filters.
pub fn overdue(
    c: &Chrome,
    rep: &OverdueReport,
    unit: Option<&str>,
    kind: Option<projections::ObligationKind>,
    as_of_text: &str,
) -> String {
    let l = c.lang;
    let names = indicators::spec::bangkok_unit_names();
    let mut s = String::new();
    let _ = write!(
        s,
        "<h1>{}</h1><form class=\"inline\" method=\"get\" action=\"/dashboard/overdue\">\
         <input type=\"hidden\" name=\"lang\" value=\"{}\"><input type=\"hidden\" name=\"fy\" value=\"{}\">\
         <label>{}<input name=\"as_of\" id=\"as_of\" value=\"{}\" placeholder=\"2024-03-01T09:00:00+07:00\"></label>\
         <label>{}<input name=\"unit\" id=\"unit\" value=\"{}\" placeholder=\"district:bang-rak\"></label><label>{}<select name=\"kind\" id=\"kind\"><option value=\"\">{}</option>",
        l.t("เรื่องเกินกำหนด", "Overdue obligations"),
        l.code(),
        c.fiscal_year,
        l.t("ณ เวลา (ว่าง = ขณะนี้)", "As of (empty = now)"),
        esc(as_of_text),
        l.t("หน่วยงาน", "Unit"),
        esc(unit.unwrap_or("")),
        l.t("ประเภท", "Kind"),
        l.t("ทั้งหมด", "all"),
    );
    for k in projections::ObligationKind::ALL {
        let sel = if Some(k) == kind { " selected" } else { "" };
        let _ = write!(
            s,
            "<option value=\"{}\"{sel}>{}</option>",
            k.as_str(),
            i18n::obligation(l, k)
        );
    }
    let _ = write!(
        s,
        "</select></label><button type=\"submit\">{}</button></form>",
        l.t("แสดง", "Show")
    );
    let shown: usize = rep
        .units
        .iter()
        .map(|u| {
            u.items
                .iter()
                .filter(|i| kind.is_none_or(|k| i.kind == k))
                .count()
        })
        .sum();
    let _ = write!(
        s,
        "<p id=\"overdue-total\">{} <strong>{}</strong> {}</p>",
        l.t("รวม", "In all"),
        count(shown as u64),
        l.t("รายการ", "obligations")
    );
    for u in &rep.units {
        let items: Vec<&OverdueItem> = u
            .items
            .iter()
            .filter(|i| kind.is_none_or(|k| i.kind == k))
            .collect();
        if items.is_empty() {
            continue;
        }
        let _ = write!(
            s,
            "<h2><a href=\"{}\">{}</a> ({})</h2>{}",
            c.link(&format!("/dashboard/units/{}", url_part(&u.unit)), &[]),
            esc(i18n::unit_name(l, &u.unit, &names)),
            count(items.len() as u64),
            table_start(
                None,
                &[
                    (l.t("เรื่อง", "Complaint"), false),
                    (l.t("ประเภท", "Kind"), false),
                    (l.t("ครบกำหนด", "Due"), false),
                    (l.t("เกินมาแล้ว (วัน)", "Days overdue"), true),
                    (l.t("ศูนย์ฯ ติดตามเมื่อ", "Chased by the centre"), false),
                ]
            ),
        );
        for it in items {
            let chased = match (&it.chased_at, it.chased_on_time) {
                (Some(t), Some(true)) => i18n::instant(l, &t.0),
                (Some(t), _) => format!(
                    "{} <span class=\"bad\">({})</span>",
                    i18n::instant(l, &t.0),
                    l.t("ช้า", "late")
                ),
                (None, Some(false)) => {
                    format!(
                        "<span class=\"bad\">{}</span>",
                        l.t("ยังไม่ติดตาม", "not chased")
                    )
                }
                (None, _) if it.chase_due.is_some() => l.t("ยังไม่ติดตาม", "not yet").to_string(),
                (None, _) => String::new(),
            };
            let _ = write!(
                s,
                "<tr class=\"overdue\"><td>{}</td><td>{}</td><td>{}</td><td class=\"n\">{}</td><td>{chased}</td></tr>",
                complaint_link(c, &it.complaint_id),
                i18n::obligation(l, it.kind),
                i18n::date(l, it.due),
                it.days_overdue
            );
        }
        s.push_str("</tbody></table></div>");
    }
    page(c, l.t("เรื่องเกินกำหนด", "Overdue"), "overdue", &s)
}

/// The sign-in form.
pub fn login(c: &Chrome, error: Option<&str>) -> String {
    let l = c.lang;
    let mut s = String::new();
    let _ = write!(
        s,
        "<h1>{}</h1><p>{}</p>",
        l.t("เข้าสู่ระบบ", "Sign in"),
        l.t(
            "ใส่โทเค็นที่ได้รับจากผู้ดูแลระบบ เพื่อดูข้อมูลตามสิทธิ์ของท่าน",
            "Enter the token your administrator gave you to see what your role may see."
        )
    );
    if let Some(e) = error {
        let _ = write!(s, "<p class=\"bad\" role=\"alert\">{}</p>", esc(e));
    }
    let _ = write!(
        s,
        "<form method=\"post\" action=\"/dashboard/login\"><input type=\"hidden\" name=\"lang\" value=\"{}\">\
         <label for=\"token\">{}</label><input id=\"token\" name=\"token\" type=\"password\" autocomplete=\"off\" required>\
         <button type=\"submit\">{}</button></form>",
        l.code(),
        l.t("โทเค็น", "Token"),
        l.t("เข้าสู่ระบบ", "Sign in")
    );
    page(c, l.t("เข้าสู่ระบบ", "Sign in"), "", &s)
}

/// Rows of an inspection list a page shows (the oldest).
const INSPECTION_ROWS: usize = 300;

/// Every office's inspection days a month, and an inspecting office's selection list.
pub fn inspection(
    c: &Chrome,
    office: &projections::InspectingOffice,
    list: &[projections::Listed],
    months: &[projections::InspectionMonth],
    as_of_text: &str,
) -> String {
    let l = c.lang;
    let names = indicators::spec::bangkok_unit_names();
    let mut s = String::new();
    let _ = write!(
        s,
        "<h1>{}</h1><form class=\"inline\" method=\"get\" action=\"/dashboard/inspection\" id=\"inspection-filter\">\
         <input type=\"hidden\" name=\"lang\" value=\"{}\"><input type=\"hidden\" name=\"fy\" value=\"{}\">\
         <label>{}<select name=\"office\" id=\"office\">",
        l.t("การตรวจพื้นที่", "Field inspection"),
        l.code(),
        c.fiscal_year,
        l.t("หน่วยตรวจ", "Inspecting office"),
    );
    for o in projections::INSPECTING_OFFICES {
        let sel = if o.id == office.id { " selected" } else { "" };
        let _ = write!(
            s,
            "<option value=\"{}\"{sel}>{}</option>",
            o.id,
            esc(l.t(o.th, o.en))
        );
    }
    let _ = write!(
        s,
        "</select></label><label>{}<input name=\"as_of\" value=\"{}\" placeholder=\"2024-03-01\"></label>\
         <button type=\"submit\">{}</button></form>",
        l.t("ณ เวลา (ว่าง = ขณะนี้)", "As of (empty = now)"),
        esc(as_of_text),
        l.t("แสดง", "Show")
    );
    let _ = write!(
        s,
        "<h2>{}</h2>",
        l.t(
            "วันลงพื้นที่ตรวจต่อเดือน (อย่างน้อย 4 วัน)",
            "Inspection days a month (at least 4)"
        )
    );
    s.push_str(&table_start(
        Some("inspection-months"),
        &[
            (l.t("หน่วยตรวจ", "Office"), false),
            (l.t("เดือน", "Month"), false),
            (l.t("วันที่ตรวจ", "Days"), true),
            (l.t("หน้าที่ 4 วัน", "4-day duty"), false),
            (l.t("ครั้ง", "Visits"), true),
            (l.t("เรื่อง", "Complaints"), true),
            (l.t("ไม่สอดคล้อง", "Not as reported"), true),
        ],
    ));
    for m in months {
        let class = match m.duty {
            projections::Judgement::Met => "good",
            projections::Judgement::Missed => "bad",
            _ => "",
        };
        let _ = write!(
            s,
            "<tr><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"{class}\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            esc(i18n::office_name(l, &m.office)),
            i18n::month_label(l, &m.month),
            m.days,
            i18n::judgement(l, Some(m.duty)),
            m.inspections,
            m.complaints,
            m.inconsistent
        );
    }
    s.push_str("</tbody></table></div>");
    let _ = write!(
        s,
        "<h2>{} ({})</h2><p class=\"meta\">{}</p>",
        l.t("เรื่องที่ควรลงพื้นที่ตรวจ เก่าสุดก่อน", "Complaints to inspect, oldest first"),
        count(list.len() as u64),
        l.t(
            "เรื่องของสำนักงานเขตจากช่องทางของหน่วยตรวจ ที่เร่งด่วน ยังไม่ได้รับการแก้ไขเกิน 15 วัน เปิดเรื่องใหม่ หรือผู้บริหารสั่งการ",
            "District offices' complaints of the office's channel that are urgent, unresolved more than 15 days after receipt, reopened, or assigned by an executive",
        )
    );
    s.push_str(&table_start(
        Some("inspection-list"),
        &[
            (l.t("เรื่อง", "Complaint"), false),
            (l.t("รับเรื่อง", "Received"), false),
            (l.t("สถานะ", "Status"), false),
            (l.t("หน่วยงาน", "Unit"), false),
            (l.t("เหตุผล", "Reasons"), false),
            (l.t("ตรวจแล้ว", "Inspections"), true),
        ],
    ));
    for x in list.iter().take(INSPECTION_ROWS) {
        let reasons: Vec<&str> = x.reasons.iter().map(|r| i18n::list_reason(l, *r)).collect();
        let bad = x.inspections.iter().filter(|i| !i.consistent).count();
        let _ = write!(
            s,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"n\">{}{}</td></tr>",
            complaint_link(c, &x.complaint_id),
            x.received_at
                .map(|t| i18n::date(l, calendar::local_date(&t.0)))
                .unwrap_or_default(),
            i18n::status(l, x.status),
            esc(x
                .unit
                .as_deref()
                .map(|u| i18n::unit_name(l, u, &names))
                .unwrap_or("")),
            esc(&reasons.join(", ")),
            x.inspections.len(),
            if bad > 0 {
                format!(" <span class=\"bad\">({bad} {})</span>", l.t("ไม่สอดคล้อง", "not as reported"))
            } else {
                String::new()
            }
        );
    }
    s.push_str("</tbody></table></div>");
    if list.len() > INSPECTION_ROWS {
        let _ = write!(
            s,
            "<p class=\"meta\">{}</p>",
            match l {
                Lang::Th => format!(
                    "แสดง {} เรื่องที่เก่าที่สุดจาก {} เรื่อง รายการทั้งหมดดูได้จาก API และคำสั่ง inspect-list",
                    count(INSPECTION_ROWS as u64),
                    count(list.len() as u64)
                ),
                Lang::En => format!(
                    "Showing the oldest {} of {}; the API and `rongtook inspect-list` give them all.",
                    count(INSPECTION_ROWS as u64),
                    count(list.len() as u64)
                ),
            }
        );
    }
    page(c, l.t("การตรวจพื้นที่", "Field inspection"), "inspection", &s)
}
