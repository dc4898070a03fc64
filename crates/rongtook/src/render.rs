//! Human renderings of indicator results: one summary line, Markdown, CSV.

use indicators::evaluate::{StepResult, UnitResult};
use indicators::IndicatorReport;

fn num(v: Option<f64>) -> String {
    v.map_or("-".into(), |x| format!("{x:.2}"))
}

fn pct(v: Option<f64>) -> String {
    v.map_or("n/a".into(), |x| format!("{x:.2}%"))
}

/// `spec: N units; overall N complaints, step pct, ...`
pub fn one_line(rep: &IndicatorReport) -> String {
    let o = &rep.overall;
    format!(
        "{}: {} units; overall {} complaints, {}",
        rep.spec,
        rep.units.len(),
        o.total,
        o.steps
            .iter()
            .map(|s| format!("{} {}", s.id, pct(s.pct)))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

fn step_cells(s: &StepResult) -> String {
    let taken: f64 = s.deductions.iter().map(|d| d.amount).sum();
    format!(
        "{}/{} ({}) | {} | {} | {}",
        s.correct,
        s.total,
        pct(s.pct),
        num(s.points),
        if taken > 0.0 {
            format!("-{taken:.2}")
        } else {
            "0".into()
        },
        num(s.score)
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
            num(u.score),
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
            s.push_str(&format!(" {}/{} ({}) |", st.correct, st.total, pct(st.pct)));
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

fn csv_field(v: &str) -> String {
    if v.contains([',', '"', '\n']) {
        format!("\"{}\"", v.replace('"', "\"\""))
    } else {
        v.to_string()
    }
}

/// CSV, one row per unit and step, UTF-8 with a byte-order mark so that spreadsheets read the
/// Thai text correctly.
pub fn csv(rep: &IndicatorReport) -> String {
    let mut s = String::from("\u{feff}");
    s.push_str("spec,fiscal_year_be,unit,unit_name_th,complaints,step,correct,total,pending,pct,points,deductions,step_score,unit_score,level\n");
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
