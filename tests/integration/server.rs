//! The HTTP server end to end: every test starts `dragoman::server::serve` on an ephemeral
//! loopback port with a tiny fixture model and talks HTTP to it with reqwest. Translations are
//! compared byte for byte with what the library (`pipeline::Translator`) gives for the same
//! input and generation options.

use std::time::{Duration, Instant};

use candle_core::Device;
use dragoman::models::GenerationOptions;
use dragoman::pipeline::{ArticleTranslation, TranslateOptions};
use dragoman::server::{BatchSettings, Limits, ServerConfig};
use reqwest::header::{HeaderMap, CONTENT_TYPE, RETRY_AFTER};
use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::common::{fixture_dir, http_client, library_translator, run_async};

pub(crate) const SWISH: &str = "marian-tiny-swish";
const RELU: &str = "marian-tiny-relu";

/// Upper bound on one test, server start and shutdown included.
pub(crate) const TEST_LIMIT: Duration = Duration::from_secs(120);
/// How long a server may take to load its model and warm up.
const READY_LIMIT: Duration = Duration::from_secs(30);

const ARTICLE: &str =
    "Le président de la République a reçu mardi son homologue allemand à l’Élysée. \
Les deux dirigeants ont évoqué la guerre en Ukraine.\n\n\
« Nous devons agir ensemble, et vite », a déclaré le chef de l’État.\n";
pub(crate) const SENTENCE: &str =
    "Le Sénat doit examiner le projet de réforme des retraites la semaine prochaine.";
const OTHER: &str = "Selon l’Insee, la croissance économique a atteint 3,5 % au premier trimestre.";

/// French news sentences the fixtures were trained on.
fn corpus() -> Vec<&'static str> {
    include_str!("../../scripts/corpus/fr.txt")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect()
}

/// A server configuration over `fixture` with default batching and limits and no API keys.
pub(crate) fn config(fixture: &str) -> ServerConfig {
    ServerConfig {
        model: model_arg(fixture),
        device: Device::Cpu,
        quantization: dragoman::models::Quantization::None,
        batching: BatchSettings::default(),
        limits: Limits::default(),
        api_keys: Vec::new(),
        analysis: None,
        jobs: None,
    }
}

fn model_arg(fixture: &str) -> String {
    fixture_dir(fixture).display().to_string()
}

/// What the library gives for `texts` under `generation` (off the async runtime).
async fn library(
    fixture: &'static str,
    texts: &[&str],
    generation: GenerationOptions,
) -> Vec<ArticleTranslation> {
    let texts: Vec<String> = texts.iter().map(|t| t.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        let translator = library_translator(fixture);
        let options = TranslateOptions {
            generation,
            ..TranslateOptions::default()
        };
        texts
            .iter()
            .map(|t| {
                translator
                    .translate_article(t, &options)
                    .expect("library translates")
            })
            .collect()
    })
    .await
    .expect("library task")
}

async fn library_one(fixture: &'static str, text: &str) -> ArticleTranslation {
    library(fixture, &[text], GenerationOptions::default())
        .await
        .remove(0)
}

/// The options of [`TestServer::assert_still_serves`].
fn still_serves_options() -> GenerationOptions {
    GenerationOptions {
        beams: Some(1),
        max_new_tokens: Some(12),
        ..GenerationOptions::default()
    }
}

/// One HTTP answer: status, headers, raw body and the body as JSON (`Null` when it is not JSON).
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) text: String,
    pub(crate) json: Value,
}

impl Reply {
    pub(crate) async fn read(response: reqwest::Response) -> Self {
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.expect("response body");
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        Self {
            status,
            headers,
            text,
            json,
        }
    }

    /// Asserts the status and the `{"error", "code"}` shape; returns the error message.
    pub(crate) fn assert_error(&self, status: StatusCode, code: &str) -> String {
        assert_eq!(self.status, status, "body: {}", self.text);
        assert_eq!(self.json["code"], code, "body: {}", self.text);
        let message = self.json["error"]
            .as_str()
            .unwrap_or_else(|| panic!("no error message in {}", self.text));
        assert!(!message.is_empty());
        assert!(
            self.headers
                .get(CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.starts_with("application/json")),
            "error content type: {:?}",
            self.headers.get(CONTENT_TYPE)
        );
        message.to_string()
    }
}

/// A running `serve` task on 127.0.0.1 with its shutdown trigger.
pub(crate) struct TestServer {
    pub(crate) base_url: String,
    shutdown: Option<oneshot::Sender<()>>,
    handle: Option<JoinHandle<std::io::Result<()>>>,
    pub(crate) client: reqwest::Client,
}

impl TestServer {
    /// Starts a server and waits until `/ready` answers 200.
    pub(crate) async fn start(config: ServerConfig) -> Self {
        let server = Self::spawn(config).await;
        server.wait_ready().await;
        server
    }

