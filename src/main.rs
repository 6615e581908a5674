//! The `dragoman` command line.

use std::io::{BufRead, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand, ValueEnum};
use serde::Deserialize;

use dragoman::models::{GenerationOptions, ModelSource, TranslationModel};
use dragoman::pipeline::{TranslateOptions, Translator};

/// French news to English on open transformer models.
#[derive(Debug, Parser)]
#[command(name = "dragoman", version, about)]
struct Cli {
    /// CPU threads for the model's matrix products (default: all cores).
    #[arg(long, global = true, env = "DRAGOMAN_THREADS")]
    threads: Option<usize>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Translate French text (a file or stdin) to English.
    Translate(TranslateArgs),
    /// Analyse an article: translation, summary, event tags and entities (JSON or a Markdown brief).
    Analyze(AnalyzeArgs),
    /// Serve the HTTP API (`/v1/translate`, LibreTranslate's `/translate`, metrics, docs).
    Serve(ServeArgs),
    /// Run a durable batch job over a JSONL file: resumable after any interruption, every input
    /// exactly once in the output, in input order.
    Batch(BatchArgs),
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum BatchTask {
    /// `{"id":…, "translation": "…"}`.
    Translate,
    /// `{"id":…, "summary": "…"}`.
    Summarize,
    /// `{"id":…, "analysis": {…}}`.
    Analyze,
}

#[derive(Debug, Args)]
struct BatchArgs {
    /// What to do with each text.
    #[arg(long, value_enum)]
    task: BatchTask,
    /// Input JSONL: one `{"id": …, "text": …}` object per line (other fields are carried over).
    input: PathBuf,
    /// Output JSONL: one result line per input line, in input order.
    output: PathBuf,
    /// The job's state database (default: OUTPUT with `.state.db` appended).
    #[arg(long)]
    state: Option<PathBuf>,
    /// Keep the job in this database instead of a state file: `postgres://USER[:PASSWORD]@HOST[:PORT]/DB`
    /// (a queue several `dragoman batch` processes share: run the same command in each), or a
    /// SQLite path. Default: `DRAGOMAN_DATABASE_URL`, unless --state is given.
    #[arg(long, conflicts_with = "state")]
    database_url: Option<String>,
    /// Seconds a claimed batch stays reserved for this process (renewed while it runs); other
    /// processes on a shared database take a dead one's items over after this long.
    #[arg(long, default_value_t = 600)]
    lease_secs: u64,
    /// Discard whatever job the state file holds and start over (with --database-url: this
    /// job only).
    #[arg(long)]
    restart: bool,
    /// Translation model: Hub id with optional revision (`owner/name@rev`) or a local directory.
    #[arg(
        long,
        env = "DRAGOMAN_MODEL",
        default_value = "Helsinki-NLP/opus-mt-fr-en"
    )]
    model: String,
    /// Beam width for translation (1 = greedy); default from the model.
    #[arg(long)]
    beams: Option<usize>,
    /// Maximum number of tokens generated per sentence.
    #[arg(long)]
    max_new_tokens: Option<usize>,
    #[command(flatten)]
    analysis: AnalysisModelArgs,
    /// Language of the articles (summarize and analyze).
    #[arg(long, value_enum, default_value_t = SourceArg::Fr)]
    source: SourceArg,
    /// Most sentences in a summary.
    #[arg(long, default_value_t = dragoman::pipeline::analyze::DEFAULT_SUMMARY_SENTENCES)]
    summary_sentences: usize,
    /// Summary mode (default: abstractive when a summarizer is loaded).
    #[arg(long, value_enum)]
    summary_mode: Option<SummaryModeArg>,
    /// Articles run through the models at once (and committed together).
    #[arg(long, default_value_t = 16)]
    batch_size: usize,
    /// Texts longer than this many characters fail.
    #[arg(long, default_value_t = 100_000)]
    max_chars: usize,
    /// Seconds between progress lines when stderr is not a terminal.
    #[arg(long, default_value_t = 5.0)]
    progress_every: f64,
    /// Where to run the models.
    #[arg(long, env = "DRAGOMAN_DEVICE", value_enum, default_value_t = DeviceKind::Cpu)]
    device: DeviceKind,
    /// Store the translation model's weight matrices as int8 (quantized at load: about 4x less
    /// memory traffic, faster one-sentence decoding on CPU, slightly different scores).
    #[arg(long, env = "DRAGOMAN_QUANTIZE", value_enum, default_value_t = QuantizeArg::None)]
    quantize: QuantizeArg,
}

