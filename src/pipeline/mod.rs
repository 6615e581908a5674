//! What the analyst asks for, built from the engine and the text tools: article translation,
//! and the analyst's brief built on it ([`analyze`]): summaries (extractive from sentence
//! embeddings, abstractive from a BART-family model), zero-shot event tags with evidence and
//! status ([`tagging`] over the [`taxonomy`]), and entities ([`entities`]: the [`gazetteer`], the
//! [`persons`] rules and an optional NER model).

pub mod analyze;
pub mod brief;
pub mod entities;
pub mod gazetteer;
pub mod persons;
pub mod setup;
pub mod summarize;
pub mod tagging;
pub mod taxonomy;
pub mod translate;

pub use analyze::{
    settle_language, Analysis, AnalysisInput, AnalyzeError, AnalyzeOptions, Analyzer,
    EntityRecognizer, Language, SourceLanguage, SummaryMode,
};
pub use summarize::Summarizer;
pub use tagging::{TagScorer, TagThresholds};

pub use gazetteer::{Entity, EntityMention, EntityType, Gazetteer, GazetteerError};
pub use taxonomy::{EventStatus, StatusCues, TagSpec, Taxonomy, TaxonomyError};
pub use translate::{
    plan_batches, ArticleTranslation, PipelineError, PreparedArticle, PreparedSentences,
    SentenceTranslation, TranslateOptions, Translator, Unit,
};
