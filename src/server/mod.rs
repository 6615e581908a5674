//! The HTTP service: axum routes over a batching queue of dedicated model threads.
//!
//! - [`config`]: settings; [`state`]: shared state and model loading status.
//! - [`queue`]: the batching queue and its worker threads (model work never runs on the async runtime).
//! - [`service`]: validation and one queue job per text, shared by the translation routes.
//! - [`jobs`]: the worker that runs `/v1/jobs` batch jobs through the queue at low priority.
//! - [`routes`]: `/v1/translate`, `/v1/analyze`, `/v1/summarize`, `/v1/jobs`, LibreTranslate's `/translate`, `/languages`, `/detect`,
//!   `/health`, `/ready`, `/metrics`, `/v1/models`, `/v1/status`, `/openapi.json`, `/docs`, and
//!   the analyst console at `/` (static files compiled in, `routes::console`).
//! - [`error`]: one `ApiError` mapped to status codes and a JSON body in one place.

pub mod config;
pub mod error;
pub mod extract;
pub mod jobs;
pub mod queue;
pub mod routes;
pub mod service;
pub mod state;
pub mod types;

use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use tokio::net::TcpListener;

pub use config::{
    BatchSettings, JobSettings, Limits, ServerConfig, DEFAULT_JOBS_DB, DEFAULT_JOB_LEASE_SECS,
};
pub use state::AppState;

use crate::models::{ModelSource, TranslationModel};
use crate::pipeline::{TranslateOptions, Translator};
use queue::{Queue, Workers};
use state::{Engine, Loading};

/// Builds the router over `state`.
pub fn router(state: AppState) -> Router {
    let body_limit = state.config().limits.max_body_bytes;
    Router::new()
        .route("/", get(routes::console::page))
        .route("/console/console.js", get(routes::console::script))
        .route("/console/console.css", get(routes::console::stylesheet))
        .route("/v1/status", get(routes::status::server_status))
        .route("/v1/translate", post(routes::translate::translate))
        .route("/v1/analyze", post(routes::analyze::analyze))
        .route("/v1/summarize", post(routes::analyze::summarize))
        .route(
            "/v1/jobs",
            post(routes::jobs::create_job).get(routes::jobs::list_jobs),
        )
        .route(
            "/v1/jobs/{id}",
            get(routes::jobs::get_job).delete(routes::jobs::cancel_job),
        )
        .route("/v1/jobs/{id}/results", get(routes::jobs::job_results))
        .route("/translate", post(routes::libre::translate))
        .route("/languages", get(routes::libre::languages))
        .route("/detect", post(routes::libre::detect))
        .route("/health", get(routes::status::health))
        .route("/ready", get(routes::status::ready))
        .route("/metrics", get(routes::status::metrics))
        .route("/v1/models", get(routes::status::models))
        .route("/openapi.json", get(routes::status::openapi))
        .route("/docs", get(routes::status::docs))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            record_request,
        ))
        .layer(DefaultBodyLimit::max(body_limit))
        .with_state(state)
}

async fn not_found() -> error::ApiError {
    error::ApiError::NotFound
}

async fn method_not_allowed() -> error::ApiError {
    error::ApiError::MethodNotAllowed
}

/// Counts requests by route and status and records their latency.
async fn record_request(State(_state): State<AppState>, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let method = request.method().to_string();
    let started = Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!("dragoman_requests_total", "route" => route.clone(), "method" => method, "status" => status)
        .increment(1);
    metrics::histogram!("dragoman_request_duration_seconds", "route" => route)
        .record(started.elapsed().as_secs_f64());
    response
}

