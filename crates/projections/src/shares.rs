//! The on-time shares of R1, R2 and R3, defined once for every face (the replay summary, the
//! dashboard, the reports).
//!
//! The headline R3 share is **per checkpoint**: of the R3 checkpoints judged (met or missed;
//! pending ones are not counted), the share met. A round's own R3 verdict (every checkpoint
//! met) is [`RoundView::r3_all_met`], which the indicators' `r3_all_met` criterion and the
//! reports' rows use.

use calendar::{local_date, FiscalYear};

use crate::complaint::{ComplaintView, RoundView};

/// Judged obligations of one kind: how many were met and how many missed (pending ones are
/// not counted).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Share {
    pub met: u64,
    pub missed: u64,
}

impl Share {
    /// Counts one verdict: met, missed, or `None` for not judged (pending, or no deadline).
    pub fn add(&mut self, v: Option<bool>) {
        match v {
            Some(true) => self.met += 1,
            Some(false) => self.missed += 1,
            None => {}
        }
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
        self.r1.add(r.ack_on_time);
        self.r2.add(r.first_progress_on_time);
        r.checkpoints.iter().for_each(|k| self.r3.add(k.met));
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

impl RoundView {
    /// The round's R3 verdict: missed if any checkpoint was missed, pending (`None`) if one
    /// is pending, met otherwise (also with no checkpoint).
    pub fn r3_all_met(&self) -> Option<bool> {
        if self.checkpoints.iter().any(|k| k.met == Some(false)) {
            Some(false)
        } else if self.checkpoints.iter().any(|k| k.met.is_none()) {
            None
        } else {
            Some(true)
        }
    }
}
