//! A translation model loaded from its Hub files: architecture, weights, tokenizers and
//! generation defaults, checked for consistency at load time.

use std::time::{Duration, Instant};

use candle_core::Device;

use super::error::LoadError;
use super::generation::{GenerationDefaults, GenerationOptions};
use super::network::Network;
use super::source::ModelSource;
use super::tokenizer::{MarianTokenizer, TokenizerFiles};
use crate::engine::{GenerationConfig, Quantization, Seq2Seq};

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
    /// How the weight matrices are stored (`none` = f32, `int8`).
    pub quantization: Quantization,
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
        Self::load_with(source, device, Quantization::None)
    }

    /// Like [`Self::load`], with the weight matrices stored as `quantization` asks (int8:
    /// quantized once, at load).
    pub fn load_with(
        source: &ModelSource,
        device: &Device,
        quantization: Quantization,
    ) -> Result<Self, LoadError> {
        let started = Instant::now();
        let repo = source.open()?;
        let network = Network::load_quantized(&repo, device, quantization)?;
        let tokenizer = MarianTokenizer::from_files(&TokenizerFiles {
            source_spm: repo.get("source.spm")?,
            target_spm: repo.get("target.spm")?,
            vocab: repo.get("vocab.json")?,
            config: repo.get_optional("tokenizer_config.json")?,
        })?;
        let cfg = network.model.config();
        if tokenizer.vocab_size() > cfg.vocab_size {
            return Err(LoadError::InvalidConfig {
                path: network.config_path.clone(),
                message: format!(
                    "vocab.json has {} tokens but the model's vocab_size is {}",
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
            quantization,
        };
        tracing::info!(source = %info.source, weights = %info.weights_file, ms = info.load_time.as_millis() as u64, "model loaded");
        Ok(Self {
            model: network.model,
            tokenizer,
            generation: network.generation,
            info,
        })
    }

    /// The generation settings for one call: the repo's defaults with `options` on top.
    pub fn generation_config(&self, options: &GenerationOptions) -> GenerationConfig {
        self.generation.resolve_for(options, self.model.config())
    }
}
