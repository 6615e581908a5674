//! `dragoman batch` as a real process: output equal to `translate --jsonl`, extra fields carried,
//! bad lines answered, resume after `kill -9` with nothing redone and everything exactly once,
//! a different input refused, and the analysis tasks on MiniLM.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use dragoman::jobs::{SqliteAccess, SqliteStore};

use crate::common::fixture_dir;

pub(crate) const SENTENCES: [&str; 6] = [
    "Le président a reçu M. Dupont à l’Élysée.",
    "Ils ont parlé de l’Ukraine et de la sécurité en Europe.",
    "« Nous devons agir », a-t-il déclaré devant les journalistes.",
    "Le sommet s’est achevé tard dans la soirée.",
    "La ministre a annoncé un plan de 3,5 milliards d’euros.",
    "Les négociations reprendront la semaine prochaine à Bruxelles.",
];

/// The `dragoman` binary, with the caller's `DRAGOMAN_*` settings removed.
pub(crate) fn dragoman(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_dragoman"));
    command
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("DRAGOMAN_") {
            command.env_remove(name);
        }
    }
    command
}

pub(crate) fn run(args: &[&str]) -> Output {
    dragoman(args).output().expect("dragoman runs")
}

pub(crate) fn model() -> String {
    fixture_dir("marian-tiny-swish").display().to_string()
}

pub(crate) fn path(p: &Path) -> &str {
    p.to_str().expect("temp paths are UTF-8")
}

/// An article of a few sentences, different for each `i`.
pub(crate) fn article(i: usize) -> String {
    let mut text = String::new();
    for k in 0..(1 + i % 3) {
        if k > 0 {
            text.push(if k == 2 { '\n' } else { ' ' });
        }
        text.push_str(SENTENCES[(i + k) % SENTENCES.len()]);
    }
    text
}

pub(crate) fn write_lines(path: &Path, lines: &[String]) {
    let mut body = lines.join("\n");
    body.push('\n');
    std::fs::write(path, body).expect("write input");
}

pub(crate) fn read_json_lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .expect("output exists")
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad output line {l:?}: {e}")))
        .collect()
}

pub(crate) fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn batch_translate_equals_translate_jsonl_and_carries_extra_fields() {
    let dir = tempfile::tempdir().expect("temp dir");
    let input = dir.path().join("in.jsonl");
    let out = dir.path().join("out.jsonl");
    let lines: Vec<String> = (0..7)
        .map(|i| {
            // Written by hand: `json!` would sort the keys.
            format!(
                "{{\"source\": \"feed-{i}\", \"id\": {i}, \"text\": {}, \"meta\": {{\"n\": {i}}}}}",
                Value::String(article(i))
            )
        })
        .collect();
    write_lines(&input, &lines);

    let model = model();
    let batch = run(&[
        "batch",
        "--task",
        "translate",
        "--model",
        &model,
        "--batch-size",
        "3",
        path(&input),
        path(&out),
    ]);
    assert_eq!(batch.status.code(), Some(0), "{}", stderr(&batch));
    assert!(
        stderr(&batch).contains("7 done, 0 failed"),
        "{}",
        stderr(&batch)
    );

    let reference = dragoman(&["translate", "--model", &model, "--jsonl", path(&input)])
        .output()
        .expect("translate --jsonl runs");
    assert!(reference.status.success(), "{}", stderr(&reference));
    let expected: Vec<Value> = String::from_utf8(reference.stdout)
        .expect("utf-8")
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON"))
        .collect();

    let written = std::fs::read_to_string(&out).expect("output");
    let got = read_json_lines(&out);
    assert_eq!(got.len(), 7);
    for (i, (line, want)) in got.iter().zip(&expected).enumerate() {
        assert_eq!(line["id"], want["id"]);
        assert_eq!(line["translation"], want["translation"], "item {i}");
        assert_eq!(line["source"], format!("feed-{i}"));
        assert_eq!(line["meta"], json!({"n": i}));
        assert!(line.get("text").is_none(), "the text is not echoed");
    }
    // Fields keep their input order, with the id first and the result last.
    let first = written.lines().next().expect("a line");
    assert!(
        first.starts_with("{\"id\":0,\"source\":\"feed-0\",\"meta\":{\"n\":0},\"translation\":"),
        "{first}"
    );

    // Running the finished job again redoes nothing and leaves the output as it was.
    let again = run(&[
        "batch",
        "--task",
        "translate",
        "--model",
        &model,
        path(&input),
        path(&out),
    ]);
    assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));
    assert!(stderr(&again).contains("7 skipped"), "{}", stderr(&again));
    assert_eq!(std::fs::read_to_string(&out).expect("output"), written);
}

