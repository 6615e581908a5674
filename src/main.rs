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
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Translate French text (a file or stdin) to English.
    Translate(TranslateArgs),
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
    let model = TranslationModel::load(&source, &device)
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

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("DRAGOMAN_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Translate(args) => translate(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
