//! Stored events: the output envelope, canonical bytes and the hash chain.

use chrono::{DateTime, FixedOffset, SecondsFormat};
use serde::ser::{Serialize, SerializeMap, Serializer};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::types::{EventData, EventType};

/// The schema version this build writes.
pub const SCHEMA_VERSION: u32 = 1;

/// A SHA-256 digest.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Hash(pub [u8; 32]);

impl Hash {
    /// The `prev_hash` of the first event.
    pub const GENESIS: Hash = Hash([0; 32]);

    pub fn to_hex(&self) -> String {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut s = String::with_capacity(64);
        for b in self.0 {
            s.push(HEX[(b >> 4) as usize] as char);
            s.push(HEX[(b & 15) as usize] as char);
        }
        s
    }

    /// The hash whose [`to_hex`](Hash::to_hex) is `hex` (64 lowercase hex digits).
    pub fn from_hex(hex: &str) -> Option<Hash> {
        let b = hex.as_bytes();
        if b.len() != 64 {
            return None;
        }
        let digit = |c: u8| match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            _ => None,
        };
        let mut out = [0u8; 32];
        for (i, o) in out.iter_mut().enumerate() {
            *o = digit(b[2 * i])? << 4 | digit(b[2 * i + 1])?;
        }
        Some(Hash(out))
    }

    pub fn from_slice(b: &[u8]) -> Option<Hash> {
        <[u8; 32]>::try_from(b).ok().map(Hash)
    }
}

impl std::fmt::Debug for Hash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl std::fmt::Display for Hash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_hex())
    }
}

/// Formats an instant the one way the log stores it: RFC 3339, the sender's offset kept,
/// fractional seconds only when present, `Z` for UTC.
pub fn format_instant(t: &DateTime<FixedOffset>) -> String {
    use chrono::{Datelike, Timelike};
    let offset = t.offset().local_minus_utc();
    let local = t.naive_local();
    // Fast path for the usual case: whole seconds, a 4-digit year, a whole-minute offset.
    if local.nanosecond() != 0 || !(0..=9999).contains(&local.year()) || offset % 60 != 0 {
        return t.to_rfc3339_opts(SecondsFormat::AutoSi, true);
    }
    let mut b = [0u8; 25];
    let put2 = |b: &mut [u8], at: usize, v: u32| {
        b[at] = b'0' + (v / 10) as u8;
        b[at + 1] = b'0' + (v % 10) as u8;
    };
    let y = local.year() as u32;
    put2(&mut b, 0, y / 100);
    put2(&mut b, 2, y % 100);
    b[4] = b'-';
    put2(&mut b, 5, local.month());
    b[7] = b'-';
    put2(&mut b, 8, local.day());
    b[10] = b'T';
    put2(&mut b, 11, local.hour());
    b[13] = b':';
    put2(&mut b, 14, local.minute());
    b[16] = b':';
    put2(&mut b, 17, local.second());
    let len = if offset == 0 {
        b[19] = b'Z';
        20
    } else {
        let m = offset.unsigned_abs() / 60;
        b[19] = if offset < 0 { b'-' } else { b'+' };
        put2(&mut b, 20, m / 60);
        b[22] = b':';
        put2(&mut b, 23, m % 60);
        25
    };
    String::from_utf8(b[..len].to_vec()).expect("ASCII")
}

/// Parses an RFC 3339 instant. The form the log stores (`YYYY-MM-DDTHH:MM:SS[.f]` then `Z` or
/// `+HH:MM`) takes a fast path; anything else goes through chrono's full parser.
pub fn parse_instant(s: &str) -> Option<DateTime<FixedOffset>> {
    fast_instant(s.as_bytes()).or_else(|| DateTime::parse_from_rfc3339(s).ok())
}

