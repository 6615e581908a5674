//! Generation defaults from a repo's `generation_config.json` (or, lacking it, `config.json`),
//! and per-call overrides, resolved into the engine's [`GenerationConfig`] the way transformers'
//! `generate` resolves them (`_prepare_generated_length`).

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::error::LoadError;
use super::json::read_json;
use crate::engine::{EarlyStopping, GenerationConfig, Seq2SeqConfig};

/// transformers' `early_stopping`: a bool or the string "never".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(untagged)]
pub enum EarlyStoppingSetting {
    /// `true` / `false`.
    Flag(bool),
    /// `"never"`.
    Word(NeverWord),
}

/// The only word transformers accepts for `early_stopping`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum NeverWord {
    /// Canonical beam search.
    Never,
}

impl From<EarlyStoppingSetting> for EarlyStopping {
    fn from(setting: EarlyStoppingSetting) -> Self {
        match setting {
            EarlyStoppingSetting::Flag(true) => EarlyStopping::Eager,
            EarlyStoppingSetting::Flag(false) => EarlyStopping::Heuristic,
            EarlyStoppingSetting::Word(NeverWord::Never) => EarlyStopping::Never,
        }
    }
}

/// A token id or a list of them (transformers allows both for `eos_token_id`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    /// A single id.
    One(u32),
    /// Several ids; the first is used.
    Many(Vec<u32>),
}

impl OneOrMany {
    fn first(&self) -> Option<u32> {
        match self {
            Self::One(id) => Some(*id),
            Self::Many(ids) => ids.first().copied(),
        }
    }
}

/// Generation settings as stored in a repo; absent fields fall back to transformers' defaults.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct GenerationDefaults {
    /// Beam width.
    pub num_beams: Option<usize>,
    /// Total length including the decoder start token.
    pub max_length: Option<usize>,
    /// New tokens (wins over `max_length`).
    pub max_new_tokens: Option<usize>,
    /// Minimum total length.
    pub min_length: Option<usize>,
    /// Minimum new tokens (wins over `min_length`).
    pub min_new_tokens: Option<usize>,
    /// Beam length normalisation exponent.
    pub length_penalty: Option<f32>,
    /// Beam stopping rule.
    pub early_stopping: Option<EarlyStoppingSetting>,
    /// Banned token sequences.
    pub bad_words_ids: Option<Vec<Vec<u32>>>,
    /// Token forced as the first generated token.
    pub forced_bos_token_id: Option<u32>,
    /// Token forced at `max_length`.
    pub forced_eos_token_id: Option<OneOrMany>,
    /// No-repeat n-gram size.
    pub no_repeat_ngram_size: Option<usize>,
    /// Repetition penalty.
    pub repetition_penalty: Option<f32>,
    /// Outputs per input.
    pub num_return_sequences: Option<usize>,
    /// Log-softmax scores again after the processors.
    pub renormalize_logits: Option<bool>,
    /// End-of-sequence id(s).
    pub eos_token_id: Option<OneOrMany>,
    /// Pad id.
    pub pad_token_id: Option<u32>,
    /// Decoder start id.
    pub decoder_start_token_id: Option<u32>,
}

impl GenerationDefaults {
    /// Reads `generation_config.json`, or the generation fields of `config.json` when the repo has none
    /// (transformers derives its generation config from `config.json` in that case).
    pub fn from_files(generation_config: Option<&Path>, config: &Path) -> Result<Self, LoadError> {
        read_json(generation_config.unwrap_or(config))
    }

    /// Like [`GenerationDefaults::from_files`], for a model used for `task` (e.g.
    /// `"summarization"`): when the repo has no `generation_config.json`, the entries of
    /// `config.json`'s `task_specific_params.<task>` override its top-level keys.
    ///
    /// This is what transformers' pipelines did before v5 (`pipeline("summarization")` updated
    /// the model config with `task_specific_params["summarization"]`); transformers 5.24's
    /// `generate` reads only the top-level keys. It matters for repos such as
    /// `sshleifer/distilbart-cnn-12-6`, whose beam search settings (`num_beams` 4,
    /// `length_penalty` 2, `max_length` 142, `min_length` 56, `no_repeat_ngram_size` 3,
    /// `early_stopping`) exist only there. A `generation_config.json` wins entirely, as in
    /// transformers.
    pub fn from_files_for_task(
        generation_config: Option<&Path>,
        config: &Path,
        task: &str,
    ) -> Result<Self, LoadError> {
        if let Some(path) = generation_config {
            return read_json(path);
        }
        let invalid = |message: String| LoadError::InvalidJson {
            path: config.to_path_buf(),
            message,
        };
        let mut value: serde_json::Value = read_json(config)?;
        let top = value
            .as_object_mut()
            .ok_or_else(|| invalid("expected a JSON object".into()))?;
        let task_params = top
            .get("task_specific_params")
            .and_then(|params| params.get(task))
            .cloned();
        match task_params {
            Some(serde_json::Value::Object(params)) => top.extend(params),
            Some(serde_json::Value::Null) | None => {}
            Some(_) => {
                return Err(invalid(format!(
                    "task_specific_params.{task} is not an object"
                )))
            }
        }
        serde_json::from_value(value).map_err(|e| invalid(e.to_string()))
    }
}

