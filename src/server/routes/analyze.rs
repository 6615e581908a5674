//! `POST /v1/analyze` and `POST /v1/summarize`: the analyst's brief of one article. French
//! articles are translated through the batching queue like `/v1/translate`; summary, tags and
//! entities run on a blocking thread, a bounded number at a time.

use std::sync::Arc;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;

use tokio::runtime::Handle;

use crate::models::GenerationOptions;
use crate::pipeline::analyze::{AnalyzeError, AnalyzeOptions};
use crate::pipeline::flow::{analyze_articles, ArticleTranslator};
use crate::pipeline::{Analysis, ArticleTranslation, SourceLanguage, TranslateOptions};
use crate::server::config::Limits;
use crate::server::error::{ApiError, ErrorBody};
use crate::server::extract::ApiJson;
use crate::server::service::{check_texts, translate_texts};
use crate::server::state::{AppState, Engine};
use crate::server::types::{AnalyzeRequest, SummarizeRequest, SummarizeResponse};

impl From<AnalyzeError> for ApiError {
    fn from(error: AnalyzeError) -> Self {
        match error {
            AnalyzeError::Model { .. } | AnalyzeError::Translation(_) => {
                ApiError::AnalysisFailed(error.to_string())
            }
            AnalyzeError::Unavailable(_) => ApiError::NotReady,
            other => ApiError::Unprocessable(other.to_string()),
        }
    }
}

/// Translates through the server's batching queue, from a blocking thread.
struct QueueTranslator {
    engine: Arc<Engine>,
    options: TranslateOptions,
    limits: Limits,
    runtime: Handle,
}

impl ArticleTranslator for QueueTranslator {
    type Error = ApiError;

    fn model(&self) -> String {
        self.engine.info.source.clone()
    }

    fn translate(
        &self,
        texts: &[&str],
    ) -> Result<Vec<Result<ArticleTranslation, String>>, ApiError> {
        let texts = texts.iter().map(|t| t.to_string()).collect();
        let outcomes = self.runtime.block_on(translate_texts(
            Arc::clone(&self.engine),
            texts,
            self.options.clone(),
            &self.limits,
        ))?;
        Ok(outcomes.into_iter().map(|o| o.result).collect())
    }
}

/// What one analysis call needs besides the text.
struct Job {
    source: SourceLanguage,
    options: AnalyzeOptions,
    beams: Option<usize>,
}

/// Translates (when French) and analyses `text`.
async fn run(
    state: &AppState,
    headers: &HeaderMap,
    text: String,
    job: Job,
) -> Result<Analysis, ApiError> {
    state.authorize(headers, None)?;
    let engine: Arc<Engine> = state.engine()?;
    let Some(analysis) = &engine.analysis else {
        return Err(ApiError::AnalysisDisabled);
    };
    let limits = &state.config().limits;
    check_texts(std::slice::from_ref(&text), limits)?;
    analysis.analyzer.check_options(&job.options)?;
    let admitted = Arc::clone(&analysis.admitted)
        .try_acquire_owned()
        .map_err(|_| ApiError::AnalysesFull(limits.max_queued_analyses))?;
    let translator = QueueTranslator {
        engine: Arc::clone(&engine),
        options: TranslateOptions {
            generation: GenerationOptions {
                beams: job.beams,
                ..GenerationOptions::default()
            },
            ..TranslateOptions::default()
        },
        limits: limits.clone(),
        runtime: Handle::current(),
    };
    let running = Arc::clone(&analysis.running);
    let analyzer = Arc::clone(&analysis.analyzer);
    let options = job.options;
    let mut results = tokio::task::spawn_blocking(move || {
        let _admitted = admitted;
        let runtime = translator.runtime.clone();
        analyze_articles(&[text.as_str()], job.source, Some(&translator), |input| {
            // Translation waits in the queue without holding an analysis slot.
            let _running = runtime
                .block_on(Arc::clone(&running).acquire_owned())
                .map_err(|e| AnalyzeError::Unavailable(e.to_string()))?;
            analyzer.analyze(input, &options)
        })
    })
    .await
    .map_err(|e| ApiError::AnalysisFailed(e.to_string()))??;
    Ok(results
        .pop()
        .ok_or_else(|| ApiError::Internal("no analysis came back".into()))??)
}

/// Analyse one article: translation, summary, event tags with evidence and status, entities.
#[utoipa::path(
    post,
    path = "/v1/analyze",
    request_body = AnalyzeRequest,
    responses(
        (status = 200, description = "The brief", body = Analysis),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "API key required", body = ErrorBody),
        (status = 403, description = "Invalid API key", body = ErrorBody),
        (status = 413, description = "Text over the character limit", body = ErrorBody),
        (status = 422, description = "Empty text, no words, unsupported language, invalid settings", body = ErrorBody),
        (status = 429, description = "Too many analyses or sentences queued; see Retry-After", body = ErrorBody),
        (status = 501, description = "Server started without analysis models", body = ErrorBody),
        (status = 503, description = "Models still loading", body = ErrorBody),
    ),
    tag = "analysis"
)]
pub async fn analyze(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiJson(request): ApiJson<AnalyzeRequest>,
) -> Result<Json<Analysis>, ApiError> {
    let defaults = AnalyzeOptions::default();
    let job = Job {
        source: request.source,
        beams: request.beams,
        options: AnalyzeOptions {
            summary_sentences: request
                .summary
                .sentences
                .unwrap_or(defaults.summary_sentences),
            summary_mode: request.summary.mode,
            tags: request.tags.unwrap_or(true),
            entities: request.entities.unwrap_or(true),
            low_confidence_below: request
                .low_confidence_below
                .unwrap_or(defaults.low_confidence_below),
        },
    };
    Ok(Json(run(&state, &headers, request.text, job).await?))
}

/// Summarize one article in English (French articles are translated first).
#[utoipa::path(
    post,
    path = "/v1/summarize",
    request_body = SummarizeRequest,
    responses(
        (status = 200, description = "The summary", body = SummarizeResponse),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 413, description = "Text over the character limit", body = ErrorBody),
        (status = 422, description = "Empty text, no words, unsupported language, invalid settings", body = ErrorBody),
        (status = 429, description = "Busy; see Retry-After", body = ErrorBody),
        (status = 501, description = "Server started without analysis models", body = ErrorBody),
        (status = 503, description = "Models still loading", body = ErrorBody),
    ),
    tag = "analysis"
)]
pub async fn summarize(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiJson(request): ApiJson<SummarizeRequest>,
) -> Result<Json<SummarizeResponse>, ApiError> {
    let job = Job {
        source: request.source,
        beams: request.beams,
        options: AnalyzeOptions {
            summary_sentences: request
                .sentences
                .unwrap_or(AnalyzeOptions::default().summary_sentences),
            summary_mode: request.mode,
            tags: false,
            entities: false,
            ..AnalyzeOptions::default()
        },
    };
    let analysis = run(&state, &headers, request.text, job).await?;
    Ok(Json(SummarizeResponse {
        summary: analysis.summary,
        summary_info: analysis.summary_info,
        source_language: analysis.source_language,
        models: analysis.models,
        timings: analysis.timings,
        warnings: analysis.warnings,
    }))
}
