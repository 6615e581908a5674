//! Detection of a line's leading indentation and list marker, which are kept out of translation.

/// Bullet characters that start a list item (or a dialogue line) when followed by whitespace.
const BULLETS: &[char] = &[
    '-', '•', '*', '—', '–', '―', '·', '◦', '▪', '▫', '▸', '►', '‣', '●', '○', '■', '□', '→',
];

/// Splits `line` into its verbatim prefix (indentation plus a list marker such as "- ", "• ",
/// "1. ", "a) " or "— ", with the whitespace after it) and the remaining text.
///
/// A marker is only recognised when some non-whitespace text follows it.
#[must_use]
pub fn split_prefix(line: &str) -> (&str, &str) {
    let body_start = line.len() - line.trim_start().len();
    let body = &line[body_start..];
    let marker_len = marker_len(body);
    if marker_len == 0 {
        return line.split_at(body_start);
    }
    let after_marker = &body[marker_len..];
    let content = after_marker.trim_start();
    if content.is_empty() || content.len() == after_marker.len() {
        // No text after the marker, or no whitespace between marker and text.
        return line.split_at(body_start);
    }
    line.split_at(line.len() - content.len())
}

/// Byte length of the list marker at the start of `body`, or 0 if there is none.
fn marker_len(body: &str) -> usize {
    let mut chars = body.chars();
    let Some(first) = chars.next() else {
        return 0;
    };
    if BULLETS.contains(&first) {
        return first.len_utf8();
    }
    let digits = body.chars().take_while(char::is_ascii_digit).count();
    if (1..=3).contains(&digits) {
        return match body[digits..].chars().next() {
            Some('.' | ')') => digits + 1,
            _ => 0,
        };
    }
    if first.is_ascii_alphabetic() && chars.next() == Some(')') {
        return 2;
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_line_has_no_prefix() {
        assert_eq!(
            split_prefix("Le gouvernement a démissionné."),
            ("", "Le gouvernement a démissionné.")
        );
    }

    #[test]
    fn indentation_is_prefix() {
        assert_eq!(
            split_prefix("    Texte indenté."),
            ("    ", "Texte indenté.")
        );
        assert_eq!(split_prefix("\tTabulation."), ("\t", "Tabulation."));
    }

    #[test]
    fn bullets_are_prefix() {
        assert_eq!(split_prefix("- Hausse des prix"), ("- ", "Hausse des prix"));
        assert_eq!(
            split_prefix("• Baisse du chômage"),
            ("• ", "Baisse du chômage")
        );
        assert_eq!(split_prefix("* Réforme"), ("* ", "Réforme"));
        assert_eq!(split_prefix("  -   Retraites"), ("  -   ", "Retraites"));
        assert_eq!(
            split_prefix("— Vous viendrez ? demanda-t-il."),
            ("— ", "Vous viendrez ? demanda-t-il.")
        );
        assert_eq!(split_prefix("– Oui."), ("– ", "Oui."));
    }

    #[test]
    fn numbered_and_lettered_items_are_prefix() {
        assert_eq!(split_prefix("1. Premier point"), ("1. ", "Premier point"));
        assert_eq!(
            split_prefix("12) Douzième point"),
            ("12) ", "Douzième point")
        );
        assert_eq!(split_prefix("a) La santé"), ("a) ", "La santé"));
        assert_eq!(split_prefix("  B) Le logement"), ("  B) ", "Le logement"));
    }

    #[test]
    fn look_alikes_are_not_prefix() {
        assert_eq!(split_prefix("-5 % sur un an."), ("", "-5 % sur un an."));
        assert_eq!(split_prefix("2024. Une année"), ("", "2024. Une année"));
        assert_eq!(
            split_prefix("1 200 manifestants."),
            ("", "1 200 manifestants.")
        );
        assert_eq!(
            split_prefix("A. Dupont a signé."),
            ("", "A. Dupont a signé.")
        );
        assert_eq!(split_prefix("3,5 % de hausse."), ("", "3,5 % de hausse."));
        assert_eq!(split_prefix("a)b"), ("", "a)b"));
    }

    #[test]
    fn marker_without_text_is_content() {
        assert_eq!(split_prefix("-"), ("", "-"));
        assert_eq!(split_prefix("  1.  "), ("  ", "1.  "));
        assert_eq!(split_prefix(""), ("", ""));
        assert_eq!(split_prefix("   "), ("   ", ""));
    }
}
