//! A stage: a thread that takes messages from one channel, works on each
//! inside a span of its own, and sends it on to the next channel.

use super::Order;
use crossbeam_channel::{Receiver, Sender};
use opentelemetry::global;
use opentelemetry::trace::Tracer;
use std::thread;

/// What travels between stages: only the work.
pub struct Msg {
    pub order: Order,
}

/// For each message, a span named `name` around `work`. With no Context
/// at hand, the span starts a new trace.
pub fn spawn(
    name: &'static str,
    input: Receiver<Msg>,
    output: Sender<Msg>,
    work: fn(&mut Order),
) -> thread::JoinHandle<()> {
    thread::spawn(move || {
        let tracer = global::tracer("shop");
        for mut msg in input {
            let span = tracer.start(name);
            work(&mut msg.order);
            drop(span); // ends the stage's span
            output.send(msg).unwrap();
        }
    })
}