#[test]
fn batch_bad_lines_get_error_lines_and_the_job_goes_on() {
    let dir = tempfile::tempdir().expect("temp dir");
    let input = dir.path().join("in.jsonl");
    let out = dir.path().join("out.jsonl");
    let long = "Le sommet s’est achevé. ".repeat(10);
    let lines = vec![
        json!({"id": "a", "text": SENTENCES[0]}).to_string(),
        "not json".to_string(),
        "[1, 2]".to_string(),
        json!({"id": "no-text", "tag": 1}).to_string(),
        String::new(),
        json!({"id": "empty", "text": "   "}).to_string(),
        json!({"id": "long", "text": long}).to_string(),
        json!({"id": "z", "text": SENTENCES[3]}).to_string(),
    ];
    write_lines(&input, &lines);
    let output = run(&[
        "batch",
        "--task",
        "translate",
        "--model",
        &model(),
        "--max-chars",
        "100",
        path(&input),
        path(&out),
    ]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let got = read_json_lines(&out);
    assert_eq!(got.len(), 7, "one line per non-blank input line: {got:#?}");
    assert_eq!(got[0]["id"], "a");
    assert!(got[0]["translation"]
        .as_str()
        .is_some_and(|t| !t.is_empty()));
    assert_eq!(got[1]["line"], 2);
    assert!(got[1]["error"]
        .as_str()
        .is_some_and(|e| e.contains("line 2")));
    assert!(got[1].get("id").is_none());
    assert_eq!(got[2]["line"], 3);
    assert_eq!(got[3]["id"], "no-text");
    assert!(got[3]["error"].as_str().is_some_and(|e| e.contains("text")));
    assert_eq!(got[4]["id"], "empty");
    assert!(got[4]["error"]
        .as_str()
        .is_some_and(|e| e.contains("empty")));
    assert_eq!(got[5]["id"], "long");
    assert!(got[5]["error"]
        .as_str()
        .is_some_and(|e| e.contains("limit is 100")));
    assert_eq!(got[6]["id"], "z");
    assert!(got[6]["translation"].is_string());
    assert!(
        stderr(&output).contains("2 done, 5 failed"),
        "{}",
        stderr(&output)
    );
}

/// Finished items in the state database: seq -> (attempts, finished_at).
fn finished_items(state: &Path) -> Vec<(i64, i64, i64)> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let store = SqliteStore::open(state, SqliteAccess::Shared)
            .await
            .expect("state opens");
        let rows: Vec<(i64, i64, i64)> = sqlx::query_as(
            "SELECT seq, attempts, finished_at FROM items WHERE state IN ('done', 'failed') ORDER BY seq",
        )
        .fetch_all(store.pool())
        .await
        .expect("query");
        store.close().await;
        rows
    })
}

pub(crate) fn line_count(path: &Path) -> usize {
    std::fs::read(path)
        .map(|b| b.iter().filter(|&&c| c == b'\n').count())
        .unwrap_or(0)
}

