//! Thai and English: the language switch, dates (Buddhist era in Thai), unit names.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, Timelike};
use indicators::spec::Text;

/// The language of a page. Thai is the default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Th,
    En,
}

impl Lang {
    /// `th` or `en` (anything else is Thai).
    /// A language by its code (`th`, `en`); `None` for any other.
    pub fn from_code(s: &str) -> Option<Lang> {
        match s {
            "th" => Some(Lang::Th),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// A language by its code; Thai for none or any other.
    pub fn parse(s: Option<&str>) -> Lang {
        s.and_then(Lang::from_code).unwrap_or(Lang::Th)
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::Th => "th",
            Lang::En => "en",
        }
    }

    pub fn other(self) -> Lang {
        match self {
            Lang::Th => Lang::En,
            Lang::En => Lang::Th,
        }
    }

    /// The Thai or the English of a pair.
    pub fn t(self, th: &'static str, en: &'static str) -> &'static str {
        match self {
            Lang::Th => th,
            Lang::En => en,
        }
    }

    /// The Thai or the English of a [`Text`].
    pub fn text(self, t: &Text) -> &str {
        match self {
            Lang::Th => &t.th,
            Lang::En => &t.en,
        }
    }
}

const TH_MONTHS: [&str; 12] = [
    "ม.ค.",
    "ก.พ.",
    "มี.ค.",
    "เม.ย.",
    "พ.ค.",
    "มิ.ย.",
    "ก.ค.",
    "ส.ค.",
    "ก.ย.",
    "ต.ค.",
    "พ.ย.",
    "ธ.ค.",
];
const EN_MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// The short name of a month (1-12).
pub fn month_name(lang: Lang, month: u32) -> &'static str {
    let i = (month.clamp(1, 12) - 1) as usize;
    match lang {
        Lang::Th => TH_MONTHS[i],
        Lang::En => EN_MONTHS[i],
    }
}

/// A year as the language writes it: B.E. in Thai, C.E. in English.
pub fn year(lang: Lang, ce: i32) -> i32 {
    match lang {
        Lang::Th => ce + 543,
        Lang::En => ce,
    }
}

/// `5 ต.ค. 2566` / `5 Oct 2023`.
pub fn date(lang: Lang, d: NaiveDate) -> String {
    format!(
        "{} {} {}",
        d.day(),
        month_name(lang, d.month()),
        year(lang, d.year())
    )
}

/// A month label from `YYYY-MM`: `ต.ค. 2566` / `Oct 2023` (the text itself if malformed).
pub fn month_label(lang: Lang, ym: &str) -> String {
    match ym
        .split_once('-')
        .and_then(|(y, m)| Some((y.parse::<i32>().ok()?, m.parse().ok()?)))
    {
        Some((y, m)) => format!("{} {}", month_name(lang, m), year(lang, y)),
        None => ym.to_string(),
    }
}

/// An instant in Bangkok time: `5 ต.ค. 2566 14:05` / `5 Oct 2023 14:05`.
pub fn instant(lang: Lang, t: &DateTime<FixedOffset>) -> String {
    let local = t.with_timezone(&calendar::bangkok());
    format!(
        "{} {:02}:{:02}",
        date(lang, local.date_naive()),
        local.hour(),
        local.minute()
    )
}

/// The fiscal year as written: `ปีงบประมาณ 2567` / `FY 2024`.
pub fn fiscal_year(lang: Lang, fy: calendar::FiscalYear) -> String {
    match lang {
        Lang::Th => format!("ปีงบประมาณ {}", fy.be()),
        Lang::En => format!("FY {}", fy.ce()),
    }
}

/// A unit's name in the language, or its id when it has none.
pub fn unit_name<'a>(lang: Lang, unit: &'a str, names: &'a BTreeMap<String, Text>) -> &'a str {
    names.get(unit).map_or(unit, |t| lang.text(t))
}

/// A complaint status.
pub fn status(lang: Lang, s: lifecycle::Status) -> &'static str {
    use lifecycle::Status::*;
    match s {
        New => lang.t("ใหม่", "new"),
        Received => lang.t("รับเรื่อง", "received"),
        Forwarded => lang.t("ส่งต่อแล้ว", "forwarded"),
        Acknowledged => lang.t("รับทราบแล้ว", "acknowledged"),
        InProgress => lang.t("กำลังดำเนินการ", "in progress"),
        Closed => lang.t("ยุติเรื่อง", "closed"),
        Reopened => lang.t("เปิดเรื่องใหม่", "reopened"),
    }
}

/// How an obligation stands; `None` where there is no duty.
pub fn judgement(lang: Lang, j: Option<projections::Judgement>) -> &'static str {
    use projections::Judgement::*;
    match j {
        Some(Met) => lang.t("ทันเวลา", "met"),
        Some(Missed) => lang.t("ไม่ทัน", "missed"),
        Some(Pending) => lang.t("รอ", "pending"),
        Some(Undetermined) => lang.t("ระบุไม่ได้", "undetermined"),
        None => "–",
    }
}

