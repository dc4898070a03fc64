//! The diff of two replays (two rule versions, two logs, two builds): complaints whose fields
//! changed, units whose indicator results changed and the complaints that moved them, the
//! overdue list, the provenance. Pure: the replays' outputs come in as JSON values.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::Value;

use crate::replay::Replayed;

/// A replay's outputs as named JSON values: `meta.json`, `complaints.json`, `overdue.json`,
/// and `indicators.json` for one spec or `indicators-<spec>.json` for several.
pub type ReplayFiles = BTreeMap<String, Value>;

/// The file stem of each indicator result of a replay scored with `specs` specs.
pub fn indicator_stem(spec: &str, specs: usize) -> String {
    if specs == 1 {
        "indicators".to_string()
    } else {
        format!("indicators-{spec}")
    }
}

/// A replay's outputs as [`ReplayFiles`], without writing them.
pub fn files_of(r: &Replayed) -> Result<ReplayFiles, serde_json::Error> {
    let mut files = ReplayFiles::new();
    files.insert("meta.json".into(), serde_json::to_value(&r.meta)?);
    files.insert(
        "complaints.json".into(),
        serde_json::to_value(&r.figures.complaints)?,
    );
    files.insert("overdue.json".into(), serde_json::to_value(&r.overdue)?);
    for rep in &r.figures.indicators {
        files.insert(
            format!(
                "{}.json",
                indicator_stem(&rep.spec, r.figures.indicators.len())
            ),
            serde_json::to_value(rep)?,
        );
    }
    Ok(files)
}

#[derive(Debug, Serialize, PartialEq)]
pub struct Change {
    pub path: String,
    pub old: Value,
    pub new: Value,
}

#[derive(Debug, Serialize, Default)]
pub struct ComplaintsDiff {
    pub added: Vec<String>,
    pub removed: Vec<String>,
    pub changed: Vec<ComplaintChange>,
}

#[derive(Debug, Serialize)]
pub struct ComplaintChange {
    pub complaint_id: String,
    pub changes: Vec<Change>,
}

#[derive(Debug, Serialize)]
pub struct UnitChange {
    pub unit: String,
    /// `changed`, `added` or `removed`.
    pub kind: &'static str,
    pub changes: Vec<Change>,
    /// Per criterion, complaints failing it in B and not in A: the cause of a drop.
    pub newly_failed: BTreeMap<String, Vec<String>>,
    /// Per criterion, complaints failing it in A and not in B.
    pub no_longer_failed: BTreeMap<String, Vec<String>>,
}

#[derive(Debug, Serialize)]
pub struct IndicatorsDiff {
    pub file: String,
    pub spec: Value,
    /// A changed spec id or content hash.
    pub spec_changes: Vec<Change>,
    pub units: Vec<UnitChange>,
}

#[derive(Debug, Serialize)]
pub struct Diff {
    pub identical: bool,
    pub meta: Vec<Change>,
    pub complaints: ComplaintsDiff,
    pub overdue: Vec<Change>,
    pub indicators: Vec<IndicatorsDiff>,
    /// Output files found in only one of the folders.
    pub only_in_a: Vec<String>,
    pub only_in_b: Vec<String>,
}

/// Leaf-by-leaf differences of two JSON values, with paths like `rounds[0].ack_on_time`.
pub fn leaf_changes(path: &str, a: &Value, b: &Value, out: &mut Vec<Change>) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            for k in keys {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                leaf_changes(
                    &p,
                    x.get(k).unwrap_or(&Value::Null),
                    y.get(k).unwrap_or(&Value::Null),
                    out,
                );
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (u, v)) in x.iter().zip(y).enumerate() {
                leaf_changes(&format!("{path}[{i}]"), u, v, out);
            }
        }
        _ if a != b => out.push(Change {
            path: path.to_string(),
            old: a.clone(),
            new: b.clone(),
        }),
        _ => {}
    }
}

fn by_key<'a>(v: &'a Value, key: &str) -> BTreeMap<String, &'a Value> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(|x| Some((x.get(key)?.as_str()?.to_string(), x)))
        .collect()
}

fn failed_sets(unit: &Value) -> BTreeMap<String, BTreeSet<String>> {
    unit.get("failed")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| {
                    let ids = v
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|x| x.as_str().map(String::from))
                        .collect();
                    (k.clone(), ids)
                })
                .collect()
        })
        .unwrap_or_default()
}