/// Loads the model, starts the workers and warms up; records the outcome in `state`.
fn load_engine(state: &AppState) -> Option<Workers> {
    let config = state.config().clone();
    let loaded = ModelSource::parse(&config.model).and_then(|source| {
        TranslationModel::load_with(&source, &config.device, config.quantization)
    });
    let model = match loaded {
        Ok(model) => model,
        Err(e) => {
            tracing::error!(error = %e, "model loading failed");
            state.set_loading(Loading::Failed(e.to_string()));
            return None;
        }
    };
    let info = model.info.clone();
    let translator = Arc::new(Translator::new(model));
    // Warm-up: one short translation before declaring readiness.
    let warmup = TranslateOptions {
        generation: crate::models::GenerationOptions {
            beams: Some(1),
            max_new_tokens: Some(4),
            ..Default::default()
        },
        ..TranslateOptions::default()
    };
    if let Err(e) = translator.translate_article("Bonjour.", &warmup) {
        tracing::error!(error = %e, "warm-up failed");
        state.set_loading(Loading::Failed(format!("warm-up failed: {e}")));
        return None;
    }
    let analysis = match &config.analysis {
        None => None,
        Some(models) => match crate::pipeline::setup::load_analyzer(models, &config.device) {
            Ok(analyzer) => Some(state::Analysis {
                analyzer: Arc::new(analyzer),
                admitted: Arc::new(tokio::sync::Semaphore::new(
                    config.limits.max_queued_analyses.max(1),
                )),
                running: Arc::new(tokio::sync::Semaphore::new(
                    config.limits.max_concurrent_analyses.max(1),
                )),
            }),
            Err(e) => {
                tracing::error!(error = %e, "analysis model loading failed");
                state.set_loading(Loading::Failed(e.to_string()));
                return None;
            }
        },
    };
    let (queue, workers) = Queue::start(Arc::clone(&translator), &config.batching);
    state.set_loading(Loading::Ready(Arc::new(Engine {
        translator,
        queue,
        info,
        analysis,
    })));
    tracing::info!("model ready");
    Some(workers)
}

/// Opens the jobs database of `settings` (a SQLite file is opened shared: several jobs in one
/// file).
async fn open_jobs(settings: &JobSettings) -> std::io::Result<state::Jobs> {
    let store = crate::jobs::AnyStore::open(&settings.db, crate::jobs::SqliteAccess::Shared)
        .await
        .map_err(|e| {
            std::io::Error::other(format!(
                "cannot open the jobs database {}: {e}",
                settings.db
            ))
        })?;
    Ok(state::Jobs {
        store,
        settings: settings.clone(),
        wake: tokio::sync::Notify::new(),
    })
}

/// Serves on `listener` until `shutdown` resolves, then stops accepting, finishes in-flight
/// requests and stops the model workers. With jobs configured, opens the jobs database first
/// (an error when it cannot be opened) and runs the job worker, which resumes unfinished jobs.
pub async fn serve(
    config: ServerConfig,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let jobs = match &config.jobs {
        Some(settings) => Some(open_jobs(settings).await?),
        None => None,
    };
    let state = AppState::with_jobs(config, jobs);
    let job_worker = state
        .jobs()
        .is_ok()
        .then(|| tokio::spawn(jobs::run_worker(state.clone())));
    let loader_state = state.clone();
    let loader = tokio::task::spawn_blocking(move || load_engine(&loader_state));
    let app = router(state.clone());
    tracing::info!(address = %listener.local_addr()?, "listening");
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await;
    // Stop the job worker: items it was running stay `running` and are queued again at the
    // next start.
    if let Some(worker) = job_worker {
        worker.abort();
        let _ = worker.await;
    }
    served?;
    // Let loading end first: when the shutdown came during loading, the loader would otherwise
    // install a queue after it was dropped below and the workers would never stop.
    let workers = loader.await.ok().flatten();
    // Drop the queue handles so that the workers see the channel close, then wait for them.
    state.set_loading(Loading::Pending);
    if let Some(workers) = workers {
        tokio::task::spawn_blocking(move || workers.join())
            .await
            .map_err(std::io::Error::other)?;
    }
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutdown requested: finishing in-flight requests");
}