/// An obligation of the overdue list.
pub fn obligation(lang: Lang, k: projections::ObligationKind) -> &'static str {
    use projections::ObligationKind::*;
    match k {
        AckOverdue => lang.t("ยังไม่ตอบรับ (R1)", "not acknowledged (R1)"),
        FirstProgressOverdue => lang.t("ยังไม่รายงานผลครั้งแรก (R2)", "no first progress (R2)"),
        CheckpointMissed => lang.t("ขาดรายงานความคืบหน้า (R3)", "checkpoint missed (R3)"),
        Stale => lang.t("ไม่มีความเคลื่อนไหว", "stale"),
        ForwardOverdue => lang.t("ยังไม่ส่งต่อ (R0)", "not forwarded (R0)"),
        InformOverdue => lang.t("ยังไม่แจ้งผู้ร้อง", "complainant not told"),
        FollowUpMissed => lang.t("ไม่มีผลเมื่อติดตาม 3 เดือน", "nothing at the 3-month follow-up"),
    }
}

/// An inspecting office's name in the language, or its id when it is not one.
pub fn office_name(lang: Lang, id: &str) -> &str {
    projections::InspectingOffice::by_id(id).map_or(id, |o| lang.t(o.th, o.en))
}

/// Why a complaint is on an inspection list.
pub fn list_reason(lang: Lang, r: projections::ListReason) -> &'static str {
    use projections::ListReason::*;
    match r {
        Urgent => lang.t("เร่งด่วน", "urgent"),
        Unresolved => lang.t("ยังไม่ได้รับการแก้ไขเกิน 15 วัน", "unresolved after 15 days"),
        Reopened => lang.t("เปิดเรื่องใหม่", "reopened"),
        ExecutiveAssigned => lang.t("ผู้บริหารสั่งการ", "assigned by an executive"),
    }
}

/// What a `flagged` event marks.
pub fn flag(lang: Lang, f: event_model::Flag) -> &'static str {
    match f {
        event_model::Flag::Urgent => lang.t("เร่งด่วน", "urgent"),
        event_model::Flag::ExecutiveAssigned => lang.t("ผู้บริหารสั่งการ", "assigned by an executive"),
    }
}

/// Which obligation a `chased` event is about.
pub fn chased(lang: Lang, o: event_model::ChasedObligation) -> &'static str {
    match o {
        event_model::ChasedObligation::Ack => lang.t("การตอบรับ (R1)", "acknowledgement (R1)"),
        event_model::ChasedObligation::FirstProgress => {
            lang.t("รายงานผลครั้งแรก (R2)", "first progress (R2)")
        }
        event_model::ChasedObligation::Checkpoint => {
            lang.t("รายงานความคืบหน้า (R3)", "checkpoint (R3)")
        }
    }
}

/// How a complainant was told.
pub fn inform_method(lang: Lang, m: event_model::InformMethod) -> &'static str {
    use event_model::InformMethod::*;
    match m {
        Phone => lang.t("โทรศัพท์", "phone"),
        Sms => lang.t("SMS", "SMS"),
        Letter => lang.t("หนังสือ", "letter"),
        Email => lang.t("อีเมล", "email"),
        InPerson => lang.t("พบด้วยตนเอง", "in person"),
        Other => lang.t("อื่น ๆ", "other"),
    }
}

/// Why a complaint was reopened.
pub fn reopen_reason(lang: Lang, r: event_model::ReopenReason) -> &'static str {
    use event_model::ReopenReason::*;
    match r {
        NotFixed => lang.t("ยังไม่ได้แก้ไข", "not fixed"),
        Dissatisfied => lang.t("ไม่พอใจผล", "dissatisfied"),
        Other => lang.t("อื่น ๆ", "other"),
    }
}

/// An event type, as a timeline entry's heading.
pub fn event_type(lang: Lang, t: event_model::EventType) -> &'static str {
    use event_model::EventType::*;
    match t {
        Received => lang.t("รับเรื่อง", "received"),
        Forwarded => lang.t("ส่งต่อ", "forwarded"),
        Acknowledged => lang.t("ตอบรับ", "acknowledged"),
        ProgressReported => lang.t("รายงานความคืบหน้า", "progress reported"),
        Closed => lang.t("ยุติเรื่อง", "closed"),
        Reopened => lang.t("เปิดเรื่องใหม่", "reopened"),
        SpotChecked => lang.t("สุ่มตรวจ", "spot-checked"),
        MonthlyReportSubmitted => lang.t("ส่งรายงานประจำเดือน", "monthly report submitted"),
        Observed => lang.t("พบสถานะในระบบต้นทาง", "observed at its source"),
        Flagged => lang.t("ทำเครื่องหมาย", "flagged"),
        Chased => lang.t("ติดตามเร่งรัด", "chased"),
        ComplainantInformed => lang.t("แจ้งผลผู้ร้อง", "complainant informed"),
        FieldInspected => lang.t("ตรวจพื้นที่", "inspected in the field"),
    }
}

