//! A span exporter that prints one line per finished span.
//!
//! `opentelemetry-stdout` prints every field of every span over many lines;
//! for a reader following a chapter, one line per span with the three ids that
//! make up the tree (trace, span, parent) is easier to follow.

use std::fmt::Write as _;
use std::io::Write;
use std::sync::{Arc, Mutex};

use opentelemetry::trace::{SpanId, Status};
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::{SpanData, SpanExporter};

/// Where the lines go: stdout, or a shared buffer in tests.
#[derive(Clone)]
pub(crate) enum Sink {
    Stdout,
    Buffer(Arc<Mutex<Vec<u8>>>),
}

/// Prints `span NAME trace=… span=… parent=… duration=…` for each span.
#[derive(Clone)]
pub struct ConsoleExporter {
    sink: Sink,
}

impl std::fmt::Debug for ConsoleExporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ConsoleExporter")
    }
}

impl ConsoleExporter {
    /// Writes to the process's standard output.
    pub fn stdout() -> Self {
        Self { sink: Sink::Stdout }
    }

    /// Writes into `buffer`, for tests.
    pub fn to_buffer(buffer: Arc<Mutex<Vec<u8>>>) -> Self {
        Self {
            sink: Sink::Buffer(buffer),
        }
    }
}

/// The line printed for one span.
pub fn format_span(span: &SpanData) -> String {
    let cx = &span.span_context;
    let parent = if span.parent_span_id == SpanId::INVALID {
        "none".to_owned()
    } else {
        span.parent_span_id.to_string()
    };
    // Wall-clock stamps can go backwards under a clock step; say so rather
    // than print a nonsense duration.
    let duration = match span.end_time.duration_since(span.start_time) {
        Ok(d) => format!("{}µs", d.as_micros()),
        Err(_) => "negative(clock stepped)".to_owned(),
    };
    let mut line = format!(
        "span {} trace={} span={} parent={} duration={}",
        span.name,
        cx.trace_id(),
        cx.span_id(),
        parent,
        duration
    );
    for kv in &span.attributes {
        let _ = write!(line, " {}={}", kv.key, kv.value);
    }
    for link in span.links.iter() {
        let _ = write!(line, " link={}", link.span_context.span_id());
    }
    if let Status::Error { description } = &span.status {
        let _ = write!(line, " error={description:?}");
    }
    line
}

impl SpanExporter for ConsoleExporter {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        let mut text = String::new();
        for span in &batch {
            text.push_str(&format_span(span));
            text.push('\n');
        }
        self.sink.write(&text)
    }
}

impl Sink {
    /// Writes `text` whole, so lines from concurrent exports do not interleave.
    pub(crate) fn write(&self, text: &str) -> OTelSdkResult {
        if text.is_empty() {
            return Ok(());
        }
        let written = match self {
            Sink::Stdout => {
                let mut out = std::io::stdout().lock();
                out.write_all(text.as_bytes()).and_then(|()| out.flush())
            }
            Sink::Buffer(buffer) => {
                buffer
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner())
                    .extend_from_slice(text.as_bytes());
                Ok(())
            }
        };
        written.map_err(|e| {
            OTelSdkError::InternalFailure(format!("console export: {e}"))
        })
    }
}
