//! The BART family runs on the same engine as Marian, as configuration only: parity with
//! transformers' `BartForConditionalGeneration` on a tiny fixture (ids in, ids out).

use candle_core::{Device, Tensor};
use dragoman::engine::generate_batch;
use dragoman::models::{GenerationOptions, ModelSource, Network};
use serde::Deserialize;

use crate::common::{assert_same_generations, fixture_dir, max_abs_diff};

const TOLERANCE: f32 = 1e-4;

#[derive(Debug, Deserialize)]
struct Reference {
    forward: Forward,
    generations: Vec<Case>,
}

#[derive(Debug, Deserialize)]
struct Forward {
    input_ids: Vec<Vec<u32>>,
    attention_mask: Vec<Vec<u32>>,
    encoder_last_hidden_state: Vec<Vec<Vec<f32>>>,
    decoder_input_ids: Vec<Vec<u32>>,
    logits: Vec<Vec<Vec<f32>>>,
}

#[derive(Debug, Deserialize)]
struct Case {
    name: String,
    kwargs: serde_json::Value,
    input_ids: Vec<Vec<u32>>,
    attention_mask: Vec<Vec<u32>>,
    sequences: Vec<Vec<u32>>,
    scores: Vec<f32>,
}

fn reference() -> Reference {
    let text = std::fs::read_to_string(fixture_dir("bart-tiny").join("reference.json"))
        .expect("bart-tiny/reference.json is readable");
    serde_json::from_str(&text).expect("reference parses")
}

fn load() -> Network {
    let repo = ModelSource::Local(fixture_dir("bart-tiny"))
        .open()
        .expect("opens");
    Network::load(&repo, &Device::Cpu).expect("bart-tiny loads")
}

fn tensor(rows: &[Vec<u32>]) -> Tensor {
    let flat: Vec<u32> = rows.iter().flatten().copied().collect();
    Tensor::from_vec(flat, (rows.len(), rows[0].len()), &Device::Cpu).expect("tensor")
}

#[test]
fn bart_encoder_states_and_logits_match_transformers() {
    let network = load();
    let forward = reference().forward;
    let encoded = network
        .model
        .encode(
            &tensor(&forward.input_ids),
            &tensor(&forward.attention_mask),
        )
        .expect("encode");
    let states: Vec<Vec<Vec<f32>>> = encoded.hidden_states.to_vec3().expect("states");
    let diff = max_abs_diff(
        &states.concat().concat(),
        &forward.encoder_last_hidden_state.concat().concat(),
    );
    assert!(diff < TOLERANCE, "encoder states differ by {diff}");
    let mut state = network.model.start_decoding(&encoded, 1).expect("start");
    let logits: Vec<Vec<Vec<f32>>> = network
        .model
        .decode(&mut state, &tensor(&forward.decoder_input_ids))
        .expect("decode")
        .to_vec3()
        .expect("logits");
    let diff = max_abs_diff(&logits.concat().concat(), &forward.logits.concat().concat());
    assert!(diff < TOLERANCE, "logits differ by {diff}");
}

#[test]
fn bart_generations_match_transformers_token_for_token() {
    let network = load();
    let pad = network.model.config().pad_token_id;
    for case in reference().generations {
        let mut kwargs = case.kwargs.as_object().cloned().unwrap_or_default();
        for ignored in ["do_sample", "return_dict_in_generate", "output_scores"] {
            kwargs.remove(ignored);
        }
        let options: GenerationOptions = serde_json::from_value(serde_json::Value::Object(kwargs))
            .expect("kwargs map onto options");
        let cfg = network.generation_config(&options);
        let sources: Vec<Vec<u32>> = case
            .input_ids
            .iter()
            .zip(&case.attention_mask)
            .map(|(ids, mask)| {
                ids.iter()
                    .zip(mask)
                    .filter(|(_, &m)| m == 1)
                    .map(|(&id, _)| id)
                    .collect()
            })
            .collect();
        let outputs = generate_batch(&network.model, &sources, &cfg).expect("generate");
        let flat: Vec<_> = outputs.iter().flatten().collect();
        assert_same_generations(
            &case.name,
            &flat,
            &case.sequences,
            &case.scores,
            pad,
            TOLERANCE,
        );
    }
}
