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
