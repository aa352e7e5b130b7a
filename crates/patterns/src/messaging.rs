//! The names and attributes of the patterns' spans: the OpenTelemetry
//! messaging conventions (semantic conventions 1.42, through
//! `opentelemetry-semantic-conventions` 0.33) applied to a channel hop.
//!
//! - A channel is a *destination*. A pipeline stage's destination is the
//!   channel in front of it, named like the stage; a fan-out's is `fan_out`,
//!   a worker pool's is `pool`, a batcher's is `batch` unless given a name.
//! - The span that processes an item is a CONSUMER span named
//!   `process {destination}` ([`Destination::process`]); a batch is one such
//!   span that also carries `messaging.batch.message_count` and links to its
//!   items.
//! - An application that sends an item into a channel starts a PRODUCER
//!   span named `send {destination}` ([`Destination::send`]) and sends its
//!   context with the item: that context is the item's *creation context*.
//! - A process span for one item is a child of the item's creation context,
//!   which the conventions allow for single messages (and ask an
//!   instrumentation to document: this is that documentation). It does not
//!   also link to it. Between the stages of a pipeline there is no send span:
//!   the next stage's parent is the previous stage's process span.
//! - `messaging.system` has no registered value for an in-process channel;
//!   the conventions then allow a custom one, and the patterns use the
//!   channel library's name: [`CROSSBEAM`] or [`TOKIO`].
//! - A failed step sets status Error and `error.type`, one of
//!   [`ERROR_PANIC`] and [`ERROR_CANCELLED`]; a panic also adds an
//!   `exception` event with `exception.type` ([`ERROR_PANIC`]) and
//!   `exception.message`.

use std::collections::BTreeMap;
use std::sync::{Mutex, PoisonError};

use opentelemetry::KeyValue;
use opentelemetry::trace::{SpanBuilder, SpanKind};
use opentelemetry_semantic_conventions::attribute::{
    MESSAGING_DESTINATION_NAME, MESSAGING_OPERATION_NAME, MESSAGING_OPERATION_TYPE,
    MESSAGING_SYSTEM,
};

/// `messaging.system` of the threads flavour (`crossbeam-channel`).
pub const CROSSBEAM: &str = "crossbeam";
/// `messaging.system` of the tasks flavour (`tokio::sync::mpsc`).
pub const TOKIO: &str = "tokio";

/// `error.type` of a step whose code panicked; also its `exception.type`.
pub const ERROR_PANIC: &str = "panic";
/// `error.type` of a step dropped before it finished (the tasks flavour's
/// cancellation, or a runtime shutting down under it).
pub const ERROR_CANCELLED: &str = "cancelled";

/// `messaging.operation.type` (and `.name`) of a producer's span.
pub const SEND: &str = "send";
/// `messaging.operation.type` (and `.name`) of a consumer's span.
pub const PROCESS: &str = "process";

/// A channel as the conventions name it: a system and a destination.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Destination {
    system: &'static str,
    name: &'static str,
    send: &'static str,
    process: &'static str,
}

// ANCHOR: spans
impl Destination {
    /// The span of sending one item into this channel: PRODUCER,
    /// `send {destination}`. Start it, and send its context with the item.
    pub fn send(&self) -> SpanBuilder {
        self.span(self.send, SpanKind::Producer, SEND)
    }

    /// The span of processing items taken from this channel: CONSUMER,
    /// `process {destination}`.
    pub fn process(&self) -> SpanBuilder {
        self.span(self.process, SpanKind::Consumer, PROCESS)
    }

    fn span(
        &self,
        name: &'static str,
        kind: SpanKind,
        op: &'static str,
    ) -> SpanBuilder {
        // The fields set directly: `with_attributes` collects an iterator,
        // which took twice as long, and this runs for every item.
        let mut span = SpanBuilder::from_name(name);
        span.span_kind = Some(kind);
        span.attributes = Some(vec![
            KeyValue::new(MESSAGING_SYSTEM, self.system),
            KeyValue::new(MESSAGING_DESTINATION_NAME, self.name),
            KeyValue::new(MESSAGING_OPERATION_TYPE, op),
            KeyValue::new(MESSAGING_OPERATION_NAME, op),
        ]);
        span
    }
}
// ANCHOR_END: spans

impl Destination {
    /// A channel of the threads flavour.
    pub fn threads(name: &'static str) -> Self {
        Self::new(CROSSBEAM, name)
    }

    /// A channel of the tasks flavour.
    pub fn tasks(name: &'static str) -> Self {
        Self::new(TOKIO, name)
    }

    fn new(system: &'static str, name: &'static str) -> Self {
        let (send, process) = (span_name(SEND, name), span_name(PROCESS, name));
        Self {
            system,
            name,
            send,
            process,
        }
    }

    /// The destination's name.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The `messaging.system` value.
    pub fn system(&self) -> &'static str {
        self.system
    }
}

/// `{operation} {destination}`, made once per distinct pair and kept for the
/// life of the program, so that starting a span never allocates its name.
/// Destination names are `&'static str`, so the pairs are few.
fn span_name(operation: &'static str, destination: &'static str) -> &'static str {
    type Names = BTreeMap<(&'static str, &'static str), &'static str>;
    static NAMES: Mutex<Names> = Mutex::new(BTreeMap::new());
    let mut names = NAMES.lock().unwrap_or_else(PoisonError::into_inner);
    names.entry((operation, destination)).or_insert_with(|| {
        Box::leak(format!("{operation} {destination}").into_boxed_str())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_is_made_once_per_pair() {
        let a = Destination::threads("orders");
        let b = Destination::tasks("orders");
        assert_eq!(a.process, "process orders");
        assert_eq!(a.send, "send orders");
        // The same text, not a second copy.
        assert!(std::ptr::eq(a.process, b.process));
        assert_ne!(a, b, "the systems differ");
    }
}