    /// Starts a server without waiting for its model.
    pub(crate) async fn spawn(config: ServerConfig) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("local address");
        let (shutdown, signal) = oneshot::channel::<()>();
        let handle = tokio::spawn(dragoman::server::serve(config, listener, async move {
            // A dropped sender (a test that panicked) shuts down too.
            let _ = signal.await;
        }));
        Self {
            base_url: format!("http://{address}"),
            shutdown: Some(shutdown),
            handle: Some(handle),
            client: http_client(),
        }
    }

    async fn wait_ready(&self) {
        let deadline = Instant::now() + READY_LIMIT;
        loop {
            if let Ok(response) = self.client.get(self.url("/ready")).send().await {
                let reply = Reply::read(response).await;
                if reply.status == StatusCode::OK {
                    return;
                }
                assert_ne!(
                    reply.json["status"], "failed",
                    "model loading failed: {}",
                    reply.text
                );
            }
            assert!(
                Instant::now() < deadline,
                "the server was not ready within {READY_LIMIT:?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    pub(crate) async fn get(&self, path: &str) -> Reply {
        Reply::read(self.client.get(self.url(path)).send().await.expect("GET")).await
    }

    pub(crate) async fn post_json(&self, path: &str, body: &Value) -> Reply {
        post_json(&self.client, &self.url(path), body).await
    }

    pub(crate) async fn post_raw(&self, path: &str, content_type: &str, body: Vec<u8>) -> Reply {
        let response = self
            .client
            .post(self.url(path))
            .header(CONTENT_TYPE, content_type)
            .body(body)
            .send()
            .await
            .expect("POST");
        Reply::read(response).await
    }

    async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> Reply {
        let response = self
            .client
            .post(self.url(path))
            .form(fields)
            .send()
            .await
            .expect("POST form");
        Reply::read(response).await
    }

    /// Translates `SENTENCE` (greedy, short) and checks the result against the library: the
    /// server still serves.
    pub(crate) async fn assert_still_serves(&self) {
        static EXPECTED: tokio::sync::OnceCell<ArticleTranslation> =
            tokio::sync::OnceCell::const_new();
        let expected = EXPECTED
            .get_or_init(|| async {
                library(SWISH, &[SENTENCE], still_serves_options())
                    .await
                    .remove(0)
            })
            .await;
        let reply = self
            .post_json(
                "/v1/translate",
                &json!({ "text": SENTENCE, "beams": 1, "max_new_tokens": 12 }),
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
        assert_matches_library(&reply.json["translations"][0], expected);
    }

    /// Sends the shutdown signal without waiting.
    fn signal_shutdown(&mut self) {
        if let Some(trigger) = self.shutdown.take() {
            let _ = trigger.send(());
        }
    }

    /// Triggers shutdown and waits (bounded) for `serve` to return.
    pub(crate) async fn shutdown(mut self) -> std::io::Result<()> {
        self.signal_shutdown();
        let handle = self.handle.take().expect("serve task");
        tokio::time::timeout(Duration::from_secs(30), handle)
            .await
            .expect("serve returns within 30 s of the shutdown signal")
            .expect("the serve task does not panic")
    }
}

async fn post_json(client: &reqwest::Client, url: &str, body: &Value) -> Reply {
    Reply::read(client.post(url).json(body).send().await.expect("POST")).await
}

/// Checks one `/v1/translate` item against the library's translation of the same text.
fn assert_matches_library(item: &Value, expected: &ArticleTranslation) {
    assert_eq!(
        item["text"].as_str(),
        Some(expected.text.as_str()),
        "item: {item}"
    );
    assert!(item.get("error").is_none(), "item: {item}");
    assert_eq!(item["sentences"], expected.sentences.len());
    assert_eq!(
        item["source_tokens"],
        expected
            .sentences
            .iter()
            .map(|s| s.source_tokens)
            .sum::<usize>()
    );
    assert_eq!(
        item["generated_tokens"],
        expected
            .sentences
            .iter()
            .map(|s| s.generated_tokens)
            .sum::<usize>()
    );
    // Scores may move in the last bits when the server batches a text with other texts.
    let min_score = expected.sentences.iter().map(|s| s.score).reduce(f32::min);
    match (item["min_score"].as_f64(), min_score) {
        (Some(got), Some(want)) => assert!(
            (got as f32 - want).abs() <= 1e-4,
            "min_score {got} vs the library's {want}"
        ),
        (got, want) => assert_eq!(got.map(|s| s as f32), want, "item: {item}"),
    }
    let warnings: Vec<String> = item
        .get("warnings")
        .map(|w| serde_json::from_value(w.clone()).expect("warnings are strings"))
        .unwrap_or_default();
    assert_eq!(warnings, expected.warnings);
    assert!(item["time_ms"].as_f64().is_some_and(|t| t >= 0.0));
}

/// Tags of an HTML document in order.
fn tags(html: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        let end = rest[start..]
            .find('>')
            .map_or(rest.len(), |e| start + e + 1);
        out.push(&rest[start..end]);
        rest = &rest[end..];
    }
    out
}

/// The value of the first Prometheus sample named `name` whose labels contain every one of `labels`.
fn sample(metrics: &str, name: &str, labels: &[&str]) -> Option<f64> {
    metrics.lines().find_map(|line| {
        let (series, value) = line.rsplit_once(' ')?;
        let metric = series.split('{').next()?;
        (metric == name && labels.iter().all(|l| series.contains(l)))
            .then(|| value.parse().ok())
            .flatten()
    })
}

// ---------------------------------------------------------------------------------------------
// 1. Status endpoints

#[test]
fn health_ready_and_models_describe_the_loaded_fixture() {
    run_async(TEST_LIMIT, async {
        for fixture in [SWISH, RELU] {
            let server = TestServer::start(config(fixture)).await;
            let health = server.get("/health").await;
            assert_eq!(health.status, StatusCode::OK);
            assert_eq!(health.json["status"], "ok");
            assert_eq!(health.json["version"], env!("CARGO_PKG_VERSION"));

            let ready = server.get("/ready").await;
            assert_eq!(ready.status, StatusCode::OK, "{}", ready.text);
            assert_eq!(ready.json["status"], "ok");
            assert!(ready.json.get("detail").is_none());

            let models = server.get("/v1/models").await;
            assert_eq!(models.status, StatusCode::OK);
            let entries = models.json.as_array().expect("an array of models");
            assert_eq!(entries.len(), 1, "{}", models.text);
            let info = &library_translator(fixture).model().info;
            assert_eq!(entries[0]["task"], "translation");
            assert_eq!(entries[0]["source"], model_arg(fixture));
            assert_eq!(entries[0]["source"], info.source);
            assert_eq!(entries[0]["weights_file"], info.weights_file);
            assert_eq!(entries[0]["languages"], "fr→en");
            assert_eq!(entries[0]["max_positions"], info.max_positions);
            assert!(entries[0]["load_time_ms"].as_f64().is_some_and(|t| t > 0.0));
            server.shutdown().await.expect("serve returns Ok");
        }
        // The fixtures differ, so the answers above were not a coincidence.
        assert_ne!(
            library_translator(SWISH).model().info.max_positions,
            library_translator(RELU).model().info.max_positions
        );
    });
}

#[test]
fn metrics_count_requests_by_route_and_record_batch_sizes() {
    run_async(TEST_LIMIT, async {
        let server = TestServer::start(config(SWISH)).await;
        assert_eq!(server.get("/health").await.status, StatusCode::OK);
        let reply = server
            .post_json("/v1/translate", &json!({ "texts": [SENTENCE, OTHER] }))
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
        let missing = server.post_json("/translate", &json!({})).await;
        assert_eq!(missing.status, StatusCode::BAD_REQUEST);

        let metrics = server.get("/metrics").await;
        assert_eq!(metrics.status, StatusCode::OK);
        assert!(
            metrics
                .headers
                .get(CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.starts_with("text/plain")),
            "{:?}",
            metrics.headers
        );
        let text = &metrics.text;
        let translated = sample(
            text,
            "dragoman_requests_total",
            &[
                r#"route="/v1/translate""#,
                r#"method="POST""#,
                r#"status="200""#,
            ],
        );
        assert!(translated.is_some_and(|n| n >= 1.0), "{text}");
        let health = sample(
            text,
            "dragoman_requests_total",
            &[r#"route="/health""#, r#"method="GET""#, r#"status="200""#],
        );
        assert!(health.is_some_and(|n| n >= 1.0), "{text}");
        let refused = sample(
            text,
            "dragoman_requests_total",
            &[r#"route="/translate""#, r#"status="400""#],
        );
        assert!(refused.is_some_and(|n| n >= 1.0), "{text}");
        // Both sentences went through the model: at least one batch was recorded.
        let batches = sample(text, "dragoman_batch_size_count", &[]);
        assert!(batches.is_some_and(|n| n >= 1.0), "{text}");
        let sentences = sample(text, "dragoman_batch_size_sum", &[]);
        assert!(sentences.is_some_and(|n| n >= 2.0), "{text}");
        assert!(text.contains("dragoman_request_duration_seconds"), "{text}");
        server.shutdown().await.expect("serve returns Ok");
    });
}

#[test]
fn openapi_lists_the_routes_docs_is_html_and_unknown_routes_are_json_404() {
    run_async(TEST_LIMIT, async {
        let server = TestServer::start(config(SWISH)).await;
        let openapi = server.get("/openapi.json").await;
        assert_eq!(openapi.status, StatusCode::OK);
        assert!(
            openapi.json["openapi"]
                .as_str()
                .is_some_and(|v| v.starts_with('3')),
            "{}",
            openapi.text
        );
        let paths = openapi.json["paths"].as_object().expect("paths object");
        for path in [
            "/v1/translate",
            "/translate",
            "/languages",
            "/detect",
            "/health",
            "/ready",
            "/v1/status",
        ] {
            assert!(paths.contains_key(path), "{path} missing from {paths:?}");
        }
        assert!(paths["/v1/translate"].get("post").is_some());
        assert!(paths["/languages"].get("get").is_some());

        let docs = server.get("/docs").await;
        assert_eq!(docs.status, StatusCode::OK);
        assert!(docs
            .headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/html")));
        assert!(docs.text.contains("<html"), "{}", docs.text);
        assert!(docs.text.contains("/openapi.json"));

        let missing = server.get("/no/such/route").await;
        let message = missing.assert_error(StatusCode::NOT_FOUND, "not_found");
        assert!(message.contains("/docs"), "{message}");
        let posted = server
            .post_json("/v2/translate", &json!({"text": "x"}))
            .await;
        posted.assert_error(StatusCode::NOT_FOUND, "not_found");
        server.shutdown().await.expect("serve returns Ok");
    });
}

#[test]
fn v1_status_names_every_model_and_the_console_is_served_from_the_binary() {
    run_async(TEST_LIMIT, async {
        let server = TestServer::start(analysis_config()).await;
        let status = server.get("/v1/status").await;
        assert_eq!(status.status, StatusCode::OK, "{}", status.text);
        let body = &status.json;
        assert_eq!(body["status"], "ok");
        assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
        assert_eq!(body["analysis"], true);
        let models = crate::analysis::full_models();
        let tasks: Vec<(&str, &str)> = body["models"]
            .as_array()
            .expect("models")
            .iter()
            .filter_map(|m| Some((m["task"].as_str()?, m["source"].as_str()?)))
            .collect();
        let summarizer = models.summarizer.clone().expect("a summarizer");
        let ner = models.ner.clone().expect("a NER model");
        let translation = model_arg(SWISH);
        assert_eq!(
            tasks,
            vec![
                ("translation", translation.as_str()),
                ("summarization", summarizer.as_str()),
                ("embedding", models.embedding.as_str()),
                ("ner", ner.as_str()),
            ],
            "{}",
            status.text
        );
        assert_eq!(body["queue"]["sentences"], 0);
        assert_eq!(body["queue"]["analyses"], 0);
        assert!(
            body.get("jobs").is_none(),
            "no jobs database: {}",
            status.text
        );
        assert_eq!(body["limits"]["max_chars"], Limits::default().max_chars);
        assert_eq!(body["api_key_required"], false);

        // The console: HTML, script and style from the binary, nothing from elsewhere.
        let page = server.get("/").await;
        assert_eq!(page.status, StatusCode::OK);
        let header = |reply: &Reply, name: &str| {
            reply
                .headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string()
        };
        assert!(header(&page, "content-type").starts_with("text/html"));
        assert!(header(&page, "content-security-policy").contains("default-src 'self'"));
        assert!(page.text.contains("src=\"/console/console.js\""));
        assert!(page.text.contains("href=\"/console/console.css\""));
        for (path, kind) in [
            ("/console/console.js", "text/javascript"),
            ("/console/console.css", "text/css"),
        ] {
            let asset = server.get(path).await;
            assert_eq!(asset.status, StatusCode::OK, "{path}");
            assert!(header(&asset, "content-type").starts_with(kind), "{path}");
            for reply in [&page, &asset] {
                assert!(
                    !reply.text.contains("http://") && !reply.text.contains("https://"),
                    "{path}: the console loads nothing from other hosts"
                );
            }
        }
        server.shutdown().await.expect("serve returns Ok");

        // With API keys the page still loads (it asks for the key); the status needs one.
        let keyed = TestServer::start(ServerConfig {
            api_keys: vec!["sesame".into()],
            ..config(SWISH)
        })
        .await;
        assert_eq!(keyed.get("/").await.status, StatusCode::OK);
        keyed
            .get("/v1/status")
            .await
            .assert_error(StatusCode::UNAUTHORIZED, "missing_api_key");
        let with_key = Reply::read(
            keyed
                .client
                .get(keyed.url("/v1/status"))
                .bearer_auth("sesame")
                .send()
                .await
                .expect("GET"),
        )
        .await;
        assert_eq!(with_key.status, StatusCode::OK, "{}", with_key.text);
        assert_eq!(with_key.json["api_key_required"], true);
        assert_eq!(with_key.json["analysis"], false);
        keyed.shutdown().await.expect("serve returns Ok");
    });
}

#[test]
fn a_model_that_cannot_load_makes_ready_and_translations_answer_503() {
    run_async(TEST_LIMIT, async {
        let missing = tempfile::tempdir().expect("temp dir");
        let mut cfg = config(SWISH);
        cfg.model = missing.path().join("no-model-here").display().to_string();
        let server = TestServer::spawn(cfg).await;

        // Health answers at once; readiness reports the failure once loading has given up.
        assert_eq!(server.get("/health").await.json["status"], "ok");
        let deadline = Instant::now() + READY_LIMIT;
        let ready = loop {
            let ready = server.get("/ready").await;
            assert_eq!(
                ready.status,
                StatusCode::SERVICE_UNAVAILABLE,
                "{}",
                ready.text
            );
            if ready.json["status"] == "failed" {
                break ready;
            }
            assert_eq!(ready.json["status"], "loading", "{}", ready.text);
            assert!(Instant::now() < deadline, "loading never failed");
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        let detail = ready.json["detail"].as_str().expect("a failure detail");
        assert!(detail.contains("no-model-here"), "{detail}");

        let translate = server
            .post_json("/v1/translate", &json!({ "text": SENTENCE }))
            .await;
        translate.assert_error(StatusCode::SERVICE_UNAVAILABLE, "not_ready");
        assert_eq!(
            translate
                .headers
                .get(RETRY_AFTER)
                .and_then(|v| v.to_str().ok()),
            Some("5")
        );
        let libre = server
            .post_json("/translate", &json!({ "q": SENTENCE, "source": "fr" }))
            .await;
        libre.assert_error(StatusCode::SERVICE_UNAVAILABLE, "not_ready");
        assert_eq!(server.get("/v1/models").await.json, json!([]));
        server.shutdown().await.expect("serve returns Ok");
    });
}

// ---------------------------------------------------------------------------------------------
// 2. /v1/translate

#[test]
fn v1_translate_text_and_texts_match_the_library_in_input_order() {
    run_async(TEST_LIMIT, async {
        for fixture in [SWISH, RELU] {
            let texts = [ARTICLE, SENTENCE, OTHER];
            let expected = library(fixture, &texts, GenerationOptions::default()).await;
            let server = TestServer::start(config(fixture)).await;

            let one = server
                .post_json("/v1/translate", &json!({ "text": ARTICLE }))
                .await;
            assert_eq!(one.status, StatusCode::OK, "{}", one.text);
            assert_eq!(one.json["model"], model_arg(fixture));
            let items = one.json["translations"].as_array().expect("translations");
            assert_eq!(items.len(), 1);
            assert_matches_library(&items[0], &expected[0]);
            // The line structure of the article survives.
            assert_eq!(
                items[0]["text"].as_str().unwrap().split('\n').count(),
                ARTICLE.split('\n').count()
            );
            assert!(items[0].get("details").is_none());

            let many = server
                .post_json(
                    "/v1/translate",
                    &json!({ "texts": texts, "source": "fr", "target": "en" }),
                )
                .await;
            assert_eq!(many.status, StatusCode::OK, "{}", many.text);
            let items = many.json["translations"].as_array().expect("translations");
            assert_eq!(items.len(), texts.len());
            for (item, expected) in items.iter().zip(&expected) {
                assert_matches_library(item, expected);
            }
            // Empty and blank texts need no model and come back as they are (line breaks kept).
            let blank = server
                .post_json(
                    "/v1/translate",
                    &json!({ "texts": ["", "\n \n", SENTENCE] }),
                )
                .await;
            assert_eq!(blank.status, StatusCode::OK, "{}", blank.text);
            assert_eq!(blank.json["translations"][0]["text"], "");
            assert_eq!(blank.json["translations"][0]["sentences"], 0);
            assert_eq!(blank.json["translations"][1]["text"], "\n\n");
            assert_matches_library(&blank.json["translations"][2], &expected[1]);
            // Distinct translations, so the order check above means something.
            let distinct: std::collections::HashSet<&str> =
                expected.iter().map(|e| e.text.as_str()).collect();
            assert_eq!(distinct.len(), texts.len());
            server.shutdown().await.expect("serve returns Ok");
        }
    });
}

#[test]
fn v1_translate_details_give_each_sentence_with_its_score() {
    run_async(TEST_LIMIT, async {
        let expected = library_one(SWISH, ARTICLE).await;
        assert_eq!(expected.sentences.len(), 3);
        let server = TestServer::start(config(SWISH)).await;
        let reply = server
            .post_json(
                "/v1/translate",
                &json!({ "text": ARTICLE, "details": true }),
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
        let item = &reply.json["translations"][0];
        assert_matches_library(item, &expected);
        let details = item["details"].as_array().expect("details");
        assert_eq!(details.len(), expected.sentences.len());
        for (detail, sentence) in details.iter().zip(&expected.sentences) {
            assert_eq!(detail["source"].as_str(), Some(sentence.source.as_str()));
            assert_eq!(
                detail["translation"].as_str(),
                Some(sentence.translation.as_str())
            );
            let score = detail["score"].as_f64().expect("score") as f32;
            assert_eq!(score, sentence.score, "{detail}");
            assert!(score < 0.0, "a log-probability score: {score}");
        }
        server.shutdown().await.expect("serve returns Ok");
    });
}

#[test]
fn v1_translate_honours_beams_and_max_new_tokens() {
    run_async(TEST_LIMIT, async {
        let server = TestServer::start(config(SWISH)).await;
        let cases = [
            (
                json!({ "beams": 1 }),
                GenerationOptions {
                    beams: Some(1),
                    ..GenerationOptions::default()
                },
            ),
            (
                json!({ "beams": 1, "max_new_tokens": 3 }),
                GenerationOptions {
                    beams: Some(1),
                    max_new_tokens: Some(3),
                    ..GenerationOptions::default()
                },
            ),
            (
                json!({ "beams": 2, "max_new_tokens": 6 }),
                GenerationOptions {
                    beams: Some(2),
                    max_new_tokens: Some(6),
                    ..GenerationOptions::default()
                },
            ),
        ];
        let mut texts_seen = Vec::new();
        for (overrides, generation) in cases {
            let expected = library(SWISH, &[ARTICLE], generation.clone())
                .await
                .remove(0);
            let mut body = json!({ "text": ARTICLE });
            for (key, value) in overrides.as_object().unwrap() {
                body[key] = value.clone();
            }
            let reply = server.post_json("/v1/translate", &body).await;
            assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
            let item = &reply.json["translations"][0];
            assert_matches_library(item, &expected);
            if let Some(cap) = generation.max_new_tokens {
                let generated = item["generated_tokens"].as_u64().unwrap() as usize;
                assert!(generated <= cap * expected.sentences.len(), "{item}");
            }
            texts_seen.push(item["text"].as_str().unwrap().to_string());
        }
        // The options changed the output: greedy, capped greedy and capped beam search differ.
        assert_ne!(texts_seen[0], texts_seen[1]);
        assert_ne!(texts_seen[1], texts_seen[2]);
        // Two new tokens at most per sentence (the model's forced EOS included).
        let capped = server
            .post_json(
                "/v1/translate",
                &json!({ "texts": [SENTENCE, OTHER], "beams": 1, "max_new_tokens": 2 }),
            )
            .await;
        assert_eq!(capped.status, StatusCode::OK, "{}", capped.text);
        for item in capped.json["translations"].as_array().unwrap() {
            assert_eq!(item["sentences"], 1);
            let generated = item["generated_tokens"].as_u64().unwrap();
            assert!((1..=2).contains(&generated), "{item}");
        }
        // Beams over the server's limit are refused.
        let too_wide = server
            .post_json("/v1/translate", &json!({ "text": SENTENCE, "beams": 9 }))
            .await;
        let message = too_wide.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field");
        assert!(message.contains('8'), "{message}");
        server.shutdown().await.expect("serve returns Ok");
    });
}

// ---------------------------------------------------------------------------------------------
// 3. LibreTranslate

#[test]
fn libre_translate_json_string_and_array_match_the_library() {
    run_async(TEST_LIMIT, async {
        let expected = library(SWISH, &[SENTENCE, OTHER], GenerationOptions::default()).await;
        let server = TestServer::start(config(SWISH)).await;
        let one = server
            .post_json(
                "/translate",
                &json!({ "q": SENTENCE, "source": "fr", "target": "en" }),
            )
            .await;
        assert_eq!(one.status, StatusCode::OK, "{}", one.text);
        assert_eq!(one.json, json!({ "translatedText": expected[0].text }));

        let many = server
            .post_json(
                "/translate",
                &json!({ "q": [SENTENCE, OTHER], "source": "fr", "target": "en", "format": "text" }),
            )
            .await;
        assert_eq!(many.status, StatusCode::OK, "{}", many.text);
        assert_eq!(
            many.json,
            json!({ "translatedText": [expected[0].text, expected[1].text] })
        );
        server.shutdown().await.expect("serve returns Ok");
    });
}

#[test]
fn libre_translate_and_detect_accept_form_bodies() {
    run_async(TEST_LIMIT, async {
        let expected = library_one(SWISH, SENTENCE).await;
        let server = TestServer::start(config(SWISH)).await;
        let reply = server
            .post_form(
                "/translate",
                &[("q", SENTENCE), ("source", "fr"), ("target", "en")],
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
        assert_eq!(
            reply.json["translatedText"].as_str(),
            Some(expected.text.as_str())
        );

        let auto = server
            .post_form("/translate", &[("q", SENTENCE), ("source", "auto")])
            .await;
        assert_eq!(auto.status, StatusCode::OK, "{}", auto.text);
        assert_eq!(
            auto.json["translatedText"].as_str(),
            Some(expected.text.as_str())
        );
        assert_eq!(auto.json["detectedLanguage"]["language"], "fr");

        let detect = server.post_form("/detect", &[("q", SENTENCE)]).await;
        assert_eq!(detect.status, StatusCode::OK, "{}", detect.text);
        assert_eq!(detect.json[0]["language"], "fr");

        let missing = server.post_form("/translate", &[("source", "fr")]).await;
        assert_eq!(missing.status, StatusCode::BAD_REQUEST, "{}", missing.text);
        assert!(missing.json["error"]
            .as_str()
            .is_some_and(|e| e.contains('q')));
        server.shutdown().await.expect("serve returns Ok");
    });
}

#[test]
fn libre_translate_auto_source_reports_french_as_detected() {
    run_async(TEST_LIMIT, async {
        let expected = library(SWISH, &[SENTENCE, OTHER], GenerationOptions::default()).await;
        let server = TestServer::start(config(SWISH)).await;
        let one = server
            .post_json(
                "/translate",
                &json!({ "q": SENTENCE, "source": "auto", "target": "en" }),
            )
            .await;
        assert_eq!(one.status, StatusCode::OK, "{}", one.text);
        assert_eq!(
            one.json["translatedText"].as_str(),
            Some(expected[0].text.as_str())
        );
        let detected = &one.json["detectedLanguage"];
        assert_eq!(detected["language"], "fr", "{}", one.text);
        let confidence = detected["confidence"].as_f64().expect("confidence");
        assert!(confidence > 0.0 && confidence <= 100.0, "{confidence}");

        // `source` defaults to auto; an array gets one detection per text.
        let many = server
            .post_json("/translate", &json!({ "q": [SENTENCE, OTHER] }))
            .await;
        assert_eq!(many.status, StatusCode::OK, "{}", many.text);
        assert_eq!(
            many.json["translatedText"],
            json!([expected[0].text, expected[1].text])
        );
        let detected = many.json["detectedLanguage"].as_array().expect("array");
        assert_eq!(detected.len(), 2);
        assert!(
            detected.iter().all(|d| d["language"] == "fr"),
            "{}",
            many.text
        );

        // An explicit source reports no detection.
        let explicit = server
            .post_json("/translate", &json!({ "q": SENTENCE, "source": "fr" }))
            .await;
        assert!(
            explicit.json.get("detectedLanguage").is_none(),
            "{}",
            explicit.text
        );
        server.shutdown().await.expect("serve returns Ok");
    });
}

#[test]
fn libre_translate_html_keeps_the_tags_in_order() {
    run_async(TEST_LIMIT, async {
        let runs = [
            "Le président a reçu son homologue allemand.",
            "Les syndicats",
            "appellent à une nouvelle journée de grève jeudi.",
        ];
        let html = format!(
            "<div class=\"article\"><p>{}</p>\n<p><b>{}</b> {}</p><!-- fin --></div>",
            runs[0], runs[1], runs[2]
        );
        let expected = library(SWISH, &runs, GenerationOptions::default()).await;
        let server = TestServer::start(config(SWISH)).await;
        let reply = server
            .post_json(
                "/translate",
                &json!({ "q": html, "source": "fr", "target": "en", "format": "html" }),
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
        let translated = reply.json["translatedText"].as_str().expect("a string");
        assert_eq!(tags(translated), tags(&html), "{translated}");
        let escape = dragoman::text::html::escape;
        assert_eq!(
            translated,
            format!(
                "<div class=\"article\"><p>{}</p>\n<p><b>{}</b> {}</p><!-- fin --></div>",
                escape(&expected[0].text),
                escape(&expected[1].text),
                escape(&expected[2].text)
            )
        );
        // The French is gone from the text runs.
        assert!(!translated.contains(runs[0]));
        server.shutdown().await.expect("serve returns Ok");
    });
}

#[test]
fn libre_translate_alternatives_returns_two_more_translations() {
    run_async(TEST_LIMIT, async {
        let expected = library(
            SWISH,
            &[SENTENCE],
            GenerationOptions {
                beams: Some(4),
                num_return_sequences: Some(3),
                ..GenerationOptions::default()
            },
        )
        .await
        .remove(0);
        assert_eq!(expected.sentences[0].alternatives.len(), 2);
        let server = TestServer::start(config(SWISH)).await;
        let reply = server
            .post_json(
                "/translate",
                &json!({ "q": SENTENCE, "source": "fr", "target": "en", "alternatives": 2 }),
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
        assert_eq!(
            reply.json["translatedText"].as_str(),
            Some(expected.text.as_str())
        );
        let alternatives = reply.json["alternatives"].as_array().expect("alternatives");
        assert_eq!(alternatives.len(), 2, "{}", reply.text);
        assert!(alternatives.iter().all(Value::is_string));
        assert_eq!(
            reply.json["alternatives"],
            json!(expected.sentences[0].alternatives)
        );
        server.shutdown().await.expect("serve returns Ok");
    });
}

#[test]
fn libre_languages_and_detect_name_french_and_english() {
    run_async(TEST_LIMIT, async {
        let server = TestServer::start(config(SWISH)).await;
        let languages = server.get("/languages").await;
        assert_eq!(languages.status, StatusCode::OK);
        let list = languages.json.as_array().expect("a list");
        let french = list
            .iter()
            .find(|l| l["code"] == "fr")
            .unwrap_or_else(|| panic!("no fr in {}", languages.text));
        assert_eq!(french["name"], "French");
        assert_eq!(french["targets"], json!(["en"]));

        let french = server.post_json("/detect", &json!({ "q": ARTICLE })).await;
        assert_eq!(french.status, StatusCode::OK, "{}", french.text);
        let detected = french.json.as_array().expect("a list");
        assert_eq!(detected.len(), 1);
        assert_eq!(detected[0]["language"], "fr");
        assert!(detected[0]["confidence"].as_f64().is_some_and(|c| c > 0.0));

        let english = server
            .post_json(
                "/detect",
                &json!({ "q": "The president received his German counterpart on Tuesday, and the two leaders discussed the war in Ukraine." }),
            )
            .await;
        assert_eq!(english.status, StatusCode::OK, "{}", english.text);
        assert_eq!(english.json[0]["language"], "en", "{}", english.text);

        let missing = server.post_json("/detect", &json!({})).await;
        assert_eq!(missing.status, StatusCode::BAD_REQUEST, "{}", missing.text);
        server.shutdown().await.expect("serve returns Ok");
    });
}

#[test]
fn libre_translate_refuses_missing_q_and_unsupported_languages_with_400() {
    run_async(TEST_LIMIT, async {
        let server = TestServer::start(config(SWISH)).await;
        let missing = server
            .post_json("/translate", &json!({ "source": "fr", "target": "en" }))
            .await;
        let message = missing.assert_error(StatusCode::BAD_REQUEST, "invalid_request");
        assert!(message.contains("q"), "{message}");

        let german = server
            .post_json(
                "/translate",
                &json!({ "q": SENTENCE, "source": "fr", "target": "de" }),
            )
            .await;
        let message = german.assert_error(StatusCode::BAD_REQUEST, "invalid_request");
        assert!(
            message.contains("de") && message.contains("fr→en"),
            "{message}"
        );

        let spanish = server
            .post_json(
                "/translate",
                &json!({ "q": SENTENCE, "source": "es", "target": "en" }),
            )
            .await;
        let message = spanish.assert_error(StatusCode::BAD_REQUEST, "invalid_request");
        assert!(message.contains("es"), "{message}");

        let format = server
            .post_json(
                "/translate",
                &json!({ "q": SENTENCE, "source": "fr", "format": "pdf" }),
            )
            .await;
        format.assert_error(StatusCode::BAD_REQUEST, "invalid_request");

        // LibreTranslate answers wrong types and empty lists with 400 too (not 422).
        for body in [
            json!({ "q": [], "target": "en" }),
            json!({ "q": 5, "target": "en" }),
        ] {
            let reply = server.post_json("/translate", &body).await;
            reply.assert_error(StatusCode::BAD_REQUEST, "invalid_request");
        }
        server.assert_still_serves().await;
        server.shutdown().await.expect("serve returns Ok");
    });
}

#[test]
fn a_known_route_with_the_wrong_method_is_a_json_405() {
    run_async(TEST_LIMIT, async {
        let server = TestServer::start(config(SWISH)).await;
        let response = server
            .client
            .get(format!("{}/v1/translate", server.base_url))
            .send()
            .await
            .expect("request");
        Reply::read(response)
            .await
            .assert_error(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
        server.shutdown().await.expect("serve returns Ok");
    });
}

// ---------------------------------------------------------------------------------------------
// 4. Concurrency

#[test]
fn twenty_parallel_clients_get_the_sequential_results() {
    run_async(TEST_LIMIT, async {
        let server = TestServer::start(config(SWISH)).await;
        let corpus = corpus();
        // Client i sends two texts of its own: one sentence, and two sentences as one text.
        let bodies: Vec<Value> = (0..20)
            .map(|i| {
                json!({
                    "texts": [corpus[i], format!("{} {}", corpus[20 + i], corpus[40 + i])],
                    "beams": 2,
                    "max_new_tokens": 12,
                })
            })
            .collect();
        let url = server.url("/v1/translate");
        let texts_of = |reply: &Reply| -> Vec<String> {
            assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
            reply.json["translations"]
                .as_array()
                .expect("translations")
                .iter()
                .map(|t| t["text"].as_str().expect("a translation").to_string())
                .collect()
        };

        let mut sequential = Vec::new();
        for body in &bodies {
            sequential.push(texts_of(&post_json(&server.client, &url, body).await));
        }
        let started = Instant::now();
        let tasks: Vec<_> = bodies
            .iter()
            .cloned()
            .map(|body| {
                let client = http_client();
                let url = url.clone();
                tokio::spawn(async move { post_json(&client, &url, &body).await })
            })
            .collect();
        let mut parallel = Vec::new();
        for task in tasks {
            parallel.push(texts_of(&task.await.expect("client task")));
        }
        eprintln!("20 parallel requests took {:?}", started.elapsed());
        assert_eq!(parallel, sequential);
        // Every client got its own texts back, not someone else's.
        let distinct: std::collections::HashSet<&Vec<String>> = parallel.iter().collect();
        assert_eq!(distinct.len(), 20);
        server.shutdown().await.expect("serve returns Ok");
    });
}

// ---------------------------------------------------------------------------------------------
// 5. Queue full

#[test]
fn a_full_queue_answers_429_with_retry_after_and_then_recovers() {
    run_async(TEST_LIMIT, async {
        let mut cfg = config(SWISH);
        cfg.batching = BatchSettings {
            queue_capacity: 4,
            max_batch_sentences: 1,
            max_wait: Duration::from_millis(1),
            ..BatchSettings::default()
        };
        let server = TestServer::start(cfg).await;
        let corpus = corpus();
        let url = server.url("/v1/translate");
        // Twelve clients at once, each with three sentences in beam search: the queue holds four.
        let tasks: Vec<_> = (0..12)
            .map(|i| {
                let text = format!("{} {} {}", corpus[i], corpus[i + 12], corpus[i + 24]);
                let client = http_client();
                let url = url.clone();
                tokio::spawn(async move {
                    let reply =
                        post_json(&client, &url, &json!({ "text": text, "beams": 4 })).await;
                    (text, reply)
                })
            })
            .collect();
        let mut full = 0;
        let mut served = Vec::new();
        for task in tasks {
            let (text, reply) = task.await.expect("client task");
            match reply.status {
                StatusCode::TOO_MANY_REQUESTS => {
                    full += 1;
                    let message = reply.assert_error(StatusCode::TOO_MANY_REQUESTS, "queue_full");
                    assert!(message.contains("capacity 4"), "{message}");
                    let retry = reply
                        .headers
                        .get(RETRY_AFTER)
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.parse::<u64>().ok());
                    assert!(retry.is_some_and(|s| s >= 1), "{:?}", reply.headers);
                }
                StatusCode::OK => served.push((text, reply)),
                other => panic!("unexpected {other}: {}", reply.text),
            }
        }
        assert!(full >= 1, "no request was refused");
        assert!(!served.is_empty(), "no request was served");
        // What was served is right.
        for (text, reply) in &served {
            let expected = library(
                SWISH,
                &[text.as_str()],
                GenerationOptions {
                    beams: Some(4),
                    ..GenerationOptions::default()
                },
            )
            .await
            .remove(0);
            assert_eq!(
                reply.json["translations"][0]["text"].as_str(),
                Some(expected.text.as_str())
            );
        }
        // A text with more sentences than the queue holds can never fit: 413, not 429.
        let five = corpus[..5].join(" ");
        let reply = server
            .post_json("/v1/translate", &json!({ "text": five }))
            .await;
        let message = reply.assert_error(StatusCode::PAYLOAD_TOO_LARGE, "too_large");
        assert!(message.contains("at most 4"), "{message}");
        // So does a request whose texts fit one by one but not together (once a 429 that no
        // retry could get past).
        let three = corpus[..3].join(" ");
        let reply = server
            .post_json(
                "/v1/translate",
                &json!({ "texts": [three, three], "beams": 1 }),
            )
            .await;
        let message = reply.assert_error(StatusCode::PAYLOAD_TOO_LARGE, "too_large");
        assert!(
            message.contains("6 sentences") && message.contains("at most 4"),
            "{message}"
        );
        // The queue drained: the server answers normally again.
        server.assert_still_serves().await;
        server.shutdown().await.expect("serve returns Ok");
    });
}

// ---------------------------------------------------------------------------------------------
// 6. Bad input

fn small_limits() -> ServerConfig {
    let mut cfg = config(SWISH);
    cfg.limits = Limits {
        max_body_bytes: 4096,
        max_chars: 1000,
        max_texts: 4,
        max_beams: 8,
        ..Limits::default()
    };
    cfg
}

#[test]
fn bodies_chars_and_texts_over_the_limits_are_413_naming_the_limit() {
    run_async(TEST_LIMIT, async {
        let server = TestServer::start(small_limits()).await;

        let huge = "a".repeat(10_000);
        for path in ["/v1/translate", "/translate"] {
            let field = if path == "/translate" { "q" } else { "text" };
            let reply = server.post_json(path, &json!({ field: huge })).await;
            let message = reply.assert_error(StatusCode::PAYLOAD_TOO_LARGE, "too_large");
            assert!(message.contains("body"), "{message}");
            server.assert_still_serves().await;
        }
        let form = server
            .post_form("/translate", &[("q", huge.as_str())])
            .await;
        form.assert_error(StatusCode::PAYLOAD_TOO_LARGE, "too_large");
        server.assert_still_serves().await;

        // 1,200 characters in under 4 KiB of JSON.
        let long = "Le président parle. ".repeat(60);
        assert_eq!(long.chars().count(), 1200);
        let reply = server
            .post_json("/v1/translate", &json!({ "text": long }))
            .await;
        let message = reply.assert_error(StatusCode::PAYLOAD_TOO_LARGE, "too_large");
        assert!(
            message.contains("1000") && message.contains("1200"),
            "{message}"
        );
        server.assert_still_serves().await;
        // The limit counts characters over all texts, not bytes.
        let split = vec![long[..600].to_string(), long[600..].to_string()];
        let reply = server
            .post_json("/v1/translate", &json!({ "texts": split }))
            .await;
        let message = reply.assert_error(StatusCode::PAYLOAD_TOO_LARGE, "too_large");
        assert!(message.contains("1000"), "{message}");
        let reply = server.post_json("/translate", &json!({ "q": long })).await;
        reply.assert_error(StatusCode::PAYLOAD_TOO_LARGE, "too_large");
        server.assert_still_serves().await;

        let five = vec![SENTENCE; 5];
        let reply = server
            .post_json("/v1/translate", &json!({ "texts": five }))
            .await;
        let message = reply.assert_error(StatusCode::PAYLOAD_TOO_LARGE, "too_large");
        assert!(
            message.contains("5 texts") && message.contains('4'),
            "{message}"
        );
        let reply = server.post_json("/translate", &json!({ "q": five })).await;
        reply.assert_error(StatusCode::PAYLOAD_TOO_LARGE, "too_large");
        server.assert_still_serves().await;
        server.shutdown().await.expect("serve returns Ok");
    });
}

#[test]
fn malformed_mistyped_and_incomplete_json_are_400_or_422() {
    run_async(TEST_LIMIT, async {
        let server = TestServer::start(config(SWISH)).await;
        let cases: [(&str, StatusCode, &str); 8] = [
            (
                r#"{"text": "Bonjour""#,
                StatusCode::BAD_REQUEST,
                "invalid_request",
            ),
            (
                r#"{"text": 5}"#,
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_field",
            ),
            (
                r#"{"texts": "Bonjour"}"#,
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_field",
            ),
            (
                r#"{"texts": []}"#,
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_field",
            ),
            (
                r#"{"text": "Bonjour.", "texts": ["Bonjour."]}"#,
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_field",
            ),
            (
                r#"{"text": "Bonjour.", "colour": "blue"}"#,
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_field",
            ),
            (r#"{}"#, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field"),
            (
                r#"{"text": "Bonjour.", "beams": 0}"#,
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_field",
            ),
        ];
        for (body, status, code) in cases {
            let reply = server
                .post_raw(
                    "/v1/translate",
                    "application/json",
                    body.as_bytes().to_vec(),
                )
                .await;
            let message = reply.assert_error(status, code);
            assert!(!message.is_empty(), "{body}");
            server.assert_still_serves().await;
        }
        // The messages say what is wrong.
        let both = server
            .post_json("/v1/translate", &json!({ "text": "a", "texts": ["b"] }))
            .await;
        assert!(both.json["error"].as_str().unwrap().contains("not both"));
        let empty = server
            .post_json("/v1/translate", &json!({ "texts": [] }))
            .await;
        assert!(empty.json["error"].as_str().unwrap().contains("empty"));
        let unknown = server
            .post_json("/v1/translate", &json!({ "text": "a", "colour": "blue" }))
            .await;
        assert!(unknown.json["error"].as_str().unwrap().contains("colour"));
        server.shutdown().await.expect("serve returns Ok");
    });
}

#[test]
fn non_json_content_types_are_415() {
    run_async(TEST_LIMIT, async {
        let server = TestServer::start(config(SWISH)).await;
        let body = json!({ "text": SENTENCE }).to_string().into_bytes();
        for content_type in [
            "text/plain",
            "application/x-www-form-urlencoded",
            "application/xml",
        ] {
            let reply = server
                .post_raw("/v1/translate", content_type, body.clone())
                .await;
            let message =
                reply.assert_error(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type");
            assert!(message.contains("application/json"), "{message}");
            server.assert_still_serves().await;
        }
        // No content type at all.
        let reply = Reply::read(
            server
                .client
                .post(server.url("/v1/translate"))
                .body(body)
                .send()
                .await
                .expect("POST"),
        )
        .await;
        reply.assert_error(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type");
        server.assert_still_serves().await;
        server.shutdown().await.expect("serve returns Ok");
    });
}

#[test]
fn binary_garbage_and_invalid_utf8_bodies_are_400() {
    run_async(TEST_LIMIT, async {
        let server = TestServer::start(config(SWISH)).await;
        // Deterministic pseudo-random bytes.
        let mut state = 0x2545_f491_u32;
        let garbage: Vec<u8> = (0..4096)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                (state >> 24) as u8
            })
            .collect();
        for path in ["/v1/translate", "/translate", "/detect"] {
            let reply = server
                .post_raw(path, "application/json", garbage.clone())
                .await;
            reply.assert_error(StatusCode::BAD_REQUEST, "invalid_request");
            server.assert_still_serves().await;
        }
        let mut invalid = b"{\"text\": \"Le pr\xe9sident \xff\xfe a parl\xc3\"}".to_vec();
        let reply = server
            .post_raw("/v1/translate", "application/json", invalid.clone())
            .await;
        reply.assert_error(StatusCode::BAD_REQUEST, "invalid_request");
        server.assert_still_serves().await;
        invalid = b"{\"q\": \"Bonjour \xc0\xaf\", \"source\": \"fr\"}".to_vec();
        let reply = server
            .post_raw("/translate", "application/json", invalid)
            .await;
        reply.assert_error(StatusCode::BAD_REQUEST, "invalid_request");
        server.assert_still_serves().await;
        server.shutdown().await.expect("serve returns Ok");
    });
}

#[test]
fn control_characters_in_text_are_translated() {
    run_async(TEST_LIMIT, async {
        let text = "Le président\u{0} a reçu\u{7} son homologue\u{1b} allemand. Fin\u{1b}[31m.";
        let expected = library_one(SWISH, text).await;
        let server = TestServer::start(config(SWISH)).await;
        let reply = server
            .post_json("/v1/translate", &json!({ "text": text }))
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
        assert_matches_library(&reply.json["translations"][0], &expected);
        let libre = server
            .post_json("/translate", &json!({ "q": text, "source": "fr" }))
            .await;
        assert_eq!(libre.status, StatusCode::OK, "{}", libre.text);
        assert_eq!(
            libre.json["translatedText"].as_str(),
            Some(expected.text.as_str())
        );
        server.assert_still_serves().await;
        server.shutdown().await.expect("serve returns Ok");
    });
}

#[test]
fn a_50000_letter_word_gets_a_clear_answer_without_hanging() {
    run_async(TEST_LIMIT, async {
        let mut cfg = config(SWISH);
        cfg.limits.max_chars = 200_000;
        let server = TestServer::start(cfg).await;
        let word: String = "anticonstitutionnellement"
            .chars()
            .cycle()
            .take(50_000)
            .collect();
        let started = Instant::now();
        let reply = server
            .post_json(
                "/v1/translate",
                &json!({ "text": word, "beams": 1, "max_new_tokens": 2 }),
            )
            .await;
        let elapsed = started.elapsed();
        eprintln!("50,000-letter word: {} in {elapsed:?}", reply.status);
        match reply.status {
            StatusCode::OK => {
                let item = &reply.json["translations"][0];
                assert!(item["text"].is_string(), "{}", reply.text);
                let warnings = item["warnings"].as_array().expect("warnings");
                assert!(
                    warnings
                        .iter()
                        .any(|w| w.as_str().unwrap().contains("parts")),
                    "{warnings:?}"
                );
            }
            StatusCode::PAYLOAD_TOO_LARGE => {
                let message = reply.assert_error(StatusCode::PAYLOAD_TOO_LARGE, "too_large");
                assert!(message.contains("queue"), "{message}");
            }
            other => panic!("unexpected {other}: {}", reply.text),
        }
        assert!(elapsed < Duration::from_secs(60), "took {elapsed:?}");
        server.assert_still_serves().await;
        server.shutdown().await.expect("serve returns Ok");
    });
}

#[test]
fn ten_thousand_short_sentences_get_a_clear_answer_quickly() {
    run_async(TEST_LIMIT, async {
        let server = TestServer::start(config(SWISH)).await;
        let text = "Oui. ".repeat(10_000);
        let started = Instant::now();
        let reply = server
            .post_json("/v1/translate", &json!({ "text": text }))
            .await;
        let elapsed = started.elapsed();
        eprintln!("10,000 sentences: {} in {elapsed:?}", reply.status);
        let message = reply.assert_error(StatusCode::PAYLOAD_TOO_LARGE, "too_large");
        assert!(
            message.contains("10000 sentences") && message.contains("2048"),
            "{message}"
        );
        assert!(elapsed < Duration::from_secs(30), "took {elapsed:?}");
        server.assert_still_serves().await;
        server.shutdown().await.expect("serve returns Ok");
    });
}

#[test]
fn an_unsupported_language_pair_is_400_naming_the_supported_pair() {
    run_async(TEST_LIMIT, async {
        let server = TestServer::start(config(SWISH)).await;
        for (source, target) in [("fr", "de"), ("de", "en"), ("en", "fr")] {
            let reply = server
                .post_json(
                    "/v1/translate",
                    &json!({ "text": SENTENCE, "source": source, "target": target }),
                )
                .await;
            let message = reply.assert_error(StatusCode::BAD_REQUEST, "invalid_request");
            assert!(
                message.contains(&format!("{source}→{target}")) && message.contains("fr→en"),
                "{message}"
            );
            server.assert_still_serves().await;
        }
        server.shutdown().await.expect("serve returns Ok");
    });
}

// ---------------------------------------------------------------------------------------------
// 7. API keys

#[test]
fn api_keys_are_required_from_headers_or_the_libre_field_but_not_for_health() {
    run_async(TEST_LIMIT, async {
        let expected = library_one(SWISH, SENTENCE).await;
        let mut cfg = config(SWISH);
        cfg.api_keys = vec!["secret".into()];
        let server = TestServer::start(cfg).await;
        let url = server.url("/v1/translate");
        let body = json!({ "text": SENTENCE });
        let send = |request: reqwest::RequestBuilder| async move {
            Reply::read(request.send().await.expect("POST")).await
        };

        let none = send(server.client.post(&url).json(&body)).await;
        let message = none.assert_error(StatusCode::UNAUTHORIZED, "missing_api_key");
        assert!(message.contains("X-API-Key"), "{message}");
        let wrong = send(
            server
                .client
                .post(&url)
                .json(&body)
                .header("X-API-Key", "guess"),
        )
        .await;
        wrong.assert_error(StatusCode::FORBIDDEN, "invalid_api_key");
        let wrong_bearer = send(
            server
                .client
                .post(&url)
                .json(&body)
                .header("Authorization", "Bearer guess"),
        )
        .await;
        wrong_bearer.assert_error(StatusCode::FORBIDDEN, "invalid_api_key");

        let bearer = send(
            server
                .client
                .post(&url)
                .json(&body)
                .header("Authorization", "Bearer secret"),
        )
        .await;
        assert_eq!(bearer.status, StatusCode::OK, "{}", bearer.text);
        assert_matches_library(&bearer.json["translations"][0], &expected);
        // The scheme name is case-insensitive (RFC 9110).
        let lowercase = send(
            server
                .client
                .post(&url)
                .json(&body)
                .header("Authorization", "bearer secret"),
        )
        .await;
        assert_eq!(lowercase.status, StatusCode::OK, "{}", lowercase.text);
        let header = send(
            server
                .client
                .post(&url)
                .json(&body)
                .header("X-API-Key", "secret"),
        )
        .await;
        assert_eq!(header.status, StatusCode::OK, "{}", header.text);
        assert_matches_library(&header.json["translations"][0], &expected);

        // LibreTranslate clients send the key in the body (JSON or form).
        let libre = server
            .post_json(
                "/translate",
                &json!({ "q": SENTENCE, "source": "fr", "api_key": "secret" }),
            )
            .await;
        assert_eq!(libre.status, StatusCode::OK, "{}", libre.text);
        assert_eq!(
            libre.json["translatedText"].as_str(),
            Some(expected.text.as_str())
        );
        let form = server
            .post_form(
                "/translate",
                &[("q", SENTENCE), ("source", "fr"), ("api_key", "secret")],
            )
            .await;
        assert_eq!(form.status, StatusCode::OK, "{}", form.text);
        assert_eq!(
            form.json["translatedText"].as_str(),
            Some(expected.text.as_str())
        );
        let libre_none = server
            .post_json("/translate", &json!({ "q": SENTENCE, "source": "fr" }))
            .await;
        libre_none.assert_error(StatusCode::UNAUTHORIZED, "missing_api_key");
        let libre_wrong = server
            .post_json(
                "/translate",
                &json!({ "q": SENTENCE, "source": "fr", "api_key": "guess" }),
            )
            .await;
        libre_wrong.assert_error(StatusCode::FORBIDDEN, "invalid_api_key");
        let detect = server
            .post_json("/detect", &json!({ "q": SENTENCE, "api_key": "secret" }))
            .await;
        assert_eq!(detect.status, StatusCode::OK, "{}", detect.text);
        let detect_none = server.post_json("/detect", &json!({ "q": SENTENCE })).await;
        detect_none.assert_error(StatusCode::UNAUTHORIZED, "missing_api_key");

        // Status endpoints stay open for probes.
        for path in ["/health", "/ready", "/metrics", "/languages"] {
            let reply = server.get(path).await;
            assert_eq!(reply.status, StatusCode::OK, "{path}: {}", reply.text);
        }
        assert_eq!(server.get("/health").await.json["status"], "ok");
        server.shutdown().await.expect("serve returns Ok");
    });
}

// ---------------------------------------------------------------------------------------------
// 8. Graceful shutdown

#[test]
fn shutdown_lets_the_in_flight_request_finish_and_serve_returns_ok() {
    run_async(TEST_LIMIT, async {
        let corpus = corpus();
        let article = corpus[..16].join(" ");
        let generation = GenerationOptions {
            beams: Some(4),
            ..GenerationOptions::default()
        };
        let expected = library(SWISH, &[article.as_str()], generation)
            .await
            .remove(0);
        assert_eq!(expected.sentences.len(), 16);

        let server = TestServer::start(config(SWISH)).await;
        let client = http_client();
        let url = server.url("/v1/translate");
        let body = json!({ "text": article, "beams": 4 });
        let started = Instant::now();
        let request = tokio::spawn(async move { post_json(&client, &url, &body).await });
        // Wait until the request's sentences are in the queue (the gauge is set per /metrics call).
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let metrics = server.get("/metrics").await.text;
            if sample(&metrics, "dragoman_queue_sentences", &[]).is_some_and(|n| n > 0.0) {
                break;
            }
            assert!(
                !request.is_finished(),
                "the request finished before it was seen queued"
            );
            assert!(
                Instant::now() < deadline,
                "the request never reached the queue"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(
            !request.is_finished(),
            "the request must still be in flight"
        );
        let base_url = server.base_url.clone();
        let mut server = server;
        server.signal_shutdown();
        let reply = request.await.expect("request task");
        eprintln!("in-flight request finished after {:?}", started.elapsed());
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
        assert_matches_library(&reply.json["translations"][0], &expected);
        server.shutdown().await.expect("serve returns Ok");
        // Nothing listens any more.
        let after = http_client().get(format!("{base_url}/health")).send().await;
        assert!(after.is_err(), "the server still answers: {after:?}");
    });
}

#[test]
fn shutdown_while_the_model_is_still_loading_returns() {
    run_async(TEST_LIMIT, async {
        // The shutdown signal comes before the model has finished loading and warming up
        // (loading takes far longer than one request on loopback).
        let server = TestServer::spawn(config(SWISH)).await;
        let ready = server.get("/ready").await;
        if ready.status == StatusCode::SERVICE_UNAVAILABLE {
            assert_eq!(ready.json["status"], "loading", "{}", ready.text);
            assert_eq!(ready.json["version"], env!("CARGO_PKG_VERSION"));
        } else {
            eprintln!("the model was ready before the first request; the race was not exercised");
            assert_eq!(ready.status, StatusCode::OK, "{}", ready.text);
        }
        let started = Instant::now();
        server.shutdown().await.expect("serve returns Ok");
        eprintln!(
            "serve returned {:?} after the shutdown signal",
            started.elapsed()
        );
    });
}

// ---------------------------------------------------------------------------------------------
// 8. /v1/analyze and /v1/summarize

fn analysis_config() -> ServerConfig {
    ServerConfig {
        analysis: Some(crate::analysis::full_models()),
        ..config(SWISH)
    }
}

#[test]
fn v1_analyze_gives_the_brief_of_french_and_english_articles() {
    run_async(TEST_LIMIT, async {
        let server = TestServer::start(analysis_config()).await;
        let expected = library_one(SWISH, ARTICLE).await;

        let french = server
            .post_json(
                "/v1/analyze",
                &json!({ "text": ARTICLE, "summary": { "sentences": 2, "mode": "extractive" } }),
            )
            .await;
        assert_eq!(french.status, StatusCode::OK, "{}", french.text);
        let brief = &french.json;
        assert_eq!(brief["source_language"], "fr");
        // The translation is the queue's, identical to the library's.
        assert_eq!(brief["translation"]["text"], expected.text.as_str());
        let sentences: Vec<&Value> = brief["translation"]["paragraphs"]
            .as_array()
            .expect("paragraphs")
            .iter()
            .flat_map(|p| p["sentences"].as_array().expect("sentences"))
            .collect();
        assert_eq!(sentences.len(), expected.sentences.len());
        for (got, want) in sentences.iter().zip(&expected.sentences) {
            assert_eq!(got["text"], want.translation.as_str());
            assert_eq!(
                got["low_confidence"],
                want.score < dragoman::pipeline::analyze::DEFAULT_LOW_CONFIDENCE_BELOW
            );
        }
        assert_eq!(brief["summary_info"]["mode"], "extractive");
        assert_eq!(
            brief["summary_info"]["sentences"].as_array().map(Vec::len),
            Some(2)
        );
        assert!(brief["tags"].is_array() && brief["entities"].is_array());
        assert_eq!(brief["models"]["translation"], model_arg(SWISH));
        assert!(brief["models"]["embedding"]
            .as_str()
            .is_some_and(|m| m.contains("MiniLM")));
        assert!(brief["timings"]["total_ms"]
            .as_f64()
            .is_some_and(|t| t > 0.0));

        let english = server
            .post_json(
                "/v1/analyze",
                &json!({ "text": crate::analysis::CT_ARTICLE_EN_TEXT, "source": "auto" }),
            )
            .await;
        assert_eq!(english.status, StatusCode::OK, "{}", english.text);
        assert_eq!(english.json["source_language"], "en");
        assert!(english.json["translation"].is_null());
        assert_eq!(english.json["summary_info"]["mode"], "abstractive");
        let tags: Vec<&str> = english.json["tags"]
            .as_array()
            .expect("tags")
            .iter()
            .filter_map(|t| t["id"].as_str())
            .collect();
        assert!(tags.contains(&"military_cooperation"), "{tags:?}");

        let summary = server
            .post_json("/v1/summarize", &json!({ "text": ARTICLE, "sentences": 1 }))
            .await;
        assert_eq!(summary.status, StatusCode::OK, "{}", summary.text);
        assert!(summary.json["summary"]
            .as_str()
            .is_some_and(|s| !s.is_empty()));
        assert_eq!(summary.json["summary_info"]["mode"], "abstractive");
        assert!(summary.json.get("tags").is_none());
        server.shutdown().await.expect("serve returns Ok");
    });
}

#[test]
fn v1_analyze_refuses_bad_articles_with_422_and_is_501_without_analysis() {
    run_async(TEST_LIMIT, async {
        let server = TestServer::start(analysis_config()).await;
        for (body, needle) in [
            (json!({ "text": "" }), "empty"),
            (json!({ "text": "   \n  " }), "empty"),
            (json!({ "text": "12 345 678 — 90 %" }), "no words"),
            (
                json!({ "text": "Die Bundesregierung hat am Mittwoch neue Maßnahmen beschlossen, um die Wirtschaft zu stärken.", "source": "auto" }),
                "German",
            ),
            (
                json!({ "text": SENTENCE, "summary": { "sentences": 0 } }),
                "between 1 and",
            ),
            (json!({ "text": SENTENCE, "source": "de" }), "source"),
            (json!({ "text": SENTENCE, "colour": "blue" }), "colour"),
        ] {
            let reply = server.post_json("/v1/analyze", &body).await;
            let message = reply.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field");
            assert!(message.contains(needle), "{body}: {message}");
        }
        let reply = server
            .post_json("/v1/summarize", &json!({ "text": "" }))
            .await;
        reply.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field");
        server.assert_still_serves().await;
        server.shutdown().await.expect("serve returns Ok");

        let plain = TestServer::start(config(SWISH)).await;
        let reply = plain
            .post_json("/v1/analyze", &json!({ "text": SENTENCE }))
            .await;
        reply.assert_error(StatusCode::NOT_IMPLEMENTED, "analysis_disabled");
        plain.shutdown().await.expect("serve returns Ok");
    });
}
