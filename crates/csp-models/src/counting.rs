//! Counting trace sets and span forests: why no map from processes to the
//! span trees of one run can be one-to-one.
//!
//! A *trace set of depth n* over an alphabet of `k` events is a set of
//! traces, each at most `n` events long, that contains `⟨⟩` and every prefix
//! of each of its traces. It is what the traces model makes of a process
//! whose runs are at most `n` events long, and every such set is the trace
//! set of some process built from prefix and external choice.
//!
//! A *span forest* with names from the same `k` events is a finite set of
//! spans, each with a name and at most one parent, without cycles; a span's
//! children are unordered, as OTLP records them (each span names its
//! parent; nothing orders siblings). Timestamps and attributes are left out:
//! with them a single span could carry any text, so anything could be
//! encoded.
//!
//! The counts are exact integers; `None` means "more than `u128::MAX`".

// ANCHOR: trace_sets
/// `N(k, n)`: the number of trace sets of depth `n` over `k` events.
///
/// A trace set of depth `n` is fixed by saying, for each event `a`, whether
/// `⟨a⟩` is in it and, if so, which trace set of depth `n − 1` follows `a`:
/// `N(k, 0) = 1` (only `{⟨⟩}`) and `N(k, n) = (1 + N(k, n − 1))^k`.
pub fn trace_sets(k: u32, n: u32) -> Option<u128> {
    let mut count: u128 = 1;
    for _ in 0..n {
        count = count.checked_add(1)?.checked_pow(k)?;
    }
    Some(count)
}
// ANCHOR_END: trace_sets

// ANCHOR: span_forests
/// `F(k, m)` for `m = 0..=max`: the number of span forests with exactly `m`
/// spans named from `k` events.
///
/// A tree of `m + 1` spans is a root name and the forest of its children:
/// `T(m + 1) = k · F(m)`. A forest is a multiset of trees, counted by
/// Euler's transform: `m · F(m) = Σ_{j=1..m} c(j) · F(m − j)` with
/// `c(j) = Σ_{d | j} d · T(d)`.
pub fn span_forests_by_size(k: u32, max: usize) -> Option<Vec<u128>> {
    let mut forests: Vec<u128> = vec![1];
    let mut trees: Vec<u128> = vec![0]; // T(0) = 0: a tree has a root
    for m in 1..=max {
        trees.push(u128::from(k).checked_mul(forests[m - 1])?);
        let mut sum: u128 = 0;
        for j in 1..=m {
            let mut c: u128 = 0;
            for d in (1..=j).filter(|d| j % d == 0) {
                c = c.checked_add((d as u128).checked_mul(trees[d])?)?;
            }
            sum = sum.checked_add(c.checked_mul(forests[m - j])?)?;
        }
        forests.push(sum / m as u128);
    }
    Some(forests)
}
// ANCHOR_END: span_forests

/// `S(k, n)`: the number of span forests with at most `n` spans named from
/// `k` events (the empty forest included).
pub fn span_forests(k: u32, max_spans: u32) -> Option<u128> {
    span_forests_by_size(k, max_spans as usize)?
        .into_iter()
        .try_fold(0u128, u128::checked_add)
}

// ANCHOR: more
/// Whether there are more trace sets of depth `n` over `k` events than span
/// forests with at most `n` spans named from them: then every map from the
/// first to the second sends two different trace sets to one forest.
///
/// `None` when neither count fits in a `u128`.
pub fn more_trace_sets_than_forests(k: u32, n: u32) -> Option<bool> {
    match (trace_sets(k, n), span_forests(k, n)) {
        (Some(sets), Some(forests)) => Some(sets > forests),
        (None, Some(_)) => Some(true),
        (_, None) => None,
    }
}
// ANCHOR_END: more

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        // One event: the chains ⟨⟩, ⟨a⟩, …, ⟨aⁿ⟩ and the unlabelled rooted
        // forests 1, 1, 2, 4, 9, 20 (OEIS A000081 shifted by one).
        assert_eq!(trace_sets(1, 5), Some(6));
        assert_eq!(span_forests_by_size(1, 5), Some(vec![1, 1, 2, 4, 9, 20]));
        assert_eq!(trace_sets(2, 2), Some(25));
        assert_eq!(span_forests_by_size(2, 2), Some(vec![1, 2, 7]));
        assert_eq!(trace_sets(2, 9), None);
    }
}
