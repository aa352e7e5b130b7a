//! `otlp-receiver`: the in-process receiver as a program, so that clients in
//! other languages can be checked against it.
//!
//! ```text
//! otlp-receiver [--grpc-port P] [--http-port P] [--spans N] [--timeout SECS]
//!               [--capture FILE] [--counts-only] [--fault FAULT[@K/N]]
//! ```
//!
//! It prints `grpc 127.0.0.1:P` and `http 127.0.0.1:P` once both servers
//! listen. With `--spans N` it exits after N spans have arrived (exit 1 if
//! they do not arrive within the timeout, 60 s by default); without it, it
//! runs until its standard input closes or it gets SIGTERM/SIGINT. Either
//! way it then prints one tab-separated line per span received:
//! `span PROTOCOL TRACE_ID SPAN_ID PARENT_SPAN_ID NAME KEY=VALUE,...`,
//! then a line `received N spans in M requests (R rejected)`. With
//! `--capture FILE` it also writes every trace request it accepted to FILE
//! as OTLP/JSON Lines, which `trace-view FILE -o page.html` draws.
//!
//! For load and fault runs, `--counts-only` keeps nothing but counts (no
//! span lines, constant memory), and `--fault FAULT@K/N` answers K of every
//! N well-formed requests with FAULT instead of keeping them (`throttle[:MS]`,
//! `unavailable[:MS]`, `stall:MS`, `reset`, `not-otlp`; `@K/N` defaults to
//! every request). The last line then also counts the faulted requests and
//! their spans, metric points and log records.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use otlp_receiver::proto::common::v1::any_value::Value;
use otlp_receiver::{Config, Fault, Receiver};
use tokio::io::AsyncReadExt;

struct Args {
    grpc_port: u16,
    http_port: u16,
    spans: Option<usize>,
    timeout: Duration,
    capture: Option<std::path::PathBuf>,
    counts_only: bool,
    fault: Option<(Fault, u64, u64)>,
}

const USAGE: &str = "usage: otlp-receiver [--grpc-port P] [--http-port P] [--spans N] \
                     [--timeout SECS] [--capture FILE] [--counts-only] [--fault FAULT[@K/N]]";

/// `FAULT[@K/N]`: the fault, hitting K of every N requests (default 1/1).
fn fault_plan(text: &str) -> Result<(Fault, u64, u64), String> {
    let (fault, rate) = text.split_once('@').unwrap_or((text, "1/1"));
    let fault: Fault = fault.parse().map_err(|e| format!("--fault: {e}"))?;
    let rate = rate.split_once('/').and_then(|(k, n)| {
        let (k, n) = (k.parse::<u64>().ok()?, n.parse::<u64>().ok()?);
        (k <= n && n > 0).then_some((k, n))
    });
    let (hit, every) = rate.ok_or_else(|| {
        format!("--fault {text}: after `@`, K/N with 0 <= K <= N, N > 0")
    })?;
    Ok((fault, hit, every))
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        grpc_port: 0,
        http_port: 0,
        spans: None,
        timeout: Duration::from_secs(60),
        capture: None,
        counts_only: false,
        fault: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--grpc-port" => args.grpc_port = number(&flag, &value()?)?,
            "--http-port" => args.http_port = number(&flag, &value()?)?,
            "--spans" => args.spans = Some(number(&flag, &value()?)?),
            "--timeout" => {
                args.timeout = Duration::from_secs(number(&flag, &value()?)?)
            }
            "--capture" => args.capture = Some(value()?.into()),
            "--counts-only" => args.counts_only = true,
            "--fault" => args.fault = Some(fault_plan(&value()?)?),
            other => return Err(format!("unknown argument {other}; {USAGE}")),
        }
    }
    Ok(args)
}

