//! Article translation: split into lines and sentences, split sentences that exceed the model's
//! positions, translate in length-sorted batches under a token budget, and reassemble with the
//! original line structure. Nothing is dropped or truncated silently: every sentence that had to
//! be split says so.

use serde::Serialize;
use thiserror::Error;

use crate::engine::generate::GenerateError;
use crate::engine::{generate_batch, GenerationConfig, Hypothesis, StopReason};
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
/// One unit sent to the model: a sentence or a part of one that fits the model's positions.
#[derive(Debug, Clone, PartialEq)]
pub struct Unit {
    /// Index of the sentence this unit belongs to.
    pub sentence: usize,
    /// Source token ids, EOS included.
    pub ids: Vec<u32>,
}

/// Sentences turned into model units, ready for any executor (local batches or the server queue).
#[derive(Debug, Clone)]
pub struct PreparedSentences {
    sentences: Vec<String>,
    parts: Vec<usize>,
    /// The units to translate, in sentence order.
    pub units: Vec<Unit>,
}

/// An article split and tokenized, waiting for its units' hypotheses.
#[derive(Debug, Clone)]
pub struct PreparedArticle {
    article: Article,
    /// The article's sentences as units.
    pub sentences: PreparedSentences,
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

    /// The generation settings a call with `options` uses.
    pub fn generation_config(&self, options: &TranslateOptions) -> GenerationConfig {
        self.model.generation_config(&options.generation)
    }

    /// Translates several articles at once: their sentences share the model's length-sorted
    /// batches. If the shared run fails, each article is tried alone so one bad article fails alone.
    pub fn translate_many(
        &self,
        texts: &[&str],
        options: &TranslateOptions,
    ) -> Vec<Result<ArticleTranslation, String>> {
        let prepared: Vec<_> = texts.iter().map(|t| self.prepare_article(t)).collect();
        let units: Vec<_> = prepared
            .iter()
            .flat_map(|p| p.sentences.units.iter().cloned())
            .collect();
        match self.run_units(&units, options) {
            Ok(outputs) => {
                let mut outputs = outputs.into_iter();
                prepared
                    .iter()
                    .map(|article| {
                        let mine = outputs
                            .by_ref()
                            .take(article.sentences.units.len())
                            .collect();
                        self.assemble_article(article, mine)
                            .map_err(|e| e.to_string())
                    })
                    .collect()
            }
            Err(e) if texts.len() == 1 => vec![Err(e.to_string())],
            Err(_) => texts
                .iter()
                .map(|t| {
                    self.translate_article(t, options)
                        .map_err(|e| e.to_string())
                })
                .collect(),
        }
    }

    /// Translates a whole article, preserving its line structure, with local batching.
    pub fn translate_article(
        &self,
        text: &str,
        options: &TranslateOptions,
    ) -> Result<ArticleTranslation, PipelineError> {
        let prepared = self.prepare_article(text);
        let outputs = self.run_units(&prepared.sentences.units, options)?;
        self.assemble_article(&prepared, outputs)
    }

    /// Translates sentences one for one (each may be split into parts if too long).
    pub fn translate_sentences(
        &self,
        sentences: &[String],
        options: &TranslateOptions,
    ) -> Result<Vec<SentenceTranslation>, PipelineError> {
        let prepared = self.prepare_sentences(sentences.to_vec());
        let outputs = self.run_units(&prepared.units, options)?;
        Ok(self.assemble_sentences(&prepared, outputs))
    }

    /// Splits an article into lines and sentences and tokenizes them.
    pub fn prepare_article(&self, text: &str) -> PreparedArticle {
        let article = Article::parse(text);
        let sentences = article.sentences().map(str::to_string).collect();
        PreparedArticle {
            sentences: self.prepare_sentences(sentences),
            article,
        }
    }