/// What a period of a fiscal year is called: `None` for the whole year.
pub fn period_label(
    lang: Lang,
    fy: calendar::FiscalYear,
    period: projections::Period,
) -> Option<String> {
    use projections::Period;
    match period {
        Period::Year => None,
        Period::Quarter(q) => Some(format!(
            "{} {q} {}",
            lang.t("ไตรมาส", "quarter"),
            fiscal_year(lang, fy)
        )),
        Period::Month(y, m) => Some(month_label(lang, &format!("{y:04}-{m:02}"))),
    }
}

/// How a complaint was closed.
pub fn outcome(lang: Lang, o: event_model::Outcome) -> &'static str {
    use event_model::Outcome::*;
    match o {
        Resolved => lang.t("แก้ไขสำเร็จ", "resolved"),
        OutsideAuthority => lang.t("อยู่นอกอำนาจหน้าที่", "outside authority"),
        AnonymousNoEvidence => lang.t("ไม่ระบุชื่อและไม่มีหลักฐาน", "anonymous, no evidence"),
        Duplicate => lang.t("เรื่องซ้ำ", "duplicate"),
        Withdrawn => lang.t("ถอนเรื่อง", "withdrawn"),
        NotActionable => lang.t("ดำเนินการไม่ได้", "not actionable"),
    }
}

/// A complaint category: its name in the language when it is a known one, else its code.
pub fn category(lang: Lang, code: &str) -> &str {
    match event_model::categories::known(code) {
        Some(c) => lang.t(c.th, c.en),
        None => code,
    }
}

/// A criterion of an indicator (`r1_met`, ...) in words; an unknown one as it is.
pub fn criterion(lang: Lang, name: &str) -> &str {
    use indicators::spec::Criterion::*;
    match indicators::spec::Criterion::parse(name) {
        Some(R1Met) => lang.t("ตอบรับทันเวลา (R1)", "acknowledged on time (R1)"),
        Some(R2Met) => lang.t("รายงานผลครั้งแรกทันเวลา (R2)", "first progress on time (R2)"),
        Some(R3AllMet) => lang.t("รายงานความคืบหน้าครบทุกรอบ (R3)", "every checkpoint met (R3)"),
        Some(ClosedWithAnswer) => lang.t("ยุติเรื่องพร้อมคำตอบ", "closed with an answer"),
        Some(Resolved) => lang.t("แก้ไขสำเร็จ", "resolved"),
        None => name,
    }
}

/// A step's note (the engine writes them in English).
pub fn step_note(lang: Lang, note: &str) -> String {
    if note == indicators::evaluate::NO_COMPLAINTS {
        lang.t("ไม่มีเรื่อง", "no complaints").to_string()
    } else {
        note.to_string()
    }
}

/// Why a deduction was made, in the language.
pub fn deduction(lang: Lang, d: &indicators::evaluate::DeductionLine) -> String {
    use indicators::evaluate::DeductionWhy::*;
    match d.why {
        ReportLate(on, due) => format!(
            "{} {} {} {}",
            lang.t(
                "ส่งรายงานประจำเดือนล่าช้า: ส่ง",
                "monthly report late: submitted"
            ),
            date(lang, on),
            lang.t("กำหนด", "due"),
            date(lang, due)
        ),
        ReportMissing(due) => format!(
            "{} {}",
            lang.t(
                "ไม่ได้ส่งรายงานประจำเดือน: กำหนด",
                "monthly report missing: due"
            ),
            date(lang, due)
        ),
        SpotChecks {
            consistent,
            checked,
            min_pct,
        } => format!(
            "{} {consistent}/{checked} ({:.1}%) {} {min_pct}%",
            lang.t("สุ่มตรวจตรงกับผลจริง", "spot checks consistent"),
            consistent as f64 * 100.0 / checked.max(1) as f64,
            lang.t("ต่ำกว่า", "below")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thai_dates_are_buddhist_era() {
        let d = NaiveDate::from_ymd_opt(2023, 10, 5).unwrap();
        assert_eq!(date(Lang::Th, d), "5 ต.ค. 2566");
        assert_eq!(date(Lang::En, d), "5 Oct 2023");
        assert_eq!(month_label(Lang::Th, "2024-02"), "ก.พ. 2567");
        assert_eq!(month_label(Lang::En, "bad"), "bad");
        let t = DateTime::parse_from_rfc3339("2023-10-04T23:30:00Z").unwrap();
        // 06:30 on the 5th in Bangkok.
        assert_eq!(instant(Lang::Th, &t), "5 ต.ค. 2566 06:30");
    }

    #[test]
    fn thai_is_the_default() {
        assert_eq!(Lang::parse(None), Lang::Th);
        assert_eq!(Lang::parse(Some("xx")), Lang::Th);
        assert_eq!(Lang::parse(Some("en")), Lang::En);
    }
}
