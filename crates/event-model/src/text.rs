//! The rules of form for texts, once for the checks and the JSON Schemas: identifiers (streams,
//! units, actors), texts that must say something, months.

/// Longest accepted stream, unit, actor or reference identifier, in characters.
pub const MAX_ID_CHARS: usize = 200;

/// An identifier (stream, actor, unit) as a JSON Schema pattern: 1 to [`MAX_ID_CHARS`]
/// characters, none of them white space or a control character ([`check_identifier`]).
pub const IDENT_PATTERN: &str = r"^[^\s\x00-\x1f\x7f-\x9f]{1,200}$";

/// A text that must say something, as a JSON Schema pattern: at least one character that is
/// neither white space nor a control character.
pub const NON_BLANK_PATTERN: &str = r"[^\s\x00-\x1f\x7f-\x9f]";

/// A month `YYYY-MM`, as a JSON Schema pattern ([`is_month`]).
pub const MONTH_PATTERN: &str = r"^[0-9]{4}-(0[1-9]|1[0-2])$";

/// White space or a control character: what identifiers may not hold and blank texts are
/// made of.
fn is_blank_char(c: char) -> bool {
    c.is_whitespace() || c.is_control()
}

/// Whether a text says nothing: only white space and control characters (or nothing).
pub fn is_blank(s: &str) -> bool {
    s.chars().all(is_blank_char)
}

/// Whether an identifier (stream, unit, actor) is acceptable: non-empty, not too long, no
/// white space or control characters.
pub fn check_identifier(s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Err("must not be empty".into());
    }
    if s.chars().count() > MAX_ID_CHARS {
        return Err(format!("is longer than {MAX_ID_CHARS} characters"));
    }
    if let Some(c) = s.chars().find(|c| is_blank_char(*c)) {
        return Err(format!(
            "`{s}` contains white space or a control character ({c:?})"
        ));
    }
    Ok(())
}

/// `YYYY-MM` with a month 01..12.
pub fn is_month(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 7
        && b[4] == b'-'
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[5..].iter().all(u8::is_ascii_digit)
        && matches!(s[5..].parse::<u32>(), Ok(1..=12))
}
