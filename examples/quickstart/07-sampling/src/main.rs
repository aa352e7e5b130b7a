use shop::pipeline::{self, Order};

/// Prices N orders (the first argument, 2 if none) and says what became of
/// every span.
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let count: u64 = match std::env::args().nth(1) {
        Some(arg) => arg.parse().map_err(|_| format!("not a count: {arg:?}"))?,
        None => 2,
    };
    let provider = shop::telemetry::init("shop")?;

    let orders = (1..=count).map(|id| Order { id, cents: 1200 }).collect();
    let priced = pipeline::run(orders);
    println!("priced {} orders", priced.len());

    // Shutting down flushes the batch processor's queue; report either way.
    let shutdown = provider.shutdown();
    shop::counting::report();
    shutdown?;
    Ok(())
}
