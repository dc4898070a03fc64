//! The worklist page: what the signed-in role owes today, oldest first, each with the form that
//! records the event through the API's own append path (the server checks it as it checks
//! `POST /v1/events`). Every form carries the page's anti-forgery token.

use std::fmt::Write;

use projections::{Task, TaskKind};

use crate::html::{esc, page, Chrome};
use crate::i18n::{self, Lang};

/// Rows a worklist page shows of each kind of task (the most pressing).
pub const ROWS: usize = 100;

/// The kinds of task, in the order the page shows them.
const SECTIONS: [(&str, &str, &str); 7] = [
    ("forward", "เรื่องที่ต้องส่งต่อ (R0)", "To forward (R0)"),
    (
        "chase",
        "เรื่องเกินกำหนดที่ต้องติดตาม",
        "Overdue obligations to chase",
    ),
    ("inform", "ผู้ร้องที่ต้องแจ้งผล", "Complainants to tell"),
    ("acknowledge", "เรื่องที่ต้องตอบรับ (R1)", "To acknowledge (R1)"),
    (
        "first_progress",
        "ต้องรายงานผลครั้งแรก (R2)",
        "First progress due (R2)",
    ),
    (
        "checkpoint",
        "ต้องรายงานความคืบหน้าตามรอบ (R3)",
        "Checkpoints due (R3)",
    ),
    ("inspect", "เรื่องที่ควรลงพื้นที่ตรวจ", "To inspect in the field"),
];

/// What happened to the last form sent: recorded, or refused with the server's reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    Recorded(String),
    Refused {
        status: u16,
        title: String,
        detail: String,
    },
}

