//! The on-time shares of R1, R2 and R3, defined once for every face (the replay summary, the
//! dashboard, the reports).
//!
//! The headline R3 share is **per checkpoint**: of the R3 checkpoints judged (met or missed;
//! pending ones are not counted), the share met. A round's own R3 verdict (every checkpoint
//! met) is [`RoundView::r3_all_met`], which the indicators' `r3_all_met` criterion and the
//! reports' rows use.

use calendar::{local_date, FiscalYear};

use crate::complaint::{ComplaintView, RoundView};
use crate::judgement::Judgement;

/// Whether something is counted in or taken out of a tally (tallies kept up to date as
/// complaints are judged anew take out the old judgement and count the new one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sign {
    Add,
    Remove,
}

impl Sign {
    /// One more, or one fewer.
    pub fn step(self, n: &mut u64) {
        match self {
            Sign::Add => *n += 1,
            Sign::Remove => *n -= 1,
        }
    }
}

/// Judged obligations of one kind: how many were met and how many missed (pending ones are
/// not counted), and how many the data cannot judge (undetermined: out of the share, counted
/// beside it).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Share {
    pub met: u64,
    pub missed: u64,
    pub undetermined: u64,
}

impl Share {
    /// Counts one obligation: met, missed, undetermined, or not counted (pending, or no
    /// duty).
    pub fn add(&mut self, v: Option<Judgement>) {
        self.count(v, Sign::Add)
    }

    /// Takes out one obligation counted before with the same judgement.
    pub fn remove(&mut self, v: Option<Judgement>) {
        self.count(v, Sign::Remove)
    }

    fn count(&mut self, v: Option<Judgement>, sign: Sign) {
        match v {
            Some(Judgement::Met) => sign.step(&mut self.met),
            Some(Judgement::Missed) => sign.step(&mut self.missed),
            Some(Judgement::Undetermined) => sign.step(&mut self.undetermined),
            Some(Judgement::Pending) | None => {}
        }
    }

    /// The undetermined share of the obligations that are due (met, missed or undetermined),
    /// in percent; `None` with none due.
    pub fn undetermined_pct(&self) -> Option<f64> {
        let n = self.judged() + self.undetermined;
        (n > 0).then(|| self.undetermined as f64 * 100.0 / n as f64)
    }

    /// Obligations judged.
    pub fn judged(&self) -> u64 {
        self.met + self.missed
    }

    /// The met share in percent, `None` with nothing judged.
    pub fn pct(&self) -> Option<f64> {
        let n = self.judged();
        (n > 0).then(|| self.met as f64 * 100.0 / n as f64)
    }
}

/// R1, R2 and R3 of the assignment rounds forwarded in a fiscal year (on a local date of it).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OnTime {
    /// Rounds acknowledged on time.
    pub r1: Share,
    /// Rounds whose first progress was reported on time.
    pub r2: Share,
    /// R3 checkpoints met (per checkpoint, not per round).
    pub r3: Share,
}

impl OnTime {
    /// Counts one round (whatever year it was forwarded in).
    pub fn add_round(&mut self, r: &RoundView) {
        self.count_round(r, Share::add)
    }

    /// Takes out a round counted before, as it was counted.
    pub fn remove_round(&mut self, r: &RoundView) {
        self.count_round(r, Share::remove)
    }

    fn count_round(&mut self, r: &RoundView, f: fn(&mut Share, Option<Judgement>)) {
        f(&mut self.r1, r.ack_status);
        f(&mut self.r2, r.first_progress_status);
        r.checkpoints
            .iter()
            .for_each(|k| f(&mut self.r3, Some(k.status)));
    }

    /// The shares of the rounds of `complaints` forwarded in `fy`.
    pub fn of<'a>(
        complaints: impl IntoIterator<Item = &'a ComplaintView>,
        fy: FiscalYear,
    ) -> OnTime {
        let mut o = OnTime::default();
        for c in complaints {
            c.rounds
                .iter()
                .filter(|r| fy.contains(local_date(&r.forwarded_at.0)))
                .for_each(|r| o.add_round(r));
        }
        o
    }
}

