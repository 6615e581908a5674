//! Extractive summaries: the most central, mutually non-redundant sentences of an article, in
//! article order. Centrality is the cosine similarity of a sentence embedding to the article's
//! mean embedding; redundancy is removed with maximal marginal relevance (Carbonell & Goldstein,
//! 1998: pick the sentence maximising `λ·centrality − (1−λ)·max similarity to those already picked`).
//!
//! Abstractive summaries: a sequence-to-sequence summarizer (BART family) behind the
//! [`Summarizer`] trait. An article longer than the model's input is never truncated: its
//! sentences are grouped into consecutive parts that fit, each part is summarized, and the
//! parts' summaries are summarized again (up to [`MAX_LEVELS`] rounds).

use crate::models::embedding::{EmbedError, SentenceEmbedder};
use crate::text::{split_sentences, split_to_budget};

/// Most rounds of summarizing summaries before giving up.
pub const MAX_LEVELS: usize = 4;

/// A model that writes a summary of each input text.
pub trait Summarizer: Send + Sync {
    /// Where the model came from (`repo@revision` or a directory), for reports.
    fn source(&self) -> String;
    /// The longest input in tokens, special tokens included.
    fn max_input_tokens(&self) -> usize;
    /// Tokens `text` takes as input, special tokens included.
    fn count_tokens(&self, text: &str) -> usize;
    /// One summary per text; every text fits [`Summarizer::max_input_tokens`].
    fn summarize(&self, texts: &[String]) -> Result<Vec<String>, String>;
}

/// An abstractive summary and how it was made.
#[derive(Debug, Clone, PartialEq)]
pub struct AbstractiveSummary {
    /// The summary.
    pub text: String,
    /// Parts the text was cut into at the first round (1 = it fit the model).
    pub parts: usize,
    /// Rounds of summarization (1 = summarized directly).
    pub levels: usize,
}

/// Groups `sentences` into consecutive texts of at most `limit` tokens; a sentence longer than
/// the limit on its own is cut at clause or word boundaries.
pub fn group_to_fit(
    sentences: &[String],
    limit: usize,
    count: &dyn Fn(&str) -> usize,
) -> Vec<String> {
    let mut pieces: Vec<String> = Vec::new();
    for sentence in sentences {
        if count(sentence) <= limit {
            pieces.push(sentence.clone());
        } else {
            pieces.extend(split_to_budget(sentence, limit, count));
        }
    }
    let mut groups: Vec<String> = Vec::new();
    let mut current = String::new();
    for piece in pieces {
        if current.is_empty() {
            current = piece;
            continue;
        }
        let candidate = format!("{current} {piece}");
        if count(&candidate) <= limit {
            current = candidate;
        } else {
            groups.push(std::mem::replace(&mut current, piece));
        }
    }
    if !current.is_empty() {
        groups.push(current);
    }
    groups
}

/// Summarizes `sentences` (an article in order) with `model`, chunking when it is longer than
/// the model's input, and keeps at most `max_sentences` sentences of the result.
pub fn abstractive_summary(
    model: &dyn Summarizer,
    sentences: &[String],
    max_sentences: usize,
) -> Result<AbstractiveSummary, String> {
    let limit = model.max_input_tokens();
    let count = |text: &str| model.count_tokens(text);
    let mut texts = group_to_fit(sentences, limit, &count);
    if texts.is_empty() {
        return Ok(AbstractiveSummary {
            text: String::new(),
            parts: 0,
            levels: 0,
        });
    }
    let parts = texts.len();
    let mut levels = 0;
    loop {
        levels += 1;
        let summaries = model.summarize(&texts)?;
        if texts.len() == 1 || levels == MAX_LEVELS {
            let joined = summaries.join(" ");
            let kept: Vec<String> = split_sentences(&joined)
                .into_iter()
                .take(max_sentences.max(1))
                .collect();
            return Ok(AbstractiveSummary {
                text: kept.join(" "),
                parts,
                levels,
            });
        }
        let next_sentences: Vec<String> =
            summaries.iter().flat_map(|s| split_sentences(s)).collect();
        let next = group_to_fit(&next_sentences, limit, &count);
        if next.is_empty() {
            return Ok(AbstractiveSummary {
                text: String::new(),
                parts,
                levels,
            });
        }
        texts = next;
    }
}

