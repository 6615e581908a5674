//! LibreTranslate-compatible endpoints (`/translate`, `/languages`, `/detect`), so that existing
//! LibreTranslate clients and plugins work unchanged. Field names, status codes and the
//! `{"error": ...}` shape follow LibreTranslate's API.

use std::sync::Arc;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::pipeline::TranslateOptions;
use crate::server::error::{ApiError, ErrorBody};
use crate::server::extract::JsonOrForm;
use crate::server::service::{check_texts, translate_texts};
use crate::server::state::{AppState, Engine};
use crate::text::html::{escape, segments, split_whitespace_edges, Segment};

/// `q`: one text or several.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum Query {
    /// A single text.
    One(String),
    /// Several texts.
    Many(Vec<String>),
}

/// LibreTranslate `POST /translate` body (JSON or form).
#[derive(Debug, Deserialize, ToSchema)]
pub struct LibreTranslateRequest {
    /// Text(s) to translate.
    pub q: Option<Query>,
    /// Source language code, or `auto`.
    #[serde(default = "auto")]
    pub source: String,
    /// Target language code.
    #[serde(default = "english")]
    pub target: String,
    /// `text` or `html`.
    #[serde(default = "text_format")]
    pub format: String,
    /// Number of alternative translations.
    #[serde(default)]
    pub alternatives: Option<serde_json::Value>,
    /// API key.
    pub api_key: Option<String>,
}

fn auto() -> String {
    "auto".into()
}
fn english() -> String {
    "en".into()
}
fn text_format() -> String {
    "text".into()
}

/// A detected language, as LibreTranslate reports it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DetectedLanguage {
    /// Confidence in percent.
    pub confidence: f64,
    /// ISO 639-1 code (ISO 639-3 for languages without one).
    pub language: String,
}

/// LibreTranslate `POST /translate` response.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LibreTranslateResponse {
    /// The translation(s), shaped like `q`.
    #[schema(value_type = serde_json::Value)]
    pub translated_text: serde_json::Value,
    /// With `source: auto`: the detected language(s), shaped like `q`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<serde_json::Value>)]
    pub detected_language: Option<serde_json::Value>,
    /// Alternative translations, when asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<serde_json::Value>)]
    pub alternatives: Option<serde_json::Value>,
}

/// LibreTranslate `GET /languages` entry.
#[derive(Debug, Serialize, ToSchema)]
pub struct Language {
    /// Language code.
    pub code: String,
    /// English name.
    pub name: String,
    /// Codes this language can be translated to.
    pub targets: Vec<String>,
}

/// LibreTranslate `POST /detect` body.
#[derive(Debug, Deserialize, ToSchema)]
pub struct DetectRequest {
    /// Text to identify.
    pub q: Option<String>,
    /// API key.
    pub api_key: Option<String>,
}

/// LibreTranslate answers every invalid request with 400, including well-formed JSON with
/// wrong field types (which `/v1` reports as 422).
fn as_bad_request(error: ApiError) -> ApiError {
    match error {
        ApiError::Unprocessable(message) => {
            ApiError::BadRequest(format!("Invalid request: {message}"))
        }
        other => other,
    }
}

/// Detects the language of `text` (whatlang's trigram model).
pub fn detect_language(text: &str) -> DetectedLanguage {
    match whatlang::detect(text) {
        Some(info) => {
            let code = info.lang().code();
            let language = match code {
                "fra" => "fr",
                "eng" => "en",
                "deu" => "de",
                "spa" => "es",
                "ita" => "it",
                "por" => "pt",
                "nld" => "nl",
                "rus" => "ru",
                "ara" => "ar",
                "cmn" => "zh",
                "jpn" => "ja",
                other => other,
            };
            DetectedLanguage {
                confidence: (info.confidence() * 100.0).round(),
                language: language.into(),
            }
        }
        None => DetectedLanguage {
            confidence: 0.0,
            language: "fr".into(),
        },
    }
}

fn languages_list() -> Vec<Language> {
    vec![
        Language {
            code: "en".into(),
            name: "English".into(),
            targets: vec!["en".into()],
        },
        Language {
            code: "fr".into(),
            name: "French".into(),
            targets: vec!["en".into()],
        },
    ]
}

