//! A batch bigger than the provider's link limit: the provider keeps at most
//! that many links on a span and drops the rest, so the batcher spreads the
//! links over the batch span and `batch.links` children. The check below
//! (every item linked once, no link dropped) rejects the batcher that puts
//! every link on the batch span, and a batch whose extra links are missing.

mod common;

use std::collections::HashSet;
use std::time::Duration;

use common::Capture;
use opentelemetry::Context;
use opentelemetry::trace::{SpanContext, TraceContextExt, Tracer};
use opentelemetry_sdk::trace::{SpanData, SpanLimits};
use otlp_csp_patterns::threads::Batcher;
use otlp_csp_patterns::{BATCH_LINKS, LINK_LIMIT, Traced};

/// The batch span's name: the batcher's destination is `batch`.
const BATCH: &str = "process batch";

/// The claim: the `batch` spans and their `batch.links` children together
/// link every item's span exactly once, and the provider dropped no link
/// (`dropped_count` is what OTLP exports as `dropped_links_count`).
fn every_item_linked(
    spans: &[SpanData],
    items: &[SpanContext],
) -> Result<(), String> {
    let batches: HashSet<_> = spans
        .iter()
        .filter(|s| s.name == BATCH)
        .map(|s| s.span_context.span_id())
        .collect();
    let mut linked = Vec::new();
    let mut dropped = 0;
    for s in spans {
        let carrier = s.name == BATCH_LINKS;
        if carrier && !batches.contains(&s.parent_span_id) {
            return Err(format!("a {BATCH_LINKS} span outside a batch"));
        }
        if carrier || s.name == BATCH {
            dropped += s.links.dropped_count;
            linked.extend(s.links.iter().map(|l| l.span_context.span_id()));
        }
    }
    if dropped > 0 {
        return Err(format!("{dropped} links dropped"));
    }
    let distinct: HashSet<_> = linked.iter().copied().collect();
    let wanted: HashSet<_> = items.iter().map(SpanContext::span_id).collect();
    if linked.len() != items.len() || distinct != wanted {
        return Err(format!(
            "{} links for {} items, not one each",
            linked.len(),
            items.len()
        ));
    }
    Ok(())
}

/// Sends `n` items, each from a producer span of its own, through `batcher`
/// as one batch; returns the items' span contexts.
fn one_batch(capture: &Capture, n: usize, batcher: Batcher) -> Vec<SpanContext> {
    let producer = capture.tracer();
    let (tx, rx) = crossbeam_channel::bounded(n);
    let items = (0..n)
        .map(|i| {
            let cx = Context::current_with_span(producer.start("produce"));
            tx.send(Traced::new(cx.clone(), i)).unwrap();
            cx.span().end();
            cx.span().span_context().clone()
        })
        .collect();
    drop(tx);
    let mut sizes = Vec::new();
    batcher
        .tracing(capture.tracing())
        .run(&rx, |batch| sizes.push(batch.len()));
    assert_eq!(sizes, [n], "one batch of every item");
    items
}

/// Links per span: the `batch` span's first, then each `batch.links` span's.
fn links_per_span(spans: &[SpanData]) -> Vec<usize> {
    let mut batch: Vec<_> = spans.iter().filter(|s| s.name == BATCH).collect();
    batch.extend(spans.iter().filter(|s| s.name == BATCH_LINKS));
    batch.iter().map(|s| s.links.len()).collect()
}

fn batcher(max: usize) -> Batcher {
    Batcher::new(max, Duration::from_secs(1)).unwrap()
}

#[test]
fn the_default_link_limit_is_the_sdks() {
    assert_eq!(
        SpanLimits::default().max_links_per_span as usize,
        LINK_LIMIT
    );
}

#[test]
fn a_batch_over_the_link_limit_links_every_item_from_its_spans() {
    let cases: [(usize, usize, &[usize]); 3] = [
        (LINK_LIMIT, 300, &[128, 128, 44]),
        (LINK_LIMIT, 128, &[128]),
        (10, 25, &[10, 10, 5]),
    ];
    for (limit, n, expected) in cases {
        let capture = Capture::with_link_limit(limit as u32);
        let batcher = batcher(n).links_per_span(limit).unwrap();
        let items = one_batch(&capture, n, batcher);
        let spans = capture.spans();
        assert_eq!(every_item_linked(&spans, &items), Ok(()), "{n} items");
        assert_eq!(links_per_span(&spans), expected, "{n} items");
    }
}

#[test]
fn the_default_batcher_keeps_within_the_limit_of_a_default_provider() {
    // Both read OTEL_SPAN_LINK_COUNT_LIMIT if it is set, else use 128.
    let capture = Capture::new();
    let items = one_batch(&capture, 300, batcher(300));
    assert_eq!(every_item_linked(&capture.spans(), &items), Ok(()));
}

#[test]
fn the_check_rejects_a_batch_span_holding_every_link() {
    // Planted bug: the batcher before the fix, one span for all the links,
    // as when it is told a limit above the provider's.
    let capture = Capture::with_link_limit(LINK_LIMIT as u32);
    let unsplit = batcher(300).links_per_span(usize::MAX).unwrap();
    let items = one_batch(&capture, 300, unsplit);
    let spans = capture.spans();
    assert_eq!(links_per_span(&spans), [128], "the provider kept 128");
    assert_eq!(
        every_item_linked(&spans, &items),
        Err("172 links dropped".into())
    );
}

#[test]
fn the_check_rejects_a_batch_whose_extra_links_are_missing() {
    // Planted bug: a batcher that kept the batch span within the limit but
    // made no `batch.links` spans (here, those spans removed afterwards).
    let capture = Capture::with_link_limit(LINK_LIMIT as u32);
    let split = batcher(300).links_per_span(LINK_LIMIT).unwrap();
    let items = one_batch(&capture, 300, split);
    let mut spans = capture.spans();
    spans.retain(|s| s.name != BATCH_LINKS);
    assert_eq!(
        every_item_linked(&spans, &items),
        Err("128 links for 300 items, not one each".into())
    );
}
