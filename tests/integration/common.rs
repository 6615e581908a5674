//! Shared helpers: fixture paths and reference files written by `scripts/make_fixtures.py`.

use std::path::PathBuf;

use serde::Deserialize;

/// The tiny models built with transformers by `scripts/make_fixtures.sh`.
pub const FIXTURES: [&str; 2] = ["marian-tiny-swish", "marian-tiny-relu"];

/// Path of a fixture model directory.
pub fn fixture_dir(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("fixtures")
        .join(name)
}

/// `reference.json`: what transformers produced for the fixture.
#[derive(Debug, Deserialize)]
pub struct Reference {
    pub forward: Forward,
    pub generations: Vec<GenerationCase>,
}

/// One padded batch run through the model with teacher forcing.
#[derive(Debug, Deserialize)]
pub struct Forward {
    pub input_ids: Vec<Vec<u32>>,
    pub attention_mask: Vec<Vec<u32>>,
    pub encoder_last_hidden_state: Vec<Vec<Vec<f32>>>,
    pub decoder_input_ids: Vec<Vec<u32>>,
    pub logits: Vec<Vec<Vec<f32>>>,
}

/// One `model.generate` call and its outputs.
#[derive(Debug, Deserialize)]
pub struct GenerationCase {
    pub name: String,
    pub kwargs: serde_json::Value,
    pub texts: Vec<String>,
    pub sequences: Vec<Vec<u32>>,
    pub scores: Vec<f32>,
    pub decoded: Vec<String>,
}

/// Loads a fixture's reference outputs.
pub fn reference(name: &str) -> Reference {
    let path = fixture_dir(name).join("reference.json");
    let text = std::fs::read_to_string(&path).expect("reference.json is readable");
    serde_json::from_str(&text).expect("reference.json parses")
}

/// Largest absolute difference between two equally long slices.
pub fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len(), "compared slices differ in length");
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

/// Copies a fixture model directory into a fresh temporary directory.
pub fn copy_fixture(name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for entry in std::fs::read_dir(fixture_dir(name)).expect("fixture exists") {
        let entry = entry.expect("entry");
        std::fs::copy(entry.path(), dir.path().join(entry.file_name())).expect("copy");
    }
    dir
}

/// The library translator over a fixture, loaded once per test binary.
pub fn library_translator(name: &str) -> &'static dragoman::pipeline::Translator {
    use std::sync::OnceLock;
    static SWISH: OnceLock<dragoman::pipeline::Translator> = OnceLock::new();
    static RELU: OnceLock<dragoman::pipeline::Translator> = OnceLock::new();
    let cell = match name {
        "marian-tiny-swish" => &SWISH,
        "marian-tiny-relu" => &RELU,
        other => panic!("no fixture named {other}"),
    };
    cell.get_or_init(|| {
        let model = dragoman::models::TranslationModel::load(
            &dragoman::models::ModelSource::Local(fixture_dir(name)),
            &candle_core::Device::Cpu,
        )
        .expect("fixture loads");
        dragoman::pipeline::Translator::new(model)
    })
}

/// An HTTP client for loopback test servers: no proxy, bounded connect and request times.
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .connect_timeout(std::time::Duration::from_secs(5))
        .timeout(std::time::Duration::from_secs(60))
        .build()
        .expect("HTTP client")
}

/// Runs an async test body on a fresh multi-thread runtime and fails it after `limit`. The
/// runtime is shut down with a timeout, so a stuck blocking task cannot hang the test binary
/// even when the body panics.
pub fn run_async<T, F: std::future::Future<Output = T>>(limit: std::time::Duration, body: F) -> T {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        runtime.block_on(async { tokio::time::timeout(limit, body).await })
    }));
    runtime.shutdown_timeout(std::time::Duration::from_secs(5));
    match outcome {
        Ok(Ok(value)) => value,
        Ok(Err(_)) => panic!("the test did not finish within {limit:?}"),
        Err(panic) => std::panic::resume_unwind(panic),
    }
}

/// Asserts that our hypotheses equal transformers' `sequences` (decoder start first, padded with
/// `pad` after EOS) token for token, with scores within `tolerance`.
pub fn assert_same_generations(
    label: &str,
    hypotheses: &[&dragoman::engine::Hypothesis],
    sequences: &[Vec<u32>],
    scores: &[f32],
    pad: u32,
    tolerance: f32,
) {
    assert_eq!(
        hypotheses.len(),
        sequences.len(),
        "{label}: number of outputs"
    );
    for (index, (hypothesis, expected)) in hypotheses.iter().zip(sequences).enumerate() {
        let mut expected_tokens = expected[1..].to_vec();
        while expected_tokens.len() > hypothesis.tokens.len()
            && expected_tokens.last() == Some(&pad)
        {
            expected_tokens.pop();
        }
        assert_eq!(
            hypothesis.tokens, expected_tokens,
            "{label} output {index}: tokens differ"
        );
        let diff = (hypothesis.score - scores[index]).abs();
        assert!(
            diff < tolerance,
            "{label} output {index}: score {} vs {}",
            hypothesis.score,
            scores[index]
        );
    }
}
