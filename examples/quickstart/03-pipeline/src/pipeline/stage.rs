//! A stage: a thread that takes messages from one channel, works on each
//! inside a span of its own, and sends it on to the next channel.

use super::Order;
use crossbeam_channel::{Receiver, Sender};
use opentelemetry::trace::Tracer;
use opentelemetry::{Context, global};
use std::thread;

/// What travels between stages: the work, and the trace it belongs to.
pub struct Msg {
    pub order: Order,
    pub cx: Context,
}

/// For each message, a span named `name`, a child of the message's
/// Context, around `work`.
pub fn spawn(
    name: &'static str,
    input: Receiver<Msg>,
    output: Sender<Msg>,
    work: fn(&mut Order),
) -> thread::JoinHandle<()> {
    thread::spawn(move || {
        let tracer = global::tracer("shop");
        for mut msg in input {
            let span = tracer.start_with_context(name, &msg.cx);
            work(&mut msg.order);
            drop(span); // ends the stage's span
            output.send(msg).unwrap();
        }
    })
}
