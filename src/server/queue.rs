//! The batching queue: sentences from all concurrent requests are gathered into model batches.
//!
//! Shape after text-embeddings-inference's `queue.rs` / `infer.rs`: requests submit jobs
//! (one per text) through a shared queue to dedicated worker threads that own the model work; a
//! semaphore counted in sentences bounds the queue (full → 429); each job carries a oneshot
//! reply, and a job whose client has gone is dropped before it reaches the model. An idle
//! worker waits `max_wait` for more jobs, then runs everything pending in length-sorted batches
//! under the token budget. A batch that fails is retried one sentence at a time, so one bad
//! input fails only its own job.
//!
//! Work has a [`Priority`]: interactive requests are always taken first; batch-job work
//! (`/v1/jobs`, queued one sentence per job) only fills the room they leave in a batch, or idle
//! time, so a long job never holds an interactive request back by more than one batch.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tokio::sync::{oneshot, OwnedSemaphorePermit, Semaphore};

use super::config::BatchSettings;
use super::error::ApiError;
use crate::engine::{generate_batch, GenerationConfig, Hypothesis};
use crate::pipeline::{plan_batches, Translator};

/// What a job's reply carries: hypotheses per unit, or why the job failed.
pub type JobResult = Result<Vec<Vec<Hypothesis>>, String>;

/// How urgent queued work is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Priority {
    /// A request whose client waits for the answer: always taken first.
    Interactive,
    /// Work of a batch job (`/v1/jobs`): only fills the room interactive work leaves in a batch,
    /// or idle time.
    Background,
}

/// One text's units, waiting for the model.
struct Job {
    units: Vec<Vec<u32>>,
    generation: GenerationConfig,
    reply: oneshot::Sender<JobResult>,
    enqueued: Instant,
    priority: Priority,
    /// Interactive work holds queue room (background work is bounded by the job worker).
    _permit: Option<OwnedSemaphorePermit>,
}

/// Work waiting for a model thread, by priority.
#[derive(Default)]
struct Pending {
    interactive: VecDeque<Job>,
    background: VecDeque<Job>,
    /// Every [`Queue`] handle is gone: the workers finish what is pending and stop.
    closed: bool,
}

/// What the handles and the workers share.
#[derive(Default)]
struct Shared {
    pending: Mutex<Pending>,
    arrived: Condvar,
}

impl Shared {
    fn push(&self, job: Job) -> Result<(), ApiError> {
        let mut pending = self
            .pending
            .lock()
            .map_err(|_| ApiError::Internal("the model queue is poisoned".into()))?;
        if pending.closed {
            return Err(ApiError::Internal("the model workers have stopped".into()));
        }
        match job.priority {
            Priority::Interactive => pending.interactive.push_back(job),
            Priority::Background => pending.background.push_back(job),
        }
        drop(pending);
        self.arrived.notify_all();
        Ok(())
    }
}

/// Closes the queue when the last [`Queue`] handle is dropped.
struct Closer(Arc<Shared>);

impl Drop for Closer {
    fn drop(&mut self) {
        if let Ok(mut pending) = self.0.pending.lock() {
            pending.closed = true;
        }
        self.0.arrived.notify_all();
    }
}

/// Handle to submit work; cheap to clone. Dropping every handle stops the workers.
#[derive(Clone)]
pub struct Queue {
    shared: Arc<Shared>,
    _closer: Arc<Closer>,
    permits: Arc<Semaphore>,
    capacity: usize,
}

/// The worker threads behind a [`Queue`].
pub struct Workers {
    handles: Vec<JoinHandle<()>>,
}

impl Workers {
    /// Waits for the workers to finish (after every [`Queue`] handle is dropped).
    pub fn join(self) {
        for handle in self.handles {
            let _ = handle.join();
        }
    }
}

impl Queue {
    /// Starts `settings.workers` model threads over `translator`.
    pub fn start(translator: Arc<Translator>, settings: &BatchSettings) -> (Self, Workers) {
        let shared = Arc::new(Shared::default());
        let handles = (0..settings.workers.max(1))
            .map(|index| {
                let shared = Arc::clone(&shared);
                let translator = Arc::clone(&translator);
                let settings = settings.clone();
                std::thread::Builder::new()
                    .name(format!("dragoman-model-{index}"))
                    .spawn(move || worker_loop(&shared, &translator, &settings))
                    .expect("spawning a model worker thread")
            })
            .collect();
        let capacity = settings.queue_capacity.max(1);
        (
            Self {
                _closer: Arc::new(Closer(Arc::clone(&shared))),
                shared,
                permits: Arc::new(Semaphore::new(capacity)),
                capacity,
            },
            Workers { handles },
        )
    }

