//! An article as lines of sentences, and its reassembly from translated sentences.

use std::fmt;

use super::prefix::split_prefix;
use super::sentences::split_sentences;

/// An article split into lines (paragraphs), each line into sentences.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Article {
    /// The lines of the text, in order; empty only for an empty text.
    pub lines: Vec<Line>,
}

/// One line of the original text; a blank line has no sentences and an empty prefix.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Line {
    /// Leading indentation and list marker ("- ", "• ", "1. ", "a) ", "— "), kept verbatim.
    pub prefix: String,
    /// Trimmed sentences of the line after its prefix; empty for a blank line.
    pub sentences: Vec<String>,
}

/// Why translations could not be put back into an article.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReassembleError {
    /// The number of translations differs from the number of sentences in the article.
    CountMismatch {
        /// Sentences in the article.
        expected: usize,
        /// Translations given.
        actual: usize,
    },
}

impl fmt::Display for ReassembleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::CountMismatch { expected, actual } => {
                write!(f, "expected {expected} translated sentences, got {actual}")
            }
        }
    }
}

impl std::error::Error for ReassembleError {}

impl Line {
    /// Parses one line (without its line break) into a prefix and sentences.
    #[must_use]
    pub fn parse(line: &str) -> Line {
        if line.trim().is_empty() {
            return Line::default();
        }
        let (prefix, rest) = split_prefix(line);
        Line {
            prefix: prefix.to_string(),
            sentences: split_sentences(rest),
        }
    }

    /// Whether the line is a blank line (a paragraph break).
    #[must_use]
    pub fn is_blank(&self) -> bool {
        self.sentences.is_empty()
    }
}

impl Article {
    /// Splits `text` on '\n' (dropping a '\r' before it) into lines, then lines into sentences.
    ///
    /// An empty text gives an article with no lines; otherwise there is one [`Line`] per line,
    /// so a trailing line break gives a trailing blank line.
    #[must_use]
    pub fn parse(text: &str) -> Article {
        if text.is_empty() {
            return Article::default();
        }
        let lines = text
            .split('\n')
            .map(|line| Line::parse(line.strip_suffix('\r').unwrap_or(line)))
            .collect();
        Article { lines }
    }

