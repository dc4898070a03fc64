//! The web dashboard: server-rendered HTML pages of the same projections the API serves, in
//! Thai or English, updated live over Server-Sent Events. Read-only. Anyone may look; complainants'
//! names and contacts are shown only to a signed-in role that may see them (the token is kept
//! in an HTTP-only cookie).

use axum::extract::{Form, Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use calendar::FiscalYear;
use chrono::NaiveDate;
use reports::html::{Chrome, Medium};
use reports::{Lang, LeagueSort};
use serde::Deserialize;

use crate::auth::{self, Caller};
use std::sync::Arc;

use crate::dashboard_cache::{year_data, YearCache, YearData, Years};
use crate::problem::Problem;
use crate::state::{blocking, now, parse_as_of, AppState};

/// Backlog rows a unit page shows (the oldest); the report has them all.
const BACKLOG_ROWS: usize = 500;

/// The cookie that carries a signed-in viewer's token.
const COOKIE: &str = "rongtook_token";

#[derive(Deserialize, Default)]
pub struct PageQuery {
    lang: Option<String>,
    fy: Option<String>,
    spec: Option<String>,
    units: Option<String>,
    sort: Option<String>,
    as_of: Option<String>,
    unit: Option<String>,
    kind: Option<String>,
    state: Option<String>,
    category: Option<String>,
    office: Option<String>,
    report: Option<String>,
}

impl PageQuery {
    /// The query with empty values (`?fy=`, as forms send them) taken as absent.
    fn without_empty_values(self) -> PageQuery {
        let keep = |v: Option<String>| v.filter(|s| !s.is_empty());
        PageQuery {
            lang: keep(self.lang),
            fy: keep(self.fy),
            spec: keep(self.spec),
            units: keep(self.units),
            sort: keep(self.sort),
            as_of: keep(self.as_of),
            unit: keep(self.unit),
            kind: keep(self.kind),
            state: keep(self.state),
            category: keep(self.category),
            office: keep(self.office),
            report: keep(self.report),
        }
    }
}

impl PageQuery {
    /// Refuses a language or an order the pages do not know (400), rather than quietly
    /// showing another.
    fn check_codes(&self) -> Result<(), Problem> {
        if let Some(l) = self
            .lang
            .as_deref()
            .filter(|l| Lang::from_code(l).is_none())
        {
            return Err(Problem::bad_query(format!("lang `{l}`: th or en")));
        }
        if let Some(o) = self
            .sort
            .as_deref()
            .filter(|o| LeagueSort::from_code(o).is_none())
        {
            return Err(Problem::bad_query(format!(
                "sort `{o}`: score, share, complaints or unit"
            )));
        }
        if let Some(st) = self
            .state
            .as_deref()
            .filter(|st| lifecycle::Status::parse(st).is_none())
        {
            let names: Vec<&str> = lifecycle::Status::LISTED
                .iter()
                .map(|s| s.as_str())
                .collect();
            return Err(Problem::bad_query(format!(
                "state `{st}`: one of {}",
                names.join(", ")
            )));
        }
        Ok(())
    }
}

/// A failure shown as a page, in the page's language.
fn error_page(lang: Lang, status: StatusCode, message: &str) -> Response {
    let c = Chrome {
        lang,
        medium: Medium::Dashboard,
        here: "/dashboard".into(),
        viewer: None,
        fiscal_year: 0,
        head: 0,
    };
    let body = format!(
        "<h1>{}</h1><p role=\"alert\">{}</p><p><a href=\"/dashboard?lang={}\">{}</a></p>",
        status.as_u16(),
        reports::html::esc(message),
        lang.code(),
        lang.t("กลับหน้าภาพรวม", "Back to the overview")
    );
    (
        status,
        Html(reports::html::page(&c, status.as_str(), "", &body)),
    )
        .into_response()
}

fn problem_page(lang: Lang, p: Problem) -> Response {
    let status = p.0.status;
    error_page(
        lang,
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        &p.0.detail,
    )
}

/// A rendered page, or its failure as a page in the same language.
fn page_or_problem(lang: Lang, r: Result<String, Problem>) -> Response {
    match r {
        Ok(html) => Html(html).into_response(),
        Err(p) => problem_page(lang, p),
    }
}

pub(crate) fn cookie_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == COOKIE)
        .map(|(_, v)| v.to_string())
        .filter(|v| !v.is_empty())
}

