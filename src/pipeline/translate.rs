//! Article translation: split into lines and sentences, split sentences that exceed the model's
//! positions, translate in length-sorted batches under a token budget, and reassemble with the
//! original line structure. Nothing is dropped or truncated silently: every sentence that had to
//! be split says so.

use serde::Serialize;
use thiserror::Error;

use crate::engine::generate::GenerateError;
use crate::engine::{generate_batch, StopReason};
use crate::models::{GenerationOptions, TranslationModel};
use crate::text::{split_to_budget, Article};

/// How to translate: generation overrides and batching limits.
#[derive(Debug, Clone, PartialEq)]
pub struct TranslateOptions {
    /// Per-call generation settings on top of the model's defaults.
    pub generation: GenerationOptions,
    /// Upper bound on `sentences × longest source length` in one batch.
    pub max_batch_tokens: usize,
    /// Upper bound on sentences in one batch.
    pub max_batch_sentences: usize,
}

impl Default for TranslateOptions {
    fn default() -> Self {
        Self {
            generation: GenerationOptions::default(),
            max_batch_tokens: 4096,
            max_batch_sentences: 32,
        }
    }
}

/// The translation of one source sentence.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SentenceTranslation {
    /// The French sentence as segmented.
    pub source: String,
    /// Its English translation.
    pub translation: String,
    /// Model confidence: beam `sequences_scores` or greedy mean log-probability (lower is worse);
    /// for a sentence translated in parts, the lowest part score.
    pub score: f32,
    /// Source tokens (including EOS) over all parts.
    pub source_tokens: usize,
    /// Generated tokens over all parts.
    pub generated_tokens: usize,
    /// Number of parts the sentence was split into because it exceeded the model's positions (1 = not split).
    pub parts: usize,
    /// True when some part stopped at the maximum length instead of at end-of-sequence.
    pub hit_max_length: bool,
    /// Further hypotheses when more than one return sequence was requested.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub alternatives: Vec<String>,
}

/// The translation of a whole article.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ArticleTranslation {
    /// The English text with the original line breaks.
    pub text: String,
    /// Every sentence in order.
    pub sentences: Vec<SentenceTranslation>,
    /// Things the reader should know (sentences split, outputs cut at the maximum length).
    pub warnings: Vec<String>,
}

/// Why a translation failed.
#[derive(Debug, Error)]
pub enum PipelineError {
    /// The engine failed.
    #[error(transparent)]
    Generate(#[from] GenerateError),
    /// Reassembly found a different number of sentences (a bug).
    #[error("internal error while reassembling the article: {0}")]
    Reassemble(String),
}

/// A loaded translation model with the article-level logic around it.
pub struct Translator {
    model: TranslationModel,
}

/// One unit sent to the model: a sentence or a part of one.
struct Unit {
    sentence: usize,
    ids: Vec<u32>,
}

impl Translator {
    /// Wraps a loaded model.
    pub fn new(model: TranslationModel) -> Self {
        Self { model }
    }

    /// The underlying model (for its info and tokenizer).
    pub fn model(&self) -> &TranslationModel {
        &self.model
    }

    /// Translates a whole article, preserving its line structure.
    pub fn translate_article(
        &self,
        text: &str,
        options: &TranslateOptions,
    ) -> Result<ArticleTranslation, PipelineError> {
        let article = Article::parse(text);
        let sentences: Vec<String> = article.sentences().map(str::to_string).collect();
        let translated = self.translate_sentences(&sentences, options)?;
        let texts: Vec<String> = translated.iter().map(|s| s.translation.clone()).collect();
        let text = article
            .reassemble(&texts)
            .map_err(|e| PipelineError::Reassemble(format!("{e:?}")))?;
        let mut warnings = Vec::new();
        for (index, sentence) in translated.iter().enumerate() {
            if sentence.parts > 1 {
                warnings.push(format!(
                    "sentence {} ({} tokens) is longer than the model's {} positions and was translated in {} parts",
                    index + 1,
                    sentence.source_tokens,
                    self.model.info.max_positions,
                    sentence.parts
                ));
            }
            if sentence.hit_max_length {
                warnings.push(format!(
                    "the translation of sentence {} reached the maximum output length and may be incomplete",
                    index + 1
                ));
            }
        }
        Ok(ArticleTranslation {
            text,
            sentences: translated,
            warnings,
        })
    }

