//! Sentence embeddings with a sentence-transformers BERT model such as
//! `sentence-transformers/all-MiniLM-L6-v2`: the repo's `tokenizer.json` (truncated to
//! `max_seq_length` from `sentence_bert_config.json`, batches padded to their longest text), BERT
//! from `candle_transformers::models::bert`, mean pooling over the attention mask, then L2
//! normalisation.
//!
//! Reference: sentence-transformers `SentenceTransformer.encode(..., normalize_embeddings=True)`
//! (`models/Transformer.py`, `models/Pooling.py` with `pooling_mode_mean_tokens`,
//! `torch.nn.functional.normalize`); parity is tested against vectors made by
//! `scripts/make_embedding_reference.py`.

use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor, D};
use candle_transformers::models::bert::{BertModel, Config as BertConfig};
use serde::Deserialize;
use thiserror::Error;
use tokenizers::{Encoding, Tokenizer, TruncationParams};

use super::error::LoadError;
use super::json::read_json;
use super::source::ModelSource;
use super::weights::CheckedWeights;

/// Texts encoded in one forward pass; longer inputs are split into batches of this size.
pub const BATCH_SIZE: usize = 32;

/// The pooling configuration file of a sentence-transformers repo.
const POOLING_CONFIG: &str = "1_Pooling/config.json";

/// Why texts could not be embedded.
#[derive(Debug, Error)]
pub enum EmbedError {
    /// The tokenizer rejected a text.
    #[error("tokenizing failed: {0}")]
    Tokenize(String),
    /// A tensor operation failed.
    #[error("embedding model failed: {0}")]
    Model(#[from] candle_core::Error),
}

/// `sentence_bert_config.json`: the sequence length the model was trained with.
#[derive(Debug, Deserialize)]
struct SentenceBertConfig {
    max_seq_length: Option<usize>,
}

/// `1_Pooling/config.json`: which pooling modes are enabled.
#[derive(Debug, Deserialize)]
struct PoolingConfig {
    #[serde(default)]
    pooling_mode_cls_token: bool,
    #[serde(default)]
    pooling_mode_mean_tokens: bool,
    #[serde(default)]
    pooling_mode_max_tokens: bool,
    #[serde(default)]
    pooling_mode_mean_sqrt_len_tokens: bool,
    #[serde(default)]
    pooling_mode_weightedmean_tokens: bool,
    #[serde(default)]
    pooling_mode_lasttoken: bool,
}

impl PoolingConfig {
    /// Checks that mean pooling, and only it, is enabled.
    fn check_mean(&self, path: &Path) -> Result<(), LoadError> {
        let others = [
            ("pooling_mode_cls_token", self.pooling_mode_cls_token),
            ("pooling_mode_max_tokens", self.pooling_mode_max_tokens),
            (
                "pooling_mode_mean_sqrt_len_tokens",
                self.pooling_mode_mean_sqrt_len_tokens,
            ),
            (
                "pooling_mode_weightedmean_tokens",
                self.pooling_mode_weightedmean_tokens,
            ),
            ("pooling_mode_lasttoken", self.pooling_mode_lasttoken),
        ];
        let enabled: Vec<&str> = others
            .iter()
            .filter(|(_, on)| *on)
            .map(|(name, _)| *name)
            .collect();
        if !self.pooling_mode_mean_tokens || !enabled.is_empty() {
            return Err(LoadError::InvalidConfig {
                path: path.to_path_buf(),
                message: format!(
                    "only mean pooling (`pooling_mode_mean_tokens` alone) is supported; this file enables {}",
                    if self.pooling_mode_mean_tokens {
                        format!("mean plus {}", enabled.join(", "))
                    } else if enabled.is_empty() {
                        "no pooling mode".to_string()
                    } else {
                        enabled.join(", ")
                    }
                ),
            });
        }
        Ok(())
    }
}

/// A sentence-transformers BERT model producing unit-length mean-pooled sentence embeddings.
pub struct SentenceEmbedder {
    model: BertModel,
    tokenizer: Tokenizer,
    pad_id: u32,
    device: Device,
    dimension: usize,
    max_seq_length: usize,
}

impl SentenceEmbedder {
    /// Loads `config.json`, `tokenizer.json`, `model.safetensors` and the optional
    /// `sentence_bert_config.json` / `1_Pooling/config.json` of `source` onto `device`.
    pub fn load(source: &ModelSource, device: &Device) -> Result<Self, LoadError> {
        let repo = source.open()?;
        let config_path = repo.get("config.json")?;
        let config: BertConfig = read_json(&config_path)?;
        let tokenizer_path = repo.get("tokenizer.json")?;
        let weights_path = repo.get("model.safetensors")?;

        if let Some(path) = repo.get_optional(POOLING_CONFIG)? {
            read_json::<PoolingConfig>(&path)?.check_mean(&path)?;
        }
        let max_seq_length = match repo.get_optional("sentence_bert_config.json")? {
            Some(path) => read_json::<SentenceBertConfig>(&path)?.max_seq_length,
            None => None,
        }
        .unwrap_or(config.max_position_embeddings)
        .min(config.max_position_embeddings);
        if max_seq_length < 2 {
            return Err(LoadError::InvalidConfig {
                path: config_path,
                message: format!(
                    "max_seq_length {max_seq_length} leaves no room for [CLS] and [SEP]"
                ),
            });
        }

        let (tokenizer, pad_id) = load_tokenizer(&tokenizer_path, max_seq_length)?;
        let vb = CheckedWeights::open(&weights_path)?.var_builder(DType::F32, device);
        let model = BertModel::load(vb, &config).map_err(|e| LoadError::Weights {
            path: weights_path.clone(),
            message: e.to_string(),
        })?;
        Ok(Self {
            model,
            tokenizer,
            pad_id,
            device: device.clone(),
            dimension: config.hidden_size,
            max_seq_length,
        })
    }