/// The intake centre's own duties over a fiscal year: R0 forwarding (complaints received in
/// it), chasing the units' missed obligations and telling complainants (rounds forwarded in
/// it).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CentreShares {
    pub forward: Share,
    pub chased: Share,
    pub informed: Share,
}

impl CentreShares {
    pub fn of<'a>(
        complaints: impl IntoIterator<Item = &'a ComplaintView>,
        fy: FiscalYear,
    ) -> CentreShares {
        CentreShares::of_dates(complaints, |d| fy.contains(d))
    }

    /// Over complaints received, and rounds forwarded, on the local dates `keep` takes.
    pub fn of_dates<'a>(
        complaints: impl IntoIterator<Item = &'a ComplaintView>,
        keep: impl Fn(chrono::NaiveDate) -> bool,
    ) -> CentreShares {
        let mut s = CentreShares::default();
        for c in complaints {
            s.count(c, &keep, Share::add);
        }
        s
    }

    /// Counts one complaint of a fiscal year.
    pub fn add(&mut self, c: &ComplaintView, fy: FiscalYear) {
        self.count(c, &|d| fy.contains(d), Share::add)
    }

    /// Takes out a complaint counted before, as it was counted.
    pub fn remove(&mut self, c: &ComplaintView, fy: FiscalYear) {
        self.count(c, &|d| fy.contains(d), Share::remove)
    }

    fn count(
        &mut self,
        c: &ComplaintView,
        keep: &dyn Fn(chrono::NaiveDate) -> bool,
        f: fn(&mut Share, Option<Judgement>),
    ) {
        if c.received_at.is_some_and(|t| keep(local_date(&t.0))) {
            f(&mut self.forward, c.forward_status);
        }
        for r in c
            .rounds
            .iter()
            .filter(|r| keep(local_date(&r.forwarded_at.0)))
        {
            r.chased
                .iter()
                .for_each(|ch| f(&mut self.chased, Some(ch.status)));
            f(&mut self.informed, r.inform_status);
        }
    }
}

/// A unit's directives followed up: the three-month follow-ups of the rounds of Governor's
/// directives forwarded on the dates `keep` takes, per unit (in id order).
pub fn directive_follow_ups<'a>(
    complaints: impl IntoIterator<Item = &'a ComplaintView>,
    keep: impl Fn(chrono::NaiveDate) -> bool,
) -> Vec<(String, Share, u64)> {
    let mut by_unit: std::collections::BTreeMap<String, (Share, u64)> = Default::default();
    for c in complaints {
        for r in c
            .rounds
            .iter()
            .filter(|r| r.follow_up_status.is_some() && keep(local_date(&r.forwarded_at.0)))
        {
            let e = by_unit.entry(r.unit.clone()).or_default();
            e.0.add(r.follow_up_status);
            e.1 += u64::from(r.follow_up_status == Some(Judgement::Pending));
        }
    }
    by_unit.into_iter().map(|(u, (s, p))| (u, s, p)).collect()
}

impl RoundView {
    /// The round's R3 verdict: missed if any checkpoint was missed, else undetermined if any
    /// is undetermined, else pending if one is pending, met otherwise (also with no
    /// checkpoint).
    pub fn r3_status(&self) -> Judgement {
        let any = |j: Judgement| self.checkpoints.iter().any(|k| k.status == j);
        if any(Judgement::Missed) {
            Judgement::Missed
        } else if any(Judgement::Undetermined) {
            Judgement::Undetermined
        } else if any(Judgement::Pending) {
            Judgement::Pending
        } else {
            Judgement::Met
        }
    }

    /// [`r3_status`](RoundView::r3_status) as a boolean: `None` while pending or undetermined.
    pub fn r3_all_met(&self) -> Option<bool> {
        self.r3_status().on_time()
    }
}
