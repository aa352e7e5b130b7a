//! Orders flow through stages, each a thread, joined by bounded channels.
//! Each message carries the Context of its order's trace, so the span a
//! stage starts joins that trace.

use crossbeam_channel::{Receiver, Sender, bounded};
use opentelemetry::trace::{Span, TraceContextExt, Tracer};
use opentelemetry::{Context, KeyValue, global};
use std::thread;

#[derive(Debug)]
pub struct Order {
    pub id: u64,
    pub cents: u64,
}

/// What travels between stages: the work, and the trace it belongs to.
struct Msg {
    order: Order,
    cx: Context,
}

/// Feeds `orders` through validate → reserve → price, returns them in order.
pub fn run(orders: Vec<Order>) -> Vec<Order> {
    let (to_validate, validate_in) = bounded(4);
    let (to_reserve, reserve_in) = bounded(4);
    let (to_price, price_in) = bounded(4);
    let (to_sink, done) = bounded(4);
    let stages = [
        stage("validate", validate_in, to_reserve, |_order| {}),
        stage("reserve", reserve_in, to_price, |_order| {}),
        stage("price", price_in, to_sink, |order| order.cents += 99),
    ];

    // A new thread starts with an empty Context: take the caller's along,
    // so that an order's trace joins whatever trace called `run`.
    let parent = Context::current();
    // The feeder is a thread too: if this thread fed the first channel, it
    // could block on a full channel before reading the last one: deadlock.
    let feeder = thread::spawn(move || {
        let tracer = global::tracer("shop");
        for order in orders {
            // The root span of this order's trace, and a Context holding it.
            let mut span = tracer.start_with_context("order", &parent);
            span.set_attribute(KeyValue::new("order.id", order.id as i64));
            let cx = Context::current_with_span(span);
            to_validate.send(Msg { order, cx }).unwrap();
        }
        // Dropping `to_validate` here closes the channel: each stage ends in turn.
    });

    let orders = done.iter().map(|msg| msg.order).collect();
    feeder.join().unwrap();
    for stage in stages {
        stage.join().unwrap();
    }
    orders
}

/// One stage on its own thread: for each message, a span named `name`,
/// a child of the message's Context, around `work`.
fn stage(
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
