//! The fold as bytes, for projection snapshots: [`ComplaintFold::encode`] and
//! [`ComplaintFold::decode`]. A plain length-prefixed little-endian layout written field by
//! field; every struct is taken apart exhaustively, so a new field does not compile until it
//! is written here too (and [`FOLD_FORMAT`] is bumped: a test holds the bytes of a known fold).
//!
//! Instants are kept as seconds, nanoseconds and offset (no text to parse), dates as days. The
//! complaints come in [`PARTS`] parts, each with its length up front, so that they are
//! written and read on several threads.

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate};
use event_model::{Channel, ChasedObligation, FxMap, Location, Outcome};
use lifecycle::Status;

use super::{
    ChaseView, ComplaintAcc, ComplaintFold, InspectionView, Names, PublicAcc, RoundAcc, RoundEnd,
    SpotCheckView, Sym, Timestamp,
};
use crate::judgement::{Days, When};

/// The version of the layout below. Bump it whenever the fold's fields or their meaning
/// change: snapshots of another version are not used.
pub const FOLD_FORMAT: u32 = 4;

/// Why bytes are not a fold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError(pub String);

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the fold's bytes do not decode: {}", self.0)
    }
}

impl std::error::Error for DecodeError {}

/// How many parts the complaints are written in.
pub const PARTS: usize = 8;

const STATUSES: [Status; 7] = [
    Status::New,
    Status::Received,
    Status::Forwarded,
    Status::Acknowledged,
    Status::InProgress,
    Status::Closed,
    Status::Reopened,
];
const OUTCOMES: [Outcome; 6] = [
    Outcome::Resolved,
    Outcome::OutsideAuthority,
    Outcome::AnonymousNoEvidence,
    Outcome::Duplicate,
    Outcome::Withdrawn,
    Outcome::NotActionable,
];
const ROUND_ENDS: [RoundEnd; 2] = [RoundEnd::Closed, RoundEnd::Reforwarded];
const CHASED: [ChasedObligation; 3] = [
    ChasedObligation::Ack,
    ChasedObligation::FirstProgress,
    ChasedObligation::Checkpoint,
];

fn code<T: PartialEq>(all: &[T], v: &T) -> u8 {
    all.iter()
        .position(|x| x == v)
        .expect("every variant is listed") as u8
}

struct Enc<'a>(&'a mut Vec<u8>);

impl Enc<'_> {
    fn u8(&mut self, v: u8) {
        self.0.push(v);
    }
    fn bool(&mut self, v: bool) {
        self.u8(v as u8);
    }
    fn u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn len(&mut self, n: usize) {
        self.u32(u32::try_from(n).expect("fewer than 2^32 items"));
    }
    fn str(&mut self, s: &str) {
        self.len(s.len());
        self.0.extend_from_slice(s.as_bytes());
    }
    fn f64(&mut self, v: f64) {
        self.u64(v.to_bits());
    }
    fn opt<T>(&mut self, v: &Option<T>, f: impl FnOnce(&mut Self, &T)) {
        match v {
            None => self.u8(0),
            Some(x) => {
                self.u8(1);
                f(self, x)
            }
        }
    }
    fn list<T>(&mut self, v: &[T], mut f: impl FnMut(&mut Self, &T)) {
        self.len(v.len());
        v.iter().for_each(|x| f(self, x));
    }
    fn instant(&mut self, t: &DateTime<FixedOffset>) {
        self.u64(t.timestamp() as u64);
        self.u32(t.timestamp_subsec_nanos());
        self.u32(t.offset().local_minus_utc() as u32);
    }
    fn date(&mut self, d: &NaiveDate) {
        self.u32(d.num_days_from_ce() as u32);
    }
    fn when(&mut self, w: &When) {
        self.instant(&w.at);
        self.opt(&w.after, Self::instant);
    }
    fn days(&mut self, d: &Days) {
        self.date(&d.lo);
        self.date(&d.hi);
    }
    fn sym(&mut self, s: &Sym) {
        self.u32(s.0);
    }
}

struct Dec<'a> {
    bytes: &'a [u8],
    at: usize,
    /// How many names the fold's table holds.
    names: u32,
}

type Res<T> = Result<T, DecodeError>;

