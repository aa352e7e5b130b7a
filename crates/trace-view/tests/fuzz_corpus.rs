//! Replays the saved inputs of the fuzz target `trace_capture` through the
//! target's check (see the `fuzz-corpus` crate), and, because libFuzzer
//! needs a nightly compiler, a small mutation fuzzer that runs on stable:
//! seeds with bytes changed, or with JSON values swapped for other values
//! of the same capture (which is how duplicate ids, cycles and odd times
//! arise), through the same check.

use fuzz_corpus::{inputs, replay};
use proptest::prelude::*;
use serde_json::Value;
use trace_view::fuzzing;

#[test]
fn trace_capture_corpus() {
    replay("trace_capture", fuzzing::capture);
}

/// The `n`-th value of `v` in pre-order (0 is `v`), if there are that many.
fn nth_mut<'a>(v: &'a mut Value, n: &mut usize) -> Option<&'a mut Value> {
    if *n == 0 {
        return Some(v);
    }
    *n -= 1;
    let children: Vec<&mut Value> = match v {
        Value::Array(items) => items.iter_mut().collect(),
        Value::Object(map) => map.values_mut().collect(),
        _ => Vec::new(),
    };
    children.into_iter().find_map(|child| nth_mut(child, n))
}

fn count(v: &Value) -> usize {
    1 + match v {
        Value::Array(items) => items.iter().map(count).sum(),
        Value::Object(map) => map.values().map(count).sum(),
        _ => 0,
    }
}

/// The seed's documents with value `to` copied over value `from` (by
/// pre-order index), written back as JSON Lines.
fn swapped(seed: &[u8], edits: &[(usize, usize)]) -> Option<Vec<u8>> {
    let stream = serde_json::Deserializer::from_slice(seed).into_iter::<Value>();
    let mut docs = Value::Array(stream.collect::<Result<_, _>>().ok()?);
    let size = count(&docs);
    for &(from, to) in edits {
        let value = nth_mut(&mut docs, &mut (from % size))?.clone();
        *nth_mut(&mut docs, &mut (to % size))? = value;
    }
    let lines: Vec<String> =
        (docs.as_array()?.iter()).map(Value::to_string).collect();
    Some(lines.join("\n").into_bytes())
}

fn seed(pick: usize) -> Vec<u8> {
    let files = inputs("trace_capture");
    std::fs::read(&files[pick % files.len()]).expect("readable seed")
}

proptest! {
    #[test]
    fn seeds_with_values_swapped_pass_the_checks(
        pick in 0usize..64,
        edits in prop::collection::vec((0usize..10_000, 0usize..10_000), 1..6),
    ) {
        if let Some(data) = swapped(&seed(pick), &edits) {
            fuzzing::capture(&data);
        }
    }

    #[test]
    fn seeds_with_bytes_changed_pass_the_checks(
        pick in 0usize..64,
        edits in prop::collection::vec((0usize..10_000, any::<u8>(), any::<bool>()), 1..6),
    ) {
        let mut data = seed(pick);
        for (at, byte, insert) in edits {
            let at = at % (data.len() + 1);
            match (insert, data.get_mut(at)) {
                (false, Some(b)) => *b = byte,
                _ => data.insert(at, byte),
            }
        }
        fuzzing::capture(&data);
    }
}