/// Languages this server translates from, with their targets.
#[utoipa::path(get, path = "/languages", responses((status = 200, body = [Language])), tag = "libretranslate")]
pub async fn languages() -> Json<Vec<Language>> {
    Json(languages_list())
}

/// Detect the language of a text.
#[utoipa::path(
    post,
    path = "/detect",
    request_body = DetectRequest,
    responses((status = 200, body = [DetectedLanguage]), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)),
    tag = "libretranslate"
)]
pub async fn detect(
    State(state): State<AppState>,
    headers: HeaderMap,
    request: Result<JsonOrForm<DetectRequest>, ApiError>,
) -> Result<Json<Vec<DetectedLanguage>>, ApiError> {
    let JsonOrForm(request) = request.map_err(as_bad_request)?;
    state.authorize(&headers, request.api_key.as_deref())?;
    let q = request
        .q
        .ok_or_else(|| ApiError::BadRequest("Invalid request: missing q parameter".into()))?;
    check_texts(std::slice::from_ref(&q), &state.config().limits)?;
    Ok(Json(vec![detect_language(&q)]))
}

/// Translate text or HTML, LibreTranslate style.
#[utoipa::path(
    post,
    path = "/translate",
    request_body = LibreTranslateRequest,
    responses(
        (status = 200, body = LibreTranslateResponse),
        (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 413, body = ErrorBody),
        (status = 429, body = ErrorBody),
        (status = 500, body = ErrorBody),
    ),
    tag = "libretranslate"
)]
pub async fn translate(
    State(state): State<AppState>,
    headers: HeaderMap,
    request: Result<JsonOrForm<LibreTranslateRequest>, ApiError>,
) -> Result<Json<LibreTranslateResponse>, ApiError> {
    let JsonOrForm(request) = request.map_err(as_bad_request)?;
    state.authorize(&headers, request.api_key.as_deref())?;
    let (texts, many) = match request.q.clone() {
        Some(Query::One(text)) => (vec![text], false),
        Some(Query::Many(texts)) if !texts.is_empty() => (texts, true),
        Some(Query::Many(_)) => {
            return Err(ApiError::BadRequest(
                "Invalid request: q must not be an empty list".into(),
            ))
        }
        None => {
            return Err(ApiError::BadRequest(
                "Invalid request: missing q parameter".into(),
            ))
        }
    };
    let known = |code: &str| languages_list().iter().any(|l| l.code == code);
    if request.source != "auto" && !known(&request.source) {
        return Err(ApiError::BadRequest(format!(
            "{} is not supported; supported source languages: fr (and en, returned as is), or auto",
            request.source
        )));
    }
    if request.target != "en" {
        return Err(ApiError::BadRequest(format!(
            "{} is not supported as a target; supported pairs: fr→en",
            request.target
        )));
    }
    let html = match request.format.as_str() {
        "text" => false,
        "html" => true,
        other => {
            return Err(ApiError::BadRequest(format!(
                "format {other} is not supported (text or html)"
            )))
        }
    };
    let alternatives = match &request.alternatives {
        None | Some(serde_json::Value::Null) => 0,
        Some(value) => value
            .as_u64()
            .or_else(|| value.as_str().and_then(|s| s.parse().ok()))
            .ok_or_else(|| ApiError::BadRequest("alternatives must be a number".into()))?
            as usize,
    };
    let limits = state.config().limits.clone();
    check_texts(&texts, &limits)?;
    let engine = state.engine()?;

    let detected: Vec<DetectedLanguage> = texts.iter().map(|t| detect_language(t)).collect();
    let sources: Vec<String> = if request.source == "auto" {
        detected.iter().map(|d| d.language.clone()).collect()
    } else {
        vec![request.source.clone(); texts.len()]
    };
    // English input is returned as is; other detected languages are refused.
    if let Some(unsupported) = sources.iter().find(|s| *s != "fr" && *s != "en") {
        return Err(ApiError::BadRequest(format!(
            "detected language {unsupported} is not supported; supported pairs: fr→en"
        )));
    }

    // English input is returned as is; French texts are translated.
    let mut translated: Vec<String> = texts.clone();
    let mut alternative_lists: Vec<Vec<String>> = vec![Vec::new(); texts.len()];
    let french: Vec<usize> = (0..texts.len()).filter(|&i| sources[i] == "fr").collect();
    if html || alternatives > 0 {
        for &i in &french {
            if html {
                translated[i] = translate_html(&engine, &texts[i], &limits).await?;
            } else {
                let (main, alts) =
                    translate_plain(&engine, &texts[i], alternatives, &limits).await?;
                translated[i] = main;
                alternative_lists[i] = alts;
            }
        }
    } else if !french.is_empty() {
        // All plain texts go to the queue together, so they share batches.
        let batch: Vec<String> = french.iter().map(|&i| texts[i].clone()).collect();
        let outcomes = translate_texts(
            Arc::clone(&engine),
            batch,
            TranslateOptions::default(),
            &limits,
        )
        .await?;
        for (&i, outcome) in french.iter().zip(outcomes) {
            translated[i] = outcome.result.map_err(ApiError::Internal)?.text;
        }
    }

    let shape = |values: Vec<serde_json::Value>| {
        if many {
            serde_json::Value::Array(values)
        } else {
            values.into_iter().next().unwrap_or(serde_json::Value::Null)
        }
    };
    Ok(Json(LibreTranslateResponse {
        translated_text: shape(
            translated
                .into_iter()
                .map(serde_json::Value::String)
                .collect(),
        ),
        detected_language: (request.source == "auto").then(|| {
            shape(
                detected
                    .iter()
                    .map(|d| serde_json::to_value(d).unwrap_or(serde_json::Value::Null))
                    .collect(),
            )
        }),
        alternatives: (alternatives > 0).then(|| {
            shape(
                alternative_lists
                    .into_iter()
                    .map(serde_json::Value::from)
                    .collect(),
            )
        }),
    }))
}