fn unit_change(unit: &str, a: Option<&Value>, b: Option<&Value>) -> Option<UnitChange> {
    let null = Value::Null;
    let (av, bv) = (a.unwrap_or(&null), b.unwrap_or(&null));
    let mut changes = Vec::new();
    for key in ["total", "score", "pct", "level", "points"] {
        leaf_changes(
            key,
            av.get(key).unwrap_or(&null),
            bv.get(key).unwrap_or(&null),
            &mut changes,
        );
    }
    let steps = |v: &Value| {
        by_key(v.get("steps").unwrap_or(&null), "id")
            .into_iter()
            .map(|(k, v)| (k, v.clone()))
            .collect::<BTreeMap<_, _>>()
    };
    let (sa, sb) = (steps(av), steps(bv));
    let ids: BTreeSet<&String> = sa.keys().chain(sb.keys()).collect();
    for id in ids {
        let (x, y) = (sa.get(id).unwrap_or(&null), sb.get(id).unwrap_or(&null));
        for key in ["correct", "total", "pct", "points", "level", "score"] {
            leaf_changes(
                &format!("{id}.{key}"),
                x.get(key).unwrap_or(&null),
                y.get(key).unwrap_or(&null),
                &mut changes,
            );
        }
        let ded = |v: &Value| {
            v.get("deductions")
                .map(|d| d.as_array().map_or(0, Vec::len))
                .unwrap_or(0)
        };
        if x.get("deductions") != y.get("deductions") {
            changes.push(Change {
                path: format!("{id}.deductions"),
                old: ded(x).into(),
                new: ded(y).into(),
            });
        }
    }
    let (fa, fb) = (failed_sets(av), failed_sets(bv));
    let mut newly = BTreeMap::new();
    let mut no_longer = BTreeMap::new();
    let crits: BTreeSet<&String> = fa.keys().chain(fb.keys()).collect();
    let empty = BTreeSet::new();
    for c in crits {
        let (x, y) = (fa.get(c).unwrap_or(&empty), fb.get(c).unwrap_or(&empty));
        let n: Vec<String> = y.difference(x).cloned().collect();
        let g: Vec<String> = x.difference(y).cloned().collect();
        if !n.is_empty() {
            newly.insert(c.clone(), n);
        }
        if !g.is_empty() {
            no_longer.insert(c.clone(), g);
        }
    }
    if changes.is_empty() && newly.is_empty() && no_longer.is_empty() && a.is_some() == b.is_some()
    {
        return None;
    }
    Some(UnitChange {
        unit: unit.to_string(),
        kind: match (a, b) {
            (Some(_), Some(_)) => "changed",
            (None, _) => "added",
            (_, None) => "removed",
        },
        changes,
        newly_failed: newly,
        no_longer_failed: no_longer,
    })
}

/// Compares two replays' outputs.
pub fn diff(a: &ReplayFiles, b: &ReplayFiles) -> Diff {
    let fa: BTreeSet<String> = a.keys().cloned().collect();
    let fb: BTreeSet<String> = b.keys().cloned().collect();
    let null = Value::Null;
    let mut meta = Vec::new();
    leaf_changes(
        "",
        a.get("meta.json").unwrap_or(&null),
        b.get("meta.json").unwrap_or(&null),
        &mut meta,
    );

    let mut complaints = ComplaintsDiff::default();
    if let (Some(x), Some(y)) = (a.get("complaints.json"), b.get("complaints.json")) {
        let (mx, my) = (by_key(x, "complaint_id"), by_key(y, "complaint_id"));
        complaints.removed = mx
            .keys()
            .filter(|k| !my.contains_key(*k))
            .cloned()
            .collect();
        complaints.added = my
            .keys()
            .filter(|k| !mx.contains_key(*k))
            .cloned()
            .collect();
        for (id, u) in &mx {
            if let Some(v) = my.get(id) {
                let mut changes = Vec::new();
                leaf_changes("", u, v, &mut changes);
                if !changes.is_empty() {
                    complaints.changed.push(ComplaintChange {
                        complaint_id: id.clone(),
                        changes,
                    });
                }
            }
        }
    }

    let mut overdue = Vec::new();
    if let (Some(x), Some(y)) = (a.get("overdue.json"), b.get("overdue.json")) {
        leaf_changes(
            "total",
            x.get("total").unwrap_or(&null),
            y.get("total").unwrap_or(&null),
            &mut overdue,
        );
        let counts = |v: &Value| -> BTreeMap<String, Value> {
            by_key(v.get("units").unwrap_or(&null), "unit")
                .into_iter()
                .map(|(k, u)| (k, u.get("count").cloned().unwrap_or(Value::Null)))
                .collect()
        };
        let (cx, cy) = (counts(x), counts(y));
        let units: BTreeSet<&String> = cx.keys().chain(cy.keys()).collect();
        for u in units {
            leaf_changes(
                &format!("{u}.count"),
                cx.get(u).unwrap_or(&Value::from(0)),
                cy.get(u).unwrap_or(&Value::from(0)),
                &mut overdue,
            );
        }
    }

    let mut indicators = Vec::new();
    for name in fa.intersection(&fb).filter(|n| n.starts_with("indicators")) {
        let (x, y) = (a.get(name).unwrap_or(&null), b.get(name).unwrap_or(&null));
        let (ux, uy) = (
            by_key(x.get("units").unwrap_or(&null), "unit"),
            by_key(y.get("units").unwrap_or(&null), "unit"),
        );
        let all: BTreeSet<&String> = ux.keys().chain(uy.keys()).collect();
        let mut units: Vec<UnitChange> = all
            .into_iter()
            .filter_map(|u| unit_change(u, ux.get(u).copied(), uy.get(u).copied()))
            .collect();
        if let Some(o) = unit_change("overall", x.get("overall"), y.get("overall")) {
            units.push(o);
        }
        let mut spec_changes = Vec::new();
        for key in ["spec", "spec_hash"] {
            leaf_changes(
                key,
                x.get(key).unwrap_or(&null),
                y.get(key).unwrap_or(&null),
                &mut spec_changes,
            );
        }
        if !units.is_empty() || !spec_changes.is_empty() {
            indicators.push(IndicatorsDiff {
                file: name.clone(),
                spec: y.get("spec").cloned().unwrap_or(Value::Null),
                spec_changes,
                units,
            });
        }
    }
    let only_in_a: Vec<String> = fa.difference(&fb).cloned().collect();
    let only_in_b: Vec<String> = fb.difference(&fa).cloned().collect();
    // Provenance alone (log head, calendar, spec hash) changing is a difference too.
    let identical = meta.is_empty()
        && complaints.added.is_empty()
        && complaints.removed.is_empty()
        && complaints.changed.is_empty()
        && overdue.is_empty()
        && indicators.is_empty()
        && only_in_a.is_empty()
        && only_in_b.is_empty();
    Diff {
        identical,
        meta,
        complaints,
        overdue,
        indicators,
        only_in_a,
        only_in_b,
    }
}

