//! A realistic synthetic fiscal year of complaints, as a time-ordered stream of events.
//!
//! Deterministic for a seed: the generator has its own small PRNG and never reads the clock or
//! a random source. Event ids are UUIDv7 built from each event's `occurred_at` and PRNG bits,
//! so they are time-ordered like the ids real senders should use.
//!
//! Memory stays bounded: complaints are generated in order of receipt, and their later events
//! wait in a heap until the clock of the stream passes them.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use calendar::{bangkok, start_of_local_day, Calendar, FiscalYear};
use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveDate, Timelike};
use event_model::*;

/// The 50 district offices of Bangkok (unit ids `district:<slug>`).
pub const DISTRICTS: [&str; 50] = [
    "phra-nakhon",
    "dusit",
    "nong-chok",
    "bang-rak",
    "bang-khen",
    "bang-kapi",
    "pathum-wan",
    "pom-prap-sattru-phai",
    "phra-khanong",
    "min-buri",
    "lat-krabang",
    "yan-nawa",
    "samphanthawong",
    "phaya-thai",
    "thon-buri",
    "bangkok-yai",
    "huai-khwang",
    "khlong-san",
    "taling-chan",
    "bangkok-noi",
    "bang-khun-thian",
    "phasi-charoen",
    "nong-khaem",
    "rat-burana",
    "bang-phlat",
    "din-daeng",
    "bueng-kum",
    "sathon",
    "bang-sue",
    "chatuchak",
    "bang-kho-laem",
    "prawet",
    "khlong-toei",
    "suan-luang",
    "chom-thong",
    "don-mueang",
    "ratchathewi",
    "lat-phrao",
    "watthana",
    "bang-khae",
    "lak-si",
    "sai-mai",
    "khan-na-yao",
    "saphan-sung",
    "wang-thonglang",
    "khlong-sam-wa",
    "bang-na",
    "thawi-watthana",
    "thung-khru",
    "bang-bon",
];

/// Departments of the BMA that take complaints (unit ids `dept:<slug>`).
pub const DEPARTMENTS: [&str; 6] = [
    "public-works",
    "drainage-sewerage",
    "environment",
    "traffic-transport",
    "city-law-enforcement",
    "health",
];

/// Every BMA unit the generator assigns complaints to.
pub fn units() -> Vec<String> {
    DISTRICTS
        .iter()
        .map(|d| format!("district:{d}"))
        .chain(DEPARTMENTS.iter().map(|d| format!("dept:{d}")))
        .collect()
}

/// SplitMix64: small, fast, good enough for synthetic data, and the same on every platform.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    pub fn f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    pub fn chance(&mut self, p: f64) -> bool {
        self.f64() < p
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo + 1) as u64) as i64
    }
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

/// What to generate.
#[derive(Debug, Clone)]
pub struct GenConfig {
    pub fiscal_year: FiscalYear,
    pub complaints: u64,
    pub seed: u64,
}

struct Pending {
    at: DateTime<FixedOffset>,
    seq: u64,
    stream: String,
    actor: String,
    data: EventData,
    /// A watcher's event (its id drawn from the watchers' generator).
    oversight: bool,
}

impl PartialEq for Pending {
    fn eq(&self, o: &Self) -> bool {
        (self.at, self.seq) == (o.at, o.seq)
    }
}
impl Eq for Pending {}
impl PartialOrd for Pending {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Pending {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        (self.at, self.seq).cmp(&(o.at, o.seq))
    }
}

/// The event stream of a synthetic fiscal year, in `occurred_at` order.
pub struct Generator {
    cfg: GenConfig,
    cal: Calendar,
    rng: Rng,
    /// The watchers' events (urgency, flags, chases, messages, inspections) draw from their own
    /// generator, so that the complaints' lifecycles are those of the same seed without them.
    orng: Rng,
    next_complaint: u64,
    seq: u64,
    heap: BinaryHeap<Reverse<Pending>>,
    fy_start: DateTime<FixedOffset>,
    fy_seconds: i64,
    units: Vec<String>,
}

