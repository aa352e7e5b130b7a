//! Splitting and trimming header values at ASCII bytes.
//!
//! `str::split(',')` and `str::split_once('=')` look for the separator
//! with `memchr`, whose set-up costs more than the search itself on the
//! few bytes of a list member: in a profile of baggage extraction, `memchr`
//! held a quarter of the samples. These walk the bytes instead. Each gives
//! the same pieces as its `str` namesake (the tests compare them).

/// The pieces of `s` between the bytes `sep`, like `s.split(sep)`.
pub(super) fn split(s: &str, sep: u8) -> Split<'_> {
    debug_assert!(sep.is_ascii(), "a separator inside a UTF-8 sequence");
    Split { rest: Some(s), sep }
}

/// What [`split`] returns.
#[derive(Clone, Debug)]
pub(super) struct Split<'a> {
    rest: Option<&'a str>,
    sep: u8,
}

impl<'a> Iterator for Split<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let s = self.rest?;
        match split_once(s, self.sep) {
            Some((piece, rest)) => {
                self.rest = Some(rest);
                Some(piece)
            }
            None => {
                self.rest = None;
                Some(s)
            }
        }
    }
}

/// `s` cut at the first `sep`, like `s.split_once(sep)`. An ASCII byte is
/// never inside a UTF-8 sequence, so both halves are whole characters.
pub(super) fn split_once(s: &str, sep: u8) -> Option<(&str, &str)> {
    let i = s.bytes().position(|c| c == sep)?;
    Some((&s[..i], &s[i + 1..]))
}

/// `s` without leading and trailing optional whitespace (RFC 9110 §5.6.3:
/// spaces and tabs), like `s.trim_matches([' ', '\t'])`.
pub(super) fn trim_ows(s: &str) -> &str {
    let ows = |c: &u8| *c == b' ' || *c == b'\t';
    let b = s.as_bytes();
    let start = b.iter().position(|c| !ows(c)).unwrap_or(b.len());
    let end = b.iter().rposition(|c| !ows(c)).map_or(start, |i| i + 1);
    &s[start..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLES: [&str; 12] = [
        "",
        ",",
        ",,",
        "a",
        "a,b",
        ",a,",
        " \tk = v ;p\t ",
        "k=v=w",
        "=",
        "é,ü=ß, ",
        "\t",
        "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE",
    ];

    #[test]
    fn the_same_pieces_as_str() {
        for s in SAMPLES {
            for sep in [b',', b'=', b';', b' '] {
                let ours: Vec<&str> = split(s, sep).collect();
                let std: Vec<&str> = s.split(sep as char).collect();
                assert_eq!(ours, std, "split({s:?}, {:?})", sep as char);
                assert_eq!(
                    split_once(s, sep),
                    s.split_once(sep as char),
                    "split_once({s:?}, {:?})",
                    sep as char
                );
            }
            assert_eq!(trim_ows(s), s.trim_matches([' ', '\t']), "trim_ows({s:?})");
        }
    }
}