    /// The length of each embedding (384 for all-MiniLM-L6-v2).
    pub fn dimension(&self) -> usize {
        self.dimension
    }

    /// The token limit per text (special tokens included); longer texts are truncated.
    pub fn max_seq_length(&self) -> usize {
        self.max_seq_length
    }

    /// Embeds `texts`; each vector has unit L2 norm. No texts, no vectors.
    ///
    /// Like sentence-transformers, texts are sorted by token count and run [`BATCH_SIZE`] at a
    /// time, each batch padded to its longest text, so one long text does not pad all others.
    pub fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let encodings = self
            .tokenizer
            .encode_batch(texts.to_vec(), true)
            .map_err(|e| EmbedError::Tokenize(e.to_string()))?;
        let mut order: Vec<usize> = (0..encodings.len()).collect();
        order.sort_by_key(|&i| std::cmp::Reverse(encodings[i].get_ids().len()));
        let mut out = vec![Vec::new(); encodings.len()];
        for batch in order.chunks(BATCH_SIZE) {
            let rows: Vec<&Encoding> = batch.iter().map(|&i| &encodings[i]).collect();
            for (&i, vector) in batch.iter().zip(self.embed_batch(&rows)?) {
                out[i] = vector;
            }
        }
        Ok(out)
    }

    /// One forward pass over `encodings`, padded to the longest.
    fn embed_batch(&self, encodings: &[&Encoding]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let rows = encodings.len();
        let len = encodings
            .iter()
            .map(|e| e.get_ids().len())
            .max()
            .unwrap_or(0);
        let mut ids = vec![self.pad_id; rows * len];
        let mut type_ids = vec![0u32; rows * len];
        let mut mask = vec![0u32; rows * len];
        for (row, encoding) in encodings.iter().enumerate() {
            let n = encoding.get_ids().len();
            let start = row * len;
            ids[start..start + n].copy_from_slice(encoding.get_ids());
            type_ids[start..start + n].copy_from_slice(encoding.get_type_ids());
            mask[start..start + n].copy_from_slice(encoding.get_attention_mask());
        }
        let ids = Tensor::from_vec(ids, (rows, len), &self.device)?;
        let type_ids = Tensor::from_vec(type_ids, (rows, len), &self.device)?;
        let mask = Tensor::from_vec(mask, (rows, len), &self.device)?;

        let hidden = self.model.forward(&ids, &type_ids, Some(&mask))?;
        // Mean pooling over real tokens: sum(h * m) / max(sum(m), 1e-9), as sentence-transformers.
        let mask = mask.to_dtype(DType::F32)?.unsqueeze(D::Minus1)?;
        let summed = hidden.broadcast_mul(&mask)?.sum(1)?;
        let counts = mask.sum(1)?.clamp(1e-9f32, f32::MAX)?;
        let pooled = summed.broadcast_div(&counts)?;
        // L2 normalisation with torch's `F.normalize` epsilon.
        let norms = pooled
            .sqr()?
            .sum_keepdim(1)?
            .sqrt()?
            .clamp(1e-12f32, f32::MAX)?;
        let normalized = pooled.broadcast_div(&norms)?;
        Ok(normalized.to_vec2::<f32>()?)
    }
}