#[test]
fn batch_resumes_after_kill_9_without_redoing_finished_items() {
    const ITEMS: usize = 300;
    let dir = tempfile::tempdir().expect("temp dir");
    let input = dir.path().join("in.jsonl");
    let out = dir.path().join("out.jsonl");
    let state: PathBuf = dir.path().join("out.jsonl.state.db");
    let lines: Vec<String> = (0..ITEMS)
        .map(|i| json!({"id": format!("art-{i}"), "text": article(i)}).to_string())
        .collect();
    write_lines(&input, &lines);
    let model = model();
    let args = [
        "batch",
        "--task",
        "translate",
        "--model",
        &model,
        "--batch-size",
        "4",
        path(&input),
        path(&out),
    ];

    let mut child = dragoman(&args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("batch starts");
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if line_count(&out) >= 40 {
            break;
        }
        assert!(
            child.try_wait().expect("wait").is_none(),
            "the batch finished before it could be killed"
        );
        assert!(Instant::now() < deadline, "no progress within 120 s");
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().expect("SIGKILL");
    child.wait().expect("reaped");
    let written_at_kill = line_count(&out);
    assert!(
        written_at_kill < ITEMS,
        "killed part-way ({written_at_kill} lines)"
    );
    let before = finished_items(&state);
    assert!(before.len() >= 40, "{} finished", before.len());
    assert!(before.iter().all(|&(_, attempts, _)| attempts == 1));
    // A torn append (bytes past the recorded mark) must be cut off on resume.
    std::fs::OpenOptions::new()
        .append(true)
        .open(&out)
        .and_then(|mut f| std::io::Write::write_all(&mut f, b"{\"id\":\"torn"))
        .expect("append");

    let resumed = run(&args);
    assert_eq!(resumed.status.code(), Some(0), "{}", stderr(&resumed));
    assert!(
        stderr(&resumed).contains(&format!("{} skipped", before.len())),
        "{}",
        stderr(&resumed)
    );

    let got = read_json_lines(&out);
    let ids: Vec<String> = got
        .iter()
        .map(|l| l["id"].as_str().expect("id").to_string())
        .collect();
    let expected: Vec<String> = (0..ITEMS).map(|i| format!("art-{i}")).collect();
    assert_eq!(ids, expected, "every input exactly once, in order");
    assert!(got.iter().all(|l| l["translation"].is_string()));

    // Items finished before the kill were not run again.
    let after = finished_items(&state);
    assert_eq!(after.len(), ITEMS);
    for &(seq, attempts, finished_at) in &before {
        assert_eq!(
            after[seq as usize],
            (seq, attempts, finished_at),
            "item {seq} was redone"
        );
    }
    // At most the batch in flight at the kill ran twice.
    let reruns = after
        .iter()
        .filter(|&&(_, attempts, _)| attempts > 1)
        .count();
    assert!(reruns <= 4, "{reruns} items ran twice");

    // The output is byte for byte what an uninterrupted run writes.
    let fresh = dir.path().join("fresh.jsonl");
    let uninterrupted = run(&[
        "batch",
        "--task",
        "translate",
        "--model",
        &model,
        "--batch-size",
        "4",
        path(&input),
        path(&fresh),
    ]);
    assert_eq!(
        uninterrupted.status.code(),
        Some(0),
        "{}",
        stderr(&uninterrupted)
    );
    assert_eq!(
        std::fs::read(&out).expect("out"),
        std::fs::read(&fresh).expect("fresh")
    );
}

#[test]
fn batch_refuses_a_different_input_with_the_same_state_unless_restarted() {
    let dir = tempfile::tempdir().expect("temp dir");
    let input = dir.path().join("in.jsonl");
    let out = dir.path().join("out.jsonl");
    let model = model();
    write_lines(
        &input,
        &[json!({"id": 1, "text": SENTENCES[1]}).to_string()],
    );
    let args = [
        "batch",
        "--task",
        "translate",
        "--model",
        &model,
        path(&input),
        path(&out),
    ];
    let first = run(&args);
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));

    write_lines(
        &input,
        &[
            json!({"id": 1, "text": SENTENCES[1]}).to_string(),
            json!({"id": 2, "text": SENTENCES[2]}).to_string(),
        ],
    );
    let refused = run(&args);
    assert_eq!(refused.status.code(), Some(1), "{}", stderr(&refused));
    let message = stderr(&refused);
    assert!(message.contains("belongs to another job"), "{message}");
    assert!(message.contains("--restart"), "{message}");
    assert_eq!(
        read_json_lines(&out).len(),
        1,
        "the old output is untouched"
    );

    // Another task on the same input and state is another job too.
    let other_task = run(&[
        "batch",
        "--task",
        "summarize",
        "--source",
        "en",
        path(&input),
        path(&out),
    ]);
    assert_eq!(other_task.status.code(), Some(1), "{}", stderr(&other_task));

    let restarted = run(&[
        "batch",
        "--task",
        "translate",
        "--model",
        &model,
        "--restart",
        path(&input),
        path(&out),
    ]);
    assert_eq!(restarted.status.code(), Some(0), "{}", stderr(&restarted));
    let got = read_json_lines(&out);
    assert_eq!(got.len(), 2);
    assert_eq!(got[1]["id"], 2);
}

