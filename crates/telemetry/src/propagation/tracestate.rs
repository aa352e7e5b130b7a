//! The `tracestate` header: W3C Trace Context Level 2, §3.3.
//!
//! ```text
//! list        = list-member 0*31( OWS "," OWS list-member )
//! list-member = key "=" value / OWS
//! key         = ( lcalpha / DIGIT ) 0*255( keychar )
//! keychar     = lcalpha / DIGIT / "_" / "-" / "*" / "/" / "@"
//! value       = 0*255( chr ) nblk-chr       ; chr = %x20 / nblk-chr
//! nblk-chr    = %x21-2B / %x2D-3C / %x3E-7E
//! ```

use super::scan;

/// At most 32 list-members (§3.3.2).
pub const MAX_MEMBERS: usize = 32;
/// A key has at most 256 characters (§3.3.2.2.1).
pub const MAX_KEY_LEN: usize = 256;
/// A value has at most 256 characters (§3.3.2.2.2).
pub const MAX_VALUE_LEN: usize = 256;
/// The longest combined `tracestate` this implementation propagates. §3.3.3.1
/// asks for at least 512 characters and for the maximum to be documented: this
/// is it. Longer lists are truncated by whole entries.
pub const MAX_COMBINED_LEN: usize = 512;
/// Entries longer than this are removed first when truncating (§3.3.3.1).
pub const LONG_ENTRY_LEN: usize = 128;

/// Why a `tracestate` was discarded as a whole.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TracestateError {
    /// More than 32 non-empty list-members (§3.3.2).
    #[error("{0} list-members; at most {MAX_MEMBERS} are allowed")]
    TooManyMembers(usize),
    /// A list-member without `=`.
    #[error("list-member {0} has no '='")]
    NoEquals(usize),
    /// A key breaks §3.3.2.2.1.
    #[error("list-member {0} has an invalid key")]
    Key(usize),
    /// A value breaks §3.3.2.2.2.
    #[error("list-member {0} has an invalid value")]
    Value(usize),
}

/// A validated `tracestate`: entries left to right, each key once.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tracestate {
    /// `(key, value)` pairs in header order.
    pub entries: Vec<(String, String)>,
    /// Later entries dropped because their key was already present (§3.5:
    /// "vendors MAY also discard duplicate keys").
    pub duplicates_dropped: usize,
    /// Entries dropped to fit [`MAX_COMBINED_LEN`] (§3.3.3.1).
    pub truncated: usize,
}

impl Tracestate {
    /// The header value: entries joined by `,`, no optional whitespace.
    pub fn header(&self) -> String {
        format_tracestate(&self.entries)
    }
}

/// Entries joined into a header value: `k1=v1,k2=v2`.
pub fn format_tracestate(entries: &[(String, String)]) -> String {
    let mut s = String::new();
    for (i, (k, v)) in entries.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        s.push_str(k);
        s.push('=');
        s.push_str(v);
    }
    s
}

/// Parses every `tracestate` field of a request, in order, as one list:
/// "When receiving multiple tracestate header fields, they MUST be combined
/// into a single header according to RFC9110" (§3.3.2; RFC 9110 §5.3 joins
/// them with commas). Empty and whitespace-only members are skipped (§3.3.2:
/// "Vendors MUST accept empty tracestate headers").
///
/// A list with any invalid member, or with more than 32 members, is an error:
/// the caller discards the whole `tracestate` but keeps the `traceparent`
/// (§3.3: "failure to parse tracestate MUST NOT affect the parsing of traceparent").
pub fn parse_tracestate<'a, I>(fields: I) -> Result<Tracestate, TracestateError>
where
    I: IntoIterator<Item = &'a str>,
{
    let mut out = Tracestate::default();
    let mut members = 0usize;
    for field in fields {
        for member in scan::split(field, b',') {
            let member = scan::trim_ows(member);
            if member.is_empty() {
                continue;
            }
            members += 1;
            if members > MAX_MEMBERS {
                // Keep counting so the error says how many there were.
                continue;
            }
            let index = members - 1;
            let (key, value) = scan::split_once(member, b'=')
                .ok_or(TracestateError::NoEquals(index))?;
            if !valid_key(key) {
                return Err(TracestateError::Key(index));
            }
            if !valid_value(value) {
                return Err(TracestateError::Value(index));
            }
            if out.entries.iter().any(|(k, _)| k == key) {
                out.duplicates_dropped += 1;
            } else {
                out.entries.push((key.to_owned(), value.to_owned()));
            }
        }
    }
    if members > MAX_MEMBERS {
        return Err(TracestateError::TooManyMembers(members));
    }
    out.truncated = truncate(&mut out.entries);
    Ok(out)
}