/// Per-call overrides; every field is optional and wins over the model's defaults.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct GenerationOptions {
    /// Beam width (1 = greedy).
    #[serde(default, alias = "num_beams")]
    pub beams: Option<usize>,
    /// Maximum number of generated tokens.
    #[serde(default)]
    pub max_new_tokens: Option<usize>,
    /// Maximum total length including the decoder start token.
    #[serde(default)]
    pub max_length: Option<usize>,
    /// Minimum number of generated tokens before EOS.
    #[serde(default)]
    pub min_new_tokens: Option<usize>,
    /// Minimum total length including the decoder start token.
    #[serde(default)]
    pub min_length: Option<usize>,
    /// Beam length normalisation exponent.
    #[serde(default)]
    pub length_penalty: Option<f32>,
    /// Beam stopping rule: true, false or "never".
    #[serde(default)]
    pub early_stopping: Option<EarlyStoppingSetting>,
    /// No-repeat n-gram size.
    #[serde(default)]
    pub no_repeat_ngram_size: Option<usize>,
    /// Repetition penalty.
    #[serde(default)]
    pub repetition_penalty: Option<f32>,
    /// Outputs per input.
    #[serde(default)]
    pub num_return_sequences: Option<usize>,
}

/// transformers' `GenerationConfig` default for `max_length` when nothing sets it.
const TRANSFORMERS_DEFAULT_MAX_LENGTH: usize = 20;

impl GenerationDefaults {
    /// Resolves defaults + overrides for `model`, taking its positions and special tokens.
    pub fn resolve_for(
        &self,
        options: &GenerationOptions,
        model: &Seq2SeqConfig,
    ) -> GenerationConfig {
        self.resolve(
            options,
            model.max_position_embeddings,
            model.eos_token_id,
            model.pad_token_id,
            model.decoder_start_token_id,
        )
    }

