//! Orders flow through stages, each a thread, joined by bounded channels:
//! a feeder starts each order's trace, and each stage adds its own span.

mod feeder;
mod stage;

use crossbeam_channel::bounded;

#[derive(Debug)]
pub struct Order {
    pub id: u64,
    pub cents: u64,
}

/// Feeds `orders` through validate → reserve → price, returns them in order.
pub fn run(orders: Vec<Order>) -> Vec<Order> {
    let (to_validate, validate_in) = bounded(4);
    let (to_reserve, reserve_in) = bounded(4);
    let (to_price, price_in) = bounded(4);
    let (to_sink, done) = bounded(4);
    let stages = [
        stage::spawn("validate", validate_in, to_reserve, |_order| {}),
        stage::spawn("reserve", reserve_in, to_price, |_order| {}),
        stage::spawn("price", price_in, to_sink, |order| order.cents += 99),
    ];

    // The feeder is a thread too: if this thread fed the first channel, it
    // could block on a full channel before reading the last one: deadlock.
    let feeder = feeder::spawn(orders, to_validate);

    let orders = done.iter().map(|msg| msg.order).collect();
    feeder.join().unwrap();
    for stage in stages {
        stage.join().unwrap();
    }
    orders
}
