//! A pretend bank: it declines huge amounts at once and is slow on big ones.

use opentelemetry::global;
use opentelemetry::trace::Tracer;
use std::time::Duration;

/// A charge over this many cents is declined.
const LIMIT: u64 = 10_000;

pub async fn call_bank(cents: u64) -> Result<(), String> {
    let tracer = global::tracer("shop");
    let _span = tracer.start("call_bank");
    if cents > LIMIT {
        return Err(format!("declined: {cents} is over the limit"));
    }
    let delay = if cents > 5_000 { 500 } else { 10 };
    tokio::time::sleep(Duration::from_millis(delay)).await;
    Ok(())
}
