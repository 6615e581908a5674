//! The supervised event classifier: a small network over a sentence's features
//! ([`super::features`]) giving, for each PLOVER type, the calibrated probability that the
//! sentence states an event of that type (multi-label; a sentence whose every type is below the
//! threshold states no event), and per type a softmax over its PLOVER modes.
//!
//! Its weights live in `models/event_head.json`, written by `scripts/events/train_head.sh` from
//! the labelled set in `tests/data/events/`; the file names the embedding model it was trained
//! for, and loading with another model is refused rather than silently giving noise.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use thiserror::Error;

use super::features::{ngram_buckets, CueLexicon, SentenceFeatures};

/// The committed head, compiled into the binary.
const BUILTIN_HEAD: &str = include_str!("../../../models/event_head.json");

/// One dense layer, row-major `rows × cols` (inputs × outputs).
#[derive(Debug, Clone, Deserialize)]
struct Layer {
    rows: usize,
    cols: usize,
    weight: Vec<f32>,
    bias: Vec<f32>,
}

/// A type's mode classifier: labels (`none` first when present) and its layers.
#[derive(Debug, Clone, Deserialize)]
struct ModeHead {
    labels: Vec<String>,
    layers: Vec<Layer>,
}

/// What the training recorded about itself.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
pub struct TrainingInfo {
    /// The script that made the file.
    pub script: String,
    /// The data it was trained on.
    pub data: String,
    /// Training sentences.
    pub sentences: usize,
    /// Cross-validated micro-F1 on the training split.
    pub cross_validated_micro_f1: f32,
}

/// The file `models/event_head.json`.
#[derive(Debug, Clone, Deserialize)]
struct HeadFile {
    format: u32,
    embedding_model: String,
    embedding_dim: usize,
    hash_buckets: usize,
    bow_weight: f32,
    cue_weight: f32,
    cues: CueLexicon,
    types: Vec<String>,
    layers: Vec<Layer>,
    temperature: f32,
    threshold: f32,
    article_threshold: f32,
    event_threshold: f32,
    single_event_threshold: f32,
    modes: BTreeMap<String, ModeHead>,
    training: TrainingInfo,
}

/// Why a head could not be loaded.
#[derive(Debug, Error)]
pub enum HeadError {
    /// The file is unreadable.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The failure.
        source: std::io::Error,
    },
    /// The file is not a head.
    #[error("{path} is not an event head: {reason}")]
    Invalid {
        /// The file.
        path: String,
        /// What is wrong.
        reason: String,
    },
}

/// The loaded classifier.
#[derive(Debug, Clone)]
pub struct EventHead {
    file: HeadFile,
}

/// One type's probability for a sentence.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TypeScore {
    /// Index into [`EventHead::types`].
    pub type_index: usize,
    /// Calibrated probability.
    pub probability: f32,
}

impl Layer {
    fn check(&self, rows: usize) -> Result<(), String> {
        if self.rows != rows {
            return Err(format!("a layer takes {} inputs, not {rows}", self.rows));
        }
        if self.weight.len() != self.rows * self.cols || self.bias.len() != self.cols {
            return Err("a layer's weights do not match its shape".into());
        }
        Ok(())
    }

    /// `input · W + b` with a dense input.
    fn forward(&self, input: &[f32]) -> Vec<f32> {
        let mut out = self.bias.clone();
        for (r, &x) in input.iter().enumerate() {
            if x != 0.0 {
                let row = &self.weight[r * self.cols..(r + 1) * self.cols];
                out.iter_mut().zip(row).for_each(|(o, w)| *o += x * w);
            }
        }
        out
    }
}

/// Runs `layers` with ReLU between them.
fn run_layers(layers: &[Layer], input: Vec<f32>) -> Vec<f32> {
    let mut values = input;
    for (i, layer) in layers.iter().enumerate() {
        values = layer.forward(&values);
        if i + 1 < layers.len() {
            values.iter_mut().for_each(|v| *v = v.max(0.0));
        }
    }
    values
}

fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

