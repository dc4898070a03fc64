//! Figures derived from the log: the overdue list and indicator results with provenance.

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;

use crate::problem::Problem;
use crate::state::{blocking, now, parse_as_of, AppState};

#[derive(Deserialize)]
pub(crate) struct OverdueQuery {
    unit: Option<String>,
    as_of: Option<String>,
}

pub(crate) async fn get_overdue(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<OverdueQuery>,
) -> Result<Json<projections::OverdueReport>, Problem> {
    let unit = state.scoped_unit(&headers, q.unit).await?;
    let as_of = parse_as_of(&state, q.as_of.as_deref())?;
    blocking(move || {
        let report =
            state.read(|store| state.model().overdue(store, as_of, now(), unit.as_deref()))?;
        Ok(Json(report))
    })
    .await
}

#[derive(Deserialize)]
pub(crate) struct IndicatorQuery {
    fiscal_year: String,
    spec: String,
    unit: Option<String>,
    as_of: Option<String>,
}

pub(crate) async fn get_indicators(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<IndicatorQuery>,
) -> Result<Response, Problem> {
    let unit = state.scoped_unit(&headers, q.unit).await?;
    let fy = crate::state::fiscal_year_param("fiscal_year", &q.fiscal_year)?;
    let spec = indicators::builtin(&q.spec).ok_or_else(|| {
        let names: Vec<&str> = indicators::BUILTIN.iter().map(|(n, _)| *n).collect();
        Problem::bad_query(format!(
            "spec `{}` is not one of {}",
            q.spec,
            names.join(", ")
        ))
    })?;
    let as_of = match parse_as_of(&state, q.as_of.as_deref())? {
        Some(t) => t,
        None => {
            let t = fy.end_instant().min(now());
            state.covered(t)?;
            t
        }
    };
    blocking(move || {
        let rep = state.read(|store| {
            state
                .model()
                .indicator(store, &spec, fy, as_of, unit.as_deref())
        })?;
        Ok(Json(rep).into_response())
    })
    .await
}

#[derive(Deserialize)]
pub(crate) struct InspectionQuery {
    office: Option<String>,
    as_of: Option<String>,
}

/// An inspecting office's selection list, with its inspection days per month.
#[derive(serde::Serialize)]
pub(crate) struct InspectionAnswer {
    #[serde(flatten)]
    list: read_model::InspectionList,
    /// The office's inspections per month: days, the 4-a-month duty, complaints inspected and
    /// how many were found not as reported.
    months: Vec<projections::InspectionMonth>,
}

/// `GET /v1/inspection-list?office=`: an inspector's own office only (theirs when it is left
/// out), any office for the centre, evaluators and admins; not for units.
pub(crate) async fn get_inspection_list(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<InspectionQuery>,
) -> Result<Json<InspectionAnswer>, Problem> {
    use crate::auth::{forbidden, Role};
    let caller = state.caller(&headers).await?;
    let office = match (&caller.role, q.office.filter(|o| !o.trim().is_empty())) {
        (Role::Unit(u), _) => {
            return Err(forbidden(format!(
                "a `unit` token for `{u}` may not read the inspection lists"
            )))
        }
        (Role::Inspector(own), Some(o)) if &o != own => {
            return Err(forbidden(format!(
                "an `inspector` token for `{own}` may read only its own list, not `{o}`"
            )))
        }
        (Role::Inspector(own), _) => own.clone(),
        (_, Some(o)) => o,
        (_, None) => {
            return Err(Problem::bad_query(
                "office is required: office:governor-secretariat or office:permanent-secretary-secretariat".into(),
            ))
        }
    };
    let office = read_model::inspecting_office(&office).map_err(Problem::bad_query)?;
    let as_of = parse_as_of(&state, q.as_of.as_deref())?;
    blocking(move || {
        let (list, months) =
            state.read(|store| state.model().inspection(store, &office, as_of, now()))?;
        let months = months
            .into_iter()
            .filter(|m| m.office == office.id)
            .collect();
        Ok(Json(InspectionAnswer { list, months }))
    })
    .await
}
