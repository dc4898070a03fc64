//! The worklists of the people who act: `GET /dashboard/worklist` shows the signed-in role what
//! it owes today; `POST /dashboard/worklist` records one of its forms' events through the same
//! append path as `POST /v1/events` (the same checks, the same problems, shown in the page's
//! language). Forms carry an anti-forgery token derived from the session's token, and the
//! session cookie is `SameSite=Strict`: another site can neither read the token nor send the
//! cookie.

use axum::extract::{Form, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use event_model::*;
use reports::worklist::Notice;
use reports::Lang;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::auth::{Caller, Role};
use crate::dashboard::{chrome, cookie_token};
use crate::events::append_checked;
use crate::problem::Problem;
use crate::state::{blocking, now, AppState};

/// The anti-forgery token of a session: only a page served to it can hold it.
pub(crate) fn csrf_of(token: &str) -> String {
    let digest = Sha256::digest(format!("rongtook-form\0{token}").as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Whose worklist a role sees, and its name on the page.
fn worker(role: &Role, lang: Lang) -> Option<(projections::Worker, String)> {
    let names = indicators::spec::bangkok_unit_names();
    match role {
        Role::Intake | Role::Admin => Some((
            projections::Worker::Centre,
            lang.t("ศูนย์รับเรื่อง 1555", "the 1555 centre").to_string(),
        )),
        Role::Unit(u) => Some((
            projections::Worker::Unit(u.clone()),
            reports::i18n::unit_name(lang, u, &names).to_string(),
        )),
        Role::Inspector(o) => projections::InspectingOffice::by_id(o).map(|office| {
            (
                projections::Worker::Inspector(office),
                reports::i18n::office_name(lang, o).to_string(),
            )
        }),
        Role::Evaluator | Role::Connector => None,
    }
}

#[derive(Deserialize, Default)]
pub struct WorklistQuery {
    lang: Option<String>,
    done: Option<String>,
}

/// The signed-in caller and the session's token, or the sign-in page.
async fn session(
    state: &AppState,
    headers: &HeaderMap,
    lang: Lang,
) -> Result<(Caller, String), Response> {
    let to_login = || {
        (
            StatusCode::SEE_OTHER,
            [(
                header::LOCATION,
                format!("/dashboard/login?lang={}", lang.code()),
            )],
        )
            .into_response()
    };
    let token = cookie_token(headers).ok_or_else(to_login)?;
    let caller = state
        .caller_for_token(token.clone())
        .await
        .map_err(|_| to_login())?;
    Ok((caller, token))
}

/// Renders the worklist of `caller` with `notice`, answering `status`.
async fn render(
    state: AppState,
    caller: Caller,
    token: String,
    lang: Lang,
    notice: Option<Notice>,
    status: StatusCode,
) -> Response {
    let r = blocking(move || {
        let viewer = Some(caller.clone());
        let fy = calendar::FiscalYear::of_date(calendar::local_date(&now()));
        let chrome = chrome(&state, lang, "/dashboard/worklist".into(), &viewer, fy);
        let Some((who, name)) = worker(&caller.role, lang) else {
            let body = format!(
                "<h1>{}</h1><p>{}</p>",
                lang.t("งานที่ต้องทำ", "Worklist"),
                lang.t(
                    "บทบาทนี้ไม่มีงานที่ต้องบันทึกจากหน้านี้",
                    "This role has no worklist: it records nothing from these pages."
                )
            );
            return Ok::<_, Problem>(reports::html::page(&chrome, "Worklist", "worklist", &body));
        };
        let tasks = state.model().worklist(&who, now());
        let units: Vec<String> = indicators::spec::bangkok_unit_names().into_keys().collect();
        Ok(reports::worklist::page_of(
            &chrome,
            &name,
            &tasks,
            &csrf_of(&token),
            &units,
            notice.as_ref(),
        ))
    })
    .await;
    match r {
        Ok(html) => (status, Html(html)).into_response(),
        Err(p) => p.into_response(),
    }
}

/// `GET /dashboard/worklist`.
pub async fn show(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<WorklistQuery>,
) -> Response {
    if let Some(l) = q
        .lang
        .as_deref()
        .filter(|l| !l.is_empty() && Lang::from_code(l).is_none())
    {
        return Problem::bad_query(format!("lang `{l}`: th or en")).into_response();
    }
    let lang = Lang::parse(q.lang.as_deref());
    let (caller, token) = match session(&state, &headers, lang).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let notice = q.done.filter(|d| !d.is_empty()).map(Notice::Recorded);
    render(state, caller, token, lang, notice, StatusCode::OK).await
}

/// A worklist form.
#[derive(Deserialize)]
pub struct WorkForm {
    csrf: String,
    kind: String,
    stream: String,
    lang: Option<String>,
    to_unit: Option<String>,
    unit: Option<String>,
    obligation: Option<String>,
    checkpoint: Option<String>,
    method: Option<String>,
    note: Option<String>,
    outcome: Option<String>,
    answer: Option<String>,
    consistent: Option<String>,
}

/// The payload a form asks for, or why it cannot be one (a field and what is wrong).
fn data_of(f: &WorkForm, role: &Role) -> Result<EventData, (String, String)> {
    let text = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from)
    };
    let need = |v: &Option<String>, field: &str| {
        text(v).ok_or((field.to_string(), "is required".to_string()))
    };
    let json = |ty: EventType, v: serde_json::Value| {
        EventData::from_json(ty, &v.to_string()).map_err(|e| (e.path, e.message))
    };
    let own_unit = || match role {
        Role::Unit(u) => Ok(u.clone()),
        _ => Err(("kind".to_string(), "only a unit records this".to_string())),
    };
    match f.kind.as_str() {
        "forward" => json(
            EventType::Forwarded,
            serde_json::json!({"to_unit": need(&f.to_unit, "to_unit")?}),
        ),
        "chase" => json(
            EventType::Chased,
            serde_json::json!({
                "unit": need(&f.unit, "unit")?,
                "obligation": need(&f.obligation, "obligation")?,
                "checkpoint": text(&f.checkpoint),
                "note": text(&f.note),
            }),
        ),
        "inform" => json(
            EventType::ComplainantInformed,
            serde_json::json!({"method": need(&f.method, "method")?, "note": text(&f.note)}),
        ),
        "acknowledge" => json(
            EventType::Acknowledged,
            serde_json::json!({"unit": own_unit()?}),
        ),
        "progress" => json(
            EventType::ProgressReported,
            serde_json::json!({"unit": own_unit()?, "note": need(&f.note, "note")?}),
        ),
        "close" => json(
            EventType::Closed,
            serde_json::json!({
                "unit": own_unit()?,
                "outcome": need(&f.outcome, "outcome")?,
                "answer": need(&f.answer, "answer")?,
            }),
        ),
        "inspect" => {
            let Role::Inspector(office) = role else {
                return Err((
                    "kind".into(),
                    "only an inspecting office records this".into(),
                ));
            };
            json(
                EventType::FieldInspected,
                serde_json::json!({
                    "office": office,
                    "consistent": f.consistent.as_deref() != Some("false"),
                    "note": text(&f.note),
                }),
            )
        }
        other => Err((
            "kind".into(),
            format!("`{other}` is not a task of the worklists"),
        )),
    }
}

/// The event a form records, as the caller, now; checked for form as `POST /v1/events` checks
/// it.
fn event_of(f: &WorkForm, caller: &Caller) -> Result<NewEvent, (String, String)> {
    let event = NewEvent {
        id: uuid::Uuid::now_v7(),
        stream: f.stream.trim().to_string(),
        occurred_at: now(),
        occurred_after: None,
        actor: caller.actor(),
        data: data_of(f, &caller.role)?,
        expected_version: None,
    };
    event_model::wire::check_form(&event)?;
    Ok(event)
}

/// `POST /dashboard/worklist`: records one form's event, then shows the worklist again.
pub async fn record(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(f): Form<WorkForm>,
) -> Response {
    let lang = Lang::parse(f.lang.as_deref());
    let Some(token) = cookie_token(&headers) else {
        return unauthorized(lang);
    };
    let Ok(caller) = state.caller_for_token(token.clone()).await else {
        return unauthorized(lang);
    };
    if f.csrf != csrf_of(&token) {
        let notice = Notice::Refused {
            status: 403,
            title: lang.t("แบบฟอร์มไม่ได้มาจากหน้านี้", "Forbidden").into(),
            detail: lang
                .t(
                    "แบบฟอร์มไม่มีรหัสกันปลอมแปลงของหน้านี้: เปิดหน้างานที่ต้องทำใหม่แล้วลองอีกครั้ง",
                    "the form does not carry this page's anti-forgery token: open the worklist again and resend",
                )
                .into(),
        };
        return render(
            state,
            caller,
            token,
            lang,
            Some(notice),
            StatusCode::FORBIDDEN,
        )
        .await;
    }
    let refused = |status: u16, title: &str, detail: String| Notice::Refused {
        status,
        title: title.to_string(),
        detail,
    };
    let event = match event_of(&f, &caller) {
        Ok(e) => e,
        Err((field, why)) => {
            let n = refused(
                422,
                lang.t("ข้อมูลไม่ครบหรือไม่ถูกต้อง", "Unprocessable"),
                format!("`{field}` {why}"),
            );
            return render(
                state,
                caller,
                token,
                lang,
                Some(n),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    let kind = event.event_type();
    match append_checked(&state, &caller, vec![event], true).await {
        Ok(_) => (
            StatusCode::SEE_OTHER,
            [(
                header::LOCATION,
                format!(
                    "/dashboard/worklist?lang={}&done={}",
                    lang.code(),
                    reports::html::url_part(&format!("{} {}", kind.as_str(), f.stream.trim()))
                ),
            )],
        )
            .into_response(),
        Err(p) => {
            let status =
                StatusCode::from_u16(p.0.status).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY);
            let title = match status.as_u16() {
                403 => lang.t("ไม่มีสิทธิ์บันทึก", "Forbidden"),
                409 => lang.t("ขัดแย้งกับที่บันทึกไว้", "Conflict"),
                422 => lang.t("ลำดับขั้นตอนไม่อนุญาต", "Refused by the rules"),
                _ => lang.t("ไม่ได้บันทึก", "Not recorded"),
            };
            let n = refused(status.as_u16(), title, p.0.detail.clone());
            render(state, caller, token, lang, Some(n), status).await
        }
    }
}

fn unauthorized(lang: Lang) -> Response {
    (
        StatusCode::UNAUTHORIZED,
        Html(format!(
            "<!DOCTYPE html><html lang=\"{}\"><body><p role=\"alert\">{}</p><p><a href=\"/dashboard/login?lang={}\">{}</a></p></body></html>",
            lang.code(),
            lang.t("กรุณาเข้าสู่ระบบก่อน", "Sign in first."),
            lang.code(),
            lang.t("เข้าสู่ระบบ", "Sign in")
        )),
    )
        .into_response()
}