    /// Most sentences the queue holds.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Sentences currently queued or running.
    pub fn depth(&self) -> usize {
        self.capacity - self.permits.available_permits()
    }

    /// Queues one text's units at [`Priority::Interactive`]; the returned receiver yields their
    /// hypotheses. Fails at once with 429 when the queue cannot take that many sentences.
    pub fn submit(
        &self,
        units: Vec<Vec<u32>>,
        generation: GenerationConfig,
    ) -> Result<oneshot::Receiver<JobResult>, ApiError> {
        let wanted = units.len().max(1);
        if wanted > self.capacity {
            return Err(ApiError::TooLarge(format!(
                "this text has {wanted} sentences; the queue holds at most {}",
                self.capacity
            )));
        }
        let permit = Arc::clone(&self.permits)
            .try_acquire_many_owned(wanted as u32)
            .map_err(|_| ApiError::QueueFull {
                queued: self.depth(),
                capacity: self.capacity,
                retry_after: Duration::from_secs(1),
            })?;
        let (reply, receiver) = oneshot::channel();
        metrics::gauge!("dragoman_queue_depth").increment(wanted as f64);
        self.shared.push(Job {
            units,
            generation,
            reply,
            enqueued: Instant::now(),
            priority: Priority::Interactive,
            _permit: Some(permit),
        })?;
        Ok(receiver)
    }

    /// Queues units at [`Priority::Background`]. Background work takes no room from
    /// interactive requests (the caller bounds how much it has queued at once), so it is never
    /// refused for being busy; it runs when no interactive work is waiting, or alongside it in a
    /// batch that interactive work does not fill.
    pub fn submit_background(
        &self,
        units: Vec<Vec<u32>>,
        generation: GenerationConfig,
    ) -> Result<oneshot::Receiver<JobResult>, ApiError> {
        let (reply, receiver) = oneshot::channel();
        metrics::gauge!("dragoman_queue_background_depth").increment(units.len().max(1) as f64);
        self.shared.push(Job {
            units,
            generation,
            reply,
            enqueued: Instant::now(),
            priority: Priority::Background,
            _permit: None,
        })?;
        Ok(receiver)
    }
}

/// Takes the next jobs: waits for the first; when it is interactive, gathers the interactive
/// jobs that arrive within `max_wait` (or are already waiting) until a full batch of sentences
/// is there; then fills what room is left with background jobs.
fn gather(shared: &Shared, settings: &BatchSettings) -> Option<Vec<Job>> {
    let mut pending = shared.pending.lock().ok()?;
    while pending.interactive.is_empty() && pending.background.is_empty() {
        if pending.closed {
            return None;
        }
        pending = shared.arrived.wait(pending).ok()?;
    }
    let enough = settings.max_batch_sentences.max(1);
    let mut jobs = Vec::new();
    let mut sentences = 0;
    if !pending.interactive.is_empty() {
        let deadline = Instant::now() + settings.max_wait;
        loop {
            while sentences < enough {
                let Some(job) = pending.interactive.pop_front() else {
                    break;
                };
                sentences += job.units.len().max(1);
                jobs.push(job);
            }
            let wait = deadline.saturating_duration_since(Instant::now());
            if sentences >= enough || pending.closed || wait.is_zero() {
                break;
            }
            pending = shared.arrived.wait_timeout(pending, wait).ok()?.0;
        }
    }
    while sentences < enough {
        let Some(job) = pending.background.pop_front() else {
            break;
        };
        sentences += job.units.len().max(1);
        jobs.push(job);
    }
    Some(jobs)
}

