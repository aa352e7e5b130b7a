//! The `traceparent` header: W3C Trace Context Level 2, §3.2.
//!
//! ```text
//! version "-" trace-id "-" parent-id "-" trace-flags      ; version 00: exactly 55 characters
//! 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01
//! ```

use super::scan;

/// Bit 0 of `trace-flags`: the caller may have recorded trace data (§3.2.2.5.1).
pub const FLAG_SAMPLED: u8 = 0x01;
/// Bit 1 of `trace-flags`, new in Level 2: at least the right-most 7 bytes of
/// the trace-id are random (§3.2.2.5.2).
pub const FLAG_RANDOM: u8 = 0x02;
/// The flags this implementation knows; every other bit is set to zero
/// before a header is forwarded (§3.2.2.5.3 "Vendors MUST set those to zero").
pub const KNOWN_FLAGS: u8 = FLAG_SAMPLED | FLAG_RANDOM;

/// Length of a version-00 header, and the minimum length of any later version (§3.2.4).
pub const TRACEPARENT_LEN: usize = 55;

/// A parsed `traceparent`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Traceparent {
    /// The version byte (`00`, or a higher version parsed by the §3.2.4 rules).
    pub version: u8,
    /// The 16-byte trace-id; never all zeros.
    pub trace_id: [u8; 16],
    /// The 8-byte parent-id; never all zeros.
    pub parent_id: [u8; 8],
    /// The flags as received. Use `flags & KNOWN_FLAGS` for anything forwarded.
    pub flags: u8,
}

/// Why a `traceparent` value was ignored. Every error means the same thing to
/// the caller: start a new trace, and ignore `tracestate` (§3.3).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TraceparentError {
    /// More or fewer than one `traceparent` field was received.
    #[error("{0} traceparent header fields; exactly one is allowed")]
    FieldCount(usize),
    /// The value does not start with two lowercase hex digits and a dash.
    #[error("the version is not two lowercase hex digits followed by a dash")]
    Version,
    /// Version `ff` is forbidden (§3.2.2.1).
    #[error("version ff is forbidden")]
    VersionFf,
    /// A version-00 value is not exactly 55 characters long.
    #[error("a version-00 traceparent has 55 characters, this one has {0}")]
    Length(usize),
    /// A higher-version value is shorter than 55 characters (§3.2.4).
    #[error(
        "a traceparent of a higher version has at least 55 characters, this one has {0}"
    )]
    TooShort(usize),
    /// A field is not followed by a dash where the format needs one.
    #[error("expected a dash at character {0}")]
    Dash(usize),
    /// The trace-id is not 32 lowercase hex digits.
    #[error("the trace-id is not 32 lowercase hex digits")]
    TraceId,
    /// The trace-id is all zeros (§3.2.2.3).
    #[error("the trace-id is all zeros")]
    ZeroTraceId,
    /// The parent-id is not 16 lowercase hex digits.
    #[error("the parent-id is not 16 lowercase hex digits")]
    ParentId,
    /// The parent-id is all zeros (§3.2.2.4).
    #[error("the parent-id is all zeros")]
    ZeroParentId,
    /// The trace-flags are not 2 lowercase hex digits.
    #[error("the trace-flags are not 2 lowercase hex digits")]
    Flags,
}