const INTAKE: &str = "intake:1555-centre";
const EVALUATOR: &str = "evaluator:audit-office";

impl Generator {
    pub fn new(cfg: GenConfig, cal: Calendar) -> Generator {
        let fy_start = start_of_local_day(cfg.fiscal_year.first_day());
        let fy_seconds = (cfg.fiscal_year.end_instant() - fy_start).num_seconds();
        let mut g = Generator {
            rng: Rng::new(cfg.seed),
            orng: Rng::new(cfg.seed ^ 0x5741_5443_4845_5253),
            cfg,
            cal,
            next_complaint: 0,
            seq: 0,
            heap: BinaryHeap::new(),
            fy_start,
            fy_seconds,
            units: units(),
        };
        g.schedule_monthly_reports();
        g
    }

    fn push(&mut self, at: DateTime<FixedOffset>, stream: &str, actor: &str, data: EventData) {
        self.push_as(at, stream, actor, data, false);
    }

    /// A watcher's event.
    fn push_watch(
        &mut self,
        at: DateTime<FixedOffset>,
        stream: &str,
        actor: &str,
        data: EventData,
    ) {
        self.push_as(at, stream, actor, data, true);
    }

    fn push_as(
        &mut self,
        at: DateTime<FixedOffset>,
        stream: &str,
        actor: &str,
        data: EventData,
        oversight: bool,
    ) {
        self.seq += 1;
        self.heap.push(Reverse(Pending {
            at,
            seq: self.seq,
            stream: stream.to_string(),
            actor: actor.to_string(),
            data,
            oversight,
        }));
    }

    /// A watcher's office-hours time on a date (drawn from the watchers' generator).
    fn watch_time(&mut self, date: NaiveDate) -> DateTime<FixedOffset> {
        start_of_local_day(date) + Duration::minutes(8 * 60 + 30 + self.orng.range(0, 8 * 60))
    }

    /// The centre chases `unit` about `obligation`, due on `due` and fulfilled at `done` (if
    /// ever): mostly on the business day after it became overdue, sometimes later, now and then
    /// never; not once the unit did it.
    fn chase(
        &mut self,
        id: &str,
        unit: &str,
        obligation: ChasedObligation,
        due: NaiveDate,
        done: Option<DateTime<FixedOffset>>,
    ) {
        let by = self.cal.nth_business_day_after(due + Duration::days(1), 1);
        let r = self.orng.f64();
        let day = if r < 0.8 {
            by
        } else if r < 0.95 {
            let n = self.orng.range(1, 3) as u32;
            self.cal.nth_business_day_after(by, n)
        } else {
            return;
        };
        let at = self.watch_time(day);
        if done.is_some_and(|d| at >= d) {
            return;
        }
        self.push_watch(
            at,
            id,
            INTAKE,
            EventData::Chased(Chased {
                checkpoint: (obligation == ChasedObligation::Checkpoint).then_some(due),
                note: Some("called the unit".into()),
                obligation,
                unit: unit.to_string(),
            }),
        );
    }

    /// The centre tells the complainant of a close at `closed_at`: mostly within three
    /// business days, sometimes later, now and then never; before a reopen at `reopened_at`.
    fn inform(
        &mut self,
        id: &str,
        closed_at: DateTime<FixedOffset>,
        reopened_at: Option<DateTime<FixedOffset>>,
    ) {
        let r = self.orng.f64();
        if r < 0.05 {
            return;
        }
        let days = if r < 0.87 {
            self.orng.range(0, 3)
        } else {
            self.orng.range(4, 8)
        } as u32;
        let mut at = if days == 0 {
            closed_at + Duration::minutes(self.orng.range(30, 300))
        } else {
            let d = self
                .cal
                .nth_business_day_after(calendar::local_date(&closed_at), days);
            self.watch_time(d)
        };
        if let Some(ro) = reopened_at.filter(|ro| at >= *ro) {
            at = closed_at + (ro - closed_at) / 2;
        }
        let method = *self.orng.pick(&[
            InformMethod::Phone,
            InformMethod::Phone,
            InformMethod::Sms,
            InformMethod::Letter,
            InformMethod::Email,
        ]);
        self.push_watch(
            at,
            id,
            INTAKE,
            EventData::ComplainantInformed(ComplainantInformed {
                method,
                note: Some("told the outcome".into()),
            }),
        );
    }

