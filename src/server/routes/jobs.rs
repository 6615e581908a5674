//! `/v1/jobs`: batch jobs over HTTP, kept in the server's jobs database and run in the
//! background (see [`crate::server::jobs`]) at a lower priority than online requests.
//!
//! Results are the lines `dragoman batch` writes (`{"id": …, <other fields>, "translation": …}`
//! or `{"id": …, "error": …}`), in input order. While a job runs, `GET …/results` gives its
//! *finished prefix*: items 0..N, stopping at the first unfinished one, so that what a client
//! has read never changes and `?from=N` picks up where it stopped. Once the job is done, failed
//! or cancelled, it gives every finished item in input order (after a cancel, the items that
//! never ran are left out).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::{Body, Bytes};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::jobs::input::parse_items;
use crate::jobs::store::hex;
use crate::jobs::{
    parse_item, AnyStore, JobId, JobRecord, JobService, JobSpec, JobState, JobStore, NewItem,
    TaskKind,
};
use crate::pipeline::analyze::MAX_SUMMARY_SENTENCES;
use crate::server::error::{ApiError, ErrorBody};
use crate::server::jobs::task_kind;
use crate::server::state::AppState;
use crate::server::types::{
    JobCreated, JobInfo, JobItemCounts, JobItemError, JobLinks, JobList, JobOptions, JobQuery,
    JobRequest,
};

/// Result lines read from the database at a time while streaming.
const CHUNK: usize = 256;

/// Most jobs `GET /v1/jobs` lists.
const MAX_LISTED: usize = 100;

/// How much of a body over the limit is still read (and discarded) before answering 413: a
/// client that is still sending when the server closes the connection sees a broken pipe instead
/// of the answer. Bodies further over the limit are cut off.
const DRAIN_CAP: usize = 8 << 20;

/// The body if it has at most `limit` bytes; `None` when it is longer (after reading on, without
/// keeping them, up to [`DRAIN_CAP`] more bytes).
async fn read_body(body: Body, limit: usize) -> Result<Option<Bytes>, axum::Error> {
    use futures::StreamExt;
    let mut stream = body.into_data_stream();
    let mut kept = Vec::new();
    let mut seen = 0usize;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk?;
        seen = seen.saturating_add(chunk.len());
        if seen <= limit {
            kept.extend_from_slice(&chunk);
        } else if seen > limit.saturating_add(DRAIN_CAP) {
            return Ok(None);
        }
    }
    Ok((seen <= limit).then(|| Bytes::from(kept)))
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

fn links(id: JobId) -> JobLinks {
    JobLinks {
        this: format!("/v1/jobs/{id}"),
        results: format!("/v1/jobs/{id}/results"),
    }
}

/// The job id of a path, or 404 (an id that is not a number names no job).
fn job_id(raw: &str) -> Result<JobId, ApiError> {
    raw.parse()
        .map_err(|_| ApiError::JobNotFound(format!("{raw:?}")))
}

/// The stored job `id` or 404.
async fn record(store: &AnyStore, id: JobId) -> Result<JobRecord, ApiError> {
    store
        .job_record(id)
        .await?
        .ok_or_else(|| ApiError::JobNotFound(id.to_string()))
}

/// Builds the status of a job; `errors` are its failed items so far.
fn info(record: &JobRecord, errors: Vec<JobItemError>) -> JobInfo {
    let counts = record.counts;
    let total = counts.total();
    let state = record.state();
    let end = if state.is_terminal() {
        record.last_finished_at.unwrap_or_else(now_ms)
    } else {
        now_ms()
    };
    let rate = record.started_at.and_then(|started| {
        let seconds = (end - started) as f64 / 1000.0;
        (record.processed > 0 && seconds > 0.0).then(|| record.processed as f64 / seconds)
    });
    let left = counts.queued + counts.running;
    let eta_seconds = match (state, rate) {
        (JobState::Queued | JobState::Running, Some(rate)) if rate > 0.0 => {
            Some(left as f64 / rate)
        }
        _ => None,
    };
    JobInfo {
        id: record.job.id,
        task: record.job.spec.task.clone(),
        state: state.as_str().into(),
        counts: JobItemCounts {
            total,
            done: counts.done,
            failed: counts.failed,
            queued: counts.queued,
            running: counts.running,
        },
        progress: if total == 0 {
            1.0
        } else {
            counts.finished() as f64 / total as f64
        },
        rate,
        eta_seconds,
        errors,
        error: record.error.clone(),
        options: serde_json::from_value(record.job.spec.options.clone()).unwrap_or_default(),
        created_at: record.created_at,
        started_at: record.started_at,
        // Every item can be finished a moment before the worker records the job as finished:
        // a done job's finish time is then its last item's.
        finished_at: record.job.finished_at.or(if state == JobState::Done {
            record.last_finished_at
        } else {
            None
        }),
        cancelled_at: record.cancelled_at,
        links: links(record.job.id),
    }
}

