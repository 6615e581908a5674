//! `config.json` of Marian and BART repos, mirrored with serde and turned into the engine's
//! [`Seq2SeqConfig`]. Field names and defaults follow transformers' `MarianConfig` and
//! `BartConfig`; legacy fields of older opus-mt configs (`static_position_embeddings`,
//! `normalize_before`, `normalize_embedding`) are honoured. The two families differ only in the
//! switches set here: the engine has no BART-specific code.

use std::path::Path;

use serde::Deserialize;

use super::error::LoadError;
use super::json::read_json;
use crate::engine::{Activation, NormPlacement, PositionEmbedding, Seq2SeqConfig};

fn default_true() -> bool {
    true
}
fn default_activation() -> String {
    "gelu".into()
}
fn default_layer_norm_eps() -> f64 {
    1e-5
}

/// The architecture fields of a Hub `config.json` for encoder–decoder translation models.
#[derive(Debug, Clone, Deserialize)]
pub struct HubModelConfig {
    /// `marian` (supported) or another transformers model type.
    #[serde(default)]
    pub model_type: Option<String>,
    /// Vocabulary size of the embeddings and output layer.
    pub vocab_size: usize,
    /// Separate target vocabulary size (only for unshared Marian vocabularies).
    #[serde(default)]
    pub decoder_vocab_size: Option<usize>,
    /// Whether encoder and decoder share one embedding matrix.
    #[serde(default = "default_true")]
    pub share_encoder_decoder_embeddings: bool,
    /// Hidden size.
    pub d_model: usize,
    /// Encoder depth.
    pub encoder_layers: usize,
    /// Decoder depth.
    pub decoder_layers: usize,
    /// Encoder heads.
    pub encoder_attention_heads: usize,
    /// Decoder heads.
    pub decoder_attention_heads: usize,
    /// Encoder feed-forward size.
    pub encoder_ffn_dim: usize,
    /// Decoder feed-forward size.
    pub decoder_ffn_dim: usize,
    /// transformers activation name.
    #[serde(default = "default_activation")]
    pub activation_function: String,
    /// Number of positions.
    pub max_position_embeddings: usize,
    /// Scale embeddings by √d_model.
    #[serde(default)]
    pub scale_embedding: bool,
    /// Legacy Marian flag: sinusoidal positions (always true for Marian).
    #[serde(default)]
    pub static_position_embeddings: Option<bool>,
    /// Legacy flag: pre-norm layers.
    #[serde(default)]
    pub normalize_before: Option<bool>,
    /// Legacy flag: layer norm on embeddings.
    #[serde(default)]
    pub normalize_embedding: Option<bool>,
    /// Layer-norm epsilon.
    #[serde(default = "default_layer_norm_eps")]
    pub layer_norm_eps: f64,
    /// Padding id (also Marian's decoder start).
    pub pad_token_id: u32,
    /// End-of-sequence id.
    pub eos_token_id: u32,
    /// First decoder token; defaults to the pad token as in Marian.
    #[serde(default)]
    pub decoder_start_token_id: Option<u32>,
}

impl HubModelConfig {
    /// Reads and parses `config.json`.
    pub fn from_file(path: &Path) -> Result<Self, LoadError> {
        read_json(path)
    }

    /// Converts to the engine's architecture description, rejecting what we cannot run.
    pub fn to_seq2seq(&self, path: &Path) -> Result<Seq2SeqConfig, LoadError> {
        let invalid = |message: String| LoadError::InvalidConfig {
            path: path.to_path_buf(),
            message,
        };
        let model_type = self.model_type.as_deref().unwrap_or("marian");
        let is_bart = match model_type {
            "marian" => false,
            "bart" => true,
            other => {
                return Err(invalid(format!(
                    "model_type `{other}` is not supported (supported: marian, bart)"
                )))
            }
        };
        if !self.share_encoder_decoder_embeddings
            || self
                .decoder_vocab_size
                .is_some_and(|size| size != self.vocab_size)
        {
            return Err(invalid(
                "separate source and target vocabularies (share_encoder_decoder_embeddings=false) are not supported".into(),
            ));
        }
        let activation = Activation::from_hf_name(&self.activation_function).ok_or_else(|| {
            invalid(format!(
                "activation_function `{}` is not supported (swish, silu, relu, gelu, gelu_new)",
                self.activation_function
            ))
        })?;
        for (name, heads) in [
            ("encoder_attention_heads", self.encoder_attention_heads),
            ("decoder_attention_heads", self.decoder_attention_heads),
        ] {
            if heads == 0 || self.d_model % heads != 0 {
                return Err(invalid(format!(
                    "d_model ({}) is not divisible by {name} ({heads})",
                    self.d_model
                )));
            }
        }
        if self.vocab_size == 0 || self.d_model == 0 || self.max_position_embeddings == 0 {
            return Err(invalid(
                "vocab_size, d_model and max_position_embeddings must be positive".into(),
            ));
        }
        let decoder_start_token_id = self.decoder_start_token_id.unwrap_or(self.pad_token_id);
        for (name, id) in [
            ("pad_token_id", self.pad_token_id),
            ("eos_token_id", self.eos_token_id),
            ("decoder_start_token_id", decoder_start_token_id),
        ] {
            if id as usize >= self.vocab_size {
                return Err(invalid(format!(
                    "{name} ({id}) is outside the vocabulary (vocab_size {})",
                    self.vocab_size
                )));
            }
        }
        if !is_bart && self.static_position_embeddings == Some(false) {
            return Err(invalid(
                "learned position embeddings are not supported for Marian (static_position_embeddings=false)".into(),
            ));
        }
        Ok(Seq2SeqConfig {
            vocab_size: self.vocab_size,
            d_model: self.d_model,
            encoder_layers: self.encoder_layers,
            decoder_layers: self.decoder_layers,
            encoder_attention_heads: self.encoder_attention_heads,
            decoder_attention_heads: self.decoder_attention_heads,
            encoder_ffn_dim: self.encoder_ffn_dim,
            decoder_ffn_dim: self.decoder_ffn_dim,
            activation,
            max_position_embeddings: self.max_position_embeddings,
            scale_embedding: self.scale_embedding,
            // BART: learned positions whose table starts 2 rows in, and a layer norm on the
            // embeddings (`layernorm_embedding`); Marian: fixed sinusoids, no embedding norm.
            position_embedding: if is_bart {
                PositionEmbedding::Learned { offset: 2 }
            } else {
                PositionEmbedding::Sinusoidal
            },
            layernorm_embedding: is_bart || self.normalize_embedding.unwrap_or(false),
            norm_placement: if !is_bart && self.normalize_before.unwrap_or(false) {
                NormPlacement::Pre
            } else {
                NormPlacement::Post
            },
            layer_norm_eps: self.layer_norm_eps,
            pad_token_id: self.pad_token_id,
            eos_token_id: self.eos_token_id,
            decoder_start_token_id,
        })
    }
}