    /// An inspecting office goes and looks at a complaint of its channel held by a district
    /// office: likelier for one on its selection list.
    fn inspect(
        &mut self,
        id: &str,
        channel: Channel,
        unit: &str,
        after: DateTime<FixedOffset>,
        listed: bool,
    ) {
        let Some(office) = projections::INSPECTING_OFFICES
            .iter()
            .find(|o| o.channel == channel)
            .map(|o| o.id)
        else {
            return;
        };
        if !unit.starts_with("district:") || !self.orng.chance(if listed { 0.12 } else { 0.012 }) {
            return;
        }
        let n = self.orng.range(1, 20) as u32;
        let d = self
            .cal
            .nth_business_day_after(calendar::local_date(&after), n);
        let at = self.watch_time(d);
        let consistent = self.orng.chance(0.88);
        self.push_watch(
            at,
            id,
            &format!("inspector:{office}"),
            EventData::FieldInspected(FieldInspected {
                consistent,
                evidence: vec![],
                note: Some(if consistent {
                    "as the unit reported".into()
                } else {
                    "not as the unit reported".into()
                }),
                office: office.to_string(),
            }),
        );
    }

    fn schedule_monthly_reports(&mut self) {
        let first = self.cfg.fiscal_year.first_day();
        let units = self.units.clone();
        for unit in &units {
            let stream = format!("{UNIT_STREAM_PREFIX}{unit}");
            let mut last: Option<DateTime<FixedOffset>> = None;
            for m in 0..12 {
                let month = add_months(first, m);
                let roll = self.rng.f64();
                if roll < 0.03 {
                    continue; // missing
                }
                let day = if roll < 0.10 {
                    self.rng.range(11, 25)
                } else {
                    self.rng.range(1, 10)
                };
                let next = add_months(month, 1);
                let date =
                    NaiveDate::from_ymd_opt(next.year(), next.month(), day as u32).expect("valid");
                let mut at = self.office_time(date);
                if let Some(l) = last {
                    at = at.max(l + Duration::minutes(1));
                }
                last = Some(at);
                let data = EventData::MonthlyReportSubmitted(MonthlyReportSubmitted {
                    month: format!("{:04}-{:02}", month.year(), month.month()),
                    unit: unit.clone(),
                });
                self.push(at, &stream, &format!("unit:{unit}"), data);
            }
        }
    }

    /// A time during office hours (08:30-16:30 local) of a date.
    fn office_time(&mut self, date: NaiveDate) -> DateTime<FixedOffset> {
        start_of_local_day(date) + Duration::minutes(8 * 60 + 30 + self.rng.range(0, 8 * 60))
    }

    /// The local date `n` business days after `date`, at an office-hours time, and never
    /// before `after`.
    fn business_days_later(
        &mut self,
        after: DateTime<FixedOffset>,
        n: u32,
    ) -> DateTime<FixedOffset> {
        let d = calendar::local_date(&after);
        let target = self.cal.nth_business_day_after(d, n);
        let t = self.office_time(target);
        if t <= after {
            after + Duration::minutes(self.rng.range(5, 90))
        } else {
            t
        }
    }

    /// Like [`Self::business_days_later`] with a uniform number of days in `lo..=hi`.
    fn business_days_between(
        &mut self,
        after: DateTime<FixedOffset>,
        lo: i64,
        hi: i64,
    ) -> DateTime<FixedOffset> {
        let n = self.rng.range(lo, hi) as u32;
        self.business_days_later(after, n)
    }

