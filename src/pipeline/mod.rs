//! What the analyst asks for, built from the engine and the text tools: article translation,
//! and the building blocks of the analysis (event-tag taxonomy and status cues, the gazetteer of
//! countries, capitals and organisations, extractive summaries from sentence embeddings).

pub mod gazetteer;
pub mod summarize;
pub mod taxonomy;
pub mod translate;

pub use gazetteer::{Entity, EntityMention, EntityType, Gazetteer, GazetteerError};
pub use taxonomy::{EventStatus, StatusCues, TagSpec, Taxonomy, TaxonomyError};
pub use translate::{
    plan_batches, ArticleTranslation, PipelineError, PreparedArticle, PreparedSentences,
    SentenceTranslation, TranslateOptions, Translator, Unit,
};
