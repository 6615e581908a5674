//! [`JobStore`] on PostgreSQL (sqlx, no TLS): one queue shared by several dragoman processes,
//! on one machine or many.
//!
//! Workers claim items with `FOR UPDATE SKIP LOCKED` (concurrent claims skip each other's rows
//! instead of waiting, and never return the same item) and hold them with a lease measured on the
//! database server's clock. The items of a worker that died are claimed again once its lease runs
//! out; [`JobStore::complete`] stores only the items a worker still holds, so a late worker cannot
//! finish an item twice. The schema lives in `migrations/postgres/` and is applied at connect
//! (sqlx's migrator takes an advisory lock, so processes starting together apply it once). The
//! semantics shared with the SQLite store are listed in [`super::store`].

use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions, PgRow};
use sqlx::{Connection, Row};

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
        include_str!("../../migrations/postgres/0001_jobs.sql"),
    ),
    (
        2,
        "server jobs",
        include_str!("../../migrations/postgres/0002_server_jobs.sql"),
    ),
]);

/// The database server's time in Unix milliseconds (for the `*_at` columns).
const NOW_MS: &str = "(extract(epoch FROM clock_timestamp()) * 1000)::bigint";

/// Items inserted per statement when a job is created.
const INSERT_CHUNK: usize = 10_000;

/// Job state in a PostgreSQL database.
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: PgPool,
}

impl PostgresStore {
    /// Connects to `url` (`postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?…]`) and brings the
    /// schema up to date.
    pub async fn connect(url: &str) -> Result<Self, JobError> {
        let connect = |cause| JobError::Connect {
            location: redact_url(url),
            cause,
        };
        let options: PgConnectOptions = url.parse().map_err(connect)?;
        let options = options.application_name("dragoman");
        // One connection first, so that an unreachable server or a refused login is reported as
        // such at once (the pool would retry until its timeout and say only that).
        PgConnection::connect_with(&options)
            .await
            .map_err(connect)?
            .close()
            .await
            .map_err(connect)?;
        let pool = PgPoolOptions::new()
            .max_connections(4)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options)
            .await
            .map_err(connect)?;
        Migrator::new(MIGRATIONS).await?.run(&pool).await?;
        Ok(Self { pool })
    }

    /// The connection pool (for inspection in tests and tools).
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Closes the connections.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// `url` with its password (if any) replaced by `***`, for messages.
pub fn redact_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_string();
    };
    let rest = &url[scheme_end + 3..];
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let Some(at) = rest[..authority_end].rfind('@') else {
        return url.to_string();
    };
    match rest[..at].find(':') {
        Some(colon) => format!(
            "{}{}:***{}",
            &url[..scheme_end + 3],
            &rest[..colon],
            &rest[at..]
        ),
        None => url.to_string(),
    }
}

