//! Loading the analysis models a user names (by Hub id or directory, like translation models):
//! the sentence-embedding model (required: tags and extractive summaries), and optionally a
//! BART-family summarizer and a BERT token-classification NER model. Also the adapters that put
//! [`SummarizationModel`] and [`NerModel`] behind the analyzer's traits.

use std::path::PathBuf;

use candle_core::Device;
use thiserror::Error;

use super::analyze::{Analyzer, EntityRecognizer};
use super::entities::LabelledSpan;
use super::events::head::{EventHead, HeadError};
use super::events::EventExtractor;
use super::gazetteer::{Gazetteer, GazetteerError};
use super::summarize::Summarizer;
use super::taxonomy::{Taxonomy, TaxonomyError};
use crate::models::embedding::{EmbedError, SentenceEmbedder};
use crate::models::ner::NerModel;
use crate::models::summarizer::SummarizationModel;
use crate::models::{GenerationOptions, LoadError, ModelSource};

/// The default sentence-embedding model.
pub const DEFAULT_EMBEDDING_MODEL: &str = "sentence-transformers/all-MiniLM-L6-v2";

/// The default summarization model.
pub const DEFAULT_SUMMARIZER: &str = "sshleifer/distilbart-cnn-12-6";

/// Which models and data files the analysis uses.
#[derive(Debug, Clone, PartialEq)]
pub struct AnalysisModels {
    /// Sentence-embedding model: Hub id (`owner/name[@rev]`) or directory.
    pub embedding: String,
    /// Summarization model; `None` = extractive summaries only.
    pub summarizer: Option<String>,
    /// NER model; `None` = gazetteer and person rules only.
    pub ner: Option<String>,
    /// Taxonomy file instead of the built-in `models/taxonomy.json`.
    pub taxonomy: Option<PathBuf>,
    /// Event classifier instead of the built-in `models/event_head.json`.
    pub event_head: Option<PathBuf>,
    /// Gazetteer file instead of the built-in `models/gazetteer.json`.
    pub gazetteer: Option<PathBuf>,
}

impl Default for AnalysisModels {
    fn default() -> Self {
        Self {
            embedding: DEFAULT_EMBEDDING_MODEL.to_string(),
            summarizer: Some(DEFAULT_SUMMARIZER.to_string()),
            ner: None,
            taxonomy: None,
            event_head: None,
            gazetteer: None,
        }
    }
}

