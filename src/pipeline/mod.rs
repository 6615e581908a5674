//! What the analyst asks for, built from the engine and the text tools: article translation,
//! and the analyst's brief built on it ([`analyze`]): summaries (extractive from sentence
//! embeddings, abstractive from a BART-family model), event records with actors, place, date,
//! status and evidence ([`events`]: a supervised classifier labelled with the [`taxonomy`]), and
//! entities ([`entities`]: the [`gazetteer`], the [`persons`] rules and an optional NER model);
//! [`flow`] is the one way every entry point goes from an article to its brief.

pub mod analyze;
pub mod brief;
pub mod entities;
pub mod evaluate;
pub mod events;
pub mod flow;
pub mod gazetteer;
pub mod persons;
pub mod setup;
pub mod summarize;
pub mod taxonomy;
pub mod translate;

pub use analyze::{
    settle_language, Analysis, AnalysisInput, AnalyzeError, AnalyzeOptions, Analyzer,
    EntityRecognizer, Language, SourceLanguage, SummaryMode,
};
pub use events::{EventExtractor, EventRecord};
pub use summarize::Summarizer;

pub use events::status::EventStatus;
pub use gazetteer::{Entity, EntityMention, EntityType, Gazetteer, GazetteerError};
pub use taxonomy::{TagSpec, Taxonomy, TaxonomyError};
pub use translate::{
    plan_batches, ArticleTranslation, PipelineError, PreparedArticle, PreparedSentences,
    SentenceTranslation, TranslateOptions, Translator, Unit,
};
