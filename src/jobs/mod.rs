//! Durable batch jobs: JSONL in, JSONL out, resumable after any interruption, every input exactly
//! once in the output.
//!
//! - [`input`] reads the input file, identifies it (path, size, SHA-256) and turns its lines
//!   into items (bad lines become error results at once).
//! - [`store`] is the [`JobStore`] trait: jobs, items with states queued/running/done/failed,
//!   claim-with-lease, results kept in the database, and the semantics shared workers rely on.
//!   [`sqlite`] implements it on one SQLite file, [`postgres`] on a PostgreSQL database that
//!   several processes share; [`open`] picks one from a URL or path.
//!   [`JobService`] adds what the HTTP server's jobs API needs: many jobs in one store, cancel,
//!   list, read results.
//! - [`task`] runs a batch of texts through a model pipeline (translate, summarize, analyze).
//! - [`runner`] claims items in batches, runs them, stores the results transactionally.
//! - [`output`] copies the finished prefix of results to OUT.jsonl, in input order, exactly once.
//! - [`progress`] reports progress on stderr (a bar on a terminal, plain lines otherwise).
//!
//! The CLI (`dragoman batch`) wires them together; see the README's "Batch jobs".

pub mod input;
mod migrate;
pub mod open;
pub mod output;
pub mod postgres;
pub mod progress;
pub mod runner;
pub mod sqlite;
pub mod store;
pub mod task;

use std::path::PathBuf;

use thiserror::Error;

pub use input::{parse_item, InputFile, ItemFields, NewItem};
pub use open::{open_store, AnyStore, StoreLocation};
pub use output::OutputFile;
pub use postgres::PostgresStore;
pub use runner::{
    open_job, open_shared_job, run_job, worker_name, Lease, OpenedJob, RunSummary, RunnerConfig,
};
pub use sqlite::{SqliteAccess, SqliteStore};
pub use store::{
    is_duplicate_job, ClaimedItem, ItemOutcome, ItemState, Job, JobCounts, JobId, JobRecord,
    JobService, JobSpec, JobState, JobStore, OutputMark, ResultLine,
};
pub use task::{AnalyzeTask, Task, TaskKind, TranslateTask};

/// Why a batch job cannot go on.
#[derive(Debug, Error)]
pub enum JobError {
    /// The input file cannot be read.
    #[error("cannot read the input {path}: {source}")]
    Input {
        /// The input path.
        path: PathBuf,
        /// The I/O failure.
        source: std::io::Error,
    },
    /// The output file cannot be written.
    #[error("cannot write the output {path}: {source}")]
    Output {
        /// The output path.
        path: PathBuf,
        /// The I/O failure.
        source: std::io::Error,
    },
    /// The job database cannot be reached (or its URL is malformed).
    #[error("cannot connect to the job database {location}: {cause}")]
    Connect {
        /// Where it was looked for (the URL without its password).
        location: String,
        /// The failure (its message is part of this one, so it is not chained as a source).
        cause: sqlx::Error,
    },
    /// The state database failed.
    #[error("state database: {0}")]
    Database(#[from] sqlx::Error),
    /// The state database's schema could not be set up.
    #[error("state database schema: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// Another process holds the state file.
    #[error("the state file {0} is in use by another `dragoman batch` (or is locked)")]
    StateInUse(PathBuf),
    /// The state file belongs to a different job (other input, output, task or options).
    #[error("the state file {state} belongs to another job ({existing}); this command is for {requested}. Rerun with --restart to discard the old job, or pass --state with another file")]
    DifferentJob {
        /// The state file.
        state: PathBuf,
        /// What the stored job was for.
        existing: String,
        /// What this command asks for.
        requested: String,
    },
    /// The state contradicts itself (e.g. another writer moved the output mark).
    #[error("inconsistent job state: {0}")]
    Inconsistent(String),
    /// A task worker thread panicked or was cancelled.
    #[error("the model worker failed: {0}")]
    Worker(String),
}