    /// Resolves defaults + overrides into a complete configuration for a model with
    /// `max_positions` decoder positions and the given special tokens.
    pub fn resolve(
        &self,
        options: &GenerationOptions,
        max_positions: usize,
        eos_token_id: u32,
        pad_token_id: u32,
        decoder_start_token_id: u32,
    ) -> GenerationConfig {
        let prompt = 1; // the decoder start token
        let max_length = if let Some(new) = options.max_new_tokens {
            new + prompt
        } else if let Some(total) = options.max_length {
            total
        } else if let Some(new) = self.max_new_tokens {
            new + prompt
        } else if let Some(total) = self.max_length {
            total
        } else {
            (TRANSFORMERS_DEFAULT_MAX_LENGTH + prompt).min(max_positions)
        };
        let min_length = if let Some(new) = options.min_new_tokens {
            new + prompt
        } else if let Some(total) = options.min_length {
            total
        } else if let Some(new) = self.min_new_tokens {
            new + prompt
        } else {
            self.min_length.unwrap_or(0)
        };
        let eos = self
            .eos_token_id
            .as_ref()
            .and_then(OneOrMany::first)
            .unwrap_or(eos_token_id);
        GenerationConfig {
            num_beams: options.beams.or(self.num_beams).unwrap_or(1),
            num_return_sequences: options
                .num_return_sequences
                .or(self.num_return_sequences)
                .unwrap_or(1),
            // The decoder cannot look past its position table.
            max_length: max_length.min(max_positions),
            min_length,
            length_penalty: options
                .length_penalty
                .or(self.length_penalty)
                .unwrap_or(1.0),
            early_stopping: options
                .early_stopping
                .or(self.early_stopping)
                .map(EarlyStopping::from)
                .unwrap_or_default(),
            bad_words_ids: self.bad_words_ids.clone().unwrap_or_default(),
            forced_bos_token_id: self.forced_bos_token_id,
            forced_eos_token_id: self.forced_eos_token_id.as_ref().and_then(OneOrMany::first),
            no_repeat_ngram_size: options
                .no_repeat_ngram_size
                .or(self.no_repeat_ngram_size)
                .unwrap_or(0),
            repetition_penalty: options
                .repetition_penalty
                .or(self.repetition_penalty)
                .unwrap_or(1.0),
            renormalize_logits: self.renormalize_logits.unwrap_or(false),
            eos_token_id: eos,
            pad_token_id: self.pad_token_id.unwrap_or(pad_token_id),
            decoder_start_token_id: self
                .decoder_start_token_id
                .unwrap_or(decoder_start_token_id),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opus_defaults() -> GenerationDefaults {
        serde_json::from_str(
            r#"{"bad_words_ids": [[58100]], "decoder_start_token_id": 58100, "eos_token_id": 0,
                "forced_eos_token_id": 0, "max_length": 512, "num_beams": 4, "pad_token_id": 58100}"#,
        )
        .expect("valid json")
    }

    #[test]
    fn opus_mt_defaults_resolve_like_transformers() {
        let cfg = opus_defaults().resolve(&GenerationOptions::default(), 512, 0, 58100, 58100);
        assert_eq!(cfg.num_beams, 4);
        assert_eq!(cfg.max_length, 512);
        assert_eq!(cfg.bad_words_ids, vec![vec![58100]]);
        assert_eq!(cfg.forced_eos_token_id, Some(0));
        assert_eq!(cfg.early_stopping, EarlyStopping::Heuristic);
    }

    #[test]
    fn overrides_win_and_new_token_counts_exclude_the_start_token() {
        let options: GenerationOptions = serde_json::from_str(
            r#"{"beams": 1, "max_new_tokens": 30, "min_new_tokens": 5, "early_stopping": "never"}"#,
        )
        .expect("valid json");
        let cfg = opus_defaults().resolve(&options, 512, 0, 58100, 58100);
        assert_eq!((cfg.num_beams, cfg.max_length, cfg.min_length), (1, 31, 6));
        assert_eq!(cfg.early_stopping, EarlyStopping::Never);
    }

    #[test]
    fn without_any_max_length_uses_twenty_new_tokens_capped_by_positions() {
        let cfg = GenerationDefaults::default().resolve(&GenerationOptions::default(), 16, 0, 1, 1);
        assert_eq!(cfg.max_length, 16);
        let cfg =
            GenerationDefaults::default().resolve(&GenerationOptions::default(), 512, 0, 1, 1);
        assert_eq!(cfg.max_length, 21);
    }

    fn config_file(json: &str) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("config.json");
        std::fs::write(&path, json).expect("write");
        (dir, path)
    }

    #[test]
    fn task_specific_params_override_config_keys_only_for_their_task() {
        let (_dir, config) = config_file(
            r#"{"num_beams": 1, "max_length": 20, "forced_eos_token_id": 2,
                "task_specific_params": {"summarization": {"num_beams": 4, "length_penalty": 2.0,
                "max_length": 142, "min_length": 56, "no_repeat_ngram_size": 3, "early_stopping": true}}}"#,
        );
        let task =
            GenerationDefaults::from_files_for_task(None, &config, "summarization").expect("reads");
        assert_eq!(
            (task.num_beams, task.max_length, task.min_length),
            (Some(4), Some(142), Some(56))
        );
        assert_eq!(task.early_stopping, Some(EarlyStoppingSetting::Flag(true)));
        assert_eq!(task.forced_eos_token_id, Some(OneOrMany::One(2)));
        let plain = GenerationDefaults::from_files(None, &config).expect("reads");
        assert_eq!(
            (plain.num_beams, plain.max_length, plain.min_length),
            (Some(1), Some(20), None)
        );
        let other = GenerationDefaults::from_files_for_task(None, &config, "translation_en_to_de")
            .expect("reads");
        assert_eq!(other.num_beams, Some(1));
    }

    #[test]
    fn generation_config_json_wins_over_task_specific_params() {
        let (dir, config) =
            config_file(r#"{"task_specific_params": {"summarization": {"num_beams": 4}}}"#);
        let generation = dir.path().join("generation_config.json");
        std::fs::write(&generation, r#"{"num_beams": 2}"#).expect("write");
        let defaults =
            GenerationDefaults::from_files_for_task(Some(&generation), &config, "summarization")
                .expect("reads");
        assert_eq!(defaults.num_beams, Some(2));
    }

    #[test]
    fn malformed_task_specific_params_are_reported() {
        let (_dir, config) = config_file(r#"{"task_specific_params": {"summarization": 3}}"#);
        let err = GenerationDefaults::from_files_for_task(None, &config, "summarization")
            .expect_err("not an object");
        assert!(
            err.to_string()
                .contains("task_specific_params.summarization"),
            "{err}"
        );
    }

    #[test]
    fn unknown_option_fields_are_rejected() {
        let parsed: Result<GenerationOptions, _> = serde_json::from_str(r#"{"beam": 3}"#);
        assert!(parsed.is_err());
    }
}
