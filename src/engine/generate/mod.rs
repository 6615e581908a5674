//! Text generation for encoder–decoder models with the semantics of transformers' `generate`.
//!
//! Reference: transformers 5.24 `generation/utils.py` (`_sample` for greedy, `_beam_search`) and
//! `generation/logits_process.py`. Lengths follow transformers: `max_length` and `min_length`
//! count the decoder start token; `max_new_tokens` / `min_new_tokens` do not.
//! The search code only sees a [`StepDecoder`], so it works for any architecture and can be tested
//! with scripted logits.

mod beam;
mod candidates;
mod greedy;
mod processors;
mod softmax;

pub use processors::LogitsProcessors;
pub(crate) use softmax::{exp_negative_in_place, exp_shifted_in_place};
pub use softmax::{log_softmax, log_softmax_at, log_softmax_in_place, log_softmax_shift};

use thiserror::Error;

/// When beam search may stop before `max_length` (transformers' `early_stopping`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EarlyStopping {
    /// Stop when the best running beam, scored at its current length, cannot beat the finished ones.
    #[default]
    Heuristic,
    /// Stop as soon as `num_beams` hypotheses are finished (`early_stopping=True`).
    Eager,
    /// Canonical beam search: stop only when no running beam can possibly improve (`early_stopping="never"`).
    Never,
}

/// Fully resolved generation settings for one call (see `models::generation` for defaults).
#[derive(Debug, Clone, PartialEq)]
pub struct GenerationConfig {
    /// Beam width; 1 means greedy search.
    pub num_beams: usize,
    /// Hypotheses returned per input (at most `num_beams`).
    pub num_return_sequences: usize,
    /// Longest output, counting the decoder start token.
    pub max_length: usize,
    /// Shortest output before EOS is allowed, counting the decoder start token.
    pub min_length: usize,
    /// Exponent of the length normalisation of beam scores.
    pub length_penalty: f32,
    /// Beam-search stopping rule.
    pub early_stopping: EarlyStopping,
    /// Token sequences that must never be generated (Marian bans its pad token).
    pub bad_words_ids: Vec<Vec<u32>>,
    /// Token forced as the first generated token (BART's `forced_bos_token_id`).
    pub forced_bos_token_id: Option<u32>,
    /// Token forced at the last position when `max_length` is reached.
    pub forced_eos_token_id: Option<u32>,
    /// Forbid repeating any n-gram of this size (0 disables).
    pub no_repeat_ngram_size: usize,
    /// Penalty (> 1 discourages) on tokens already generated (1 disables).
    pub repetition_penalty: f32,
    /// Log-softmax the scores again after all other processors (transformers' `renormalize_logits`).
    pub renormalize_logits: bool,
    /// End-of-sequence token.
    pub eos_token_id: u32,
    /// Padding token, used to fill finished greedy rows.
    pub pad_token_id: u32,
    /// First decoder token.
    pub decoder_start_token_id: u32,
}

/// Why `tokens` (generated, after the decoder start) ended: an output that reached `max_length`
/// counts as cut even when it ends with EOS, since that EOS may have been forced.
pub(crate) fn stop_reason(tokens: &[u32], cfg: &GenerationConfig) -> StopReason {
    if tokens.len() + 1 >= cfg.max_length || tokens.last() != Some(&cfg.eos_token_id) {
        StopReason::MaxLength
    } else {
        StopReason::Eos
    }
}

/// Why a hypothesis ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// The model produced end-of-sequence.
    Eos,
    /// The hypothesis reached `max_length` and may be cut (a forced EOS, if configured, is included).
    MaxLength,
}

/// One generated output.
#[derive(Debug, Clone, PartialEq)]
pub struct Hypothesis {
    /// Generated tokens after the decoder start token, including the final EOS if any.
    pub tokens: Vec<u32>,
    /// Beam search: transformers' `sequences_scores`; greedy: mean log-probability of the tokens.
    pub score: f32,
    /// Why generation of this hypothesis stopped.
    pub stop: StopReason,
}

/// Errors raised by the search itself (model errors pass through as [`GenerateError::Model`]).
#[derive(Debug, Error)]
pub enum GenerateError {
    /// The settings are inconsistent.
    #[error("invalid generation settings: {0}")]
    InvalidConfig(String),
    /// The model failed while decoding.
    #[error("model error during generation: {0}")]
    Model(#[from] candle_core::Error),
}

/// The next-token logits of every row of a step, row after row in one buffer (no per-row
/// allocation: a batch-32 beam-4 step of opus-mt is 128 × 59,514 values).
#[derive(Debug, Clone, PartialEq)]
pub struct Logits {
    /// `rows × vocab` values, row-major.
    pub values: Vec<f32>,
    /// Values per row.
    pub vocab: usize,
}

impl Logits {
    /// Rows held.
    pub fn rows(&self) -> usize {
        self.values.len() / self.vocab.max(1)
    }
}

/// One decoding step over a batch of rows, independent of the architecture.
pub trait StepDecoder {
    /// Feeds one token per row and returns each row's next-token logits.
    fn step(&mut self, tokens: &[u32]) -> Result<Logits, GenerateError>;
    /// Reorders the rows' state: new row `i` continues old row `rows[i]` (a row may be named
    /// several times: the rows grow in number).
    fn reorder(&mut self, rows: &[usize]) -> Result<(), GenerateError>;
}

/// Fails unless `logits` holds `rows` non-empty rows (a decoder bug, reported as an error).
fn check_rows(logits: &Logits, rows: usize) -> Result<(), GenerateError> {
    if logits.vocab == 0 || logits.values.len() != rows * logits.vocab {
        return Err(GenerateError::Model(candle_core::Error::Msg(format!(
            "the decoder returned {} logits of width {} for {rows} rows",
            logits.values.len(),
            logits.vocab
        ))));
    }
    Ok(())
}

impl GenerationConfig {
    /// Checks the settings before any work is done.
    pub fn validate(&self) -> Result<(), GenerateError> {
        let fail = |msg: String| Err(GenerateError::InvalidConfig(msg));
        if self.num_beams == 0 {
            return fail("num_beams must be at least 1".into());
        }
        if self.num_return_sequences == 0 || self.num_return_sequences > self.num_beams {
            return fail(format!(
                "num_return_sequences ({}) must be between 1 and num_beams ({})",
                self.num_return_sequences, self.num_beams
            ));
        }
        if self.max_length < 2 {
            return fail(format!(
                "max_length ({}) must leave room for at least one token after the decoder start",
                self.max_length
            ));
        }
        if !(self.repetition_penalty.is_finite() && self.repetition_penalty > 0.0) {
            return fail(format!(
                "repetition_penalty ({}) must be a positive number",
                self.repetition_penalty
            ));
        }
        if !self.length_penalty.is_finite() {
            return fail("length_penalty must be finite".into());
        }
        Ok(())
    }
}

/// Generates `num_return_sequences` hypotheses for each of `batch` inputs whose decoder state is
/// held by `decoder`, one row per input. Beam search decodes its first step on those rows (every
/// beam starts from the same token) and then makes `num_beams` rows of each input with its first
/// [`StepDecoder::reorder`], which therefore may name a row several times.
pub fn generate(
    decoder: &mut dyn StepDecoder,
    batch: usize,
    cfg: &GenerationConfig,
) -> Result<Vec<Vec<Hypothesis>>, GenerateError> {
    cfg.validate()?;
    let processors = LogitsProcessors::new(cfg);
    if cfg.num_beams == 1 {
        greedy::search(decoder, batch, cfg, &processors)
    } else {
        beam::search(decoder, batch, cfg, &processors)
    }
}
