//! `rongtook report`: the fiscal-year evaluation of an indicator, or one unit's report (its
//! scores step by step, its backlog, its complaints of a month or quarter), as printable HTML
//! (A4), Markdown or CSV (UTF-8 with BOM). The same pages as the dashboard's, from the same
//! projections.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use calendar::{local_date, FiscalYear};
use chrono::Datelike;
use projections::ComplaintView;
use reports::html::{Chrome, Medium};
use reports::{Lang, Overview};

use crate::commands::{fold_year, load_spec};
use crate::input::{load_calendar, load_rules, open_existing};
use crate::{bad_input, CalendarArgs};

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    Html,
    Csv,
    Md,
}

#[derive(clap::Args)]
pub struct ReportArgs {
    #[arg(long)]
    pub db: PathBuf,
    /// Fiscal year, B.E. (2567) or C.E. (2024).
    #[arg(long)]
    pub fiscal_year: String,
    /// The indicator: a built-in id or a spec file.
    #[arg(long, value_name = "NAME_OR_FILE")]
    pub spec: String,
    #[arg(long, value_enum, default_value = "html")]
    pub format: ReportFormat,
    /// One unit's report (e.g. `district:bang-rak`); without it, the evaluation of every unit.
    #[arg(long)]
    pub unit: Option<String>,
    /// Only the complaints received in this quarter of the fiscal year (1-4).
    #[arg(long, conflicts_with = "month")]
    pub quarter: Option<u32>,
    /// Only the complaints received in this month, YYYY-MM (the monthly report).
    #[arg(long)]
    pub month: Option<String>,
    /// Evaluation instant; default: the first instant after the fiscal year.
    #[arg(long)]
    pub as_of: Option<String>,
    /// `th` (default; Buddhist-era dates) or `en`.
    #[arg(long, default_value = "th")]
    pub lang: String,
    #[arg(long)]
    pub out: PathBuf,
    #[command(flatten)]
    pub calendar: CalendarArgs,
}

/// Which complaints a report covers.
enum Period {
    Year,
    Quarter(u32),
    Month(i32, u32),
}

impl Period {
    fn from_args(a: &ReportArgs, fy: FiscalYear) -> anyhow::Result<Period> {
        if let Some(q) = a.quarter {
            if !(1..=4).contains(&q) {
                bad_input!("--quarter {q}: a fiscal year has quarters 1 to 4");
            }
            return Ok(Period::Quarter(q));
        }
        let Some(m) = &a.month else {
            return Ok(Period::Year);
        };
        let parsed = m
            .split_once('-')
            .and_then(|(y, mo)| Some((y.parse::<i32>().ok()?, mo.parse::<u32>().ok()?)))
            .filter(|(y, mo)| (1..=12).contains(mo) && y.to_string().len() == 4);
        let Some((y, mo)) = parsed else {
            bad_input!("--month `{m}` is not YYYY-MM");
        };
        let first = chrono::NaiveDate::from_ymd_opt(y, mo, 1).expect("valid month");
        if !fy.contains(first) {
            bad_input!(
                "--month {m} is outside fiscal year {} ({} to {})",
                fy.be(),
                fy.first_day(),
                fy.last_day()
            );
        }
        Ok(Period::Month(y, mo))
    }

    fn covers(&self, fy: FiscalYear, c: &ComplaintView) -> bool {
        match self {
            Period::Year => true,
            _ => c.received_at.as_ref().is_some_and(|t| {
                let d = local_date(&t.0);
                match self {
                    Period::Quarter(q) => fy.contains(d) && FiscalYear::quarter_of(d) == *q,
                    Period::Month(y, m) => d.year() == *y && d.month() == *m,
                    Period::Year => true,
                }
            }),
        }
    }

    fn label(&self, lang: Lang, fy: FiscalYear) -> Option<String> {
        match self {
            Period::Year => None,
            Period::Quarter(q) => Some(format!(
                "{} {q} {}",
                lang.t("ไตรมาส", "quarter"),
                reports::i18n::fiscal_year(lang, fy)
            )),
            Period::Month(y, m) => {
                Some(reports::i18n::month_label(lang, &format!("{y:04}-{m:02}")))
            }
        }
    }
}

pub fn run(a: &ReportArgs) -> anyhow::Result<ExitCode> {
    let lang = match a.lang.as_str() {
        "th" => Lang::Th,
        "en" => Lang::En,
        other => bad_input!("--lang `{other}`: use th or en"),
    };
    let rules = load_rules(&a.calendar)?;
    let cal = load_calendar(&a.calendar)?;
    let spec = load_spec(&a.spec)?;
    let store = open_existing(&a.db)?;
    let yf = fold_year(&store, &a.fiscal_year, a.as_of.as_deref())?;
    let period = Period::from_args(a, yf.fy)?;
    let all = yf.fold.views(&cal, &rules);
    let selected: Vec<ComplaintView> = all
        .iter()
        .filter(|c| period.covers(yf.fy, c))
        .cloned()
        .collect();
    let provenance = indicators::Provenance {
        log_head_position: yf.head.position,
        log_head_hash: yf.head.hash.to_hex(),
        calendar_version: cal.version().to_string(),
    };
    let rep = indicators::evaluate(
        &spec,
        &selected,
        yf.fold.monthly_reports(),
        yf.fy,
        yf.as_of,
        provenance,
    );
    let chrome = Chrome {
        lang,
        medium: Medium::Print,
        here: String::new(),
        viewer: None,
        fiscal_year: yf.fy.ce(),
        head: yf.head.position,
    };
    let label = period.label(lang, yf.fy);
    let text = match &a.unit {
        None => match a.format {
            ReportFormat::Html => {
                let o = Overview::compute(yf.fy, yf.as_of, &selected, std::slice::from_ref(&rep));
                reports::export::evaluation_html(&chrome, &o, &rep, "")
            }
            ReportFormat::Csv => crate::render::csv(&rep),
            ReportFormat::Md => crate::render::markdown(&rep),
        },
        Some(unit) => {
            let names = indicators::spec::bangkok_unit_names();
            let seen = all.iter().any(|c| c.rounds.iter().any(|r| &r.unit == unit));
            if !seen && !names.contains_key(unit) {
                bad_input!(
                    "--unit `{unit}`: no complaint of the log was ever forwarded to it, and it is not a known unit"
                );
            }
            let name = reports::i18n::unit_name(lang, unit, &names).to_string();
            let page = reports::pages::UnitPage::new(unit, &name, &all, [&rep], yf.as_of, &rules);
            let of_period: Vec<&ComplaintView> = selected
                .iter()
                .filter(|c| c.rounds.iter().any(|r| &r.unit == unit))
                .collect();
            let period = label.as_deref().map(|l| (l, &of_period[..]));
            match a.format {
                ReportFormat::Html => reports::export::unit_html(&chrome, &page, period),
                ReportFormat::Csv => reports::export::unit_csv(&page, period),
                ReportFormat::Md => reports::export::unit_md(lang, &page, period),
            }
        }
    };
    // Written whole or not at all.
    let tmp = a.out.with_extension("partial");
    std::fs::write(&tmp, &text).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, &a.out).with_context(|| format!("writing {}", a.out.display()))?;
    println!(
        "report written to {} ({} complaints{}, {} units; log position {})",
        a.out.display(),
        selected.len(),
        label.map(|l| format!(" of {l}")).unwrap_or_default(),
        rep.units.len(),
        yf.head.position
    );
    Ok(ExitCode::SUCCESS)
}
