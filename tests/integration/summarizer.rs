//! The BART summarizer against transformers 5.24 on `bart-tiny-summarizer`
//! (`scripts/make_summarizer_fixture.py`): byte-level BPE tokenizer parity via `tokenizer.json`
//! and via `vocab.json` + `merges.txt` only, summaries token for token and text for text,
//! batched == one by one, generation defaults from `task_specific_params.summarization`, and
//! inputs over the position limit rejected.

use std::sync::OnceLock;

use candle_core::Device;
use dragoman::engine::EarlyStopping;
use dragoman::models::bpe::BpeFiles;
use dragoman::models::{
    BpeTokenizer, GenerationOptions, ModelSource, Network, SummarizationModel, SummarizeError,
};
use serde::Deserialize;

use crate::common::{copy_fixture, fixture_dir};

const FIXTURE: &str = "bart-tiny-summarizer";

#[derive(Debug, Deserialize)]
struct Reference {
    tokenizer: TokenizerReference,
    generations: Vec<Case>,
}

#[derive(Debug, Deserialize)]
struct TokenizerReference {
    encode: Vec<EncodeCase>,
    decode: Vec<DecodeCase>,
}

/// `BartTokenizer(text).input_ids` from vocab/merges files ("slow") and with tokenizer.json ("fast").
#[derive(Debug, Deserialize)]
struct EncodeCase {
    text: String,
    slow: Vec<u32>,
    fast: Vec<u32>,
}

#[derive(Debug, Deserialize)]
struct DecodeCase {
    ids: Vec<u32>,
    text: String,
}

#[derive(Debug, Deserialize)]
struct Case {
    name: String,
    texts: Vec<String>,
    /// What the case passes on top of task_specific_params.summarization.
    overrides: serde_json::Value,
    input_ids: Vec<Vec<u32>>,
    /// `generate(...).sequences`, decoder start first, padding removed.
    sequences: Vec<Vec<u32>>,
    decoded: Vec<String>,
}

fn reference() -> &'static Reference {
    static REFERENCE: OnceLock<Reference> = OnceLock::new();
    REFERENCE.get_or_init(|| {
        let text = std::fs::read_to_string(fixture_dir(FIXTURE).join("reference.json"))
            .expect("reference.json is readable");
        serde_json::from_str(&text).expect("reference.json parses")
    })
}

fn model() -> &'static SummarizationModel {
    static MODEL: OnceLock<SummarizationModel> = OnceLock::new();
    MODEL.get_or_init(|| {
        SummarizationModel::load(&ModelSource::Local(fixture_dir(FIXTURE)), &Device::Cpu)
            .expect("bart-tiny-summarizer loads")
    })
}

/// The fixture without `tokenizer.json`, as sshleifer/distilbart-cnn-12-6 ships.
fn without_tokenizer_json() -> tempfile::TempDir {
    let dir = copy_fixture(FIXTURE);
    std::fs::remove_file(dir.path().join("tokenizer.json")).expect("remove tokenizer.json");
    dir
}

fn options(case: &Case) -> GenerationOptions {
    serde_json::from_value(case.overrides.clone()).expect("overrides map onto options")
}

fn check_tokenizer(tokenizer: &BpeTokenizer, expected: impl Fn(&EncodeCase) -> &[u32]) {
    let reference = &reference().tokenizer;
    assert!(reference.encode.len() >= 25 && reference.decode.len() >= 10);
    for case in &reference.encode {
        let ids = tokenizer.encode(&case.text).expect("encodes");
        assert_eq!(ids, expected(case), "encoding {:?}", case.text);
    }
    for case in &reference.decode {
        let text = tokenizer.decode(&case.ids).expect("decodes");
        assert_eq!(text, case.text, "decoding {:?}", case.ids);
    }
}