/// Default trade-off between centrality (1.0) and diversity (0.0).
pub const DEFAULT_LAMBDA: f32 = 0.7;

/// Weight of a sentence's position: news puts the most important facts first, so sentence `i`
/// (0-based) gains `POSITION_WEIGHT / (1 + i)`.
/// Chosen on the training split of the labelled event set (`scripts/evaluate_analysis.sh
/// --split train`, ROUGE against the reference summaries; 0.1–1.0 all came within 0.01).
pub const POSITION_WEIGHT: f32 = 0.2;

/// Cosine similarity at or above which a sentence repeats one already chosen.
pub const NEAR_DUPLICATE: f32 = 0.95;

/// The position prior of sentence `i`.
fn position_prior(i: usize) -> f32 {
    POSITION_WEIGHT / (1.0 + i as f32)
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn normalized(mut v: Vec<f32>) -> Vec<f32> {
    let norm = dot(&v, &v).sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|x| *x /= norm);
    }
    v
}

/// Chooses up to `count` sentences from their L2-normalised `embeddings` by maximal marginal
/// relevance with trade-off `lambda` plus a prior for early sentences ([`POSITION_WEIGHT`]);
/// returns their indices in article order.
pub fn select_sentences(embeddings: &[Vec<f32>], count: usize, lambda: f32) -> Vec<usize> {
    let n = embeddings.len();
    if n == 0 || count == 0 {
        return Vec::new();
    }
    let dim = embeddings[0].len();
    let mut mean = vec![0f32; dim];
    for e in embeddings {
        mean.iter_mut().zip(e).for_each(|(m, x)| *m += x);
    }
    let centroid = normalized(mean);
    let centrality: Vec<f32> = embeddings.iter().map(|e| dot(e, &centroid)).collect();
    let mut chosen: Vec<usize> = Vec::with_capacity(count.min(n));
    while chosen.len() < count.min(n) {
        let mut best: Option<(usize, f32)> = None;
        for i in (0..n).filter(|i| !chosen.contains(i)) {
            let redundancy = chosen
                .iter()
                .map(|&j| dot(&embeddings[i], &embeddings[j]))
                .fold(f32::NEG_INFINITY, f32::max);
            // A near-copy of a chosen sentence is never chosen, whatever its position.
            if redundancy >= NEAR_DUPLICATE {
                continue;
            }
            let redundancy = if chosen.is_empty() { 0.0 } else { redundancy };
            let score = lambda * centrality[i] + position_prior(i) - (1.0 - lambda) * redundancy;
            // Ties go to the earlier sentence (leads carry the news).
            if best.is_none_or(|(_, b)| score > b) {
                best = Some((i, score));
            }
        }
        match best {
            Some((i, _)) => chosen.push(i),
            None => break,
        }
    }
    chosen.sort_unstable();
    chosen
}