fn job_from_row(row: &PgRow) -> Result<Job, JobError> {
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

fn seqs_param(seqs: impl IntoIterator<Item = u64>) -> Vec<i64> {
    seqs.into_iter().map(|s| s as i64).collect()
}

impl JobStore for PostgresStore {
    async fn jobs(&self) -> Result<Vec<Job>, JobError> {
        let rows = sqlx::query("SELECT * FROM jobs ORDER BY id")
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(job_from_row).collect()
    }

    async fn job(&self, job: JobId) -> Result<Option<Job>, JobError> {
        let row = sqlx::query("SELECT * FROM jobs WHERE id = $1")
            .bind(job)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(job_from_row).transpose()
    }

    async fn find_job(&self, spec: &JobSpec) -> Result<Option<Job>, JobError> {
        let row = sqlx::query("SELECT * FROM jobs WHERE fingerprint = $1")
            .bind(spec.fingerprint())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(job_from_row).transpose()
    }

    async fn create_job(&self, spec: &JobSpec, items: &[NewItem]) -> Result<Job, JobError> {
        let mut tx = self.pool.begin().await?;
        let row = sqlx::query(&format!(
            "INSERT INTO jobs (fingerprint, task, options, input_path, input_size, input_sha256, \
             output_path, total, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, {NOW_MS}) \
             RETURNING *"
        ))
        .bind(spec.fingerprint())
        .bind(&spec.task)
        .bind(spec.options.to_string())
        .bind(&spec.input_path)
        .bind(spec.input_size as i64)
        .bind(&spec.input_sha256)
        .bind(&spec.output_path)
        .bind(items.len() as i64)
        .fetch_one(&mut *tx)
        .await?;
        let job = job_from_row(&row)?;
        for (chunk_index, chunk) in items.chunks(INSERT_CHUNK).enumerate() {
            let first = chunk_index * INSERT_CHUNK;
            let mut seqs = Vec::with_capacity(chunk.len());
            let mut lines = Vec::with_capacity(chunk.len());
            let mut inputs = Vec::with_capacity(chunk.len());
            let mut states = Vec::with_capacity(chunk.len());
            let mut results = Vec::with_capacity(chunk.len());
            for (k, item) in chunk.iter().enumerate() {
                seqs.push((first + k) as i64);
                match item {
                    NewItem::Queued { line, input } => {
                        lines.push(*line as i64);
                        inputs.push(Some(input.as_str()));
                        states.push(ItemState::Queued.as_str());
                        results.push(None);
                    }
                    NewItem::Rejected { line, output } => {
                        lines.push(*line as i64);
                        inputs.push(None);
                        states.push(ItemState::Failed.as_str());
                        results.push(Some(output.as_str()));
                    }
                }
            }
            sqlx::query(&format!(
                "INSERT INTO items (job_id, seq, line, input, state, result, finished_at) \
                 SELECT $1, i.seq, i.line, i.input, i.state, i.result, \
                 CASE WHEN i.state = 'failed' THEN {NOW_MS} END \
                 FROM UNNEST($2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::text[]) \
                 AS i (seq, line, input, state, result)"
            ))
            .bind(job.id)
            .bind(&seqs)
            .bind(&lines)
            .bind(&inputs)
            .bind(&states)
            .bind(&results)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(job)
    }

    async fn delete_job(&self, job: JobId) -> Result<(), JobError> {
        // Items go with the job (ON DELETE CASCADE), in the same statement.
        sqlx::query("DELETE FROM jobs WHERE id = $1")
            .bind(job)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn claim(
        &self,
        job: JobId,
        worker: &str,
        limit: usize,
        lease: Duration,
    ) -> Result<Vec<ClaimedItem>, JobError> {
        // The inner SELECT locks the first claimable rows, skipping rows that concurrent claims
        // have locked; rows changed since the statement's snapshot are re-checked after locking,
        // so an item another worker just claimed or finished is not taken.
        let rows = sqlx::query(
            "UPDATE items SET state = 'running', attempts = attempts + 1, worker = $3, \
             lease_until = now() + make_interval(secs => $4::float8) \
             WHERE job_id = $1 AND seq IN (SELECT seq FROM items WHERE job_id = $1 \
             AND (state = 'queued' OR (state = 'running' AND lease_until < now())) \
             ORDER BY seq LIMIT $2 FOR UPDATE SKIP LOCKED) \
             RETURNING seq, line, input, attempts",
        )
        .bind(job)
        .bind(limit as i64)
        .bind(worker)
        .bind(lease.as_secs_f64())
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
                    attempts: row.try_get::<i32, _>("attempts")? as u32,
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
        let held = sqlx::query(
            "UPDATE items SET lease_until = now() + make_interval(secs => $4::float8) \
             WHERE job_id = $1 AND seq = ANY($2) AND state = 'running' AND worker = $3",
        )
        .bind(job)
        .bind(seqs_param(seqs.iter().copied()))
        .bind(worker)
        .bind(lease.as_secs_f64())
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(held)
    }

    async fn requeue_running(&self, job: JobId) -> Result<u64, JobError> {
        let done = sqlx::query(
            "UPDATE items SET state = 'queued', worker = NULL, lease_until = NULL \
             WHERE job_id = $1 AND state = 'running'",
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
        if let Some(bad) = outcomes.iter().find(|o| !o.state.is_finished()) {
            return Err(JobError::Inconsistent(format!(
                "item {} completed as {}",
                bad.seq,
                bad.state.as_str()
            )));
        }
        // One statement, so one transaction: all of the worker's outcomes or none. The worker
        // stays recorded as the one that finished the item.
        let stored = sqlx::query(&format!(
            "UPDATE items SET state = o.state, result = o.result, finished_at = {NOW_MS}, \
             lease_until = NULL \
             FROM UNNEST($3::bigint[], $4::text[], $5::text[]) AS o (seq, state, result) \
             WHERE items.job_id = $1 AND items.seq = o.seq AND items.state = 'running' \
             AND items.worker = $2"
        ))
        .bind(job)
        .bind(worker)
        .bind(seqs_param(outcomes.iter().map(|o| o.seq)))
        .bind(
            outcomes
                .iter()
                .map(|o| o.state.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(outcomes.iter().map(|o| o.line.as_str()).collect::<Vec<_>>())
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(stored)
    }

    async fn counts(&self, job: JobId) -> Result<JobCounts, JobError> {
        let rows =
            sqlx::query("SELECT state, COUNT(*) AS n FROM items WHERE job_id = $1 GROUP BY state")
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
            "SELECT seq, state, result FROM items WHERE job_id = $1 AND seq >= $2 \
             ORDER BY seq LIMIT $3",
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
        // Read the mark under a row lock and move it in the same transaction: concurrent
        // writers queue on the row, and the one that finds the mark moved is told so.
        let mut tx = self.pool.begin().await?;
        let row =
            sqlx::query("SELECT output_next, output_offset FROM jobs WHERE id = $1 FOR UPDATE")
                .bind(job)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or_else(|| JobError::Inconsistent(format!("job {job} is gone")))?;
        let now = OutputMark {
            next: row.try_get::<i64, _>("output_next")? as u64,
            offset: row.try_get::<i64, _>("output_offset")? as u64,
        };
        if now != from {
            return Err(JobError::Inconsistent(format!(
                "the output mark of job {job} moved under us (another writer?): expected {from:?}, found {now:?}"
            )));
        }
        sqlx::query("UPDATE jobs SET output_next = $2, output_offset = $3 WHERE id = $1")
            .bind(job)
            .bind(to.next as i64)
            .bind(to.offset as i64)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn finish_job(&self, job: JobId) -> Result<(), JobError> {
        sqlx::query(&format!(
            "UPDATE jobs SET finished_at = {NOW_MS} WHERE id = $1 AND finished_at IS NULL"
        ))
        .bind(job)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}

impl PostgresStore {
    async fn record(&self, row: &PgRow) -> Result<JobRecord, JobError> {
        let job = job_from_row(row)?;
        let counts = self.counts(job.id).await?;
        let stats = sqlx::query(
            "SELECT COUNT(*) AS n, MAX(finished_at) AS last FROM items WHERE job_id = $1 \
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

impl JobService for PostgresStore {
    async fn job_record(&self, job: JobId) -> Result<Option<JobRecord>, JobError> {
        let row = sqlx::query("SELECT * FROM jobs WHERE id = $1")
            .bind(job)
            .fetch_optional(&self.pool)
            .await?;
        match row {
            Some(row) => Ok(Some(self.record(&row).await?)),
            None => Ok(None),
        }
    }

    async fn recent_jobs(&self, limit: usize) -> Result<Vec<JobRecord>, JobError> {
        let rows = sqlx::query("SELECT * FROM jobs ORDER BY id DESC LIMIT $1")
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
        sqlx::query(&format!(
            "UPDATE jobs SET started_at = {NOW_MS} WHERE id = $1 AND started_at IS NULL"
        ))
        .bind(job)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn cancel_job(&self, job: JobId) -> Result<bool, JobError> {
        let exists = sqlx::query("SELECT 1 FROM jobs WHERE id = $1")
            .bind(job)
            .fetch_optional(&self.pool)
            .await?
            .is_some();
        if exists {
            sqlx::query(&format!(
                "UPDATE jobs SET cancelled_at = {NOW_MS} WHERE id = $1 AND cancelled_at IS NULL \
                 AND finished_at IS NULL AND error IS NULL"
            ))
            .bind(job)
            .execute(&self.pool)
            .await?;
        }
        Ok(exists)
    }

    async fn fail_job(&self, job: JobId, error: &str) -> Result<(), JobError> {
        sqlx::query("UPDATE jobs SET error = $1 WHERE id = $2 AND error IS NULL")
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
            "SELECT seq, result FROM items WHERE job_id = $1 AND seq >= $2 \
             AND state IN ('done', 'failed') ORDER BY seq LIMIT $3",
            job,
            from,
            limit,
        )
        .await
    }

    async fn failed_items(&self, job: JobId, limit: usize) -> Result<Vec<ResultLine>, JobError> {
        self.result_lines(
            "SELECT seq, result FROM items WHERE job_id = $1 AND seq >= $2 AND state = 'failed' \
             ORDER BY seq LIMIT $3",
            job,
            0,
            limit,
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn redact_url_hides_only_the_password() {
        assert_eq!(
            redact_url("postgres://alice:s3cret@db.example:5432/jobs?sslmode=disable"),
            "postgres://alice:***@db.example:5432/jobs?sslmode=disable"
        );
        assert_eq!(
            redact_url("postgresql://alice@127.0.0.1/jobs"),
            "postgresql://alice@127.0.0.1/jobs"
        );
        assert_eq!(
            redact_url("postgres://127.0.0.1/jobs?user=a@b"),
            "postgres://127.0.0.1/jobs?user=a@b"
        );
        assert_eq!(redact_url("state.db"), "state.db");
    }
}
