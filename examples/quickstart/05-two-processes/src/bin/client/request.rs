//! The request, with the caller's span written into its headers.

use opentelemetry::{Context, global};
use opentelemetry_http::HeaderInjector;
use reqwest::header::HeaderMap;

const URL: &str = "http://127.0.0.1:7878/orders";

pub async fn place_order(cx: &Context) -> Result<(), reqwest::Error> {
    // Write the span's context into the request's headers.
    let mut headers = HeaderMap::new();
    global::get_text_map_propagator(|propagator| {
        propagator.inject_context(cx, &mut HeaderInjector(&mut headers))
    });
    println!("traceparent: {:?}", headers["traceparent"]);

    let request = reqwest::Client::new().post(URL).headers(headers).body("7");
    let answer = request.send().await?;
    println!("{}: {}", answer.status(), answer.text().await?);
    Ok(())
}