#[test]
fn bpe_from_tokenizer_json_matches_transformers() {
    let path = fixture_dir(FIXTURE).join("tokenizer.json");
    let tokenizer = BpeTokenizer::from_tokenizer_json(&path).expect("tokenizer.json loads");
    check_tokenizer(&tokenizer, |case| &case.fast);
}

#[test]
fn bpe_from_vocab_and_merges_matches_transformers() {
    let dir = without_tokenizer_json();
    let repo = ModelSource::Local(dir.path().to_path_buf())
        .open()
        .expect("opens");
    let tokenizer = BpeTokenizer::from_repo(&repo).expect("vocab.json + merges.txt load");
    assert!(
        matches!(
            tokenizer.files(),
            BpeFiles::VocabMerges {
                config: Some(_),
                ..
            }
        ),
        "{:?}",
        tokenizer.files()
    );
    check_tokenizer(&tokenizer, |case| &case.slow);
}

#[test]
fn bpe_from_vocab_and_merges_without_tokenizer_config_uses_roberta_defaults() {
    // Without tokenizer_config.json transformers 5.24 uses RobertaTokenizer's defaults, which
    // the fixture's config repeats: the same ids as the slow reference.
    let dir = without_tokenizer_json();
    let tokenizer = BpeTokenizer::from_vocab_merges(
        &dir.path().join("vocab.json"),
        &dir.path().join("merges.txt"),
        None,
    )
    .expect("loads");
    check_tokenizer(&tokenizer, |case| &case.slow);
}

#[test]
fn summaries_match_transformers_token_for_token_and_text() {
    let model = model();
    for case in &reference().generations {
        let options = options(case);
        let hypotheses = model.generate(&case.texts, &options).expect("generates");
        assert_eq!(hypotheses.len(), case.texts.len(), "{}", case.name);
        for (i, (hypothesis, expected)) in hypotheses.iter().zip(&case.sequences).enumerate() {
            assert_eq!(
                hypothesis.tokens,
                expected[1..],
                "{} row {i}: tokens after the decoder start",
                case.name
            );
        }
        let summaries = model.summarize(&case.texts, &options).expect("summarizes");
        assert_eq!(summaries, case.decoded, "{}", case.name);
        for (text, ids) in case.texts.iter().zip(&case.input_ids) {
            assert_eq!(model.count_tokens(text), ids.len(), "{text:?}");
        }
    }
}

#[test]
fn summaries_without_tokenizer_json_match_transformers() {
    let dir = without_tokenizer_json();
    let model = SummarizationModel::load(&ModelSource::Local(dir.path().into()), &Device::Cpu)
        .expect("loads without tokenizer.json");
    for case in &reference().generations {
        let summaries = model
            .summarize(&case.texts, &options(case))
            .expect("summarizes");
        assert_eq!(summaries, case.decoded, "{}", case.name);
    }
}

#[test]
fn batched_summaries_equal_one_by_one() {
    let model = model();
    let texts: Vec<String> = reference()
        .generations
        .iter()
        .flat_map(|case| case.texts.iter().cloned())
        .collect();
    for options in [
        GenerationOptions::default(),
        GenerationOptions {
            beams: Some(1),
            ..GenerationOptions::default()
        },
    ] {
        let batched = model.summarize(&texts, &options).expect("batch");
        assert_eq!(batched.len(), texts.len());
        for (text, summary) in texts.iter().zip(&batched) {
            let single = model
                .summarize(std::slice::from_ref(text), &options)
                .expect("single");
            assert_eq!(&single[0], summary, "{text:?} with {options:?}");
        }
    }
    assert!(model
        .summarize(&[], &GenerationOptions::default())
        .expect("no texts")
        .is_empty());
}