    fn unit_for(&mut self, category: &str, district: &str) -> (String, bool) {
        let r = self.rng.f64();
        match category {
            "electricity" | "power_lines" if r < 0.5 => ("ext:mea".into(), true),
            "flooding" | "drainage" if r < 0.35 => ("dept:drainage-sewerage".into(), false),
            "traffic" | "traffic_signs" | "transit" if r < 0.3 => {
                ("dept:traffic-transport".into(), false)
            }
            "pm25" | "noise" if r < 0.3 => ("dept:environment".into(), false),
            "safety" if r < 0.1 => ("ext:police".into(), true),
            _ if r > 0.985 => ("ext:mwa".into(), true),
            _ if r > 0.95 => (format!("dept:{}", self.rng.pick(&DEPARTMENTS)), false),
            _ => (format!("district:{district}"), false),
        }
    }

    /// Generates one complaint's events and schedules them.
    fn complaint(&mut self) {
        let n = self.next_complaint;
        self.next_complaint += 1;
        let id = format!("C{}-{:07}", self.cfg.fiscal_year.be(), n + 1);
        // Receipts spread evenly over the year, with jitter, in order.
        let span = self.fy_seconds as f64 / self.cfg.complaints.max(1) as f64;
        let offset = ((n as f64 + self.rng.f64() * 0.999) * span) as i64;
        let received_at = self.fy_start + Duration::seconds(offset);
        let channel = {
            let r = self.rng.f64();
            match r {
                _ if r < 0.55 => Channel::TraffyFondue,
                _ if r < 0.84 => Channel::Hotline1555,
                _ if r < 0.86 => Channel::GovernorDistrictVisit,
                _ if r < 0.875 => Channel::GovernorCommunityVisit,
                _ if r < 0.92 => Channel::Letter,
                _ if r < 0.95 => Channel::WalkIn,
                _ if r < 0.99 => Channel::Web,
                _ => Channel::Other,
            }
        };
        let category = self.rng.pick(&event_model::categories::CODES).to_string();
        let district = self.rng.pick(&DISTRICTS).to_string();
        let anonymous = if channel == Channel::Letter {
            self.rng.chance(0.5)
        } else {
            self.rng.chance(0.12)
        };
        let urgent = self.orng.chance(0.03);
        let complainant = if anonymous {
            Complainant {
                anonymous: true,
                contact: None,
                name: None,
                wants_update: false,
            }
        } else {
            Complainant {
                anonymous: false,
                contact: Some(format!("08{:08}", self.rng.below(100_000_000))),
                name: Some(format!("Citizen {}", self.rng.below(1_000_000))),
                wants_update: self.rng.chance(0.6),
            }
        };
        let location = Location {
            address: Some(format!("Soi {}, {district}", self.rng.range(1, 120))),
            lat: Some(13.65 + self.rng.f64() * 0.3),
            lon: Some(100.40 + self.rng.f64() * 0.45),
        };
        let wants_update = complainant.wants_update && !complainant.anonymous;
        let external_ref = (channel == Channel::TraffyFondue)
            .then(|| format!("2023-{:06X}", self.rng.below(0xFFFFFF)));
        self.push(
            received_at,
            &id,
            INTAKE,
            EventData::Received(Received {
                category: category.clone(),
                channel,
                complainant,
                detail: None,
                district: district.clone(),
                external_ref,
                location: Some(location),
                subject: format!("{category} problem reported in {district}"),
                urgent,
            }),
        );
        // An executive assigns one now and then.
        let executive = self.orng.chance(0.015);
        if executive {
            let at = received_at + Duration::hours(self.orng.range(2, 72));
            self.push_watch(
                at,
                &id,
                "admin:executive",
                EventData::Flagged(Flagged {
                    flag: Flag::ExecutiveAssigned,
                    note: "the Governor asks for a report".into(),
                }),
            );
        }
        let mut t = received_at;
        // Anonymous letters without evidence, and duplicates, are closed by the centre.
        if channel == Channel::Letter && anonymous && self.rng.chance(0.3) {
            t = self.business_days_between(t, 1, 3);
            self.close(&id, t, None, Outcome::AnonymousNoEvidence);
            return;
        }
        if self.rng.chance(0.02) {
            t = self.business_days_later(t, 1);
            self.close(&id, t, None, Outcome::Duplicate);
            return;
        }
        let (mut unit, mut external) = self.unit_for(&category, &district);
        // Wrong unit first, now and then.
        if !external && self.rng.chance(0.03) {
            let wrong = format!("district:{}", self.rng.pick(&DISTRICTS));
            if wrong != unit {
                t += Duration::minutes(self.rng.range(10, 600));
                self.forward(&id, t, &wrong, false);
                t = self.business_days_between(t, 1, 3);
            }
        }
        let mut rounds = 0;
        loop {
            rounds += 1;
            t += Duration::minutes(self.rng.range(10, if rounds == 1 { 1800 } else { 600 }));
            self.forward(&id, t, &unit, external);
            if external {
                if self.rng.chance(0.75) {
                    t = self.business_days_between(t, 2, 10);
                    self.close(&id, t, None, Outcome::OutsideAuthority);
                    if wants_update {
                        self.inform(&id, t, None);
                    }
                }
                return;
            }
            let forwarded_at = t;
            if !self.round(&id, &unit, &mut t) {
                // Left open: inspected now and then once it is on the list (unresolved).
                let after = received_at + Duration::days(16);
                self.inspect(&id, channel, &unit, after.max(forwarded_at), true);
                return;
            }
            let closed_at = t;
            self.inspect(
                &id,
                channel,
                &unit,
                closed_at,
                urgent || executive || rounds > 1,
            );
            // Spot check now and then.
            if self.rng.chance(0.12) {
                let at = self.business_days_between(t, 3, 20);
                let consistent = self.rng.chance(0.9);
                self.push(
                    at,
                    &id,
                    EVALUATOR,
                    EventData::SpotChecked(SpotChecked {
                        consistent,
                        note: None,
                    }),
                );
                t = at;
            }
            if rounds < 3 && self.rng.chance(0.05) {
                t = self.business_days_between(t, 2, 10);
                let reason = *self.rng.pick(&[
                    ReopenReason::NotFixed,
                    ReopenReason::Dissatisfied,
                    ReopenReason::Other,
                ]);
                self.push(
                    t,
                    &id,
                    INTAKE,
                    EventData::Reopened(Reopened { note: None, reason }),
                );
                if wants_update {
                    self.inform(&id, closed_at, Some(t));
                }
                if self.rng.chance(0.2) {
                    let (u, e) = self.unit_for(&category, &district);
                    unit = u;
                    external = e;
                }
                continue;
            }
            if wants_update {
                self.inform(&id, closed_at, None);
            }
            return;
        }
    }