/// Parses one `traceparent` field value. Leading and trailing optional
/// whitespace (spaces and tabs, RFC 9110 §5.6.3) is ignored.
pub fn parse_traceparent(value: &str) -> Result<Traceparent, TraceparentError> {
    let b = scan::trim_ows(value).as_bytes();
    // §3.2.4: "When the version prefix cannot be parsed (it's not 2 hex
    // characters followed by a dash (-)), the implementation should restart the trace."
    if b.len() < 3 || b[2] != b'-' {
        return Err(TraceparentError::Version);
    }
    let version = hex_byte(b[0], b[1]).ok_or(TraceparentError::Version)?;
    if version == 0xff {
        return Err(TraceparentError::VersionFf);
    }
    if version == 0 {
        if b.len() != TRACEPARENT_LEN {
            return Err(TraceparentError::Length(b.len()));
        }
    } else {
        // §3.2.4: shorter than 55 characters: restart; the flags must be
        // "either at the end of the string or followed by a dash".
        if b.len() < TRACEPARENT_LEN {
            return Err(TraceparentError::TooShort(b.len()));
        }
        if b.len() > TRACEPARENT_LEN && b[TRACEPARENT_LEN] != b'-' {
            return Err(TraceparentError::Dash(TRACEPARENT_LEN));
        }
    }
    for at in [35, 52] {
        if b[at] != b'-' {
            return Err(TraceparentError::Dash(at));
        }
    }
    let mut trace_id = [0u8; 16];
    hex_into(&b[3..35], &mut trace_id).ok_or(TraceparentError::TraceId)?;
    if trace_id == [0; 16] {
        return Err(TraceparentError::ZeroTraceId);
    }
    let mut parent_id = [0u8; 8];
    hex_into(&b[36..52], &mut parent_id).ok_or(TraceparentError::ParentId)?;
    if parent_id == [0; 8] {
        return Err(TraceparentError::ZeroParentId);
    }
    let flags = hex_byte(b[53], b[54]).ok_or(TraceparentError::Flags)?;
    Ok(Traceparent {
        version,
        trace_id,
        parent_id,
        flags,
    })
}

/// Formats a version-00 `traceparent`; unknown flag bits are cleared (§3.2.2.5.3).
pub fn format_traceparent(
    trace_id: [u8; 16],
    parent_id: [u8; 8],
    flags: u8,
) -> String {
    let mut s = String::with_capacity(TRACEPARENT_LEN);
    s.push_str("00-");
    push_hex(&mut s, &trace_id);
    s.push('-');
    push_hex(&mut s, &parent_id);
    s.push('-');
    push_hex(&mut s, &[flags & KNOWN_FLAGS]);
    s
}

fn nibble(c: u8) -> Option<u8> {
    // HEXDIGLC only: uppercase hex is invalid (§3.2.2).
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    }
}

fn hex_byte(hi: u8, lo: u8) -> Option<u8> {
    Some(nibble(hi)? << 4 | nibble(lo)?)
}

fn hex_into(src: &[u8], out: &mut [u8]) -> Option<()> {
    if src.len() != out.len() * 2 {
        return None;
    }
    for (o, pair) in out.iter_mut().zip(src.chunks_exact(2)) {
        *o = hex_byte(pair[0], pair[1])?;
    }
    Some(())
}

fn push_hex(s: &mut String, bytes: &[u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for b in bytes {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 0xf)] as char);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OK: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    #[test]
    fn parses_and_formats_the_spec_example() {
        let tp = parse_traceparent(OK).unwrap();
        assert_eq!(tp.flags, 1);
        assert_eq!(format_traceparent(tp.trace_id, tp.parent_id, tp.flags), OK);
    }

    #[test]
    fn rejects_what_section_3_2_forbids() {
        let bad = [
            (
                "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                TraceparentError::VersionFf,
            ),
            (
                "000-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                TraceparentError::Version,
            ),
            (
                "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
                TraceparentError::TraceId,
            ),
            (
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1",
                TraceparentError::Length(54),
            ),
            (
                "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01.x",
                TraceparentError::Dash(55),
            ),
        ];
        for (value, err) in bad {
            assert_eq!(parse_traceparent(value), Err(err), "{value}");
        }
    }

    #[test]
    fn unknown_flags_are_not_forwarded() {
        let tp = parse_traceparent(
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-ff",
        )
        .unwrap();
        assert!(
            format_traceparent(tp.trace_id, tp.parent_id, tp.flags).ends_with("-03")
        );
    }
}