    /// All sentences of the article in order, as they should be sent for translation.
    pub fn sentences(&self) -> impl Iterator<Item = &str> + '_ {
        self.lines
            .iter()
            .flat_map(|line| line.sentences.iter().map(String::as_str))
    }

    /// Number of sentences in the article, i.e. the number of translations to provide.
    #[must_use]
    pub fn sentence_count(&self) -> usize {
        self.lines.iter().map(|line| line.sentences.len()).sum()
    }

    /// Rebuilds the text with `translations` (one per sentence, in order) in place of the
    /// sentences: each line is its prefix plus its translated sentences joined by a space, and
    /// lines are joined by '\n'. Line breaks inside a translation are turned into spaces so the
    /// line structure is kept.
    ///
    /// # Errors
    ///
    /// [`ReassembleError::CountMismatch`] if `translations` does not have exactly one entry per
    /// sentence of the article.
    pub fn reassemble<S: AsRef<str>>(&self, translations: &[S]) -> Result<String, ReassembleError> {
        let expected = self.sentence_count();
        if translations.len() != expected {
            return Err(ReassembleError::CountMismatch {
                expected,
                actual: translations.len(),
            });
        }
        let mut remaining = translations.iter();
        let mut lines = Vec::with_capacity(self.lines.len());
        for line in &self.lines {
            let mut text = line.prefix.clone();
            let mut first = true;
            for translation in remaining.by_ref().take(line.sentences.len()) {
                for part in translation.as_ref().split(['\r', '\n']) {
                    let part = part.trim();
                    if part.is_empty() {
                        continue;
                    }
                    if !first {
                        text.push(' ');
                    }
                    text.push_str(part);
                    first = false;
                }
            }
            lines.push(text);
        }
        Ok(lines.join("\n"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::samples::{fuzz_strings, normalize_ws, SAMPLE_ARTICLES};

    fn identity(article: &Article) -> Vec<String> {
        article.sentences().map(str::to_string).collect()
    }

    fn roundtrip(text: &str) -> String {
        let article = Article::parse(text);
        match article.reassemble(&identity(&article)) {
            Ok(out) => out,
            Err(err) => panic!("identity reassembly failed for {text:?}: {err}"),
        }
    }

    /// Each line with whitespace runs collapsed (trailing whitespace dropped), "\r\n" as "\n".
    fn normalize_lines(text: &str) -> String {
        text.split('\n')
            .map(normalize_ws)
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn empty_text_has_no_lines_and_reassembles_to_empty() {
        let article = Article::parse("");
        assert!(article.lines.is_empty());
        assert_eq!(article.sentence_count(), 0);
        assert_eq!(article.reassemble::<String>(&[]), Ok(String::new()));
    }

    #[test]
    fn line_breaks_only_round_trip() {
        let article = Article::parse("\n\n");
        assert_eq!(article.lines.len(), 3);
        assert!(article.lines.iter().all(Line::is_blank));
        assert_eq!(article.reassemble::<String>(&[]), Ok("\n\n".to_string()));
        assert_eq!(roundtrip("\r\n\r\n"), "\n\n");
    }

    #[test]
    fn parses_lines_prefixes_and_sentences() {
        let article = Article::parse(
            "Le président Emmanuel Macron a rencontré M. Scholz à Berlin. Ils ont discuté de l’Ukraine.\n\
             \n\
             - Premier point. Détail.\n\
             \u{20}\u{20}2. Second point",
        );
        assert_eq!(
            article.lines,
            vec![
                Line {
                    prefix: String::new(),
                    sentences: vec![
                        "Le président Emmanuel Macron a rencontré M. Scholz à Berlin.".into(),
                        "Ils ont discuté de l’Ukraine.".into(),
                    ],
                },
                Line::default(),
                Line {
                    prefix: "- ".into(),
                    sentences: vec!["Premier point.".into(), "Détail.".into()],
                },
                Line {
                    prefix: "  2. ".into(),
                    sentences: vec!["Second point".into()],
                },
            ]
        );
        assert_eq!(
            article.sentences().collect::<Vec<_>>(),
            [
                "Le président Emmanuel Macron a rencontré M. Scholz à Berlin.",
                "Ils ont discuté de l’Ukraine.",
                "Premier point.",
                "Détail.",
                "Second point",
            ]
        );
    }

    #[test]
    fn crlf_is_handled() {
        let article = Article::parse("Première ligne.\r\nSeconde ligne.\r\n");
        assert_eq!(article.lines.len(), 3);
        assert_eq!(article.lines[0].sentences, ["Première ligne."]);
        assert_eq!(article.lines[1].sentences, ["Seconde ligne."]);
        assert!(article.lines[2].is_blank());
    }

    #[test]
    fn reassembles_translations_with_structure() {
        let article = Article::parse(
            "Les syndicats manifestent. La grève continue.\n\n• Transports : perturbés.\n— Et demain ?",
        );
        let out = article.reassemble(&[
            "Unions are protesting.",
            "The strike goes on.",
            "Transport: disrupted.",
            "And tomorrow?",
        ]);
        assert_eq!(
            out.as_deref(),
            Ok("Unions are protesting. The strike goes on.\n\n• Transport: disrupted.\n— And tomorrow?")
        );
    }

    #[test]
    fn translation_whitespace_and_line_breaks_are_normalised() {
        let article = Article::parse("Une phrase. Une autre.\nFin.");
        let out = article.reassemble(&["  One sentence.\n", "Another\r\none.", ""]);
        assert_eq!(out.as_deref(), Ok("One sentence. Another one.\n"));
    }

    #[test]
    fn count_mismatch_is_an_error() {
        let article = Article::parse("Une phrase. Une autre.");
        assert_eq!(
            article.reassemble(&["One sentence."]),
            Err(ReassembleError::CountMismatch {
                expected: 2,
                actual: 1
            })
        );
        assert_eq!(
            article.reassemble(&["a", "b", "c"]),
            Err(ReassembleError::CountMismatch {
                expected: 2,
                actual: 3
            })
        );
        let message = ReassembleError::CountMismatch {
            expected: 2,
            actual: 1,
        }
        .to_string();
        assert_eq!(message, "expected 2 translated sentences, got 1");
    }

    #[test]
    fn identity_round_trip_on_samples() {
        for text in SAMPLE_ARTICLES {
            let out = roundtrip(text);
            assert_eq!(
                normalize_lines(&out),
                normalize_lines(&text.replace("\r\n", "\n")),
                "round trip changed {text:?}"
            );
        }
    }

    #[test]
    fn prefixes_are_kept_verbatim_on_samples() {
        let article = Article::parse(SAMPLE_ARTICLES[3]);
        let prefixes: Vec<&str> = article
            .lines
            .iter()
            .map(|line| line.prefix.as_str())
            .filter(|prefix| !prefix.is_empty())
            .collect();
        assert_eq!(prefixes, ["1. ", "2. ", "3. ", "a) ", "• "]);
        let dialogue = Article::parse(SAMPLE_ARTICLES[2]);
        assert!(dialogue.lines.iter().all(|line| line.prefix == "— "));
        assert_eq!(
            dialogue.lines[1].sentences,
            [
                "Je ne sais pas encore.",
                "Nous verrons bien ! a répondu J.-M. Durand."
            ]
        );
    }

    #[test]
    fn fuzz_round_trip_never_loses_text() {
        for text in fuzz_strings(2000, 60) {
            let out = roundtrip(&text);
            // A lone '\r' is whitespace inside a line, so compare after folding it.
            let expected = text.replace("\r\n", "\n").replace('\r', " ");
            assert_eq!(
                normalize_lines(&out),
                normalize_lines(&expected),
                "round trip changed {text:?}"
            );
        }
    }
}