#[test]
fn defaults_come_from_task_specific_params_summarization() {
    let model = model();
    let cfg = model.generation_config(&GenerationOptions::default());
    assert_eq!(cfg.num_beams, 4);
    assert_eq!(cfg.length_penalty, 2.0);
    assert_eq!(cfg.max_length, 40);
    assert_eq!(cfg.min_length, 8);
    assert_eq!(cfg.no_repeat_ngram_size, 3);
    assert_eq!(cfg.early_stopping, EarlyStopping::Eager);
    assert_eq!(cfg.forced_eos_token_id, Some(2));
    assert_eq!(
        (
            cfg.eos_token_id,
            cfg.pad_token_id,
            cfg.decoder_start_token_id
        ),
        (2, 1, 2)
    );
    // The reference cases pass task_specific_params explicitly; with no overrides the model's
    // defaults must reproduce them.
    let case = &reference().generations[0];
    assert_eq!(case.name, "task_defaults_batch");
    assert_eq!(case.overrides, serde_json::json!({}));
    let summaries = model
        .summarize(&case.texts, &GenerationOptions::default())
        .expect("summarizes");
    assert_eq!(summaries, case.decoded);

    // Network::load (translation's path) keeps transformers 5.24's behaviour: top-level keys only.
    let repo = ModelSource::Local(fixture_dir(FIXTURE))
        .open()
        .expect("opens");
    let plain = Network::load(&repo, &Device::Cpu).expect("loads");
    let cfg = plain.generation_config(&GenerationOptions::default());
    assert_eq!((cfg.num_beams, cfg.max_length, cfg.min_length), (1, 21, 0));
}

#[test]
fn generation_config_json_wins_over_task_specific_params() {
    let dir = copy_fixture(FIXTURE);
    std::fs::write(
        dir.path().join("generation_config.json"),
        r#"{"decoder_start_token_id": 2, "eos_token_id": 2, "pad_token_id": 1, "num_beams": 2, "max_length": 30}"#,
    )
    .expect("write");
    let model = SummarizationModel::load(&ModelSource::Local(dir.path().into()), &Device::Cpu)
        .expect("loads");
    let cfg = model.generation_config(&GenerationOptions::default());
    assert_eq!((cfg.num_beams, cfg.max_length, cfg.min_length), (2, 30, 0));
    assert_eq!(cfg.no_repeat_ngram_size, 0);
}

#[test]
fn input_over_the_position_limit_is_an_error_naming_the_counts() {
    let model = model();
    assert_eq!(model.max_input_tokens(), 128);
    assert_eq!(model.count_tokens(""), 2);
    let long = "The minister resigned on Friday. ".repeat(20);
    let tokens = model.count_tokens(&long);
    assert!(tokens > 128, "{tokens}");
    let texts = vec!["Short text.".to_string(), long];
    let err = model
        .summarize(&texts, &GenerationOptions::default())
        .expect_err("too long");
    match &err {
        SummarizeError::TooLong {
            index,
            tokens: n,
            limit,
        } => assert_eq!((*index, *n, *limit), (1, tokens, 128)),
        other => panic!("unexpected error {other}"),
    }
    let message = err.to_string();
    assert!(
        message.contains(&tokens.to_string()) && message.contains("128"),
        "{message}"
    );
    // Exactly at the limit is accepted.
    let words: Vec<&str> = std::iter::repeat_n("x", 200).collect();
    let mut text = String::new();
    for word in words {
        let candidate = format!("{text}{word} ");
        if model.count_tokens(&candidate) > 128 {
            break;
        }
        text = candidate;
    }
    let n = model.count_tokens(&text);
    assert!((126..=128).contains(&n), "{n}");
    model
        .summarize(&[text], &GenerationOptions::default())
        .expect("an input that fits is accepted");
}

#[test]
fn info_reports_source_and_sizes() {
    let info = model().info();
    assert!(info.source.ends_with(FIXTURE), "{}", info.source);
    assert_eq!(info.weights_file, "model.safetensors");
    assert_eq!(info.max_positions, 128);
    assert_eq!(info.vocab_size, 501);
}

#[test]
fn the_model_can_be_shared_with_worker_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<SummarizationModel>();
}
