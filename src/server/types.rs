//! The HTTP contract: request and response bodies with their OpenAPI schemas.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::models::generation::EarlyStoppingSetting;
use crate::models::GenerationOptions;

/// `POST /v1/translate`: one text or several, with optional generation settings.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TranslateRequest {
    /// One French article or sentence.
    #[schema(example = "Le président a reçu son homologue allemand.")]
    pub text: Option<String>,
    /// Several texts, translated independently and returned in order.
    pub texts: Option<Vec<String>>,
    /// Source language (only `fr`; `auto` detects it).
    #[serde(default = "default_source")]
    #[schema(example = "fr")]
    pub source: String,
    /// Target language (only `en`).
    #[serde(default = "default_target")]
    #[schema(example = "en")]
    pub target: String,
    /// Beam width (1 = greedy); default from the model.
    pub beams: Option<usize>,
    /// Most tokens generated per sentence.
    pub max_new_tokens: Option<usize>,
    /// Fewest tokens generated per sentence.
    pub min_new_tokens: Option<usize>,
    /// Beam length normalisation exponent.
    pub length_penalty: Option<f32>,
    /// Beam stopping rule: true, false or "never".
    #[schema(value_type = Option<serde_json::Value>)]
    pub early_stopping: Option<EarlyStoppingSetting>,
    /// Forbid repeating n-grams of this size.
    pub no_repeat_ngram_size: Option<usize>,
    /// Penalty on repeated tokens (> 1 discourages).
    pub repetition_penalty: Option<f32>,
    /// Include per-sentence detail (source, translation, score) in the response.
    #[serde(default)]
    pub details: bool,
}

fn default_source() -> String {
    "fr".into()
}

fn default_target() -> String {
    "en".into()
}

impl TranslateRequest {
    /// The per-call generation overrides of this request.
    pub fn generation(&self) -> GenerationOptions {
        GenerationOptions {
            beams: self.beams,
            max_new_tokens: self.max_new_tokens,
            min_new_tokens: self.min_new_tokens,
            length_penalty: self.length_penalty,
            early_stopping: self.early_stopping,
            no_repeat_ngram_size: self.no_repeat_ngram_size,
            repetition_penalty: self.repetition_penalty,
            ..GenerationOptions::default()
        }
    }
}

/// One sentence of a translation, with the model's confidence.
#[derive(Debug, Serialize, ToSchema)]
pub struct SentenceDetail {
    /// French sentence.
    pub source: String,
    /// English translation.
    pub translation: String,
    /// Beam `sequences_scores` or greedy mean log-probability (closer to 0 = more confident).
    pub score: f32,
}

/// The result for one input text.
#[derive(Debug, Serialize, ToSchema)]
pub struct TranslationItem {
    /// English text with the original line breaks (absent when `error` is set).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Why this text failed (the other texts are unaffected).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Sentences translated.
    pub sentences: usize,
    /// Source tokens, EOS included.
    pub source_tokens: usize,
    /// Tokens generated.
    pub generated_tokens: usize,
    /// Lowest sentence score of the text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_score: Option<f32>,
    /// Notes such as sentences split to fit the model.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// Per-sentence detail, when asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<Vec<SentenceDetail>>,
    /// Time spent on this text, queueing included.
    pub time_ms: f64,
}

/// `POST /v1/translate` response.
#[derive(Debug, Serialize, ToSchema)]
pub struct TranslateResponse {
    /// One item per input text, in input order.
    pub translations: Vec<TranslationItem>,
    /// The model that translated (repo@revision or directory).
    pub model: String,
    /// Wall time of the request.
    pub time_ms: f64,
}

/// `GET /v1/models` entry.
#[derive(Debug, Serialize, ToSchema)]
pub struct ModelEntry {
    /// `translation`.
    pub task: String,
    /// Repo@revision or directory.
    pub source: String,
    /// Weights file read.
    pub weights_file: String,
    /// Language pair.
    pub languages: String,
    /// Longest input in tokens.
    pub max_positions: usize,
    /// Load time in milliseconds.
    pub load_time_ms: f64,
}

/// `GET /health` and `GET /ready` body.
#[derive(Debug, Serialize, ToSchema)]
pub struct Status {
    /// `ok`, `loading` or `failed`.
    pub status: String,
    /// Detail, e.g. the load error.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Server version.
    pub version: String,
}

/// Summary settings of an analysis request.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SummaryRequest {
    /// Most sentences in the summary (1–20, default 3).
    #[schema(example = 3)]
    pub sentences: Option<usize>,
    /// `abstractive` (the summarization model) or `extractive` (key sentences); default
    /// abstractive when the server has a summarizer.
    pub mode: Option<crate::pipeline::SummaryMode>,
}

/// `POST /v1/analyze`: one article (French, English or detected).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnalyzeRequest {
    /// The article; paragraphs separated by line breaks.
    #[schema(example = "Le ministre des Armées se rendra à Rabat la semaine prochaine.")]
    pub text: String,
    /// `fr` (default: translate first), `en` (analyse as given) or `auto` (detect).
    #[serde(default)]
    pub source: crate::pipeline::SourceLanguage,
    /// Summary settings.
    #[serde(default)]
    pub summary: SummaryRequest,
    /// Compute event tags (default true).
    pub tags: Option<bool>,
    /// Compute entities (default true).
    pub entities: Option<bool>,
    /// Beam width of the translation (1 = greedy); default from the model.
    pub beams: Option<usize>,
    /// Translated sentences whose score is below this are flagged `low_confidence` (default -1.0).
    pub low_confidence_below: Option<f32>,
}

/// `POST /v1/summarize`: the summary of one article.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SummarizeRequest {
    /// The article.
    #[schema(example = "Le ministre des Armées se rendra à Rabat la semaine prochaine.")]
    pub text: String,
    /// `fr` (default: translate first), `en` or `auto`.
    #[serde(default)]
    pub source: crate::pipeline::SourceLanguage,
    /// Most sentences in the summary (1–20, default 3).
    pub sentences: Option<usize>,
    /// `abstractive` or `extractive`.
    pub mode: Option<crate::pipeline::SummaryMode>,
    /// Beam width of the translation.
    pub beams: Option<usize>,
}

/// The answer of `POST /v1/summarize`.
#[derive(Debug, Serialize, ToSchema)]
pub struct SummarizeResponse {
    /// The English summary.
    pub summary: String,
    /// How it was made.
    pub summary_info: crate::pipeline::analyze::SummaryInfo,
    /// The language the article was read as.
    pub source_language: crate::pipeline::Language,
    /// Models used.
    pub models: crate::pipeline::analyze::ModelsUsed,
    /// Time per step.
    pub timings: crate::pipeline::analyze::Timings,
    /// Things the reader should know.
    pub warnings: Vec<String>,
}