/// The signed-in viewer, if any (an unknown or revoked token is treated as no one).
async fn viewer(state: &AppState, headers: &HeaderMap) -> Option<Caller> {
    let token = cookie_token(headers)?;
    state.caller_for_token(token).await.ok()
}

/// The fiscal year asked for, or the one of the newest complaint (of today without any).
fn fiscal_year(state: &AppState, q: &PageQuery) -> Result<FiscalYear, Problem> {
    if let Some(fy) = &q.fy {
        return crate::state::fiscal_year_param("fy", fy);
    }
    let newest = state.model().newest_received();
    Ok(FiscalYear::of_date(calendar::local_date(
        &newest.unwrap_or_else(now),
    )))
}

pub(crate) fn chrome(
    state: &AppState,
    lang: Lang,
    here: String,
    viewer: &Option<Caller>,
    fy: FiscalYear,
) -> Chrome {
    Chrome {
        lang,
        medium: Medium::Dashboard,
        here,
        viewer: viewer.as_ref().map(|c| c.role.label()),
        fiscal_year: fy.ce(),
        head: state.model().applied(),
    }
}

impl Years for AppState {
    fn cache(&self) -> &YearCache {
        self.years()
    }

    fn head(&self) -> u64 {
        self.model().applied()
    }

    fn today(&self) -> NaiveDate {
        calendar::local_date(&now())
    }

    /// Scored with every built-in indicator.
    fn build(
        &self,
        fy: FiscalYear,
    ) -> Result<(read_model::LiveYear, Vec<indicators::IndicatorReport>), Problem> {
        let specs = read_model::builtin_specs();
        self.read(|store| self.model().live_year(store, fy, now(), &specs))
    }

    fn advance(
        &self,
        year: &mut read_model::LiveYear,
    ) -> Result<
        (
            Vec<indicators::IndicatorReport>,
            Option<read_model::Changes>,
        ),
        Problem,
    > {
        self.read(|store| self.model().advance_year(store, year))
    }
}

/// What a page is made with: the state, its query, its language, the signed-in viewer and the
/// fiscal year asked for.
struct Page {
    state: AppState,
    q: PageQuery,
    lang: Lang,
    viewer: Option<Caller>,
    fy: FiscalYear,
}

impl Page {
    /// The page's frame: its address (`path` and the query `keys` that shape it, then `fy`)
    /// and the log position its figures come from (`head`; default: the live one).
    fn chrome(&self, path: &str, keys: &[(&str, &Option<String>)], head: Option<u64>) -> Chrome {
        let mut here = path.to_string();
        let mut sep = '?';
        for (k, v) in keys.iter().chain([("fy", &self.q.fy)].iter()) {
            if let Some(v) = v {
                here.push(sep);
                here.push_str(&format!("{k}={}", reports::html::url_part(v)));
                sep = '&';
            }
        }
        let mut c = chrome(&self.state, self.lang, here, &self.viewer, self.fy);
        if let Some(h) = head {
            c.head = h;
        }
        c
    }

    /// The year's figures.
    fn year(&self) -> Result<Arc<YearData>, Problem> {
        year_data(&self.state, self.fy)
    }
}