fn show(v: &Value) -> String {
    match v {
        Value::Null => "-".into(),
        Value::String(s) => s.clone(),
        Value::Number(n) => match n.as_f64() {
            Some(f) if n.is_f64() => format!("{f:.2}"),
            _ => n.to_string(),
        },
        other => other.to_string(),
    }
}

fn changes_line(cs: &[Change]) -> String {
    cs.iter()
        .map(|c| format!("{} {} -> {}", c.path, show(&c.old), show(&c.new)))
        .collect::<Vec<_>>()
        .join("; ")
}

/// The readable rendering.
pub fn render(d: &Diff, max_complaints: usize) -> String {
    let mut s = String::new();
    if d.identical {
        s.push_str("identical\n");
        return s;
    }
    if !d.meta.is_empty() {
        s.push_str(&format!("provenance: {}\n", changes_line(&d.meta)));
    }
    for f in &d.only_in_a {
        s.push_str(&format!("only in A: {f}\n"));
    }
    for f in &d.only_in_b {
        s.push_str(&format!("only in B: {f}\n"));
    }
    for ind in &d.indicators {
        s.push_str(&format!(
            "\n{} ({}): {} units changed\n",
            ind.file,
            show(&ind.spec),
            ind.units.len()
        ));
        if !ind.spec_changes.is_empty() {
            s.push_str(&format!("  spec: {}\n", changes_line(&ind.spec_changes)));
        }
        for u in &ind.units {
            s.push_str(&format!(
                "  {:<32} {:<8} {}\n",
                u.unit,
                u.kind,
                changes_line(&u.changes)
            ));
            for (c, ids) in &u.newly_failed {
                s.push_str(&format!(
                    "  {:<32} {:<8} newly failing {c}: {}\n",
                    "",
                    "",
                    ids.join(", ")
                ));
            }
            for (c, ids) in &u.no_longer_failed {
                s.push_str(&format!(
                    "  {:<32} {:<8} no longer failing {c}: {}\n",
                    "",
                    "",
                    ids.join(", ")
                ));
            }
        }
    }
    let c = &d.complaints;
    s.push_str(&format!(
        "\ncomplaints: {} changed, {} added, {} removed\n",
        c.changed.len(),
        c.added.len(),
        c.removed.len()
    ));
    for ch in c.changed.iter().take(max_complaints) {
        s.push_str(&format!(
            "  {:<16} {}\n",
            ch.complaint_id,
            changes_line(&ch.changes)
        ));
    }
    if c.changed.len() > max_complaints {
        s.push_str(&format!(
            "  ... {} more (see --json)\n",
            c.changed.len() - max_complaints
        ));
    }
    for id in c.added.iter().take(max_complaints) {
        s.push_str(&format!("  {id:<16} added\n"));
    }
    for id in c.removed.iter().take(max_complaints) {
        s.push_str(&format!("  {id:<16} removed\n"));
    }
    if !d.overdue.is_empty() {
        s.push_str(&format!("\noverdue: {}\n", changes_line(&d.overdue)));
    }
    s
}