impl EventHead {
    /// The committed head (trained for all-MiniLM-L6-v2).
    pub fn builtin() -> Self {
        Self::parse(BUILTIN_HEAD, "models/event_head.json")
            .expect("models/event_head.json is valid: a unit test checks it; this is a bug")
    }

    /// Reads a head file.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, HeadError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| HeadError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Self::parse(&text, &path.display().to_string())
    }

    fn parse(text: &str, path: &str) -> Result<Self, HeadError> {
        let invalid = |reason: String| HeadError::Invalid {
            path: path.to_string(),
            reason,
        };
        let file: HeadFile = serde_json::from_str(text).map_err(|e| invalid(e.to_string()))?;
        if file.format != 1 {
            return Err(invalid(format!(
                "format {} (this build reads 1)",
                file.format
            )));
        }
        let mut inputs = file.embedding_dim + file.hash_buckets + file.types.len();
        for layer in &file.layers {
            layer.check(inputs).map_err(invalid)?;
            inputs = layer.cols;
        }
        if inputs != file.types.len() || file.types.is_empty() {
            return Err(invalid(
                "the last layer does not give one output per type".into(),
            ));
        }
        for (name, head) in &file.modes {
            if !file.types.contains(name) {
                return Err(invalid(format!("modes for unknown type {name}")));
            }
            let mut inputs = file.embedding_dim;
            for layer in &head.layers {
                layer.check(inputs).map_err(invalid)?;
                inputs = layer.cols;
            }
            if inputs != head.labels.len() {
                return Err(invalid(format!("{name}'s modes do not match their layer")));
            }
        }
        if !(file.temperature > 0.0
            && file.threshold > 0.0
            && file.threshold <= file.article_threshold
            && file.article_threshold < 1.0
            && file.event_threshold > 0.0
            && file.event_threshold < 1.0
            && file.single_event_threshold > 0.0
            && file.single_event_threshold <= 1.0)
        {
            return Err(invalid("temperature and threshold out of range".into()));
        }
        Ok(Self { file })
    }

    /// The embedding model the head was trained for.
    pub fn embedding_model(&self) -> &str {
        &self.file.embedding_model
    }

    /// The embedding size it takes.
    pub fn embedding_dim(&self) -> usize {
        self.file.embedding_dim
    }

    /// The PLOVER types it scores, in output order.
    pub fn types(&self) -> &[String] {
        &self.file.types
    }

    /// The probability at or above which a sentence states an event of a type.
    pub fn threshold(&self) -> f32 {
        self.file.threshold
    }

    /// The probability at or above which an article reports an event: its best sentence's.
    pub fn article_threshold(&self) -> f32 {
        self.file.article_threshold
    }

    /// Whether an article whose sentences' best type probabilities are `best` reports any
    /// event: two sentences at or above the event threshold, or one at or above the
    /// single-sentence threshold (a lone mention with a modest score is not news of an event).
    pub fn reports_events(&self, best: &[f32]) -> bool {
        let mut sorted = best.to_vec();
        sorted.sort_by(|a, b| b.total_cmp(a));
        let first = sorted.first().copied().unwrap_or(0.0);
        let second = sorted.get(1).copied().unwrap_or(0.0);
        second >= self.file.event_threshold || first >= self.file.single_event_threshold
    }

    /// How it was trained.
    pub fn training(&self) -> &TrainingInfo {
        &self.file.training
    }

    /// The features of one sentence: `masked` is the English sentence with people's names
    /// masked, `embedding` its embedding.
    pub fn features<'a>(&self, masked: &str, embedding: &'a [f32]) -> SentenceFeatures<'a> {
        SentenceFeatures {
            embedding,
            buckets: ngram_buckets(masked, self.file.hash_buckets),
            cues: self.file.cues.hits(masked, &self.file.types),
        }
    }

    /// The calibrated probability of every type for one sentence (type order).
    pub fn probabilities(&self, features: &SentenceFeatures<'_>) -> Vec<f32> {
        let dim = self.file.embedding_dim;
        let buckets = self.file.hash_buckets;
        let mut input = vec![0.0f32; dim + buckets + self.file.types.len()];
        let n = features.embedding.len().min(dim);
        input[..n].copy_from_slice(&features.embedding[..n]);
        if !features.buckets.is_empty() {
            let value = self.file.bow_weight / (features.buckets.len() as f32).sqrt();
            for &b in &features.buckets {
                if let Some(slot) = input.get_mut(dim + b as usize) {
                    *slot = value;
                }
            }
        }
        for (slot, hit) in input[dim + buckets..].iter_mut().zip(&features.cues) {
            *slot = self.file.cue_weight * hit;
        }
        run_layers(&self.file.layers, input)
            .into_iter()
            .map(|logit| sigmoid(logit / self.file.temperature))
            .collect()
    }

    /// The types a sentence states (probability at or above the threshold), most probable first.
    pub fn sentence_types(&self, features: &SentenceFeatures<'_>) -> Vec<TypeScore> {
        let mut scores: Vec<TypeScore> = self
            .probabilities(features)
            .into_iter()
            .enumerate()
            .filter(|(_, p)| *p >= self.file.threshold)
            .map(|(type_index, probability)| TypeScore {
                type_index,
                probability,
            })
            .collect();
        scores.sort_by(|a, b| b.probability.total_cmp(&a.probability));
        scores
    }

    /// The most probable PLOVER mode of a sentence's event of `type_name`, with its probability;
    /// `None` when the type has no modes or "none" wins.
    pub fn mode(&self, type_name: &str, embedding: &[f32]) -> Option<(String, f32)> {
        let head = self.file.modes.get(type_name)?;
        let mut input = vec![0.0f32; self.file.embedding_dim];
        let n = embedding.len().min(input.len());
        input[..n].copy_from_slice(&embedding[..n]);
        let logits = run_layers(&head.layers, input);
        let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let total: f32 = logits.iter().map(|l| (l - max).exp()).sum();
        let (best, logit) = logits
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))?;
        let label = &head.labels[best];
        (label != "none").then(|| (label.clone(), (logit - max).exp() / total))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_head_loads_and_names_its_model() {
        let head = EventHead::builtin();
        assert!(head.embedding_model().ends_with("all-MiniLM-L6-v2"));
        assert_eq!(head.types().len(), 16);
        assert_eq!(head.embedding_dim(), 384);
    }

    #[test]
    fn an_article_reports_events_on_two_clear_sentences_or_one_very_clear() {
        let head = EventHead::builtin();
        let (two, one) = (head.file.event_threshold, head.file.single_event_threshold);
        assert!(head.reports_events(&[0.1, two, two, 0.0]));
        assert!(!head.reports_events(&[0.1, two, two - 0.01]));
        assert!(head.reports_events(&[one]));
        assert!(!head.reports_events(&[one - 0.01]));
        assert!(!head.reports_events(&[]));
    }

    #[test]
    fn malformed_heads_are_refused_with_the_reason() {
        let mut file: serde_json::Value = serde_json::from_str(BUILTIN_HEAD).unwrap();
        file["layers"][0]["rows"] = 7.into();
        let error = EventHead::parse(&file.to_string(), "x.json").unwrap_err();
        assert!(error.to_string().contains("takes 7 inputs"), "{error}");
        assert!(EventHead::parse("{}", "x.json").is_err());
    }

    #[test]
    fn a_layer_multiplies_row_major() {
        let layer = Layer {
            rows: 2,
            cols: 3,
            weight: vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
            bias: vec![0.5, 0.0, -1.0],
        };
        assert_eq!(layer.forward(&[1.0, 10.0]), vec![41.5, 52.0, 62.0]);
        let relu = run_layers(&[layer.clone(), layer_identity(3)], vec![-1.0, 0.0]);
        assert_eq!(relu, vec![0.0, 0.0, 0.0], "ReLU between layers");
    }

    fn layer_identity(n: usize) -> Layer {
        let mut weight = vec![0.0; n * n];
        (0..n).for_each(|i| weight[i * n + i] = 1.0);
        Layer {
            rows: n,
            cols: n,
            weight,
            bias: vec![0.0; n],
        }
    }
}
