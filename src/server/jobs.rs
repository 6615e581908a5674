//! The server's job worker: runs the jobs submitted to `POST /v1/jobs` through the same batching
//! queue as online requests, at [`Priority::Background`](super::queue::Priority), so
//! interactive requests stay fast while a job runs.
//!
//! One tokio task claims a batch of items (oldest job first) with a lease, tokenizes them on a
//! blocking thread, queues their sentences one queue job per sentence (so that a batch can take
//! as few of them as the room interactive work leaves), reassembles the articles, runs the
//! analyzer for summarize/analyze jobs like `/v1/analyze` does, and stores the outcomes in one
//! transaction, renewing its leases while the batch runs.
//!
//! A job survives a crash or `kill -9` with every item exactly once in its results. With a
//! SQLite file (this server's alone) the worker puts back in the queue, at start, every item a
//! previous process left running. With PostgreSQL several servers share the queue: a server
//! never requeues items it finds running (they may be another server's live claims); the items
//! of a server that died are claimed by whichever server looks once their lease ran out, and a
//! late result of the dead one is discarded by the store.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::runtime::Handle;

use super::queue::JobResult;
use super::state::{AppState, Engine, Jobs};
use super::types::JobOptions;
use crate::jobs::input::line_error;
use crate::jobs::{
    ClaimedItem, ItemFields, ItemOutcome, ItemState, Job, JobError, JobService, JobStore, Lease,
    TaskKind,
};
use crate::models::GenerationOptions;
use crate::pipeline::analyze::{AnalyzeError, AnalyzeOptions, DEFAULT_SUMMARY_SENTENCES};
use crate::pipeline::flow::{analyze_articles, ArticleTranslator};
use crate::pipeline::{ArticleTranslation, TranslateOptions};

/// How long the worker sleeps when it has nothing to do and nobody wakes it (expired leases of
/// other workers are looked for this often).
const IDLE: Duration = Duration::from_secs(1);

/// The task named `name`.
pub fn task_kind(name: &str) -> Option<TaskKind> {
    [TaskKind::Translate, TaskKind::Summarize, TaskKind::Analyze]
        .into_iter()
        .find(|k| k.name() == name)
}

