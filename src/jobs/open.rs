//! Opening a job store from what a user typed: `postgres://…` or `postgresql://…` is a shared
//! PostgreSQL queue ([`PostgresStore`]); anything else is a SQLite file ([`SqliteStore`]),
//! optionally written `sqlite:PATH` or `sqlite://PATH`. [`AnyStore`] is either, behind the
//! [`JobStore`] trait (an enum, since the trait's async methods are not object-safe).

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::input::NewItem;
use super::postgres::{redact_url, PostgresStore};
use super::sqlite::{SqliteAccess, SqliteStore};
use super::store::{
    ClaimedItem, ItemOutcome, Job, JobCounts, JobId, JobRecord, JobService, JobSpec, JobStore,
    OutputMark, ResultLine,
};
use super::JobError;

/// Where a store lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreLocation {
    /// A SQLite file.
    Sqlite(PathBuf),
    /// A PostgreSQL connection URL.
    Postgres(String),
}

impl StoreLocation {
    /// `postgres://…` and `postgresql://…` URLs are PostgreSQL; `sqlite:PATH`, `sqlite://PATH`
    /// and plain paths are SQLite files.
    pub fn parse(url_or_path: &str) -> Self {
        let lower = url_or_path.to_ascii_lowercase();
        if lower.starts_with("postgres://") || lower.starts_with("postgresql://") {
            return Self::Postgres(url_or_path.to_string());
        }
        let path = if lower.starts_with("sqlite://") {
            &url_or_path["sqlite://".len()..]
        } else if lower.starts_with("sqlite:") {
            &url_or_path["sqlite:".len()..]
        } else {
            url_or_path
        };
        Self::Sqlite(PathBuf::from(path))
    }

    /// For messages: the path, or the URL without its password.
    pub fn describe(&self) -> String {
        match self {
            Self::Sqlite(path) => path.display().to_string(),
            Self::Postgres(url) => redact_url(url),
        }
    }
}

impl std::fmt::Display for StoreLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

/// A SQLite or a PostgreSQL store.
#[derive(Debug, Clone)]
pub enum AnyStore {
    /// A SQLite file, opened with this access.
    Sqlite(SqliteStore, SqliteAccess),
    /// A PostgreSQL database.
    Postgres(PostgresStore),
}

/// Opens the store at `url_or_path` (see [`StoreLocation::parse`]); a SQLite file is opened
/// with `access`. PostgreSQL's schema is brought up to date, and so is SQLite's.
pub async fn open_store(url_or_path: &str, access: SqliteAccess) -> Result<AnyStore, JobError> {
    AnyStore::open(&StoreLocation::parse(url_or_path), access).await
}

impl AnyStore {
    /// Opens the store at `location` (a SQLite file with `access`).
    pub async fn open(location: &StoreLocation, access: SqliteAccess) -> Result<Self, JobError> {
        Ok(match location {
            StoreLocation::Sqlite(path) => {
                Self::Sqlite(SqliteStore::open(path, access).await?, access)
            }
            StoreLocation::Postgres(url) => Self::Postgres(PostgresStore::connect(url).await?),
        })
    }

    /// True when other processes may work on the same jobs (PostgreSQL, or SQLite opened
    /// shared): running items may be theirs, so they are left to their leases rather than
    /// requeued.
    pub fn is_shared(&self) -> bool {
        match self {
            Self::Sqlite(_, access) => *access == SqliteAccess::Shared,
            Self::Postgres(_) => true,
        }
    }

    /// True for PostgreSQL.
    pub fn is_postgres(&self) -> bool {
        matches!(self, Self::Postgres(_))
    }

    /// The SQLite file, if this is one.
    pub fn sqlite_path(&self) -> Option<&Path> {
        match self {
            Self::Sqlite(store, _) => Some(store.path()),
            Self::Postgres(_) => None,
        }
    }

    /// Closes the connections (and releases a SQLite file's lock).
    pub async fn close(&self) {
        match self {
            Self::Sqlite(store, _) => store.close().await,
            Self::Postgres(store) => store.close().await,
        }
    }
}

/// Forwards a [`JobStore`] call to the store inside.
macro_rules! forward {
    ($self:ident, $store:ident => $call:expr) => {
        match $self {
            AnyStore::Sqlite($store, _) => $call.await,
            AnyStore::Postgres($store) => $call.await,
        }
    };
}

impl JobStore for AnyStore {
    async fn jobs(&self) -> Result<Vec<Job>, JobError> {
        forward!(self, s => s.jobs())
    }

    async fn job(&self, job: JobId) -> Result<Option<Job>, JobError> {
        forward!(self, s => s.job(job))
    }

    async fn find_job(&self, spec: &JobSpec) -> Result<Option<Job>, JobError> {
        forward!(self, s => s.find_job(spec))
    }

    async fn create_job(&self, spec: &JobSpec, items: &[NewItem]) -> Result<Job, JobError> {
        forward!(self, s => s.create_job(spec, items))
    }

