//! Named-entity recognition on the tiny BERT fixture `tests/fixtures/bert-tiny-ner/` against
//! transformers' `pipeline("token-classification", aggregation_strategy="simple")`
//! (`reference.json`, written by `scripts/make_ner_fixture.py`).

use std::sync::OnceLock;

use candle_core::Device;
use dragoman::models::{ModelSource, NerModel, NerSpan};
use serde::Deserialize;

use crate::common::{copy_fixture, fixture_dir, max_abs_diff};

const FIXTURE: &str = "bert-tiny-ner";

/// Largest allowed difference from transformers, for logits and entity scores.
const TOLERANCE: f32 = 1e-4;

#[derive(Debug, Deserialize)]
struct Reference {
    max_positions: usize,
    stride: usize,
    labels: Vec<String>,
    cases: Vec<Case>,
    long: LongCase,
}

#[derive(Debug, Deserialize)]
struct Case {
    text: String,
    input_ids: Vec<u32>,
    logits: Vec<Vec<f32>>,
    entities: Vec<Entity>,
}

#[derive(Debug, Deserialize)]
struct LongCase {
    text: String,
    input_ids: Vec<u32>,
    windows: Vec<Vec<u32>>,
    entities: Vec<Entity>,
    truncated_entity_count: usize,
}

/// One entity of the pipeline; `start`/`end` are Python character offsets.
#[derive(Debug, Deserialize)]
struct Entity {
    entity_group: String,
    score: f32,
    word: String,
    start: usize,
    end: usize,
    start_byte: usize,
    end_byte: usize,
}

fn reference() -> &'static Reference {
    static REFERENCE: OnceLock<Reference> = OnceLock::new();
    REFERENCE.get_or_init(|| {
        let path = fixture_dir(FIXTURE).join("reference.json");
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    })
}

fn load(dir: &std::path::Path) -> NerModel {
    NerModel::load(&ModelSource::Local(dir.to_path_buf()), &Device::Cpu)
        .unwrap_or_else(|e| panic!("loading {}: {e}", dir.display()))
}

/// The fixture with its `tokenizer.json`, loaded once.
fn model() -> &'static NerModel {
    static MODEL: OnceLock<NerModel> = OnceLock::new();
    MODEL.get_or_init(|| load(&fixture_dir(FIXTURE)))
}

/// Checks `spans` against the pipeline's entities for `text`; returns the worst score diff.
fn check_spans(text: &str, spans: &[NerSpan], expected: &[Entity]) -> f32 {
    let got: Vec<(&str, &str, usize, usize)> = spans
        .iter()
        .map(|s| (s.label.as_str(), s.text.as_str(), s.start, s.end))
        .collect();
    let want: Vec<(&str, &str, usize, usize)> = expected
        .iter()
        .map(|e| {
            (
                e.entity_group.as_str(),
                e.word.as_str(),
                e.start_byte,
                e.end_byte,
            )
        })
        .collect();
    assert_eq!(got, want, "{text:?}");
    let mut worst = 0.0f32;
    for (span, entity) in spans.iter().zip(expected) {
        // Python's character offsets name the same stretch of text as our byte offsets.
        let python: String = text
            .chars()
            .skip(entity.start)
            .take(entity.end - entity.start)
            .collect();
        assert_eq!(&text[span.start..span.end], python, "{text:?}");
        let diff = (span.score - entity.score).abs();
        assert!(diff <= TOLERANCE, "{text:?} {span:?}: score diff {diff}");
        worst = worst.max(diff);
    }
    worst
}

#[test]
fn ner_fixture_is_what_the_reference_describes() {
    let reference = reference();
    let model = model();
    assert_eq!(model.labels(), reference.labels.as_slice());
    assert_eq!(model.window_len(), reference.max_positions);
    assert_eq!(model.stride(), reference.stride);
    assert_eq!(model.info().weights_file, "model.safetensors");
    assert_eq!(model.info().max_positions, reference.max_positions);
    // The reference exercises non-ASCII text (byte and char offsets differ) and [UNK].
    assert!(reference.cases.iter().any(|c| c.text.is_empty()));
    assert!(reference
        .cases
        .iter()
        .flat_map(|c| &c.entities)
        .any(|e| e.start_byte != e.start));
    assert!(reference.cases.iter().any(|c| c.input_ids.contains(&1)));
}

#[test]
fn ner_token_ids_match_transformers_with_tokenizer_json_and_with_vocab_txt_only() {
    let reference = reference();
    let dir = copy_fixture(FIXTURE);
    std::fs::remove_file(dir.path().join("tokenizer.json")).expect("remove tokenizer.json");
    let from_vocab = load(dir.path());
    let with_json = model();
    let mut texts: Vec<(&str, Vec<Vec<u32>>)> = reference
        .cases
        .iter()
        .map(|c| (c.text.as_str(), vec![c.input_ids.clone()]))
        .collect();
    texts.push((&reference.long.text, reference.long.windows.clone()));
    for (text, expected) in texts {
        let json_ids = with_json.tokenize(text).expect("tokenizes");
        let vocab_ids = from_vocab.tokenize(text).expect("tokenizes");
        assert_eq!(json_ids, expected, "tokenizer.json on {text:?}");
        assert_eq!(vocab_ids, expected, "vocab.txt on {text:?}");
    }
    // Decoded entity words come from the decoder each tokenizer has: they agree too.
    let texts: Vec<&str> = reference.cases.iter().map(|c| c.text.as_str()).collect();
    assert_eq!(
        with_json.recognize(&texts).expect("recognizes"),
        from_vocab.recognize(&texts).expect("recognizes")
    );
    let long = &reference.long;
    assert!(long.input_ids.len() > reference.max_positions);
}

