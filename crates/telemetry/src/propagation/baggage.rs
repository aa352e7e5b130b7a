//! The `baggage` header: W3C Baggage.
//!
//! ```text
//! baggage-string = list-member 0*179( OWS "," OWS list-member )
//! list-member    = key OWS "=" OWS value *( OWS ";" OWS property )
//! property       = key OWS "=" OWS value / key OWS
//! key            = token                                ; RFC 9110 §5.6.2
//! value          = *baggage-octet
//! baggage-octet  = %x21 / %x23-2B / %x2D-3A / %x3C-5B / %x5D-7E
//! ```

use super::scan;
use percent_encoding::{
    AsciiSet, CONTROLS, percent_decode_str, utf8_percent_encode,
};

/// The most list-members propagated. Baggage §Limits: "A platform MUST
/// propagate all list-members ... up to at least 64 list-members"; 64 is also
/// what `opentelemetry::baggage::Baggage` holds.
pub const MAX_MEMBERS: usize = 64;
/// The longest `baggage-string` propagated, in bytes (Baggage §Limits: at least
/// 8192 bytes), counted over all `baggage` fields together.
pub const MAX_BYTES: usize = 8192;

/// Bytes that are not `baggage-octet`s, plus `%` itself so that a decoded `%`
/// survives the next hop. Non-ASCII bytes are always encoded.
const ENCODE: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b',')
    .add(b';')
    .add(b'\\')
    .add(b'%');

/// One decoded list-member.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BaggageMember {
    /// The key, a token.
    pub key: String,
    /// The value, percent-decoded (invalid UTF-8 replaced by U+FFFD).
    pub value: String,
    /// The properties, `;`-separated, optional whitespace removed.
    pub properties: String,
}

/// The members of every `baggage` field of a request, and what was dropped.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ParsedBaggage {
    /// Valid members within the limits, in header order.
    pub members: Vec<BaggageMember>,
    /// Members dropped because they break the grammar (Baggage §Mutating
    /// baggage: "it MAY remove that entry").
    pub invalid: usize,
    /// Valid members dropped because they did not fit [`MAX_MEMBERS`] or [`MAX_BYTES`].
    pub over_limit: usize,
}

/// Parses all `baggage` fields of a request as one list (limits "apply to the
/// combination of all baggage headers"). Never fails: bad members are
/// dropped and counted, whole members only.
pub fn parse_baggage<'a, I>(fields: I) -> ParsedBaggage
where
    I: IntoIterator<Item = &'a str>,
{
    let mut out = ParsedBaggage::default();
    let mut bytes = 0usize;
    for field in fields {
        for raw in scan::split(field, b',') {
            let raw = scan::trim_ows(raw);
            // RFC 9110 §5.6.1.2: a recipient ignores empty list elements.
            if raw.is_empty() {
                continue;
            }
            let Some(member) = parse_member(raw) else {
                out.invalid += 1;
                continue;
            };
            let cost = raw.len() + usize::from(!out.members.is_empty());
            if out.members.len() == MAX_MEMBERS || bytes + cost > MAX_BYTES {
                out.over_limit += 1;
                continue;
            }
            bytes += cost;
            out.members.push(member);
        }
    }
    out
}

fn parse_member(raw: &str) -> Option<BaggageMember> {
    let mut parts = scan::split(raw, b';');
    let (key, value) = scan::split_once(parts.next()?, b'=')?;
    let (key, value) = (scan::trim_ows(key), scan::trim_ows(value));
    if !is_token(key) || !value.bytes().all(is_baggage_octet) {
        return None;
    }
    let mut properties = Vec::new();
    for prop in parts {
        properties.push(parse_property(prop)?);
    }
    Some(BaggageMember {
        key: key.to_owned(),
        // Baggage §value: sequences that are not UTF-8 become U+FFFD.
        value: percent_decode_str(value).decode_utf8_lossy().into_owned(),
        properties: properties.join(";"),
    })
}

fn parse_property(prop: &str) -> Option<String> {
    let prop = scan::trim_ows(prop);
    match scan::split_once(prop, b'=') {
        Some((k, v)) => {
            let (k, v) = (scan::trim_ows(k), scan::trim_ows(v));
            (is_token(k) && v.bytes().all(is_baggage_octet))
                .then(|| format!("{k}={v}"))
        }
        None => is_token(prop).then(|| prop.to_owned()),
    }
}