/// Translates plain text; with `alternatives > 0`, beam search returns that many more hypotheses.
async fn translate_plain(
    engine: &Arc<Engine>,
    text: &str,
    alternatives: usize,
    limits: &crate::server::config::Limits,
) -> Result<(String, Vec<String>), ApiError> {
    let mut options = TranslateOptions::default();
    if alternatives > 0 {
        let beams = (alternatives + 1).max(engine.translator.generation_config(&options).num_beams);
        options.generation.beams = Some(beams);
        options.generation.num_return_sequences = Some(alternatives + 1);
    }
    let outcome = translate_texts(Arc::clone(engine), vec![text.to_string()], options, limits)
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| ApiError::Internal("no result".into()))?;
    let article = outcome.result.map_err(ApiError::Internal)?;
    // Alternatives are offered for single-sentence texts, as LibreTranslate does.
    let alternatives = match article.sentences.as_slice() {
        [only] => only.alternatives.clone(),
        _ => Vec::new(),
    };
    Ok((article.text, alternatives))
}

/// Translates the text runs of an HTML document, leaving the markup as it is.
async fn translate_html(
    engine: &Arc<Engine>,
    html: &str,
    limits: &crate::server::config::Limits,
) -> Result<String, ApiError> {
    let parts = segments(html);
    let mut runs = Vec::new();
    for part in &parts {
        if let Segment::Text(text) = part {
            let (_, content, _) = split_whitespace_edges(text);
            if !content.is_empty() {
                runs.push(content.replace('\n', " "));
            }
        }
    }
    let mut translations = if runs.is_empty() {
        Vec::new()
    } else {
        translate_texts(
            Arc::clone(engine),
            runs,
            TranslateOptions::default(),
            limits,
        )
        .await?
        .into_iter()
        .map(|o| o.result.map(|a| a.text).map_err(ApiError::Internal))
        .collect::<Result<Vec<_>, _>>()?
    }
    .into_iter();
    let mut out = String::with_capacity(html.len());
    for part in parts {
        match part {
            Segment::Markup(markup) => out.push_str(&markup),
            Segment::Text(text) => {
                let (lead, content, trail) = split_whitespace_edges(&text);
                out.push_str(&escape(lead));
                if !content.is_empty() {
                    out.push_str(&escape(&translations.next().unwrap_or_default()));
                }
                out.push_str(&escape(trail));
            }
        }
    }
    Ok(out)
}
