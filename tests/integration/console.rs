//! The analyst console at `/`, driven in a real headless Chromium through chromedriver
//! (fantoccini) against the real server on loopback with the tiny fixture models: an article
//! analysed shows every section, sentences and tag evidence highlight their counterparts, a
//! refused article shows the server's reason, a job uploaded from the page runs to done, a job
//! started over the API appears and is cancelled from the page.
//!
//! Needs `chromium` and `chromedriver` (Debian's `chromium` and `chromium-driver`; `.ci/run`
//! installs them). Without them the tests print a notice and pass without running, unless `CI`
//! or `DRAGOMAN_REQUIRE_BROWSER` (set by `.ci/run`) is set. `DRAGOMAN_CHROMEDRIVER` and `DRAGOMAN_CHROMIUM` override the paths. With
//! `DRAGOMAN_UPDATE_SCREENSHOTS=1` the tests also write the screenshots in `docs/`
//! (`scripts/console_screenshots.sh`).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::key::Key;
use fantoccini::{Client, ClientBuilder, Locator};
use reqwest::StatusCode;
use serde_json::{json, Value};

use dragoman::server::{JobSettings, Limits, ServerConfig};

use crate::common::run_async;
use crate::jobs_api::{jsonl, submit_jsonl};
use crate::server::{config, TestServer, SWISH};

const CT_ARTICLE_FR: &str = include_str!("../data/eval/article_ct_exercise_fr.txt");
/// Longest any one browser step may take (page loads, analyses of the tiny models, polls).
const STEP_LIMIT: Duration = Duration::from_secs(60);
/// Upper bound on one console test.
const CONSOLE_TEST_LIMIT: Duration = Duration::from_secs(240);

/// One browser at a time: Chromium is heavy, and the other tests run beside these.
static ONE_BROWSER: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn one_browser() -> std::sync::MutexGuard<'static, ()> {
    ONE_BROWSER
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn find_program(variable: &str, candidates: &[&str]) -> Option<PathBuf> {
    if let Some(path) = std::env::var_os(variable) {
        return Some(PathBuf::from(path));
    }
    candidates
        .iter()
        .map(PathBuf::from)
        .find(|path| path.exists())
}

/// Where chromedriver and Chromium are installed.
struct Programs {
    driver: PathBuf,
    chromium: PathBuf,
}

/// The installed browser programs, or `None` (after a notice) when they are missing and `CI` is
/// unset.
fn programs(test: &str) -> Option<Programs> {
    let driver = find_program("DRAGOMAN_CHROMEDRIVER", &["/usr/bin/chromedriver"]);
    let chromium = find_program(
        "DRAGOMAN_CHROMIUM",
        &["/usr/bin/chromium", "/usr/bin/chromium-browser"],
    );
    match (driver, chromium) {
        (Some(driver), Some(chromium)) => Some(Programs { driver, chromium }),
        _ => {
            assert!(
                std::env::var_os("CI").is_none()
                    && std::env::var_os("DRAGOMAN_REQUIRE_BROWSER").is_none(),
                "chromium/chromedriver are missing but CI or DRAGOMAN_REQUIRE_BROWSER is set: .ci/run installs them"
            );
            eprintln!("skipping {test}: chromium and chromedriver are not installed (apt-get install chromium chromium-driver)");
            None
        }
    }
}

/// A headless Chromium session through a chromedriver of its own; killed when dropped.
struct Browser {
    client: Client,
    driver: Child,
}

impl Drop for Browser {
    /// Kills chromedriver with the browser it started (its process group), so a test that
    /// fails before closing the session leaves no Chromium behind.
    fn drop(&mut self) {
        #[cfg(unix)]
        if let Ok(group) = i32::try_from(self.driver.id()) {
            // SAFETY: kill(2) has no memory-safety preconditions; the group is the driver's own.
            unsafe { libc::kill(-group, libc::SIGKILL) };
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Browser {
    /// Starts `programs`' chromedriver and a browser session downloading into `downloads`.
    async fn start(programs: Programs, downloads: &Path) -> Self {
        let Programs { driver, chromium } = programs;
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let mut command = Command::new(&driver);
        // A process group of its own: dropping the Browser kills chromedriver and Chromium.
        #[cfg(unix)]
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let mut driver = command
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", driver.display()));
        let capabilities = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                    "--disable-background-networking", "--disable-dev-shm-usage",
                    "--window-size=1400,1100", "--lang=en-GB"
                ],
                "prefs": {
                    "download.default_directory": downloads,
                    "download.prompt_for_download": false
                }
            }
        });
        let capabilities = match capabilities {
            Value::Object(map) => map,
            _ => unreachable!("a JSON object"),
        };
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        let client = loop {
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            match ClientBuilder::new(connector)
                .capabilities(capabilities.clone())
                .connect(&url)
                .await
            {
                Ok(client) => break client,
                Err(error) => {
                    if let Ok(Some(status)) = driver.try_wait() {
                        panic!("chromedriver exited ({status}) before a session started: {error}");
                    }
                    assert!(
                        Instant::now() < deadline,
                        "no browser session within 30 s: {error}"
                    );
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }
        };
        Self { client, driver }
    }