#[test]
fn ner_logits_match_transformers() {
    let reference = reference();
    let model = model();
    let mut worst = 0.0f32;
    for case in &reference.cases {
        let logits = model.logits(&case.text).expect("runs");
        assert_eq!(logits.len(), 1, "{:?} fits one window", case.text);
        assert_eq!(logits[0].len(), case.logits.len(), "{:?}", case.text);
        for (got, want) in logits[0].iter().zip(&case.logits) {
            let diff = max_abs_diff(got, want);
            assert!(
                diff <= TOLERANCE,
                "{:?}: logits differ by {diff}",
                case.text
            );
            worst = worst.max(diff);
        }
    }
    eprintln!(
        "bert-tiny-ner: {} texts, max abs logit diff from transformers {worst:e}",
        reference.cases.len()
    );
}

#[test]
fn ner_spans_match_the_transformers_pipeline() {
    let reference = reference();
    let texts: Vec<&str> = reference.cases.iter().map(|c| c.text.as_str()).collect();
    let found = model().recognize(&texts).expect("recognizes");
    assert_eq!(found.len(), texts.len());
    let mut worst = 0.0f32;
    let mut count = 0;
    for (case, spans) in reference.cases.iter().zip(&found) {
        worst = worst.max(check_spans(&case.text, spans, &case.entities));
        count += spans.len();
    }
    eprintln!("bert-tiny-ner: {count} entities equal to the pipeline's, max score diff {worst:e}");
}

#[test]
fn ner_long_text_windows_match_the_pipeline_with_stride() {
    let reference = reference();
    let long = &reference.long;
    let model = model();
    let windows = model.tokenize(&long.text).expect("tokenizes");
    assert!(windows.len() > 1);
    assert!(windows.iter().all(|w| w.len() <= model.window_len()));
    // Every word piece of the text is in some window, in order.
    let content = |ids: &[u32]| ids[1..ids.len() - 1].to_vec();
    let whole = content(&long.input_ids);
    let mut covered = content(&windows[0]);
    for window in &windows[1..] {
        let window = content(window);
        assert_eq!(
            covered[covered.len() - model.stride()..],
            window[..model.stride()],
            "consecutive windows overlap by the stride"
        );
        covered.extend_from_slice(&window[model.stride()..]);
    }
    assert_eq!(covered, whole);

    let found = model.recognize(&[&long.text]).expect("recognizes");
    let worst = check_spans(&long.text, &found[0], &long.entities);
    // The last entity lies beyond the first window: truncation would have lost it.
    assert!(
        long.truncated_entity_count < long.entities.len(),
        "the pipeline without stride finds fewer entities"
    );
    let last = found[0].last().expect("entities");
    assert!(last.start > long.text.len() / 2, "{last:?}");
    eprintln!(
        "bert-tiny-ner long text: {} windows, {} entities (pipeline without stride: {}), max score diff {worst:e}",
        windows.len(),
        found[0].len(),
        long.truncated_entity_count
    );
}

#[test]
fn ner_batched_equals_one_by_one() {
    let reference = reference();
    let mut texts: Vec<&str> = reference.cases.iter().map(|c| c.text.as_str()).collect();
    texts.push(&reference.long.text);
    let model = model();
    let batched = model.recognize(&texts).expect("recognizes the batch");
    assert_eq!(batched.len(), texts.len());
    for (text, from_batch) in texts.iter().zip(&batched) {
        let alone = model.recognize(&[text]).expect("recognizes one text");
        assert_eq!(alone.len(), 1);
        assert_eq!(alone[0].len(), from_batch.len(), "{text:?}");
        for (a, b) in alone[0].iter().zip(from_batch) {
            assert_eq!(
                (&a.label, &a.text, a.start, a.end),
                (&b.label, &b.text, b.start, b.end)
            );
            assert!(
                (a.score - b.score).abs() <= 1e-5,
                "{text:?}: {a:?} vs {b:?}"
            );
        }
    }
}

#[test]
fn ner_empty_input_and_empty_text() {
    let model = model();
    assert!(model.recognize(&[]).expect("nothing").is_empty());
    assert_eq!(
        model.recognize(&["", " \n "]).expect("blank texts"),
        vec![Vec::<NerSpan>::new(), Vec::new()]
    );
}

#[test]
fn ner_missing_tokenizer_and_vocab_is_named() {
    let dir = copy_fixture(FIXTURE);
    for file in ["tokenizer.json", "vocab.txt"] {
        std::fs::remove_file(dir.path().join(file)).expect("remove");
    }
    let err = NerModel::load(&ModelSource::Local(dir.path().into()), &Device::Cpu)
        .err()
        .expect("no tokenizer");
    assert!(err.to_string().contains("vocab.txt"), "{err}");
}
