//! What the analyst asks for, built from the engine and the text tools: for now, translating
//! whole articles.

pub mod translate;

pub use translate::{
    plan_batches, ArticleTranslation, PipelineError, PreparedArticle, PreparedSentences,
    SentenceTranslation, TranslateOptions, Translator, Unit,
};
