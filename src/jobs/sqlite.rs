//! [`JobStore`] on one SQLite file (sqlx, SQLite built from source by `libsqlite3-sys`).
//!
//! The file runs in WAL mode with `synchronous = FULL`, so a committed transaction survives a
//! crash or power loss. The schema lives in `migrations/sqlite/` and is applied at open. The CLI
//! opens the file [`SqliteAccess::Exclusive`]ly: SQLite's exclusive locking mode keeps other
//! processes out while it runs (the lock goes when the process does, even after `kill -9`), which
//! is what lets a restarted run put its dead predecessor's running items straight back in the
//! queue instead of waiting for their leases.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sqlx::migrate::Migrator;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqliteLockingMode, SqlitePool, SqlitePoolOptions,
    SqliteSynchronous,
};
use sqlx::Row;

use super::input::NewItem;
use super::migrate::Embedded;
use super::store::{
    ClaimedItem, ItemOutcome, ItemState, Job, JobCounts, JobId, JobRecord, JobService, JobSpec,
    JobStore, OutputMark, ResultLine,
};
use super::JobError;

/// The schema, compiled in.
const MIGRATIONS: Embedded = Embedded(&[
    (
        1,
        "jobs",
        include_str!("../../migrations/sqlite/0001_jobs.sql"),
    ),
    (
        2,
        "server jobs",
        include_str!("../../migrations/sqlite/0002_server_jobs.sql"),
    ),
]);

/// How the state file is shared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SqliteAccess {
    /// One process owns the file while it runs (the CLI).
    Exclusive,
    /// Several connections and processes share it, coordinating through leases.
    Shared,
}

/// Job state in a SQLite file.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    path: PathBuf,
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

fn is_busy(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Database(e) => {
            matches!(e.code().as_deref(), Some("5") | Some("6"))
                || e.message().contains("database is locked")
        }
        _ => false,
    }
}

impl SqliteStore {
    /// Opens (creating it if needed) the state file and brings its schema up to date.
    pub async fn open(path: &Path, access: SqliteAccess) -> Result<Self, JobError> {
        let mut options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true);
        let connections = match access {
            SqliteAccess::Exclusive => {
                options = options
                    .locking_mode(SqliteLockingMode::Exclusive)
                    .busy_timeout(Duration::from_millis(500));
                1
            }
            SqliteAccess::Shared => {
                options = options.busy_timeout(Duration::from_secs(10));
                4
            }
        };
        let in_use = |e: sqlx::Error| {
            if is_busy(&e) {
                JobError::StateInUse(path.to_path_buf())
            } else {
                JobError::Database(e)
            }
        };
        let pool = SqlitePoolOptions::new()
            .max_connections(connections)
            .connect_with(options)
            .await
            .map_err(in_use)?;
        if access == SqliteAccess::Exclusive {
            // Take the write lock now (held until the process ends), not at the first write.
            sqlx::raw_sql("BEGIN IMMEDIATE; COMMIT;")
                .execute(&pool)
                .await
                .map_err(in_use)?;
        }
        let migrator = Migrator::new(MIGRATIONS).await?;
        migrator.run(&pool).await.map_err(|e| match e {
            sqlx::migrate::MigrateError::Execute(inner) if is_busy(&inner) => {
                JobError::StateInUse(path.to_path_buf())
            }
            other => JobError::Migrate(other),
        })?;
        Ok(Self {
            pool,
            path: path.to_path_buf(),
        })
    }

    /// The state file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The connection pool (for inspection in tests and tools).
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// Closes the connections (and releases the file's lock).
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

fn job_from_row(row: &sqlx::sqlite::SqliteRow) -> Result<Job, JobError> {
    let options: String = row.try_get("options")?;
    Ok(Job {
        id: row.try_get("id")?,
        spec: JobSpec {
            task: row.try_get("task")?,
            options: serde_json::from_str(&options)
                .map_err(|e| JobError::Inconsistent(format!("stored options: {e}")))?,
            input_path: row.try_get("input_path")?,
            input_size: row.try_get::<i64, _>("input_size")? as u64,
            input_sha256: row.try_get("input_sha256")?,
            output_path: row.try_get("output_path")?,
        },
        total: row.try_get::<i64, _>("total")? as u64,
        output: OutputMark {
            next: row.try_get::<i64, _>("output_next")? as u64,
            offset: row.try_get::<i64, _>("output_offset")? as u64,
        },
        finished_at: row.try_get("finished_at")?,
    })
}