fn worker_loop(shared: &Shared, translator: &Translator, settings: &BatchSettings) {
    while let Some(jobs) = gather(shared, settings) {
        let queued = |priority: Priority| -> usize {
            jobs.iter()
                .filter(|j| j.priority == priority)
                .map(|j| j.units.len().max(1))
                .sum()
        };
        metrics::gauge!("dragoman_queue_depth").decrement(queued(Priority::Interactive) as f64);
        metrics::gauge!("dragoman_queue_background_depth")
            .decrement(queued(Priority::Background) as f64);
        // Drop the work of clients that have gone away.
        let (live, gone): (Vec<Job>, Vec<Job>) =
            jobs.into_iter().partition(|j| !j.reply.is_closed());
        if !gone.is_empty() {
            metrics::counter!("dragoman_jobs_cancelled_total").increment(gone.len() as u64);
        }
        let mut remaining = live;
        while let Some(first) = remaining.first() {
            // Only jobs with identical settings can share a model batch.
            let generation = first.generation.clone();
            let (group, rest): (Vec<Job>, Vec<Job>) = remaining
                .into_iter()
                .partition(|j| j.generation == generation);
            remaining = rest;
            run_group(translator, group, &generation, settings);
        }
    }
}

/// Runs every unit of `jobs` (all with `generation`) and answers each job.
fn run_group(
    translator: &Translator,
    jobs: Vec<Job>,
    generation: &GenerationConfig,
    settings: &BatchSettings,
) {
    for job in &jobs {
        metrics::histogram!("dragoman_queue_wait_seconds")
            .record(job.enqueued.elapsed().as_secs_f64());
    }
    // (job, unit) of every unit, longest first.
    let mut order: Vec<(usize, usize)> = jobs
        .iter()
        .enumerate()
        .flat_map(|(j, job)| (0..job.units.len()).map(move |u| (j, u)))
        .collect();
    order.sort_by_key(|&(j, u)| std::cmp::Reverse(jobs[j].units[u].len()));
    let lengths: Vec<usize> = order.iter().map(|&(j, u)| jobs[j].units[u].len()).collect();
    let mut results: Vec<Vec<Option<Vec<Hypothesis>>>> =
        jobs.iter().map(|job| vec![None; job.units.len()]).collect();
    let mut failures: Vec<Option<String>> = vec![None; jobs.len()];
    let model = &translator.model().model;
    for range in plan_batches(
        &lengths,
        settings.max_batch_tokens,
        settings.max_batch_sentences,
    ) {
        let members: Vec<(usize, usize)> = order[range]
            .iter()
            .copied()
            .filter(|&(j, _)| failures[j].is_none() && !jobs[j].reply.is_closed())
            .collect();
        if members.is_empty() {
            continue;
        }
        let sources: Vec<Vec<u32>> = members
            .iter()
            .map(|&(j, u)| jobs[j].units[u].clone())
            .collect();
        let started = Instant::now();
        match generate_batch(model, &sources, generation) {
            Ok(outputs) => {
                record_batch(&outputs, sources.len(), started);
                for (&(j, u), output) in members.iter().zip(outputs) {
                    results[j][u] = Some(output);
                }
            }
            Err(batch_error) => {
                tracing::warn!(error = %batch_error, size = sources.len(), "batch failed; retrying its sentences one by one");
                for (&(j, u), source) in members.iter().zip(&sources) {
                    match generate_batch(model, std::slice::from_ref(source), generation) {
                        Ok(mut output) => results[j][u] = output.pop(),
                        Err(e) => failures[j] = Some(e.to_string()),
                    }
                }
            }
        }
    }
    for ((job, slots), failure) in jobs.into_iter().zip(results).zip(failures) {
        let answer = match failure {
            Some(message) => Err(message),
            None => slots
                .into_iter()
                .map(|slot| slot.ok_or_else(|| "a sentence was not translated".to_string()))
                .collect(),
        };
        // Free the job's queue room before answering, so that a client that sends its next
        // request as soon as it has this answer finds the room free.
        let Job {
            reply,
            _permit: permit,
            ..
        } = job;
        drop(permit);
        // The receiver may have gone meanwhile; nothing to do then.
        let _ = reply.send(answer);
    }
}

