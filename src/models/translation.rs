//! A translation model loaded from its Hub files: architecture, weights, tokenizers and
//! generation defaults, checked for consistency at load time.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use candle_core::{DType, Device};

use super::config::HubModelConfig;
use super::error::LoadError;
use super::generation::{GenerationDefaults, GenerationOptions};
use super::source::{ModelRepo, ModelSource};
use super::tokenizer::{MarianTokenizer, TokenizerFiles};
use super::weights::{CheckedWeights, WEIGHT_FILES};
use crate::engine::{GenerationConfig, Seq2Seq};

/// What was loaded, from where: reported by the CLI and the server.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ModelInfo {
    /// `repo@revision` or the local directory.
    pub source: String,
    /// The weights file that was read.
    pub weights_file: String,
    /// Number of decoder positions (longest input and output in tokens).
    pub max_positions: usize,
    /// Vocabulary size.
    pub vocab_size: usize,
    /// Wall time spent loading.
    #[serde(with = "duration_ms")]
    pub load_time: Duration,
}

mod duration_ms {
    use std::time::Duration;

    pub fn serialize<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(d.as_secs_f64() * 1000.0)
    }
}

/// A Marian translation model ready to run.
pub struct TranslationModel {
    /// The network.
    pub model: Seq2Seq,
    /// Source and target tokenizers.
    pub tokenizer: MarianTokenizer,
    /// Generation defaults from the repo.
    pub generation: GenerationDefaults,
    /// Provenance and sizes.
    pub info: ModelInfo,
}

impl TranslationModel {
    /// Finds the files of `source` (downloading them from the Hub if needed) and loads them on `device`.
    pub fn load(source: &ModelSource, device: &Device) -> Result<Self, LoadError> {
        let started = Instant::now();
        let repo = source.open()?;
        let config_path = repo.get("config.json")?;
        let hub_config = HubModelConfig::from_file(&config_path)?;
        let cfg = hub_config.to_seq2seq(&config_path)?;
        let generation_path = repo.get_optional("generation_config.json")?;
        let generation = GenerationDefaults::from_files(generation_path.as_deref(), &config_path)?;
        let tokenizer = MarianTokenizer::from_files(&TokenizerFiles {
            source_spm: repo.get("source.spm")?,
            target_spm: repo.get("target.spm")?,
            vocab: repo.get("vocab.json")?,
            config: repo.get_optional("tokenizer_config.json")?,
        })?;
        if tokenizer.vocab_size() > cfg.vocab_size {
            return Err(LoadError::InvalidConfig {
                path: config_path,
                message: format!(
                    "vocab.json has {} tokens but the model's vocab_size is {}",
                    tokenizer.vocab_size(),
                    cfg.vocab_size
                ),
            });
        }
        let weights_path = weights_file(&repo)?;
        let weights = CheckedWeights::open(&weights_path)?;
        let vb = weights.var_builder(DType::F32, device);
        let model = Seq2Seq::new(&cfg, vb).map_err(|e| LoadError::Weights {
            path: weights_path.clone(),
            message: e.to_string(),
        })?;
        let info = ModelInfo {
            source: repo.name().to_string(),
            weights_file: weights_path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            max_positions: cfg.max_position_embeddings,
            vocab_size: cfg.vocab_size,
            load_time: started.elapsed(),
        };
        tracing::info!(source = %info.source, weights = %info.weights_file, ms = info.load_time.as_millis() as u64, "model loaded");
        Ok(Self {
            model,
            tokenizer,
            generation,
            info,
        })
    }

    /// The generation settings for one call: the repo's defaults with `options` on top.
    pub fn generation_config(&self, options: &GenerationOptions) -> GenerationConfig {
        let cfg = self.model.config();
        self.generation.resolve(
            options,
            cfg.max_position_embeddings,
            cfg.eos_token_id,
            cfg.pad_token_id,
            cfg.decoder_start_token_id,
        )
    }
}

/// The first weights file the repo has, preferring safetensors.
fn weights_file(repo: &ModelRepo) -> Result<PathBuf, LoadError> {
    for file in WEIGHT_FILES {
        if repo.has(file) {
            return repo.get(file);
        }
    }
    Err(LoadError::MissingFile {
        model: repo.name().to_string(),
        file: WEIGHT_FILES.join("` or `"),
        hint: String::new(),
    })
}
