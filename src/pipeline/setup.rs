//! Loading the analysis models a user names (by Hub id or directory, like translation models):
//! the sentence-embedding model (required: tags and extractive summaries), and optionally a
//! BART-family summarizer and a BERT token-classification NER model. Also the adapters that put
//! [`SummarizationModel`] and [`NerModel`] behind the analyzer's traits.

use std::path::PathBuf;

use candle_core::Device;
use thiserror::Error;

use super::analyze::{Analyzer, EntityRecognizer};
use super::entities::LabelledSpan;
use super::gazetteer::{Gazetteer, GazetteerError};
use super::summarize::Summarizer;
use super::tagging::{TagScorer, TagThresholds, ThresholdsError};
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
    /// Thresholds file instead of the built-in `models/tag_thresholds.json`.
    pub thresholds: Option<PathBuf>,
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
            thresholds: None,
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
    /// The thresholds file is invalid.
    #[error(transparent)]
    Thresholds(#[from] ThresholdsError),
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
    let thresholds = match &models.thresholds {
        Some(path) => TagThresholds::load(path)?,
        None => TagThresholds::builtin(),
    };
    let model_name = |s: &str| {
        s.trim_end_matches('/')
            .rsplit('/')
            .next()
            .unwrap_or("")
            .to_string()
    };
    if model_name(&thresholds.embedding_model) != model_name(&embedding_source.to_string()) {
        tracing::warn!(
            thresholds = %thresholds.embedding_model,
            embedding = %embedding_source,
            "the tag thresholds were calibrated for another embedding model; calibrate them for this one (scripts/evaluate_tags.sh --calibrate)"
        );
    }
    let gazetteer = match &models.gazetteer {
        Some(path) => Gazetteer::load(path)?,
        None => Gazetteer::builtin(),
    };
    let tagger = TagScorer::new(taxonomy, thresholds, &embedder)?;
    let mut analyzer = Analyzer::new(embedder, embedding_source.to_string(), tagger, gazetteer);
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