/// Reads `tokenizer.json`, sets its truncation to `max_seq_length` and turns its padding off
/// (the file may carry other settings, e.g. a fixed 128; [`SentenceEmbedder`] pads each batch
/// itself). Returns the tokenizer and the padding token id.
fn load_tokenizer(path: &Path, max_seq_length: usize) -> Result<(Tokenizer, u32), LoadError> {
    let invalid = |message: String| LoadError::InvalidConfig {
        path: PathBuf::from(path),
        message,
    };
    let mut tokenizer =
        Tokenizer::from_file(path).map_err(|e| invalid(format!("not a valid tokenizer: {e}")))?;
    let pad_id = match tokenizer.get_padding() {
        Some(padding) => padding.pad_id,
        None => {
            let pad_token = "[PAD]";
            tokenizer
                .token_to_id(pad_token)
                .ok_or_else(|| invalid(format!("no padding settings and no `{pad_token}` token")))?
        }
    };
    tokenizer.with_padding(None);
    tokenizer
        .with_truncation(Some(TruncationParams {
            max_length: max_seq_length,
            ..TruncationParams::default()
        }))
        .map_err(|e| invalid(format!("cannot truncate to {max_seq_length} tokens: {e}")))?;
    Ok((tokenizer, pad_id))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pooling(json: &str) -> PoolingConfig {
        serde_json::from_str(json).expect("valid pooling json")
    }

    #[test]
    fn accepts_mean_pooling_only() {
        let path = Path::new("1_Pooling/config.json");
        let mean =
            pooling(r#"{"word_embedding_dimension": 384, "pooling_mode_mean_tokens": true}"#);
        assert!(mean.check_mean(path).is_ok());
        let cls = pooling(r#"{"pooling_mode_cls_token": true, "pooling_mode_mean_tokens": false}"#);
        let err = cls.check_mean(path).expect_err("cls pooling");
        assert!(err.to_string().contains("pooling_mode_cls_token"), "{err}");
        assert!(err.to_string().contains("1_Pooling/config.json"), "{err}");
        let both =
            pooling(r#"{"pooling_mode_max_tokens": true, "pooling_mode_mean_tokens": true}"#);
        assert!(both.check_mean(path).is_err());
    }

    #[test]
    fn malformed_config_is_named() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("config.json"), "{}").expect("write");
        let err = SentenceEmbedder::load(&ModelSource::Local(dir.path().into()), &Device::Cpu)
            .err()
            .expect("config.json is not a BERT config");
        assert!(err.to_string().contains("config.json"), "{err}");
    }
}