/// Runs jobs until the task is aborted (at shutdown). Items in flight then stay `running` and
/// go back to the queue at the next start.
pub async fn run_worker(state: AppState) {
    let Ok(jobs) = state.jobs() else { return };
    let worker = crate::jobs::worker_name();
    tracing::info!(worker = %worker, shared = jobs.store.is_postgres(), "jobs: worker started");
    match resume(jobs).await {
        Ok(0) => {}
        Ok(requeued) => tracing::info!(
            requeued,
            "jobs: items left running by an earlier process are queued again"
        ),
        Err(e) => tracing::error!(error = %e, "jobs: cannot resume unfinished jobs"),
    }
    loop {
        let Ok(engine) = state.engine() else {
            // Loading (or failed to load: jobs wait for a restart with a working model).
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        let worked = step(jobs, &engine, &worker).await;
        drop(engine);
        match worked {
            Ok(true) => {}
            Ok(false) => {
                let _ = tokio::time::timeout(IDLE, jobs.wake.notified()).await;
            }
            Err(e) => {
                tracing::error!(error = %e, "jobs: store error; retrying shortly");
                tokio::time::sleep(IDLE).await;
            }
        }
    }
}

/// Puts every item of an unfinished job that is marked running back in the queue, when the
/// store is this server's alone (SQLite); a shared store's running items are left to their
/// leases.
async fn resume(jobs: &Jobs) -> Result<u64, JobError> {
    let mut requeued = 0;
    if jobs.store.is_postgres() {
        return Ok(0);
    }
    for job in jobs.store.runnable_jobs().await? {
        requeued += jobs.store.requeue_running(job.id).await?;
    }
    Ok(requeued)
}

/// Runs one batch of the oldest job with work left; false when there was none.
async fn step(jobs: &Jobs, engine: &Arc<Engine>, worker: &str) -> Result<bool, JobError> {
    let store = &jobs.store;
    for job in store.runnable_jobs().await? {
        let claimed = store
            .claim(
                job.id,
                worker,
                jobs.settings.batch_size.max(1),
                jobs.settings.lease,
            )
            .await?;
        if claimed.is_empty() {
            finish_if_complete(jobs, &job).await?;
            continue;
        }
        store.mark_started(job.id).await?;
        let started = Instant::now();
        let seqs: Vec<u64> = claimed.iter().map(|item| item.seq).collect();
        let lease = Lease {
            job: job.id,
            worker,
            seqs: &seqs,
            length: jobs.settings.lease,
        };
        match lease
            .hold_while(store, run_items(engine, &job, claimed))
            .await?
        {
            Ok(outcomes) => {
                store.complete(job.id, worker, &outcomes).await?;
                for outcome in &outcomes {
                    let result = if outcome.state == ItemState::Done {
                        "done"
                    } else {
                        "failed"
                    };
                    metrics::counter!("dragoman_job_items_total", "task" => job.spec.task.clone(), "outcome" => result)
                        .increment(1);
                }
                metrics::histogram!("dragoman_job_batch_seconds", "task" => job.spec.task.clone())
                    .record(started.elapsed().as_secs_f64());
            }
            Err(message) => {
                tracing::warn!(job = job.id, error = %message, "jobs: the job cannot run");
                store.fail_job(job.id, &message).await?;
                metrics::counter!("dragoman_jobs_total", "task" => job.spec.task.clone(), "event" => "failed")
                    .increment(1);
            }
        }
        finish_if_complete(jobs, &job).await?;
        return Ok(true);
    }
    Ok(false)
}

/// Records the job as finished when no item is left to run.
async fn finish_if_complete(jobs: &Jobs, job: &Job) -> Result<(), JobError> {
    let counts = jobs.store.counts(job.id).await?;
    if counts.queued == 0 && counts.running == 0 {
        if let Some(record) = jobs.store.job_record(job.id).await? {
            if record.error.is_none() && record.cancelled_at.is_none() {
                jobs.store.finish_job(job.id).await?;
                metrics::counter!("dragoman_jobs_total", "task" => job.spec.task.clone(), "event" => "done")
                    .increment(1);
            }
        }
    }
    Ok(())
}

/// The outcome of every claimed item, or why the job as a whole cannot run.
async fn run_items(
    engine: &Arc<Engine>,
    job: &Job,
    claimed: Vec<ClaimedItem>,
) -> Result<Vec<ItemOutcome>, String> {
    let kind =
        task_kind(&job.spec.task).ok_or_else(|| format!("unknown task {:?}", job.spec.task))?;
    let options: JobOptions = serde_json::from_value(job.spec.options.clone())
        .map_err(|e| format!("the stored job options are invalid: {e}"))?;
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
    let translate_options = TranslateOptions {
        generation: GenerationOptions {
            beams: options.beams,
            max_new_tokens: options.max_new_tokens,
            ..GenerationOptions::default()
        },
        ..TranslateOptions::default()
    };
    let results: Vec<Result<Value, String>> = match kind {
        TaskKind::Translate => translate(engine, texts, &translate_options)
            .await?
            .into_iter()
            .map(|r| r.map(|t| Value::String(t.text)))
            .collect(),
        TaskKind::Summarize | TaskKind::Analyze => {
            analyze(engine, texts, kind, &options, &translate_options).await?
        }
    };
    if results.len() != runnable.len() {
        return Err(format!(
            "internal error: {} results for {} texts",
            results.len(),
            runnable.len()
        ));
    }
    let field = kind.result_field();
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
                line: fields.output_line("error", Value::String(message)),
            },
        });
    }
    outcomes.sort_by_key(|o| o.seq);
    Ok(outcomes)
}