/// Embeds `sentences` and returns the indices of an extractive summary of `count` sentences.
pub fn extractive_summary(
    embedder: &SentenceEmbedder,
    sentences: &[&str],
    count: usize,
) -> Result<Vec<usize>, EmbedError> {
    if sentences.is_empty() || count == 0 {
        return Ok(Vec::new());
    }
    let embeddings = embedder.embed(sentences)?;
    Ok(select_sentences(&embeddings, count, DEFAULT_LAMBDA))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(v: &[f32]) -> Vec<f32> {
        normalized(v.to_vec())
    }

    #[test]
    fn picks_central_sentences_in_article_order() {
        // Three sentences on one topic (x axis), one off-topic (z axis).
        let embeddings = vec![
            unit(&[1.0, 0.2, 0.0]),
            unit(&[0.0, 0.0, 1.0]),
            unit(&[1.0, -0.2, 0.0]),
            unit(&[1.0, 0.0, 0.1]),
        ];
        let picked = select_sentences(&embeddings, 2, DEFAULT_LAMBDA);
        assert_eq!(picked.len(), 2);
        assert!(
            !picked.contains(&1),
            "the off-topic sentence is not central: {picked:?}"
        );
        assert!(
            picked.windows(2).all(|w| w[0] < w[1]),
            "article order: {picked:?}"
        );
    }

    #[test]
    fn a_duplicate_is_not_picked_twice() {
        let a = unit(&[1.0, 0.1, 0.0]);
        let embeddings = vec![
            a.clone(),
            a,
            unit(&[0.8, 0.6, 0.0]),
            unit(&[0.9, -0.4, 0.0]),
        ];
        let picked = select_sentences(&embeddings, 2, 0.5);
        assert!(!(picked.contains(&0) && picked.contains(&1)), "{picked:?}");
    }

    /// Counts words + 2 special tokens; "summarizes" a text into its first word + a period.
    struct FirstWord {
        limit: usize,
        calls: std::sync::Mutex<Vec<usize>>,
    }

    impl Summarizer for FirstWord {
        fn source(&self) -> String {
            "test".into()
        }
        fn max_input_tokens(&self) -> usize {
            self.limit
        }
        fn count_tokens(&self, text: &str) -> usize {
            text.split_whitespace().count() + 2
        }
        fn summarize(&self, texts: &[String]) -> Result<Vec<String>, String> {
            if let Ok(mut calls) = self.calls.lock() {
                calls.push(texts.len());
            }
            texts
                .iter()
                .map(|t| {
                    assert!(
                        self.count_tokens(t) <= self.limit,
                        "input over the limit: {t}"
                    );
                    Ok(format!(
                        "{}.",
                        t.split_whitespace()
                            .next()
                            .unwrap_or("")
                            .trim_end_matches('.')
                    ))
                })
                .collect()
        }
    }

    #[test]
    fn long_inputs_are_summarized_in_parts_never_truncated() {
        let sentences: Vec<String> = (0..30)
            .map(|i| format!("Word{i} alpha beta gamma delta."))
            .collect();
        let model = FirstWord {
            limit: 20,
            calls: Default::default(),
        };
        let summary = abstractive_summary(&model, &sentences, 3).expect("summary");
        // 5 words per sentence, 18 words of room: 3 sentences per part, 10 parts.
        assert_eq!(summary.parts, 10);
        assert!(summary.levels >= 2, "{summary:?}");
        let calls = model.calls.lock().map(|c| c.clone()).unwrap_or_default();
        assert_eq!(calls.first(), Some(&10));
        assert_eq!(calls.last(), Some(&1));
        assert!(split_sentences(&summary.text).len() <= 3);

        let short = abstractive_summary(&model, &sentences[..2], 3).expect("summary");
        assert_eq!((short.parts, short.levels), (1, 1));
        assert_eq!(short.text, "Word0.");
        let empty = abstractive_summary(&model, &[], 3).expect("summary");
        assert_eq!(empty.text, "");
    }

    #[test]
    fn a_sentence_longer_than_the_input_is_cut() {
        let long = vec![(0..50)
            .map(|i| format!("w{i}"))
            .collect::<Vec<_>>()
            .join(" ")];
        let count = |t: &str| t.split_whitespace().count() + 2;
        let groups = group_to_fit(&long, 20, &count);
        assert!(groups.len() >= 3);
        assert!(groups.iter().all(|g| count(g) <= 20), "{groups:?}");
        let words: usize = groups.iter().map(|g| g.split_whitespace().count()).sum();
        assert_eq!(words, 50, "no word is lost");
    }

    #[test]
    fn edge_cases() {
        assert!(select_sentences(&[], 3, DEFAULT_LAMBDA).is_empty());
        let one = vec![unit(&[1.0, 0.0])];
        assert_eq!(select_sentences(&one, 3, DEFAULT_LAMBDA), vec![0]);
        assert!(select_sentences(&one, 0, DEFAULT_LAMBDA).is_empty());
    }
}