    /// One internal round: acknowledge, report, close (or not). Returns whether it closed.
    fn round(&mut self, id: &str, unit: &str, t: &mut DateTime<FixedOffset>) -> bool {
        let actor = format!("unit:{unit}");
        let ack_due = self.cal.nth_business_day_after(calendar::local_date(t), 1);
        let ack = self.rng.f64();
        if ack < 0.04 {
            // Never acknowledged: the centre closes it much later, or it stays open.
            if self.rng.chance(0.5) {
                *t = self.business_days_between(*t, 10, 40);
                self.chase(id, unit, ChasedObligation::Ack, ack_due, Some(*t));
                self.close(id, *t, None, Outcome::NotActionable);
                return true;
            }
            self.chase(id, unit, ChasedObligation::Ack, ack_due, None);
            return false;
        }
        *t = if ack < 0.86 {
            let days = self.rng.range(0, 1) as u32;
            if days == 0 {
                *t + Duration::minutes(self.rng.range(5, 240))
            } else {
                self.business_days_later(*t, 1)
            }
        } else {
            self.business_days_between(*t, 2, 5)
        };
        if calendar::local_date(t) > ack_due {
            self.chase(id, unit, ChasedObligation::Ack, ack_due, Some(*t));
        }
        self.push(
            *t,
            id,
            &actor,
            EventData::Acknowledged(Acknowledged {
                unit: unit.to_string(),
            }),
        );
        let first_due = self.cal.nth_business_day_after(calendar::local_date(t), 3);
        let duration_days = (self.rng.f64().powi(3) * 90.0) as i64 + 1;
        let closes = self.rng.chance(0.9);
        let ends = *t + Duration::days(duration_days);
        let horizon = self.cfg.fiscal_year.end_instant() + Duration::days(60);
        // First progress.
        let first = if self.rng.chance(0.85) {
            self.business_days_between(*t, 1, 3)
        } else {
            self.business_days_between(*t, 4, 9)
        };
        if calendar::local_date(&first) > first_due && first < ends && first < horizon {
            self.chase(
                id,
                unit,
                ChasedObligation::FirstProgress,
                first_due,
                Some(first),
            );
        }
        let mut p = first;
        let diligent = self.rng.chance(0.7);
        while p < ends && p < horizon {
            let evidence = if self.rng.chance(0.3) {
                vec![format!("https://evidence.example/{id}/{}", p.timestamp())]
            } else {
                vec![]
            };
            self.push(
                p,
                id,
                &actor,
                EventData::ProgressReported(ProgressReported {
                    evidence,
                    note: "work in progress".into(),
                    unit: unit.to_string(),
                }),
            );
            *t = p;
            let next_cp = calendar::next_checkpoint_after(calendar::local_date(&p));
            let gap_cp = if diligent || self.rng.chance(0.6) {
                next_cp
            } else {
                calendar::next_checkpoint_after(next_cp)
            };
            if gap_cp != next_cp {
                // A checkpoint skipped: the centre chases it (before any close).
                let close = closes.then(|| start_of_local_day(calendar::local_date(&ends)));
                self.chase(id, unit, ChasedObligation::Checkpoint, next_cp, close);
            }
            let date = gap_cp - Duration::days(self.rng.range(0, 3));
            let np = self.office_time(date.max(calendar::local_date(&p)));
            p = if np > p { np } else { p + Duration::hours(1) };
        }
        if !closes || ends >= horizon {
            // Left open: every checkpoint after the last report is missed, and chased.
            let end = calendar::local_date(&self.cfg.fiscal_year.end_instant());
            let mut cp = calendar::next_checkpoint_after(calendar::local_date(t));
            while cp < end {
                self.chase(id, unit, ChasedObligation::Checkpoint, cp, None);
                cp = calendar::next_checkpoint_after(cp);
            }
            return false;
        }
        *t = (*t + Duration::minutes(30)).max(ends.with_hour(10).unwrap_or(ends));
        let outcome = {
            let r = self.rng.f64();
            match r {
                _ if r < 0.86 => Outcome::Resolved,
                _ if r < 0.91 => Outcome::NotActionable,
                _ if r < 0.95 => Outcome::OutsideAuthority,
                _ if r < 0.98 => Outcome::Withdrawn,
                _ => Outcome::Duplicate,
            }
        };
        self.close(id, *t, Some(unit), outcome);
        true
    }

