//! The fiscal-year evaluation of one indicator in each output format: printable HTML (A4),
//! Markdown and CSV (UTF-8 with a byte-order mark). The one renderer of each format, for
//! `rongtook report` and the replay's `--format` files alike.

use std::fmt::Write;

use indicators::evaluate::{StepResult, UnitResult};
use indicators::IndicatorReport;

use crate::export::{csv_field, BOM};
use crate::html::{count, esc, level, num, page, pct, Chrome};
use crate::i18n;
use crate::model::{league, LeagueSort, Overview};
use crate::pages::trend;

fn md_num(v: Option<f64>) -> String {
    v.map_or("-".into(), |x| format!("{x:.2}"))
}

fn md_pct(v: Option<f64>) -> String {
    v.map_or("n/a".into(), |x| format!("{x:.2}%"))
}

/// The fiscal-year evaluation of one indicator, printable: the year at a glance, the monthly
/// chart, and every unit's line ranked.
pub fn html(c: &Chrome, o: &Overview, rep: &IndicatorReport, prefix: &str) -> String {
    let l = c.lang;
    let mut s = String::new();
    let _ = write!(
        s,
        "<h1>{}</h1><p>{} · {} {} · {} <span class=\"mono\">{}</span> · {} {}</p>",
        esc(l.text(&rep.spec_title)),
        i18n::fiscal_year(l, o.fiscal_year),
        l.t("ณ", "as of"),
        i18n::instant(l, &o.as_of),
        l.t("เกณฑ์", "spec"),
        esc(&rep.spec_hash[..16.min(rep.spec_hash.len())]),
        l.t("ข้อมูลถึงลำดับ", "log position"),
        rep.provenance.log_head_position
    );
    let _ = write!(
        s,
        "<p>{}: {} · {}: {} · {}: {}</p>",
        l.t("เรื่องที่รับ", "received"),
        count(o.received),
        l.t("ยุติแล้ว", "closed"),
        count(o.closed),
        l.t("แก้ไขสำเร็จ", "resolved"),
        pct(o.resolved_pct())
    );
    s.push_str(&trend(l, o));
    s.push_str(&crate::pages::timeliness_table(l, o));
    let _ = write!(
        s,
        "<h2>{}</h2><table><thead><tr><th class=\"n\">#</th><th>{}</th><th class=\"n\">{}</th><th class=\"n\">{}</th><th class=\"n\">{}</th><th class=\"n\">{}</th></tr></thead><tbody>",
        l.t("ผลรายหน่วยงาน", "Units"),
        l.t("หน่วยงาน", "Unit"),
        l.t("จำนวนเรื่อง", "Complaints"),
        l.t("ร้อยละ", "Share"),
        l.t("ระดับ", "Level"),
        l.t("คะแนน", "Score"),
    );
    let names = indicators::spec::bangkok_unit_names();
    for row in league(
        rep,
        names.keys().map(String::as_str),
        LeagueSort::Score,
        prefix,
    ) {
        let u = row.result;
        let _ = write!(
            s,
            "<tr><td class=\"n\">{}</td><td>{}{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            row.rank,
            esc(u.and_then(|u| u.name.as_ref()).map_or_else(|| i18n::unit_name(l, row.unit, &names), |t| l.text(t))),
            if row.small { format!(" <span class=\"flag\">{}</span>", l.t("น้อย", "few")) } else { String::new() },
            count(u.map_or(0, |u| u.total)),
            pct(u.and_then(|u| u.pct)),
            level(u.and_then(|u| u.level)),
            num(u.and_then(|u| u.score.or(u.points)))
        );
    }
    s.push_str("</tbody></table>");
    page(c, l.text(&rep.spec_title), "", &s)
}

fn step_cells(s: &StepResult) -> String {
    let taken: f64 = s.deductions.iter().map(|d| d.amount).sum();
    format!(
        "{}/{} ({}){} | {} | {} | {}",
        s.correct,
        s.total,
        md_pct(s.pct),
        if s.undetermined > 0 {
            format!(", {} undetermined", s.undetermined)
        } else {
            String::new()
        },
        md_num(s.points),
        if taken > 0.0 {
            format!("-{taken:.2}")
        } else {
            "0".into()
        },
        md_num(s.score)
    )
}

fn unit_label(u: &UnitResult) -> String {
    match &u.name {
        Some(n) => format!("{} ({})", n.th, u.unit),
        None => u.unit.clone(),
    }
}

