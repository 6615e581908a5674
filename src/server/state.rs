//! Shared server state: the configuration, the model once loaded, and the metrics handle.

use std::sync::{Arc, OnceLock, RwLock};
use std::time::Instant;

use axum::http::HeaderMap;
use metrics_exporter_prometheus::PrometheusHandle;

use super::config::ServerConfig;
use super::error::ApiError;
use super::queue::Queue;
use crate::models::ModelInfo;
use crate::pipeline::{Analyzer, Translator};

/// A loaded model with its queue.
pub struct Engine {
    /// The model and article logic (tokenization, assembly).
    pub translator: Arc<Translator>,
    /// Where model work goes.
    pub queue: Queue,
    /// What was loaded.
    pub info: ModelInfo,
    /// The analysis models, when the server analyses.
    pub analysis: Option<Analysis>,
}

/// The analyzer with its admission control.
pub struct Analysis {
    /// Summary, tags and entities.
    pub analyzer: Arc<Analyzer>,
    /// Admission: analyses running or waiting (`try_acquire`, 429 when none is left).
    pub admitted: Arc<tokio::sync::Semaphore>,
    /// Analyses running at once.
    pub running: Arc<tokio::sync::Semaphore>,
}

/// The jobs database with what the job worker needs.
pub struct Jobs {
    /// Jobs, items and results.
    pub store: crate::jobs::AnyStore,
    /// The settings it was opened with.
    pub settings: super::config::JobSettings,
    /// Wakes the job worker when a job arrives.
    pub wake: tokio::sync::Notify,
}

/// Where model loading stands.
pub enum Loading {
    /// Still loading or warming up.
    Pending,
    /// Ready to serve.
    Ready(Arc<Engine>),
    /// Loading failed; the server answers 503 with the reason.
    Failed(String),
}

/// State shared by every handler.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    config: ServerConfig,
    loading: RwLock<Loading>,
    metrics: PrometheusHandle,
    started: Instant,
    jobs: Option<Jobs>,
}

/// The process-wide Prometheus recorder (the `metrics` facade allows one per process).
pub fn metrics_handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            use metrics_exporter_prometheus::Matcher;
            let recorder = metrics_exporter_prometheus::PrometheusBuilder::new()
                .set_buckets(&[
                    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
                    60.0,
                ])
                .and_then(|b| {
                    b.set_buckets_for_metric(
                        Matcher::Full("dragoman_batch_size".into()),
                        &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0],
                    )
                })
                .map(|b| b.build_recorder())
                .unwrap_or_else(|_| {
                    metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder()
                });
            let handle = recorder.handle();
            // Another recorder may already be installed (e.g. by an embedding application).
            let _ = metrics::set_global_recorder(recorder);
            handle
        })
        .clone()
}

impl AppState {
    /// New state with the model not loaded yet and no jobs.
    pub fn new(config: ServerConfig) -> Self {
        Self::with_jobs(config, None)
    }

    /// New state with the model not loaded yet, running the jobs of `jobs`.
    pub fn with_jobs(config: ServerConfig, jobs: Option<Jobs>) -> Self {
        Self {
            inner: Arc::new(Inner {
                config,
                loading: RwLock::new(Loading::Pending),
                metrics: metrics_handle(),
                started: Instant::now(),
                jobs,
            }),
        }
    }

    /// The jobs database, or 501 when this server runs no jobs.
    pub fn jobs(&self) -> Result<&Jobs, ApiError> {
        self.inner.jobs.as_ref().ok_or(ApiError::JobsDisabled)
    }

    /// The server configuration.
    pub fn config(&self) -> &ServerConfig {
        &self.inner.config
    }

    /// Prometheus text exposition of all metrics.
    pub fn render_metrics(&self) -> String {
        self.inner.metrics.render()
    }

    /// Seconds since the server started.
    pub fn uptime_seconds(&self) -> f64 {
        self.inner.started.elapsed().as_secs_f64()
    }

    /// Records the outcome of model loading.
    pub fn set_loading(&self, loading: Loading) {
        if let Ok(mut slot) = self.inner.loading.write() {
            *slot = loading;
        }
    }

    /// The engine, or 503 while it is loading (or failed to load).
    pub fn engine(&self) -> Result<Arc<Engine>, ApiError> {
        match &*self.inner.loading.read().map_err(|_| ApiError::NotReady)? {
            Loading::Ready(engine) => Ok(Arc::clone(engine)),
            _ => Err(ApiError::NotReady),
        }
    }

    /// `None` when ready, else the reason (`loading` or the load error).
    pub fn not_ready_reason(&self) -> Option<(String, Option<String>)> {
        match self.inner.loading.read().as_deref() {
            Ok(Loading::Ready(_)) => None,
            Ok(Loading::Pending) => Some(("loading".into(), None)),
            Ok(Loading::Failed(reason)) => Some(("failed".into(), Some(reason.clone()))),
            Err(_) => Some(("failed".into(), Some("state lock poisoned".into()))),
        }
    }

    /// Checks the API key from headers (`Authorization: Bearer`, `X-API-Key`) or a body field.
    pub fn authorize(&self, headers: &HeaderMap, body_key: Option<&str>) -> Result<(), ApiError> {
        let keys = &self.inner.config.api_keys;
        if keys.is_empty() {
            return Ok(());
        }
        let from_header = headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                let (scheme, key) = v.trim().split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then_some(key)
            })
            .or_else(|| headers.get("x-api-key").and_then(|v| v.to_str().ok()));
        match from_header
            .or(body_key)
            .map(str::trim)
            .filter(|k| !k.is_empty())
        {
            None => Err(ApiError::MissingApiKey),
            Some(key) if keys.iter().any(|k| k == key) => Ok(()),
            Some(_) => Err(ApiError::InvalidApiKey),
        }
    }
}
