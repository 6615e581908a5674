//! Load test for `dragoman serve`, bounded in request count and wall time, loopback only.
//!
//! Sends a fixed French corpus (one line = one request to `POST /v1/translate`, the same
//! generation options for every request) at several client concurrencies; each client loops
//! over its share of the corpus, every request has a timeout and the whole run has a wall-clock
//! cap. Per concurrency it reports requests, errors, throughput (sentences/s and generated
//! tokens/s from the responses' `generated_tokens`), p50/p99 latency, and what the server's
//! `/metrics` say about the batches it ran meanwhile (count, mean size, time the model worker was
//! busy). With `--model` it also measures the engine's offline batch throughput on the same
//! inputs in this process (`Translator::translate_sentences`, the server's default batch
//! settings) and prints the ratio of the highest concurrency's throughput to it.
//!
//! `scripts/loadtest.sh` builds, starts a server on 127.0.0.1, runs this and stops the server:
//!
//! ```sh
//! cargo run --release --example loadtest -- --url http://127.0.0.1:8080 \
//!     --model tests/fixtures/marian-tiny-swish
//! ```

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use clap::Parser;
use serde::Deserialize;

use dragoman::models::{GenerationOptions, ModelSource, TranslationModel};
use dragoman::pipeline::{TranslateOptions, Translator};
use dragoman::server::BatchSettings;

/// Load-test a running `dragoman serve` on the loopback interface.
#[derive(Debug, Parser)]
#[command(name = "loadtest")]
struct Args {
    /// Base URL of the server; only loopback hosts are accepted.
    #[arg(long)]
    url: String,
    /// Model directory the server runs, for the in-process offline baseline (skipped if absent).
    #[arg(long)]
    model: Option<PathBuf>,
    /// French corpus, one sentence per line.
    #[arg(long, default_value = "scripts/corpus/fr.txt")]
    corpus: PathBuf,
    /// Sentences sent per concurrency level (the corpus is cycled if shorter).
    #[arg(long, default_value_t = 200)]
    sentences: usize,
    /// Concurrent clients, comma-separated; one level each.
    #[arg(long, value_delimiter = ',', default_value = "1,8,32")]
    concurrency: Vec<usize>,
    /// Beam width of every request (1 = greedy).
    #[arg(long, default_value_t = 1)]
    beams: usize,
    /// `max_new_tokens` of every request.
    #[arg(long, default_value_t = 32)]
    max_new_tokens: usize,
    /// Timeout of one request, in seconds.
    #[arg(long, default_value_t = 30)]
    request_timeout_s: u64,
    /// Wall-clock cap of the whole run (offline baseline included), in seconds.
    #[arg(long, default_value_t = 300)]
    max_run_s: u64,
    /// How long to wait for `/ready`, in seconds (counts against `--max-run-s`).
    #[arg(long, default_value_t = 60)]
    ready_timeout_s: u64,
    /// Timed offline passes (after one warm-up pass); the median is reported.
    #[arg(long, default_value_t = 3)]
    offline_runs: usize,
}

/// What one request gave.
struct Sample {
    latency: Duration,
    outcome: Result<usize, String>,
}

/// One concurrency level's measurements.
struct Level {
    clients: usize,
    sent: usize,
    errors: usize,
    skipped: usize,
    first_error: Option<String>,
    wall: Duration,
    generated_tokens: usize,
    latencies: Vec<Duration>,
    batches: BatchStats,
}

/// Deltas of the server's batch metrics over one level.
#[derive(Default, Clone, Copy)]
struct BatchStats {
    count: f64,
    size_sum: f64,
    busy_seconds: f64,
    queue_wait_sum: f64,
    queue_wait_count: f64,
}

/// The offline baseline.
struct Offline {
    sentences: usize,
    generated_tokens: usize,
    wall: Duration,
}

/// `GET /ready` body.
#[derive(Deserialize)]
struct ReadyStatus {
    status: String,
    #[serde(default)]
    detail: Option<String>,
}

#[derive(Deserialize)]
struct TranslateResponse {
    translations: Vec<TranslationItem>,
}

#[derive(Deserialize)]
struct TranslationItem {
    #[serde(default)]
    error: Option<String>,
    generated_tokens: usize,
}