/// A Markdown report: header with provenance, one table row per unit, then the deductions.
pub fn markdown(rep: &IndicatorReport) -> String {
    let mut s = String::new();
    s.push_str(&format!(
        "# {} / {}\n\n",
        rep.spec_title.th, rep.spec_title.en
    ));
    s.push_str(&format!(
        "ปีงบประมาณ พ.ศ. {} (FY {}), as of {}\n\n",
        rep.fiscal_year_be, rep.fiscal_year, rep.as_of
    ));
    s.push_str(&format!(
        "Spec `{}` (sha256 {}), log head {} ({}), calendar {}\n\n",
        rep.spec,
        &rep.spec_hash[..16],
        rep.provenance.log_head_position,
        &rep.provenance.log_head_hash[..16.min(rep.provenance.log_head_hash.len())],
        rep.provenance.calendar_version
    ));
    let mut header = "| unit | complaints |".to_string();
    let mut rule = "| --- | ---: |".to_string();
    for st in &rep.overall.steps {
        header.push_str(&format!(
            " {0} correct/total | {0} points | {0} deductions | {0} score |",
            st.id
        ));
        rule.push_str(" ---: | ---: | ---: | ---: |");
    }
    header.push_str(" score | level |");
    rule.push_str(" ---: | ---: |");
    s.push_str(&header);
    s.push('\n');
    s.push_str(&rule);
    s.push('\n');
    for u in rep.units.iter().chain(std::iter::once(&rep.overall)) {
        s.push_str(&format!("| {} | {} |", unit_label(u), u.total));
        for st in &u.steps {
            s.push_str(&format!(" {} |", step_cells(st)));
        }
        s.push_str(&format!(
            " {} | {} |\n",
            md_num(u.score),
            u.level.map_or("-".into(), |l| l.to_string())
        ));
    }
    s.push_str("\n## Quarters (by forward date) / รายไตรมาส\n\n| quarter | complaints |");
    let steps: Vec<&str> = rep
        .quarters
        .first()
        .map(|q| q.overall.steps.iter().map(|st| st.id.as_str()).collect())
        .unwrap_or_default();
    for id in &steps {
        s.push_str(&format!(" {id} correct/total |"));
    }
    s.push_str("\n| --- | ---: |");
    for _ in &steps {
        s.push_str(" ---: |");
    }
    s.push('\n');
    for q in &rep.quarters {
        s.push_str(&format!("| Q{} | {} |", q.quarter, q.overall.total));
        for st in &q.overall.steps {
            s.push_str(&format!(
                " {}/{} ({}) |",
                st.correct,
                st.total,
                md_pct(st.pct)
            ));
        }
        s.push('\n');
    }
    let mut any = false;
    for u in &rep.units {
        for st in &u.steps {
            for d in &st.deductions {
                if !any {
                    s.push_str("\n## Deductions\n\n| unit | step | month | amount | reason |\n| --- | --- | --- | ---: | --- |\n");
                    any = true;
                }
                s.push_str(&format!(
                    "| {} | {} | {} | {:.2} | {} |\n",
                    u.unit, st.id, d.month, d.amount, d.reason
                ));
            }
        }
    }
    s
}

/// CSV, one row per unit and step, UTF-8 with a byte-order mark so that spreadsheets read the
/// Thai text correctly.
pub fn csv(rep: &IndicatorReport) -> String {
    let mut s = String::from(BOM);
    s.push_str("spec,fiscal_year_be,unit,unit_name_th,complaints,step,correct,total,pending,undetermined,pct,points,deductions,step_score,unit_score,level\n");
    for u in rep.units.iter().chain(std::iter::once(&rep.overall)) {
        for st in &u.steps {
            let taken: f64 = st.deductions.iter().map(|d| d.amount).sum();
            let row = [
                rep.spec.clone(),
                rep.fiscal_year_be.to_string(),
                u.unit.clone(),
                u.name.as_ref().map_or(String::new(), |n| n.th.clone()),
                u.total.to_string(),
                st.id.clone(),
                st.correct.to_string(),
                st.total.to_string(),
                st.pending.to_string(),
                st.undetermined.to_string(),
                st.pct.map_or(String::new(), |p| format!("{p:.4}")),
                st.points.map_or(String::new(), |p| format!("{p:.4}")),
                format!("{taken:.2}"),
                st.score.map_or(String::new(), |p| format!("{p:.4}")),
                u.score.map_or(String::new(), |p| format!("{p:.4}")),
                u.level.map_or(String::new(), |l| l.to_string()),
            ];
            s.push_str(
                &row.iter()
                    .map(|f| csv_field(f))
                    .collect::<Vec<_>>()
                    .join(","),
            );
            s.push('\n');
        }
    }
    s
}
