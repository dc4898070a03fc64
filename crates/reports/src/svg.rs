//! Charts drawn as SVG text by the server: no script, no external fonts; each has a title and
//! a description for screen readers, and the figures are also given as a table by the page.

use std::fmt::Write;

use crate::html::esc;

/// One group of bars (a month): its label and one value per series.
pub struct Group {
    pub label: String,
    pub values: Vec<u64>,
}

/// Grouped bars: one group per label, one bar per series, with a legend.
pub fn grouped_bars(title: &str, desc: &str, series: &[&str], groups: &[Group]) -> String {
    const W: f64 = 720.0;
    const H: f64 = 260.0;
    const LEFT: f64 = 52.0;
    const BOTTOM: f64 = 40.0;
    const TOP: f64 = 28.0;
    const COLOURS: [&str; 4] = ["#0b4f8a", "#e08a00", "#1e6b2e", "#6a3d9a"];
    let max = groups
        .iter()
        .flat_map(|g| g.values.iter().copied())
        .max()
        .unwrap_or(0)
        .max(1);
    // A round top for the scale: 1, 2 or 5 times a power of ten.
    let mut top = 1u64;
    'scale: loop {
        for m in [1, 2, 5] {
            if top * m >= max {
                top *= m;
                break 'scale;
            }
        }
        top *= 10;
    }
    let plot_h = H - TOP - BOTTOM;
    let plot_w = W - LEFT - 8.0;
    let gw = plot_w / groups.len().max(1) as f64;
    let bw = (gw * 0.8) / series.len().max(1) as f64;
    let mut s = String::new();
    let _ = write!(
        s,
        "<svg class=\"chart\" viewBox=\"0 0 {W} {H}\" width=\"100%\" role=\"img\" aria-labelledby=\"chart-t chart-d\" \
         xmlns=\"http://www.w3.org/2000/svg\"><title id=\"chart-t\">{}</title><desc id=\"chart-d\">{}</desc>",
        esc(title),
        esc(desc)
    );
    for i in 0..=4 {
        let v = top * i / 4;
        let y = TOP + plot_h - plot_h * (i as f64 / 4.0);
        let _ = write!(
            s,
            "<line x1=\"{LEFT}\" x2=\"{}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#ddd\"/>\
             <text x=\"{}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"end\" fill=\"#333\">{v}</text>",
            W - 8.0,
            LEFT - 4.0,
            y + 4.0
        );
    }
    for (gi, g) in groups.iter().enumerate() {
        let x0 = LEFT + gi as f64 * gw + gw * 0.1;
        for (si, v) in g.values.iter().enumerate() {
            let h = plot_h * (*v as f64 / top as f64);
            let _ = write!(
                s,
                "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{h:.1}\" fill=\"{}\"><title>{}: {}</title></rect>",
                x0 + si as f64 * bw,
                TOP + plot_h - h,
                bw.max(1.0) - 1.0,
                COLOURS[si % COLOURS.len()],
                esc(&format!("{} {}", g.label, series.get(si).unwrap_or(&""))),
                v
            );
        }
        let _ = write!(
            s,
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"middle\" fill=\"#333\">{}</text>",
            x0 + gw * 0.4,
            H - BOTTOM + 16.0,
            esc(&g.label)
        );
    }
    for (si, name) in series.iter().enumerate() {
        let x = LEFT + si as f64 * 160.0;
        let _ = write!(
            s,
            "<rect x=\"{x}\" y=\"6\" width=\"12\" height=\"12\" fill=\"{}\"/>\
             <text x=\"{}\" y=\"16\" font-size=\"12\" fill=\"#111\">{}</text>",
            COLOURS[si % COLOURS.len()],
            x + 16.0,
            esc(name)
        );
    }
    s.push_str("</svg>");
    s
}

/// A horizontal bar for a share (0-100), for tables.
pub fn share_bar(pct: Option<f64>) -> String {
    let Some(p) = pct else {
        return String::new();
    };
    let w = p.clamp(0.0, 100.0);
    format!(
        "<svg width=\"100\" height=\"10\" viewBox=\"0 0 100 10\" aria-hidden=\"true\">\
         <rect width=\"100\" height=\"10\" fill=\"#e5e7eb\"/><rect width=\"{w:.1}\" height=\"10\" fill=\"#0b4f8a\"/></svg>"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_scale_to_a_round_top_and_escape_labels() {
        let svg = grouped_bars(
            "t<",
            "d",
            &["a", "b"],
            &[
                Group {
                    label: "x&y".into(),
                    values: vec![30, 7],
                },
                Group {
                    label: "z".into(),
                    values: vec![0, 12],
                },
            ],
        );
        assert!(svg.contains("<title id=\"chart-t\">t&lt;</title>"));
        assert!(svg.contains(">50</text>"), "scale top 50 for a max of 30");
        assert!(svg.contains("x&amp;y"));
        assert_eq!(
            svg.matches("<rect x=").count(),
            4 + 2,
            "4 bars and 2 legend keys"
        );
    }
}