    async fn delete_job(&self, job: JobId) -> Result<(), JobError> {
        forward!(self, s => s.delete_job(job))
    }

    async fn claim(
        &self,
        job: JobId,
        worker: &str,
        limit: usize,
        lease: Duration,
    ) -> Result<Vec<ClaimedItem>, JobError> {
        forward!(self, s => s.claim(job, worker, limit, lease))
    }

    async fn renew_lease(
        &self,
        job: JobId,
        worker: &str,
        seqs: &[u64],
        lease: Duration,
    ) -> Result<u64, JobError> {
        forward!(self, s => s.renew_lease(job, worker, seqs, lease))
    }

    async fn requeue_running(&self, job: JobId) -> Result<u64, JobError> {
        forward!(self, s => s.requeue_running(job))
    }

    async fn complete(
        &self,
        job: JobId,
        worker: &str,
        outcomes: &[ItemOutcome],
    ) -> Result<u64, JobError> {
        forward!(self, s => s.complete(job, worker, outcomes))
    }

    async fn counts(&self, job: JobId) -> Result<JobCounts, JobError> {
        forward!(self, s => s.counts(job))
    }

    async fn finished_prefix(
        &self,
        job: JobId,
        from: u64,
        limit: usize,
    ) -> Result<Vec<String>, JobError> {
        forward!(self, s => s.finished_prefix(job, from, limit))
    }

    async fn advance_output(
        &self,
        job: JobId,
        from: OutputMark,
        to: OutputMark,
    ) -> Result<(), JobError> {
        forward!(self, s => s.advance_output(job, from, to))
    }

    async fn finish_job(&self, job: JobId) -> Result<(), JobError> {
        forward!(self, s => s.finish_job(job))
    }
}

impl JobService for AnyStore {
    async fn job_record(&self, job: JobId) -> Result<Option<JobRecord>, JobError> {
        forward!(self, s => s.job_record(job))
    }

    async fn recent_jobs(&self, limit: usize) -> Result<Vec<JobRecord>, JobError> {
        forward!(self, s => s.recent_jobs(limit))
    }

    async fn runnable_jobs(&self) -> Result<Vec<Job>, JobError> {
        forward!(self, s => s.runnable_jobs())
    }

    async fn mark_started(&self, job: JobId) -> Result<(), JobError> {
        forward!(self, s => s.mark_started(job))
    }

    async fn cancel_job(&self, job: JobId) -> Result<bool, JobError> {
        forward!(self, s => s.cancel_job(job))
    }

    async fn fail_job(&self, job: JobId, error: &str) -> Result<(), JobError> {
        forward!(self, s => s.fail_job(job, error))
    }

    async fn finished_items(
        &self,
        job: JobId,
        from: u64,
        limit: usize,
    ) -> Result<Vec<ResultLine>, JobError> {
        forward!(self, s => s.finished_items(job, from, limit))
    }

    async fn failed_items(&self, job: JobId, limit: usize) -> Result<Vec<ResultLine>, JobError> {
        forward!(self, s => s.failed_items(job, limit))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_urls_are_postgres_and_everything_else_is_a_sqlite_path() {
        assert_eq!(
            StoreLocation::parse("postgres://u:p@h/db"),
            StoreLocation::Postgres("postgres://u:p@h/db".into())
        );
        assert_eq!(
            StoreLocation::parse("PostgreSQL://h/db"),
            StoreLocation::Postgres("PostgreSQL://h/db".into())
        );
        assert_eq!(
            StoreLocation::parse("out.jsonl.state.db"),
            StoreLocation::Sqlite("out.jsonl.state.db".into())
        );
        assert_eq!(
            StoreLocation::parse("sqlite:///tmp/a.db"),
            StoreLocation::Sqlite("/tmp/a.db".into())
        );
        assert_eq!(
            StoreLocation::parse("sqlite:a.db"),
            StoreLocation::Sqlite("a.db".into())
        );
        // A file that merely mentions postgres is still a file.
        assert_eq!(
            StoreLocation::parse("./postgres://x"),
            StoreLocation::Sqlite("./postgres://x".into())
        );
        assert_eq!(
            StoreLocation::parse("postgres://u:secret@h/db").describe(),
            "postgres://u:***@h/db"
        );
    }

    #[tokio::test]
    async fn open_store_opens_a_sqlite_path_exclusively_or_shared() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("state.db");
        let path_str = path.to_str().expect("UTF-8 temp path");
        let store = open_store(path_str, SqliteAccess::Exclusive)
            .await
            .expect("opens");
        assert!(!store.is_shared());
        assert_eq!(store.sqlite_path(), Some(path.as_path()));
        assert!(store.jobs().await.expect("jobs").is_empty());
        store.close().await;
        let shared = open_store(path_str, SqliteAccess::Shared)
            .await
            .expect("reopens");
        assert!(shared.is_shared());
        shared.close().await;
    }
}