/// §3.3.2.2.1 (Level 2): first character a lowercase letter or digit, then up
/// to 255 of `a-z 0-9 _ - * / @`.
pub fn valid_key(key: &str) -> bool {
    let b = key.as_bytes();
    !b.is_empty()
        && b.len() <= MAX_KEY_LEN
        && has(b[0], KEY_FIRST)
        && b.iter().all(|&c| has(c, KEY))
}

/// §3.3.2.2.2: 1 to 256 printable ASCII characters except `,` and `=`, not
/// ending in a space.
pub fn valid_value(value: &str) -> bool {
    let b = value.as_bytes();
    !b.is_empty()
        && b.len() <= MAX_VALUE_LEN
        && b.iter().all(|&c| has(c, VALUE))
        && b[b.len() - 1] != b' '
}

// What each byte may be, looked up in one table: a header is checked on
// every request, and the table does it with one load per byte.
const KEY_FIRST: u8 = 1;
const KEY: u8 = 2;
const VALUE: u8 = 4;

static CLASSES: [u8; 256] = classes();

const fn classes() -> [u8; 256] {
    let mut table = [0u8; 256];
    let mut c = 0usize;
    while c < 256 {
        let b = c as u8;
        let first = b.is_ascii_lowercase() || b.is_ascii_digit();
        let key = first || matches!(b, b'_' | b'-' | b'*' | b'/' | b'@');
        let value = b >= 0x20 && b <= 0x7e && b != b',' && b != b'=';
        if first {
            table[c] |= KEY_FIRST;
        }
        if key {
            table[c] |= KEY;
        }
        if value {
            table[c] |= VALUE;
        }
        c += 1;
    }
    table
}

fn has(c: u8, class: u8) -> bool {
    CLASSES[usize::from(c)] & class != 0
}

/// §3.3.3.1: "the vendor MUST truncate whole entries. Entries larger than 128
/// characters long SHOULD be removed first. Then entries SHOULD be removed
/// starting from the end of tracestate." Returns how many were removed.
fn truncate(entries: &mut Vec<(String, String)>) -> usize {
    let len = |e: &[(String, String)]| {
        e.iter().map(|(k, v)| k.len() + 1 + v.len()).sum::<usize>()
            + e.len().saturating_sub(1)
    };
    let mut removed = 0;
    while len(entries) > MAX_COMBINED_LEN {
        let long = entries
            .iter()
            .rposition(|(k, v)| k.len() + 1 + v.len() > LONG_ENTRY_LEN);
        match long {
            Some(i) => {
                entries.remove(i);
            }
            None => {
                entries.pop();
            }
        }
        removed += 1;
    }
    removed
}