/// Renders a page with `render` off the async threads; a failure becomes an error page in the
/// page's language.
async fn page(
    state: AppState,
    headers: &HeaderMap,
    q: PageQuery,
    render: impl FnOnce(&Page) -> Result<String, Problem> + Send + 'static,
) -> Response {
    let q = q.without_empty_values();
    let lang = Lang::parse(q.lang.as_deref());
    let viewer = viewer(&state, headers).await;
    let r = blocking(move || {
        q.check_codes()?;
        let fy = fiscal_year(&state, &q)?;
        render(&Page {
            state,
            q,
            lang,
            viewer,
            fy,
        })
    })
    .await;
    page_or_problem(lang, r)
}

pub async fn root() -> Redirect {
    Redirect::to("/dashboard")
}

pub async fn overview(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<PageQuery>,
) -> Response {
    page(state, &headers, q, |p| {
        let data = p.year()?;
        let c = p.chrome("/dashboard", &[], Some(data.key.1));
        Ok(reports::pages::overview(&c, &data.overview))
    })
    .await
}

pub async fn league(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<PageQuery>,
) -> Response {
    page(state, &headers, q, |p| {
        let (data, q) = (p.year()?, &p.q);
        let spec = q.spec.as_deref().unwrap_or(indicators::BUILTIN[0].0);
        let reps = &data.indicators;
        let rep = reps
            .iter()
            .find(|r| r.spec == spec)
            .ok_or_else(|| Problem::bad_query(format!("no indicator `{spec}`")))?;
        let specs: Vec<(&str, &indicators::spec::Text)> = reps
            .iter()
            .map(|r| (r.spec.as_str(), &r.spec_title))
            .collect();
        let keys = [("spec", &q.spec), ("units", &q.units), ("sort", &q.sort)];
        let c = p.chrome("/dashboard/league", &keys, Some(data.key.1));
        let sort = LeagueSort::parse(q.sort.as_deref());
        let prefix = q.units.as_deref().unwrap_or("district:");
        Ok(reports::pages::league_table(&c, rep, sort, prefix, &specs))
    })
    .await
}

pub async fn unit(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(unit): Path<String>,
    Query(q): Query<PageQuery>,
) -> Response {
    page(state, &headers, q, move |p| {
        let data = p.year()?;
        let names = indicators::spec::bangkok_unit_names();
        if !data.knows_unit(&unit) {
            return Err(Problem::not_found(format!(
                "no unit `{unit}` in {}",
                reports::i18n::fiscal_year(p.lang, p.fy)
            )));
        }
        let name = reports::i18n::unit_name(p.lang, &unit, &names).to_string();
        let views = data.views();
        let mut page = reports::pages::UnitPage::new(
            &unit,
            &name,
            &views,
            &data.indicators,
            data.as_of,
            p.state.rules(),
        );
        page.backlog_limit = Some(BACKLOG_ROWS);
        let path = format!("/dashboard/units/{}", reports::html::url_part(&unit));
        Ok(reports::pages::unit(
            &p.chrome(&path, &[], Some(data.key.1)),
            &page,
        ))
    })
    .await
}

pub async fn complaint(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<PageQuery>,
) -> Response {
    page(state, &headers, q, move |p| {
        let sees_personal = p
            .viewer
            .as_ref()
            .is_some_and(|c| c.role.sees_personal_data());
        let mut events = p.state.read(|store| store.read_stream(&id))?;
        // Checked before any redaction: the hash covers the stored content.
        let chain_ok: Vec<bool> = events
            .iter()
            .map(|e| e.recompute_hash() == e.hash)
            .collect();
        if !sees_personal {
            events.iter_mut().for_each(auth::redact);
        }
        let live = p.state.model().live().read();
        let view = live
            .fold
            .view_at(&id, p.state.calendar(), p.state.rules(), now())
            .ok_or_else(|| Problem::not_found(format!("no complaint `{id}`")))?;
        let path = format!("/dashboard/complaints/{}", reports::html::url_part(&id));
        let info = live.fold.public_info(&id);
        let c = p.chrome(&path, &[], None);
        Ok(reports::pages::complaint(
            &c, &view, info, &events, &chain_ok,
        ))
    })
    .await
}

