//! Finding and loading models: Hub or local source, `config.json` and
//! `generation_config.json`, weights, and tokenizers built from the repo's SentencePiece files
//! (Marian) or byte-level BPE files (BART); also the BERT-family sentence embedder and
//! token-classification (NER) model.

pub mod bpe;
pub mod config;
pub mod embedding;
pub mod error;
pub mod generation;
mod json;
pub mod ner;
pub mod network;
pub mod pth;
pub mod source;
pub mod spm;
pub mod summarizer;
pub mod tokenizer;
pub mod translation;
pub mod weights;

pub use crate::engine::Quantization;
pub use bpe::{BpeError, BpeTokenizer};
pub use error::LoadError;
pub use generation::{GenerationDefaults, GenerationOptions};
pub use ner::{NerError, NerModel, NerSpan};
pub use network::Network;
pub use source::ModelSource;
pub use summarizer::{SummarizationModel, SummarizeError};
pub use translation::{ModelInfo, TranslationModel};
