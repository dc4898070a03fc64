//! The one-line summary of an indicator result printed by `replay` and `demo` (the Markdown
//! and CSV renderings are `reports::evaluation`'s).

use indicators::IndicatorReport;

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
            .map(|s| if s.undetermined > 0 {
                format!(
                    "{} {} ({}/{} judged, {} undetermined)",
                    s.id,
                    pct(s.pct),
                    s.correct,
                    s.total,
                    s.undetermined
                )
            } else {
                format!("{} {}", s.id, pct(s.pct))
            })
            .collect::<Vec<_>>()
            .join(", ")
    )
}
