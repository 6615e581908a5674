//! The `dragoman translate` command, run as a real process.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use candle_core::Device;
use dragoman::models::{ModelSource, TranslationModel};
use dragoman::pipeline::{TranslateOptions, Translator};

use crate::common::fixture_dir;

const ARTICLE: &str = "Le président a reçu M. Dupont à l’Élysée. Ils ont parlé de l’Ukraine.\n\n« Nous devons agir », a-t-il déclaré.\n- Premier point : la paix.\n";

fn run(args: &[&str], stdin: &str, envs: &[(&str, &str)]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_dragoman"))
        .args(args)
        .envs(envs.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("dragoman starts");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("dragoman finishes")
}

fn fixture_arg() -> String {
    fixture_dir("marian-tiny-swish").display().to_string()
}

#[test]
fn translate_reads_stdin_and_prints_the_library_result() {
    let model = fixture_arg();
    let output = run(&["translate", "--model", &model], ARTICLE, &[]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let printed = String::from_utf8(output.stdout).expect("utf-8");

    let loaded = TranslationModel::load(
        &ModelSource::Local(fixture_dir("marian-tiny-swish")),
        &Device::Cpu,
    )
    .expect("loads");
    let expected = Translator::new(loaded)
        .translate_article(ARTICLE, &TranslateOptions::default())
        .expect("translates");
    assert_eq!(printed, format!("{}\n", expected.text));
    // Line structure survives: 5 lines in (the last one empty), the bullet kept.
    assert_eq!(
        expected.text.split('\n').count(),
        ARTICLE.split('\n').count()
    );
    assert!(expected
        .text
        .split('\n')
        .nth(3)
        .expect("line 4")
        .starts_with("- "));
    assert!(expected.sentences.len() >= 4);
}

#[test]
fn empty_input_gives_empty_output() {
    let model = fixture_arg();
    let output = run(&["translate", "--model", &model], "", &[]);
    assert!(output.status.success());
    assert_eq!(String::from_utf8_lossy(&output.stdout), "\n");
}

#[test]
fn jsonl_mode_answers_every_line_and_flags_bad_ones() {
    let model = fixture_arg();
    let input = "{\"id\": 1, \"text\": \"Bonjour.\"}\nnot json\n{\"id\": \"b\", \"text\": \"Le sommet s’est achevé.\"}\n";
    let output = run(
        &["translate", "--model", &model, "--jsonl", "--beams", "1"],
        input,
        &[],
    );
    assert_eq!(
        output.status.code(),
        Some(2),
        "a bad line makes the exit code non-zero"
    );
    let lines: Vec<serde_json::Value> = String::from_utf8(output.stdout)
        .expect("utf-8")
        .lines()
        .map(|l| serde_json::from_str(l).expect("each output line is JSON"))
        .collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0]["id"], 1);
    assert!(lines[0]["translation"]
        .as_str()
        .is_some_and(|t| !t.is_empty()));
    assert!(lines[1]["error"]
        .as_str()
        .is_some_and(|e| e.contains("line 2")));
    assert_eq!(lines[2]["id"], "b");
}

#[test]
fn offline_mode_names_the_missing_file() {
    let cache = tempfile::tempdir().expect("temp dir");
    let home = cache.path().display().to_string();
    let output = run(
        &["translate", "--model", "Helsinki-NLP/opus-mt-fr-en"],
        "Bonjour.",
        &[("HF_HUB_OFFLINE", "1"), ("HF_HOME", &home)],
    );
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("config.json"), "{stderr}");
    assert!(stderr.contains("HF_HUB_OFFLINE"), "{stderr}");
    assert!(
        stderr.contains("Helsinki-NLP/opus-mt-fr-en@main"),
        "{stderr}"
    );
}

#[test]
fn missing_model_directory_is_a_clear_error() {
    let output = run(
        &["translate", "--model", "./no/such/model"],
        "Bonjour.",
        &[],
    );
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("no/such/model"), "{stderr}");
}

#[test]
fn offline_mode_loads_a_hub_id_from_the_standard_cache() {
    // The layout huggingface_hub writes: hub/models--owner--name/{refs/main, snapshots/<commit>/…}.
    let home = tempfile::tempdir().expect("temp dir");
    let repo = home
        .path()
        .join("hub")
        .join("models--dragoman-test--tiny-swish");
    let commit = "0123456789abcdef0123456789abcdef01234567";
    let snapshot = repo.join("snapshots").join(commit);
    std::fs::create_dir_all(&snapshot).expect("snapshot dir");
    std::fs::create_dir_all(repo.join("refs")).expect("refs dir");
    std::fs::write(repo.join("refs").join("main"), commit).expect("ref");
    for entry in std::fs::read_dir(fixture_dir("marian-tiny-swish")).expect("fixture") {
        let entry = entry.expect("entry");
        std::fs::copy(entry.path(), snapshot.join(entry.file_name())).expect("copy");
    }
    let home_arg = home.path().display().to_string();
    let envs = [("HF_HUB_OFFLINE", "1"), ("HF_HOME", home_arg.as_str())];
    let by_id = run(
        &["translate", "--model", "dragoman-test/tiny-swish"],
        ARTICLE,
        &envs,
    );
    assert!(
        by_id.status.success(),
        "{}",
        String::from_utf8_lossy(&by_id.stderr)
    );
    let by_dir = run(&["translate", "--model", &fixture_arg()], ARTICLE, &[]);
    assert_eq!(by_id.stdout, by_dir.stdout);
}
