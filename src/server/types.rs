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

/// A model the server has loaded, for `GET /v1/status`.
#[derive(Debug, Serialize, ToSchema)]
pub struct LoadedModel {
    /// `translation`, `summarization`, `embedding` or `ner`.
    #[schema(example = "translation")]
    pub task: String,
    /// Repo@revision or directory.
    #[schema(example = "Helsinki-NLP/opus-mt-fr-en@main")]
    pub source: String,
}

/// Work waiting or running on the model threads.
#[derive(Debug, Serialize, ToSchema)]
pub struct QueueStatus {
    /// Sentences queued or being translated.
    pub sentences: usize,
    /// Analyses running or waiting.
    pub analyses: usize,
}

/// Batch jobs by state (among the 100 most recent).
#[derive(Debug, Serialize, ToSchema)]
pub struct JobsStatus {
    /// Jobs waiting for a worker.
    pub queued: usize,
    /// Jobs being run.
    pub running: usize,
}

/// Request limits a client should respect.
#[derive(Debug, Serialize, ToSchema)]
pub struct LimitsStatus {
    /// Most characters over the texts of one request.
    pub max_chars: usize,
    /// Most texts in one request.
    pub max_texts: usize,
    /// Largest beam width.
    pub max_beams: usize,
}

/// `GET /v1/status`: everything the console's status line shows, in one call.
#[derive(Debug, Serialize, ToSchema)]
pub struct ServerStatus {
    /// `ok`, `loading` or `failed`.
    pub status: String,
    /// Why loading failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Server version.
    pub version: String,
    /// Models loaded (empty while loading).
    pub models: Vec<LoadedModel>,
    /// Whether `/v1/analyze` is served.
    pub analysis: bool,
    /// Queue depth (absent while loading).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub queue: Option<QueueStatus>,
    /// Batch jobs (absent when the server runs none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jobs: Option<JobsStatus>,
    /// Request limits.
    pub limits: LimitsStatus,
    /// Whether requests need an API key.
    pub api_key_required: bool,
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

/// Settings of a batch job (`POST /v1/jobs`): the JSON body's `options`, or the query string
/// of a JSONL body.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct JobOptions {
    /// Beam width of the translation (1 = greedy); default from the model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub beams: Option<usize>,
    /// Most tokens generated per sentence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_new_tokens: Option<usize>,
    /// Language of the articles (summarize, analyze): `fr` (default), `en` or `auto`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<crate::pipeline::SourceLanguage>,
    /// Most sentences in a summary (1–20, default 3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary_sentences: Option<usize>,
    /// `abstractive` or `extractive` (default: abstractive when the server has a summarizer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary_mode: Option<crate::pipeline::SummaryMode>,
}

/// `POST /v1/jobs` with `Content-Type: application/json`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct JobRequest {
    /// `translate`, `summarize` or `analyze`.
    #[schema(example = "translate")]
    pub task: String,
    /// The items: `{"id": …, "text": "…", …}` objects; other fields are carried to the result.
    #[schema(value_type = Vec<Object>)]
    pub items: Vec<crate::jobs::input::JsonItem>,
    /// Settings.
    #[serde(default)]
    pub options: JobOptions,
}

/// The query string of `POST /v1/jobs` with a JSONL body: the task and its settings.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobQuery {
    /// `translate`, `summarize` or `analyze`.
    pub task: Option<String>,
    /// See [`JobOptions::beams`].
    pub beams: Option<usize>,
    /// See [`JobOptions::max_new_tokens`].
    pub max_new_tokens: Option<usize>,
    /// See [`JobOptions::source`].
    pub source: Option<crate::pipeline::SourceLanguage>,
    /// See [`JobOptions::summary_sentences`].
    pub summary_sentences: Option<usize>,
    /// See [`JobOptions::summary_mode`].
    pub summary_mode: Option<crate::pipeline::SummaryMode>,
}

impl JobQuery {
    /// The settings given in the query string.
    pub fn options(&self) -> JobOptions {
        JobOptions {
            beams: self.beams,
            max_new_tokens: self.max_new_tokens,
            source: self.source,
            summary_sentences: self.summary_sentences,
            summary_mode: self.summary_mode,
        }
    }
}

/// Where to find a job and its results.
#[derive(Debug, Serialize, ToSchema)]
pub struct JobLinks {
    /// `GET` the job's status; `DELETE` cancels it.
    #[serde(rename = "self")]
    #[schema(example = "/v1/jobs/1")]
    pub this: String,
    /// `GET` the results as JSONL.
    #[schema(example = "/v1/jobs/1/results")]
    pub results: String,
}

/// The answer of `POST /v1/jobs` (202).
#[derive(Debug, Serialize, ToSchema)]
pub struct JobCreated {
    /// The job's id.
    #[schema(example = 1)]
    pub id: i64,
    /// `queued` (or `done` when every item was rejected as read).
    #[schema(example = "queued")]
    pub state: String,
    /// Items in the job.
    pub total: u64,
    /// Items rejected as read (malformed lines); they have error results already.
    pub rejected: u64,
    /// Status and results.
    pub links: JobLinks,
}

/// Items of a job per state.
#[derive(Debug, Serialize, ToSchema)]
pub struct JobItemCounts {
    /// All items.
    pub total: u64,
    /// Finished with a result.
    pub done: u64,
    /// Finished with an error.
    pub failed: u64,
    /// Waiting (after a cancel: never to run).
    pub queued: u64,
    /// Being run.
    pub running: u64,
}

/// A failed item.
#[derive(Debug, Serialize, ToSchema)]
pub struct JobItemError {
    /// Its position in the input (0-based; blank lines of a JSONL body are not items).
    pub index: u64,
    /// Its `id` (null when it has none).
    #[schema(value_type = Object)]
    pub id: serde_json::Value,
    /// What went wrong.
    pub error: String,
}

/// `GET /v1/jobs/{id}`: where a job stands.
#[derive(Debug, Serialize, ToSchema)]
pub struct JobInfo {
    /// The job's id.
    pub id: i64,
    /// `translate`, `summarize` or `analyze`.
    pub task: String,
    /// `queued`, `running`, `done`, `failed` (the job as a whole; see `error`) or `cancelled`.
    #[schema(example = "running")]
    pub state: String,
    /// Items per state.
    pub counts: JobItemCounts,
    /// Finished items / total, 0 to 1.
    pub progress: f64,
    /// Items finished per second since work started.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate: Option<f64>,
    /// Seconds left at that rate (while queued or running).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub eta_seconds: Option<f64>,
    /// Failed items so far, the first ones in input order (only in `GET /v1/jobs/{id}`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<JobItemError>,
    /// Why the job as a whole failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The job's settings.
    pub options: JobOptions,
    /// Creation time, Unix milliseconds.
    pub created_at: i64,
    /// When the first item was claimed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub started_at: Option<i64>,
    /// When the last item finished.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<i64>,
    /// When it was cancelled.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cancelled_at: Option<i64>,
    /// Status and results.
    pub links: JobLinks,
}

/// `GET /v1/jobs`: the most recent jobs, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct JobList {
    /// The jobs.
    pub jobs: Vec<JobInfo>,
}