    /// Ends the session (the drop kills chromedriver).
    async fn close(self) {
        let _ = self.client.clone().close().await;
    }

    async fn goto(&self, url: &str) {
        self.client.goto(url).await.expect("page loads");
    }

    /// Runs `script` (a function body; `arguments[i]` are `args`) in the page.
    async fn eval(&self, script: &str, args: Vec<Value>) -> Value {
        self.client
            .execute(script, args)
            .await
            .unwrap_or_else(|e| panic!("script failed: {e}\n{script}"))
    }

    /// Waits until `script` returns true; panics with `what` after [`STEP_LIMIT`].
    async fn wait_for(&self, what: &str, script: &str) {
        let deadline = Instant::now() + STEP_LIMIT;
        loop {
            if self.eval(script, Vec::new()).await == Value::Bool(true) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "waited {STEP_LIMIT:?} for {what}; page says: {}",
                self.text("body").await
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn click(&self, selector: &str) {
        self.client
            .find(Locator::Css(selector))
            .await
            .unwrap_or_else(|e| panic!("no {selector}: {e}"))
            .click()
            .await
            .unwrap_or_else(|e| panic!("cannot click {selector}: {e}"));
    }

    async fn text(&self, selector: &str) -> String {
        let text = self
            .eval(
                "const e = document.querySelector(arguments[0]); return e ? e.innerText : null;",
                vec![json!(selector)],
            )
            .await;
        text.as_str().unwrap_or_default().to_string()
    }

    /// Sets a form field's value as typing would (an `input` event follows).
    async fn fill(&self, selector: &str, value: &str) {
        self.eval(
            "const e = document.querySelector(arguments[0]); e.value = arguments[1]; \
             e.dispatchEvent(new Event('input', { bubbles: true })); return true;",
            vec![json!(selector), json!(value)],
        )
        .await;
    }

    /// Writes a screenshot to `docs/NAME` when `DRAGOMAN_UPDATE_SCREENSHOTS` is set.
    async fn screenshot(&self, name: &str) {
        if std::env::var_os("DRAGOMAN_UPDATE_SCREENSHOTS").is_none() {
            return;
        }
        let png = self.client.screenshot().await.expect("screenshot");
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("docs")
            .join(name);
        std::fs::create_dir_all(path.parent().expect("docs/")).expect("docs/ exists");
        std::fs::write(&path, png).expect("screenshot written");
        eprintln!("wrote {}", path.display());
    }
}

/// A server with every analysis model and a jobs database in `dir`.
fn console_config(dir: &Path) -> ServerConfig {
    ServerConfig {
        // The gazetteer and person rules find the entities (the tiny NER fixture's are noise).
        analysis: Some(dragoman::pipeline::setup::AnalysisModels {
            ner: None,
            ..crate::analysis::full_models()
        }),
        jobs: Some(JobSettings {
            db: dragoman::jobs::StoreLocation::Sqlite(dir.join("jobs.db")),
            batch_size: 4,
            ..JobSettings::default()
        }),
        ..config(SWISH)
    }
}

/// Sentences (as JSON strings) of the element matching `selector`.
async fn sentence_texts(browser: &Browser, selector: &str) -> Vec<String> {
    let texts = browser
        .eval(
            "return [...document.querySelectorAll(arguments[0])].map(e => e.textContent);",
            vec![json!(selector)],
        )
        .await;
    serde_json::from_value(texts).expect("a list of strings")
}

#[test]
fn the_console_analyses_an_article_and_links_sentences_tags_and_evidence() {
    let dir = tempfile::tempdir().expect("temp dir");
    let Some(programs) =
        programs("the_console_analyses_an_article_and_links_sentences_tags_and_evidence")
    else {
        return;
    };
    let _browser = one_browser();
    run_async(CONSOLE_TEST_LIMIT, async {
        let server = TestServer::start(console_config(dir.path())).await;
        let browser = Browser::start(programs, dir.path()).await;
        browser.goto(&server.url("/")).await;
        browser
            .wait_for(
                "the status line",
                "return document.querySelector('#status-line').dataset.state === 'ok';",
            )
            .await;
        let status = browser.text("#status-line").await;
        for expected in [
            "Ready",
            "translation:",
            "embedding:",
            "summarization:",
            "queue: 0 sentences",
            "dragoman 0.1.0",
        ] {
            assert!(status.contains(expected), "{expected} in {status}");
        }

        // A French article: translation side by side, aligned sentence by sentence.
        browser.fill("#article", CT_ARTICLE_FR).await;
        browser.click("#analyse").await;
        browser
            .wait_for(
                "the French brief",
                "return !document.querySelector('#results').hidden;",
            )
            .await;
        let expected = server
            .post_json(
                "/v1/analyze",
                &json!({ "text": CT_ARTICLE_FR, "source": "auto", "summary": { "sentences": 3 } }),
            )
            .await;
        assert_eq!(expected.status, StatusCode::OK, "{}", expected.text);
        let brief = &expected.json;
        let sentences: Vec<&Value> = brief["translation"]["paragraphs"]
            .as_array()
            .expect("paragraphs")
            .iter()
            .flat_map(|p| p["sentences"].as_array().expect("sentences"))
            .collect();
        assert!(sentences.len() >= 7, "{}", expected.text);
        let english = sentence_texts(&browser, "#translation .sentence").await;
        let french = sentence_texts(&browser, "#original .sentence").await;
        let want_english: Vec<&str> = sentences
            .iter()
            .filter_map(|s| s["text"].as_str())
            .collect();
        let want_french: Vec<&str> = sentences
            .iter()
            .filter_map(|s| s["source"].as_str())
            .collect();
        assert_eq!(english, want_english);
        assert_eq!(french, want_french);
        assert_eq!(
            browser
                .eval(
                    "return document.querySelectorAll('#original p').length;",
                    vec![]
                )
                .await,
            json!(brief["translation"]["paragraphs"]
                .as_array()
                .map_or(0, Vec::len))
        );
        assert_eq!(
            browser.text("#summary").await,
            brief["summary"].as_str().unwrap_or("")
        );
        assert!(!browser.text("#summary").await.is_empty());
        assert!(browser.text("#original-title").await.contains("French"));
        // The entities come from the French original too, grouped by type.
        let entity_count = browser
            .eval(
                "return document.querySelectorAll('#entities li').length;",
                vec![],
            )
            .await;
        assert_eq!(
            entity_count,
            json!(brief["entities"].as_array().map_or(0, Vec::len))
        );

        // Focusing a sentence from the keyboard lights its counterpart too.
        let focused = browser
            .eval(
                "document.querySelector('#original .sentence[data-sentence=\"1\"]').focus(); \
                 return [...document.querySelectorAll('#translation .sentence.linked')].map(e => e.textContent);",
                vec![],
            )
            .await;
        assert_eq!(focused, json!([want_english[1]]));
        // Clicking the third French sentence marks its English counterpart.
        browser
            .click("#original .sentence[data-sentence=\"2\"]")
            .await;
        let marked = sentence_texts(&browser, "#translation .sentence.evidence").await;
        assert_eq!(marked, vec![want_english[2].to_string()]);
        browser
            .eval(
                "document.querySelector('.columns').scrollIntoView(); return true;",
                vec![],
            )
            .await;
        browser.screenshot("console-translation.png").await;
        // Hovering does too (a mouse over the English sentence lights the French one).
        let linked = "return [...document.querySelectorAll('#original .sentence.linked')].map(e => e.textContent);";
        let hovered = browser
            .eval(
                &format!(
                    "document.querySelector('#translation .sentence[data-sentence=\"4\"]') \
                     .dispatchEvent(new MouseEvent('mouseover', {{ bubbles: true }})); {linked}"
                ),
                vec![],
            )
            .await;
        assert!(
            hovered
                .as_array()
                .is_some_and(|h| h.contains(&json!(want_french[4]))),
            "{hovered}"
        );
        let left = browser
            .eval(
                &format!(
                    "document.querySelector('#translation .sentence[data-sentence=\"4\"]') \
                     .dispatchEvent(new MouseEvent('mouseout', {{ bubbles: true }})); {linked}"
                ),
                vec![],
            )
            .await;
        assert!(
            !left
                .as_array()
                .is_some_and(|h| h.contains(&json!(want_french[4]))),
            "{left}"
        );

        // The Markdown export carries every section; the JSON download is the analysis.
        let markdown = browser.eval("return markdown(current);", vec![]).await;
        let markdown = markdown.as_str().expect("markdown text");
        for heading in [
            "## Summary",
            "## Events",
            "## Event tags",
            "## Entities",
            "## English text",
            "## Original (French)",
        ] {
            assert!(markdown.contains(heading), "{heading} in {markdown}");
        }
        assert!(markdown.contains(want_english[0]));
        browser.click("#copy-markdown").await;
        browser
            .wait_for(
                "the copy feedback",
                "return document.querySelector('#copy-feedback').textContent.length > 0;",
            )
            .await;
        browser.click("#download-json").await;
        let downloaded = wait_for_download(dir.path(), "analysis-").await;
        let saved: Value = serde_json::from_str(&downloaded).expect("the download is JSON");
        assert_eq!(saved["translation"], brief["translation"]);
        assert_eq!(saved["summary"], brief["summary"]);

        // An English article (detected): the tags with their status and evidence.
        browser
            .fill("#article", crate::analysis::CT_ARTICLE_EN_TEXT)
            .await;
        browser.click("#analyse").await;
        browser
            .wait_for(
                "the English brief",
                "return document.querySelector('#original-title').textContent.includes('English');",
            )
            .await;
        let tag_ids = browser
            .eval(
                "return [...document.querySelectorAll('#tags button')].map(b => b.dataset.tag);",
                vec![],
            )
            .await;
        assert!(
            tag_ids
                .as_array()
                .is_some_and(|ids| ids.contains(&json!("military_cooperation"))),
            "{tag_ids}"
        );
        let tag_text = browser
            .text("#tags button[data-tag=\"military_cooperation\"]")
            .await;
        assert!(
            tag_text.to_lowercase().contains("planned"),
            "the exercise is announced: {tag_text}"
        );
        browser
            .click("#tags button[data-tag=\"military_cooperation\"]")
            .await;
        let evidence = sentence_texts(&browser, ".sentence.evidence").await;
        assert_eq!(
            evidence.len(),
            1,
            "one line holds the evidence: {evidence:?}"
        );
        let english_brief = server
            .post_json(
                "/v1/analyze",
                &json!({ "text": crate::analysis::CT_ARTICLE_EN_TEXT, "source": "auto" }),
            )
            .await;
        let tag = english_brief.json["tags"]
            .as_array()
            .and_then(|tags| tags.iter().find(|t| t["id"] == "military_cooperation"))
            .expect("the API tags it too");
        let evidence_sentence = tag["evidence"].as_str().expect("evidence");
        assert!(
            evidence[0].contains(evidence_sentence),
            "{evidence:?} holds {evidence_sentence}"
        );
        assert_eq!(
            browser
                .eval(
                    "return document.querySelector('#tags button[data-tag=\"military_cooperation\"]').getAttribute('aria-pressed');",
                    vec![]
                )
                .await,
            json!("true")
        );
        // The events as rows, one per event of the API's answer, in its order; a row opens its
        // main evidence sentence.
        let events = english_brief.json["events"].as_array().expect("events");
        let rows = browser
            .eval(
                "return [...document.querySelectorAll('#events button')].map(b => [b.dataset.type, b.textContent]);",
                vec![],
            )
            .await;
        let rows: Vec<(String, String)> = serde_json::from_value(rows).expect("rows");
        assert_eq!(rows.len(), events.len(), "{rows:?}");
        for ((kind, text), event) in rows.iter().zip(events) {
            assert_eq!(Some(kind.as_str()), event["type"].as_str());
            if let Some(source) = event["source"]["text"].as_str() {
                assert!(text.contains(source), "{text} names {source}");
            }
        }
        let cooperate = rows
            .iter()
            .position(|(kind, _)| kind == "COOPERATE")
            .expect("the exercise is a row");
        assert!(rows[cooperate].1.contains("next month"), "{rows:?}");
        browser
            .click(&format!("#events button[data-event=\"{cooperate}\"]"))
            .await;
        let highlighted = sentence_texts(&browser, ".sentence.evidence").await;
        let main = events[cooperate]["evidence"][0]["text"]
            .as_str()
            .expect("evidence");
        assert!(
            highlighted.iter().any(|h| h.contains(main)),
            "{highlighted:?} holds {main}"
        );
        // Entities grouped by type: one heading per type, every entity listed.
        let entities = english_brief.json["entities"].as_array().expect("entities");
        let types: std::collections::BTreeSet<&str> =
            entities.iter().filter_map(|e| e["type"].as_str()).collect();
        assert!(!types.is_empty(), "{}", english_brief.text);
        let shown = browser
            .eval(
                "return [...document.querySelectorAll('#entities ul')].map(u => [u.dataset.type, u.children.length]);",
                vec![],
            )
            .await;
        let shown: Vec<(String, usize)> = serde_json::from_value(shown).expect("groups");
        assert_eq!(
            shown
                .iter()
                .map(|(t, _)| t.as_str())
                .collect::<std::collections::BTreeSet<_>>(),
            types
        );
        assert_eq!(shown.iter().map(|(_, n)| n).sum::<usize>(), entities.len());
        browser
            .eval("window.scrollTo(0, 0); return true;", vec![])
            .await;
        browser.screenshot("console-analysis.png").await;

        browser.close().await;
        server.shutdown().await.expect("serve returns Ok");
    });
}

/// Waits for a finished download whose name starts with `prefix` in `dir`; returns its text.
async fn wait_for_download(dir: &Path, prefix: &str) -> String {
    let deadline = Instant::now() + STEP_LIMIT;
    loop {
        let found = std::fs::read_dir(dir)
            .expect("download dir")
            .filter_map(Result::ok)
            .map(|e| e.path())
            .find(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with(prefix) && !n.ends_with(".crdownload"))
            });
        if let Some(path) = found {
            return std::fs::read_to_string(&path).expect("download readable");
        }
        assert!(
            Instant::now() < deadline,
            "no download {prefix}* in {}",
            dir.display()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[test]
fn the_console_shows_why_an_article_was_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let Some(programs) = programs("the_console_shows_why_an_article_was_refused") else {
        return;
    };
    let _browser = one_browser();
    run_async(CONSOLE_TEST_LIMIT, async {
        let server = TestServer::start(ServerConfig {
            limits: Limits {
                max_chars: 500,
                ..Limits::default()
            },
            ..console_config(dir.path())
        })
        .await;
        let browser = Browser::start(programs, dir.path()).await;
        browser.goto(&server.url("/")).await;

        // Nothing pasted: the page says what to do without asking the server.
        browser.click("#analyse").await;
        assert!(browser.text("#error").await.contains("Paste an article"));

        // Over the server's limit: its reason, with what to do about it.
        browser.fill("#article", CT_ARTICLE_FR).await;
        browser.click("#analyse").await;
        browser
            .wait_for(
                "the error message",
                "return !document.querySelector('#error').hidden \
                 && document.querySelector('#error').textContent.includes('Too long');",
            )
            .await;
        let message = browser.text("#error").await;
        assert!(message.contains("500"), "names the limit: {message}");
        assert!(message.contains("Shorten"), "says what to do: {message}");
        assert_eq!(
            browser
                .eval("return document.querySelector('#results').hidden;", vec![])
                .await,
            json!(true),
            "no brief is shown"
        );
        assert_eq!(
            browser
                .eval(
                    "return document.querySelector('#analyse').disabled;",
                    vec![]
                )
                .await,
            json!(false),
            "the button is usable again"
        );

        // A short article then goes through, and the error goes away.
        browser
            .fill("#article", "Le ministre a démissionné mardi.")
            .await;
        browser.click("#analyse").await;
        browser
            .wait_for(
                "the brief",
                "return !document.querySelector('#results').hidden;",
            )
            .await;
        assert!(browser.text("#error").await.is_empty());
        server.shutdown().await.expect("serve returns Ok");

        // A model that cannot be loaded: the status line and the analysis both say so.
        let broken = TestServer::spawn(ServerConfig {
            model: dir.path().join("no-model-here").display().to_string(),
            ..console_config(dir.path())
        })
        .await;
        browser.goto(&broken.url("/")).await;
        browser
            .wait_for(
                "the failed status",
                "return document.querySelector('#status-line').dataset.state === 'failed';",
            )
            .await;
        assert!(browser
            .text("#status-line")
            .await
            .contains("Model failed to load"));
        browser
            .fill("#article", "Le ministre a démissionné mardi.")
            .await;
        browser.click("#analyse").await;
        browser
            .wait_for(
                "the error message",
                "return !document.querySelector('#error').hidden;",
            )
            .await;
        let message = browser.text("#error").await;
        assert!(message.contains("could not be loaded"), "{message}");
        assert!(
            message.contains("no-model-here"),
            "names what is missing: {message}"
        );

        browser.close().await;
        broken.shutdown().await.expect("serve returns Ok");
    });
}

#[test]
fn the_console_runs_a_job_to_done_and_cancels_one_started_elsewhere() {
    let dir = tempfile::tempdir().expect("temp dir");
    let Some(programs) =
        programs("the_console_runs_a_job_to_done_and_cancels_one_started_elsewhere")
    else {
        return;
    };
    let _browser = one_browser();
    run_async(CONSOLE_TEST_LIMIT, async {
        let server = TestServer::start(console_config(dir.path())).await;
        let browser = Browser::start(programs, dir.path()).await;
        // The tabs work from the keyboard: arrow right from Analyse opens Jobs (and its URL).
        browser.goto(&server.url("/")).await;
        browser
            .client
            .find(Locator::Css("#tab-analyse"))
            .await
            .expect("the Analyse tab")
            .send_keys(&(Key::Right + ""))
            .await
            .expect("keys sent");
        let shown = browser
            .eval(
                "return [document.querySelector('#panel-jobs').hidden, \
                 document.querySelector('#panel-analyse').hidden, \
                 document.activeElement.id, location.hash];",
                vec![],
            )
            .await;
        assert_eq!(shown, json!([false, true, "tab-jobs", "#jobs"]));
        // …and the jobs view has its own address.
        browser.goto(&server.url("/#jobs")).await;
        assert_eq!(
            browser
                .eval(
                    "return document.querySelector('#panel-jobs').hidden;",
                    vec![]
                )
                .await,
            json!(false)
        );

        // A small job from a file chosen in the page.
        let input = dir.path().join("articles.jsonl");
        std::fs::write(&input, jsonl(12)).expect("input written");
        browser
            .client
            .find(Locator::Css("#job-file"))
            .await
            .expect("file input")
            .send_keys(&input.display().to_string())
            .await
            .expect("file chosen");
        browser.click("#job-start").await;
        browser
            .wait_for(
                "the job to finish",
                "const row = document.querySelector('#jobs-table tr[data-job=\"1\"]'); \
                 return !!row && row.querySelector('.job-state').textContent === 'done';",
            )
            .await;
        assert!(browser
            .text("#job-created")
            .await
            .contains("Job 1 started: 12 items"));
        assert_eq!(
            browser.text("tr[data-job=\"1\"] .job-counts").await,
            "12 / 0 / 12"
        );
        assert_eq!(
            browser
                .eval(
                    "return document.querySelector('tr[data-job=\"1\"] progress').value;",
                    vec![]
                )
                .await,
            json!(1)
        );
        browser.click("tr[data-job=\"1\"] .job-download").await;
        let results = wait_for_download(dir.path(), "job-1-").await;
        let api_results = server.get("/v1/jobs/1/results").await;
        assert_eq!(results, api_results.text);
        assert_eq!(results.lines().count(), 12);

        // A big job posted over the API shows up, with its rate, and is cancelled from the page.
        let created = submit_jsonl(
            &server.client,
            &server.base_url,
            "task=translate",
            jsonl(400),
        )
        .await;
        assert_eq!(created.status, StatusCode::ACCEPTED, "{}", created.text);
        let id = created.json["id"].as_i64().expect("an id");
        let row = format!("tr[data-job=\"{id}\"]");
        browser
            .wait_for(
                "the API job to run",
                &format!(
                    "const row = document.querySelector('{row}'); \
                     return !!row && row.querySelector('.job-state').textContent === 'running' \
                     && row.querySelector('.job-rate').textContent.includes('items/s');"
                ),
            )
            .await;
        browser.screenshot("console-jobs.png").await;
        browser.click(&format!("{row} .job-cancel")).await;
        browser
            .wait_for(
                "the cancel",
                &format!(
                    "return document.querySelector('{row} .job-state').textContent === 'cancelled';"
                ),
            )
            .await;
        let job = server.get(&format!("/v1/jobs/{id}")).await.json;
        assert_eq!(job["state"], "cancelled", "{job}");
        assert!(
            job["counts"]["queued"].as_u64().unwrap_or(0) > 0,
            "cancelled before the end: {job}"
        );
        assert_eq!(
            browser
                .eval(
                    &format!("return document.querySelector('{row} .job-cancel').hidden;"),
                    vec![]
                )
                .await,
            json!(true)
        );

        browser.close().await;
        server.shutdown().await.expect("serve returns Ok");
    });
}
