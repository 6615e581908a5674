//! `/v1/jobs` end to end: a JSONL job runs to done with the library's translations in input
//! order, cancel, the 404/413/415/422 answers, malformed lines mixed with good ones, interactive
//! requests served while a big job runs, and the real binary resuming a job after `kill -9`.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use dragoman::models::GenerationOptions;
use dragoman::pipeline::TranslateOptions;
use dragoman::server::{JobSettings, ServerConfig};
use reqwest::header::CONTENT_TYPE;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::common::{fixture_dir, http_client, library_translator, run_async};
use crate::server::{config, Reply, TestServer, SENTENCE, SWISH, TEST_LIMIT};

const SENTENCES: [&str; 6] = [
    "Le président a reçu M. Dupont à l’Élysée.",
    "Ils ont parlé de l’Ukraine et de la sécurité en Europe.",
    "« Nous devons agir », a-t-il déclaré devant les journalistes.",
    "Le sommet s’est achevé tard dans la soirée.",
    "La ministre a annoncé un plan de 3,5 milliards d’euros.",
    "Les négociations reprendront la semaine prochaine à Bruxelles.",
];

const NDJSON: &str = "application/x-ndjson";

/// An article of one to three sentences, different for each `i`.
pub fn article(i: usize) -> String {
    let mut text = String::new();
    for k in 0..(1 + i % 3) {
        if k > 0 {
            text.push(if k == 2 { '\n' } else { ' ' });
        }
        text.push_str(SENTENCES[(i + k) % SENTENCES.len()]);
    }
    text
}

/// `n` JSONL lines `{"id": i, "source": "feed-i", "text": …, "meta": {"n": i}}` (written by
/// hand: `json!` would sort the keys).
pub fn jsonl(n: usize) -> String {
    (0..n)
        .map(|i| {
            format!(
                "{{\"id\": {i}, \"source\": \"feed-{i}\", \"text\": {}, \"meta\": {{\"n\": {i}}}}}\n",
                Value::String(article(i))
            )
        })
        .collect()
}

/// A server configuration with jobs in `db`.
fn jobs_config(db: &Path) -> ServerConfig {
    ServerConfig {
        jobs: Some(JobSettings {
            db: dragoman::jobs::StoreLocation::Sqlite(db.to_path_buf()),
            batch_size: 4,
            ..JobSettings::default()
        }),
        ..config(SWISH)
    }
}

/// The library's translation of `text` under `generation`.
pub fn library(text: &str, generation: GenerationOptions) -> String {
    let options = TranslateOptions {
        generation,
        ..TranslateOptions::default()
    };
    library_translator(SWISH)
        .translate_article(text, &options)
        .expect("library translates")
        .text
}

pub async fn submit_jsonl(
    client: &reqwest::Client,
    base: &str,
    query: &str,
    body: String,
) -> Reply {
    let response = client
        .post(format!("{base}/v1/jobs?{query}"))
        .header(CONTENT_TYPE, NDJSON)
        .body(body)
        .send()
        .await
        .expect("POST /v1/jobs");
    Reply::read(response).await
}

pub async fn get(client: &reqwest::Client, url: String) -> Reply {
    Reply::read(client.get(url).send().await.expect("GET")).await
}