#[derive(Debug, Args)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "DRAGOMAN_HOST", default_value = "127.0.0.1")]
    host: String,
    /// Port to listen on (0 picks a free one).
    #[arg(long, env = "DRAGOMAN_PORT", default_value_t = 8080)]
    port: u16,
    /// Hub model id with optional revision (`owner/name@rev`) or a local model directory.
    #[arg(
        long,
        env = "DRAGOMAN_MODEL",
        default_value = "Helsinki-NLP/opus-mt-fr-en"
    )]
    model: String,
    /// Where to run the model.
    #[arg(long, env = "DRAGOMAN_DEVICE", value_enum, default_value_t = DeviceKind::Cpu)]
    device: DeviceKind,
    /// Store the translation model's weight matrices as int8 (quantized at load: about 4x less
    /// memory traffic, faster one-sentence decoding on CPU, slightly different scores).
    #[arg(long, env = "DRAGOMAN_QUANTIZE", value_enum, default_value_t = QuantizeArg::None)]
    quantize: QuantizeArg,
    /// Model worker threads (each runs whole batches).
    #[arg(long, env = "DRAGOMAN_WORKERS", default_value_t = 1)]
    workers: usize,
    /// Upper bound on sentences × longest source (tokens) per batch.
    #[arg(long, env = "DRAGOMAN_MAX_BATCH_TOKENS", default_value_t = 4096)]
    max_batch_tokens: usize,
    /// Upper bound on sentences per batch.
    #[arg(long, env = "DRAGOMAN_MAX_BATCH_SENTENCES", default_value_t = 32)]
    max_batch_sentences: usize,
    /// How long an idle worker waits to gather a batch, in milliseconds.
    #[arg(long, env = "DRAGOMAN_MAX_WAIT_MS", default_value_t = 5)]
    max_wait_ms: u64,
    /// Most sentences queued at once; beyond that requests get 429.
    #[arg(long, env = "DRAGOMAN_QUEUE_SIZE", default_value_t = 2048)]
    queue_size: usize,
    /// Largest request body in bytes.
    #[arg(long, env = "DRAGOMAN_MAX_BODY_BYTES", default_value_t = 2 * 1024 * 1024)]
    max_body_bytes: usize,
    /// Most characters per request.
    #[arg(long, env = "DRAGOMAN_MAX_CHARS", default_value_t = 100_000)]
    max_chars: usize,
    /// Most texts per request.
    #[arg(long, env = "DRAGOMAN_MAX_TEXTS", default_value_t = 128)]
    max_texts: usize,
    /// Largest beam width a request may ask for.
    #[arg(long, env = "DRAGOMAN_MAX_BEAMS", default_value_t = 8)]
    max_beams: usize,
    /// Comma-separated API keys; when set, every translation request needs one.
    #[arg(long, env = "DRAGOMAN_API_KEYS", value_delimiter = ',')]
    api_keys: Vec<String>,
    /// Log as JSON lines.
    #[arg(long, env = "DRAGOMAN_LOG_JSON")]
    log_json: bool,
    #[command(flatten)]
    analysis: AnalysisModelArgs,
    /// Serve translation only: load no analysis models (`/v1/analyze` answers 501).
    #[arg(long, env = "DRAGOMAN_NO_ANALYSIS")]
    no_analysis: bool,
    /// Analyses (summary, tags, entities) run at the same time.
    #[arg(long, env = "DRAGOMAN_MAX_CONCURRENT_ANALYSES", default_value_t = 1)]
    max_concurrent_analyses: usize,
    /// Analyses running or waiting at once; beyond that requests get 429.
    #[arg(long, env = "DRAGOMAN_MAX_QUEUED_ANALYSES", default_value_t = 64)]
    max_queued_analyses: usize,
    /// SQLite database of the batch jobs (`/v1/jobs`), created if missing; unfinished jobs in
    /// it resume when the server starts. One server per file.
    #[arg(long, env = "DRAGOMAN_JOBS_DB", default_value = dragoman::server::DEFAULT_JOBS_DB)]
    jobs_db: PathBuf,
    /// PostgreSQL database of the batch jobs (`postgres://USER:PASSWORD@HOST/DB`) instead of
    /// --jobs-db: servers started with the same URL share one queue and each job's items.
    #[arg(long, env = "DRAGOMAN_DATABASE_URL")]
    database_url: Option<String>,
    /// How long a server's claim on job items lasts, in seconds (renewed while it works on
    /// them); with PostgreSQL, the items of a server that died are taken over after it.
    #[arg(long, env = "DRAGOMAN_JOB_LEASE_SECS", default_value_t = dragoman::server::DEFAULT_JOB_LEASE_SECS)]
    job_lease_secs: u64,
    /// Run no batch jobs (`/v1/jobs` answers 501) and open no jobs database (wins over --jobs-db).
    #[arg(long, env = "DRAGOMAN_NO_JOBS")]
    no_jobs: bool,
    /// Largest `POST /v1/jobs` body in bytes (other routes keep --max-body-bytes).
    #[arg(long, env = "DRAGOMAN_MAX_JOB_BODY_BYTES", default_value_t = 64 * 1024 * 1024)]
    max_job_body_bytes: usize,
    /// Job items claimed and run through the models at once.
    #[arg(long, env = "DRAGOMAN_JOB_BATCH_SIZE", default_value_t = 16)]
    job_batch_size: usize,
}

