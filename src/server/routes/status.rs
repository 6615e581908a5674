//! Liveness, readiness, metrics, loaded models, the OpenAPI document and its docs page.

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::Json;
use utoipa::OpenApi;

use crate::jobs::{JobService, JobState};
use crate::server::error::{ApiError, ErrorBody};
use crate::server::state::AppState;
use crate::server::types::{
    JobsStatus, LimitsStatus, LoadedModel, ModelEntry, QueueStatus, ServerStatus, Status,
};

fn status(status: &str, detail: Option<String>) -> Status {
    Status {
        status: status.into(),
        detail,
        version: env!("CARGO_PKG_VERSION").into(),
    }
}

/// The process is alive (it may still be loading its model).
#[utoipa::path(get, path = "/health", responses((status = 200, body = Status)), tag = "status")]
pub async fn health() -> Json<Status> {
    Json(status("ok", None))
}

/// The model is loaded and warmed up (503 until then, or if loading failed).
#[utoipa::path(
    get,
    path = "/ready",
    responses((status = 200, body = Status), (status = 503, body = Status)),
    tag = "status"
)]
pub async fn ready(State(state): State<AppState>) -> Response {
    match state.not_ready_reason() {
        None => Json(status("ok", None)).into_response(),
        Some((reason, detail)) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(status(&reason, detail)),
        )
            .into_response(),
    }
}

/// Prometheus metrics.
#[utoipa::path(get, path = "/metrics", responses((status = 200, body = String)), tag = "status")]
pub async fn metrics(State(state): State<AppState>) -> Response {
    if let Ok(engine) = state.engine() {
        metrics::gauge!("dragoman_queue_sentences").set(engine.queue.depth() as f64);
    }
    metrics::gauge!("dragoman_uptime_seconds").set(state.uptime_seconds());
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.render_metrics(),
    )
        .into_response()
}

/// What is loaded, from which repo and revision.
#[utoipa::path(get, path = "/v1/models", responses((status = 200, body = [ModelEntry])), tag = "status")]
pub async fn models(State(state): State<AppState>) -> Json<Vec<ModelEntry>> {
    let entries = match state.engine() {
        Ok(engine) => vec![ModelEntry {
            task: "translation".into(),
            source: engine.info.source.clone(),
            weights_file: engine.info.weights_file.clone(),
            languages: "fr→en".into(),
            max_positions: engine.info.max_positions,
            load_time_ms: engine.info.load_time.as_secs_f64() * 1000.0,
        }],
        Err(_) => Vec::new(),
    };
    Json(entries)
}

/// Readiness, loaded models (all of them, with revisions), queue depth, jobs by state and
/// request limits: what the console's status line shows.
#[utoipa::path(
    get,
    path = "/v1/status",
    responses(
        (status = 200, body = ServerStatus),
        (status = 401, description = "API key required", body = ErrorBody),
        (status = 403, description = "Invalid API key", body = ErrorBody),
    ),
    tag = "status"
)]
pub async fn server_status(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<ServerStatus>, ApiError> {
    state.authorize(&headers, None)?;
    let (status, detail) = state
        .not_ready_reason()
        .unwrap_or_else(|| ("ok".into(), None));
    let mut models = Vec::new();
    let mut queue = None;
    let mut analysis = false;
    if let Ok(engine) = state.engine() {
        models.push(LoadedModel {
            task: "translation".into(),
            source: engine.info.source.clone(),
        });
        let mut analyses = 0;
        if let Some(loaded) = &engine.analysis {
            analysis = true;
            let used = loaded.analyzer.models();
            let named = [
                ("summarization", used.summarizer),
                ("embedding", Some(used.embedding)),
                ("ner", used.ner),
            ];
            for (task, source) in named {
                if let Some(source) = source {
                    models.push(LoadedModel {
                        task: task.into(),
                        source,
                    });
                }
            }
            analyses = state
                .config()
                .limits
                .max_queued_analyses
                .saturating_sub(loaded.admitted.available_permits());
        }
        queue = Some(QueueStatus {
            sentences: engine.queue.depth(),
            analyses,
        });
    }
    let jobs = match state.jobs() {
        Ok(jobs) => {
            let recent = jobs.store.recent_jobs(100).await?;
            let count = |wanted: JobState| recent.iter().filter(|r| r.state() == wanted).count();
            Some(JobsStatus {
                queued: count(JobState::Queued),
                running: count(JobState::Running),
            })
        }
        Err(_) => None,
    };
    let limits = &state.config().limits;
    Ok(Json(ServerStatus {
        status,
        detail,
        version: env!("CARGO_PKG_VERSION").into(),
        models,
        analysis,
        queue,
        jobs,
        limits: LimitsStatus {
            max_chars: limits.max_chars,
            max_texts: limits.max_texts,
            max_beams: limits.max_beams,
        },
        api_key_required: !state.config().api_keys.is_empty(),
    }))
}

/// The OpenAPI description of this server, generated from the code.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "dragoman",
        description = "French news to English: translation API, batch jobs, LibreTranslate-compatible endpoints."
    ),
    paths(
        crate::server::routes::translate::translate,
        crate::server::routes::analyze::analyze,
        crate::server::routes::analyze::summarize,
        crate::server::routes::jobs::create_job,
        crate::server::routes::jobs::list_jobs,
        crate::server::routes::jobs::get_job,
        crate::server::routes::jobs::job_results,
        crate::server::routes::jobs::cancel_job,
        crate::server::routes::libre::translate,
        crate::server::routes::libre::languages,
        crate::server::routes::libre::detect,
        health,
        ready,
        metrics,
        models,
        server_status
    ),
    components(schemas(crate::server::error::ErrorBody))
)]
pub struct ApiDoc;

/// `GET /openapi.json`.
pub async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

/// `GET /docs`: a self-contained page listing the API (no CDN, works offline).
pub async fn docs() -> Html<&'static str> {
    Html(include_str!("docs.html"))
}