fn fast_instant(b: &[u8]) -> Option<DateTime<FixedOffset>> {
    use chrono::{NaiveDate, TimeZone};
    fn num(b: &[u8]) -> Option<u32> {
        b.iter().try_fold(0u32, |acc, &c| {
            c.is_ascii_digit().then(|| acc * 10 + (c - b'0') as u32)
        })
    }
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let (year, month, day) = (num(&b[0..4])?, num(&b[5..7])?, num(&b[8..10])?);
    let (h, m, sec) = (num(&b[11..13])?, num(&b[14..16])?, num(&b[17..19])?);
    let mut i = 19;
    let mut nanos = 0u32;
    if b[i] == b'.' {
        let start = i + 1;
        i = start;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        let digits = &b[start..i];
        if digits.is_empty() || digits.len() > 9 {
            return None;
        }
        nanos = num(digits)? * 10u32.pow(9 - digits.len() as u32);
    }
    let offset_secs = match &b[i..] {
        [b'Z'] => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let hh = num(&[*h1, *h2])? as i32;
            let mm = num(&[*m1, *m2])? as i32;
            let v = hh * 3600 + mm * 60;
            if *sign == b'-' {
                -v
            } else {
                v
            }
        }
        _ => return None,
    };
    let offset = FixedOffset::east_opt(offset_secs)?;
    let naive =
        NaiveDate::from_ymd_opt(year as i32, month, day)?.and_hms_nano_opt(h, m, sec, nanos)?;
    offset.from_local_datetime(&naive).single()
}

/// The stored fields that the hash covers, in the form the store holds them.
pub struct CanonicalFields<'a> {
    pub position: u64,
    pub id: &'a Uuid,
    pub stream: &'a str,
    pub version: u64,
    pub event_type: &'a str,
    pub occurred_at: &'a str,
    /// Present only for an event whose instant is known to a range; an exact event's bytes
    /// (and so every hash written before the field existed) are unchanged.
    pub occurred_after: Option<&'a str>,
    pub recorded_at: &'a str,
    pub actor: &'a str,
    pub schema_version: u32,
    /// The payload's canonical JSON text, exactly as stored.
    pub data: &'a str,
}

impl CanonicalFields<'_> {
    /// The canonical bytes of a stored event: a JSON object with the keys in lexicographic order
    /// and no white space; `data` is embedded as stored.
    pub fn to_bytes(&self, out: &mut Vec<u8>) {
        fn s(out: &mut Vec<u8>, v: &str) {
            serde_json::to_writer(&mut *out, v).expect("writing to a Vec");
        }
        out.clear();
        out.extend_from_slice(b"{\"actor\":");
        s(out, self.actor);
        out.extend_from_slice(b",\"data\":");
        out.extend_from_slice(self.data.as_bytes());
        out.extend_from_slice(b",\"id\":\"");
        out.extend_from_slice(
            self.id
                .hyphenated()
                .encode_lower(&mut Uuid::encode_buffer())
                .as_bytes(),
        );
        out.extend_from_slice(b"\",");
        if let Some(after) = self.occurred_after {
            out.extend_from_slice(b"\"occurred_after\":");
            s(out, after);
            out.push(b',');
        }
        out.extend_from_slice(b"\"occurred_at\":");
        s(out, self.occurred_at);
        out.extend_from_slice(
            format!(",\"position\":{},\"recorded_at\":", self.position).as_bytes(),
        );
        s(out, self.recorded_at);
        out.extend_from_slice(
            format!(",\"schema_version\":{},\"stream\":", self.schema_version).as_bytes(),
        );
        s(out, self.stream);
        out.extend_from_slice(b",\"type\":");
        s(out, self.event_type);
        out.extend_from_slice(format!(",\"version\":{}}}", self.version).as_bytes());
    }

    /// `SHA-256(prev_hash || canonical bytes)`; `scratch` is reused between calls.
    pub fn chain_hash(&self, prev: &Hash, scratch: &mut Vec<u8>) -> Hash {
        self.to_bytes(scratch);
        let mut h = Sha256::new();
        h.update(prev.0);
        h.update(&scratch[..]);
        Hash(h.finalize().into())
    }
}