/// Reads an error result line back into its parts.
fn item_error(seq: u64, line: &str) -> JobItemError {
    let value: serde_json::Value = serde_json::from_str(line).unwrap_or_default();
    JobItemError {
        index: seq,
        id: value.get("id").cloned().unwrap_or_default(),
        error: value
            .get("error")
            .and_then(|e| e.as_str())
            .unwrap_or(line)
            .to_string(),
    }
}

/// Checks a job's task and settings against what this server can do.
fn check_job(state: &AppState, task: &str, options: &JobOptions) -> Result<TaskKind, ApiError> {
    let kind = task_kind(task).ok_or_else(|| {
        ApiError::Unprocessable(format!(
            "unknown task {task:?}; expected translate, summarize or analyze"
        ))
    })?;
    if kind != TaskKind::Translate && state.config().analysis.is_none() {
        return Err(ApiError::AnalysisDisabled);
    }
    let limits = &state.config().limits;
    if let Some(beams) = options.beams {
        if beams == 0 || beams > limits.max_beams {
            return Err(ApiError::Unprocessable(format!(
                "beams must be between 1 and this server's limit of {}, not {beams}",
                limits.max_beams
            )));
        }
    }
    if options.max_new_tokens == Some(0) {
        return Err(ApiError::Unprocessable(
            "max_new_tokens must be at least 1".into(),
        ));
    }
    if let Some(n) = options.summary_sentences {
        if n == 0 || n > MAX_SUMMARY_SENTENCES {
            return Err(ApiError::Unprocessable(format!(
                "summary_sentences must be between 1 and {MAX_SUMMARY_SENTENCES}, not {n}"
            )));
        }
    }
    Ok(kind)
}

