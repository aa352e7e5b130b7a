//! The feeder: starts each order's trace and sends the order into the first
//! stage, with a Context holding the order's span.

use super::Order;
use super::stage::Msg;
use crossbeam_channel::Sender;
use opentelemetry::trace::{Span, TraceContextExt, Tracer};
use opentelemetry::{Context, KeyValue, global};
use std::thread;

pub fn spawn(orders: Vec<Order>, output: Sender<Msg>) -> thread::JoinHandle<()> {
    // A new thread starts with an empty Context: take the caller's along,
    // so that an order's trace joins whatever trace called `run`.
    let parent = Context::current();
    thread::spawn(move || {
        let tracer = global::tracer("shop");
        for order in orders {
            // The root span of this order's trace, and a Context holding it.
            let mut span = tracer.start_with_context("order", &parent);
            span.set_attribute(KeyValue::new("order.id", order.id as i64));
            let cx = Context::current_with_span(span);
            output.send(Msg { order, cx }).unwrap();
        }
        // Dropping `output` here closes the channel: each stage ends in turn.
    })
}