    /// Tokenizes sentences, splitting those longer than the model's positions.
    pub fn prepare_sentences(&self, sentences: Vec<String>) -> PreparedSentences {
        let tokenizer = &self.model.tokenizer;
        // `count_tokens` includes EOS; the whole source must fit the position table.
        let budget = self.model.info.max_positions;
        let count = |text: &str| tokenizer.count_tokens(text);
        let mut units = Vec::new();
        let mut parts = vec![0usize; sentences.len()];
        for (index, sentence) in sentences.iter().enumerate() {
            // Tokenize once; only a sentence that does not fit is split and re-tokenized.
            let ids = tokenizer.encode(sentence);
            if ids.len() <= budget {
                parts[index] = 1;
                units.push(Unit {
                    sentence: index,
                    ids,
                });
                continue;
            }
            let pieces = split_to_budget(sentence, budget, &count);
            parts[index] = pieces.len();
            for piece in pieces {
                units.push(Unit {
                    sentence: index,
                    ids: tokenizer.encode(&piece),
                });
            }
        }
        PreparedSentences {
            sentences,
            parts,
            units,
        }
    }

    /// Puts the article back together from its units' hypotheses (in unit order).
    pub fn assemble_article(
        &self,
        prepared: &PreparedArticle,
        outputs: Vec<Vec<Hypothesis>>,
    ) -> Result<ArticleTranslation, PipelineError> {
        let translated = self.assemble_sentences(&prepared.sentences, outputs);
        let texts: Vec<&str> = translated.iter().map(|s| s.translation.as_str()).collect();
        let text = prepared
            .article
            .reassemble(&texts)
            .map_err(|e| PipelineError::Reassemble(e.to_string()))?;
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

    /// Joins units' hypotheses (in unit order) into one result per sentence.
    pub fn assemble_sentences(
        &self,
        prepared: &PreparedSentences,
        outputs: Vec<Vec<Hypothesis>>,
    ) -> Vec<SentenceTranslation> {
        let tokenizer = &self.model.tokenizer;
        let mut results: Vec<SentenceTranslation> = prepared
            .sentences
            .iter()
            .zip(&prepared.parts)
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
        let mut first_part = vec![true; results.len()];
        for (unit, hypotheses) in prepared.units.iter().zip(outputs) {
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
        results
    }

    /// Runs units through the model in length-sorted batches; returns hypotheses in unit order.
    pub fn run_units(
        &self,
        units: &[Unit],
        options: &TranslateOptions,
    ) -> Result<Vec<Vec<Hypothesis>>, PipelineError> {
        let generation = self.generation_config(options);
        let mut order: Vec<usize> = (0..units.len()).collect();
        order.sort_by_key(|&i| std::cmp::Reverse(units[i].ids.len()));
        let mut outputs = vec![Vec::new(); units.len()];
        for batch in plan_batches(
            &order
                .iter()
                .map(|&i| units[i].ids.len())
                .collect::<Vec<_>>(),
            options.max_batch_tokens,
            options.max_batch_sentences,
        ) {
            let members = &order[batch];
            let sources: Vec<Vec<u32>> = members.iter().map(|&i| units[i].ids.clone()).collect();
            let results = generate_batch(&self.model.model, &sources, &generation)?;
            for (&i, hypotheses) in members.iter().zip(results) {
                outputs[i] = hypotheses;
            }
        }
        Ok(outputs)
    }
}

/// Cuts a list of lengths sorted longest first into consecutive batches whose padded size
/// (`count × longest`) stays within `max_tokens` and whose count stays within `max_sentences`.
/// A unit longer than the budget still gets a batch of its own.
pub fn plan_batches(
    sorted_lengths: &[usize],
    max_tokens: usize,
    max_sentences: usize,
) -> Vec<std::ops::Range<usize>> {
    let mut batches = Vec::new();
    let mut start = 0;
    while start < sorted_lengths.len() {
        let width = sorted_lengths[start].max(1);
        let size = (max_tokens / width)
            .max(1)
            .min(max_sentences.max(1))
            .min(sorted_lengths.len() - start);
        batches.push(start..start + size);
        start += size;
    }
    batches
}

#[cfg(test)]
mod tests {
    use super::plan_batches;

    #[test]
    fn batches_respect_the_token_and_sentence_budgets() {
        let lengths = [50, 40, 30, 20, 10, 10, 5];
        let batches = plan_batches(&lengths, 100, 3);
        assert_eq!(batches, vec![0..2, 2..5, 5..7]);
        for batch in &batches {
            assert!(batch.len() * lengths[batch.start] <= 100);
        }
        assert_eq!(plan_batches(&[500, 1], 100, 8), vec![0..1, 1..2]);
        assert!(plan_batches(&[], 100, 8).is_empty());
    }
}
