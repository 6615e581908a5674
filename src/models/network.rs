//! The network part of an encoder–decoder repo: `config.json`, `generation_config.json` and the
//! weights, loaded into the engine's [`Seq2Seq`]. Tokenizers are the caller's business (Marian
//! repos ship SentencePiece files, BART repos a byte-level BPE), so translation and
//! summarization share this.

use std::path::PathBuf;

use candle_core::{DType, Device};

use super::config::HubModelConfig;
use super::error::LoadError;
use super::generation::{GenerationDefaults, GenerationOptions};
use super::source::ModelRepo;
use super::weights::{CheckedWeights, WEIGHT_FILES};
use crate::engine::{GenerationConfig, Quantization, Seq2Seq};

/// A loaded encoder–decoder network with its generation defaults.
pub struct Network {
    /// The model.
    pub model: Seq2Seq,
    /// Generation defaults from the repo.
    pub generation: GenerationDefaults,
    /// `config.json` that described it.
    pub config_path: PathBuf,
    /// The weights file that was read.
    pub weights_path: PathBuf,
}

impl Network {
    /// Reads config, generation defaults and weights of `repo` onto `device`.
    pub fn load(repo: &ModelRepo, device: &Device) -> Result<Self, LoadError> {
        Self::load_with(repo, device, None, Quantization::None)
    }

    /// Like [`Network::load`], with the weight matrices stored as `quantization` asks; each layer
    /// is quantized as soon as it is read (see [`Seq2Seq::new_quantized`]).
    pub fn load_quantized(
        repo: &ModelRepo,
        device: &Device,
        quantization: Quantization,
    ) -> Result<Self, LoadError> {
        Self::load_with(repo, device, None, quantization)
    }

    /// Like [`Network::load`] for a model used for `task`: without `generation_config.json`,
    /// `config.json`'s `task_specific_params.<task>` supply the generation defaults (see
    /// [`GenerationDefaults::from_files_for_task`]).
    pub fn load_for_task(repo: &ModelRepo, device: &Device, task: &str) -> Result<Self, LoadError> {
        Self::load_with(repo, device, Some(task), Quantization::None)
    }

    fn load_with(
        repo: &ModelRepo,
        device: &Device,
        task: Option<&str>,
        quantization: Quantization,
    ) -> Result<Self, LoadError> {
        let config_path = repo.get("config.json")?;
        let cfg = HubModelConfig::from_file(&config_path)?.to_seq2seq(&config_path)?;
        let generation_path = repo.get_optional("generation_config.json")?;
        let generation = match task {
            Some(task) => GenerationDefaults::from_files_for_task(
                generation_path.as_deref(),
                &config_path,
                task,
            )?,
            None => GenerationDefaults::from_files(generation_path.as_deref(), &config_path)?,
        };
        let weights_path = weights_file(repo)?;
        let vb = CheckedWeights::open(&weights_path)?.var_builder(DType::F32, device);
        let model =
            Seq2Seq::new_quantized(&cfg, vb, quantization).map_err(|e| LoadError::Weights {
                path: weights_path.clone(),
                message: e.to_string(),
            })?;
        Ok(Self {
            model,
            generation,
            config_path,
            weights_path,
        })
    }

    /// The generation settings for one call: the repo's defaults with `options` on top.
    pub fn generation_config(&self, options: &GenerationOptions) -> GenerationConfig {
        self.generation.resolve_for(options, self.model.config())
    }
}

/// The first weights file the repo has, preferring safetensors.
pub(super) fn weights_file(repo: &ModelRepo) -> Result<PathBuf, LoadError> {
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