pub async fn overdue(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<PageQuery>,
) -> Response {
    page(state, &headers, q, |p| {
        let q = &p.q;
        let kind =
            match q.kind.as_deref().map(str::trim).filter(|k| !k.is_empty()) {
                None => None,
                Some(k) => Some(projections::ObligationKind::parse(k).ok_or_else(|| {
                    Problem::bad_query(format!("kind `{k}` is not an obligation"))
                })?),
            };
        let as_of_text = q.as_of.clone().unwrap_or_default();
        let as_of = parse_as_of(&p.state, q.as_of.as_deref())?;
        let unit = q.unit.clone().filter(|u| !u.trim().is_empty());
        let model = p.state.model();
        let report = p
            .state
            .read(|store| model.overdue(store, as_of, now(), unit.as_deref()))?;
        let keys = [("as_of", &q.as_of), ("unit", &q.unit), ("kind", &q.kind)];
        let c = p.chrome("/dashboard/overdue", &keys, None);
        Ok(reports::pages::overdue(
            &c,
            &report,
            unit.as_deref(),
            kind,
            &as_of_text,
        ))
    })
    .await
}

/// The map of the year's complaints with coordinates, by state, unit and category.
pub async fn map(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<PageQuery>,
) -> Response {
    page(state, &headers, q, |p| {
        let q = &p.q;
        let filter = reports::map::MapFilter {
            status: q.state.as_deref().and_then(lifecycle::Status::parse),
            unit: q.unit.clone(),
            category: q.category.clone(),
        };
        let data = p.year()?;
        let figures = reports::map::MapFigures::compute(&data.views(), &data.places(), &filter);
        let keys = [
            ("state", &q.state),
            ("unit", &q.unit),
            ("category", &q.category),
        ];
        let c = p.chrome("/dashboard/map", &keys, Some(data.key.1));
        let year = reports::i18n::fiscal_year(p.lang, p.fy);
        Ok(reports::map::map_page(&c, &figures, &filter, &year))
    })
    .await
}

/// An inspecting office's selection list and every office's inspection days a month.
pub async fn inspection(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<PageQuery>,
) -> Response {
    page(state, &headers, q, |p| {
        let q = &p.q;
        let id = q
            .office
            .as_deref()
            .unwrap_or(projections::INSPECTING_OFFICES[0].id);
        let office = read_model::inspecting_office(id).map_err(Problem::bad_query)?;
        let as_of = parse_as_of(&p.state, q.as_of.as_deref())?;
        let model = p.state.model();
        let (list, months) = p
            .state
            .read(|store| model.inspection(store, &office, as_of, now()))?;
        let keys = [("office", &q.office), ("as_of", &q.as_of)];
        let c = p.chrome("/dashboard/inspection", &keys, None);
        let as_of_text = q.as_of.clone().unwrap_or_default();
        Ok(reports::pages::inspection(
            &c,
            &office,
            &list.complaints,
            &months,
            &as_of_text,
        ))
    })
    .await
}

/// A watchers' report on the dashboard: the centre's duties, the inspections monthly or per
/// half-year, the directives per quarter (`reports::oversight`, as `rongtook report
/// --oversight` prints them).
pub async fn oversight(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<PageQuery>,
) -> Response {
    page(state, &headers, q, |p| {
        use reports::oversight::{self, Oversight};
        let name = p.q.report.as_deref().unwrap_or("centre");
        let kind = Oversight::parse(name).ok_or_else(|| {
            Problem::bad_query(format!(
                "report `{name}`: centre, inspections, half-year or directives"
            ))
        })?;
        let data = p.year()?;
        let all = p.state.model().all_complaints(now());
        let tables = oversight::tables(
            kind,
            p.lang,
            p.fy,
            data.as_of,
            &data.views(),
            &all,
            p.state.rules(),
        );
        let c = p.chrome(
            "/dashboard/oversight",
            &[("report", &p.q.report)],
            Some(data.key.1),
        );
        Ok(oversight::html(&c, kind, p.fy, &tables))
    })
    .await
}

