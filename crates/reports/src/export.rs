//! Printed and spreadsheet reports: the fiscal-year evaluation and a unit's report (its
//! scores step by step, its backlog, its complaints of a period) as printable HTML (A4),
//! Markdown or CSV (UTF-8 with a byte-order mark, so spreadsheets read the Thai).

use std::fmt::Write;

use projections::ComplaintView;

use projections::Judgement;

use crate::html::{count, esc, num, page, pct, Chrome};
use crate::i18n::{self, Lang};
use crate::pages::{unit_body, UnitPage};

/// The byte-order mark that makes spreadsheets read a CSV file as UTF-8.
pub const BOM: &str = "\u{feff}";

/// A CSV field, quoted when it needs to be.
pub fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn csv_row(out: &mut String, fields: &[String]) {
    let row: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
    out.push_str(&row.join(","));
    out.push_str("\r\n");
}

fn opt(v: Option<f64>) -> String {
    v.map_or(String::new(), |x| format!("{x:.2}"))
}

/// A verdict as data (CSV): `met`, `missed` or `pending`.
fn verdict(v: Option<Judgement>) -> &'static str {
    v.map_or("", Judgement::as_str)
}

/// A verdict in words.
fn verdict_in(l: Lang, v: Option<Judgement>) -> &'static str {
    i18n::judgement(l, v)
}

/// A unit's report, printable; `period` lists the complaints of a month or quarter, if one
/// was asked for.
pub fn unit_html(
    c: &Chrome,
    p: &UnitPage<'_>,
    period: Option<(&str, &[&ComplaintView])>,
) -> String {
    let mut s = unit_body(c, p);
    if let Some((label, list)) = period {
        s.push_str(&period_html(c.lang, label, list));
    }
    page(c, p.name, "", &s)
}

fn period_html(l: Lang, label: &str, list: &[&ComplaintView]) -> String {
    let mut s = String::new();
    let _ = write!(
        s,
        "<h2>{} {} ({})</h2><table id=\"period\"><thead><tr><th>{}</th><th>{}</th><th>R1</th><th>R2</th><th>R3</th><th>{}</th><th>{}</th></tr></thead><tbody>",
        l.t("เรื่องของช่วง", "Complaints of"),
        esc(label),
        count(list.len() as u64),
        l.t("เรื่อง", "Complaint"),
        l.t("รับเมื่อ", "Received"),
        l.t("สถานะ", "Status"),
        l.t("ผล", "Outcome"),
    );
    for v in list {
        let r = v.rounds.last();
        let r3 = r.map(|r| r.r3_status());
        let _ = write!(
            s,
            "<tr><td class=\"mono\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&v.complaint_id),
            v.received_at.as_ref().map_or("–".into(), |t| i18n::instant(l, &t.0)),
            verdict_in(l, r.and_then(|r| r.ack_status)),
            verdict_in(l, r.and_then(|r| r.first_progress_status)),
            verdict_in(l, r3),
            i18n::status(l, v.status),
            v.outcome.map_or("–", |o| i18n::outcome(l, o))
        );
    }
    s.push_str("</tbody></table>");
    s
}

/// A unit's report as CSV: one section of step results per indicator, then the backlog and
/// the period's complaints. Starts with the byte-order mark.
pub fn unit_csv(p: &UnitPage<'_>, period: Option<(&str, &[&ComplaintView])>) -> String {
    let mut s = String::from(BOM);
    csv_row(
        &mut s,
        &[
            "section",
            "unit",
            "indicator",
            "step",
            "correct",
            "total",
            "pending",
            "pct",
            "points",
            "deductions",
            "score",
        ]
        .map(String::from),
    );
    for (rep, u) in &p.results {
        let Some(u) = u else { continue };
        for st in &u.steps {
            let taken: f64 = st.deductions.iter().fold(0.0, |t, d| t + d.amount);
            csv_row(
                &mut s,
                &[
                    "score".into(),
                    p.unit.into(),
                    rep.spec.clone(),
                    st.id.clone(),
                    st.correct.to_string(),
                    st.total.to_string(),
                    st.pending.to_string(),
                    opt(st.pct),
                    opt(st.points),
                    format!("{taken:.2}"),
                    opt(st.score),
                ],
            );
        }
    }
    s.push_str("\r\n");
    csv_row(
        &mut s,
        &[
            "section",
            "complaint",
            "received_at",
            "category",
            "status",
            "outcome",
            "r1",
            "r2",
            "overdue",
        ]
        .map(String::from),
    );
    let mut rows = |section: &str, list: &[&ComplaintView]| {
        for v in list {
            let r = v.rounds.last();
            let overdue: Vec<String> = p
                .overdue
                .iter()
                .filter(|i| i.complaint_id == v.complaint_id)
                .map(|i| format!("{} {}", i.kind.as_str(), i.due))
                .collect();
            csv_row(
                &mut s,
                &[
                    section.into(),
                    v.complaint_id.clone(),
                    v.received_at
                        .as_ref()
                        .map_or(String::new(), |t| event_model::format_instant(&t.0)),
                    v.category.clone(),
                    v.status.as_str().into(),
                    v.outcome.map_or("", |o| o.as_str()).into(),
                    verdict(r.and_then(|r| r.ack_status)).into(),
                    verdict(r.and_then(|r| r.first_progress_status)).into(),
                    overdue.join("; "),
                ],
            );
        }
    };
    rows("backlog", &p.backlog);
    if let Some((label, list)) = period {
        rows(&format!("period {label}"), list);
    }
    s
}

