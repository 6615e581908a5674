//! The durable state of batch jobs, behind one trait so that the CLI's SQLite file and a shared
//! PostgreSQL queue (several servers, `FOR UPDATE SKIP LOCKED`) are interchangeable.
//!
//! The model of a job: items in input order (`seq`), each `queued` → `running` (claimed by a
//! worker with a lease) → `done` or `failed`, with its output line stored in the database. A lease
//! that runs out puts the item back in play, so a worker that dies loses nothing; completing an
//! item checks that the worker still holds it, so two workers never both finish one item.
//! The output file is a copy of the finished prefix, tracked by [`OutputMark`].
//!
//! # Semantics every store keeps (what several workers sharing a job rely on)
//!
//! - **Claims are exclusive.** [`JobStore::claim`] hands an item to one worker at a time: an item
//!   is claimable when it is `queued`, or `running` with a lease that has run out. Two workers
//!   claiming at once get disjoint items (PostgreSQL: `FOR UPDATE SKIP LOCKED`, so they do not
//!   wait for each other; SQLite: one writer at a time). Every claim counts an attempt.
//! - **A lease is ownership until someone else claims.** A worker holds its items until it
//!   completes them or another worker claims them after the lease ran out. Its
//!   [`JobStore::complete`] stores only the items it still holds: a late worker whose items were
//!   taken over stores nothing for them, so no item is finished twice and a finished result never
//!   changes. (A late completion that nobody took over yet is kept: the work is not wasted.)
//! - **Leases are renewed** by [`JobStore::renew_lease`] while a batch runs longer than a lease.
//! - **Lease clocks**: PostgreSQL compares leases with the database server's clock, so the
//!   workers' clocks do not matter; SQLite uses the clock of the machine it runs on.
//! - **Jobs are found by their spec** ([`JobSpec::fingerprint`] is unique in a store), so workers
//!   started with the same command join the same job; two creating it at once get one job (the
//!   loser's [`JobStore::create_job`] fails with a unique violation, see [`is_duplicate_job`]).
//! - **The output mark only moves forward from where the caller saw it**
//!   ([`JobStore::advance_output`] is a compare-and-set), so two output writers cannot both
//!   record a range; [`crate::jobs::OutputFile`] also takes a file lock while appending.

use std::future::Future;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::input::NewItem;
use super::JobError;

/// A job's database id.
pub type JobId = i64;

/// What a job is: a task over one input file into one output file. Two commands with the same
/// spec are the same job (the second resumes the first).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobSpec {
    /// The task name (`translate`, `summarize`, `analyze`).
    pub task: String,
    /// Everything else that changes results (models, beams, source language…), as JSON.
    pub options: serde_json::Value,
    /// The input file's absolute path.
    pub input_path: String,
    /// Its size in bytes.
    pub input_size: u64,
    /// Its content's SHA-256, hex.
    pub input_sha256: String,
    /// The output file's absolute path.
    pub output_path: String,
}

impl JobSpec {
    /// The job's identity: SHA-256 of the whole spec.
    pub fn fingerprint(&self) -> String {
        let canonical = serde_json::to_vec(self).expect("a JobSpec serializes; this is a bug");
        hex(&Sha256::digest(&canonical))
    }

    /// A one-line description for messages.
    pub fn describe(&self) -> String {
        format!(
            "task {} on {} ({} bytes, sha256 {}…) into {}, options {}",
            self.task,
            self.input_path,
            self.input_size,
            &self.input_sha256[..self.input_sha256.len().min(12)],
            self.output_path,
            self.options
        )
    }
}

/// True when `error` is [`JobStore::create_job`] losing a race to create the same job (the
/// fingerprint is unique): the caller should look the job up again.
pub fn is_duplicate_job(error: &JobError) -> bool {
    match error {
        JobError::Database(sqlx::Error::Database(e)) => e.is_unique_violation(),
        _ => false,
    }
}

/// Lower-case hex of bytes.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// How much of the output file is written: items `[0, next)` occupy exactly `offset` bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OutputMark {
    /// The first item not yet in the output.
    pub next: u64,
    /// The output's length in bytes.
    pub offset: u64,
}

/// A stored job.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    /// Its id.
    pub id: JobId,
    /// What it is.
    pub spec: JobSpec,
    /// Number of items.
    pub total: u64,
    /// How much of the output is written.
    pub output: OutputMark,
    /// When every item was finished and written (Unix milliseconds).
    pub finished_at: Option<i64>,
}

