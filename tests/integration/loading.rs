//! Incomplete or inconsistent model directories fail at load with the file and the problem named.

use std::collections::HashMap;
use std::path::Path;

use candle_core::{DType, Device, Tensor};
use dragoman::models::{ModelSource, TranslationModel};

use crate::common::copy_fixture;

fn load_error(dir: &Path) -> String {
    match TranslationModel::load(&ModelSource::Local(dir.to_path_buf()), &Device::Cpu) {
        Ok(_) => panic!("loading {} should fail", dir.display()),
        Err(e) => e.to_string(),
    }
}

#[test]
fn missing_files_are_named() {
    for file in ["vocab.json", "source.spm", "target.spm", "config.json"] {
        let dir = copy_fixture("marian-tiny-swish");
        std::fs::remove_file(dir.path().join(file)).expect("remove");
        let message = load_error(dir.path());
        assert!(
            message.contains(file),
            "message for missing {file}: {message}"
        );
    }
    let dir = copy_fixture("marian-tiny-swish");
    std::fs::remove_file(dir.path().join("model.safetensors")).expect("remove");
    let message = load_error(dir.path());
    assert!(
        message.contains("model.safetensors") && message.contains("pytorch_model.bin"),
        "{message}"
    );
}

#[test]
fn config_that_disagrees_with_the_weights_names_the_tensor() {
    let dir = copy_fixture("marian-tiny-relu");
    let path = dir.path().join("config.json");
    let mut config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("json");
    let ffn = config["encoder_ffn_dim"].as_u64().expect("ffn") * 2;
    config["encoder_ffn_dim"] = ffn.into();
    std::fs::write(&path, config.to_string()).expect("write");
    let message = load_error(dir.path());
    assert!(message.contains("pytorch_model.bin"), "{message}");
    assert!(message.contains("fc1.weight"), "{message}");
    assert!(message.contains("shape"), "{message}");
}

#[test]
fn integer_weights_are_rejected_with_their_dtype() {
    let dir = copy_fixture("marian-tiny-swish");
    let path = dir.path().join("model.safetensors");
    let tensors = candle_core::safetensors::load(&path, &Device::Cpu).expect("load");
    let mut tensors: HashMap<String, Tensor> = tensors;
    let name = "model.encoder.layers.0.fc1.weight";
    let original = tensors.get(name).expect("tensor exists").clone();
    tensors.insert(
        name.to_string(),
        original.to_dtype(DType::U32).expect("cast"),
    );
    candle_core::safetensors::save(&tensors, &path).expect("save");
    let message = load_error(dir.path());
    assert!(
        message.contains(name) && message.contains("U32"),
        "{message}"
    );
}

#[test]
fn malformed_config_is_reported_with_its_path() {
    let dir = copy_fixture("marian-tiny-swish");
    std::fs::write(dir.path().join("config.json"), "{\"d_model\": 32").expect("write");
    let message = load_error(dir.path());
    assert!(message.contains("config.json"), "{message}");
}

#[test]
fn unsupported_activation_is_reported() {
    let dir = copy_fixture("marian-tiny-swish");
    let path = dir.path().join("config.json");
    let mut config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("json");
    config["activation_function"] = "mish".into();
    std::fs::write(&path, config.to_string()).expect("write");
    let message = load_error(dir.path());
    assert!(
        message.contains("mish") && message.contains("config.json"),
        "{message}"
    );
}