pub async fn login_form(State(state): State<AppState>, Query(q): Query<PageQuery>) -> Response {
    let q = q.without_empty_values();
    let lang = Lang::parse(q.lang.as_deref());
    if let Err(p) = q.check_codes() {
        return problem_page(lang, p);
    }
    let c = chrome(
        &state,
        lang,
        "/dashboard/login".into(),
        &None,
        FiscalYear::of_date(calendar::local_date(&now())),
    );
    Html(reports::pages::login(&c, None)).into_response()
}

#[derive(Deserialize)]
pub struct LoginForm {
    token: String,
    lang: Option<String>,
}

pub async fn login(State(state): State<AppState>, Form(f): Form<LoginForm>) -> Response {
    let lang = Lang::parse(f.lang.as_deref());
    let token = f.token.trim().to_string();
    let ok = !token.is_empty()
        && !token.contains([';', ',', ' ', '"'])
        && state.caller_for_token(token.clone()).await.is_ok();
    if !ok {
        let c = chrome(
            &state,
            lang,
            "/dashboard/login".into(),
            &None,
            FiscalYear::of_date(calendar::local_date(&now())),
        );
        let msg = lang.t("โทเค็นไม่ถูกต้องหรือถูกเพิกถอนแล้ว", "Unknown or revoked token.");
        return (
            StatusCode::UNAUTHORIZED,
            Html(reports::pages::login(&c, Some(msg))),
        )
            .into_response();
    }
    (
        StatusCode::SEE_OTHER,
        [
            (
                header::SET_COOKIE,
                format!("{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict"),
            ),
            (header::LOCATION, format!("/dashboard?lang={}", lang.code())),
        ],
    )
        .into_response()
}

pub async fn logout() -> Response {
    (
        StatusCode::SEE_OTHER,
        [
            (
                header::SET_COOKIE,
                format!("{COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"),
            ),
            (header::LOCATION, "/dashboard".to_string()),
        ],
    )
        .into_response()
}

/// The log head as Server-Sent Events (`event: head`, the position as data): sent at once,
/// then after each commit and each refresh of a year's figures. Pages refresh themselves
/// when it differs from the position they show. Carries no event content.
pub async fn live(State(state): State<AppState>) -> Response {
    use axum::response::sse::{Event, KeepAlive, Sse};
    struct Follow {
        head: tokio::sync::watch::Receiver<u64>,
        figures: tokio::sync::watch::Receiver<u64>,
        stopping: tokio::sync::watch::Receiver<bool>,
        first: bool,
        _subscriber: crate::metrics::Subscriber,
    }
    let follow = Follow {
        head: state.head(),
        figures: state.years().refreshed(),
        stopping: state.stopping(),
        first: true,
        _subscriber: crate::metrics::Subscriber::new(&state.metrics().sse_subscribers),
    };
    // A message after each commit, and after each refresh of a year's figures (pages showing
    // older figures than the head then fetch the fresh ones).
    let stream = futures_util::stream::unfold(follow, |mut f| async move {
        if !f.first {
            tokio::select! {
                changed = f.head.changed() => if changed.is_err() { return None },
                changed = f.figures.changed() => {
                    if changed.is_err() { return None }
                    f.figures.borrow_and_update();
                }
                _ = f.stopping.changed() => return None,
            }
        }
        if *f.stopping.borrow() {
            return None;
        }
        f.first = false;
        let head = *f.head.borrow_and_update();
        let msg = Event::default().event("head").data(head.to_string());
        Some((Ok::<Event, std::convert::Infallible>(msg), f))
    });
    Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response()
}