/// The analysis models, shared by `analyze` and `serve`.
#[derive(Debug, Args)]
struct AnalysisModelArgs {
    /// Summarization model (Hub id[@rev] or directory); `none` for extractive summaries only.
    #[arg(long, env = "DRAGOMAN_SUMMARIZER", default_value = dragoman::pipeline::setup::DEFAULT_SUMMARIZER)]
    summarizer: String,
    /// Sentence-embedding model for tags and extractive summaries (Hub id[@rev] or directory).
    #[arg(long, env = "DRAGOMAN_EMBEDDING_MODEL", default_value = dragoman::pipeline::setup::DEFAULT_EMBEDDING_MODEL)]
    embedding_model: String,
    /// Token-classification NER model (Hub id[@rev] or directory), e.g. dslim/bert-base-NER;
    /// without one, entities come from the gazetteer and the person rules.
    #[arg(long, env = "DRAGOMAN_NER_MODEL")]
    ner_model: Option<String>,
    /// Event taxonomy file (default: the built-in models/taxonomy.json).
    #[arg(long, env = "DRAGOMAN_TAXONOMY")]
    taxonomy: Option<PathBuf>,
    /// Event classifier file (default: the built-in models/event_head.json).
    #[arg(long, env = "DRAGOMAN_EVENT_HEAD")]
    event_head: Option<PathBuf>,
}