impl JobStore for SqliteStore {
    async fn jobs(&self) -> Result<Vec<Job>, JobError> {
        let rows = sqlx::query("SELECT * FROM jobs ORDER BY id")
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(job_from_row).collect()
    }

    async fn job(&self, job: JobId) -> Result<Option<Job>, JobError> {
        let row = sqlx::query("SELECT * FROM jobs WHERE id = ?")
            .bind(job)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(job_from_row).transpose()
    }

    async fn find_job(&self, spec: &JobSpec) -> Result<Option<Job>, JobError> {
        let row = sqlx::query("SELECT * FROM jobs WHERE fingerprint = ?")
            .bind(spec.fingerprint())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(job_from_row).transpose()
    }

    async fn create_job(&self, spec: &JobSpec, items: &[NewItem]) -> Result<Job, JobError> {
        let mut tx = self.pool.begin().await?;
        let now = now_ms();
        let id: i64 = sqlx::query(
            "INSERT INTO jobs (fingerprint, task, options, input_path, input_size, input_sha256, \
             output_path, total, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(spec.fingerprint())
        .bind(&spec.task)
        .bind(spec.options.to_string())
        .bind(&spec.input_path)
        .bind(spec.input_size as i64)
        .bind(&spec.input_sha256)
        .bind(&spec.output_path)
        .bind(items.len() as i64)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?
        .try_get("id")?;
        for (seq, item) in items.iter().enumerate() {
            let query = sqlx::query(
                "INSERT INTO items (job_id, seq, line, input, state, result, finished_at) \
                 VALUES (?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(id)
            .bind(seq as i64);
            let query = match item {
                NewItem::Queued { line, input } => query
                    .bind(*line as i64)
                    .bind(input)
                    .bind(ItemState::Queued.as_str())
                    .bind(None::<String>)
                    .bind(None::<i64>),
                NewItem::Rejected { line, output } => query
                    .bind(*line as i64)
                    .bind(None::<String>)
                    .bind(ItemState::Failed.as_str())
                    .bind(output)
                    .bind(Some(now)),
            };
            query.execute(&mut *tx).await?;
        }
        let row = sqlx::query("SELECT * FROM jobs WHERE id = ?")
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
        let job = job_from_row(&row)?;
        tx.commit().await?;
        Ok(job)
    }

    async fn delete_job(&self, job: JobId) -> Result<(), JobError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM items WHERE job_id = ?")
            .bind(job)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM jobs WHERE id = ?")
            .bind(job)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn claim(
        &self,
        job: JobId,
        worker: &str,
        limit: usize,
        lease: Duration,
    ) -> Result<Vec<ClaimedItem>, JobError> {
        let now = now_ms();
        let rows = sqlx::query(
            "UPDATE items SET state = 'running', attempts = attempts + 1, lease_owner = ?, \
             lease_until = ? WHERE job_id = ? AND seq IN (SELECT seq FROM items WHERE job_id = ? \
             AND (state = 'queued' OR (state = 'running' AND lease_until < ?)) AND EXISTS \
             (SELECT 1 FROM jobs WHERE id = items.job_id AND cancelled_at IS NULL \
             AND error IS NULL) ORDER BY seq LIMIT ?) RETURNING seq, line, input, attempts",
        )
        .bind(worker)
        .bind(now.saturating_add(lease.as_millis() as i64))
        .bind(job)
        .bind(job)
        .bind(now)
        .bind(limit as i64)
        .fetch_all(&self.pool)
        .await?;
        let mut items = rows
            .iter()
            .map(|row| {
                Ok(ClaimedItem {
                    seq: row.try_get::<i64, _>("seq")? as u64,
                    line: row.try_get::<i64, _>("line")? as u64,
                    input: row
                        .try_get::<Option<String>, _>("input")?
                        .unwrap_or_default(),
                    attempts: row.try_get::<i64, _>("attempts")? as u32,
                })
            })
            .collect::<Result<Vec<_>, JobError>>()?;
        items.sort_by_key(|item| item.seq);
        Ok(items)
    }

    async fn renew_lease(
        &self,
        job: JobId,
        worker: &str,
        seqs: &[u64],
        lease: Duration,
    ) -> Result<u64, JobError> {
        let mut tx = self.pool.begin().await?;
        let until = now_ms().saturating_add(lease.as_millis() as i64);
        let mut held = 0;
        for &seq in seqs {
            held += sqlx::query(
                "UPDATE items SET lease_until = ? WHERE job_id = ? AND seq = ? \
                 AND state = 'running' AND lease_owner = ?",
            )
            .bind(until)
            .bind(job)
            .bind(seq as i64)
            .bind(worker)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        }
        tx.commit().await?;
        Ok(held)
    }

    async fn requeue_running(&self, job: JobId) -> Result<u64, JobError> {
        let done = sqlx::query(
            "UPDATE items SET state = 'queued', lease_owner = NULL, lease_until = NULL \
             WHERE job_id = ? AND state = 'running'",
        )
        .bind(job)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }

    async fn complete(
        &self,
        job: JobId,
        worker: &str,
        outcomes: &[ItemOutcome],
    ) -> Result<u64, JobError> {
        let mut tx = self.pool.begin().await?;
        let now = now_ms();
        let mut stored = 0;
        for outcome in outcomes {
            if !outcome.state.is_finished() {
                return Err(JobError::Inconsistent(format!(
                    "item {} completed as {}",
                    outcome.seq,
                    outcome.state.as_str()
                )));
            }
            stored += sqlx::query(
                "UPDATE items SET state = ?, result = ?, finished_at = ?, lease_owner = NULL, \
                 lease_until = NULL WHERE job_id = ? AND seq = ? AND state = 'running' \
                 AND lease_owner = ?",
            )
            .bind(outcome.state.as_str())
            .bind(&outcome.line)
            .bind(now)
            .bind(job)
            .bind(outcome.seq as i64)
            .bind(worker)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        }
        tx.commit().await?;
        Ok(stored)
    }

    async fn counts(&self, job: JobId) -> Result<JobCounts, JobError> {
        let rows =
            sqlx::query("SELECT state, COUNT(*) AS n FROM items WHERE job_id = ? GROUP BY state")
                .bind(job)
                .fetch_all(&self.pool)
                .await?;
        let mut counts = JobCounts::default();
        for row in rows {
            let state: String = row.try_get("state")?;
            let n = row.try_get::<i64, _>("n")? as u64;
            counts.record(&state, n)?;
        }
        Ok(counts)
    }

    async fn finished_prefix(
        &self,
        job: JobId,
        from: u64,
        limit: usize,
    ) -> Result<Vec<String>, JobError> {
        let rows = sqlx::query(
            "SELECT seq, state, result FROM items WHERE job_id = ? AND seq >= ? ORDER BY seq LIMIT ?",
        )
        .bind(job)
        .bind(from as i64)
        .bind(limit as i64)
        .fetch_all(&self.pool)
        .await?;
        let mut lines = Vec::new();
        for (expected, row) in (from..).zip(rows) {
            let seq = row.try_get::<i64, _>("seq")? as u64;
            let state: String = row.try_get("state")?;
            if seq != expected || !ItemState::parse(&state).is_some_and(ItemState::is_finished) {
                break;
            }
            let result: Option<String> = row.try_get("result")?;
            lines.push(result.ok_or_else(|| {
                JobError::Inconsistent(format!("item {seq} is {state} without a result"))
            })?);
        }
        Ok(lines)
    }

    async fn advance_output(
        &self,
        job: JobId,
        from: OutputMark,
        to: OutputMark,
    ) -> Result<(), JobError> {
        let moved = sqlx::query(
            "UPDATE jobs SET output_next = ?, output_offset = ? WHERE id = ? AND output_next = ? \
             AND output_offset = ?",
        )
        .bind(to.next as i64)
        .bind(to.offset as i64)
        .bind(job)
        .bind(from.next as i64)
        .bind(from.offset as i64)
        .execute(&self.pool)
        .await?
        .rows_affected();
        if moved != 1 {
            return Err(JobError::Inconsistent(format!(
                "the output mark of job {job} moved under us (another writer?)"
            )));
        }
        Ok(())
    }

    async fn finish_job(&self, job: JobId) -> Result<(), JobError> {
        sqlx::query("UPDATE jobs SET finished_at = ? WHERE id = ? AND finished_at IS NULL")
            .bind(now_ms())
            .bind(job)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

impl SqliteStore {
    async fn record(&self, row: &sqlx::sqlite::SqliteRow) -> Result<JobRecord, JobError> {
        let job = job_from_row(row)?;
        let counts = self.counts(job.id).await?;
        let stats = sqlx::query(
            "SELECT COUNT(*) AS n, MAX(finished_at) AS last FROM items WHERE job_id = ? \
             AND attempts > 0 AND state IN ('done', 'failed')",
        )
        .bind(job.id)
        .fetch_one(&self.pool)
        .await?;
        Ok(JobRecord {
            created_at: row.try_get("created_at")?,
            started_at: row.try_get("started_at")?,
            cancelled_at: row.try_get("cancelled_at")?,
            error: row.try_get("error")?,
            counts,
            processed: stats.try_get::<i64, _>("n")? as u64,
            last_finished_at: stats.try_get("last")?,
            job,
        })
    }

    async fn result_lines(
        &self,
        sql: &str,
        job: JobId,
        from: u64,
        limit: usize,
    ) -> Result<Vec<ResultLine>, JobError> {
        let rows = sqlx::query(sql)
            .bind(job)
            .bind(from as i64)
            .bind(limit as i64)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                let seq = row.try_get::<i64, _>("seq")? as u64;
                let line: Option<String> = row.try_get("result")?;
                Ok(ResultLine {
                    seq,
                    line: line.ok_or_else(|| {
                        JobError::Inconsistent(format!("item {seq} is finished without a result"))
                    })?,
                })
            })
            .collect()
    }
}

impl JobService for SqliteStore {
    async fn job_record(&self, job: JobId) -> Result<Option<JobRecord>, JobError> {
        let row = sqlx::query("SELECT * FROM jobs WHERE id = ?")
            .bind(job)
            .fetch_optional(&self.pool)
            .await?;
        match row {
            Some(row) => Ok(Some(self.record(&row).await?)),
            None => Ok(None),
        }
    }

    async fn recent_jobs(&self, limit: usize) -> Result<Vec<JobRecord>, JobError> {
        let rows = sqlx::query("SELECT * FROM jobs ORDER BY id DESC LIMIT ?")
            .bind(limit as i64)
            .fetch_all(&self.pool)
            .await?;
        let mut records = Vec::with_capacity(rows.len());
        for row in &rows {
            records.push(self.record(row).await?);
        }
        Ok(records)
    }

    async fn runnable_jobs(&self) -> Result<Vec<Job>, JobError> {
        let rows = sqlx::query(
            "SELECT * FROM jobs WHERE finished_at IS NULL AND cancelled_at IS NULL \
             AND error IS NULL ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(job_from_row).collect()
    }

    async fn mark_started(&self, job: JobId) -> Result<(), JobError> {
        sqlx::query("UPDATE jobs SET started_at = ? WHERE id = ? AND started_at IS NULL")
            .bind(now_ms())
            .bind(job)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn cancel_job(&self, job: JobId) -> Result<bool, JobError> {
        let exists = sqlx::query("SELECT 1 FROM jobs WHERE id = ?")
            .bind(job)
            .fetch_optional(&self.pool)
            .await?
            .is_some();
        if exists {
            sqlx::query(
                "UPDATE jobs SET cancelled_at = ? WHERE id = ? AND cancelled_at IS NULL \
                 AND finished_at IS NULL AND error IS NULL",
            )
            .bind(now_ms())
            .bind(job)
            .execute(&self.pool)
            .await?;
        }
        Ok(exists)
    }

    async fn fail_job(&self, job: JobId, error: &str) -> Result<(), JobError> {
        sqlx::query("UPDATE jobs SET error = ? WHERE id = ? AND error IS NULL")
            .bind(error)
            .bind(job)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn finished_items(
        &self,
        job: JobId,
        from: u64,
        limit: usize,
    ) -> Result<Vec<ResultLine>, JobError> {
        self.result_lines(
            "SELECT seq, result FROM items WHERE job_id = ? AND seq >= ? \
             AND state IN ('done', 'failed') ORDER BY seq LIMIT ?",
            job,
            from,
            limit,
        )
        .await
    }

    async fn failed_items(&self, job: JobId, limit: usize) -> Result<Vec<ResultLine>, JobError> {
        self.result_lines(
            "SELECT seq, result FROM items WHERE job_id = ? AND seq >= ? AND state = 'failed' \
             ORDER BY seq LIMIT ?",
            job,
            0,
            limit,
        )
        .await
    }
}
