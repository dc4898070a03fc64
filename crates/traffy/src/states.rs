//! The platform's states and what each means for the lifecycle: one table, in the README too.

/// Where a ticket stands, as far as the lifecycle is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Phase {
    /// With the organisation, not yet taken.
    Waiting,
    /// Forwarded to another organisation, not yet taken there.
    Forwarded,
    /// Taken by the organisation and being worked on.
    InProgress,
    /// Finished: closed `resolved` by the unit.
    Finished,
    /// Not the platform's business: closed `not_actionable` by the centre.
    Irrelevant,
}

impl Phase {
    pub fn is_closed(self) -> bool {
        matches!(self, Phase::Finished | Phase::Irrelevant)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Waiting => "waiting",
            Phase::Forwarded => "forwarded",
            Phase::InProgress => "in_progress",
            Phase::Finished => "finished",
            Phase::Irrelevant => "irrelevant",
        }
    }
}

/// Every state label the data uses (Thai labels of 2022 and 2023-2025, the per-organisation
/// ones, and the English state types of the exports and the API), its meaning and its phase.
pub const STATE_MAPPING: &[(&str, &str, Phase)] = &[
    ("รอรับเรื่อง", "waiting to be taken", Phase::Waiting),
    ("ส่งต่อ", "forwarded", Phase::Forwarded),
    ("ส่งต่อ(ใหม่)", "forwarded (new)", Phase::Forwarded),
    (
        "ส่งเรื่องแล้ว",
        "sent (the 2022 label the API served for state_type=inprogress)",
        Phase::InProgress,
    ),
    ("รับเรื่อง", "taken", Phase::InProgress),
    ("กำลังดำเนินการ", "in progress", Phase::InProgress),
    ("ศึกษาปัญหา", "studying the problem", Phase::InProgress),
    ("ของบประมาณ", "requesting budget", Phase::InProgress),
    ("จัดซื้อจัดจ้าง", "procurement", Phase::InProgress),
    ("ขั้นตอนทางกฎหมาย", "legal procedure", Phase::InProgress),
    ("จัดทำนโยบาย", "drafting a policy", Phase::InProgress),
    ("ติดตามเรื่อง", "following up", Phase::InProgress),
    ("เสร็จสิ้น", "finished", Phase::Finished),
    ("ไม่เกี่ยวข้อง", "irrelevant", Phase::Irrelevant),
    ("start", "state type: waiting", Phase::Waiting),
    ("waiting", "state type: waiting", Phase::Waiting),
    ("report", "state type: reported, waiting", Phase::Waiting),
    ("forward", "state type: forwarded", Phase::Forwarded),
    ("inprogress", "state type: in progress", Phase::InProgress),
    ("follow", "state type: following up", Phase::InProgress),
    ("finish", "state type: finished", Phase::Finished),
    ("irrelevant", "state type: irrelevant", Phase::Irrelevant),
];

/// The phase of a state label, `None` for a label the table does not know.
pub fn phase_of(state: &str) -> Option<Phase> {
    let s = state.trim();
    STATE_MAPPING
        .iter()
        .find(|(label, _, _)| *label == s)
        .map(|(_, _, p)| *p)
}

/// A timeline label of the web pages: the states above, and `เปิดเรื่องใหม่` (reopened).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimelineStatus {
    Phase(Phase),
    Reopened,
}

pub fn timeline_status(label: &str) -> Option<TimelineStatus> {
    match label.trim() {
        "เปิดเรื่องใหม่" => Some(TimelineStatus::Reopened),
        other => phase_of(other).map(TimelineStatus::Phase),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_label_is_listed_once() {
        let mut labels: Vec<&str> = STATE_MAPPING.iter().map(|(l, _, _)| *l).collect();
        labels.sort();
        let n = labels.len();
        labels.dedup();
        assert_eq!(labels.len(), n);
        assert_eq!(phase_of(" ขั้นตอนทางกฎหมาย "), Some(Phase::InProgress));
        assert_eq!(phase_of("ส่งเรื่องแล้ว"), Some(Phase::InProgress));
        assert_eq!(phase_of("ลึกลับ"), None);
        assert_eq!(
            timeline_status("เปิดเรื่องใหม่"),
            Some(TimelineStatus::Reopened)
        );
    }
}
