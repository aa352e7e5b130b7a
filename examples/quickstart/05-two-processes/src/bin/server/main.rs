//! The shop's order service: POST /orders with an order id as the body.

mod orders;

use axum::Router;
use axum::routing::post;

const ADDR: &str = "127.0.0.1:7878";

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let provider = shop::telemetry::init("shop-server")?;
    let listener = match tokio::net::TcpListener::bind(ADDR).await {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("error: cannot listen on {ADDR}: {e}");
            std::process::exit(1);
        }
    };
    println!("listening on http://{ADDR}");
    let app = Router::new().route("/orders", post(orders::place_order));
    axum::serve(listener, app)
        .with_graceful_shutdown(async { tokio::signal::ctrl_c().await.unwrap() })
        .await?;

    provider.shutdown()?;
    Ok(())
}