fn record_batch(outputs: &[Vec<Hypothesis>], size: usize, started: Instant) {
    metrics::histogram!("dragoman_batch_size").record(size as f64);
    metrics::histogram!("dragoman_batch_seconds").record(started.elapsed().as_secs_f64());
    let generated: usize = outputs
        .iter()
        .filter_map(|h| h.first())
        .map(|h| h.tokens.len())
        .sum();
    metrics::counter!("dragoman_generated_tokens_total").increment(generated as u64);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::{GenerationOptions, ModelSource, TranslationModel};

    fn translator() -> Arc<Translator> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/marian-tiny-swish");
        let model = TranslationModel::load(&ModelSource::Local(dir), &candle_core::Device::Cpu)
            .expect("fixture loads");
        Arc::new(Translator::new(model))
    }

    fn greedy(translator: &Translator) -> GenerationConfig {
        translator.model().generation_config(&GenerationOptions {
            beams: Some(1),
            max_new_tokens: Some(8),
            ..GenerationOptions::default()
        })
    }

    #[test]
    fn a_failing_input_fails_only_its_own_job() {
        let translator = translator();
        let settings = BatchSettings {
            max_wait: Duration::from_millis(200),
            ..BatchSettings::default()
        };
        let (queue, workers) = Queue::start(Arc::clone(&translator), &settings);
        let generation = greedy(&translator);
        let good = translator
            .model()
            .tokenizer
            .encode("Le ministre a démissionné.");
        // An id outside the vocabulary makes the embedding lookup fail inside the model.
        let bad = vec![5, 999_999, 0];
        let good_reply = queue
            .submit(vec![good.clone()], generation.clone())
            .expect("queued");
        let bad_reply = queue.submit(vec![bad], generation.clone()).expect("queued");
        let good_result = good_reply.blocking_recv().expect("answered");
        let bad_result = bad_reply.blocking_recv().expect("answered");
        assert!(bad_result.is_err(), "{bad_result:?}");
        let expected =
            generate_batch(&translator.model().model, &[good], &generation).expect("runs");
        assert_eq!(good_result.expect("good job succeeds"), expected);
        drop(queue);
        workers.join();
    }

    #[test]
    fn a_full_queue_refuses_at_once_and_frees_its_capacity_after_answering() {
        let translator = translator();
        // A long gathering wait keeps the first job queued while we probe the capacity.
        let settings = BatchSettings {
            queue_capacity: 2,
            max_wait: Duration::from_millis(300),
            ..BatchSettings::default()
        };
        let (queue, workers) = Queue::start(Arc::clone(&translator), &settings);
        let generation = greedy(&translator);
        let ids = translator.model().tokenizer.encode("Bonjour.");
        let too_many = queue.submit(vec![ids.clone(); 3], generation.clone());
        assert!(matches!(too_many, Err(ApiError::TooLarge(_))));
        let first = queue
            .submit(vec![ids.clone(); 2], generation.clone())
            .expect("fits");
        // While those two sentences are queued or running, no room is left.
        let refused = queue.submit(vec![ids.clone()], generation.clone());
        assert!(
            matches!(refused, Err(ApiError::QueueFull { .. })),
            "{refused:?}"
        );
        assert_eq!(
            first.blocking_recv().expect("answered").expect("ok").len(),
            2
        );
        // The permits are released once the job is answered.
        let again = queue.submit(vec![ids], generation).expect("room again");
        assert!(again.blocking_recv().expect("answered").is_ok());
        drop(queue);
        workers.join();
    }

    #[test]
    fn interactive_work_is_taken_before_waiting_background_work() {
        let translator = translator();
        // One sentence per batch: every gather takes exactly one job.
        let settings = BatchSettings {
            max_batch_sentences: 1,
            max_wait: Duration::from_millis(1),
            ..BatchSettings::default()
        };
        let (queue, workers) = Queue::start(Arc::clone(&translator), &settings);
        let generation = greedy(&translator);
        let ids = translator
            .model()
            .tokenizer
            .encode("Le ministre a démissionné.");
        let mut background: Vec<_> = (0..30)
            .map(|_| {
                queue
                    .submit_background(vec![ids.clone()], generation.clone())
                    .expect("queued")
            })
            .collect();
        let interactive = queue
            .submit(vec![ids.clone()], generation.clone())
            .expect("queued");
        assert!(interactive.blocking_recv().expect("answered").is_ok());
        let received: Vec<bool> = background
            .iter_mut()
            .map(|r| r.try_recv().is_ok())
            .collect();
        let finished_before = received.iter().filter(|&&r| r).count();
        assert!(
            finished_before < 10,
            "{finished_before} of 30 background jobs ran before the interactive one"
        );
        drop(queue);
        workers.join();
        // Pending background work still ran before the workers stopped.
        for (mut reply, done) in background.into_iter().zip(received) {
            assert!(done || reply.try_recv().is_ok_and(|r| r.is_ok()));
        }
    }
}