impl<'a> Dec<'a> {
    fn take(&mut self, n: usize) -> Res<&'a [u8]> {
        let end = self
            .at
            .checked_add(n)
            .filter(|e| *e <= self.bytes.len())
            .ok_or_else(|| DecodeError(format!("cut short at byte {}", self.at)))?;
        let s = &self.bytes[self.at..end];
        self.at = end;
        Ok(s)
    }
    fn u8(&mut self) -> Res<u8> {
        Ok(self.take(1)?[0])
    }
    fn bool(&mut self) -> Res<bool> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            b => Err(self.bad(format!("{b} is not a boolean"))),
        }
    }
    fn u32(&mut self) -> Res<u32> {
        Ok(u32::from_le_bytes(self.take(4)?.try_into().expect("4")))
    }
    fn u64(&mut self) -> Res<u64> {
        Ok(u64::from_le_bytes(self.take(8)?.try_into().expect("8")))
    }
    fn len(&mut self) -> Res<usize> {
        let n = self.u32()? as usize;
        // Every item takes at least a byte: a longer count is a broken one.
        if n > self.bytes.len() - self.at {
            return Err(self.bad(format!("a count of {n} is longer than what follows")));
        }
        Ok(n)
    }
    fn string(&mut self) -> Res<String> {
        let n = self.len()?;
        let b = self.take(n)?;
        std::str::from_utf8(b)
            .map(str::to_owned)
            .map_err(|_| self.bad("text that is not UTF-8".into()))
    }
    fn f64(&mut self) -> Res<f64> {
        Ok(f64::from_bits(self.u64()?))
    }
    fn opt<T>(&mut self, f: impl FnOnce(&mut Self) -> Res<T>) -> Res<Option<T>> {
        match self.u8()? {
            0 => Ok(None),
            1 => f(self).map(Some),
            b => Err(self.bad(format!("{b} is not an option tag"))),
        }
    }
    fn list<T>(&mut self, mut f: impl FnMut(&mut Self) -> Res<T>) -> Res<Vec<T>> {
        let n = self.len()?;
        (0..n).map(|_| f(self)).collect()
    }
    fn pick<T: Copy>(&mut self, all: &[T], what: &str) -> Res<T> {
        let c = self.u8()?;
        all.get(c as usize)
            .copied()
            .ok_or_else(|| self.bad(format!("{c} is not a {what}")))
    }
    fn instant(&mut self) -> Res<DateTime<FixedOffset>> {
        let secs = self.u64()? as i64;
        let nanos = self.u32()?;
        let offset = self.u32()? as i32;
        let off = FixedOffset::east_opt(offset)
            .ok_or_else(|| self.bad(format!("{offset} s is not an offset")))?;
        DateTime::from_timestamp(secs, nanos)
            .map(|t| t.with_timezone(&off))
            .ok_or_else(|| self.bad(format!("{secs} s is not an instant")))
    }
    fn date(&mut self) -> Res<NaiveDate> {
        let d = self.u32()? as i32;
        NaiveDate::from_num_days_from_ce_opt(d).ok_or_else(|| self.bad(format!("{d} is no day")))
    }
    fn when(&mut self) -> Res<When> {
        Ok(When {
            at: self.instant()?,
            after: self.opt(Self::instant)?,
        })
    }
    fn days(&mut self) -> Res<Days> {
        Ok(Days {
            lo: self.date()?,
            hi: self.date()?,
        })
    }
    fn sym(&mut self) -> Res<Sym> {
        let i = self.u32()?;
        if i >= self.names {
            return Err(self.bad(format!("name {i} of {}", self.names)));
        }
        Ok(Sym(i))
    }
    fn bad(&self, what: String) -> DecodeError {
        DecodeError(format!("{what} (before byte {})", self.at))
    }
}

