//! Running a job: claim a batch of items, run it through the task on a blocking thread, store
//! the results in one transaction, copy the finished prefix to the output, repeat.
//!
//! A crash at any point loses at most the batch in flight: its items stay `running` in the
//! database and go back to the queue on the next run (the CLI owns its state file, so it requeues
//! them at once; shared stores wait for the lease to run out). Finished items are never claimed
//! again.
//!
//! Several runners may work on one job in a shared store (PostgreSQL): each claims its own
//! batches, renews its leases while a batch runs, and, when nothing is left to claim but other
//! workers still hold items, waits for them to finish (or for their leases to run out, then takes
//! the items over). Every runner therefore returns only when the whole job is finished, with the
//! output complete.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::input::{line_error, ItemFields, NewItem};
use super::output::OutputFile;
use super::store::{is_duplicate_job, ItemOutcome, ItemState, Job, JobCounts, JobSpec, JobStore};
use super::task::Task;
use super::JobError;

/// How a runner claims work.
#[derive(Debug, Clone)]
pub struct RunnerConfig {
    /// Items claimed (and run through the model) at once.
    pub batch_size: usize,
    /// How long a claim holds an item before others may take it.
    pub lease: Duration,
    /// This worker's name in leases (unique among the workers sharing a store).
    pub worker: String,
    /// How often a runner with nothing to claim looks again while other workers hold items.
    pub poll: Duration,
}

impl Default for RunnerConfig {
    fn default() -> Self {
        Self {
            batch_size: 16,
            lease: Duration::from_secs(600),
            worker: worker_name(),
            poll: Duration::from_millis(500),
        }
    }
}

/// A worker name unique across machines and processes: `dragoman-HOST-PID-NONCE`.
pub fn worker_name() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "host".to_string());
    let nonce = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("dragoman-{host}-{}-{nonce:08x}", std::process::id())
}

/// The job a command asked for, new or resumed.
#[derive(Debug, Clone)]
pub struct OpenedJob {
    /// The stored job.
    pub job: Job,
    /// False when an earlier run created it (this run resumes it).
    pub created: bool,
}

/// The leases a worker holds on a batch of items.
#[derive(Debug, Clone, Copy)]
pub struct Lease<'a> {
    /// The job.
    pub job: crate::jobs::JobId,
    /// The worker holding the items.
    pub worker: &'a str,
    /// The items.
    pub seqs: &'a [u64],
    /// How long each renewal holds them.
    pub length: Duration,
}

impl Lease<'_> {
    /// Awaits `work`, renewing the leases every third of a lease meanwhile, so that a batch
    /// running longer than a lease is not taken over by other workers. Items that other workers
    /// took anyway (this one stalled past its lease) are logged; their results will be discarded
    /// by [`JobStore::complete`].
    pub async fn hold_while<S: JobStore, T>(
        &self,
        store: &S,
        work: impl std::future::Future<Output = T>,
    ) -> Result<T, JobError> {
        let every = (self.length / 3).max(Duration::from_millis(10));
        let mut renewals = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        tokio::pin!(work);
        loop {
            tokio::select! {
                done = &mut work => return Ok(done),
                _ = renewals.tick() => {
                    let held = store.renew_lease(self.job, self.worker, self.seqs, self.length).await?;
                    if held < self.seqs.len() as u64 {
                        tracing::warn!(
                            job = self.job,
                            worker = %self.worker,
                            lost = self.seqs.len() as u64 - held,
                            "leases ran out and other workers took items over; their results from here are discarded"
                        );
                    }
                }
            }
        }
    }
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

/// Finds the job of `spec` in a shared store, or creates it with `items()`; other jobs in the
/// store are left alone. Processes starting the same job at once end up with one job (the one
/// that loses the race to create it joins the winner's). With `restart`, the stored job of `spec`
/// is deleted first (only safe when no other worker is running it).
pub async fn open_shared_job<S: JobStore>(
    store: &S,
    spec: &JobSpec,
    items: impl FnOnce() -> Vec<NewItem>,
    restart: bool,
) -> Result<OpenedJob, JobError> {
    let existing = store.find_job(spec).await?;
    match existing {
        Some(job) if restart => store.delete_job(job.id).await?,
        Some(job) => {
            return Ok(OpenedJob {
                job,
                created: false,
            })
        }
        None => {}
    }
    match store.create_job(spec, &items()).await {
        Ok(job) => Ok(OpenedJob { job, created: true }),
        Err(e) if is_duplicate_job(&e) => match store.find_job(spec).await? {
            Some(job) => Ok(OpenedJob {
                job,
                created: false,
            }),
            None => Err(e),
        },
        Err(e) => Err(e),
    }
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
    /// Items finished by this run (this worker's, not those of others sharing the job).
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
    let mut processed = 0;
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
            let counts = store.counts(job.id).await?;
            if counts.running == 0 && counts.queued == 0 {
                break;
            }
            // Other workers hold the rest: write what they finish, and look again (their items
            // become claimable if their leases run out).
            output.catch_up(store).await?;
            progress(&counts);
            tokio::time::sleep(config.poll.min(config.lease).max(Duration::from_millis(10))).await;
            continue;
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
        let running = tokio::task::spawn_blocking(move || {
            let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
            worker_task.run(&texts)
        });
        let seqs: Vec<u64> = claimed.iter().map(|item| item.seq).collect();
        let lease = Lease {
            job: job.id,
            worker: &config.worker,
            seqs: &seqs,
            length: config.lease,
        };
        let results = lease
            .hold_while(store, running)
            .await?
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
        processed += store.complete(job.id, &config.worker, &outcomes).await?;
        output.catch_up(store).await?;
        progress(&store.counts(job.id).await?);
    }
    output.catch_up(store).await?;
    let after = store.counts(job.id).await?;
    if after.queued == 0 && after.running == 0 && output.mark().next == job.total {
        store.finish_job(job.id).await?;
    }
    Ok(RunSummary {
        total: job.total,
        done: after.done,
        failed: after.failed,
        skipped: if opened.created { 0 } else { before.finished() },
        processed,
        elapsed: started.elapsed(),
    })
}