/// Translates `texts` through the queue at background priority, one queue job per sentence.
/// The outer error fails the job (invalid settings, workers gone); the inner ones fail a text.
async fn translate(
    engine: &Arc<Engine>,
    texts: Vec<String>,
    options: &TranslateOptions,
) -> Result<Vec<Result<ArticleTranslation, String>>, String> {
    if texts.is_empty() {
        return Ok(Vec::new());
    }
    let generation = engine.translator.generation_config(options);
    generation.validate().map_err(|e| e.to_string())?;
    let translator = Arc::clone(&engine.translator);
    let prepared: Vec<_> = tokio::task::spawn_blocking(move || {
        texts
            .iter()
            .map(|t| translator.prepare_article(t))
            .collect()
    })
    .await
    .map_err(|e| format!("tokenization failed: {e}"))?;
    let mut pending = Vec::with_capacity(prepared.len());
    for article in &prepared {
        let mut receivers = Vec::with_capacity(article.sentences.units.len());
        for unit in &article.sentences.units {
            receivers.push(
                engine
                    .queue
                    .submit_background(vec![unit.ids.clone()], generation.clone())
                    .map_err(|e| e.to_string())?,
            );
        }
        pending.push(receivers);
    }
    let mut answers = Vec::with_capacity(pending.len());
    for receivers in pending {
        let mut outputs = Vec::with_capacity(receivers.len());
        let mut failure = None;
        for receiver in receivers {
            let answer: JobResult = receiver
                .await
                .unwrap_or_else(|_| Err("the model worker stopped".into()));
            match answer.map(|units| units.into_iter().next()) {
                Ok(Some(output)) => outputs.push(output),
                Ok(None) => failure = Some("a sentence was not translated".to_string()),
                Err(message) => failure = Some(message),
            }
        }
        answers.push(match failure {
            Some(message) => Err(message),
            None => Ok(outputs),
        });
    }
    let translator = Arc::clone(&engine.translator);
    tokio::task::spawn_blocking(move || {
        prepared
            .iter()
            .zip(answers)
            .map(|(article, answer)| {
                answer.and_then(|outputs| {
                    translator
                        .assemble_article(article, outputs)
                        .map_err(|e| e.to_string())
                })
            })
            .collect()
    })
    .await
    .map_err(|e| format!("reassembly failed: {e}"))
}

/// Summarizes or analyses `texts` (French ones translated first, through the queue), one
/// analysis at a time among the server's analyses.
async fn analyze(
    engine: &Arc<Engine>,
    texts: Vec<String>,
    kind: TaskKind,
    options: &JobOptions,
    translate_options: &TranslateOptions,
) -> Result<Vec<Result<Value, String>>, String> {
    let Some(analysis) = &engine.analysis else {
        return Err("this server was started without analysis models (--no-analysis); summarize and analyze jobs cannot run".into());
    };
    let full = kind == TaskKind::Analyze;
    let analyze_options = AnalyzeOptions {
        summary_sentences: options
            .summary_sentences
            .unwrap_or(DEFAULT_SUMMARY_SENTENCES),
        summary_mode: options.summary_mode,
        tags: full,
        entities: full,
        ..AnalyzeOptions::default()
    };
    analysis
        .analyzer
        .check_options(&analyze_options)
        .map_err(|e| e.to_string())?;
    let source = options.source.unwrap_or_default();
    let translator = JobTranslator {
        engine: Arc::clone(engine),
        options: translate_options.clone(),
        runtime: Handle::current(),
    };
    let running = Arc::clone(&analysis.running);
    let analyzer = Arc::clone(&analysis.analyzer);
    tokio::task::spawn_blocking(move || {
        let runtime = translator.runtime.clone();
        let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
        let results = analyze_articles(&texts, source, Some(&translator), |input| {
            // One analysis at a time among the server's analyses; translation does not hold a slot.
            let _running = runtime
                .block_on(Arc::clone(&running).acquire_owned())
                .map_err(|_| {
                    AnalyzeError::Unavailable("the analysis models have stopped".into())
                })?;
            analyzer.analyze(input, &analyze_options)
        })?;
        Ok(results
            .into_iter()
            .map(|result| {
                let result = result.map_err(|e| e.to_string())?;
                match kind {
                    TaskKind::Summarize => Ok(Value::String(result.summary)),
                    _ => serde_json::to_value(&result).map_err(|e| e.to_string()),
                }
            })
            .collect())
    })
    .await
    .map_err(|e| format!("the analysis failed: {e}"))?
}

/// Translates a job's French articles through the queue, from a blocking thread.
struct JobTranslator {
    engine: Arc<Engine>,
    options: TranslateOptions,
    runtime: Handle,
}

impl ArticleTranslator for JobTranslator {
    type Error = String;

    fn model(&self) -> String {
        self.engine.info.source.clone()
    }

    fn translate(&self, texts: &[&str]) -> Result<Vec<Result<ArticleTranslation, String>>, String> {
        let texts = texts.iter().map(|t| t.to_string()).collect();
        self.runtime
            .block_on(translate(&self.engine, texts, &self.options))
    }
}
