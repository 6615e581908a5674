//! One error type for every route, mapped to an HTTP status and a JSON body
//! `{"error": "...", "code": "..."}` in one place. LibreTranslate clients read `error`.

use std::time::Duration;

use axum::extract::rejection::{FormRejection, JsonRejection};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

/// The JSON body of every error response.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// What went wrong, for a person.
    #[schema(example = "texts must not be empty")]
    pub error: String,
    /// A stable machine-readable code.
    #[schema(example = "invalid_request")]
    pub code: &'static str,
}

/// Every way a request can fail.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Malformed or invalid input (400).
    #[error("{0}")]
    BadRequest(String),
    /// Well-formed JSON with the wrong fields or types (422).
    #[error("{0}")]
    Unprocessable(String),
    /// Body, characters or texts over the limit (413).
    #[error("{0}")]
    TooLarge(String),
    /// Unsupported content type (415).
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// No API key given while keys are configured (401).
    #[error("an API key is required: send it as `Authorization: Bearer <key>`, `X-API-Key` or `api_key`")]
    MissingApiKey,
    /// The API key is not one of the configured keys (403).
    #[error("invalid API key")]
    InvalidApiKey,
    /// The queue is full (429).
    #[error(
        "the server is busy: {queued} sentences are queued (capacity {capacity}); retry shortly"
    )]
    QueueFull {
        /// Sentences waiting.
        queued: usize,
        /// Queue capacity in sentences.
        capacity: usize,
        /// Suggested wait.
        retry_after: Duration,
    },
    /// The route exists but not for this method (405).
    #[error("method not allowed for this endpoint; see /docs")]
    MethodNotAllowed,
    /// No such route (404).
    #[error("no such endpoint; see /docs")]
    NotFound,
    /// The model is still loading (503).
    #[error("the model is still loading; retry shortly")]
    NotReady,
    /// The model failed (500).
    #[error("translation failed: {0}")]
    Internal(String),
    /// The analysis failed (500).
    #[error("analysis failed: {0}")]
    AnalysisFailed(String),
    /// This server was started without analysis models (501).
    #[error("this server does not analyse articles (it was started with --no-analysis); /v1/translate works")]
    AnalysisDisabled,
    /// No job with this id (404).
    #[error("no job {0}")]
    JobNotFound(String),
    /// This server was started without a jobs database (501).
    #[error("this server runs no batch jobs (it was started with --no-jobs)")]
    JobsDisabled,
    /// The jobs database failed (500).
    #[error("jobs database: {0}")]
    JobStore(String),
    /// Too many analyses running or waiting (429).
    #[error("the server is busy: {0} analyses are running or waiting; retry shortly")]
    AnalysesFull(usize),
}

impl ApiError {
    /// HTTP status of this error.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::MissingApiKey => StatusCode::UNAUTHORIZED,
            Self::InvalidApiKey => StatusCode::FORBIDDEN,
            Self::QueueFull { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::NotReady => StatusCode::SERVICE_UNAVAILABLE,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Internal(_) | Self::AnalysisFailed(_) => StatusCode::INTERNAL_SERVER_ERROR,
            Self::AnalysisDisabled => StatusCode::NOT_IMPLEMENTED,
            Self::AnalysesFull(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::JobNotFound(_) => StatusCode::NOT_FOUND,
            Self::JobsDisabled => StatusCode::NOT_IMPLEMENTED,
            Self::JobStore(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Stable code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            Self::BadRequest(_) => "invalid_request",
            Self::Unprocessable(_) => "invalid_field",
            Self::TooLarge(_) => "too_large",
            Self::UnsupportedMediaType(_) => "unsupported_media_type",
            Self::MissingApiKey => "missing_api_key",
            Self::InvalidApiKey => "invalid_api_key",
            Self::QueueFull { .. } => "queue_full",
            Self::NotReady => "not_ready",
            Self::NotFound => "not_found",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::Internal(_) => "internal",
            Self::AnalysisFailed(_) => "analysis_failed",
            Self::AnalysisDisabled => "analysis_disabled",
            Self::AnalysesFull(_) => "busy",
            Self::JobNotFound(_) => "job_not_found",
            Self::JobsDisabled => "jobs_disabled",
            Self::JobStore(_) => "job_store",
        }
    }

    /// The body of this error.
    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            error: self.to_string(),
            code: self.code(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let mut response = (status, axum::Json(self.body())).into_response();
        let retry = match &self {
            Self::QueueFull { retry_after, .. } => Some(retry_after.as_secs().max(1)),
            Self::NotReady => Some(5),
            Self::AnalysesFull(_) => Some(2),
            _ => None,
        };
        if let Some(seconds) = retry {
            if let Ok(value) = seconds.to_string().parse() {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
        }
        response
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        match rejection {
            JsonRejection::JsonDataError(e) => Self::Unprocessable(e.body_text()),
            JsonRejection::JsonSyntaxError(e) => Self::BadRequest(e.body_text()),
            JsonRejection::MissingJsonContentType(_) => Self::UnsupportedMediaType(
                "expected a JSON body with `Content-Type: application/json`".into(),
            ),
            other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Self::TooLarge(format!("request body too large: {}", other.body_text()))
            }
            other => Self::BadRequest(other.body_text()),
        }
    }
}

impl From<FormRejection> for ApiError {
    fn from(rejection: FormRejection) -> Self {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            Self::TooLarge(format!("request body too large: {}", rejection.body_text()))
        } else {
            Self::BadRequest(rejection.body_text())
        }
    }
}

impl From<crate::jobs::JobError> for ApiError {
    fn from(error: crate::jobs::JobError) -> Self {
        Self::JobStore(error.to_string())
    }
}
