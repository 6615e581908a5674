//! Server settings: what `dragoman serve` reads from flags and `DRAGOMAN_*` variables.

use std::path::PathBuf;
use std::time::Duration;

/// Limits on what one request may ask for.
#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    /// Largest request body in bytes (413 above).
    pub max_body_bytes: usize,
    /// Most characters over all texts of one request (413 above).
    pub max_chars: usize,
    /// Most texts in one request (413 above).
    pub max_texts: usize,
    /// Largest beam width a request may ask for.
    pub max_beams: usize,
    /// Analyses (`/v1/analyze`, `/v1/summarize`) run at the same time; more wait their turn.
    pub max_concurrent_analyses: usize,
    /// Analyses admitted at once, running or waiting; more are answered with 429.
    pub max_queued_analyses: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_body_bytes: 2 * 1024 * 1024,
            max_chars: 100_000,
            max_texts: 128,
            max_beams: 8,
            max_concurrent_analyses: 1,
            max_queued_analyses: 64,
        }
    }
}

/// How the batching queue and its workers behave.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchSettings {
    /// Upper bound on `sentences × longest source` per model batch.
    pub max_batch_tokens: usize,
    /// Upper bound on sentences per model batch.
    pub max_batch_sentences: usize,
    /// How long an idle worker waits for more work before starting a batch.
    pub max_wait: Duration,
    /// Most sentences waiting in the queue; more is answered with 429.
    pub queue_capacity: usize,
    /// Model worker threads.
    pub workers: usize,
}

impl Default for BatchSettings {
    fn default() -> Self {
        Self {
            max_batch_tokens: 4096,
            max_batch_sentences: 32,
            max_wait: Duration::from_millis(5),
            queue_capacity: 2048,
            workers: 1,
        }
    }
}

/// Batch jobs over HTTP (`/v1/jobs`), kept in a SQLite file (this server's alone) or a
/// PostgreSQL database (a queue shared by several servers).
#[derive(Debug, Clone, PartialEq)]
pub struct JobSettings {
    /// The database holding jobs, their items and results (a SQLite file is created if
    /// missing).
    pub db: crate::jobs::StoreLocation,
    /// Largest `POST /v1/jobs` body in bytes (413 above); the other routes keep
    /// [`Limits::max_body_bytes`].
    pub max_body_bytes: usize,
    /// Items claimed and run through the models at once.
    pub batch_size: usize,
    /// How long a claim holds its items; renewed every third of it while a batch runs. On
    /// SQLite a server that died gives its items back at its next start; on PostgreSQL the other
    /// servers take them over once the lease ran out.
    pub lease: Duration,
    /// Failed items listed by `GET /v1/jobs/{id}`.
    pub errors_listed: usize,
}

/// How long a server's claim on job items lasts by default (seconds).
pub const DEFAULT_JOB_LEASE_SECS: u64 = 60;

/// Where `dragoman serve` keeps jobs unless told otherwise: in the working directory.
pub const DEFAULT_JOBS_DB: &str = "dragoman-jobs.db";

impl Default for JobSettings {
    fn default() -> Self {
        Self {
            db: crate::jobs::StoreLocation::Sqlite(PathBuf::from(DEFAULT_JOBS_DB)),
            max_body_bytes: 64 * 1024 * 1024,
            batch_size: 16,
            lease: Duration::from_secs(DEFAULT_JOB_LEASE_SECS),
            errors_listed: 20,
        }
    }
}

/// Everything the server needs besides its listening socket.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Translation model: Hub id (`owner/name[@rev]`) or local directory.
    pub model: String,
    /// Device to run on.
    pub device: candle_core::Device,
    /// How the translation model's weight matrices are stored (f32 or int8).
    pub quantization: crate::models::Quantization,
    /// Batching and queue.
    pub batching: BatchSettings,
    /// Request limits.
    pub limits: Limits,
    /// Accepted API keys; empty means no key is required.
    pub api_keys: Vec<String>,
    /// Analysis models; `None` serves translation only (`/v1/analyze` answers 501).
    pub analysis: Option<crate::pipeline::setup::AnalysisModels>,
    /// Batch jobs; `None` serves no `/v1/jobs` (501).
    pub jobs: Option<JobSettings>,
}
