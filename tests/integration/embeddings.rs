//! Sentence embeddings with the real sentence-transformers/all-MiniLM-L6-v2 against vectors from
//! sentence-transformers (`tests/fixtures/minilm/reference.json`, written by
//! `scripts/make_embedding_reference.py`).
//!
//! The model (about 90 MB) is not committed: `scripts/fetch_minilm.sh` unpacks it into
//! `$DRAGOMAN_MINILM_DIR` (default `~/.cache/dragoman/models/all-MiniLM-L6-v2`), and these tests
//! fail, rather than skip, when it is absent.

use std::path::PathBuf;
use std::sync::OnceLock;

use candle_core::Device;
use dragoman::models::embedding::SentenceEmbedder;
use dragoman::models::ModelSource;
use serde::Deserialize;

/// Largest allowed difference from sentence-transformers, per vector component.
const TOLERANCE: f32 = 1e-4;

/// `tests/fixtures/minilm/reference.json`.
#[derive(Debug, Deserialize)]
struct Reference {
    max_seq_length: usize,
    dimension: usize,
    texts: Vec<String>,
    token_counts: Vec<usize>,
    embeddings: Vec<Vec<f32>>,
}

fn reference() -> Reference {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/minilm/reference.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

pub fn model_dir() -> PathBuf {
    match std::env::var_os("DRAGOMAN_MINILM_DIR") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => {
            let home = std::env::var_os("HOME").expect("HOME is set");
            PathBuf::from(home).join(".cache/dragoman/models/all-MiniLM-L6-v2")
        }
    }
}

/// The model, loaded once for all tests.
fn embedder() -> &'static SentenceEmbedder {
    static EMBEDDER: OnceLock<SentenceEmbedder> = OnceLock::new();
    EMBEDDER.get_or_init(|| {
        let dir = model_dir();
        assert!(
            dir.join("model.safetensors").is_file(),
            "all-MiniLM-L6-v2 is not in {}: run scripts/fetch_minilm.sh (or set DRAGOMAN_MINILM_DIR)",
            dir.display()
        );
        SentenceEmbedder::load(&ModelSource::Local(dir.clone()), &Device::Cpu)
            .unwrap_or_else(|e| panic!("loading {}: {e}", dir.display()))
    })
}

fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Indices of the reference texts that fit in `max_seq_length`, and of those that do not.
fn short_and_long(reference: &Reference) -> (Vec<usize>, Vec<usize>) {
    (0..reference.texts.len()).partition(|&i| reference.token_counts[i] <= reference.max_seq_length)
}

/// Checks `vectors` (for reference texts `indices`) against the reference; returns the worst diff.
fn check_against_reference(reference: &Reference, indices: &[usize], vectors: &[Vec<f32>]) -> f32 {
    assert_eq!(vectors.len(), indices.len());
    let mut worst = 0.0f32;
    for (&i, got) in indices.iter().zip(vectors) {
        let text = &reference.texts[i];
        let diff = max_abs_diff(got, &reference.embeddings[i]);
        assert!(
            diff <= TOLERANCE,
            "{text:?}: max abs diff {diff} > {TOLERANCE}"
        );
        let norm = dot(got, got).sqrt();
        assert!((norm - 1.0).abs() <= 1e-5, "{text:?}: norm {norm}");
        worst = worst.max(diff);
    }
    worst
}

// The CPU forward pass is slow in the unoptimised test profile, so the texts that need
// truncating run in a small batch of their own rather than padding every other text to 256.
#[test]
fn matches_sentence_transformers_within_tolerance() {
    let reference = reference();
    let embedder = embedder();
    assert_eq!(embedder.dimension(), reference.dimension);
    assert_eq!(embedder.max_seq_length(), reference.max_seq_length);
    assert!(reference.texts.iter().any(String::is_empty));
    let (short, long) = short_and_long(&reference);
    assert!(
        !long.is_empty(),
        "the reference should include a text that needs truncating"
    );

    let texts = |indices: &[usize]| -> Vec<&str> {
        indices
            .iter()
            .map(|&i| reference.texts[i].as_str())
            .collect()
    };
    let vectors = embedder
        .embed(&texts(&short))
        .expect("embeds the short texts");
    let mut worst = check_against_reference(&reference, &short, &vectors);
    // Each long text together with the shortest one, padded up to max_seq_length.
    let shortest = *short
        .iter()
        .min_by_key(|&&i| reference.token_counts[i])
        .expect("short texts");
    for &i in &long {
        let vectors = embedder
            .embed(&texts(&[shortest, i]))
            .expect("embeds a long text");
        worst = worst.max(check_against_reference(
            &reference,
            &[shortest, i],
            &vectors,
        ));
    }
    eprintln!("all-MiniLM-L6-v2: max abs diff from sentence-transformers {worst:e}");
}