/// An item's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemState {
    /// Waiting for a worker.
    Queued,
    /// Claimed by a worker whose lease has not run out.
    Running,
    /// Finished with a result.
    Done,
    /// Finished with an error.
    Failed,
}

impl ItemState {
    /// The name stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Done => "done",
            Self::Failed => "failed",
        }
    }

    /// The state named `name`.
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "queued" => Self::Queued,
            "running" => Self::Running,
            "done" => Self::Done,
            "failed" => Self::Failed,
            _ => return None,
        })
    }

    /// True for done and failed.
    pub fn is_finished(self) -> bool {
        matches!(self, Self::Done | Self::Failed)
    }
}

/// An item handed to a worker.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimedItem {
    /// Its position in the output.
    pub seq: u64,
    /// Its line in the input file (1-based).
    pub line: u64,
    /// The input line (a JSON object with a text).
    pub input: String,
    /// How many times it has been claimed, this time included.
    pub attempts: u32,
}

/// How an item ended.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemOutcome {
    /// The item.
    pub seq: u64,
    /// `Done` or `Failed`.
    pub state: ItemState,
    /// Its output line (JSON, no newline).
    pub line: String,
}

/// Items per state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct JobCounts {
    /// Waiting.
    pub queued: u64,
    /// Claimed.
    pub running: u64,
    /// Finished with a result.
    pub done: u64,
    /// Finished with an error.
    pub failed: u64,
}

impl JobCounts {
    /// Adds `n` items in the state stored as `state` (a `GROUP BY state` row).
    pub fn record(&mut self, state: &str, n: u64) -> Result<(), JobError> {
        match ItemState::parse(state) {
            Some(ItemState::Queued) => self.queued = n,
            Some(ItemState::Running) => self.running = n,
            Some(ItemState::Done) => self.done = n,
            Some(ItemState::Failed) => self.failed = n,
            None => {
                return Err(JobError::Inconsistent(format!(
                    "unknown item state {state}"
                )))
            }
        }
        Ok(())
    }

    /// All items.
    pub fn total(&self) -> u64 {
        self.queued + self.running + self.done + self.failed
    }

    /// Done or failed.
    pub fn finished(&self) -> u64 {
        self.done + self.failed
    }
}

/// Durable job state.
///
/// The trait is async (methods return `Send` futures) because the stores are: sqlx talks to
/// SQLite and PostgreSQL asynchronously, and the HTTP server that will run jobs is async. Model
/// work never runs inside these futures: the runner hands batches to a blocking thread.
pub trait JobStore: Send + Sync {
    /// Every stored job.
    fn jobs(&self) -> impl Future<Output = Result<Vec<Job>, JobError>> + Send;

    /// The job with this id, if stored.
    fn job(&self, job: JobId) -> impl Future<Output = Result<Option<Job>, JobError>> + Send;

    /// The job of `spec` (same fingerprint), if stored.
    fn find_job(
        &self,
        spec: &JobSpec,
    ) -> impl Future<Output = Result<Option<Job>, JobError>> + Send;

    /// Creates a job and all its items in one transaction (rejected lines are stored as failed,
    /// with their error line as the result).
    fn create_job(
        &self,
        spec: &JobSpec,
        items: &[NewItem],
    ) -> impl Future<Output = Result<Job, JobError>> + Send;

    /// Deletes a job and its items.
    fn delete_job(&self, job: JobId) -> impl Future<Output = Result<(), JobError>> + Send;

    /// Claims up to `limit` items, first in input order, that are queued or whose lease ran out;
    /// they become running, held by `worker` for `lease`.
    fn claim(
        &self,
        job: JobId,
        worker: &str,
        limit: usize,
        lease: Duration,
    ) -> impl Future<Output = Result<Vec<ClaimedItem>, JobError>> + Send;

    /// Extends to `lease` from now the leases that `worker` still holds on items `seqs` of the
    /// job (while a long batch runs). Returns how many it still holds.
    fn renew_lease(
        &self,
        job: JobId,
        worker: &str,
        seqs: &[u64],
        lease: Duration,
    ) -> impl Future<Output = Result<u64, JobError>> + Send;

    /// Puts every running item of the job back in the queue (only for a sole owner restarting
    /// after a crash: with shared workers it would steal live leases). Returns how many.
    fn requeue_running(&self, job: JobId) -> impl Future<Output = Result<u64, JobError>> + Send;

    /// Stores outcomes in one transaction; an item no longer held by `worker` is left alone.
    /// Returns how many were stored.
    fn complete(
        &self,
        job: JobId,
        worker: &str,
        outcomes: &[ItemOutcome],
    ) -> impl Future<Output = Result<u64, JobError>> + Send;

