//! Draws OTLP traces as waterfalls, for a reader's own runs.
//!
//! The book prints traces as text; a waterfall shows at a glance what ran
//! in parallel, what waited, and which batch span carried which items. No
//! offline viewer reads OTLP, so this crate draws it itself, from the
//! OTLP/JSON that the book's receiver and the collectors' file exporters
//! write.
//!
//! # Layout
//!
//! - [`capture`]: reading OTLP/JSON (one request, or JSON Lines) into
//!   [`Span`]s, with clear errors and repair [`Warning`]s (`limits`).
//! - [`layout`](mod@layout): rows, depths and bar positions, pure and testable.
//! - [`svg`] and [`html`]: the waterfall as inline SVG, and a standalone page.
//! - [`chrome`]: Chrome trace-event JSON, which Perfetto and speedscope open.
//!
//! The binary `trace-view INPUT.json [-o OUT.html] [--chrome OUT.json]
//! [--max-spans N]` does all of it for a file (`-` for stdin).
//!
//! ```
//! let json = br#"{"resourceSpans":[{"scopeSpans":[{"spans":[{
//!     "traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174",
//!     "name":"checkout","startTimeUnixNano":"1700000000000000000",
//!     "endTimeUnixNano":"1700000000250000000"}]}]}]}"#;
//! let capture = trace_view::parse(json, &trace_view::Options::default())?;
//! let layout = trace_view::layout(&capture);
//! let page = trace_view::render_page(&layout);
//! assert!(page.contains(r#"data-span-id="eee19b7ec3c1b174""#));
//! # Ok::<(), trace_view::CaptureError>(())
//! ```

pub mod capture;
pub mod chrome;
mod details;
mod document;
mod escape;
mod fields;
#[cfg(feature = "fuzzing")]
pub mod fuzzing;
pub mod html;
pub mod layout;
mod limits;
pub mod model;
pub mod scale;
pub mod svg;
mod tree;
mod values;
pub mod warning;

pub use capture::{Capture, CaptureError, Options, Problem, parse};
pub use chrome::render_chrome;
pub use html::render_page;
pub use layout::{Layout, LinkTarget, Row, TraceBlock, layout};
pub use model::{Span, SpanKind, StatusCode};
pub use svg::render_svg_fragment;
pub use warning::Warning;