impl ComplaintFold {
    /// Appends the fold's bytes to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        for part in self.encode_parts() {
            out.extend_from_slice(&part);
        }
    }

    /// The fold's bytes in pieces, to be written one after another: the head (the instant,
    /// the monthly reports and the parts' lengths), then the parts of the complaints, each
    /// encoded on a thread of its own.
    pub fn encode_parts(&self) -> Vec<Vec<u8>> {
        let ComplaintFold {
            as_of,
            complaints,
            names,
            reports,
            keep_public,
        } = self;
        let entries: Vec<(&String, &ComplaintAcc)> =
            complaints.iter().map(|(id, c)| (id, &**c)).collect();
        let per_part = entries.len().div_ceil(PARTS).max(1);
        let mut parts: Vec<Vec<u8>> = std::thread::scope(|scope| {
            let running: Vec<_> = (0..PARTS)
                .map(|i| {
                    let chunk = entries.get(i * per_part..).unwrap_or(&[]);
                    let chunk = &chunk[..chunk.len().min(per_part)];
                    scope.spawn(move || {
                        let mut out = Vec::with_capacity(256 * chunk.len());
                        let mut e = Enc(&mut out);
                        e.len(chunk.len());
                        for (id, c) in chunk {
                            e.str(id);
                            encode_complaint(&mut e, c);
                        }
                        out
                    })
                })
                .collect();
            running
                .into_iter()
                .map(|r| r.join().expect("encoding does not panic"))
                .collect()
        });
        let mut head = Vec::new();
        let mut e = Enc(&mut head);
        e.instant(as_of);
        e.bool(*keep_public);
        e.list(&names.list, |e, n| e.str(n));
        e.len(reports.len());
        for (unit, months) in reports {
            e.str(unit);
            e.len(months.len());
            for (month, t) in months {
                e.str(month);
                e.instant(&t.0);
            }
        }
        e.len(parts.len());
        for p in &parts {
            e.u64(p.len() as u64);
        }
        parts.insert(0, head);
        parts
    }

    /// The fold whose bytes `bytes` are (all of them); the parts are decoded on threads of
    /// their own.
    pub fn decode(bytes: &[u8]) -> Result<ComplaintFold, DecodeError> {
        let mut d = Dec {
            bytes,
            at: 0,
            names: 0,
        };
        let as_of = d.instant()?;
        let keep_public = d.bool()?;
        let list = d.list(Dec::string)?;
        let mut names = Names {
            index: FxMap::with_capacity_and_hasher(list.len(), Default::default()),
            list: Vec::new(),
        };
        for n in list {
            let before = names.list.len();
            names.sym(n);
            if names.list.len() == before {
                return Err(d.bad("a name twice".into()));
            }
        }
        if names.list.first().is_none_or(|n| !n.is_empty()) {
            return Err(d.bad("the names do not begin with the empty one".into()));
        }
        let known = names.list.len() as u32;
        let mut reports = std::collections::BTreeMap::new();
        for _ in 0..d.len()? {
            let unit = d.string()?;
            let mut months = std::collections::BTreeMap::new();
            for _ in 0..d.len()? {
                months.insert(d.string()?, Timestamp(d.instant()?));
            }
            reports.insert(unit, months);
        }
        let n = d.len()?;
        let lengths: Vec<u64> = (0..n).map(|_| d.u64()).collect::<Res<_>>()?;
        let mut slices = Vec::with_capacity(n);
        for len in lengths {
            let start = d.at;
            let len = usize::try_from(len).map_err(|_| d.bad(format!("a part of {len} bytes")))?;
            d.take(len)?;
            slices.push((start, &bytes[start..start + len]));
        }
        if d.at != bytes.len() {
            return Err(d.bad(format!("{} bytes after the fold", bytes.len() - d.at)));
        }
        let parts: Vec<Res<Part>> = std::thread::scope(|scope| {
            let running: Vec<_> = slices
                .iter()
                .map(|&(start, part)| scope.spawn(move || decode_part(part, start, known)))
                .collect();
            running
                .into_iter()
                .map(|r| r.join().expect("decoding does not panic"))
                .collect()
        });
        let mut parts = parts.into_iter().collect::<Res<Vec<_>>>()?;
        let total = parts.iter().map(Vec::len).sum();
        let mut complaints = event_model::FxMap::with_capacity_and_hasher(
            total,
            std::hash::BuildHasherDefault::default(),
        );
        for part in &mut parts {
            for (id, c) in part.drain(..) {
                if let Some(_twice) = complaints.insert(id, c) {
                    return Err(DecodeError("a complaint twice".into()));
                }
            }
        }
        Ok(ComplaintFold {
            as_of,
            complaints,
            names,
            reports,
            keep_public,
        })
    }
}

/// A part's complaints, decoded.
type Part = Vec<(String, Box<ComplaintAcc>)>;

/// One part's complaints; `offset` is where the part begins in the whole (for messages).
fn decode_part(part: &[u8], offset: usize, names: u32) -> Res<Part> {
    let mut d = Dec {
        bytes: part,
        at: 0,
        names,
    };
    let n = d.len()?;
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let id = d.string()?;
        out.push((id, Box::new(decode_complaint(&mut d)?)));
    }
    if d.at != part.len() {
        return Err(DecodeError(format!(
            "{} bytes after a part (before byte {})",
            part.len() - d.at,
            offset + d.at
        )));
    }
    Ok(out)
}