#[test]
fn batch_analyze_and_summarize_english_articles_with_minilm() {
    let dir = tempfile::tempdir().expect("temp dir");
    let input = dir.path().join("in.jsonl");
    let minilm = crate::embeddings::model_dir().display().to_string();
    let articles = [
        crate::analysis::CT_ARTICLE_EN_TEXT.to_string(),
        "The president met the prime minister in Paris on Monday. They discussed the war in Ukraine and energy prices. A new meeting is planned for next month.".to_string(),
    ];
    let lines: Vec<String> = articles
        .iter()
        .enumerate()
        .map(|(i, text)| json!({"id": i, "text": text, "desk": "world"}).to_string())
        .collect();
    write_lines(&input, &lines);

    let analyzed = dir.path().join("analysis.jsonl");
    let output = run(&[
        "batch",
        "--task",
        "analyze",
        "--source",
        "en",
        "--summarizer",
        "none",
        "--embedding-model",
        &minilm,
        path(&input),
        path(&analyzed),
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let got = read_json_lines(&analyzed);
    assert_eq!(got.len(), 2);
    for (i, line) in got.iter().enumerate() {
        assert_eq!(line["id"], i);
        assert_eq!(line["desk"], "world");
        let analysis = &line["analysis"];
        assert_eq!(analysis["source_language"], "en");
        assert!(analysis["summary"].as_str().is_some_and(|s| !s.is_empty()));
        assert!(analysis["tags"].is_array());
    }
    assert!(
        got[0]["analysis"]["tags"]
            .as_array()
            .is_some_and(|tags| tags.iter().any(|t| t["id"] == "military_cooperation")),
        "{:#}",
        got[0]["analysis"]["tags"]
    );

    let summaries = dir.path().join("summaries.jsonl");
    let output = run(&[
        "batch",
        "--task",
        "summarize",
        "--source",
        "en",
        "--summarizer",
        "none",
        "--embedding-model",
        &minilm,
        path(&input),
        path(&summaries),
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let got = read_json_lines(&summaries);
    assert_eq!(got.len(), 2);
    assert!(
        got[1]["summary"]
            .as_str()
            .is_some_and(|s| s.contains("Paris")),
        "{}",
        got[1]
    );
}

#[test]
fn batch_interrupted_with_ctrl_c_says_how_to_resume_and_resumes() {
    const ITEMS: usize = 120;
    let dir = tempfile::tempdir().expect("temp dir");
    let input = dir.path().join("in.jsonl");
    let out = dir.path().join("out.jsonl");
    let lines: Vec<String> = (0..ITEMS)
        .map(|i| json!({"id": i, "text": article(i)}).to_string())
        .collect();
    write_lines(&input, &lines);
    let model = model();
    let args = [
        "batch",
        "--task",
        "translate",
        "--model",
        &model,
        "--batch-size",
        "4",
        path(&input),
        path(&out),
    ];
    let child = dragoman(&args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("batch starts");
    let deadline = Instant::now() + Duration::from_secs(120);
    while line_count(&out) < 12 {
        assert!(Instant::now() < deadline, "no progress within 120 s");
        std::thread::sleep(Duration::from_millis(5));
    }
    let sent = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(sent.success());
    let interrupted = child.wait_with_output().expect("reaped");
    let message = stderr(&interrupted);
    assert!(line_count(&out) < ITEMS, "interrupted part-way: {message}");
    assert_eq!(interrupted.status.code(), Some(130), "{message}");
    assert!(
        message.contains("interrupted with") && message.contains("run the same command again"),
        "{message}"
    );

    let resumed = run(&args);
    assert_eq!(resumed.status.code(), Some(0), "{}", stderr(&resumed));
    assert!(
        stderr(&resumed).contains("resuming"),
        "{}",
        stderr(&resumed)
    );
    let ids: Vec<u64> = read_json_lines(&out)
        .iter()
        .map(|l| l["id"].as_u64().expect("id"))
        .collect();
    assert_eq!(
        ids,
        (0..ITEMS as u64).collect::<Vec<_>>(),
        "every input once, in order"
    );
}