fn main() -> ExitCode {
    match run_main(Args::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run_main(args: Args) -> Result<()> {
    if args.concurrency.is_empty() || args.concurrency.contains(&0) {
        bail!("--concurrency needs positive client counts");
    }
    if args.sentences == 0 {
        bail!("--sentences must be positive");
    }
    let base = loopback_base(&args.url)?;
    let corpus = read_corpus(&args.corpus, args.sentences)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let deadline = Instant::now() + Duration::from_secs(args.max_run_s);
    runtime.block_on(run(args, base, corpus, deadline))
}

async fn run(args: Args, base: String, corpus: Arc<Vec<String>>, deadline: Instant) -> Result<()> {
    let client = reqwest::Client::builder()
        .no_proxy()
        .connect_timeout(Duration::from_secs(5))
        .pool_max_idle_per_host(256)
        .build()
        .context("building the HTTP client")?;
    wait_ready(&client, &base, Duration::from_secs(args.ready_timeout_s)).await?;

    println!(
        "corpus: {} sentences from {}; options: beams = {}, max_new_tokens = {}; \
         request timeout {} s, run cap {} s",
        corpus.len(),
        args.corpus.display(),
        args.beams,
        args.max_new_tokens,
        args.request_timeout_s,
        args.max_run_s
    );

    let offline = match &args.model {
        Some(dir) => Some(offline_baseline(&args, dir, Arc::clone(&corpus), deadline).await?),
        None => None,
    };

    let body = |text: &str| {
        serde_json::json!({
            "text": text,
            "beams": args.beams,
            "max_new_tokens": args.max_new_tokens,
        })
    };
    let bodies: Arc<Vec<serde_json::Value>> = Arc::new(corpus.iter().map(|s| body(s)).collect());
    let request_timeout = Duration::from_secs(args.request_timeout_s);

    // Warm-up (not measured): opens connections and touches every code path once.
    let warmup: Arc<Vec<serde_json::Value>> =
        Arc::new(bodies.iter().take(16.min(bodies.len())).cloned().collect());
    let warm = run_level(&client, &base, warmup, 4, request_timeout, deadline).await?;
    if warm.errors > 0 {
        bail!(
            "warm-up failed: {}",
            warm.first_error.unwrap_or_else(|| "unknown error".into())
        );
    }

    let mut levels = Vec::new();
    for &clients in &args.concurrency {
        if Instant::now() >= deadline {
            eprintln!("run cap reached; skipping {clients} clients");
            continue;
        }
        let before = scrape_batches(&client, &base).await;
        let mut level = run_level(
            &client,
            &base,
            Arc::clone(&bodies),
            clients,
            request_timeout,
            deadline,
        )
        .await?;
        let after = scrape_batches(&client, &base).await;
        if let (Some(before), Some(after)) = (before, after) {
            level.batches = BatchStats {
                count: after.count - before.count,
                size_sum: after.size_sum - before.size_sum,
                busy_seconds: after.busy_seconds - before.busy_seconds,
                queue_wait_sum: after.queue_wait_sum - before.queue_wait_sum,
                queue_wait_count: after.queue_wait_count - before.queue_wait_count,
            };
        }
        levels.push(level);
    }
    report(&levels, offline.as_ref());
    Ok(())
}

/// Accepts only `http://` URLs on a loopback host; returns the URL without a trailing slash.
fn loopback_base(url: &str) -> Result<String> {
    let parsed = reqwest::Url::parse(url).with_context(|| format!("bad --url {url}"))?;
    if parsed.scheme() != "http" {
        bail!("--url must be plain http on the loopback interface, got {url}");
    }
    let host = parsed
        .host_str()
        .unwrap_or_default()
        .trim_start_matches('[')
        .trim_end_matches(']');
    let loopback = host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    if !loopback {
        bail!("--url must point at a loopback address (127.0.0.1, ::1, localhost), got {url}");
    }
    Ok(url.trim_end_matches('/').to_string())
}

/// The first `count` non-empty lines of `path`, cycling when the file is shorter.
fn read_corpus(path: &std::path::Path, count: usize) -> Result<Arc<Vec<String>>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the corpus {}", path.display()))?;
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    if lines.is_empty() {
        bail!("the corpus {} has no sentences", path.display());
    }
    Ok(Arc::new(
        lines
            .iter()
            .cycle()
            .take(count)
            .map(|l| l.to_string())
            .collect(),
    ))
}

async fn wait_ready(client: &reqwest::Client, base: &str, limit: Duration) -> Result<()> {
    let until = Instant::now() + limit;
    loop {
        let answer = client
            .get(format!("{base}/ready"))
            .timeout(Duration::from_secs(2))
            .send()
            .await;
        if let Ok(response) = answer {
            if response.status().is_success() {
                return Ok(());
            }
            // 503 while loading; a failed load will not get better.
            if let Ok(status) = response.json::<ReadyStatus>().await {
                if status.status == "failed" {
                    bail!(
                        "the server failed to load its model: {}",
                        status.detail.unwrap_or_default()
                    );
                }
            }
        }
        if Instant::now() >= until {
            bail!("{base}/ready did not answer 200 within {limit:?}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The same sentences and options through the engine in this process, all at once, with the
/// server's default batch settings: one warm-up pass, then the median of `offline_runs` passes.
async fn offline_baseline(
    args: &Args,
    dir: &std::path::Path,
    corpus: Arc<Vec<String>>,
    deadline: Instant,
) -> Result<Offline> {
    let source = ModelSource::parse(&dir.to_string_lossy())?;
    let batch = BatchSettings::default();
    let options = TranslateOptions {
        generation: GenerationOptions {
            beams: Some(args.beams),
            max_new_tokens: Some(args.max_new_tokens),
            ..GenerationOptions::default()
        },
        max_batch_tokens: batch.max_batch_tokens,
        max_batch_sentences: batch.max_batch_sentences,
    };
    let runs = args.offline_runs.max(1);
    let work = tokio::task::spawn_blocking(move || -> Result<Offline> {
        let model = TranslationModel::load(&source, &candle_core::Device::Cpu)
            .with_context(|| format!("loading {source}"))?;
        let translator = Translator::new(model);
        translator.translate_sentences(&corpus, &options)?;
        let mut passes = Vec::with_capacity(runs);
        for _ in 0..runs {
            let started = Instant::now();
            let out = translator.translate_sentences(&corpus, &options)?;
            let generated = out.iter().map(|s| s.generated_tokens).sum();
            passes.push((started.elapsed(), generated));
        }
        passes.sort_by_key(|&(wall, _)| wall);
        let (wall, generated_tokens) = passes[passes.len() / 2];
        Ok(Offline {
            sentences: corpus.len(),
            generated_tokens,
            wall,
        })
    });
    let left = deadline.saturating_duration_since(Instant::now());
    match tokio::time::timeout(left, work).await {
        Ok(joined) => joined.context("the offline run panicked")?,
        Err(_) => bail!("the offline baseline did not finish within the run cap"),
    }
}

/// Sends every body once, `clients` at a time (client `k` takes bodies `k`, `k + clients`, …).
async fn run_level(
    client: &reqwest::Client,
    base: &str,
    bodies: Arc<Vec<serde_json::Value>>,
    clients: usize,
    request_timeout: Duration,
    deadline: Instant,
) -> Result<Level> {
    let url = format!("{base}/v1/translate");
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(clients);
    for k in 0..clients {
        let client = client.clone();
        let url = url.clone();
        let bodies = Arc::clone(&bodies);
        tasks.push(tokio::spawn(async move {
            let mut samples = Vec::new();
            let mut skipped = 0usize;
            for body in bodies.iter().skip(k).step_by(clients) {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    skipped += 1;
                    continue;
                }
                let sent = Instant::now();
                let outcome = translate_one(&client, &url, body, request_timeout.min(left)).await;
                samples.push(Sample {
                    latency: sent.elapsed(),
                    outcome,
                });
            }
            (samples, skipped)
        }));
    }
    let mut level = Level {
        clients,
        sent: 0,
        errors: 0,
        skipped: 0,
        first_error: None,
        wall: Duration::ZERO,
        generated_tokens: 0,
        latencies: Vec::new(),
        batches: BatchStats::default(),
    };
    for task in tasks {
        let (samples, skipped) = task.await.context("a client task panicked")?;
        level.skipped += skipped;
        for sample in samples {
            level.sent += 1;
            match sample.outcome {
                Ok(tokens) => {
                    level.generated_tokens += tokens;
                    level.latencies.push(sample.latency);
                }
                Err(message) => {
                    level.errors += 1;
                    level.first_error.get_or_insert(message);
                }
            }
        }
    }
    level.wall = started.elapsed();
    level.latencies.sort();
    Ok(level)
}

/// One request; `Ok(generated tokens)` or why it failed.
async fn translate_one(
    client: &reqwest::Client,
    url: &str,
    body: &serde_json::Value,
    timeout: Duration,
) -> Result<usize, String> {
    let response = client
        .post(url)
        .json(body)
        .timeout(timeout)
        .send()
        .await
        .map_err(|e| {
            if e.is_timeout() {
                format!("timed out after {timeout:?}")
            } else {
                format!("request failed: {e}")
            }
        })?;
    let status = response.status();
    if !status.is_success() {
        let text = response.text().await.unwrap_or_default();
        return Err(format!("HTTP {status}: {}", text.trim()));
    }
    let parsed: TranslateResponse = response
        .json()
        .await
        .map_err(|e| format!("bad response body: {e}"))?;
    let mut tokens = 0;
    for item in parsed.translations {
        if let Some(error) = item.error {
            return Err(format!("translation error: {error}"));
        }
        tokens += item.generated_tokens;
    }
    Ok(tokens)
}

/// Cumulative batch metrics from `/metrics`, or `None` if they cannot be read.
async fn scrape_batches(client: &reqwest::Client, base: &str) -> Option<BatchStats> {
    let text = client
        .get(format!("{base}/metrics"))
        .timeout(Duration::from_secs(5))
        .send()
        .await
        .ok()?
        .text()
        .await
        .ok()?;
    let value = |name: &str| -> f64 {
        text.lines()
            .find_map(|line| {
                line.strip_prefix(name)?
                    .strip_prefix(' ')?
                    .trim()
                    .parse()
                    .ok()
            })
            .unwrap_or(0.0)
    };
    Some(BatchStats {
        count: value("dragoman_batch_size_count"),
        size_sum: value("dragoman_batch_size_sum"),
        busy_seconds: value("dragoman_batch_seconds_sum"),
        queue_wait_sum: value("dragoman_queue_wait_seconds_sum"),
        queue_wait_count: value("dragoman_queue_wait_seconds_count"),
    })
}

/// Nearest-rank percentile of sorted `values`, in milliseconds.
fn percentile_ms(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1].as_secs_f64() * 1000.0
}

fn report(levels: &[Level], offline: Option<&Offline>) {
    println!();
    println!(
        "| clients | requests | errors | sentences/s | tokens/s | p50 ms | p99 ms | batches | mean batch | worker busy | mean queue wait ms |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for level in levels {
        let wall = level.wall.as_secs_f64();
        let ok = level.latencies.len();
        let b = level.batches;
        let mean_batch = if b.count > 0.0 {
            format!("{:.1}", b.size_sum / b.count)
        } else {
            "-".into()
        };
        let queue_wait = if b.queue_wait_count > 0.0 {
            format!("{:.1}", 1000.0 * b.queue_wait_sum / b.queue_wait_count)
        } else {
            "-".into()
        };
        println!(
            "| {} | {} | {} | {:.1} | {:.0} | {:.1} | {:.1} | {:.0} | {} | {:.0}% | {} |",
            level.clients,
            level.sent,
            level.errors,
            ok as f64 / wall,
            level.generated_tokens as f64 / wall,
            percentile_ms(&level.latencies, 50.0),
            percentile_ms(&level.latencies, 99.0),
            b.count,
            mean_batch,
            100.0 * b.busy_seconds / wall,
            queue_wait,
        );
    }
    for level in levels {
        if level.skipped > 0 {
            println!(
                "{} clients: {} requests not sent (run cap reached)",
                level.clients, level.skipped
            );
        }
        if let Some(error) = &level.first_error {
            println!(
                "{} clients: {} errors, first: {error}",
                level.clients, level.errors
            );
        }
    }
    let Some(offline) = offline else {
        return;
    };
    let wall = offline.wall.as_secs_f64();
    let offline_sps = offline.sentences as f64 / wall;
    let offline_tps = offline.generated_tokens as f64 / wall;
    println!();
    println!(
        "offline batch (in process, same sentences and options): {:.1} sentences/s, {:.0} tokens/s \
         ({} sentences, {} tokens in {:.3} s)",
        offline_sps, offline_tps, offline.sentences, offline.generated_tokens, wall
    );
    if let Some(top) = levels.iter().max_by_key(|l| l.clients) {
        let top_wall = top.wall.as_secs_f64();
        let sps = top.latencies.len() as f64 / top_wall;
        let tps = top.generated_tokens as f64 / top_wall;
        println!(
            "server @ {} clients / offline: {:.0}% of sentences/s, {:.0}% of tokens/s \
             (server generated {} tokens, offline {}; target: at least 80%)",
            top.clients,
            100.0 * sps / offline_sps,
            100.0 * tps / offline_tps,
            top.generated_tokens,
            offline.generated_tokens
        );
    }
}