/// A name for an upload that no other job has (server jobs have no input or output file; the
/// store identifies a job by its spec).
fn upload_name() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!(
        "upload:{nanos}-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// Submit a batch job: a JSONL body (`Content-Type: application/x-ndjson` or
/// `application/jsonl`, task and settings in the query string) or a JSON body
/// `{"task", "items", "options"}`. Malformed lines or items become error results; the job goes
/// on.
#[utoipa::path(
    post,
    path = "/v1/jobs",
    request_body(content(
        (JobRequest = "application/json"),
        (String = "application/x-ndjson"),
        (String = "application/jsonl")
    )),
    params(
        ("task" = Option<String>, Query, description = "JSONL bodies: translate, summarize or analyze"),
        ("beams" = Option<usize>, Query, description = "JSONL bodies: beam width"),
        ("max_new_tokens" = Option<usize>, Query, description = "JSONL bodies: most tokens per sentence"),
        ("source" = Option<String>, Query, description = "JSONL bodies: fr, en or auto (summarize, analyze)"),
        ("summary_sentences" = Option<usize>, Query, description = "JSONL bodies: sentences per summary"),
        ("summary_mode" = Option<String>, Query, description = "JSONL bodies: abstractive or extractive"),
    ),
    responses(
        (status = 202, description = "The job is queued", body = JobCreated),
        (status = 400, description = "Malformed JSON body", body = ErrorBody),
        (status = 401, description = "API key required", body = ErrorBody),
        (status = 403, description = "Invalid API key", body = ErrorBody),
        (status = 413, description = "Body over --max-job-body-bytes", body = ErrorBody),
        (status = 415, description = "Neither JSON nor JSONL", body = ErrorBody),
        (status = 422, description = "Unknown task, invalid settings, no items", body = ErrorBody),
        (status = 501, description = "Jobs disabled, or an analysis task without analysis models", body = ErrorBody),
    ),
    tag = "jobs"
)]
pub async fn create_job(
    State(state): State<AppState>,
    query: Result<Query<JobQuery>, QueryRejection>,
    request: Request,
) -> Result<Response, ApiError> {
    state.authorize(request.headers(), None)?;
    let jobs = state.jobs()?;
    let limit = jobs.settings.max_body_bytes;
    let too_large = |size: String| {
        ApiError::TooLarge(format!(
            "the job body has {size} bytes; the limit is {limit} (--max-job-body-bytes)"
        ))
    };
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if let Some(length) = declared {
        if length > limit as u64 {
            if length <= (limit + DRAIN_CAP) as u64 {
                // Let the client finish sending, so it reads this answer, not a broken pipe.
                let _ = read_body(request.into_body(), 0).await;
            }
            return Err(too_large(length.to_string()));
        }
    }
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let jsonl = matches!(
        content_type.as_str(),
        "application/x-ndjson" | "application/jsonl" | "application/x-jsonlines"
    );
    if !jsonl && content_type != "application/json" {
        return Err(ApiError::UnsupportedMediaType(
            "send the items as JSONL (`Content-Type: application/x-ndjson` or `application/jsonl`) or as JSON `{\"task\", \"items\"}` (`application/json`)".into(),
        ));
    }
    let body: Bytes = read_body(request.into_body(), limit)
        .await
        .map_err(|e| ApiError::BadRequest(format!("could not read the request body: {e}")))?
        .ok_or_else(|| too_large(format!("more than {limit}")))?;
    let max_chars = state.config().limits.max_chars;
    let (task, options, items) = if jsonl {
        let Query(query) = query
            .map_err(|e| ApiError::Unprocessable(format!("query string: {}", e.body_text())))?;
        let task = query.task.clone().ok_or_else(|| {
            ApiError::Unprocessable(
                "say which task in the query string: ?task=translate, summarize or analyze".into(),
            )
        })?;
        (task, query.options(), parse_items(&body, max_chars))
    } else {
        let request: JobRequest =
            serde_json::from_slice(&body).map_err(|e| match e.classify() {
                serde_json::error::Category::Data => ApiError::Unprocessable(e.to_string()),
                _ => ApiError::BadRequest(format!("malformed JSON body: {e}")),
            })?;
        let items: Vec<NewItem> = request
            .items
            .iter()
            .enumerate()
            .map(|(index, item)| parse_item(index as u64 + 1, &item.0, max_chars))
            .collect();
        (request.task, request.options, items)
    };
    let kind = check_job(&state, &task, &options)?;
    if items.is_empty() {
        return Err(ApiError::Unprocessable(
            "the job has no items: send one {\"id\": …, \"text\": …} object per line".into(),
        ));
    }
    let spec = JobSpec {
        task: kind.name().to_string(),
        options: serde_json::to_value(&options)
            .map_err(|e| ApiError::Internal(format!("job options: {e}")))?,
        input_path: upload_name(),
        input_size: body.len() as u64,
        input_sha256: hex(&Sha256::digest(&body)),
        output_path: String::new(),
    };
    drop(body);
    let rejected = items
        .iter()
        .filter(|i| matches!(i, NewItem::Rejected { .. }))
        .count() as u64;
    let job = jobs.store.create_job(&spec, &items).await?;
    drop(items);
    jobs.wake.notify_one();
    metrics::counter!("dragoman_jobs_total", "task" => spec.task.clone(), "event" => "created")
        .increment(1);
    if rejected > 0 {
        metrics::counter!("dragoman_job_items_total", "task" => spec.task.clone(), "outcome" => "rejected")
            .increment(rejected);
    }
    tracing::info!(job = job.id, task = %spec.task, items = job.total, rejected, "job created");
    let state_name = if rejected == job.total {
        JobState::Done
    } else {
        JobState::Queued
    };
    let created = JobCreated {
        id: job.id,
        state: state_name.as_str().into(),
        total: job.total,
        rejected,
        links: links(job.id),
    };
    let mut response = (StatusCode::ACCEPTED, Json(created)).into_response();
    if let Ok(location) = HeaderValue::from_str(&format!("/v1/jobs/{}", job.id)) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

/// Where a job stands: state, counts, progress, rate, ETA and its first failed items.
#[utoipa::path(
    get,
    path = "/v1/jobs/{id}",
    params(("id" = i64, Path, description = "The job's id")),
    responses(
        (status = 200, description = "The job", body = JobInfo),
        (status = 404, description = "No such job", body = ErrorBody),
        (status = 501, description = "Jobs disabled", body = ErrorBody),
    ),
    tag = "jobs"
)]
pub async fn get_job(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<JobInfo>, ApiError> {
    state.authorize(&headers, None)?;
    let jobs = state.jobs()?;
    let record = record(&jobs.store, job_id(&id)?).await?;
    let errors = jobs
        .store
        .failed_items(record.job.id, jobs.settings.errors_listed)
        .await?
        .iter()
        .map(|r| item_error(r.seq, &r.line))
        .collect();
    Ok(Json(info(&record, errors)))
}

/// `?from=N` of `GET /v1/jobs/{id}/results`.
#[derive(Debug, Default, Deserialize)]
pub struct ResultsQuery {
    /// The first item position to return (0-based).
    #[serde(default)]
    pub from: u64,
}

/// The results as JSONL, in input order: the finished prefix while the job runs, every
/// finished item once it is done, failed or cancelled. The `X-Job-State` header gives the
/// job's state when the stream started.
#[utoipa::path(
    get,
    path = "/v1/jobs/{id}/results",
    params(
        ("id" = i64, Path, description = "The job's id"),
        ("from" = Option<u64>, Query, description = "First item position (0-based) to return"),
    ),
    responses(
        (status = 200, description = "One JSON line per finished item", body = String, content_type = "application/x-ndjson"),
        (status = 404, description = "No such job", body = ErrorBody),
        (status = 501, description = "Jobs disabled", body = ErrorBody),
    ),
    tag = "jobs"
)]
pub async fn job_results(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    query: Result<Query<ResultsQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    state.authorize(&headers, None)?;
    let jobs = state.jobs()?;
    let Query(query) =
        query.map_err(|e| ApiError::Unprocessable(format!("query string: {}", e.body_text())))?;
    let record = record(&jobs.store, job_id(&id)?).await?;
    let job_state = record.state();
    let prefix_only = !job_state.is_terminal();
    let store = jobs.store.clone();
    let job = record.job.id;
    // (next position, finished?) → one chunk of lines at a time.
    let lines = futures::stream::unfold((query.from, false), move |(next, finished)| {
        let store = store.clone();
        async move {
            if finished {
                return None;
            }
            let chunk: Result<(Vec<String>, u64), ApiError> = if prefix_only {
                store
                    .finished_prefix(job, next, CHUNK)
                    .await
                    .map(|lines| {
                        let after = next + lines.len() as u64;
                        (lines, after)
                    })
                    .map_err(ApiError::from)
            } else {
                store
                    .finished_items(job, next, CHUNK)
                    .await
                    .map(|items| {
                        let after = items.last().map_or(next, |r| r.seq + 1);
                        (items.into_iter().map(|r| r.line).collect(), after)
                    })
                    .map_err(ApiError::from)
            };
            match chunk {
                Ok((lines, _)) if lines.is_empty() => None,
                Ok((lines, after)) => {
                    let last = lines.len() < CHUNK;
                    let mut buffer = String::with_capacity(lines.iter().map(|l| l.len() + 1).sum());
                    for line in lines {
                        buffer.push_str(&line);
                        buffer.push('\n');
                    }
                    Some((Ok::<_, std::io::Error>(Bytes::from(buffer)), (after, last)))
                }
                Err(e) => {
                    tracing::error!(job, error = %e, "jobs: reading results failed");
                    Some((Err(std::io::Error::other(e.to_string())), (next, true)))
                }
            }
        }
    });
    let mut response = Response::new(Body::from_stream(lines));
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-ndjson"),
    );
    headers.insert("x-job-state", HeaderValue::from_static(job_state.as_str()));
    Ok(response)
}

