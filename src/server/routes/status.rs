//! Liveness, readiness, metrics, loaded models, the OpenAPI document and its docs page.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::Json;
use utoipa::OpenApi;

use crate::server::state::AppState;
use crate::server::types::{ModelEntry, Status};

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
        models
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
