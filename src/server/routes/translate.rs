//! `POST /v1/translate`: dragoman's own translation endpoint.

use std::time::Instant;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;

use crate::pipeline::TranslateOptions;
use crate::server::error::{ApiError, ErrorBody};
use crate::server::extract::ApiJson;
use crate::server::service::{check_texts, translate_texts};
use crate::server::state::AppState;
use crate::server::types::{SentenceDetail, TranslateRequest, TranslateResponse, TranslationItem};

/// The only language pair served.
pub const SUPPORTED_PAIRS: &str = "fr→en";

/// Checks the language pair of a request (`auto` is accepted as a source).
pub fn check_pair(source: &str, target: &str) -> Result<(), ApiError> {
    let source_ok = matches!(source, "fr" | "auto");
    if !source_ok || target != "en" {
        return Err(ApiError::BadRequest(format!(
            "unsupported language pair {source}→{target}; supported pairs: {SUPPORTED_PAIRS}"
        )));
    }
    Ok(())
}

/// Translate one or several French texts to English.
#[utoipa::path(
    post,
    path = "/v1/translate",
    request_body = TranslateRequest,
    responses(
        (status = 200, description = "Translations in input order", body = TranslateResponse),
        (status = 400, description = "Malformed body or unsupported language pair", body = ErrorBody),
        (status = 401, description = "API key required", body = ErrorBody),
        (status = 403, description = "Invalid API key", body = ErrorBody),
        (status = 413, description = "Body, characters or texts over the limit", body = ErrorBody),
        (status = 422, description = "Invalid field values", body = ErrorBody),
        (status = 429, description = "Queue full; see Retry-After", body = ErrorBody),
        (status = 503, description = "Model still loading", body = ErrorBody),
    ),
    tag = "translation"
)]
pub async fn translate(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiJson(request): ApiJson<TranslateRequest>,
) -> Result<Json<TranslateResponse>, ApiError> {
    let started = Instant::now();
    state.authorize(&headers, None)?;
    check_pair(&request.source, &request.target)?;
    let texts = match (request.text.clone(), request.texts.clone()) {
        (Some(text), None) => vec![text],
        (None, Some(texts)) => texts,
        (Some(_), Some(_)) => {
            return Err(ApiError::Unprocessable(
                "give either `text` or `texts`, not both".into(),
            ))
        }
        (None, None) => {
            return Err(ApiError::Unprocessable(
                "missing field `text` (a string) or `texts` (an array of strings)".into(),
            ))
        }
    };
    let limits = state.config().limits.clone();
    check_texts(&texts, &limits)?;
    let engine = state.engine()?;
    let options = TranslateOptions {
        generation: request.generation(),
        ..TranslateOptions::default()
    };
    let outcomes = translate_texts(engine.clone(), texts, options, &limits).await?;
    let translations = outcomes
        .into_iter()
        .map(|outcome| {
            let time_ms = outcome.elapsed.as_secs_f64() * 1000.0;
            match outcome.result {
                Ok(article) => TranslationItem {
                    sentences: article.sentences.len(),
                    source_tokens: article.sentences.iter().map(|s| s.source_tokens).sum(),
                    generated_tokens: article.sentences.iter().map(|s| s.generated_tokens).sum(),
                    min_score: article.sentences.iter().map(|s| s.score).reduce(f32::min),
                    details: request.details.then(|| {
                        article
                            .sentences
                            .iter()
                            .map(|s| SentenceDetail {
                                source: s.source.clone(),
                                translation: s.translation.clone(),
                                score: s.score,
                            })
                            .collect()
                    }),
                    warnings: article.warnings,
                    text: Some(article.text),
                    error: None,
                    time_ms,
                },
                Err(message) => TranslationItem {
                    text: None,
                    error: Some(message),
                    sentences: 0,
                    source_tokens: 0,
                    generated_tokens: 0,
                    min_score: None,
                    warnings: Vec::new(),
                    details: None,
                    time_ms,
                },
            }
        })
        .collect();
    Ok(Json(TranslateResponse {
        translations,
        model: engine.info.source.clone(),
        time_ms: started.elapsed().as_secs_f64() * 1000.0,
    }))
}
