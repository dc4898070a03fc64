//! `rongtook report`: the fiscal-year evaluation of an indicator, or one unit's report (its
//! scores step by step, its backlog, its complaints of a month or quarter), as printable HTML
//! (A4), Markdown or CSV (UTF-8 with BOM). The same pages as the dashboard's, from the same
//! projections.

use event_store_open::Location;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use calendar::FiscalYear;
use projections::ComplaintView;
use read_model::{Period, YearFigures};
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
    pub db: Location,
    /// Fiscal year, B.E. (2567) or C.E. (2024).
    #[arg(long)]
    pub fiscal_year: String,
    /// The indicator: a built-in id or a spec file (not with --oversight).
    #[arg(
        long,
        value_name = "NAME_OR_FILE",
        required_unless_present = "oversight"
    )]
    pub spec: Option<String>,
    /// A watchers' report instead of an indicator's: `centre` (the 1555 centre's R0, chases
    /// and messages per month), `inspections` (the inspecting offices' monthly report),
    /// `half-year` (their twice-yearly summary) or `directives` (the Governor's directives
    /// followed up per quarter).
    #[arg(long, conflicts_with_all = ["spec", "unit", "quarter", "month"])]
    pub oversight: Option<String>,
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
fn period_of(a: &ReportArgs, fy: FiscalYear) -> anyhow::Result<Period> {
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

pub fn run(a: &ReportArgs) -> anyhow::Result<ExitCode> {
    let lang = match a.lang.as_str() {
        "th" => Lang::Th,
        "en" => Lang::En,
        other => bad_input!("--lang `{other}`: use th or en"),
    };
    let rules = load_rules(&a.calendar)?;
    let cal = load_calendar(&a.calendar)?;
    if let Some(kind) = &a.oversight {
        return oversight_report(a, kind, lang, (&cal, &rules));
    }
    let spec = load_spec(a.spec.as_deref().expect("required unless --oversight"))?;
    let store = open_existing(&a.db)?;
    let (fy, folded) = fold_year(&*store, &a.fiscal_year, a.as_of.as_deref(), &cal)?;
    let period = period_of(a, fy)?;
    let as_of = folded.as_of();
    let year = YearFigures::compute_for(&folded, fy, period, as_of, &cal, &rules, &[spec]);
    let rep = &year.indicators[0];
    let chrome = print_chrome(lang, fy, folded.head.position);
    let label = reports::i18n::period_label(lang, fy, period);
    let selected = year.in_period();
    let text = match &a.unit {
        None => match a.format {
            ReportFormat::Html => {
                let o = Overview::compute(fy, as_of, selected.iter().copied(), &year.indicators);
                reports::evaluation::html(&chrome, &o, rep, "")
            }
            ReportFormat::Csv => reports::evaluation::csv(rep),
            ReportFormat::Md => reports::evaluation::markdown(rep),
        },
        Some(unit) => unit_report(a, unit, &chrome, &year, label.as_deref(), &rules)?,
    };
    write_whole(&a.out, &text)?;
    println!(
        "report written to {} ({} complaints{}, {} units; log position {})",
        a.out.display(),
        selected.len(),
        label.map(|l| format!(" of {l}")).unwrap_or_default(),
        rep.units.len(),
        folded.head.position
    );
    Ok(ExitCode::SUCCESS)
}

/// A watchers' report: the tables of `reports::oversight` over the fiscal year.
fn oversight_report(
    a: &ReportArgs,
    kind: &str,
    lang: Lang,
    (cal, rules): (&calendar::Calendar, &projections::DeadlineRules),
) -> anyhow::Result<ExitCode> {
    use reports::oversight::{self, Oversight};
    let Some(kind) = Oversight::parse(kind) else {
        let names: Vec<&str> = Oversight::ALL.iter().map(|o| o.as_str()).collect();
        bad_input!("--oversight `{kind}`: one of {}", names.join(", "));
    };
    let store = open_existing(&a.db)?;
    let (fy, folded) = fold_year(&*store, &a.fiscal_year, a.as_of.as_deref(), cal)?;
    let as_of = folded.as_of();
    let year = YearFigures::compute(&folded, fy, as_of, cal, rules, &[]);
    let all = folded.fold.views(cal, rules);
    let views: Vec<&ComplaintView> = year.complaints.iter().collect();
    let tables = oversight::tables(kind, lang, fy, as_of, &views, &all, rules);
    let chrome = print_chrome(lang, fy, folded.head.position);
    let text = match a.format {
        ReportFormat::Html => oversight::html(&chrome, kind, fy, &tables),
        ReportFormat::Csv => oversight::csv(kind, lang, fy, &tables),
        ReportFormat::Md => oversight::markdown(kind, lang, fy, &tables),
    };
    write_whole(&a.out, &text)?;
    println!(
        "report written to {} ({}: {} rows; log position {})",
        a.out.display(),
        kind.as_str(),
        oversight::rows(&tables),
        folded.head.position
    );
    Ok(ExitCode::SUCCESS)
}

/// The frame of a printed report.
fn print_chrome(lang: Lang, fy: FiscalYear, head: u64) -> Chrome {
    Chrome {
        lang,
        medium: Medium::Print,
        here: String::new(),
        viewer: None,
        fiscal_year: fy.ce(),
        head,
    }
}

/// Writes a report whole or not at all.
fn write_whole(out: &std::path::Path, text: &str) -> anyhow::Result<()> {
    let tmp = out.with_extension("partial");
    std::fs::write(&tmp, text).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, out).with_context(|| format!("writing {}", out.display()))?;
    Ok(())
}

/// A unit's report in the asked format: its steps, its backlog, and the complaints of the
/// period (`label` names it; `None` for the whole year).
fn unit_report(
    a: &ReportArgs,
    unit: &str,
    chrome: &Chrome,
    year: &YearFigures,
    label: Option<&str>,
    rules: &projections::DeadlineRules,
) -> anyhow::Result<String> {
    let names = indicators::spec::bangkok_unit_names();
    if !year.knows_unit(unit) {
        bad_input!(
            "--unit `{unit}`: no complaint of fiscal year {} was ever forwarded to it, and it is not a known unit",
            year.fiscal_year.be()
        );
    }
    let lang = chrome.lang;
    let name = reports::i18n::unit_name(lang, unit, &names).to_string();
    let rep = &year.indicators[0];
    let views: Vec<&ComplaintView> = year.complaints.iter().collect();
    let page = reports::pages::UnitPage::new(unit, &name, &views, [rep], year.as_of, rules);
    let of_period: Vec<&ComplaintView> = year
        .in_period()
        .into_iter()
        .filter(|c| c.rounds.iter().any(|r| r.unit == unit))
        .collect();
    let period = label.map(|l| (l, &of_period[..]));
    Ok(match a.format {
        ReportFormat::Html => reports::export::unit_html(chrome, &page, period),
        ReportFormat::Csv => reports::export::unit_csv(&page, period),
        ReportFormat::Md => reports::export::unit_md(lang, &page, period),
    })
}