    fn forward(&mut self, id: &str, at: DateTime<FixedOffset>, unit: &str, external: bool) {
        self.push(
            at,
            id,
            INTAKE,
            EventData::Forwarded(Forwarded {
                external,
                note: None,
                to_unit: unit.to_string(),
            }),
        );
    }

    fn close(&mut self, id: &str, at: DateTime<FixedOffset>, unit: Option<&str>, outcome: Outcome) {
        let actor = unit
            .map(|u| format!("unit:{u}"))
            .unwrap_or_else(|| INTAKE.to_string());
        self.push(
            at,
            id,
            &actor,
            EventData::Closed(Closed {
                answer: format!("{} - the complainant was informed", outcome.as_str()),
                evidence: vec![],
                outcome,
                unit: unit.map(String::from),
            }),
        );
    }

    fn new_event(&mut self, p: Pending) -> NewEvent {
        let ms = p.at.timestamp_millis().max(0) as u64;
        let rng = if p.oversight {
            &mut self.orng
        } else {
            &mut self.rng
        };
        let r = rng.next_u64().to_le_bytes();
        let r2 = rng.next_u64().to_le_bytes();
        let mut rand = [0u8; 10];
        rand[..8].copy_from_slice(&r);
        rand[8..].copy_from_slice(&r2[..2]);
        let id = uuid::Builder::from_unix_timestamp_millis(ms, &rand).into_uuid();
        NewEvent {
            id,
            stream: p.stream,
            occurred_at: p.at.with_timezone(&bangkok()),
            occurred_after: None,
            actor: p.actor,
            data: p.data,
            expected_version: None,
        }
    }
}