/// Splits a header this crate or `opentelemetry::trace::TraceState` wrote
/// (`k=v` joined by `,`, no whitespace) back into entries. Not a validator:
/// [`parse_tracestate`] is that.
pub fn split_entries(header: &str) -> Vec<(String, String)> {
    scan::split(header, b',')
        .filter_map(|member| scan::split_once(member, b'='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

/// The list to send on when only part of the received list (`held`) was
/// stored in a `TraceState`, and that state is now `now`.
///
/// `held` is `received` without the entries `TraceState` could not hold,
/// in the same order. Anything in `now` that is not in `held` was added or
/// changed in this process, and §3.5 says "modified keys MUST be moved to
/// the beginning (left) of the list"; `TraceState::insert` already put them
/// there. So the result is: the new or changed entries of `now`, in its
/// order; then, in received order, each received entry that is still in
/// `now` unchanged or that `TraceState` never held. A key deleted from
/// `now` stays deleted. When nothing changed (`now == held`), this is
/// `received` itself.
// ANCHOR: merge
pub fn merge_received(
    received: &[(String, String)],
    held: &[(String, String)],
    now: &[(String, String)],
) -> Vec<(String, String)> {
    let changed = now.iter().filter(|e| !held.contains(e));
    let kept = received
        .iter()
        .filter(|e| now.contains(e) || !held.iter().any(|(k, _)| *k == e.0));
    changed.chain(kept).cloned().collect()
}
// ANCHOR_END: merge

#[cfg(test)]
mod tests {
    use super::*;

    /// The table against the grammar's own words, byte by byte.
    #[test]
    fn the_byte_classes_are_the_grammar() {
        for c in 0..=u8::MAX {
            let lc_or_digit = c.is_ascii_lowercase() || c.is_ascii_digit();
            assert_eq!(has(c, KEY_FIRST), lc_or_digit, "{c:#04x}");
            assert_eq!(
                has(c, KEY),
                lc_or_digit || b"_-*/@".contains(&c),
                "{c:#04x}"
            );
            let chr = (0x20..=0x7e).contains(&c) && c != b',' && c != b'=';
            assert_eq!(has(c, VALUE), chr, "{c:#04x}");
        }
    }

    #[test]
    fn combines_fields_in_order_and_skips_empty_members() {
        let ts = parse_tracestate(["foo=1,bar=2", "", " , rojo=1 \t"]).unwrap();
        assert_eq!(ts.header(), "foo=1,bar=2,rojo=1");
    }

    #[test]
    fn level_2_keys_may_hold_at_signs_anywhere_after_the_first_character() {
        assert!(valid_key("foo@bar@baz"));
        assert!(valid_key("foo@"));
        assert!(!valid_key("@foo"));
        assert!(!valid_key(&"z".repeat(257)));
    }

    #[test]
    fn values_keep_leading_spaces_and_reject_empty() {
        assert_eq!(parse_tracestate(["foo= bar"]).unwrap().entries[0].1, " bar");
        assert_eq!(parse_tracestate(["foo="]), Err(TracestateError::Value(0)));
    }

    fn entries(header: &str) -> Vec<(String, String)> {
        split_entries(header)
    }

    #[test]
    fn merging_an_unchanged_state_gives_back_the_received_list() {
        let received = entries("a=1,t@longvendorname=2,b=3");
        let held = entries("a=1,b=3");
        assert_eq!(merge_received(&received, &held, &held), received);
    }

    #[test]
    fn merging_moves_changes_left_and_keeps_what_was_never_held_in_place() {
        let received = entries("a=1,t@longvendorname=2,b=3,c=4");
        let held = entries("a=1,b=3,c=4");
        // This process updated b and added z (TraceState::insert puts each at
        // the front) and deleted c.
        let now = entries("z=9,b=5,a=1");
        assert_eq!(
            format_tracestate(&merge_received(&received, &held, &now)),
            "z=9,b=5,a=1,t@longvendorname=2"
        );
    }

    #[test]
    fn truncation_removes_long_entries_first() {
        let mut fields = vec![format!("big={}", "x".repeat(140))];
        for i in 0..20 {
            fields.push(format!("k{i:02}={}", "y".repeat(20)));
        }
        let ts = parse_tracestate(fields.iter().map(String::as_str)).unwrap();
        assert_eq!(ts.truncated, 1);
        assert!(ts.entries.iter().all(|(k, _)| k != "big"));
        assert!(ts.header().len() <= MAX_COMBINED_LEN);
    }
}
