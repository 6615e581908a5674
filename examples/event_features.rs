//! Writes the event classifier's features for every sentence of the labelled event set, for the
//! trainer (`scripts/events/train_head.py`): one JSON line per sentence with the article id, the
//! sentence's index, whether the article is held out, the embedding, the n-gram buckets and the
//! trigger-word hits per type (`cue_types` order) —
//! computed by the same code the service runs (`pipeline::events::features`).
//!
//! ```text
//! cargo run --release --example event_features -- --embedding-model DIR \
//!     [--data tests/data/events] --out features.jsonl
//! ```

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Parser;

use dragoman::models::embedding::SentenceEmbedder;
use dragoman::models::ModelSource;
use dragoman::pipeline::events::features::{ngram_buckets, CueLexicon, HASH_BUCKETS};
use dragoman::pipeline::events::labelled::read_dir;
use dragoman::pipeline::persons::mask_persons;

#[derive(Parser)]
struct Args {
    /// The sentence-embedding model (directory or Hub id).
    #[arg(long)]
    embedding_model: String,
    /// The labelled set's directory.
    #[arg(long, default_value = "tests/data/events")]
    data: PathBuf,
    /// Where to write the features.
    #[arg(long)]
    out: PathBuf,
}

fn main() -> Result<()> {
    let args = Args::parse();
    let embedder = SentenceEmbedder::load(
        &ModelSource::parse(&args.embedding_model)?,
        &candle_core::Device::Cpu,
    )
    .context("loading the embedding model")?;
    let articles = read_dir(&args.data)?;
    let lexicon = CueLexicon::builtin();
    let types: Vec<String> = lexicon.types.keys().cloned().collect();
    let mut out = std::io::BufWriter::new(
        std::fs::File::create(&args.out).with_context(|| format!("creating {:?}", args.out))?,
    );
    for article in &articles {
        let english: Vec<&str> = article.sentences.iter().map(|s| s.english()).collect();
        let masked: Vec<String> = english.iter().map(|s| mask_persons(s)).collect();
        let masked: Vec<&str> = masked.iter().map(String::as_str).collect();
        let embeddings = embedder.embed(&masked)?;
        for (i, (sentence, embedding)) in masked.iter().zip(embeddings).enumerate() {
            let line = serde_json::json!({
                "id": article.id,
                "sentence": i,
                "held_out": article.is_held_out(),
                "embedding": embedding,
                "buckets": ngram_buckets(sentence, HASH_BUCKETS),
                "cue_types": types,
                "cues": lexicon.hits(sentence, &types),
            });
            writeln!(out, "{line}")?;
        }
    }
    out.flush()?;
    eprintln!("{} articles", articles.len());
    Ok(())
}