fn encode_complaint(e: &mut Enc, c: &ComplaintAcc) {
    let ComplaintAcc {
        status,
        public,
        updated_at,
        channel,
        category,
        district,
        received_at,
        closed_at,
        outcome,
        reopen_count,
        version,
        rounds,
        spot_checks,
        known_until,
        uncertain_from,
        urgent,
        executive_assigned,
        wants_update,
        informs,
        closed_before_forward,
        inspections,
    } = c;
    e.u8(code(&STATUSES, status));
    e.opt(public, |e, p| {
        let PublicAcc {
            subject,
            location,
            last_answer,
        } = &**p;
        e.str(subject);
        e.opt(location, |e, l| {
            let Location { address, lat, lon } = l;
            e.opt(address, |e, a| e.str(a));
            e.opt(lat, |e, v| e.f64(*v));
            e.opt(lon, |e, v| e.f64(*v));
        });
        e.opt(last_answer, |e, a| e.str(a));
    });
    e.opt(updated_at, Enc::instant);
    e.opt(channel, |e, ch| e.u8(code(&Channel::ALL, ch)));
    e.sym(category);
    e.sym(district);
    e.opt(received_at, Enc::when);
    e.opt(closed_at, Enc::when);
    e.opt(outcome, |e, o| e.u8(code(&OUTCOMES, o)));
    e.u32(*reopen_count);
    e.u64(*version);
    e.list(rounds, encode_round);
    e.list(spot_checks, |e, s| {
        let SpotCheckView {
            month,
            checked_at,
            consistent,
        } = s;
        e.str(month);
        e.instant(&checked_at.0);
        e.bool(*consistent);
    });
    e.opt(known_until, Enc::instant);
    e.opt(uncertain_from, Enc::instant);
    e.bool(*urgent);
    e.bool(*executive_assigned);
    e.bool(*wants_update);
    e.list(informs, Enc::when);
    e.bool(*closed_before_forward);
    e.list(inspections, |e, i| {
        let InspectionView {
            office,
            inspected_at,
            consistent,
        } = i;
        e.str(office);
        e.instant(&inspected_at.0);
        e.bool(*consistent);
    });
}

fn encode_round(e: &mut Enc, r: &RoundAcc) {
    let RoundAcc {
        unit,
        external,
        forwarded_at,
        acknowledged_at,
        first_progress_at,
        progress_dates,
        ended_at,
        end,
        outcome,
        chases,
    } = r;
    e.sym(unit);
    e.bool(*external);
    e.when(forwarded_at);
    e.opt(acknowledged_at, Enc::when);
    e.opt(first_progress_at, Enc::when);
    e.list(progress_dates, Enc::days);
    e.opt(ended_at, Enc::when);
    e.opt(end, |e, x| e.u8(code(&ROUND_ENDS, x)));
    e.opt(outcome, |e, o| e.u8(code(&OUTCOMES, o)));
    e.list(chases, |e, c| {
        let ChaseView {
            obligation,
            checkpoint,
            at,
        } = c;
        e.u8(code(&CHASED, obligation));
        e.opt(checkpoint, Enc::date);
        e.when(at);
    });
}

fn decode_complaint(d: &mut Dec) -> Res<ComplaintAcc> {
    Ok(ComplaintAcc {
        status: d.pick(&STATUSES, "status")?,
        public: d.opt(|d| {
            Ok(Box::new(PublicAcc {
                subject: d.string()?,
                location: d.opt(|d| {
                    Ok(Location {
                        address: d.opt(Dec::string)?,
                        lat: d.opt(Dec::f64)?,
                        lon: d.opt(Dec::f64)?,
                    })
                })?,
                last_answer: d.opt(Dec::string)?,
            }))
        })?,
        updated_at: d.opt(Dec::instant)?,
        channel: d.opt(|d| d.pick(&Channel::ALL, "channel"))?,
        category: d.sym()?,
        district: d.sym()?,
        received_at: d.opt(Dec::when)?,
        closed_at: d.opt(Dec::when)?,
        outcome: d.opt(|d| d.pick(&OUTCOMES, "outcome"))?,
        reopen_count: d.u32()?,
        version: d.u64()?,
        rounds: d.list(decode_round)?,
        spot_checks: d.list(|d| {
            Ok(SpotCheckView {
                month: d.string()?,
                checked_at: Timestamp(d.instant()?),
                consistent: d.bool()?,
            })
        })?,
        known_until: d.opt(Dec::instant)?,
        uncertain_from: d.opt(Dec::instant)?,
        urgent: d.bool()?,
        executive_assigned: d.bool()?,
        wants_update: d.bool()?,
        informs: d.list(Dec::when)?,
        closed_before_forward: d.bool()?,
        inspections: d.list(|d| {
            Ok(InspectionView {
                office: d.string()?,
                inspected_at: Timestamp(d.instant()?),
                consistent: d.bool()?,
            })
        })?,
    })
}

fn decode_round(d: &mut Dec) -> Res<RoundAcc> {
    Ok(RoundAcc {
        unit: d.sym()?,
        external: d.bool()?,
        forwarded_at: d.when()?,
        acknowledged_at: d.opt(Dec::when)?,
        first_progress_at: d.opt(Dec::when)?,
        progress_dates: d.list(Dec::days)?,
        ended_at: d.opt(Dec::when)?,
        end: d.opt(|d| d.pick(&ROUND_ENDS, "round end"))?,
        outcome: d.opt(|d| d.pick(&OUTCOMES, "outcome"))?,
        chases: d.list(|d| {
            Ok(ChaseView {
                obligation: d.pick(&CHASED, "chased obligation")?,
                checkpoint: d.opt(Dec::date)?,
                at: d.when()?,
            })
        })?,
    })
}