/// Polls the job until `done(status)` holds; returns that status.
pub async fn wait_for(
    client: &reqwest::Client,
    base: &str,
    id: i64,
    limit: Duration,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = Instant::now() + limit;
    loop {
        let reply = get(client, format!("{base}/v1/jobs/{id}")).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
        if done(&reply.json) {
            return reply.json;
        }
        assert!(
            Instant::now() < deadline,
            "job {id} did not get there within {limit:?}: {}",
            reply.text
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pub fn finished(status: &Value) -> u64 {
    status["counts"]["done"].as_u64().unwrap_or(0)
        + status["counts"]["failed"].as_u64().unwrap_or(0)
}

/// The results as raw lines.
pub async fn results(client: &reqwest::Client, base: &str, id: i64) -> (String, Vec<String>) {
    let reply = get(client, format!("{base}/v1/jobs/{id}/results")).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert!(
        reply
            .headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with(NDJSON)),
        "{:?}",
        reply.headers
    );
    let state = reply
        .headers
        .get("x-job-state")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    (state, reply.text.lines().map(str::to_string).collect())
}

#[test]
fn a_jsonl_job_runs_to_done_with_the_library_translations_in_input_order() {
    let dir = tempfile::tempdir().expect("temp dir");
    run_async(TEST_LIMIT, async {
        let server = TestServer::start(jobs_config(&dir.path().join("jobs.db"))).await;
        let base = server.base_url.clone();
        let client = &server.client;
        // A blank line is not an item.
        let mut body = jsonl(12);
        body.insert(0, '\n');
        let created = submit_jsonl(client, &base, "task=translate", body).await;
        assert_eq!(created.status, StatusCode::ACCEPTED, "{}", created.text);
        let id = created.json["id"].as_i64().expect("an id");
        assert_eq!(created.json["state"], "queued");
        assert_eq!(created.json["total"], 12);
        assert_eq!(created.json["links"]["self"], format!("/v1/jobs/{id}"));
        assert_eq!(
            created.json["links"]["results"],
            format!("/v1/jobs/{id}/results")
        );
        assert_eq!(
            created
                .headers
                .get("location")
                .and_then(|v| v.to_str().ok()),
            Some(format!("/v1/jobs/{id}").as_str())
        );

        let status = wait_for(client, &base, id, Duration::from_secs(60), |s| {
            s["state"] == "done"
        })
        .await;
        assert_eq!(status["counts"]["total"], 12, "{status}");
        assert_eq!(status["counts"]["done"], 12, "{status}");
        assert_eq!(status["counts"]["failed"], 0, "{status}");
        assert_eq!(status["progress"], 1.0);
        assert!(status["rate"].as_f64().is_some_and(|r| r > 0.0), "{status}");
        assert!(status["started_at"].is_i64() && status["finished_at"].is_i64());

        let (state, lines) = results(client, &base, id).await;
        assert_eq!(state, "done");
        assert_eq!(lines.len(), 12);
        for (i, line) in lines.iter().enumerate() {
            // Fields keep their input order: id first, the result last.
            let prefix = format!(
                "{{\"id\":{i},\"source\":\"feed-{i}\",\"meta\":{{\"n\":{i}}},\"translation\":"
            );
            assert!(line.starts_with(&prefix), "{line}");
            let value: Value = serde_json::from_str(line).expect("JSON line");
            assert_eq!(
                value["translation"].as_str(),
                Some(library(&article(i), GenerationOptions::default()).as_str()),
                "item {i}"
            );
        }
        // `?from=N` skips the first N.
        let tail = get(client, format!("{base}/v1/jobs/{id}/results?from=10")).await;
        assert_eq!(tail.text.lines().collect::<Vec<_>>(), lines[10..].to_vec());

        // The JSON form, with options, gives the library's output under the same options.
        let items: Vec<Value> = (0..3)
            .map(|i| json!({"id": format!("a{i}"), "text": article(i)}))
            .collect();
        let created = server
            .post_json(
                "/v1/jobs",
                &json!({"task": "translate", "items": items, "options": {"beams": 2, "max_new_tokens": 6}}),
            )
            .await;
        assert_eq!(created.status, StatusCode::ACCEPTED, "{}", created.text);
        let second = created.json["id"].as_i64().expect("an id");
        assert_ne!(second, id);
        let status = wait_for(client, &base, second, Duration::from_secs(60), |s| {
            s["state"] == "done"
        })
        .await;
        assert_eq!(status["options"], json!({"beams": 2, "max_new_tokens": 6}));
        let (_, lines) = results(client, &base, second).await;
        let generation = GenerationOptions {
            beams: Some(2),
            max_new_tokens: Some(6),
            ..GenerationOptions::default()
        };
        assert_eq!(lines.len(), 3);
        for (i, line) in lines.iter().enumerate() {
            let value: Value = serde_json::from_str(line).expect("JSON line");
            assert_eq!(value["id"], format!("a{i}"));
            assert_eq!(
                value["translation"].as_str(),
                Some(library(&article(i), generation.clone()).as_str())
            );
        }

        // Both are listed, newest first.
        let list = server.get("/v1/jobs").await;
        assert_eq!(list.status, StatusCode::OK, "{}", list.text);
        let ids: Vec<i64> = list.json["jobs"]
            .as_array()
            .expect("jobs")
            .iter()
            .filter_map(|j| j["id"].as_i64())
            .collect();
        assert_eq!(ids, vec![second, id]);

        let metrics = server.get("/metrics").await.text;
        assert!(
            metrics.contains("dragoman_job_items_total{task=\"translate\",outcome=\"done\"}"),
            "{metrics}"
        );
        server.shutdown().await.expect("serve returns Ok");
    });
}

#[test]
fn a_cancelled_job_runs_no_more_items_and_keeps_its_results() {
    let dir = tempfile::tempdir().expect("temp dir");
    run_async(TEST_LIMIT, async {
        let server = TestServer::start(jobs_config(&dir.path().join("jobs.db"))).await;
        let base = server.base_url.clone();
        let client = &server.client;
        let created = submit_jsonl(client, &base, "task=translate", jsonl(400)).await;
        assert_eq!(created.status, StatusCode::ACCEPTED, "{}", created.text);
        let id = created.json["id"].as_i64().expect("an id");
        wait_for(client, &base, id, Duration::from_secs(60), |s| {
            finished(s) >= 4
        })
        .await;

        let cancelled = Reply::read(
            client
                .delete(format!("{base}/v1/jobs/{id}"))
                .send()
                .await
                .expect("DELETE"),
        )
        .await;
        assert_eq!(cancelled.status, StatusCode::OK, "{}", cancelled.text);
        assert_eq!(cancelled.json["state"], "cancelled", "{}", cancelled.text);

        // The batch in flight may finish (however long the machine takes); nothing after it
        // starts.
        wait_for(client, &base, id, Duration::from_secs(60), |s| {
            s["counts"]["running"] == 0
        })
        .await;
        tokio::time::sleep(Duration::from_millis(200)).await;
        let settled = server.get(&format!("/v1/jobs/{id}")).await.json;
        tokio::time::sleep(Duration::from_millis(500)).await;
        let later = server.get(&format!("/v1/jobs/{id}")).await.json;
        assert_eq!(later["state"], "cancelled");
        assert_eq!(finished(&settled), finished(&later), "{later}");
        assert_eq!(later["counts"]["running"], 0, "{later}");
        assert!(
            later["counts"]["queued"].as_u64().unwrap_or(0) > 100,
            "{later}"
        );
        assert!(later.get("eta_seconds").is_none(), "{later}");

        // Finished results stay readable, in input order.
        let (state, lines) = results(client, &base, id).await;
        assert_eq!(state, "cancelled");
        assert_eq!(lines.len() as u64, finished(&later));
        let ids: Vec<u64> = lines
            .iter()
            .map(|l| {
                serde_json::from_str::<Value>(l).expect("JSON")["id"]
                    .as_u64()
                    .expect("id")
            })
            .collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");

        // Cancelling again changes nothing; an unknown job is 404.
        let again = client
            .delete(format!("{base}/v1/jobs/{id}"))
            .send()
            .await
            .expect("DELETE");
        assert_eq!(again.status(), StatusCode::OK);
        let missing = Reply::read(
            client
                .delete(format!("{base}/v1/jobs/{}", id + 1000))
                .send()
                .await
                .expect("DELETE"),
        )
        .await;
        missing.assert_error(StatusCode::NOT_FOUND, "job_not_found");

        // The server still serves, and runs the next job.
        let next = submit_jsonl(client, &base, "task=translate", jsonl(2)).await;
        let next = next.json["id"].as_i64().expect("an id");
        wait_for(client, &base, next, Duration::from_secs(60), |s| {
            s["state"] == "done"
        })
        .await;
        server.shutdown().await.expect("serve returns Ok");
    });
}

/// Regression: a job body over the limit was answered 413 before it was read, so a client still
/// sending saw a broken pipe instead of the answer (it failed CI once, under load).
#[test]
fn a_job_body_over_the_limit_is_answered_413_even_while_the_client_is_still_sending() {
    let dir = tempfile::tempdir().expect("temp dir");
    run_async(TEST_LIMIT, async {
        let mut config = jobs_config(&dir.path().join("jobs.db"));
        if let Some(jobs) = config.jobs.as_mut() {
            jobs.max_body_bytes = 64 * 1024;
        }
        let server = TestServer::start(config).await;
        // 2 MB: the client is certainly still writing when the server has decided.
        let big = jsonl(1).repeat(20_000);
        assert!(big.len() > 2_000_000);
        for _ in 0..5 {
            let message = submit_jsonl(
                &server.client,
                &server.base_url,
                "task=translate",
                big.clone(),
            )
            .await
            .assert_error(StatusCode::PAYLOAD_TOO_LARGE, "too_large");
            assert!(message.contains("65536"), "{message}");
        }
        server.assert_still_serves().await;
        server.shutdown().await.expect("serve returns Ok");
    });
}

#[test]
fn jobs_answer_404_413_415_422_and_malformed_lines_become_error_results() {
    let dir = tempfile::tempdir().expect("temp dir");
    run_async(TEST_LIMIT, async {
        let mut config = jobs_config(&dir.path().join("jobs.db"));
        if let Some(jobs) = config.jobs.as_mut() {
            jobs.max_body_bytes = 64 * 1024;
        }
        let server = TestServer::start(config).await;
        let base = server.base_url.clone();
        let client = &server.client;

        for path in ["/v1/jobs/999", "/v1/jobs/abc", "/v1/jobs/999/results"] {
            server
                .get(path)
                .await
                .assert_error(StatusCode::NOT_FOUND, "job_not_found");
        }
        let unknown = server
            .post_json(
                "/v1/jobs",
                &json!({"task": "transmogrify", "items": [{"text": "x"}]}),
            )
            .await;
        assert!(unknown
            .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field")
            .contains("transmogrify"));
        submit_jsonl(client, &base, "task=bogus", jsonl(1))
            .await
            .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field");
        submit_jsonl(client, &base, "", jsonl(1))
            .await
            .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field");
        for empty in ["", "\n\n  \n"] {
            submit_jsonl(client, &base, "task=translate", empty.to_string())
                .await
                .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field");
        }
        server
            .post_json("/v1/jobs", &json!({"task": "translate", "items": []}))
            .await
            .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field");
        server
            .post_json("/v1/jobs", &json!({"items": [{"text": "x"}]}))
            .await
            .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field");
        server
            .post_json(
                "/v1/jobs",
                &json!({"task": "translate", "items": [{"text": "x"}], "options": {"beams": 0}}),
            )
            .await
            .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field");
        server
            .post_raw("/v1/jobs", "application/json", b"{\"task\": ".to_vec())
            .await
            .assert_error(StatusCode::BAD_REQUEST, "invalid_request");
        server
            .post_raw(
                "/v1/jobs?task=translate",
                "text/plain",
                jsonl(1).into_bytes(),
            )
            .await
            .assert_error(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type");
        // Analysis tasks need the analysis models, which this server has not loaded.
        submit_jsonl(client, &base, "task=summarize", jsonl(1))
            .await
            .assert_error(StatusCode::NOT_IMPLEMENTED, "analysis_disabled");
        // Over the job body limit (64 KiB here), which is not the other routes' limit.
        let big = jsonl(1).repeat(1000);
        assert!(big.len() > 64 * 1024);
        let message = submit_jsonl(client, &base, "task=translate", big)
            .await
            .assert_error(StatusCode::PAYLOAD_TOO_LARGE, "too_large");
        assert!(message.contains("65536"), "{message}");

        // Malformed lines mixed with good ones: error results for those lines, the job goes on.
        let body = format!(
            "{}not json\n{{\"id\": \"x\"}}\n[1, 2]\n{}",
            jsonl(1),
            jsonl(2).lines().nth(1).expect("a line")
        );
        let created = submit_jsonl(client, &base, "task=translate", body).await;
        assert_eq!(created.status, StatusCode::ACCEPTED, "{}", created.text);
        assert_eq!(created.json["total"], 5);
        assert_eq!(created.json["rejected"], 3);
        let id = created.json["id"].as_i64().expect("an id");
        let status = wait_for(client, &base, id, Duration::from_secs(60), |s| {
            s["state"] == "done"
        })
        .await;
        assert_eq!(status["counts"]["done"], 2, "{status}");
        assert_eq!(status["counts"]["failed"], 3, "{status}");
        let errors = status["errors"].as_array().expect("errors");
        assert_eq!(errors.len(), 3, "{status}");
        assert_eq!(errors[0]["index"], 1);
        assert!(
            errors[0]["error"]
                .as_str()
                .is_some_and(|e| e.starts_with("line 2")),
            "{status}"
        );
        assert_eq!(errors[1]["id"], "x");
        let (_, lines) = results(client, &base, id).await;
        assert_eq!(lines.len(), 5);
        let values: Vec<Value> = lines
            .iter()
            .map(|l| serde_json::from_str(l).expect("JSON"))
            .collect();
        assert_eq!(
            values[0]["translation"].as_str(),
            Some(library(&article(0), GenerationOptions::default()).as_str())
        );
        assert!(
            lines[1].starts_with("{\"line\":2,\"error\":"),
            "{}",
            lines[1]
        );
        assert!(
            lines[2].starts_with("{\"id\":\"x\",\"error\":"),
            "{}",
            lines[2]
        );
        assert!(values[3]["error"].is_string());
        assert_eq!(values[4]["id"], 1);
        assert_eq!(
            values[4]["translation"].as_str(),
            Some(library(&article(1), GenerationOptions::default()).as_str())
        );

        // JSON items that are not objects are error results too.
        let created = server
            .post_json(
                "/v1/jobs",
                &json!({"task": "translate", "items": ["text", {"id": 1, "text": SENTENCE}]}),
            )
            .await;
        assert_eq!(created.status, StatusCode::ACCEPTED, "{}", created.text);
        assert_eq!(created.json["rejected"], 1);
        server.shutdown().await.expect("serve returns Ok");
    });
}

#[test]
fn a_100_mb_job_body_is_413_under_the_default_limit_and_jobs_can_be_disabled() {
    let dir = tempfile::tempdir().expect("temp dir");
    run_async(TEST_LIMIT, async {
        let server = TestServer::start(jobs_config(&dir.path().join("jobs.db"))).await;
        let huge = vec![b' '; 100 * 1024 * 1024];
        let response = server
            .client
            .post(server.url("/v1/jobs?task=translate"))
            .header(CONTENT_TYPE, NDJSON)
            .body(huge)
            .send()
            .await;
        // The server answers before reading the body; the client may see the answer or, having
        // been cut off while still sending, an error.
        if let Ok(response) = response {
            Reply::read(response)
                .await
                .assert_error(StatusCode::PAYLOAD_TOO_LARGE, "too_large");
        }
        server.assert_still_serves().await;
        server.shutdown().await.expect("serve returns Ok");

        let server = TestServer::start(config(SWISH)).await;
        server
            .get("/v1/jobs")
            .await
            .assert_error(StatusCode::NOT_IMPLEMENTED, "jobs_disabled");
        server.shutdown().await.expect("serve returns Ok");
    });
}

#[test]
fn interactive_translations_stay_fast_while_a_500_item_job_runs() {
    let dir = tempfile::tempdir().expect("temp dir");
    run_async(TEST_LIMIT, async {
        let server = TestServer::start(jobs_config(&dir.path().join("jobs.db"))).await;
        let base = server.base_url.clone();
        let client = &server.client;
        let request = json!({ "text": SENTENCE, "beams": 1, "max_new_tokens": 12 });
        let expected = library(
            SENTENCE,
            GenerationOptions {
                beams: Some(1),
                max_new_tokens: Some(12),
                ..GenerationOptions::default()
            },
        );
        // Idle latency, for the record.
        let started = Instant::now();
        assert_eq!(
            server.post_json("/v1/translate", &request).await.status,
            StatusCode::OK
        );
        let idle = started.elapsed();

        let created = submit_jsonl(client, &base, "task=translate", jsonl(500)).await;
        assert_eq!(created.status, StatusCode::ACCEPTED, "{}", created.text);
        let id = created.json["id"].as_i64().expect("an id");
        wait_for(client, &base, id, Duration::from_secs(60), |s| {
            finished(s) >= 4
        })
        .await;

        let mut slowest = Duration::ZERO;
        for _ in 0..5 {
            let started = Instant::now();
            let reply = server.post_json("/v1/translate", &request).await;
            slowest = slowest.max(started.elapsed());
            assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
            assert_eq!(
                reply.json["translations"][0]["text"].as_str(),
                Some(expected.as_str())
            );
        }
        eprintln!("/v1/translate: idle {idle:?}, slowest of 5 while the job ran {slowest:?}");
        let status = server.get(&format!("/v1/jobs/{id}")).await.json;
        assert_eq!(
            status["state"], "running",
            "the job was still running: {status}"
        );
        assert!(
            slowest < Duration::from_secs(2),
            "a translation took {slowest:?} while the job ran (idle: {idle:?})"
        );
        assert!(status["eta_seconds"].as_f64().is_some(), "{status}");
        server.shutdown().await.expect("serve returns Ok");
    });
}

/// Kills the child on drop, so that a failing test leaves no server behind.
pub struct Running(pub Child);

impl Drop for Running {
    fn drop(&mut self) {
        if matches!(self.0.try_wait(), Ok(None)) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// Starts `dragoman serve` on a free port with jobs in the SQLite file `db`; returns it with
/// its base URL.
fn start_binary(db: &Path) -> (Running, String) {
    start_server_binary(&[std::ffi::OsStr::new("--jobs-db"), db.as_os_str()])
}

/// Starts `dragoman serve` on a free port (translation only, job batches of 4) with `args`
/// added; returns it with its base URL.
pub fn start_server_binary(args: &[&std::ffi::OsStr]) -> (Running, String) {
    let model = fixture_dir(SWISH).display().to_string();
    let mut command = Command::new(env!("CARGO_BIN_EXE_dragoman"));
    command
        .args([
            "serve",
            "--model",
            &model,
            "--port",
            "0",
            "--no-analysis",
            "--job-batch-size",
            "4",
        ])
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("DRAGOMAN_") {
            command.env_remove(name);
        }
    }
    let mut running = Running(command.spawn().expect("dragoman serve starts"));
    let stderr = running.0.stderr.take().expect("stderr");
    let (lines, received) = mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            let _ = lines.send(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut seen = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match received.recv_timeout(left) {
            Ok(line) => {
                if let Some(address) = line.strip_prefix("dragoman listening on http://") {
                    return (running, format!("http://{}", address.trim()));
                }
                seen.push(line);
            }
            Err(_) => panic!("no `dragoman listening on` line within 30 s; stderr: {seen:?}"),
        }
    }
}

#[test]
fn serve_binary_finishes_a_job_after_kill_9_with_every_item_once() {
    const ITEMS: usize = 600;
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("jobs.db");
    let (mut first, base) = start_binary(&db);
    let id = std::cell::Cell::new(0);
    run_async(Duration::from_secs(120), async {
        let client = http_client();
        let created = submit_jsonl(&client, &base, "task=translate", jsonl(ITEMS)).await;
        assert_eq!(created.status, StatusCode::ACCEPTED, "{}", created.text);
        id.set(created.json["id"].as_i64().expect("an id"));
        wait_for(&client, &base, id.get(), Duration::from_secs(60), |s| {
            finished(s) >= 8
        })
        .await;
    });
    first.0.kill().expect("SIGKILL");
    let _ = first.0.wait();
    let id = id.get();

    let (_second, base) = start_binary(&db);
    run_async(Duration::from_secs(300), async {
        let client = http_client();
        let status = get(&client, format!("{base}/v1/jobs/{id}")).await.json;
        assert!(
            (finished(&status) as usize) < ITEMS,
            "the job finished before it could be killed: {status}"
        );
        let status = wait_for(&client, &base, id, Duration::from_secs(240), |s| {
            s["state"] == "done"
        })
        .await;
        assert_eq!(status["counts"]["done"], ITEMS as u64, "{status}");
        let (_, lines) = results(&client, &base, id).await;
        assert_eq!(lines.len(), ITEMS);
        for (i, line) in lines.iter().enumerate() {
            let value: Value = serde_json::from_str(line).expect("JSON line");
            assert_eq!(value["id"], i, "every item once, in order");
            assert_eq!(
                value["translation"].as_str(),
                Some(library(&article(i), GenerationOptions::default()).as_str()),
                "item {i}"
            );
        }
    });
}