impl Iterator for Generator {
    type Item = NewEvent;

    fn next(&mut self) -> Option<NewEvent> {
        loop {
            // Generate complaints until the earliest pending event precedes the next receipt.
            let next_receipt_bound = if self.next_complaint < self.cfg.complaints {
                let span = self.fy_seconds as f64 / self.cfg.complaints as f64;
                Some(self.fy_start + Duration::seconds((self.next_complaint as f64 * span) as i64))
            } else {
                None
            };
            match (self.heap.peek(), next_receipt_bound) {
                (Some(Reverse(p)), Some(bound)) if p.at < bound => {}
                (_, Some(_)) => {
                    self.complaint();
                    continue;
                }
                (None, None) => return None,
                (Some(_), None) => {}
            }
            let Reverse(p) = self.heap.pop().expect("peeked");
            return Some(self.new_event(p));
        }
    }
}

fn add_months(d: NaiveDate, n: u32) -> NaiveDate {
    let total = d.year() * 12 + d.month0() as i32 + n as i32;
    NaiveDate::from_ymd_opt(total / 12, (total % 12) as u32 + 1, 1).expect("valid")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gen(n: u64, seed: u64) -> Vec<NewEvent> {
        Generator::new(
            GenConfig {
                fiscal_year: FiscalYear::from_ce(2024),
                complaints: n,
                seed,
            },
            Calendar::builtin(),
        )
        .collect()
    }

    #[test]
    fn the_watchers_events_are_accepted_and_as_frequent_as_set() {
        let all = gen(3000, 5);
        let mut state: std::collections::HashMap<String, lifecycle::Lifecycle> =
            std::collections::HashMap::new();
        let mut kinds = std::collections::BTreeMap::new();
        for e in &all {
            *kinds.entry(e.event_type().as_str()).or_insert(0u32) += 1;
            if e.stream.starts_with(UNIT_STREAM_PREFIX) {
                continue;
            }
            let s = state.entry(e.stream.clone()).or_default();
            lifecycle::validate(&e.stream, s, &e.data)
                .unwrap_or_else(|r| panic!("{} {}: {r}", e.stream, e.event_type()));
            lifecycle::evolve(s, &e.data);
        }
        for k in [
            "flagged",
            "chased",
            "complainant_informed",
            "field_inspected",
        ] {
            assert!(kinds.get(k).copied().unwrap_or(0) > 10, "{k}: {kinds:?}");
        }
        let urgent = all
            .iter()
            .filter(|e| matches!(&e.data, EventData::Received(r) if r.urgent))
            .count();
        assert!((30..200).contains(&urgent), "{urgent} urgent of 3000");
    }

    #[test]
    fn deterministic_for_a_seed_and_time_ordered() {
        let a = gen(300, 7);
        let b = gen(300, 7);
        assert_eq!(a, b);
        assert_ne!(a, gen(300, 8));
        assert!(a.windows(2).all(|w| w[0].occurred_at <= w[1].occurred_at));
        let received = a
            .iter()
            .filter(|e| e.event_type() == EventType::Received)
            .count();
        assert_eq!(received, 300);
        for e in &a {
            assert_eq!(e.id.get_version_num(), 7);
            wire::check_form(e).unwrap();
        }
    }
}