/// RFC 9110 §5.6.2 `token`: one or more `tchar`s.
pub fn is_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(is_tchar)
}

/// RFC 9110 §5.6.2 `tchar`: a letter, a digit or one of ``!#$%&'*+-.^_`|~``.
/// A `match`, not `b"...".contains(&c)`: that calls `memchr` once per byte.
fn is_tchar(c: u8) -> bool {
    c.is_ascii_alphanumeric()
        || matches!(
            c,
            b'!' | b'#'
                ..=b'\''
                    | b'*'
                    | b'+'
                    | b'-'
                    | b'.'
                    | b'^'
                    | b'_'
                    | b'`'
                    | b'|'
                    | b'~'
        )
}

fn is_baggage_octet(c: u8) -> bool {
    matches!(c, 0x21 | 0x23..=0x2b | 0x2d..=0x3a | 0x3c..=0x5b | 0x5d..=0x7e)
}

fn valid_properties(props: &str) -> bool {
    props.is_empty() || scan::split(props, b';').all(|p| parse_property(p).is_some())
}

/// Formats members as one `baggage` value, percent-encoding each value.
/// Members whose key is not a token or whose properties break the grammar are
/// skipped, as are members past [`MAX_MEMBERS`] or [`MAX_BYTES`]; the second
/// number returned counts them.
pub fn format_baggage<'a, I>(members: I) -> (String, usize)
where
    I: IntoIterator<Item = (&'a str, &'a str, &'a str)>,
{
    let members = members.into_iter();
    // Room for members of a few dozen bytes without growing the string.
    let mut out = String::with_capacity(32 * members.size_hint().0);
    let (mut kept, mut skipped) = (0usize, 0usize);
    for (key, value, props) in members {
        let props = props.trim();
        if !is_token(key) || !valid_properties(props) || kept == MAX_MEMBERS {
            skipped += 1;
            continue;
        }
        // Written in place, and taken back if it does not fit.
        let start = out.len();
        if kept > 0 {
            out.push(',');
        }
        out.push_str(key);
        out.push('=');
        out.extend(utf8_percent_encode(value, ENCODE));
        if !props.is_empty() {
            out.push(';');
            out.push_str(props);
        }
        if out.len() > MAX_BYTES {
            out.truncate(start);
            skipped += 1;
            continue;
        }
        kept += 1;
    }
    (out, skipped)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tchar_is_the_rfc_list() {
        for c in 0..=u8::MAX {
            let listed =
                c.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&c);
            assert_eq!(is_tchar(c), listed, "byte {c:#04x}");
        }
    }

    #[test]
    fn parses_the_spec_example() {
        let b = parse_baggage([
            "key1=value1;property1;property2, key2 = value2, key3=value3; propertyKey=propertyValue",
        ]);
        assert_eq!(b.members.len(), 3);
        assert_eq!(b.members[0].properties, "property1;property2");
        assert_eq!(b.members[1].value, "value2");
        assert_eq!(b.members[2].properties, "propertyKey=propertyValue");
    }

    #[test]
    fn values_round_trip_through_percent_encoding() {
        for value in ["DF 28", "a=b", "50%", "%41", "a\\b", "naïve, \"quoted\"; x"]
        {
            let (header, skipped) = format_baggage([("k", value, "")]);
            assert_eq!(skipped, 0);
            let back = parse_baggage([header.as_str()]);
            assert_eq!(back.members[0].value, value, "{header}");
        }
    }

    #[test]
    fn invalid_utf8_becomes_the_replacement_character() {
        assert_eq!(parse_baggage(["k=%FF"]).members[0].value, "\u{FFFD}");
    }

    #[test]
    fn limits_drop_whole_members() {
        let many: Vec<String> = (0..70).map(|i| format!("k{i}=v")).collect();
        let b = parse_baggage([many.join(",").as_str()]);
        assert_eq!((b.members.len(), b.over_limit), (MAX_MEMBERS, 6));
    }
}
