//! Speed of dragoman's library on pre-tokenized sentences, for `scripts/bench/run.sh`, which runs
//! CTranslate2 and transformers on the same ids with the same forced lengths.
//!
//! Sentences are taken in the order of the ids file (sorted by length) in consecutive batches;
//! every sentence of a batch generates exactly N new tokens, N being the batch's longest source
//! (in tokens, EOS included), the last of them EOS (`min_new_tokens = N - 1`,
//! `max_new_tokens = N`, EOS forced at the maximum length), so that every engine does the same
//! work on a model with random weights.
//!
//! ```text
//! bench_translate --model DIR --ids SOURCE_IDS.json --beams N --batch-size B [--threads T]
//!     [--limit K] [--int8] --out RESULT.json [--tokens TOKENS.jsonl]
//! bench_translate --model DIR --teacher-force TOKENS.jsonl --ids SOURCE_IDS.json [--int8]
//!     --out FIDELITY.json        # per-step logits of this model vs fp32, fed the given tokens
//! ```

use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use clap::Parser;
use serde::Deserialize;
use serde_json::json;

use dragoman::engine::generate_batch;
use dragoman::models::{GenerationOptions, ModelSource, Quantization, TranslationModel};

#[derive(Parser)]
struct Args {
    /// Model directory (Hub layout).
    #[arg(long)]
    model: String,
    /// `[{"index": i, "ids": [...]}, ...]`, sorted by length.
    #[arg(long)]
    ids: PathBuf,
    /// Beam width (1 = greedy).
    #[arg(long, default_value_t = 1)]
    beams: usize,
    /// Sentences per call.
    #[arg(long, default_value_t = 1)]
    batch_size: usize,
    /// CPU threads.
    #[arg(long, default_value_t = 2)]
    threads: usize,
    /// Only the first K sentences.
    #[arg(long)]
    limit: Option<usize>,
    /// Quantize the weights to int8 at load.
    #[arg(long)]
    int8: bool,
    /// Where the measurements go (JSON).
    #[arg(long)]
    out: PathBuf,
    /// Where the generated tokens go (one JSON line per sentence).
    #[arg(long)]
    tokens: Option<PathBuf>,
    /// Teacher forcing: feed these outputs (a tokens file) and compare each step's logits with
    /// the fp32 model's.
    #[arg(long)]
    teacher_force: Option<PathBuf>,
}

#[derive(Deserialize)]
struct Source {
    index: usize,
    ids: Vec<u32>,
}

#[derive(Deserialize)]
struct Tokens {
    index: usize,
    tokens: Vec<u32>,
}

/// The most memory this process has held (VmHWM), in MB.
fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

fn load(args: &Args, quantization: Quantization) -> Result<(TranslationModel, Duration)> {
    let started = Instant::now();
    let source = ModelSource::parse(&args.model)?;
    let model = TranslationModel::load_with(&source, &candle_core::Device::Cpu, quantization)
        .with_context(|| format!("loading {}", args.model))?;
    Ok((model, started.elapsed()))
}

fn quantization(int8: bool) -> Quantization {
    if int8 {
        Quantization::Int8
    } else {
        Quantization::None
    }
}

fn main() -> Result<()> {
    let args = Args::parse();
    dragoman::engine::cpu::configure_cpu_runtime(Some(args.threads));
    let mut sources: Vec<Source> = serde_json::from_str(
        &std::fs::read_to_string(&args.ids).with_context(|| format!("reading {:?}", args.ids))?,
    )?;
    if let Some(limit) = args.limit {
        sources.truncate(limit);
    }
    match &args.teacher_force {
        Some(tokens) => teacher_force(&args, &sources, tokens),
        None => speed(&args, &sources),
    }
}

