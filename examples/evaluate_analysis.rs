//! Scores the analyst's brief on the held-out split of the labelled event set
//! (`tests/data/events/`) with a real sentence-embedding model and prints the tables of the
//! README (`pipeline::evaluate`). Run through `scripts/evaluate_analysis.sh`.
//!
//! ```text
//! cargo run --release --example evaluate_analysis -- --embedding-model DIR \
//!     [--data tests/data/events] [--event-head FILE] [--split held-out|train|all]
//! ```

use std::path::PathBuf;

use anyhow::Result;
use clap::{Parser, ValueEnum};

use dragoman::pipeline::evaluate::evaluate;
use dragoman::pipeline::events::labelled::read_dir;
use dragoman::pipeline::setup::{load_analyzer, AnalysisModels};

#[derive(Clone, Copy, ValueEnum)]
enum Split {
    /// The held-out articles: the report.
    HeldOut,
    /// The training articles (for development; never a result).
    Train,
    /// Everything.
    All,
}

#[derive(Parser)]
struct Args {
    /// The sentence-embedding model (directory or Hub id).
    #[arg(long)]
    embedding_model: String,
    /// The labelled set's directory.
    #[arg(long, default_value = "tests/data/events")]
    data: PathBuf,
    /// An event classifier instead of the built-in one.
    #[arg(long)]
    event_head: Option<PathBuf>,
    /// Which articles to score.
    #[arg(long, value_enum, default_value = "held-out")]
    split: Split,
}

fn main() -> Result<()> {
    let args = Args::parse();
    let models = AnalysisModels {
        embedding: args.embedding_model,
        summarizer: None,
        event_head: args.event_head,
        ..AnalysisModels::default()
    };
    let analyzer = load_analyzer(&models, &candle_core::Device::Cpu)?;
    let articles: Vec<_> = read_dir(&args.data)?
        .into_iter()
        .filter(|a| match args.split {
            Split::HeldOut => a.is_held_out(),
            Split::Train => !a.is_held_out(),
            Split::All => true,
        })
        .collect();
    let report = evaluate(&analyzer, &articles)?;
    print!("{}", report.markdown());
    Ok(())
}
