//! Running a job: claim a batch of items, run it through the task on a blocking thread, store
//! the results in one transaction, copy the finished prefix to the output, repeat.
//!
//! A crash at any point loses at most the batch in flight: its items stay `running` in the
//! database and go back to the queue on the next run (the CLI owns its state file, so it requeues
//! them at once; shared stores wait for the lease to run out). Finished items are never claimed
//! again.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::input::{line_error, ItemFields, NewItem};
use super::output::OutputFile;
use super::store::{ItemOutcome, ItemState, Job, JobCounts, JobSpec, JobStore};
use super::task::Task;
use super::JobError;

/// How a runner claims work.
#[derive(Debug, Clone)]
pub struct RunnerConfig {
    /// Items claimed (and run through the model) at once.
    pub batch_size: usize,
    /// How long a claim holds an item before others may take it.
    pub lease: Duration,
    /// This worker's name in leases.
    pub worker: String,
}

impl Default for RunnerConfig {
    fn default() -> Self {
        Self {
            batch_size: 16,
            lease: Duration::from_secs(600),
            worker: format!("dragoman-{}", std::process::id()),
        }
    }
}

/// The job a command asked for, new or resumed.
#[derive(Debug, Clone)]
pub struct OpenedJob {
    /// The stored job.
    pub job: Job,
    /// False when an earlier run created it (this run resumes it).
    pub created: bool,
}

/// Finds the job of `spec` in the store or creates it with `items()`. A store holding another
/// job is refused, unless `restart`, which deletes every stored job first (this one included).
pub async fn open_job<S: JobStore>(
    store: &S,
    spec: &JobSpec,
    items: impl FnOnce() -> Vec<NewItem>,
    restart: bool,
    state_path: &Path,
) -> Result<OpenedJob, JobError> {
    let jobs = store.jobs().await?;
    if restart {
        for job in &jobs {
            store.delete_job(job.id).await?;
        }
    } else if let Some(other) = jobs.iter().find(|j| j.spec != *spec) {
        return Err(JobError::DifferentJob {
            state: state_path.to_path_buf(),
            existing: other.spec.describe(),
            requested: spec.describe(),
        });
    } else if let Some(job) = jobs.into_iter().next() {
        return Ok(OpenedJob {
            job,
            created: false,
        });
    }
    let job = store.create_job(spec, &items()).await?;
    Ok(OpenedJob { job, created: true })
}

/// What a run did.
#[derive(Debug, Clone, PartialEq)]
pub struct RunSummary {
    /// Items in the job.
    pub total: u64,
    /// Items with a result (this run and earlier ones).
    pub done: u64,
    /// Items with an error (this run and earlier ones).
    pub failed: u64,
    /// Items finished by an earlier run (not redone).
    pub skipped: u64,
    /// Items finished by this run.
    pub processed: u64,
    /// This run's time.
    pub elapsed: Duration,
}

impl RunSummary {
    /// Items finished per second in this run.
    pub fn rate(&self) -> f64 {
        self.processed as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

impl std::fmt::Display for RunSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} items: {} done, {} failed, {} skipped (finished by an earlier run); {:.1} s, {:.2} articles/s",
            self.total,
            self.done,
            self.failed,
            self.skipped,
            self.elapsed.as_secs_f64(),
            self.rate()
        )
    }
}

/// Runs `opened` to the end (or to the first store, output or worker error), calling `progress`
/// after every batch.
pub async fn run_job<S: JobStore>(
    store: &S,
    opened: &OpenedJob,
    task: Arc<dyn Task>,
    output: &mut OutputFile,
    config: &RunnerConfig,
    progress: &mut dyn FnMut(&JobCounts),
) -> Result<RunSummary, JobError> {
    let started = Instant::now();
    let job = &opened.job;
    let before = store.counts(job.id).await?;
    output.catch_up(store).await?;
    let field = task.kind().result_field();
    loop {
        let claimed = store
            .claim(
                job.id,
                &config.worker,
                config.batch_size.max(1),
                config.lease,
            )
            .await?;
        if claimed.is_empty() {
            break;
        }
        let mut outcomes = Vec::with_capacity(claimed.len());
        let mut runnable = Vec::with_capacity(claimed.len());
        for item in &claimed {
            match ItemFields::parse(&item.input) {
                Ok(fields) if fields.text.is_some() => runnable.push((item.seq, fields)),
                _ => outcomes.push(ItemOutcome {
                    seq: item.seq,
                    state: ItemState::Failed,
                    line: line_error(item.line, "the stored input is not a valid item"),
                }),
            }
        }
        let texts: Vec<String> = runnable
            .iter()
            .map(|(_, f)| f.text.clone().unwrap_or_default())
            .collect();
        let worker_task = Arc::clone(&task);
        let results = tokio::task::spawn_blocking(move || {
            let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
            worker_task.run(&texts)
        })
        .await
        .map_err(|e| JobError::Worker(e.to_string()))?;
        if results.len() != runnable.len() {
            return Err(JobError::Worker(format!(
                "{} results for {} texts",
                results.len(),
                runnable.len()
            )));
        }
        for ((seq, fields), result) in runnable.into_iter().zip(results) {
            outcomes.push(match result {
                Ok(value) => ItemOutcome {
                    seq,
                    state: ItemState::Done,
                    line: fields.output_line(field, value),
                },
                Err(message) => ItemOutcome {
                    seq,
                    state: ItemState::Failed,
                    line: fields.output_line("error", serde_json::Value::String(message)),
                },
            });
        }
        store.complete(job.id, &config.worker, &outcomes).await?;
        output.catch_up(store).await?;
        progress(&store.counts(job.id).await?);
    }
    let after = store.counts(job.id).await?;
    if after.queued == 0 && after.running == 0 && output.mark().next == job.total {
        store.finish_job(job.id).await?;
    }
    Ok(RunSummary {
        total: job.total,
        done: after.done,
        failed: after.failed,
        skipped: if opened.created { 0 } else { before.finished() },
        processed: after.finished().saturating_sub(before.finished()),
        elapsed: started.elapsed(),
    })
}