fn speed(args: &Args, sources: &[Source]) -> Result<()> {
    let (model, load_time) = load(args, quantization(args.int8))?;
    let batch_size = args.batch_size.max(1);
    let mut latencies = Vec::new();
    let mut target_tokens = 0usize;
    let mut outputs = Vec::with_capacity(sources.len());
    let started = Instant::now();
    for batch in sources.chunks(batch_size) {
        let new_tokens = batch.iter().map(|s| s.ids.len()).max().unwrap_or(1).max(1);
        let cfg = model.generation_config(&GenerationOptions {
            beams: Some(args.beams),
            max_new_tokens: Some(new_tokens),
            min_new_tokens: Some(new_tokens - 1),
            ..GenerationOptions::default()
        });
        let ids: Vec<Vec<u32>> = batch.iter().map(|s| s.ids.clone()).collect();
        let call = Instant::now();
        let hypotheses = generate_batch(&model.model, &ids, &cfg)?;
        latencies.push(call.elapsed());
        for (source, hyps) in batch.iter().zip(hypotheses) {
            let best = hyps.into_iter().next().context("no hypothesis")?;
            if best.tokens.len() != new_tokens {
                bail!(
                    "sentence {} generated {} tokens instead of {new_tokens}",
                    source.index,
                    best.tokens.len()
                );
            }
            target_tokens += best.tokens.len();
            outputs.push((source.index, best.tokens));
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    latencies.sort();
    let p50_ms = latencies
        .get(latencies.len() / 2)
        .map_or(0.0, |d| d.as_secs_f64() * 1000.0);
    let engine = if args.int8 {
        "dragoman-int8"
    } else {
        "dragoman"
    };
    let result = json!({
        "engine": engine,
        "beams": args.beams,
        "batch_size": batch_size,
        "sentences": sources.len(),
        "target_tokens": target_tokens,
        "seconds": seconds,
        "tokens_per_s": target_tokens as f64 / seconds,
        "sentences_per_s": sources.len() as f64 / seconds,
        "p50_ms": p50_ms,
        "peak_rss_mb": peak_rss_mb(),
        "load_s": load_time.as_secs_f64(),
    });
    std::fs::write(&args.out, serde_json::to_string_pretty(&result)?)?;
    println!("{result}");
    if let Some(path) = &args.tokens {
        let mut file = std::io::BufWriter::new(std::fs::File::create(path)?);
        for (index, tokens) in outputs {
            writeln!(file, "{}", json!({"index": index, "tokens": tokens}))?;
        }
    }
    Ok(())
}

/// Feeds each sentence's given output to this model (and to the fp32 one) one step at a time and
/// compares the logits of every step: argmax agreement and mean absolute difference.
fn teacher_force(args: &Args, sources: &[Source], tokens: &std::path::Path) -> Result<()> {
    let forced: Vec<Tokens> = std::fs::read_to_string(tokens)?
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(serde_json::from_str)
        .collect::<Result<_, _>>()?;
    let by_index: std::collections::HashMap<usize, &Vec<u32>> =
        forced.iter().map(|t| (t.index, &t.tokens)).collect();
    let (reference, _) = load(args, Quantization::None)?;
    let (tested, _) = load(args, quantization(args.int8))?;
    let start = reference.model.config().decoder_start_token_id;
    let (mut positions, mut agree, mut abs_error, mut values) = (0usize, 0usize, 0f64, 0usize);
    for source in sources {
        let Some(output) = by_index.get(&source.index) else {
            continue;
        };
        let mut decoder_input = vec![start];
        decoder_input.extend(output.iter().take(output.len().saturating_sub(1)));
        let logits = |model: &TranslationModel| -> Result<Vec<Vec<f32>>> {
            let device = model.model.device();
            let ids = candle_core::Tensor::new(source.ids.as_slice(), device)?.unsqueeze(0)?;
            let mask = ids.ones_like()?;
            let encoded = model.model.encode(&ids, &mask)?;
            let mut state = model.model.start_decoding(&encoded, 1)?;
            let input = candle_core::Tensor::new(decoder_input.as_slice(), device)?.unsqueeze(0)?;
            Ok(model
                .model
                .decode(&mut state, &input)?
                .squeeze(0)?
                .to_vec2::<f32>()?)
        };
        let (expected, got) = (logits(&reference)?, logits(&tested)?);
        for (e, g) in expected.iter().zip(&got) {
            positions += 1;
            if argmax(e) == argmax(g) {
                agree += 1;
            }
            abs_error += e
                .iter()
                .zip(g)
                .map(|(a, b)| f64::from((a - b).abs()))
                .sum::<f64>();
            values += e.len();
        }
    }
    let result = json!({
        "engine": if args.int8 { "dragoman-int8" } else { "dragoman" },
        "positions": positions,
        "argmax_agreement": agree as f64 / positions.max(1) as f64,
        "mean_abs_logit_error": abs_error / values.max(1) as f64,
    });
    std::fs::write(&args.out, serde_json::to_string_pretty(&result)?)?;
    println!("{result}");
    Ok(())
}

fn argmax(row: &[f32]) -> usize {
    row.iter()
        .enumerate()
        .fold((0, f32::NEG_INFINITY), |(bi, bv), (i, &v)| {
            if v > bv {
                (i, v)
            } else {
                (bi, bv)
            }
        })
        .0
}
