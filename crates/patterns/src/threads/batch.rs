//! A batching fan-in: many items, from many traces, become one unit of work.

use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError};

use crate::error::{BuildError, nonzero};
use crate::messaging::Destination;
use crate::trace::{Traced, Tracing, link_limit_from_env};

/// Groups items from a channel into batches of at most `max` items, waiting
/// at most `linger` after a batch's first item for it to fill.
///
/// Each batch is processed under one span that starts a new trace and links
/// to the span of every item in it: a span has one parent, and a batch has
/// many producers. The span is a CONSUMER span named `process {destination}`
/// (`process batch` unless [`destination`](Self::destination) names the
/// channel), with `messaging.batch.message_count`.
///
/// A tracer provider keeps a limited number of links per span (the SDK's
/// `SpanLimits::max_links_per_span`) and drops the rest, counting them in
/// the span's dropped-links count. So the `batch` span holds at most
/// [`links_per_span`](Self::links_per_span) links, and each further group of
/// as many is held by a child span named [`BATCH_LINKS`](crate::BATCH_LINKS):
/// every item stays linked, whatever the batch size.
#[derive(Clone, Debug)]
pub struct Batcher {
    max: usize,
    linger: Duration,
    links_per_span: usize,
    tracing: Tracing,
    destination: Destination,
}

impl Batcher {
    /// Batches of at most `max` items (at least 1), each closed `linger` after its first item.
    pub fn new(max: usize, linger: Duration) -> Result<Self, BuildError> {
        Ok(Self {
            max: nonzero(max, "batch size")?,
            linger,
            links_per_span: link_limit_from_env(),
            tracing: Tracing::global(),
            destination: Destination::threads("batch"),
        })
    }

    /// Names the channel the items come from, for the batch span's name and
    /// `messaging.destination.name` (default: `batch`).
    pub fn destination(mut self, name: &'static str) -> Self {
        self.destination = Destination::threads(name);
        self
    }

    /// Where the batch spans go (default: [`Tracing::global`]).
    pub fn tracing(mut self, tracing: Tracing) -> Self {
        self.tracing = tracing;
        self
    }

    /// The most links one span may hold: the link limit of the provider the
    /// spans go to. The default is what a provider configured from the
    /// environment uses: `OTEL_SPAN_LINK_COUNT_LIMIT` if set (read as the SDK
    /// reads it), else [`LINK_LIMIT`](crate::LINK_LIMIT), the SDK's default.
    /// Set it when the provider's limit is set in code
    /// (`with_max_links_per_span`); a value above that limit loses links.
    /// `OTEL_SPAN_LINK_COUNT_LIMIT=0` (a provider that keeps no link) gives
    /// every link to the batch span, for the provider to count as dropped.
    pub fn links_per_span(mut self, n: usize) -> Result<Self, BuildError> {
        self.links_per_span = nonzero(n, "links per span")?;
        Ok(self)
    }

    /// Takes items from `rx` until every sender is gone, calling `f` on each
    /// batch on this thread, inside the batch's span. Returns the number of batches.
    pub fn run<T>(
        &self,
        rx: &Receiver<Traced<T>>,
        mut f: impl FnMut(Vec<T>),
    ) -> usize {
        let mut batches = 0;
        // Block for the first item of each batch; then fill it until full,
        // until the deadline, or until the channel is closed.
        while let Ok(first) = rx.recv() {
            let deadline = Instant::now() + self.linger;
            let mut batch = vec![first];
            let mut closed = false;
            while batch.len() < self.max {
                match rx.recv_deadline(deadline) {
                    Ok(item) => batch.push(item),
                    Err(RecvTimeoutError::Timeout) => break,
                    Err(RecvTimeoutError::Disconnected) => {
                        closed = true;
                        break;
                    }
                }
            }
            let step = self.tracing.batch(
                &self.destination,
                batch.iter().map(|t| &t.cx),
                batch.len(),
                self.links_per_span,
            );
            step.run(|| f(batch.into_iter().map(|t| t.value).collect()));
            step.end();
            batches += 1;
            if closed {
                break;
            }
        }
        batches
    }
}
