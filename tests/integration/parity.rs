//! Parity with transformers on the tiny fixtures: encoder states, teacher-forced logits, and
//! every generation case token for token with its score.

use candle_core::{Device, Tensor};
use dragoman::engine::generate_batch;
use dragoman::models::{GenerationOptions, ModelSource, TranslationModel};

use crate::common::{
    assert_same_generations, copy_fixture, fixture_dir, max_abs_diff, reference, FIXTURES,
};

const TOLERANCE: f32 = 1e-4;

fn load(name: &str) -> TranslationModel {
    TranslationModel::load(&ModelSource::Local(fixture_dir(name)), &Device::Cpu)
        .unwrap_or_else(|e| panic!("{name} loads: {e}"))
}

fn tensor(rows: &[Vec<u32>]) -> Tensor {
    let width = rows[0].len();
    let flat: Vec<u32> = rows.iter().flatten().copied().collect();
    Tensor::from_vec(flat, (rows.len(), width), &Device::Cpu).expect("tensor")
}

#[test]
fn encoder_states_and_teacher_forced_logits_match_transformers() {
    for name in FIXTURES {
        let model = load(name);
        let forward = reference(name).forward;
        let ids = tensor(&forward.input_ids);
        let mask = tensor(&forward.attention_mask);
        let encoded = model.model.encode(&ids, &mask).expect("encode");
        let states: Vec<Vec<Vec<f32>>> = encoded.hidden_states.to_vec3().expect("states");
        let expected: Vec<f32> = forward
            .encoder_last_hidden_state
            .iter()
            .flatten()
            .flatten()
            .copied()
            .collect();
        let actual: Vec<f32> = states.iter().flatten().flatten().copied().collect();
        let diff = max_abs_diff(&actual, &expected);
        assert!(diff < TOLERANCE, "{name}: encoder states differ by {diff}");

        let mut state = model.model.start_decoding(&encoded, 1).expect("start");
        let logits = model
            .model
            .decode(&mut state, &tensor(&forward.decoder_input_ids))
            .expect("decode");
        let logits: Vec<Vec<Vec<f32>>> = logits.to_vec3().expect("logits");
        let expected: Vec<f32> = forward.logits.iter().flatten().flatten().copied().collect();
        let actual: Vec<f32> = logits.iter().flatten().flatten().copied().collect();
        let diff = max_abs_diff(&actual, &expected);
        assert!(
            diff < TOLERANCE,
            "{name}: teacher-forced logits differ by {diff}"
        );
    }
}

#[test]
fn incremental_decoding_matches_teacher_forcing() {
    for name in FIXTURES {
        let model = load(name);
        let forward = reference(name).forward;
        let encoded = model
            .model
            .encode(
                &tensor(&forward.input_ids),
                &tensor(&forward.attention_mask),
            )
            .expect("encode");
        let mut state = model.model.start_decoding(&encoded, 1).expect("start");
        let steps = forward.decoder_input_ids[0].len();
        for step in 0..steps {
            let column: Vec<Vec<u32>> = forward
                .decoder_input_ids
                .iter()
                .map(|row| vec![row[step]])
                .collect();
            let logits: Vec<Vec<f32>> = model
                .model
                .decode_step(&mut state, &tensor(&column))
                .expect("step")
                .to_vec2()
                .expect("logits");
            for (row, actual) in logits.iter().enumerate() {
                let diff = max_abs_diff(actual, &forward.logits[row][step]);
                assert!(
                    diff < TOLERANCE,
                    "{name}: step {step} row {row} differs by {diff}"
                );
            }
        }
    }
}

/// The `generate` kwargs of a case as our per-call options.
fn options(kwargs: &serde_json::Value) -> GenerationOptions {
    let mut map = kwargs.as_object().cloned().unwrap_or_default();
    for ignored in ["do_sample", "return_dict_in_generate", "output_scores"] {
        map.remove(ignored);
    }
    serde_json::from_value(serde_json::Value::Object(map))
        .expect("kwargs map onto GenerationOptions")
}

#[test]
fn generations_match_transformers_token_for_token() {
    for name in FIXTURES {
        assert_generations_match(&load(name), name);
    }
}

#[test]
fn a_legacy_format_pytorch_checkpoint_generates_the_same() {
    // 2020-era Hub repos (opus-mt among them) ship pre-1.6 "legacy" pytorch_model.bin files.
    let dir = copy_fixture("marian-tiny-relu");
    std::fs::copy(
        fixture_dir("pth").join("marian-tiny-relu-legacy.bin"),
        dir.path().join("pytorch_model.bin"),
    )
    .expect("replace weights");
    let model = TranslationModel::load(&ModelSource::Local(dir.path().to_path_buf()), &Device::Cpu)
        .expect("legacy checkpoint loads");
    assert_generations_match(&model, "marian-tiny-relu");
}

/// Runs every generation case of fixture `name`'s reference with `model` and compares.
fn assert_generations_match(model: &TranslationModel, name: &str) {
    let reference = reference(name);
    let pad = model.model.config().pad_token_id;
    assert!(
        reference.generations.len() >= 10,
        "{name}: expected the full set of cases"
    );
    for case in &reference.generations {
        let cfg = model.generation_config(&options(&case.kwargs));
        let sources: Vec<Vec<u32>> = case
            .texts
            .iter()
            .map(|t| model.tokenizer.encode(t))
            .collect();
        let outputs = generate_batch(&model.model, &sources, &cfg).expect("generate");
        let flat: Vec<_> = outputs.iter().flatten().collect();
        let label = format!("{name}/{}", case.name);
        assert_same_generations(&label, &flat, &case.sequences, &case.scores, pad, TOLERANCE);
        for (index, hypothesis) in flat.iter().enumerate() {
            assert_eq!(
                model.tokenizer.decode(&hypothesis.tokens),
                case.decoded[index],
                "{name}/{} output {index}: decoded text",
                case.name
            );
        }
    }
}

#[test]
fn batched_generation_equals_one_by_one() {
    for name in FIXTURES {
        let model = load(name);
        let reference = reference(name);
        for case in reference.generations.iter().filter(|c| c.texts.len() > 1) {
            let cfg = model.generation_config(&options(&case.kwargs));
            let sources: Vec<Vec<u32>> = case
                .texts
                .iter()
                .map(|t| model.tokenizer.encode(t))
                .collect();
            let batched = generate_batch(&model.model, &sources, &cfg).expect("batched");
            for (source, together) in sources.iter().zip(&batched) {
                let alone = generate_batch(&model.model, std::slice::from_ref(source), &cfg)
                    .expect("alone");
                assert_eq!(alone[0].len(), together.len());
                for (a, b) in alone[0].iter().zip(together) {
                    assert_eq!(
                        a.tokens, b.tokens,
                        "{name}/{}: batch changed the output",
                        case.name
                    );
                    assert!(
                        (a.score - b.score).abs() < 1e-5,
                        "{name}/{}: batch changed the score",
                        case.name
                    );
                }
            }
        }
    }
}
