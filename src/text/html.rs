//! Translating HTML without touching its markup: the document is cut into tags and text runs;
//! only text runs outside `<script>`, `<style>` and comments are handed to the translator, with
//! their surrounding whitespace kept and entities decoded before and escaped after.

/// A piece of an HTML document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    /// Markup (tags, comments, script and style bodies) passed through unchanged.
    Markup(String),
    /// Visible text, entity-decoded.
    Text(String),
}

/// Cuts `html` into markup and decoded text runs, in order.
pub fn segments(html: &str) -> Vec<Segment> {
    let mut out = Vec::new();
    let mut rest = html;
    while !rest.is_empty() {
        match rest.find('<') {
            Some(0) => {
                let end = markup_end(rest);
                out.push(Segment::Markup(rest[..end].to_string()));
                rest = &rest[end..];
            }
            Some(at) => {
                out.push(Segment::Text(decode_entities(&rest[..at])));
                rest = &rest[at..];
            }
            None => {
                out.push(Segment::Text(decode_entities(rest)));
                rest = "";
            }
        }
    }
    out
}

/// Length of the markup at the start of `s` (which starts with '<'): a comment, a tag, or a
/// `<script>`/`<style>` element with its body.
fn markup_end(s: &str) -> usize {
    if s.starts_with("<!--") {
        return s.find("-->").map_or(s.len(), |i| i + 3);
    }
    let tag_end = s.find('>').map_or(s.len(), |i| i + 1);
    let lower = s[..tag_end].to_ascii_lowercase();
    for raw in ["script", "style"] {
        if lower.starts_with(&format!("<{raw}")) && !lower.ends_with("/>") {
            let close = format!("</{raw}");
            return s[tag_end..]
                .to_ascii_lowercase()
                .find(&close)
                .map(|i| {
                    let after = tag_end + i;
                    s[after..].find('>').map_or(s.len(), |j| after + j + 1)
                })
                .unwrap_or(s.len());
        }
    }
    tag_end
}

/// Decodes the common named entities and numeric character references.
pub fn decode_entities(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        let decoded = tail.find(';').filter(|&end| end <= 10).and_then(|end| {
            let name = &tail[1..end];
            let ch = match name {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                "nbsp" => Some('\u{a0}'),
                "laquo" => Some('«'),
                "raquo" => Some('»'),
                "rsquo" => Some('’'),
                _ => name
                    .strip_prefix("#x")
                    .or_else(|| name.strip_prefix("#X"))
                    .and_then(|hex| u32::from_str_radix(hex, 16).ok())
                    .or_else(|| name.strip_prefix('#').and_then(|d| d.parse().ok()))
                    .and_then(char::from_u32),
            };
            ch.map(|c| (c, end + 1))
        });
        match decoded {
            Some((c, len)) => {
                out.push(c);
                rest = &tail[len..];
            }
            None => {
                out.push('&');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Escapes text for HTML (`&`, `<`, `>`).
pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Splits `text` into (leading whitespace, content, trailing whitespace).
pub fn split_whitespace_edges(text: &str) -> (&str, &str, &str) {
    let content = text.trim();
    if content.is_empty() {
        return (text, "", "");
    }
    let start = text.len() - text.trim_start().len();
    let end = start + content.len();
    (&text[..start], content, &text[end..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separates_markup_from_text_and_keeps_scripts_whole() {
        let html =
            "<p class=\"x\">Bonjour &amp; merci.</p><script>var a = '<b>';</script><!-- c --> fin";
        let parts = segments(html);
        assert_eq!(
            parts,
            vec![
                Segment::Markup("<p class=\"x\">".into()),
                Segment::Text("Bonjour & merci.".into()),
                Segment::Markup("</p>".into()),
                Segment::Markup("<script>var a = '<b>';</script>".into()),
                Segment::Markup("<!-- c -->".into()),
                Segment::Text(" fin".into()),
            ]
        );
    }

    #[test]
    fn decodes_numeric_entities_and_leaves_broken_ones() {
        assert_eq!(decode_entities("&#233;t&#xE9; &foo; & x"), "été &foo; & x");
        assert_eq!(escape("a < b & c"), "a &lt; b &amp; c");
    }

    #[test]
    fn unterminated_markup_does_not_panic() {
        assert_eq!(segments("<p"), vec![Segment::Markup("<p".into())]);
        assert_eq!(
            segments("<script>x"),
            vec![Segment::Markup("<script>x".into())]
        );
        assert_eq!(split_whitespace_edges("  a b \n"), ("  ", "a b", " \n"));
    }
}