    /// Translates sentences one for one (each may be split into parts if too long).
    pub fn translate_sentences(
        &self,
        sentences: &[String],
        options: &TranslateOptions,
    ) -> Result<Vec<SentenceTranslation>, PipelineError> {
        let tokenizer = &self.model.tokenizer;
        // `count_tokens` includes EOS; the whole source must fit the position table.
        let budget = self.model.info.max_positions;
        let count = |text: &str| tokenizer.count_tokens(text);
        let mut units = Vec::new();
        let mut parts = vec![0usize; sentences.len()];
        for (index, sentence) in sentences.iter().enumerate() {
            let pieces = if count(sentence) > budget {
                split_to_budget(sentence, budget, &count)
            } else {
                vec![sentence.clone()]
            };
            parts[index] = pieces.len();
            for piece in pieces {
                units.push(Unit {
                    sentence: index,
                    ids: tokenizer.encode(&piece),
                });
            }
        }
        let generation = self.model.generation_config(&options.generation);
        let outputs = self.run_batches(&units, &generation, options)?;

        let mut results: Vec<SentenceTranslation> = sentences
            .iter()
            .zip(&parts)
            .map(|(source, &parts)| SentenceTranslation {
                source: source.clone(),
                translation: String::new(),
                score: 0.0,
                source_tokens: 0,
                generated_tokens: 0,
                parts,
                hit_max_length: false,
                alternatives: Vec::new(),
            })
            .collect();
        let mut first_part = vec![true; sentences.len()];
        for (unit, hypotheses) in units.iter().zip(outputs) {
            let result = &mut results[unit.sentence];
            let Some(best) = hypotheses.first() else {
                continue;
            };
            let text = tokenizer.decode(&best.tokens);
            if !text.is_empty() {
                if !result.translation.is_empty() {
                    result.translation.push(' ');
                }
                result.translation.push_str(&text);
            }
            result.score = if first_part[unit.sentence] {
                best.score
            } else {
                result.score.min(best.score)
            };
            first_part[unit.sentence] = false;
            result.source_tokens += unit.ids.len();
            result.generated_tokens += best.tokens.len();
            result.hit_max_length |= best.stop == StopReason::MaxLength;
            if result.parts == 1 {
                result.alternatives = hypotheses[1..]
                    .iter()
                    .map(|h| tokenizer.decode(&h.tokens))
                    .collect();
            }
        }
        Ok(results)
    }

    /// Runs units through the model in length-sorted batches; returns hypotheses in unit order.
    fn run_batches(
        &self,
        units: &[Unit],
        generation: &crate::engine::GenerationConfig,
        options: &TranslateOptions,
    ) -> Result<Vec<Vec<crate::engine::Hypothesis>>, PipelineError> {
        let mut order: Vec<usize> = (0..units.len()).collect();
        order.sort_by_key(|&i| std::cmp::Reverse(units[i].ids.len()));
        let mut outputs = vec![Vec::new(); units.len()];
        let mut start = 0;
        while start < order.len() {
            // Sorted longest first, so the first unit of a batch sets its padded width.
            let width = units[order[start]].ids.len().max(1);
            let by_tokens = (options.max_batch_tokens / width).max(1);
            let size = by_tokens
                .min(options.max_batch_sentences.max(1))
                .min(order.len() - start);
            let batch = &order[start..start + size];
            let sources: Vec<Vec<u32>> = batch.iter().map(|&i| units[i].ids.clone()).collect();
            let results = generate_batch(&self.model.model, &sources, generation)?;
            for (&i, hypotheses) in batch.iter().zip(results) {
                outputs[i] = hypotheses;
            }
            start += size;
        }
        Ok(outputs)
    }
}
