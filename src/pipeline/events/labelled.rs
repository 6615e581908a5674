//! The labelled event set (`tests/data/events/`, described in its README): articles whose
//! sentences carry gold PLOVER event records. Read by the trainer's feature dump, the evaluation
//! and the tests; its held-out split is fixed by a hash of each article's id, so no one chooses
//! which articles are held out and the split never changes when articles are added.

use std::path::Path;

use serde::Deserialize;
use sha2::{Digest, Sha256};

/// One labelled article.
#[derive(Debug, Clone, Deserialize)]
pub struct LabelledArticle {
    /// Unique id (`en-conf-007`, `PLOVER-GSR01-AGREE-0001`).
    pub id: String,
    /// `en` or `fr`.
    pub lang: String,
    /// Publication date, YYYY-MM-DD.
    pub date: String,
    /// The dateline that opens the article (empty for converted single sentences).
    #[serde(default)]
    pub dateline: String,
    /// `event`, or the kind of article that reports none (`sport`, `culture`, …).
    pub topic: String,
    /// `plover-gsr` for records converted from PLOVER's gold standard.
    #[serde(default)]
    pub origin: Option<String>,
    /// The sentences, one paragraph each.
    pub sentences: Vec<LabelledSentence>,
    /// A reference summary in English.
    #[serde(default)]
    pub summary: String,
}

/// One labelled sentence.
#[derive(Debug, Clone, Deserialize)]
pub struct LabelledSentence {
    /// The sentence as written (French or English).
    pub text: String,
    /// Its English translation (French sentences only).
    #[serde(default)]
    pub english: Option<String>,
    /// The events it states.
    pub events: Vec<LabelledEvent>,
}

/// One gold event of a sentence.
#[derive(Debug, Clone, Deserialize)]
pub struct LabelledEvent {
    /// The event within its article (`e1`): the same ref in two sentences is one event.
    #[serde(rename = "ref")]
    pub reference: String,
    /// PLOVER type.
    #[serde(rename = "type")]
    pub kind: String,
    /// PLOVER mode.
    #[serde(default)]
    pub mode: Option<String>,
    /// `occurred`, `planned`, `threatened`, `denied`, `reported_unconfirmed`; absent when not coded.
    #[serde(default)]
    pub status: Option<String>,
    /// Who acts, as written in the English sentence.
    #[serde(default)]
    pub source: Option<String>,
    /// Who is acted on.
    #[serde(default)]
    pub target: Option<String>,
    /// Where.
    #[serde(default)]
    pub location: Option<String>,
    /// When.
    #[serde(default)]
    pub date: Option<LabelledDate>,
    /// Who says so.
    #[serde(default)]
    pub attribution: Option<String>,
}

/// A gold date.
#[derive(Debug, Clone, Deserialize)]
pub struct LabelledDate {
    /// First day, YYYY-MM-DD.
    pub start: String,
    /// Last day.
    pub end: String,
    /// `day`, `range`, `week`, `month`, `year`.
    pub granularity: String,
    /// The words it came from.
    #[serde(default)]
    pub phrase: Option<String>,
}

impl LabelledSentence {
    /// The English sentence (the translation for French).
    pub fn english(&self) -> &str {
        self.english.as_deref().unwrap_or(&self.text)
    }
}

impl LabelledArticle {
    /// True for the held-out test split (about a quarter of the articles): never trained,
    /// calibrated or tuned on.
    pub fn is_held_out(&self) -> bool {
        held_out(&self.id)
    }

    /// The article as a user would paste it: the dateline, then one sentence per paragraph.
    pub fn text(&self) -> String {
        let mut paragraphs: Vec<String> = self.sentences.iter().map(|s| s.text.clone()).collect();
        if let (Some(first), false) = (paragraphs.first_mut(), self.dateline.is_empty()) {
            *first = format!("{} {first}", self.dateline);
        }
        paragraphs.join("\n\n")
    }
}

/// Whether the article with this id is in the held-out split: the first byte of the SHA-256
/// of its id is below 64.
pub fn held_out(id: &str) -> bool {
    Sha256::digest(id.as_bytes())[0] < 64
}

/// Why the labelled set could not be read.
#[derive(Debug, thiserror::Error)]
pub enum LabelledError {
    /// A file is unreadable.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The failure.
        source: std::io::Error,
    },
    /// A line is not a labelled article.
    #[error("{path}:{line}: {source}")]
    Parse {
        /// The file.
        path: String,
        /// 1-based line.
        line: usize,
        /// The failure.
        source: serde_json::Error,
    },
}

/// Every article of the `*.jsonl` files directly in `dir`, files in name order.
pub fn read_dir(dir: &Path) -> Result<Vec<LabelledArticle>, LabelledError> {
    let io = |path: &Path| {
        let path = path.display().to_string();
        move |source| LabelledError::Io { path, source }
    };
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .map_err(io(dir))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
        .collect();
    files.sort();
    let mut articles = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).map_err(io(&file))?;
        for (n, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            articles.push(
                serde_json::from_str(line).map_err(|source| LabelledError::Parse {
                    path: file.display().to_string(),
                    line: n + 1,
                    source,
                })?,
            );
        }
    }
    Ok(articles)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_split_is_a_fixed_function_of_the_id() {
        // SHA-256("a") starts with 0xca, SHA-256("abc") with 0xba: both trained on.
        assert!(!held_out("a"));
        assert!(!held_out("abc"));
        let share = (0..1000).filter(|i| held_out(&format!("x{i}"))).count();
        assert!((200..300).contains(&share), "{share} of 1000 held out");
    }
}
