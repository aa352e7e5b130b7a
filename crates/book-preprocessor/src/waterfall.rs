//! `{{#trace GROUP/NAME}}`: a recorded capture drawn as a waterfall.
//!
//! A capture is a result like any other figure: its text is the OTLP/JSON
//! Lines a run's receiver wrote, its value the number of spans the receiver
//! counted, and its provenance says where and when the run happened. The
//! drawing is `trace_view`'s fragment, wrapped in a `<figure>` whose `data-`
//! attributes tell the browser walk how many bars and links to expect.

use crate::catalogue::Figure;
use crate::render::escape;

/// What replaces `{{#trace ID}}`. An error if the result has no capture,
/// the capture cannot be read, or it does not draw as many spans as the
/// run recorded.
pub fn block(figure: &Figure) -> Result<String, String> {
    let id = &figure.measurement.id;
    let text = figure.measurement.text.as_deref().ok_or_else(|| {
        format!("result `{id}` has no capture text: record the receiver's trace capture with it")
    })?;
    let capture =
        trace_view::parse(text.as_bytes(), &trace_view::Options::default())
            .map_err(|e| format!("the capture of `{id}` cannot be read: {e}"))?;
    let layout = trace_view::layout(&capture);
    let recorded = figure.measurement.value;
    if layout.rows.len() as f64 != recorded {
        return Err(format!(
            "the capture of `{id}` draws {} span(s), but the run recorded {recorded}",
            layout.rows.len()
        ));
    }
    let links = layout
        .rows
        .iter()
        .flat_map(|row| &row.links)
        .filter(|target| matches!(target, trace_view::LinkTarget::Row(_)))
        .count();
    let name = id.rsplit('/').next().unwrap_or(id);
    // mdBook's `links` preprocessor runs after this one: a `{{` that came
    // from a span name must not reach it as a directive.
    let drawing =
        trace_view::render_svg_fragment(&layout).replace("{{", "&#123;&#123;");
    Ok(format!(
        "\n\n<figure class=\"book-trace\" id=\"trace-{anchor}\" data-capture=\"{id}\" \
         data-source=\"{origin}\" data-spans=\"{spans}\" data-links=\"{links}\">\n{drawing}\
         <figcaption class=\"bench-provenance-line\">Waterfall of a captured run: {caption}</figcaption>\n\
         </figure>\n\n",
        anchor = escape(name),
        id = escape(id),
        origin = figure.origin,
        spans = layout.rows.len(),
        caption = escape(&figure.provenance.describe(figure.origin)),
    ))
}

/// The drawing's style and script, once per page that has a waterfall.
/// A `<style>` or `<script>` block ends only at its closing tag, so the
/// blank lines inside are safe in Markdown.
pub fn page_assets() -> String {
    format!(
        "\n\n<style>{}</style>\n\n<script>{}</script>\n",
        trace_view::html::STYLE,
        trace_view::html::SCRIPT
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provenance::Origin;
    use crate::results::Measurement;
    use crate::testutil::example_provenance;

    /// One OTLP/JSON request: `batch` (trace A) with a child `write`, and an
    /// `item` in trace B that `batch` links to.
    fn capture(batch_name: &str) -> String {
        let span = |trace: &str, id: &str, parent: &str, name: &str, links: &str| {
            format!(
                r#"{{"traceId":"{trace}","spanId":"{id}","parentSpanId":"{parent}","name":"{name}","kind":1,"startTimeUnixNano":"1000","endTimeUnixNano":"5000","attributes":[{{"key":"rows","value":{{"intValue":"3"}}}}],"links":[{links}]}}"#
            )
        };
        let (a, b) = ("a".repeat(32), "b".repeat(32));
        let link = format!(r#"{{"traceId":"{b}","spanId":"{}"}}"#, "3".repeat(16));
        let spans = [
            span(&a, &"1".repeat(16), "", batch_name, &link),
            span(&a, &"2".repeat(16), &"1".repeat(16), "write", ""),
            span(&b, &"3".repeat(16), "", "item", ""),
        ];
        format!(
            r#"{{"resourceSpans":[{{"resource":{{"attributes":[{{"key":"service.name","value":{{"stringValue":"svc"}}}}]}},"scopeSpans":[{{"spans":[{}]}}]}}]}}"#,
            spans.join(",")
        ) + "\n"
    }

    fn figure(text: Option<String>, spans: f64) -> Figure {
        Figure {
            measurement: Measurement {
                id: "traces/ch06_batch".into(),
                value: spans,
                unit: "spans".into(),
                lower: None,
                upper: None,
                confidence: None,
                statistic: "count".into(),
                text,
            },
            origin: Origin::Fresh,
            provenance: example_provenance(),
        }
    }

    #[test]
    fn draws_every_span_and_link_with_the_counts_the_browser_checks() {
        let html = block(&figure(Some(capture("batch")), 3.0)).expect("draws");
        assert!(html.contains("data-spans=\"3\" data-links=\"1\""), "{html}");
        assert!(html.contains("id=\"trace-ch06_batch\""), "{html}");
        assert_eq!(html.matches("class=\"tv-span").count(), 3);
        assert_eq!(html.matches("class=\"tv-link\"").count(), 1);
        assert!(html.contains("Waterfall of a captured run: fresh measurement"));
        // Markdown ends an HTML block at a blank line: there is none inside.
        let inner = html.trim();
        assert!(inner.starts_with("<figure") && inner.ends_with("</figure>"));
        assert!(!inner.contains("\n\n"), "{inner}");
    }

    #[test]
    fn a_capture_that_does_not_match_its_recorded_count_is_an_error() {
        let e = block(&figure(Some(capture("batch")), 4.0)).unwrap_err();
        assert!(e.contains("draws 3 span(s), but the run recorded 4"), "{e}");
    }

    #[test]
    fn a_missing_or_unreadable_capture_is_an_error() {
        let e = block(&figure(None, 3.0)).unwrap_err();
        assert!(e.contains("has no capture text"), "{e}");
        let e =
            block(&figure(Some("{\"resourceSpans\": [".into()), 3.0)).unwrap_err();
        assert!(e.contains("cannot be read"), "{e}");
    }

    #[test]
    fn a_span_name_cannot_smuggle_a_directive_to_mdbook() {
        let html = block(&figure(Some(capture("{{#include /etc/passwd}}")), 3.0))
            .expect("draws");
        assert!(!html.contains("{{"), "{html}");
        assert!(html.contains("&#123;&#123;#include"), "{html}");
    }
}