#[test]
fn batched_equals_one_by_one() {
    let reference = reference();
    let embedder = embedder();
    let (short, _) = short_and_long(&reference);
    let texts: Vec<&str> = short.iter().map(|&i| reference.texts[i].as_str()).collect();
    let batched = embedder.embed(&texts).expect("embeds the batch");
    for (text, from_batch) in texts.iter().zip(&batched) {
        let alone = embedder.embed(&[text]).expect("embeds one text");
        assert_eq!(alone.len(), 1);
        let diff = max_abs_diff(&alone[0], from_batch);
        assert!(diff <= 1e-5, "{text:?}: batched vs alone differ by {diff}");
    }
}

#[test]
fn results_come_back_in_input_order() {
    let embedder = embedder();
    let texts = [
        "Hello!",
        "Grève à la SNCF : trafic très perturbé ce week-end.",
        "",
    ];
    let forward = embedder.embed(&texts).expect("embeds");
    let reversed: Vec<&str> = texts.iter().rev().copied().collect();
    let backward = embedder.embed(&reversed).expect("embeds");
    for (a, b) in forward.iter().zip(backward.iter().rev()) {
        assert!(max_abs_diff(a, b) <= 1e-5);
    }
}

#[test]
fn empty_input_gives_no_vectors() {
    assert!(embedder().embed(&[]).expect("embeds nothing").is_empty());
}

#[test]
fn related_sentences_are_closer_than_unrelated_ones() {
    let embedder = embedder();
    let vectors = embedder
        .embed(&[
            "The central bank raised interest rates by a quarter point on Wednesday.",
            "Interest rates were increased by the central bank this week.",
            "A magnitude 6.2 earthquake struck the coast of Chile early on Sunday.",
        ])
        .expect("embeds");
    let related = dot(&vectors[0], &vectors[1]);
    let unrelated = dot(&vectors[0], &vectors[2]);
    assert!(
        related > unrelated + 0.3,
        "related {related} should be well above unrelated {unrelated}"
    );
}

#[test]
fn a_directory_without_tokenizer_json_fails_naming_it() {
    let source = model_dir();
    let dir = tempfile::tempdir().expect("temp dir");
    for file in ["config.json", "sentence_bert_config.json"] {
        std::fs::copy(source.join(file), dir.path().join(file)).unwrap_or_else(|e| {
            panic!(
                "copying {file} from {}: {e} (run scripts/fetch_minilm.sh)",
                source.display()
            )
        });
    }
    let err = SentenceEmbedder::load(&ModelSource::Local(dir.path().into()), &Device::Cpu)
        .err()
        .expect("loading without tokenizer.json fails");
    assert!(err.to_string().contains("tokenizer.json"), "{err}");
}

#[test]
fn the_extractive_summary_keeps_central_sentences_and_drops_the_off_topic_one() {
    let sentences = [
        "European leaders met in Brussels on Tuesday to discuss military aid to Ukraine.",
        "The summit ended with an agreement to deliver more air defence systems to Kyiv.",
        "The local football club won its match on Sunday evening.",
        "Diplomats said the aid package for Ukraine would be financed by the European Union.",
        "Ukraine's president thanked the European leaders for their support.",
    ];
    let picked = dragoman::pipeline::summarize::extractive_summary(embedder(), &sentences, 3)
        .expect("summarizes");
    assert_eq!(picked.len(), 3);
    assert!(
        !picked.contains(&2),
        "the football sentence is off-topic: {picked:?}"
    );
    assert!(
        picked.windows(2).all(|w| w[0] < w[1]),
        "article order: {picked:?}"
    );
}