impl AnalysisModelArgs {
    fn to_models(&self) -> dragoman::pipeline::setup::AnalysisModels {
        let optional = |v: &str| {
            let v = v.trim();
            (!v.is_empty() && !v.eq_ignore_ascii_case("none")).then(|| v.to_string())
        };
        dragoman::pipeline::setup::AnalysisModels {
            embedding: self.embedding_model.clone(),
            summarizer: optional(&self.summarizer),
            ner: self.ner_model.as_deref().and_then(optional),
            taxonomy: self.taxonomy.clone(),
            event_head: self.event_head.clone(),
            gazetteer: None,
        }
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum BriefFormat {
    /// The full analysis as JSON.
    Json,
    /// A readable brief for a person.
    Markdown,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum SourceArg {
    /// French: translate, then analyse.
    Fr,
    /// English: analyse as given.
    En,
    /// Detect French or English.
    Auto,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum SummaryModeArg {
    /// Written by the summarization model.
    Abstractive,
    /// Key sentences of the article.
    Extractive,
}

#[derive(Debug, Args)]
struct AnalyzeArgs {
    /// Translation model: Hub id with optional revision (`owner/name@rev`) or a local directory.
    #[arg(
        long,
        env = "DRAGOMAN_MODEL",
        default_value = "Helsinki-NLP/opus-mt-fr-en"
    )]
    model: String,
    #[command(flatten)]
    analysis: AnalysisModelArgs,
    /// Language of the article.
    #[arg(long, value_enum, default_value_t = SourceArg::Fr)]
    source: SourceArg,
    /// Output format.
    #[arg(long, value_enum, default_value_t = BriefFormat::Markdown)]
    format: BriefFormat,
    /// Most sentences in the summary.
    #[arg(long, default_value_t = dragoman::pipeline::analyze::DEFAULT_SUMMARY_SENTENCES)]
    summary_sentences: usize,
    /// Summary mode (default: abstractive when a summarizer is loaded).
    #[arg(long, value_enum)]
    summary_mode: Option<SummaryModeArg>,
    /// Translated sentences whose score is below this are flagged low-confidence.
    #[arg(long, default_value_t = dragoman::pipeline::analyze::DEFAULT_LOW_CONFIDENCE_BELOW, allow_negative_numbers = true)]
    low_confidence_below: f32,
    /// Beam width for the translation (1 = greedy); default from the model.
    #[arg(long)]
    beams: Option<usize>,
    /// Where to run the models.
    #[arg(long, env = "DRAGOMAN_DEVICE", value_enum, default_value_t = DeviceKind::Cpu)]
    device: DeviceKind,
    /// Store the translation model's weight matrices as int8 (quantized at load: about 4x less
    /// memory traffic, faster one-sentence decoding on CPU, slightly different scores).
    #[arg(long, env = "DRAGOMAN_QUANTIZE", value_enum, default_value_t = QuantizeArg::None)]
    quantize: QuantizeArg,
    /// Input file; `-` or nothing reads stdin.
    input: Option<PathBuf>,
}

/// How the translation model's weights are stored.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum QuantizeArg {
    /// f32.
    None,
    /// 8-bit weights, quantized at load (integer products on AVX2 CPUs).
    Int8,
}

impl QuantizeArg {
    fn quantization(self) -> dragoman::models::Quantization {
        match self {
            Self::None => dragoman::models::Quantization::None,
            Self::Int8 => dragoman::models::Quantization::Int8,
        }
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum DeviceKind {
    Cpu,
    Cuda,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum OutputFormat {
    /// The English text only.
    Text,
    /// The full result as JSON: text, per-sentence scores, warnings.
    Json,
}

#[derive(Debug, Args)]
struct TranslateArgs {
    /// Hub model id with optional revision (`owner/name@rev`) or a local model directory.
    #[arg(
        long,
        env = "DRAGOMAN_MODEL",
        default_value = "Helsinki-NLP/opus-mt-fr-en"
    )]
    model: String,
    /// Beam width (1 = greedy); default from the model's generation_config.json.
    #[arg(long)]
    beams: Option<usize>,
    /// Maximum number of tokens generated per sentence.
    #[arg(long)]
    max_new_tokens: Option<usize>,
    /// Read and write JSON Lines: `{"id":…, "text":…}` in, `{"id":…, "translation":…}` out.
    #[arg(long)]
    jsonl: bool,
    /// Output format for plain-text input.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    format: OutputFormat,
    /// Where to run the model.
    #[arg(long, env = "DRAGOMAN_DEVICE", value_enum, default_value_t = DeviceKind::Cpu)]
    device: DeviceKind,
    /// Store the translation model's weight matrices as int8 (quantized at load: about 4x less
    /// memory traffic, faster one-sentence decoding on CPU, slightly different scores).
    #[arg(long, env = "DRAGOMAN_QUANTIZE", value_enum, default_value_t = QuantizeArg::None)]
    quantize: QuantizeArg,
    /// Input file; `-` or nothing reads stdin.
    input: Option<PathBuf>,
}

fn device(kind: DeviceKind) -> Result<candle_core::Device> {
    match kind {
        DeviceKind::Cpu => Ok(candle_core::Device::Cpu),
        DeviceKind::Cuda => {
            if !candle_core::utils::cuda_is_available() {
                bail!("--device cuda: this build has no CUDA support (rebuild with `--features cuda`) or no GPU is visible");
            }
            candle_core::Device::new_cuda(0).context("opening CUDA device 0")
        }
    }
}

fn open_input(path: Option<&PathBuf>) -> Result<Box<dyn BufRead>> {
    match path {
        Some(p) if p.as_os_str() != "-" => {
            let file =
                std::fs::File::open(p).with_context(|| format!("cannot open {}", p.display()))?;
            Ok(Box::new(std::io::BufReader::new(file)))
        }
        _ => Ok(Box::new(std::io::BufReader::new(std::io::stdin()))),
    }
}

#[derive(Debug, Deserialize)]
struct JsonlInput {
    #[serde(default)]
    id: serde_json::Value,
    text: String,
}

fn translate(args: TranslateArgs) -> Result<ExitCode> {
    let source = ModelSource::parse(&args.model)?;
    let device = device(args.device)?;
    let model = TranslationModel::load_with(&source, &device, args.quantize.quantization())
        .with_context(|| format!("loading model {source}"))?;
    let translator = Translator::new(model);
    let options = TranslateOptions {
        generation: GenerationOptions {
            beams: args.beams,
            max_new_tokens: args.max_new_tokens,
            ..GenerationOptions::default()
        },
        ..TranslateOptions::default()
    };
    let mut input = open_input(args.input.as_ref())?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if !args.jsonl {
        let mut text = String::new();
        input
            .read_to_string(&mut text)
            .context("reading input (it must be UTF-8 text)")?;
        let result = translator.translate_article(&text, &options)?;
        for warning in &result.warnings {
            eprintln!("warning: {warning}");
        }
        match args.format {
            OutputFormat::Text => writeln!(out, "{}", result.text)?,
            OutputFormat::Json => writeln!(out, "{}", serde_json::to_string_pretty(&result)?)?,
        }
        return Ok(ExitCode::SUCCESS);
    }
    let mut failures = 0usize;
    for (number, line) in input.split(b'\n').enumerate() {
        let line = line.context("reading input")?;
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let reply = match std::str::from_utf8(&line)
            .map_err(|e| format!("line {} is not valid UTF-8: {e}", number + 1))
            .and_then(|l| {
                serde_json::from_str::<JsonlInput>(l).map_err(|e| {
                    format!(
                        "line {}: expected {{\"id\": …, \"text\": \"…\"}}: {e}",
                        number + 1
                    )
                })
            }) {
            Ok(item) => match translator.translate_article(&item.text, &options) {
                Ok(result) => serde_json::json!({"id": item.id, "translation": result.text}),
                Err(e) => {
                    failures += 1;
                    serde_json::json!({"id": item.id, "error": e.to_string()})
                }
            },
            Err(message) => {
                failures += 1;
                eprintln!("error: {message}");
                serde_json::json!({"id": null, "line": number + 1, "error": message})
            }
        };
        writeln!(out, "{reply}")?;
        out.flush()?;
    }
    if failures > 0 {
        eprintln!("{failures} line(s) failed; see the \"error\" fields");
        return Ok(ExitCode::from(2));
    }
    Ok(ExitCode::SUCCESS)
}

fn analyze(args: AnalyzeArgs) -> Result<ExitCode> {
    use dragoman::pipeline::analyze::{AnalyzeOptions, SourceLanguage, SummaryMode};
    use dragoman::pipeline::flow::{analyze_article, LocalTranslator};
    use dragoman::pipeline::{settle_language, Language};
    let mut text = String::new();
    open_input(args.input.as_ref())?
        .read_to_string(&mut text)
        .context("reading input (it must be UTF-8 text)")?;
    let requested = match args.source {
        SourceArg::Fr => SourceLanguage::Fr,
        SourceArg::En => SourceLanguage::En,
        SourceArg::Auto => SourceLanguage::Auto,
    };
    let options = AnalyzeOptions {
        summary_sentences: args.summary_sentences,
        summary_mode: args.summary_mode.map(|m| match m {
            SummaryModeArg::Abstractive => SummaryMode::Abstractive,
            SummaryModeArg::Extractive => SummaryMode::Extractive,
        }),
        low_confidence_below: args.low_confidence_below,
        ..AnalyzeOptions::default()
    };
    let device = device(args.device)?;
    let analyzer = dragoman::pipeline::setup::load_analyzer(&args.analysis.to_models(), &device)?;
    analyzer.check_options(&options)?;
    // The translation model is loaded only for French text.
    let translator = match settle_language(&text, requested)? {
        (Language::En, _) => None,
        (Language::Fr, _) => {
            let source = ModelSource::parse(&args.model)?;
            let model = TranslationModel::load_with(&source, &device, args.quantize.quantization())
                .with_context(|| format!("loading model {source}"))?;
            Some(Translator::new(model))
        }
    };
    let translate_options = TranslateOptions {
        generation: GenerationOptions {
            beams: args.beams,
            ..GenerationOptions::default()
        },
        ..TranslateOptions::default()
    };
    let local = translator.as_ref().map(|translator| LocalTranslator {
        translator,
        options: &translate_options,
    });
    let analysis = analyze_article(&analyzer, local.as_ref(), &text, requested, &options)?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match args.format {
        BriefFormat::Json => writeln!(out, "{}", serde_json::to_string_pretty(&analysis)?)?,
        BriefFormat::Markdown => write!(
            out,
            "{}",
            dragoman::pipeline::brief::render_markdown(&analysis)
        )?,
    }
    Ok(ExitCode::SUCCESS)
}

fn serve(args: ServeArgs) -> Result<ExitCode> {
    use dragoman::server::{BatchSettings, JobSettings, Limits, ServerConfig};
    let config = ServerConfig {
        model: args.model,
        device: device(args.device)?,
        quantization: args.quantize.quantization(),
        batching: BatchSettings {
            max_batch_tokens: args.max_batch_tokens,
            max_batch_sentences: args.max_batch_sentences,
            max_wait: std::time::Duration::from_millis(args.max_wait_ms),
            queue_capacity: args.queue_size,
            workers: args.workers,
        },
        limits: Limits {
            max_body_bytes: args.max_body_bytes,
            max_chars: args.max_chars,
            max_texts: args.max_texts,
            max_beams: args.max_beams,
            max_concurrent_analyses: args.max_concurrent_analyses,
            max_queued_analyses: args.max_queued_analyses,
        },
        analysis: (!args.no_analysis).then(|| args.analysis.to_models()),
        jobs: (!args.no_jobs).then(|| JobSettings {
            db: match &args.database_url {
                Some(url) => dragoman::jobs::StoreLocation::parse(url),
                None => dragoman::jobs::StoreLocation::Sqlite(args.jobs_db.clone()),
            },
            lease: std::time::Duration::from_secs(args.job_lease_secs.max(1)),
            max_body_bytes: args.max_job_body_bytes,
            batch_size: args.job_batch_size.max(1),
            ..JobSettings::default()
        }),
        api_keys: args
            .api_keys
            .into_iter()
            .filter(|k| !k.is_empty())
            .collect(),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async {
        let address = format!("{}:{}", args.host, args.port);
        let listener = tokio::net::TcpListener::bind(&address)
            .await
            .with_context(|| format!("cannot listen on {address}"))?;
        eprintln!("dragoman listening on http://{}", listener.local_addr()?);
        dragoman::server::serve(config, listener, dragoman::server::shutdown_signal()).await?;
        anyhow::Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}

/// Stands in for the models when every item is already finished (nothing is loaded).
struct NothingLeft(dragoman::jobs::TaskKind);

impl dragoman::jobs::Task for NothingLeft {
    fn kind(&self) -> dragoman::jobs::TaskKind {
        self.0
    }

    fn run(&self, texts: &[&str]) -> Vec<std::result::Result<serde_json::Value, String>> {
        vec![Err("internal error: no model loaded".to_string()); texts.len()]
    }
}

fn batch(args: BatchArgs) -> Result<ExitCode> {
    use dragoman::jobs::{
        open_job, open_shared_job, run_job, AnalyzeTask, AnyStore, InputFile, JobSpec, JobStore,
        OutputFile, RunnerConfig, SqliteAccess, StoreLocation, Task, TaskKind, TranslateTask,
    };
    use dragoman::pipeline::analyze::{AnalyzeOptions, SourceLanguage, SummaryMode};
    use std::sync::Arc;

    let kind = match args.task {
        BatchTask::Translate => TaskKind::Translate,
        BatchTask::Summarize => TaskKind::Summarize,
        BatchTask::Analyze => TaskKind::Analyze,
    };
    let source = match args.source {
        SourceArg::Fr => SourceLanguage::Fr,
        SourceArg::En => SourceLanguage::En,
        SourceArg::Auto => SourceLanguage::Auto,
    };
    let needs_translation = kind == TaskKind::Translate || source != SourceLanguage::En;
    // Everything that changes results is part of the job's identity.
    let mut options = serde_json::json!({ "max_chars": args.max_chars });
    if needs_translation {
        options["model"] = args.model.clone().into();
        options["beams"] = serde_json::json!(args.beams);
        options["max_new_tokens"] = serde_json::json!(args.max_new_tokens);
    }
    if kind != TaskKind::Translate {
        let models = args.analysis.to_models();
        options["source"] = serde_json::to_value(source)?;
        options["summary_sentences"] = args.summary_sentences.into();
        options["summary_mode"] = serde_json::to_value(args.summary_mode.map(|m| match m {
            SummaryModeArg::Abstractive => SummaryMode::Abstractive,
            SummaryModeArg::Extractive => SummaryMode::Extractive,
        }))?;
        options["embedding"] = models.embedding.into();
        options["summarizer"] = serde_json::json!(models.summarizer);
        options["ner"] = serde_json::json!(models.ner);
        options["taxonomy"] = serde_json::json!(models.taxonomy);
        options["event_head"] = serde_json::json!(models.event_head);
    }
    let input = InputFile::read(&args.input)?;
    let output_path = std::path::absolute(&args.output)
        .with_context(|| format!("output path {}", args.output.display()))?;
    // The environment's database is the default; an explicit --state overrides it.
    let database_url = args.database_url.clone().or_else(|| {
        std::env::var("DRAGOMAN_DATABASE_URL")
            .ok()
            .filter(|url| args.state.is_none() && !url.is_empty())
    });
    let location = match &database_url {
        Some(url) => StoreLocation::parse(url),
        None => StoreLocation::Sqlite(args.state.clone().unwrap_or_else(|| {
            let mut name = args.output.clone().into_os_string();
            name.push(".state.db");
            PathBuf::from(name)
        })),
    };
    let spec = JobSpec {
        task: kind.name().to_string(),
        options,
        input_path: input.path.display().to_string(),
        input_size: input.size,
        input_sha256: input.sha256.clone(),
        output_path: output_path.display().to_string(),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let (store, opened, counts) = runtime.block_on(async {
        let store = AnyStore::open(&location, SqliteAccess::Exclusive).await?;
        let opened = match (&store, &location) {
            (AnyStore::Sqlite(..), StoreLocation::Sqlite(state)) => {
                let opened = open_job(
                    &store,
                    &spec,
                    || input.items(args.max_chars),
                    args.restart,
                    state,
                )
                .await?;
                // This process owns the state file: whatever a dead run left running goes back
                // in the queue.
                store.requeue_running(opened.job.id).await?;
                opened
            }
            // A shared queue: other processes may be running this job (and others); items a dead
            // one held come back when their leases run out.
            _ => {
                open_shared_job(&store, &spec, || input.items(args.max_chars), args.restart).await?
            }
        };
        let counts = store.counts(opened.job.id).await?;
        anyhow::Ok((store, opened, counts))
    })?;
    drop(input);
    if opened.created {
        eprintln!(
            "batch: new job, {} items ({} rejected as read); state in {}",
            counts.total(),
            counts.failed,
            location
        );
    } else {
        eprintln!(
            "batch: resuming, {} of {} items already finished; state in {}",
            counts.finished(),
            counts.total(),
            location
        );
    }

    let task: Arc<dyn Task> = if counts.queued + counts.running == 0 {
        Arc::new(NothingLeft(kind))
    } else {
        let device = device(args.device)?;
        let translate_options = TranslateOptions {
            generation: GenerationOptions {
                beams: args.beams,
                max_new_tokens: args.max_new_tokens,
                ..GenerationOptions::default()
            },
            ..TranslateOptions::default()
        };
        let translator = if needs_translation {
            let source = ModelSource::parse(&args.model)?;
            let model = TranslationModel::load_with(&source, &device, args.quantize.quantization())
                .with_context(|| format!("loading model {source}"))?;
            Some(Translator::new(model))
        } else {
            None
        };
        match (kind, translator) {
            (TaskKind::Translate, Some(translator)) => {
                Arc::new(TranslateTask::new(translator, translate_options))
            }
            (_, translator) => {
                let analyzer =
                    dragoman::pipeline::setup::load_analyzer(&args.analysis.to_models(), &device)?;
                let analyze_options = AnalyzeOptions {
                    summary_sentences: args.summary_sentences,
                    summary_mode: args.summary_mode.map(|m| match m {
                        SummaryModeArg::Abstractive => SummaryMode::Abstractive,
                        SummaryModeArg::Extractive => SummaryMode::Extractive,
                    }),
                    ..AnalyzeOptions::default()
                };
                analyzer.check_options(&analyze_options)?;
                Arc::new(AnalyzeTask::new(
                    analyzer,
                    translator,
                    translate_options,
                    source,
                    analyze_options,
                    kind == TaskKind::Summarize,
                ))
            }
        }
    };

    let summary = runtime.block_on(async {
        let mut output = OutputFile::open(&store, &opened.job, &output_path).await?;
        let mut reporter = dragoman::jobs::progress::Reporter::new(
            counts.total(),
            counts.finished(),
            std::time::Duration::from_secs_f64(args.progress_every.max(0.0)),
        );
        let config = RunnerConfig {
            batch_size: args.batch_size,
            lease: std::time::Duration::from_secs(args.lease_secs.max(1)),
            ..RunnerConfig::default()
        };
        let mut report = |counts: &dragoman::jobs::JobCounts| reporter.update(counts);
        let run = run_job(&store, &opened, task, &mut output, &config, &mut report);
        // Ctrl-C stops at once, as a crash would (everything stored so far is kept and the
        // batch in flight is redone on resume), but says how to go on.
        let summary = tokio::select! {
            summary = run => Some(summary),
            _ = tokio::signal::ctrl_c() => None,
        };
        reporter.finish();
        let counts = store.counts(opened.job.id).await.ok();
        store.close().await;
        match summary {
            Some(summary) => anyhow::Ok(Some(summary?)),
            None => {
                let done = counts.map_or(String::new(), |c| {
                    format!(" with {} of {} items finished", c.finished(), c.total())
                });
                eprintln!(
                    "batch: interrupted{done}; run the same command again to resume (finished items are kept)"
                );
                Ok(None)
            }
        }
    })?;
    let Some(summary) = summary else {
        return Ok(ExitCode::from(130));
    };
    eprintln!("batch: {summary}");
    eprintln!("batch: wrote {}", args.output.display());
    if summary.failed > 0 {
        eprintln!(
            "{} item(s) failed; see the \"error\" fields",
            summary.failed
        );
        return Ok(ExitCode::from(2));
    }
    Ok(ExitCode::SUCCESS)
}

fn init_logging(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("DRAGOMAN_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    dragoman::engine::cpu::configure_cpu_runtime(cli.threads);
    let json_logs = matches!(&cli.command, Command::Serve(args) if args.log_json);
    init_logging(json_logs);
    let result = match cli.command {
        Command::Translate(args) => translate(args),
        Command::Analyze(args) => analyze(args),
        Command::Serve(args) => serve(args),
        Command::Batch(args) => batch(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
