//! Escaping text for HTML and SVG (text content and quoted attributes).
//!
//! Every name, id and attribute in a capture is untrusted text: a span named
//! `<script>` must show as those characters, never run. Line breaks become
//! character references too, so that no text from a capture can put a blank
//! line into the markup: Markdown ends a raw HTML block at a blank line,
//! which would break the drawing once it is embedded in a book page.

/// `text` with `& < > " '` replaced by character references.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\n' => out.push_str("&#10;"),
            '\t' => out.push_str("&#9;"),
            '\r' => out.push_str("&#13;"),
            // Other control characters are not allowed in XML.
            c if c.is_control() => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn markup_characters_are_escaped() {
        assert_eq!(
            escape(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
        assert_eq!(escape("a\u{0}b\tc\r\n"), "a\u{FFFD}b&#9;c&#13;&#10;");
    }
}
