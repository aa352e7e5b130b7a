use shop::pipeline::{self, Order};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let provider = shop::telemetry::init("shop")?;

    let orders = vec![Order { id: 1, cents: 1200 }, Order { id: 2, cents: 500 }];
    for order in pipeline::run(orders) {
        println!("priced {order:?}");
    }

    provider.shutdown()?;
    Ok(())
}