    /// Items per state.
    fn counts(&self, job: JobId) -> impl Future<Output = Result<JobCounts, JobError>> + Send;

    /// The output lines of the finished items from `from` on, up to the first unfinished one
    /// (at most `limit`), in order.
    fn finished_prefix(
        &self,
        job: JobId,
        from: u64,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<String>, JobError>> + Send;

    /// Moves the output mark from `from` to `to`; fails if it was not at `from`.
    fn advance_output(
        &self,
        job: JobId,
        from: OutputMark,
        to: OutputMark,
    ) -> impl Future<Output = Result<(), JobError>> + Send;

    /// Records that the job is finished.
    fn finish_job(&self, job: JobId) -> impl Future<Output = Result<(), JobError>> + Send;
}

/// Where a job stands as a whole (what `GET /v1/jobs/{id}` reports).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobState {
    /// No item has been claimed yet.
    Queued,
    /// Items are being (or waiting to be) run.
    Running,
    /// Every item finished (with a result or an error of its own).
    Done,
    /// The job as a whole could not run (see [`JobRecord::error`]).
    Failed,
    /// Cancelled: its queued items will not run; finished results stay.
    Cancelled,
}

impl JobState {
    /// The state's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Done => "done",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
        }
    }

    /// True when nothing more will run (done, failed, cancelled).
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Done | Self::Failed | Self::Cancelled)
    }
}

/// A job with what a service reports about it.
#[derive(Debug, Clone, PartialEq)]
pub struct JobRecord {
    /// The job.
    pub job: Job,
    /// When it was created (Unix milliseconds).
    pub created_at: i64,
    /// When its first item was claimed.
    pub started_at: Option<i64>,
    /// When it was cancelled.
    pub cancelled_at: Option<i64>,
    /// Why the job as a whole failed.
    pub error: Option<String>,
    /// Items per state.
    pub counts: JobCounts,
    /// Items finished by a model run (not rejected as read).
    pub processed: u64,
    /// When the last item finished.
    pub last_finished_at: Option<i64>,
}

impl JobRecord {
    /// The job's state.
    pub fn state(&self) -> JobState {
        if self.error.is_some() {
            JobState::Failed
        } else if self.cancelled_at.is_some() {
            JobState::Cancelled
        } else if self.job.finished_at.is_some()
            || (self.counts.queued == 0 && self.counts.running == 0)
        {
            JobState::Done
        } else if self.started_at.is_some() {
            JobState::Running
        } else {
            JobState::Queued
        }
    }
}

/// A finished item's output line with its position in the input.
#[derive(Debug, Clone, PartialEq)]
pub struct ResultLine {
    /// The item's position (0-based).
    pub seq: u64,
    /// Its output line (JSON, no newline).
    pub line: String,
}

/// What a job service (the HTTP server) needs beyond [`JobStore`]: many jobs in one store,
/// looked up, listed, started, cancelled or failed as a whole, and read while they run.
pub trait JobService: JobStore {
    /// The job with its counts, or `None` when there is no such job.
    fn job_record(
        &self,
        job: JobId,
    ) -> impl Future<Output = Result<Option<JobRecord>, JobError>> + Send;

    /// The `limit` most recent jobs, newest first.
    fn recent_jobs(
        &self,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<JobRecord>, JobError>> + Send;

    /// Jobs with work left that are neither finished, cancelled nor failed, oldest first.
    fn runnable_jobs(&self) -> impl Future<Output = Result<Vec<Job>, JobError>> + Send;

    /// Records that work on the job started (the first time only).
    fn mark_started(&self, job: JobId) -> impl Future<Output = Result<(), JobError>> + Send;

    /// Cancels the job: its queued items will not be claimed any more. Returns false when
    /// there is no such job. Cancelling a finished job changes nothing.
    fn cancel_job(&self, job: JobId) -> impl Future<Output = Result<bool, JobError>> + Send;

    /// Records that the job as a whole cannot run.
    fn fail_job(
        &self,
        job: JobId,
        error: &str,
    ) -> impl Future<Output = Result<(), JobError>> + Send;

    /// Up to `limit` finished items from position `from` on, in input order, skipping
    /// unfinished ones.
    fn finished_items(
        &self,
        job: JobId,
        from: u64,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<ResultLine>, JobError>> + Send;

    /// The first `limit` failed items, in input order.
    fn failed_items(
        &self,
        job: JobId,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<ResultLine>, JobError>> + Send;
}