/// Cancel a job: its queued items will not run (items being run finish); finished results stay
/// readable. Cancelling a finished job changes nothing.
#[utoipa::path(
    delete,
    path = "/v1/jobs/{id}",
    params(("id" = i64, Path, description = "The job's id")),
    responses(
        (status = 200, description = "The job after the cancel", body = JobInfo),
        (status = 404, description = "No such job", body = ErrorBody),
        (status = 501, description = "Jobs disabled", body = ErrorBody),
    ),
    tag = "jobs"
)]
pub async fn cancel_job(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<JobInfo>, ApiError> {
    state.authorize(&headers, None)?;
    let jobs = state.jobs()?;
    let id = job_id(&id)?;
    if !jobs.store.cancel_job(id).await? {
        return Err(ApiError::JobNotFound(id.to_string()));
    }
    let record = record(&jobs.store, id).await?;
    if record.state() == JobState::Cancelled {
        metrics::counter!("dragoman_jobs_total", "task" => record.job.spec.task.clone(), "event" => "cancelled")
            .increment(1);
        tracing::info!(job = id, "job cancelled");
    }
    Ok(Json(info(&record, Vec::new())))
}

/// `?limit=N` of `GET /v1/jobs`.
#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    /// How many jobs (default 20, at most 100).
    pub limit: Option<usize>,
}

/// The most recent jobs, newest first.
#[utoipa::path(
    get,
    path = "/v1/jobs",
    params(("limit" = Option<usize>, Query, description = "How many jobs (default 20, at most 100)")),
    responses(
        (status = 200, description = "The jobs", body = JobList),
        (status = 501, description = "Jobs disabled", body = ErrorBody),
    ),
    tag = "jobs"
)]
pub async fn list_jobs(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Json<JobList>, ApiError> {
    state.authorize(&headers, None)?;
    let jobs = state.jobs()?;
    let Query(query) =
        query.map_err(|e| ApiError::Unprocessable(format!("query string: {}", e.body_text())))?;
    let limit = query.limit.unwrap_or(20).clamp(1, MAX_LISTED);
    let records = jobs.store.recent_jobs(limit).await?;
    Ok(Json(JobList {
        jobs: records.iter().map(|r| info(r, Vec::new())).collect(),
    }))
}