fn task_label(l: Lang, k: &TaskKind) -> String {
    match k {
        TaskKind::Forward => l.t("ส่งต่อหน่วยงาน", "Forward").into(),
        TaskKind::Chase {
            obligation,
            checkpoint,
            ..
        } => format!(
            "{}: {}{}",
            l.t("ติดตามเร่งรัด", "Chase"),
            i18n::chased(l, *obligation),
            checkpoint
                .map(|d| format!(" {}", i18n::date(l, d)))
                .unwrap_or_default()
        ),
        TaskKind::Inform => l.t("แจ้งผลผู้ร้อง", "Tell the complainant").into(),
        TaskKind::Acknowledge => l.t("ตอบรับเรื่อง (R1)", "Acknowledge (R1)").into(),
        TaskKind::FirstProgress => l
            .t("รายงานผลครั้งแรก (R2)", "First progress report (R2)")
            .into(),
        TaskKind::Checkpoint => l
            .t(
                "รายงานความคืบหน้าตามรอบ (R3)",
                "Progress by the next checkpoint (R3)",
            )
            .into(),
        TaskKind::Inspect { reasons } => format!(
            "{}: {}",
            l.t("ลงพื้นที่ตรวจ", "Inspect"),
            reasons
                .iter()
                .map(|r| i18n::list_reason(l, *r))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// The hidden fields every form carries.
fn hidden(l: Lang, csrf: &str, kind: &str, stream: &str) -> String {
    format!(
        "<input type=\"hidden\" name=\"csrf\" value=\"{}\"><input type=\"hidden\" name=\"lang\" value=\"{}\">\
         <input type=\"hidden\" name=\"kind\" value=\"{kind}\"><input type=\"hidden\" name=\"stream\" value=\"{}\">",
        esc(csrf),
        l.code(),
        esc(stream)
    )
}

fn form(l: Lang, csrf: &str, kind: &str, stream: &str, fields: &str, button: &str) -> String {
    format!(
        "<form class=\"task-form inline\" data-kind=\"{kind}\" method=\"post\" action=\"/dashboard/worklist\">{}{fields}<button type=\"submit\">{}</button></form>",
        hidden(l, csrf, kind, stream),
        esc(button)
    )
}

/// The forms of a task.
fn forms(l: Lang, t: &Task, csrf: &str, units: &[String]) -> String {
    let id = &t.complaint_id;
    let note = |required: bool| {
        format!(
            "<label>{}<input name=\"note\"{}></label>",
            l.t("บันทึก", "Note"),
            if required { " required" } else { "" }
        )
    };
    match &t.kind {
        TaskKind::Forward => {
            let mut options = String::new();
            for u in units {
                let _ = write!(options, "<option value=\"{}\">", esc(u));
            }
            form(
                l,
                csrf,
                "forward",
                id,
                &format!(
                    "<label>{}<input name=\"to_unit\" list=\"units\" required placeholder=\"district:bang-rak\"></label><datalist id=\"units\">{options}</datalist>",
                    l.t("หน่วยงาน", "Unit")
                ),
                l.t("ส่งต่อ", "Forward"),
            )
        }
        TaskKind::Chase {
            unit,
            obligation,
            checkpoint,
            ..
        } => form(
            l,
            csrf,
            "chase",
            id,
            &format!(
                "<input type=\"hidden\" name=\"unit\" value=\"{}\"><input type=\"hidden\" name=\"obligation\" value=\"{}\">{}{}",
                esc(unit),
                obligation.as_str(),
                checkpoint
                    .map(|d| format!("<input type=\"hidden\" name=\"checkpoint\" value=\"{d}\">"))
                    .unwrap_or_default(),
                note(false)
            ),
            l.t("บันทึกการติดตาม", "Record the chase"),
        ),
        TaskKind::Inform => {
            let mut options = String::new();
            for m in [
                event_model::InformMethod::Phone,
                event_model::InformMethod::Sms,
                event_model::InformMethod::Letter,
                event_model::InformMethod::Email,
                event_model::InformMethod::InPerson,
                event_model::InformMethod::Other,
            ] {
                let _ = write!(
                    options,
                    "<option value=\"{}\">{}</option>",
                    m.as_str(),
                    i18n::inform_method(l, m)
                );
            }
            form(
                l,
                csrf,
                "inform",
                id,
                &format!(
                    "<label>{}<select name=\"method\">{options}</select></label>{}",
                    l.t("วิธีแจ้ง", "How"),
                    note(false)
                ),
                l.t("บันทึกการแจ้งผล", "Record the message"),
            )
        }
        TaskKind::Acknowledge => form(l, csrf, "acknowledge", id, "", l.t("ตอบรับ", "Acknowledge")),
        TaskKind::FirstProgress | TaskKind::Checkpoint => {
            let mut outcomes = String::new();
            for o in [
                event_model::Outcome::Resolved,
                event_model::Outcome::NotActionable,
                event_model::Outcome::OutsideAuthority,
                event_model::Outcome::Withdrawn,
                event_model::Outcome::Duplicate,
            ] {
                let _ = write!(
                    outcomes,
                    "<option value=\"{}\">{}</option>",
                    o.as_str(),
                    i18n::outcome(l, o)
                );
            }
            format!(
                "{}{}",
                form(
                    l,
                    csrf,
                    "progress",
                    id,
                    &note(true),
                    l.t("รายงานความคืบหน้า", "Report progress")
                ),
                form(
                    l,
                    csrf,
                    "close",
                    id,
                    &format!(
                        "<label>{}<select name=\"outcome\">{outcomes}</select></label><label>{}<input name=\"answer\" required></label>",
                        l.t("ผล", "Outcome"),
                        l.t("คำตอบถึงผู้ร้อง", "Answer to the complainant")
                    ),
                    l.t("ยุติเรื่อง", "Close")
                )
            )
        }
        TaskKind::Inspect { .. } => form(
            l,
            csrf,
            "inspect",
            id,
            &format!(
                "<label>{}<select name=\"consistent\"><option value=\"true\">{}</option><option value=\"false\">{}</option></select></label>{}",
                l.t("พบว่า", "Found"),
                l.t("ตรงกับรายงาน", "as reported"),
                l.t("ไม่ตรงกับรายงาน", "not as reported"),
                note(false)
            ),
            l.t("บันทึกการตรวจ", "Record the inspection"),
        ),
    }
}

/// The worklist page of `who` (its name in the page's language).
pub fn page_of(
    c: &Chrome,
    who: &str,
    tasks: &[Task],
    csrf: &str,
    units: &[String],
    notice: Option<&Notice>,
) -> String {
    let l = c.lang;
    let names = indicators::spec::bangkok_unit_names();
    let mut s = String::new();
    // The session's anti-forgery token, also where no form shows yet.
    let _ = write!(
        s,
        "<h1>{} · {}</h1><input type=\"hidden\" id=\"csrf\" name=\"csrf\" value=\"{}\">",
        l.t("งานที่ต้องทำวันนี้", "Today's work"),
        esc(who),
        esc(csrf)
    );
    match notice {
        Some(Notice::Recorded(what)) => {
            let _ = write!(
                s,
                "<p id=\"notice\" class=\"good\" role=\"status\">✓ {} {}</p>",
                l.t("บันทึกแล้ว:", "Recorded:"),
                esc(what)
            );
        }
        Some(Notice::Refused {
            status,
            title,
            detail,
        }) => {
            let _ = write!(
                s,
                "<p id=\"notice\" class=\"bad\" role=\"alert\">✗ {} ({status} {}): {}</p>",
                l.t("ไม่ได้บันทึก", "Not recorded"),
                esc(title),
                esc(detail)
            );
        }
        None => {}
    }
    let _ = write!(
        s,
        "<div id=\"worklist\"><p class=\"meta\">{} {}</p>",
        tasks.len(),
        l.t(
            "งาน เรียงตามวันครบกำหนดในแต่ละหมวด",
            "tasks, the most pressing first in each kind"
        )
    );
    for (kind, th, en) in SECTIONS {
        let of_kind: Vec<&Task> = tasks.iter().filter(|t| t.kind.as_str() == kind).collect();
        if of_kind.is_empty() {
            continue;
        }
        let _ = write!(
            s,
            "<h2>{} ({}{})</h2>",
            l.t(th, en),
            of_kind.len(),
            if of_kind.len() > ROWS {
                format!(", {} {ROWS}", l.t("แสดง", "showing"))
            } else {
                String::new()
            }
        );
        s.push_str(&crate::html::table_start(
            Some(&format!("worklist-{kind}")),
            &[
                (l.t("เรื่อง", "Complaint"), false),
                (l.t("งาน", "Task"), false),
                (l.t("ครบกำหนด", "Due"), false),
                (l.t("หน่วยงาน", "Unit"), false),
                (l.t("บันทึก", "Record"), false),
            ],
        ));
        for (n, t) in of_kind.into_iter().take(ROWS).enumerate() {
            let due = match t.due {
                Some(d) if t.overdue => format!("<span class=\"bad\">{}</span>", i18n::date(l, d)),
                Some(d) => i18n::date(l, d),
                None => "–".into(),
            };
            let _ = write!(
                s,
                "<tr id=\"{kind}-{n}\" data-task=\"{kind}\"><td><a href=\"{}\">{}</a></td><td>{}</td><td>{due}</td><td>{}</td><td>{}</td></tr>",
                c.link(
                    &format!("/dashboard/complaints/{}", crate::html::url_part(&t.complaint_id)),
                    &[]
                ),
                esc(&t.complaint_id),
                esc(&task_label(l, &t.kind)),
                esc(t
                    .unit
                    .as_deref()
                    .map(|u| i18n::unit_name(l, u, &names))
                    .unwrap_or("")),
                forms(l, t, csrf, units)
            );
        }
        s.push_str("</tbody></table></div>");
    }
    if tasks.is_empty() {
        let _ = write!(
            s,
            "<p role=\"status\">{}</p>",
            l.t("ไม่มีงานค้าง", "Nothing owed today.")
        );
    }
    s.push_str("</div>");
    page(c, l.t("งานที่ต้องทำ", "Worklist"), "worklist", &s)
}
