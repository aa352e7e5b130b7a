//! The checks the fuzz targets (`fuzz/fuzz_targets/*.rs`) run on each input,
//! shared with the test that replays the saved corpus on stable Rust
//! (`tests/propagation_fuzz_corpus.rs`). Each panics on a broken invariant,
//! which is how libFuzzer recognises a finding.

use super::{
    format_baggage, format_traceparent, parse_baggage, parse_traceparent,
    parse_tracestate,
};

/// `traceparent`: whatever parses formats to a version-00 value that parses
/// to the same ids and the known flags.
pub fn traceparent(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(tp) = parse_traceparent(text) {
        let again = parse_traceparent(&format_traceparent(
            tp.trace_id,
            tp.parent_id,
            tp.flags,
        ))
        .expect("a formatted traceparent parses");
        assert_eq!(again.version, 0);
        assert_eq!(
            (again.trace_id, again.parent_id),
            (tp.trace_id, tp.parent_id)
        );
        assert_eq!(again.flags, tp.flags & super::KNOWN_FLAGS);
    }
}

/// `tracestate`, one field per line: a list that parses is within the limits
/// and its header parses to the same entries.
pub fn tracestate(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(ts) = parse_tracestate(text.split('\n')) {
        let header = ts.header();
        assert!(header.len() <= super::TRACESTATE_MAX_LEN);
        assert!(ts.entries.len() <= super::TRACESTATE_MAX_MEMBERS);
        let again = parse_tracestate([header.as_str()])
            .expect("a formatted tracestate parses");
        assert_eq!(again.entries, ts.entries);
    }
}

/// `baggage`, one field per line: the members found format to a header that
/// parses back to the same members.
pub fn baggage(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let parsed = parse_baggage(text.split('\n'));
    assert!(parsed.members.len() <= super::BAGGAGE_MAX_MEMBERS);
    let (header, skipped) = format_baggage(
        parsed
            .members
            .iter()
            .map(|m| (m.key.as_str(), m.value.as_str(), m.properties.as_str())),
    );
    let again = parse_baggage([header.as_str()]);
    assert_eq!(again.invalid, 0, "{header}");
    assert_eq!(again.members.len() + skipped, parsed.members.len());
    // Skipped members (grown past a limit by percent-encoding) aside, every
    // member comes back unchanged.
    for member in &again.members {
        assert!(
            parsed.members.contains(member),
            "{member:?} changed on the way"
        );
    }
}
