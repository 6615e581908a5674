//! `dragoman serve` as a real process: it prints its address, serves, and exits with status 0
//! on SIGTERM.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::common::{fixture_dir, http_client, library_translator, run_async};

/// Kills the child on drop, so that a failing test leaves no server behind.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        if matches!(self.0.try_wait(), Ok(None)) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

#[test]
fn serve_binary_translates_and_exits_cleanly_on_sigterm() {
    let fixture = "marian-tiny-swish";
    let model = fixture_dir(fixture).display().to_string();
    let mut command = Command::new(env!("CARGO_BIN_EXE_dragoman"));
    command
        .args([
            "serve",
            "--model",
            &model,
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--no-analysis",
            "--no-jobs",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    // Settings from the environment of whoever runs the tests must not leak in.
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("DRAGOMAN_") {
            command.env_remove(name);
        }
    }
    let mut running = Running(command.spawn().expect("dragoman serve starts"));
    let pid = running.0.id();

    // Read stderr on a thread (the pipe must keep draining); lines come back over a channel.
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
    let address = loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match received.recv_timeout(left) {
            Ok(line) => {
                if let Some(address) = line.strip_prefix("dragoman listening on http://") {
                    break address.trim().to_string();
                }
                seen.push(line);
            }
            Err(_) => panic!("no `dragoman listening on` line within 30 s; stderr: {seen:?}"),
        }
    };
    assert!(address.starts_with("127.0.0.1:"), "{address}");
    assert!(
        !address.ends_with(":0"),
        "the real port is printed: {address}"
    );
    let base_url = format!("http://{address}");

    let text = "Le Sénat doit examiner le projet de réforme des retraites la semaine prochaine.";
    let expected = library_translator(fixture)
        .translate_article(text, &Default::default())
        .expect("library translates");

    run_async(Duration::from_secs(60), async {
        let client = http_client();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let ready = client.get(format!("{base_url}/ready")).send().await;
            if ready.is_ok_and(|r| r.status() == reqwest::StatusCode::OK) {
                break;
            }
            assert!(Instant::now() < deadline, "not ready within 30 s");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let response = client
            .post(format!("{base_url}/v1/translate"))
            .json(&json!({ "text": text }))
            .send()
            .await
            .expect("POST /v1/translate");
        assert_eq!(response.status(), reqwest::StatusCode::OK);
        let body: Value = response.json().await.expect("JSON body");
        assert_eq!(
            body["translations"][0]["text"].as_str(),
            Some(expected.text.as_str()),
            "{body}"
        );
        assert_eq!(body["model"], model);
    });

    let kill = Command::new("kill")
        .arg("-TERM")
        .arg(pid.to_string())
        .status()
        .expect("kill runs");
    assert!(kill.success(), "kill -TERM {pid} failed");
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = running.0.try_wait().expect("try_wait") {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "dragoman serve did not exit within 20 s of SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "exit status after SIGTERM: {status}");
    assert_eq!(status.code(), Some(0));
}
