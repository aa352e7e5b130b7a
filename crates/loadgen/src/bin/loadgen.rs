//! `loadgen open URL RATE REQUESTS SECONDS [CONNECTIONS]` or
//! `loadgen closed URL REQUESTS SECONDS [CONNECTIONS]`: load a service on this
//! machine and print what it saw. Both a request count and a duration are
//! required; the first one reached ends the load.

//!
//! A last argument `--post JSON` sends each request as a `POST` of JSON
//! (an order to the gateway, say) instead of a `GET`.
use std::time::Duration;

use anyhow::{Context as _, Result, bail};
use otlp_csp_loadgen::{
    Bounds, HttpConnection, Schedule, Target, closed_loop, open_loop,
};

const USAGE: &str = "usage: loadgen open URL RATE REQUESTS SECONDS [CONNECTIONS] \
                     [--post JSON]\n       \
                     loadgen closed URL REQUESTS SECONDS [CONNECTIONS] [--post JSON]";

fn arg<T: std::str::FromStr>(args: &[String], i: usize, what: &str) -> Result<T> {
    let text = args
        .get(i)
        .with_context(|| format!("missing {what}\n{USAGE}"))?;
    text.parse()
        .ok()
        .with_context(|| format!("{what} {text:?} is not a number\n{USAGE}"))
}

#[tokio::main]
async fn main() -> Result<()> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let post = match args.iter().position(|a| a == "--post") {
        Some(i) if i + 2 == args.len() => {
            let body = args.pop().expect("checked");
            args.pop();
            Some(bytes::Bytes::from(body))
        }
        Some(_) => bail!("--post JSON must come last\n{USAGE}"),
        None => None,
    };
    let mode = args.first().map(String::as_str);
    let open = match mode {
        Some("open") => true,
        Some("closed") => false,
        _ => bail!("{USAGE}"),
    };
    let target = Target::parse(
        args.get(1)
            .with_context(|| format!("missing URL\n{USAGE}"))?,
    )?;
    let first = if open { 3 } else { 2 };
    let requests: u64 = arg(&args, first, "REQUESTS")?;
    let seconds: f64 = arg(&args, first + 1, "SECONDS")?;
    let connections: usize = if args.len() > first + 2 {
        arg(&args, first + 2, "CONNECTIONS")?
    } else {
        16
    };
    if connections == 0 || connections > 1024 {
        bail!("CONNECTIONS must be in 1..=1024");
    }
    if !(seconds.is_finite() && seconds > 0.0) {
        bail!("SECONDS must be a positive number");
    }
    let bounds = Bounds::new(requests, Duration::from_secs_f64(seconds))?;
    let conns = match post {
        Some(body) => {
            let first =
                HttpConnection::open_post(&target, body, "application/json").await?;
            let mut conns = first.open_like(&target, connections - 1).await?;
            conns.push(first);
            conns
        }
        None => HttpConnection::open_many(&target, connections).await?,
    };
    let report = if open {
        let schedule = Schedule::new(arg(&args, 2, "RATE")?)?;
        open_loop(conns, schedule, bounds).await?
    } else {
        closed_loop(conns, bounds).await?
    };
    println!("{}", report.summary());
    if !report.all_answered() {
        bail!(
            "not every request was answered; last error: {}",
            report.last_error.as_deref().unwrap_or("none")
        );
    }
    Ok(())
}