/// Why the analysis could not be set up.
#[derive(Debug, Error)]
pub enum SetupError {
    /// A model failed to load.
    #[error("loading the {role} model {spec}: {source}")]
    Load {
        /// Embedding, summarization or NER.
        role: &'static str,
        /// What the user named.
        spec: String,
        /// The loading failure.
        source: LoadError,
    },
    /// The taxonomy file is invalid.
    #[error(transparent)]
    Taxonomy(#[from] TaxonomyError),
    /// The event classifier file is invalid.
    #[error(transparent)]
    EventHead(#[from] HeadError),
    /// The event classifier was trained for another embedding model.
    #[error("the event classifier was trained for {trained} ({trained_dim} dimensions) but the embedding model {model} gives {model_dim}: train a head for it (scripts/events/train_head.sh)")]
    HeadMismatch {
        /// The head's embedding model.
        trained: String,
        /// Its embedding size.
        trained_dim: usize,
        /// The loaded embedding model.
        model: String,
        /// Its embedding size.
        model_dim: usize,
    },
    /// The gazetteer file is invalid.
    #[error(transparent)]
    Gazetteer(#[from] GazetteerError),
    /// Embedding the tag descriptions failed.
    #[error("embedding the taxonomy's descriptions and examples: {0}")]
    Embed(#[from] EmbedError),
}

fn open(role: &'static str, spec: &str) -> Result<ModelSource, SetupError> {
    ModelSource::parse(spec).map_err(|source| SetupError::Load {
        role,
        spec: spec.to_string(),
        source,
    })
}

/// Loads every model and data file of `models` onto `device`.
pub fn load_analyzer(models: &AnalysisModels, device: &Device) -> Result<Analyzer, SetupError> {
    let wrap = |role: &'static str, spec: &str| {
        let spec = spec.to_string();
        move |source: LoadError| SetupError::Load { role, spec, source }
    };
    let embedding_source = open("embedding", &models.embedding)?;
    let embedder = SentenceEmbedder::load(&embedding_source, device)
        .map_err(wrap("embedding", &models.embedding))?;
    let taxonomy = match &models.taxonomy {
        Some(path) => Taxonomy::load(path)?,
        None => Taxonomy::builtin(),
    };
    let head = match &models.event_head {
        Some(path) => EventHead::load(path)?,
        None => EventHead::builtin(),
    };
    let model_name = |s: &str| {
        s.trim_end_matches('/')
            .rsplit('/')
            .next()
            .unwrap_or("")
            .to_string()
    };
    if head.embedding_dim() != embedder.dimension() {
        return Err(SetupError::HeadMismatch {
            trained: head.embedding_model().to_string(),
            trained_dim: head.embedding_dim(),
            model: embedding_source.to_string(),
            model_dim: embedder.dimension(),
        });
    }
    if model_name(head.embedding_model()) != model_name(&embedding_source.to_string()) {
        tracing::warn!(
            head = %head.embedding_model(),
            embedding = %embedding_source,
            "the event classifier was trained for another embedding model of the same size; its probabilities mean little: train one for this model (scripts/events/train_head.sh)"
        );
    }
    let gazetteer = match &models.gazetteer {
        Some(path) => Gazetteer::load(path)?,
        None => Gazetteer::builtin(),
    };
    let mut prototypes = Vec::with_capacity(taxonomy.tags.len());
    for tag in &taxonomy.tags {
        let texts: Vec<&str> = std::iter::once(tag.description.as_str())
            .chain(tag.examples.iter().map(String::as_str))
            .collect();
        prototypes.push(embedder.embed(&texts)?);
    }
    let events = EventExtractor::new(head, taxonomy, prototypes);
    let mut analyzer = Analyzer::new(embedder, embedding_source.to_string(), events, gazetteer);
    if let Some(spec) = &models.summarizer {
        let model = SummarizationModel::load(&open("summarization", spec)?, device)
            .map_err(wrap("summarization", spec))?;
        analyzer = analyzer.with_summarizer(Box::new(model));
    }
    if let Some(spec) = &models.ner {
        let model = NerModel::load(&open("NER", spec)?, device).map_err(wrap("NER", spec))?;
        analyzer = analyzer.with_ner(Box::new(model));
    }
    Ok(analyzer)
}

impl Summarizer for SummarizationModel {
    fn source(&self) -> String {
        self.info().source.clone()
    }

    fn max_input_tokens(&self) -> usize {
        SummarizationModel::max_input_tokens(self)
    }

    fn count_tokens(&self, text: &str) -> usize {
        SummarizationModel::count_tokens(self, text)
    }

    fn summarize(&self, texts: &[String]) -> Result<Vec<String>, String> {
        SummarizationModel::summarize(self, texts, &GenerationOptions::default())
            .map_err(|e| e.to_string())
    }
}

impl EntityRecognizer for NerModel {
    fn source(&self) -> String {
        self.info().source.clone()
    }

    fn recognize(&self, texts: &[&str]) -> Result<Vec<Vec<LabelledSpan>>, String> {
        let spans = NerModel::recognize(self, texts).map_err(|e| e.to_string())?;
        Ok(spans
            .into_iter()
            .map(|spans| {
                spans
                    .into_iter()
                    .map(|s| LabelledSpan {
                        span: s.start..s.end,
                        label: s.label,
                    })
                    .collect()
            })
            .collect())
    }
}
