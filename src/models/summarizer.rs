//! An abstractive summarization model of the BART family (`sshleifer/distilbart-cnn-12-6`,
//! `facebook/bart-large-cnn`): the engine's encoder–decoder, a byte-level BPE tokenizer and the
//! repo's generation defaults, checked for consistency at load time.
//!
//! Reference: transformers 5.24 `BartForConditionalGeneration.generate` on
//! `BartTokenizer(texts, padding=True)` and `batch_decode(skip_special_tokens=True)`, with the
//! generation settings of `generation_config.json` or, lacking it, of `config.json`'s
//! `task_specific_params.summarization` (see [`GenerationDefaults::from_files_for_task`]).
//! Parity is tested on `tests/fixtures/bart-tiny-summarizer`
//! (`scripts/make_summarizer_fixture.py`).

use std::time::Instant;

use candle_core::Device;
use thiserror::Error;

use super::bpe::{BpeError, BpeTokenizer};
use super::error::LoadError;
use super::generation::{GenerationDefaults, GenerationOptions};
use super::network::Network;
use super::source::ModelSource;
use super::translation::ModelInfo;
use crate::engine::generate::GenerateError;
use crate::engine::{generate_batch, GenerationConfig, Hypothesis, Seq2Seq};

/// The `task_specific_params` entry whose settings a summarizer uses.
pub const SUMMARIZATION_TASK: &str = "summarization";

/// Why texts could not be summarized.
#[derive(Debug, Error)]
pub enum SummarizeError {
    /// A text has more tokens than the model has positions; the caller must split it.
    #[error("text {index} has {tokens} tokens (special tokens included) but the model accepts at most {limit}; split it into shorter chunks")]
    TooLong {
        /// Position of the text in the input slice.
        index: usize,
        /// Its token count, `<s>` and `</s>` included.
        tokens: usize,
        /// The model's limit ([`SummarizationModel::max_input_tokens`]).
        limit: usize,
    },
    /// Tokenizing a text or decoding a summary failed.
    #[error(transparent)]
    Tokenizer(#[from] BpeError),
    /// The search failed (invalid settings or a model error).
    #[error(transparent)]
    Generate(#[from] GenerateError),
}

/// A BART-family summarization model ready to run.
pub struct SummarizationModel {
    model: Seq2Seq,
    tokenizer: BpeTokenizer,
    generation: GenerationDefaults,
    info: ModelInfo,
}

impl SummarizationModel {
    /// Finds the files of `source` (downloading them from the Hub if needed) and loads them on
    /// `device`: `config.json`, the weights, `generation_config.json` or `config.json`'s
    /// `task_specific_params.summarization`, and `tokenizer.json` or `vocab.json` + `merges.txt`.
    pub fn load(source: &ModelSource, device: &Device) -> Result<Self, LoadError> {
        let started = Instant::now();
        let repo = source.open()?;
        let network = Network::load_for_task(&repo, device, SUMMARIZATION_TASK)?;
        let tokenizer = BpeTokenizer::from_repo(&repo)?;
        let cfg = network.model.config();
        if tokenizer.vocab_size() > cfg.vocab_size {
            return Err(LoadError::InvalidConfig {
                path: network.config_path.clone(),
                message: format!(
                    "the tokenizer has {} tokens but the model's vocab_size is {}",
                    tokenizer.vocab_size(),
                    cfg.vocab_size
                ),
            });
        }
        let info = ModelInfo {
            source: repo.name().to_string(),
            weights_file: network
                .weights_path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            max_positions: cfg.max_position_embeddings,
            vocab_size: cfg.vocab_size,
            load_time: started.elapsed(),
            quantization: crate::engine::Quantization::None,
        };
        tracing::info!(source = %info.source, weights = %info.weights_file, ms = info.load_time.as_millis() as u64, "summarization model loaded");
        Ok(Self {
            model: network.model,
            tokenizer,
            generation: network.generation,
            info,
        })
    }

    /// Provenance and sizes.
    pub fn info(&self) -> &ModelInfo {
        &self.info
    }

    /// The most tokens one input may have, `<s>` and `</s>` included: the encoder's positions
    /// (1024 for distilbart-cnn and bart-large-cnn).
    pub fn max_input_tokens(&self) -> usize {
        self.model.config().max_position_embeddings
    }

    /// Tokens of `text` as the model sees it, `<s>` and `</s>` included. A text the tokenizer
    /// rejects counts as `usize::MAX` (it can never fit; [`Self::summarize`] reports why).
    pub fn count_tokens(&self, text: &str) -> usize {
        self.tokenizer
            .encode(text)
            .map(|ids| ids.len())
            .unwrap_or(usize::MAX)
    }

    /// The tokenizer.
    pub fn tokenizer(&self) -> &BpeTokenizer {
        &self.tokenizer
    }

    /// The generation defaults from the repo.
    pub fn generation_defaults(&self) -> &GenerationDefaults {
        &self.generation
    }

    /// The generation settings for one call: the repo's defaults with `options` on top.
    pub fn generation_config(&self, options: &GenerationOptions) -> GenerationConfig {
        self.generation.resolve_for(options, self.model.config())
    }

    /// One summary per text, in order, generated as one padded batch with the repo's defaults
    /// and `options` on top. With `num_return_sequences` above 1 the best hypothesis is kept.
    /// A text longer than [`Self::max_input_tokens`] is an error, never truncated.
    pub fn summarize(
        &self,
        texts: &[String],
        options: &GenerationOptions,
    ) -> Result<Vec<String>, SummarizeError> {
        self.generate(texts, options)?
            .iter()
            .map(|hypothesis| Ok(self.tokenizer.decode(&hypothesis.tokens)?))
            .collect()
    }

    /// Like [`Self::summarize`] but returns the best hypothesis per text: token ids (after the
    /// decoder start token, `<s>` and `</s>` included), score and stop reason.
    pub fn generate(
        &self,
        texts: &[String],
        options: &GenerationOptions,
    ) -> Result<Vec<Hypothesis>, SummarizeError> {
        let limit = self.max_input_tokens();
        let mut sources = Vec::with_capacity(texts.len());
        for (index, text) in texts.iter().enumerate() {
            let ids = self.tokenizer.encode(text)?;
            if ids.len() > limit {
                return Err(SummarizeError::TooLong {
                    index,
                    tokens: ids.len(),
                    limit,
                });
            }
            sources.push(ids);
        }
        let cfg = self.generation_config(options);
        let outputs = generate_batch(&self.model, &sources, &cfg)?;
        Ok(outputs
            .into_iter()
            .map(|hypotheses| {
                hypotheses
                    .into_iter()
                    .next()
                    .expect("generate returns at least one hypothesis per input; this is a bug")
            })
            .collect())
    }
}