/// An event as stored in the log.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedEvent {
    pub position: u64,
    pub id: Uuid,
    pub stream: String,
    pub version: u64,
    pub occurred_at: DateTime<FixedOffset>,
    /// See [`NewEvent::occurred_after`](crate::NewEvent::occurred_after).
    pub occurred_after: Option<DateTime<FixedOffset>>,
    pub recorded_at: DateTime<FixedOffset>,
    pub actor: String,
    pub schema_version: u32,
    pub data: EventData,
    pub prev_hash: Hash,
    pub hash: Hash,
}

impl RecordedEvent {
    pub fn event_type(&self) -> EventType {
        self.data.event_type()
    }

    /// This event's hash recomputed from its content and `prev_hash`, as `verify` does: equal
    /// to `hash` unless the stored row was altered.
    pub fn recompute_hash(&self) -> Hash {
        let data = self.data.to_canonical_json();
        let occurred = format_instant(&self.occurred_at);
        let after = self.occurred_after.as_ref().map(format_instant);
        let recorded = format_instant(&self.recorded_at);
        CanonicalFields {
            position: self.position,
            id: &self.id,
            stream: &self.stream,
            version: self.version,
            event_type: self.event_type().as_str(),
            occurred_at: &occurred,
            occurred_after: after.as_deref(),
            recorded_at: &recorded,
            actor: &self.actor,
            schema_version: self.schema_version,
            data: &data,
        }
        .chain_hash(&self.prev_hash, &mut Vec::new())
    }

    /// Replaces complainants' names and contacts (personal data under Thailand's PDPA) with
    /// `[redacted]`, for every view and export that may not show them.
    pub fn redact_personal_data(&mut self) {
        match &mut self.data {
            EventData::Received(r) => {
                for field in [&mut r.complainant.name, &mut r.complainant.contact] {
                    if field.is_some() {
                        *field = Some(REDACTED.to_string());
                    }
                }
            }
            // What the complainant was told, and how to reach them, may name them.
            EventData::ComplainantInformed(i) if i.note.is_some() => {
                i.note = Some(REDACTED.to_string());
            }
            _ => {}
        }
    }
}

/// What personal data is replaced with.
pub const REDACTED: &str = "[redacted]";

/// The stored/output envelope: the input fields plus `position`, `version`, `recorded_at`,
/// `schema_version`, `prev_hash` and `hash`.
impl Serialize for RecordedEvent {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(12 + self.occurred_after.is_some() as usize))?;
        m.serialize_entry("position", &self.position)?;
        m.serialize_entry("id", &self.id)?;
        m.serialize_entry("stream", &self.stream)?;
        m.serialize_entry("version", &self.version)?;
        m.serialize_entry("type", self.event_type().as_str())?;
        m.serialize_entry("occurred_at", &format_instant(&self.occurred_at))?;
        if let Some(after) = &self.occurred_after {
            m.serialize_entry("occurred_after", &format_instant(after))?;
        }
        m.serialize_entry("recorded_at", &format_instant(&self.recorded_at))?;
        m.serialize_entry("actor", &self.actor)?;
        m.serialize_entry("schema_version", &self.schema_version)?;
        m.serialize_entry("data", &self.data)?;
        m.serialize_entry("prev_hash", &self.prev_hash.to_hex())?;
        m.serialize_entry("hash", &self.hash.to_hex())?;
        m.end()
    }
}

/// Brings a stored payload written under an older schema version up to [`SCHEMA_VERSION`].
/// Version 1 is the first; a newer version than this build knows is an error.
pub fn upcast(schema_version: u32, _event_type: EventType, data: &str) -> Result<&str, String> {
    match schema_version {
        SCHEMA_VERSION => Ok(data),
        v => Err(format!(
            "schema version {v} is not known to this build (it reads up to {SCHEMA_VERSION})"
        )),
    }
}
