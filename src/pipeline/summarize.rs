//! Extractive summaries: the most central, mutually non-redundant sentences of an article, in
//! article order. Centrality is the cosine similarity of a sentence embedding to the article's
//! mean embedding; redundancy is removed with maximal marginal relevance (Carbonell & Goldstein,
//! 1998: pick the sentence maximising `λ·centrality − (1−λ)·max similarity to those already picked`).

use crate::models::embedding::{EmbedError, SentenceEmbedder};

/// Default trade-off between centrality (1.0) and diversity (0.0).
pub const DEFAULT_LAMBDA: f32 = 0.7;

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
/// relevance with trade-off `lambda`; returns their indices in article order.
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
            let redundancy = if chosen.is_empty() { 0.0 } else { redundancy };
            let score = lambda * centrality[i] - (1.0 - lambda) * redundancy;
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

    #[test]
    fn edge_cases() {
        assert!(select_sentences(&[], 3, DEFAULT_LAMBDA).is_empty());
        let one = vec![unit(&[1.0, 0.0])];
        assert_eq!(select_sentences(&one, 3, DEFAULT_LAMBDA), vec![0]);
        assert!(select_sentences(&one, 0, DEFAULT_LAMBDA).is_empty());
    }
}