fn number<T: std::str::FromStr>(flag: &str, text: &str) -> Result<T, String> {
    text.parse()
        .map_err(|_| format!("{flag} takes a number, not {text:?}"))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn value(v: &Option<otlp_receiver::proto::common::v1::AnyValue>) -> String {
    match v.as_ref().and_then(|v| v.value.as_ref()) {
        Some(Value::StringValue(s)) => s.clone(),
        Some(Value::IntValue(i)) => i.to_string(),
        Some(Value::BoolValue(b)) => b.to_string(),
        Some(Value::DoubleValue(d)) => d.to_string(),
        Some(other) => format!("{other:?}"),
        None => String::new(),
    }
}

/// Resolves on SIGTERM or SIGINT (Ctrl-C).
async fn terminated() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Resolves when standard input reaches its end (or cannot be read).
async fn stdin_closed() {
    let mut stdin = tokio::io::stdin();
    let mut buf = [0u8; 1024];
    while let Ok(n) = stdin.read(&mut buf).await {
        if n == 0 {
            break;
        }
    }
}

fn summary(receiver: &Receiver) {
    for request in receiver.traces() {
        for rs in &request.request.resource_spans {
            for ss in &rs.scope_spans {
                for span in &ss.spans {
                    let attrs: Vec<String> = span
                        .attributes
                        .iter()
                        .map(|kv| format!("{}={}", kv.key, value(&kv.value)))
                        .collect();
                    println!(
                        "span\t{}\t{}\t{}\t{}\t{}\t{}",
                        request.protocol,
                        hex(&span.trace_id),
                        hex(&span.span_id),
                        hex(&span.parent_span_id),
                        span.name,
                        attrs.join(",")
                    );
                }
            }
        }
    }
    let stats = receiver.stats();
    let faulted = if stats.injected_failures > 0 {
        format!(
            "; {} faulted requests held {} spans, {} metric points, {} log records",
            stats.injected_failures,
            stats.faulted_spans,
            stats.faulted_metric_points,
            stats.faulted_log_records
        )
    } else {
        String::new()
    };
    println!(
        "received {} spans, {} metric points, {} log records in {} requests \
         ({} rejected){faulted}",
        stats.spans,
        stats.metric_points,
        stats.log_records,
        stats.accepted_requests,
        stats.rejected_requests
    );
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(e) => {
            eprintln!("otlp-receiver: {e}");
            return ExitCode::from(2);
        }
    };
    if args.counts_only && args.capture.is_some() {
        eprintln!("otlp-receiver: --capture needs the requests --counts-only drops");
        return ExitCode::from(2);
    }
    let mut config = Config::default()
        .grpc_addr(SocketAddr::from(([127, 0, 0, 1], args.grpc_port)))
        .http_addr(SocketAddr::from(([127, 0, 0, 1], args.http_port)));
    if args.counts_only {
        config = config.discard_requests();
    }
    if let Some((fault, hit, every)) = args.fault {
        config = config.fault(fault, hit, every);
    }
    let mut receiver = match Receiver::start_with(config).await {
        Ok(r) => r,
        Err(e) => {
            eprintln!("otlp-receiver: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!("grpc {}", receiver.grpc_addr());
    println!("http {}", receiver.http_addr());
    let code = match args.spans {
        Some(n) => tokio::select! {
            waited = receiver.wait_for_spans(n, args.timeout) => match waited {
                Ok(_) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("otlp-receiver: {e}");
                    ExitCode::FAILURE
                }
            },
            _ = terminated() => ExitCode::FAILURE,
        },
        None => {
            tokio::select! {
                _ = terminated() => {}
                _ = stdin_closed() => {}
            }
            ExitCode::SUCCESS
        }
    };
    // Counted after the drain: an exporter whose request is answered while
    // the servers stop counts it delivered, so the summary must include it.
    receiver.stop_serving().await;
    summary(&receiver);
    match &args.capture {
        Some(path) => match receiver.write_trace_capture(path) {
            Ok(spans) => {
                println!("wrote {spans} spans to {}", path.display());
                code
            }
            Err(e) => {
                eprintln!("otlp-receiver: cannot write {}: {e}", path.display());
                ExitCode::FAILURE
            }
        },
        None => code,
    }
}