/// A unit's report as Markdown.
pub fn unit_md(l: Lang, p: &UnitPage<'_>, period: Option<(&str, &[&ComplaintView])>) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# {} ({})\n", p.name, p.unit);
    let _ = writeln!(s, "{} {}\n", l.t("ณ", "As of"), i18n::instant(l, &p.as_of));
    for (rep, u) in &p.results {
        let _ = writeln!(s, "## {}\n", l.text(&rep.spec_title));
        let Some(u) = u else {
            let _ = writeln!(
                s,
                "{}\n",
                l.t("ไม่ครอบคลุมหน่วยงานนี้", "Does not cover this unit.")
            );
            continue;
        };
        let [(score_l, score), (share_l, share), (level_l, lvl)] = crate::pages::score_parts(l, u);
        let _ = writeln!(
            s,
            "{score_l}: **{score}**, {share_l} {share}, {level_l} {lvl}\n"
        );
        let columns = crate::pages::step_columns(l);
        let heads: Vec<&str> = columns.iter().map(|(h, _)| *h).collect();
        let rules: Vec<&str> = columns
            .iter()
            .map(|(_, n)| if *n { "---:" } else { "---" })
            .collect();
        let _ = writeln!(s, "| {} |\n| {} |", heads.join(" | "), rules.join(" | "));
        for st in &u.steps {
            let d: Vec<String> = st
                .deductions
                .iter()
                .map(|d| {
                    let month = i18n::month_label(l, &d.month);
                    format!("-{:.2} {month} ({})", d.amount, i18n::deduction(l, d))
                })
                .collect();
            let _ = writeln!(
                s,
                "| {} | {}/{} | {} | {} | {} | {} | {} |",
                st.title.as_ref().map_or(st.id.as_str(), |t| l.text(t)),
                st.correct,
                st.total,
                st.pending,
                pct(st.pct),
                num(st.points),
                if d.is_empty() {
                    "-".into()
                } else {
                    d.join("; ")
                },
                num(st.score)
            );
        }
        s.push('\n');
    }
    let _ = writeln!(
        s,
        "## {} ({})\n",
        l.t("เรื่องค้างดำเนินการ", "Backlog"),
        p.backlog.len()
    );
    for v in &p.backlog {
        let over: Vec<String> = p
            .overdue
            .iter()
            .filter(|i| i.complaint_id == v.complaint_id)
            .map(|i| {
                format!(
                    "{} ({} {}, {} {})",
                    i18n::obligation(l, i.kind),
                    l.t("ครบกำหนด", "due"),
                    i18n::date(l, i.due),
                    i.days_overdue,
                    l.t("วัน", "days")
                )
            })
            .collect();
        let _ = writeln!(
            s,
            "- {} {} {}{}",
            v.complaint_id,
            v.received_at
                .as_ref()
                .map_or(String::new(), |t| i18n::instant(l, &t.0)),
            i18n::status(l, v.status),
            if over.is_empty() {
                String::new()
            } else {
                format!(" **{}: {}**", l.t("เกินกำหนด", "overdue"), over.join(", "))
            }
        );
    }
    if let Some((label, list)) = period {
        let _ = writeln!(
            s,
            "\n## {} {} ({})\n",
            l.t("เรื่องของช่วง", "Complaints of"),
            label,
            list.len()
        );
        for v in list {
            let _ = writeln!(
                s,
                "- {} {} {} {}",
                v.complaint_id,
                v.received_at
                    .as_ref()
                    .map_or(String::new(), |t| i18n::instant(l, &t.0)),
                i18n::status(l, v.status),
                v.outcome.map_or("", |o| i18n::outcome(l, o))
            );
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_only_when_needed() {
        assert_eq!(csv_field("ถนน"), "ถนน");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
    }
}
