//! The spans of a capture, as the drawing needs them: ids as lowercase hex,
//! times in Unix nanoseconds, attribute values already turned into text.
//!
//! These types are deliberately plain (no OpenTelemetry types): the reader
//! of a capture file has no SDK, and the layout and renderers are easier to
//! test with spans written by hand.

/// The kind of a span (OTLP `Span.SpanKind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SpanKind {
    #[default]
    Unspecified,
    Internal,
    Server,
    Client,
    Producer,
    Consumer,
}

impl SpanKind {
    /// The kinds in the order of their OTLP numbers (0 to 5).
    pub const ALL: [SpanKind; 6] = [
        SpanKind::Unspecified,
        SpanKind::Internal,
        SpanKind::Server,
        SpanKind::Client,
        SpanKind::Producer,
        SpanKind::Consumer,
    ];

    /// The short name shown in the details: `server`, `client`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            SpanKind::Unspecified => "unspecified",
            SpanKind::Internal => "internal",
            SpanKind::Server => "server",
            SpanKind::Client => "client",
            SpanKind::Producer => "producer",
            SpanKind::Consumer => "consumer",
        }
    }
}

/// The status code of a span (OTLP `Status.StatusCode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StatusCode {
    #[default]
    Unset,
    Ok,
    Error,
}

impl StatusCode {
    /// `unset`, `ok` or `error`.
    pub fn as_str(self) -> &'static str {
        match self {
            StatusCode::Unset => "unset",
            StatusCode::Ok => "ok",
            StatusCode::Error => "error",
        }
    }
}

/// One attribute, its value rendered as text (`[a, b]` for arrays).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attribute {
    pub key: String,
    pub value: String,
}

/// A span event: a named point in time inside the span.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub time: u64,
    pub name: String,
    pub attributes: Vec<Attribute>,
}

/// A link to another span, possibly in another trace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkRef {
    pub trace_id: String,
    pub span_id: String,
}

/// One span of a capture.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Span {
    /// 32 lowercase hex digits.
    pub trace_id: String,
    /// 16 lowercase hex digits.
    pub span_id: String,
    /// 16 lowercase hex digits, or empty for a root span.
    pub parent_span_id: String,
    pub name: String,
    pub kind: SpanKind,
    /// Unix nanoseconds.
    pub start: u64,
    /// Unix nanoseconds.
    pub end: u64,
    /// The resource attribute `service.name`.
    pub service: String,
    pub attributes: Vec<Attribute>,
    pub events: Vec<Event>,
    pub links: Vec<LinkRef>,
    pub status: StatusCode,
    pub status_message: String,
}

/// Unix nanoseconds of 2200-01-01T00:00:00Z: a later time is taken for garbage.
pub const LATEST_SANE_TIME: u64 = 7_258_118_400_000_000_000;

impl Span {
    /// What is wrong with the span's times, if anything: a zero or absurdly
    /// late time, or an end before the start.
    pub fn time_problem(&self) -> Option<&'static str> {
        let absurd = |t: u64| t == 0 || t > LATEST_SANE_TIME;
        if absurd(self.start) || absurd(self.end) {
            Some("a start or end time of 0 or after the year 2200")
        } else if self.end < self.start {
            Some("an end before its start")
        } else {
            None
        }
    }

    /// The span's duration in nanoseconds (0 if its times are wrong).
    pub fn duration(&self) -> u64 {
        match self.time_problem() {
            None => self.end - self.start,
            Some(_) => 0,
        }
    }
}
