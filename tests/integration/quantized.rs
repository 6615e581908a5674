//! The int8 mode (`--quantize int8`): weights quantized at load; teacher-forced logits stay close
//! to the f32 model's and choose the same tokens almost everywhere; the CLI translates with it.

use candle_core::{Device, Tensor};
use dragoman::engine::Seq2Seq;
use dragoman::models::{ModelSource, Network, Quantization, TranslationModel};

use crate::batch::{run, stderr};
use crate::common::fixture_dir;

const SENTENCES: [&str; 4] = [
    "Le président a reçu M. Dupont à l’Élysée.",
    "Ils ont parlé de l’Ukraine et de la sécurité en Europe.",
    "La ministre a annoncé un plan de 3,5 milliards d’euros.",
    "Les négociations reprendront la semaine prochaine à Bruxelles.",
];

fn load(quantization: Quantization) -> TranslationModel {
    let source = ModelSource::Local(fixture_dir("marian-tiny-swish"));
    TranslationModel::load_with(&source, &Device::Cpu, quantization).expect("the fixture loads")
}

/// Logits `[steps, vocab]` of `model` fed `decoder_input` after encoding `source`.
fn logits(model: &Seq2Seq, source: &[u32], decoder_input: &[u32]) -> Vec<Vec<f32>> {
    let ids = Tensor::new(source, &Device::Cpu).and_then(|t| t.unsqueeze(0));
    let ids = ids.expect("ids");
    let mask = ids.ones_like().expect("mask");
    let encoded = model.encode(&ids, &mask).expect("encodes");
    let mut state = model.start_decoding(&encoded, 1).expect("starts");
    let input = Tensor::new(decoder_input, &Device::Cpu)
        .and_then(|t| t.unsqueeze(0))
        .expect("decoder ids");
    model
        .decode(&mut state, &input)
        .and_then(|l| l.squeeze(0))
        .and_then(|l| l.to_vec2::<f32>())
        .expect("decodes")
}

fn argmax(row: &[f32]) -> usize {
    (0..row.len()).fold(0, |best, i| if row[i] > row[best] { i } else { best })
}

#[test]
fn int8_logits_stay_close_to_f32_under_teacher_forcing() {
    let (f32_model, int8_model) = (load(Quantization::None), load(Quantization::Int8));
    assert_eq!(int8_model.info.quantization, Quantization::Int8);
    let start = f32_model.model.config().decoder_start_token_id;
    let (mut positions, mut agree, mut error, mut spread) = (0usize, 0usize, 0f64, 0f64);
    for sentence in SENTENCES {
        let source = f32_model.tokenizer.encode(sentence);
        let output = dragoman::engine::generate_batch(
            &f32_model.model,
            std::slice::from_ref(&source),
            &f32_model.generation_config(&Default::default()),
        )
        .expect("generates");
        let mut decoder_input = vec![start];
        decoder_input.extend(&output[0][0].tokens);
        decoder_input.pop();
        let expected = logits(&f32_model.model, &source, &decoder_input);
        let got = logits(&int8_model.model, &source, &decoder_input);
        for (e, g) in expected.iter().zip(&got) {
            positions += 1;
            agree += usize::from(argmax(e) == argmax(g));
            error += e
                .iter()
                .zip(g)
                .map(|(a, b)| f64::from((a - b).abs()))
                .sum::<f64>();
            let (min, max) = e
                .iter()
                .fold((f32::MAX, f32::MIN), |(lo, hi), &x| (lo.min(x), hi.max(x)));
            spread += f64::from(max - min) * e.len() as f64;
        }
    }
    let agreement = agree as f64 / positions as f64;
    let relative = error / spread;
    eprintln!("int8 vs f32 on {positions} positions: argmax agreement {agreement:.3}, mean |Δlogit| / logit range {relative:.5}");
    assert!(positions > 20);
    assert!(agreement >= 0.9, "argmax agreement {agreement}");
    assert!(relative < 0.02, "relative logit error {relative}");
    assert!(
        relative > 0.0,
        "the int8 model computed exactly the f32 logits: not quantized?"
    );
}

/// Int8 models are quantized layer by layer while the weights are read (so the f32 model never
/// exists whole): that must give exactly the model quantized after a full f32 load.
#[test]
fn int8_quantized_while_loading_equals_quantized_after_loading() {
    let repo = ModelSource::Local(fixture_dir("marian-tiny-swish"))
        .open()
        .expect("opens");
    let after = Network::load(&repo, &Device::Cpu)
        .expect("loads")
        .model
        .quantized(Quantization::Int8)
        .expect("quantizes");
    let during = Network::load_quantized(&repo, &Device::Cpu, Quantization::Int8)
        .expect("loads quantized")
        .model;
    assert_eq!(during.quantization(), Quantization::Int8);
    let source = load(Quantization::None).tokenizer.encode(SENTENCES[0]);
    let decoder_input = [during.config().decoder_start_token_id, 5, 9, 12];
    assert_eq!(
        logits(&during, &source, &decoder_input),
        logits(&after, &source, &decoder_input)
    );
}

#[test]
fn translate_cli_runs_with_int8_weights() {
    let model = fixture_dir("marian-tiny-swish").display().to_string();
    let dir = tempfile::tempdir().expect("temp dir");
    let input = dir.path().join("in.txt");
    std::fs::write(&input, SENTENCES.join(" ")).expect("write");
    let output = run(&[
        "translate",
        "--model",
        &model,
        "--quantize",
        "int8",
        "--format",
        "json",
        input.to_str().expect("UTF-8 path"),
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON on stdout");
    let text = json["translation"]
        .as_str()
        .or(json["text"].as_str())
        .unwrap_or("");
    assert!(!text.trim().is_empty(), "{json}");
}
