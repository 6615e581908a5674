//! The PostgreSQL job store, and the shared-queue semantics both stores keep: `dragoman batch
//! --database-url postgres://…` writes what the SQLite state file gives; two workers (store
//! handles, or `dragoman batch` processes) share a job with no item done twice; the items of a
//! worker killed with `kill -9` are taken over once its lease runs out; a late worker cannot
//! complete items taken over; migrations run again harmlessly.
//!
//! The PostgreSQL tests need a server: `DRAGOMAN_TEST_DATABASE_URL` names it (`.ci/run` starts
//! one with `scripts/pg_test_server.sh`). Unset, they print a notice and pass without running
//! (unless `CI` is set); set but unreachable, they fail. Each test works in a database of its own, created on that
//! server and dropped at the end.

use std::collections::HashMap;
use std::path::Path;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use sqlx::{Connection, PgConnection};

use dragoman::jobs::{
    open_shared_job, run_job, ItemOutcome, ItemState, JobSpec, JobStore, NewItem, OpenedJob,
    OutputFile, PostgresStore, RunSummary, RunnerConfig, SqliteAccess, SqliteStore, Task, TaskKind,
};

use crate::batch::{
    article, dragoman, line_count, model, path, read_json_lines, run, stderr, write_lines,
};
use crate::jobs_api;

/// The variable naming the test server.
const URL_VAR: &str = "DRAGOMAN_TEST_DATABASE_URL";

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

/// `url` with its database replaced by `name`.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let authority_start = base.find("://").map(|i| i + 3).unwrap_or(0);
    let base = match base[authority_start..].find('/') {
        Some(slash) => &base[..authority_start + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{base}/{name}?{query}"),
        None => format!("{base}/{name}"),
    }
}

/// A database of its own for one test, dropped when the test ends.
struct TestDb {
    admin_url: String,
    name: String,
    /// Its URL.
    url: String,
}

impl TestDb {
    /// A fresh database on the server of `DRAGOMAN_TEST_DATABASE_URL`, or `None` (after a
    /// notice) when the variable is unset. Panics when it is set but the server cannot be used.
    fn create(test: &str) -> Option<Self> {
        let Ok(admin_url) = std::env::var(URL_VAR) else {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI is set but {URL_VAR} is not: .ci/run starts a PostgreSQL server for these tests"
            );
            eprintln!(
                "skipping {test}: {URL_VAR} is not set (start a server with `eval \"$(scripts/pg_test_server.sh start)\"`)"
            );
            return None;
        };
        let nonce = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let name = format!("dragoman_{test}_{}_{nonce}", std::process::id());
        runtime().block_on(async {
            let mut admin = PgConnection::connect(&admin_url)
                .await
                .unwrap_or_else(|e| panic!("{URL_VAR}={admin_url} is set but unreachable: {e}"));
            sqlx::raw_sql(&format!("CREATE DATABASE \"{name}\""))
                .execute(&mut admin)
                .await
                .unwrap_or_else(|e| panic!("cannot create a test database on {admin_url}: {e}"));
            admin.close().await.ok();
        });
        let url = with_database(&admin_url, &name);
        Some(Self {
            admin_url,
            name,
            url,
        })
    }

    /// A store on this database. Connect inside the runtime that will use it: the pool's
    /// connections belong to the runtime they were opened on.
    async fn connect(&self) -> PostgresStore {
        PostgresStore::connect(&self.url)
            .await
            .expect("the test database opens")
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        // Best effort: a failed drop leaves a database on a throwaway server.
        let _ = std::thread::spawn(move || {
            runtime().block_on(async {
                if let Ok(mut admin) = PgConnection::connect(&admin_url).await {
                    let _ =
                        sqlx::raw_sql(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                            .execute(&mut admin)
                            .await;
                }
            })
        })
        .join();
    }
}

/// Upper-cases texts after a pause, counting how often it saw each text.
struct CountingTask {
    runs: Mutex<HashMap<String, u32>>,
    pause: Duration,
}

impl CountingTask {
    fn new(pause: Duration) -> Arc<Self> {
        Arc::new(Self {
            runs: Mutex::new(HashMap::new()),
            pause,
        })
    }

    fn runs(&self) -> HashMap<String, u32> {
        self.runs.lock().expect("not poisoned").clone()
    }
}

impl Task for CountingTask {
    fn kind(&self) -> TaskKind {
        TaskKind::Translate
    }

    fn run(&self, texts: &[&str]) -> Vec<Result<Value, String>> {
        std::thread::sleep(self.pause);
        let mut runs = self.runs.lock().expect("not poisoned");
        texts
            .iter()
            .map(|t| {
                *runs.entry(t.to_string()).or_default() += 1;
                Ok(Value::String(t.to_uppercase()))
            })
            .collect()
    }
}

/// A job of `n` items `{"id": i, "text": "text i"}` writing into `output`.
fn spec_and_items(output: &Path, n: usize) -> (JobSpec, Vec<NewItem>) {
    let spec = JobSpec {
        task: "translate".into(),
        options: json!({"test": true}),
        input_path: output.with_extension("in").display().to_string(),
        input_size: n as u64,
        input_sha256: format!("{n:064x}"),
        output_path: output.display().to_string(),
    };
    let items = (0..n)
        .map(|i| NewItem::Queued {
            line: i as u64 + 1,
            input: json!({"id": i, "text": format!("text {i}")}).to_string(),
        })
        .collect();
    (spec, items)
}

fn expected_output(n: usize) -> String {
    (0..n)
        .map(|i| format!("{}\n", json!({"id": i, "translation": format!("TEXT {i}")})))
        .collect()
}

fn config(worker: &str, lease: Duration) -> RunnerConfig {
    RunnerConfig {
        batch_size: 3,
        lease,
        worker: worker.to_string(),
        poll: Duration::from_millis(50),
    }
}

async fn run_worker<S: JobStore>(
    store: &S,
    opened: &OpenedJob,
    task: Arc<CountingTask>,
    output: &Path,
    config: &RunnerConfig,
) -> RunSummary {
    let mut out = OutputFile::open(store, &opened.job, output)
        .await
        .expect("output opens");
    run_job(store, opened, task, &mut out, config, &mut |_| {})
        .await
        .expect("the worker runs to the end")
}

/// Two store handles run one job at once: every item once, both take part, the output whole.
async fn two_workers_share_a_job<S: JobStore>(a: &S, b: &S, output: &Path) {
    const ITEMS: usize = 60;
    let (spec, items) = spec_and_items(output, ITEMS);
    let (job_a, job_b) = tokio::join!(
        open_shared_job(a, &spec, || items.clone(), false),
        open_shared_job(b, &spec, || items.clone(), false)
    );
    let (job_a, job_b) = (job_a.expect("a opens"), job_b.expect("b opens"));
    assert_eq!(job_a.job.id, job_b.job.id, "both joined one job");
    assert!(
        job_a.created != job_b.created,
        "exactly one created it: {} {}",
        job_a.created,
        job_b.created
    );
    let task = CountingTask::new(Duration::from_millis(10));
    let lease = Duration::from_secs(30);
    let (config_a, config_b) = (config("worker-a", lease), config("worker-b", lease));
    let (sum_a, sum_b) = tokio::join!(
        run_worker(a, &job_a, Arc::clone(&task), output, &config_a),
        run_worker(b, &job_b, Arc::clone(&task), output, &config_b)
    );
    assert!(
        sum_a.processed > 0 && sum_b.processed > 0,
        "both worked: {sum_a} / {sum_b}"
    );
    assert_eq!(sum_a.processed + sum_b.processed, ITEMS as u64);
    assert_eq!((sum_a.done, sum_b.done), (ITEMS as u64, ITEMS as u64));
    let runs = task.runs();
    assert_eq!(runs.len(), ITEMS, "every item ran");
    assert!(
        runs.values().all(|&n| n == 1),
        "an item ran twice: {runs:?}"
    );
    let counts = a.counts(job_a.job.id).await.expect("counts");
    assert_eq!(counts.done, ITEMS as u64);
    let job = a.job(job_a.job.id).await.expect("job").expect("stored");
    assert!(job.finished_at.is_some());
    assert_eq!(job.output.next, ITEMS as u64);
    assert_eq!(
        std::fs::read_to_string(output).expect("output"),
        expected_output(ITEMS)
    );
}

/// A worker claims items and dies; another takes them over once the lease has run out, and
/// the dead worker's late completion stores nothing.
async fn items_of_a_dead_worker_are_taken_over_after_the_lease<S: JobStore>(
    dead: &S,
    live: &S,
    output: &Path,
) {
    const ITEMS: usize = 10;
    let (spec, items) = spec_and_items(output, ITEMS);
    let opened = open_shared_job(dead, &spec, || items, false)
        .await
        .expect("job");
    let lease = Duration::from_millis(1500);
    let held = dead
        .claim(opened.job.id, "dead", 4, lease)
        .await
        .expect("claim");
    assert_eq!(held.iter().map(|i| i.seq).collect::<Vec<_>>(), [0, 1, 2, 3]);
    // While the lease runs, nobody else gets those items.
    let others = live
        .claim(opened.job.id, "probe", 100, lease)
        .await
        .expect("claim");
    assert_eq!(others.first().map(|i| i.seq), Some(4));
    assert_eq!(
        live.complete(
            opened.job.id,
            "probe",
            &others
                .iter()
                .map(|i| ItemOutcome {
                    seq: i.seq,
                    state: ItemState::Done,
                    line: json!({"id": i.seq, "translation": format!("TEXT {}", i.seq)})
                        .to_string(),
                })
                .collect::<Vec<_>>()
        )
        .await
        .expect("complete"),
        6
    );

    let started = Instant::now();
    let task = CountingTask::new(Duration::from_millis(1));
    let summary = run_worker(
        live,
        &opened,
        Arc::clone(&task),
        output,
        &config("live", lease),
    )
    .await;
    assert!(
        started.elapsed() >= Duration::from_millis(1000),
        "the dead worker's items were taken before its lease ran out ({:?})",
        started.elapsed()
    );
    assert_eq!(summary.processed, 4);
    assert_eq!(task.runs().len(), 4);
    let retaken = live
        .claim(opened.job.id, "late", 10, lease)
        .await
        .expect("claim");
    assert!(retaken.is_empty(), "finished items are never claimed again");
    // The dead worker wakes up: its results for items taken over are discarded.
    let late = dead
        .complete(
            opened.job.id,
            "dead",
            &held
                .iter()
                .map(|i| ItemOutcome {
                    seq: i.seq,
                    state: ItemState::Failed,
                    line: "{\"late\":true}".into(),
                })
                .collect::<Vec<_>>(),
        )
        .await
        .expect("complete");
    assert_eq!(late, 0);
    assert_eq!(
        live.finished_prefix(opened.job.id, 0, 100)
            .await
            .expect("prefix")
            .concat()
            .matches("late")
            .count(),
        0
    );
    assert_eq!(
        std::fs::read_to_string(output).expect("output"),
        expected_output(ITEMS)
    );
}

/// `(seq, attempts, state, worker)` of every item of the only job in the database.
async fn pg_items(store: &PostgresStore) -> Vec<(i64, i32, String, Option<String>)> {
    sqlx::query_as("SELECT seq, attempts, state, worker FROM items ORDER BY seq")
        .fetch_all(store.pool())
        .await
        .expect("items")
}

#[test]
fn postgres_two_store_handles_share_a_job_without_doing_an_item_twice() {
    let Some(db) = TestDb::create("two_handles") else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    runtime().block_on(async {
        let (a, b) = (db.connect().await, db.connect().await);
        two_workers_share_a_job(&a, &b, &dir.path().join("out.jsonl")).await;
        let items = pg_items(&a).await;
        assert!(items
            .iter()
            .all(|(_, attempts, state, _)| *attempts == 1 && state == "done"));
        let workers: std::collections::BTreeSet<_> =
            items.iter().filter_map(|(_, _, _, w)| w.clone()).collect();
        assert_eq!(
            workers.into_iter().collect::<Vec<_>>(),
            ["worker-a", "worker-b"]
        );
    });
}

#[test]
fn sqlite_shared_store_handles_share_a_job_without_doing_an_item_twice() {
    let dir = tempfile::tempdir().expect("temp dir");
    let state = dir.path().join("state.db");
    runtime().block_on(async {
        let a = SqliteStore::open(&state, SqliteAccess::Shared)
            .await
            .expect("a");
        let b = SqliteStore::open(&state, SqliteAccess::Shared)
            .await
            .expect("b");
        two_workers_share_a_job(&a, &b, &dir.path().join("out.jsonl")).await;
    });
}

#[test]
fn postgres_items_of_a_dead_worker_are_taken_over_after_the_lease() {
    let Some(db) = TestDb::create("dead_worker") else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    runtime().block_on(async {
        let (dead, live) = (db.connect().await, db.connect().await);
        items_of_a_dead_worker_are_taken_over_after_the_lease(
            &dead,
            &live,
            &dir.path().join("out.jsonl"),
        )
        .await;
        let items = pg_items(&live).await;
        for (seq, attempts, state, worker) in items {
            assert_eq!(state, "done");
            let (want_attempts, want_worker) = if seq < 4 { (2, "live") } else { (1, "probe") };
            assert_eq!(
                (attempts, worker.as_deref()),
                (want_attempts, Some(want_worker)),
                "item {seq}"
            );
        }
    });
}

#[test]
fn sqlite_shared_items_of_a_dead_worker_are_taken_over_after_the_lease() {
    let dir = tempfile::tempdir().expect("temp dir");
    let state = dir.path().join("state.db");
    runtime().block_on(async {
        let dead = SqliteStore::open(&state, SqliteAccess::Shared)
            .await
            .expect("dead");
        let live = SqliteStore::open(&state, SqliteAccess::Shared)
            .await
            .expect("live");
        items_of_a_dead_worker_are_taken_over_after_the_lease(
            &dead,
            &live,
            &dir.path().join("out.jsonl"),
        )
        .await;
    });
}

#[test]
fn postgres_renewed_leases_keep_items_from_other_workers() {
    let Some(db) = TestDb::create("renew") else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    runtime().block_on(async {
        let (a, b) = (db.connect().await, db.connect().await);
        let (spec, items) = spec_and_items(&dir.path().join("out.jsonl"), 4);
        let job = open_shared_job(&a, &spec, || items, false)
            .await
            .expect("job")
            .job;
        let lease = Duration::from_millis(800);
        let held = a.claim(job.id, "a", 2, lease).await.expect("claim");
        assert_eq!(held.len(), 2);
        for _ in 0..3 {
            tokio::time::sleep(Duration::from_millis(400)).await;
            assert_eq!(
                a.renew_lease(job.id, "a", &[0, 1], lease)
                    .await
                    .expect("renew"),
                2
            );
        }
        // 1.2 s after the claim, two leases later: still a's.
        let long = Duration::from_secs(60);
        let got = b.claim(job.id, "b", 10, long).await.expect("claim");
        assert_eq!(got.iter().map(|i| i.seq).collect::<Vec<_>>(), [2, 3]);
        // b cannot renew what it does not hold.
        assert_eq!(
            b.renew_lease(job.id, "b", &[0, 1], lease)
                .await
                .expect("renew"),
            0
        );
        // Once a stops renewing, its items go to whoever claims after the lease.
        tokio::time::sleep(Duration::from_millis(1000)).await;
        let taken = b.claim(job.id, "b", 10, long).await.expect("claim");
        assert_eq!(
            taken
                .iter()
                .map(|i| (i.seq, i.attempts))
                .collect::<Vec<_>>(),
            [(0, 2), (1, 2)]
        );
        assert_eq!(
            a.renew_lease(job.id, "a", &[0, 1], lease)
                .await
                .expect("renew"),
            0
        );
    });
}

#[test]
fn postgres_migrations_are_idempotent_on_restart() {
    let Some(db) = TestDb::create("migrations") else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    runtime().block_on(async {
        // Processes starting together apply the schema once (sqlx takes an advisory lock).
        let (first, second) = tokio::join!(
            PostgresStore::connect(&db.url),
            PostgresStore::connect(&db.url)
        );
        let (first, second) = (first.expect("first"), second.expect("second"));
        let (spec, items) = spec_and_items(&dir.path().join("out.jsonl"), 3);
        let job = first.create_job(&spec, &items).await.expect("job");
        first.close().await;
        second.close().await;
        let again = PostgresStore::connect(&db.url).await.expect("restart");
        let applied: Vec<(i64, bool)> =
            sqlx::query_as("SELECT version, success FROM _sqlx_migrations ORDER BY version")
                .fetch_all(again.pool())
                .await
                .expect("migrations table");
        assert_eq!(applied, [(1, true), (2, true)]);
        assert_eq!(
            again.find_job(&spec).await.expect("find"),
            Some(job.clone())
        );
        assert_eq!(again.counts(job.id).await.expect("counts").queued, 3);
        // A second create of the same spec loses to the first (the fingerprint is unique).
        let duplicate = again
            .create_job(&spec, &items)
            .await
            .expect_err("duplicate");
        assert!(dragoman::jobs::is_duplicate_job(&duplicate), "{duplicate}");
        again.close().await;
    });
}

#[test]
fn postgres_unreachable_server_is_an_error_naming_it_without_the_password() {
    let error = runtime()
        .block_on(PostgresStore::connect(
            "postgres://someone:hunter2@127.0.0.1:1/nothing",
        ))
        .expect_err("nothing listens on port 1");
    let message = error.to_string();
    assert!(message.contains("127.0.0.1:1"), "{message}");
    assert!(message.contains("refused"), "the cause is named: {message}");
    assert!(!message.contains("hunter2"), "{message}");
}

/// `batch --task translate` arguments on the tiny fixture model.
fn batch_args<'a>(
    model: &'a str,
    input: &'a Path,
    out: &'a Path,
    extra: &[&'a str],
) -> Vec<&'a str> {
    let mut args = vec!["batch", "--task", "translate", "--model", model];
    args.extend_from_slice(extra);
    args.push(path(input));
    args.push(path(out));
    args
}

#[test]
fn postgres_batch_writes_what_sqlite_writes_and_resumes() {
    let Some(db) = TestDb::create("batch_same_out") else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let input = dir.path().join("in.jsonl");
    let lines: Vec<String> = (0..7)
        .map(|i| json!({"id": i, "text": article(i)}).to_string())
        .chain(["not json".to_string()])
        .collect();
    write_lines(&input, &lines);
    let model = model();
    let sqlite_out = dir.path().join("sqlite.jsonl");
    let pg_out = dir.path().join("pg.jsonl");

    let sqlite = run(&batch_args(
        &model,
        &input,
        &sqlite_out,
        &["--batch-size", "3"],
    ));
    assert_eq!(sqlite.status.code(), Some(2), "{}", stderr(&sqlite));
    let pg_args = batch_args(
        &model,
        &input,
        &pg_out,
        &["--batch-size", "3", "--database-url", &db.url],
    );
    let pg = run(&pg_args);
    assert_eq!(pg.status.code(), Some(2), "{}", stderr(&pg));
    assert!(stderr(&pg).contains("7 done, 1 failed"), "{}", stderr(&pg));
    assert!(
        !pg_out.with_extension("jsonl.state.db").exists(),
        "no SQLite state file with --database-url"
    );
    let written = std::fs::read(&pg_out).expect("pg output");
    assert_eq!(written, std::fs::read(&sqlite_out).expect("sqlite output"));
    assert_eq!(read_json_lines(&pg_out).len(), 8);

    // The same command again: the schema is there, the job is found, nothing is redone.
    let again = run(&pg_args);
    assert_eq!(again.status.code(), Some(2), "{}", stderr(&again));
    assert!(stderr(&again).contains("8 skipped"), "{}", stderr(&again));
    assert_eq!(std::fs::read(&pg_out).expect("pg output"), written);

    // The URL can come from the environment too.
    let env_out = dir.path().join("env.jsonl");
    let from_env = dragoman(&batch_args(&model, &input, &env_out, &[]))
        .env("DRAGOMAN_DATABASE_URL", &db.url)
        .output()
        .expect("runs");
    assert_eq!(from_env.status.code(), Some(2), "{}", stderr(&from_env));
    assert_eq!(std::fs::read(&env_out).expect("env output"), written);
}

#[test]
fn postgres_two_batch_processes_share_a_job_without_doing_an_item_twice() {
    const ITEMS: usize = 120;
    let Some(db) = TestDb::create("two_processes") else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let input = dir.path().join("in.jsonl");
    let out = dir.path().join("out.jsonl");
    let lines: Vec<String> = (0..ITEMS)
        .map(|i| json!({"id": format!("art-{i}"), "text": article(i)}).to_string())
        .collect();
    write_lines(&input, &lines);
    let model = model();
    let args = batch_args(
        &model,
        &input,
        &out,
        &["--batch-size", "2", "--database-url", &db.url],
    );
    let children: Vec<_> = (0..2)
        .map(|_| dragoman(&args).spawn().expect("batch starts"))
        .collect();
    for child in children {
        let output = child.wait_with_output().expect("batch ends");
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        assert!(
            stderr(&output).contains(&format!("{ITEMS} done, 0 failed")),
            "{}",
            stderr(&output)
        );
    }
    let items = runtime().block_on(async { pg_items(&db.connect().await).await });
    assert_eq!(items.len(), ITEMS);
    for (seq, attempts, state, _) in &items {
        assert_eq!((state.as_str(), *attempts), ("done", 1), "item {seq}");
    }
    let mut per_worker: HashMap<String, usize> = HashMap::new();
    for (_, _, _, worker) in &items {
        *per_worker
            .entry(worker.clone().expect("a finisher"))
            .or_default() += 1;
    }
    eprintln!("items per process: {per_worker:?}");
    assert_eq!(per_worker.values().sum::<usize>(), ITEMS);
    assert_eq!(per_worker.len(), 2, "both processes worked: {per_worker:?}");
    let ids: Vec<String> = read_json_lines(&out)
        .iter()
        .map(|l| l["id"].as_str().expect("id").to_string())
        .collect();
    let expected: Vec<String> = (0..ITEMS).map(|i| format!("art-{i}")).collect();
    assert_eq!(ids, expected, "every input exactly once, in order");
}

#[test]
fn postgres_batch_killed_with_kill_9_loses_its_items_only_until_the_lease_runs_out() {
    const ITEMS: usize = 300;
    let Some(db) = TestDb::create("kill_9") else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let input = dir.path().join("in.jsonl");
    let out = dir.path().join("out.jsonl");
    let lines: Vec<String> = (0..ITEMS)
        .map(|i| json!({"id": format!("art-{i}"), "text": article(i)}).to_string())
        .collect();
    write_lines(&input, &lines);
    let model = model();
    let args = batch_args(
        &model,
        &input,
        &out,
        &[
            "--batch-size",
            "4",
            "--lease-secs",
            "2",
            "--database-url",
            &db.url,
        ],
    );
    let rt = runtime();
    let store = rt.block_on(db.connect());
    // Kill it while it holds a batch, some way in. The kill can land between two batches (no
    // lease held): then the next process resumes and is killed in turn.
    let mut at_kill = Vec::new();
    let mut held: Vec<i64> = Vec::new();
    for attempt in 1..=5 {
        let mut child = dragoman(&args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("batch starts");
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let items = rt.block_on(pg_items(&store));
            let done = items.iter().filter(|i| i.2 == "done").count();
            let running = items.iter().filter(|i| i.2 == "running").count();
            if done >= 40 * attempt && running > 0 {
                break;
            }
            assert!(
                child.try_wait().expect("wait").is_none(),
                "the batch finished before it could be killed"
            );
            assert!(Instant::now() < deadline, "no progress within 120 s");
            std::thread::sleep(Duration::from_millis(2));
        }
        child.kill().expect("SIGKILL");
        child.wait().expect("reaped");
        at_kill = rt.block_on(pg_items(&store));
        held = at_kill
            .iter()
            .filter(|i| i.2 == "running")
            .map(|i| i.0)
            .collect();
        if !held.is_empty() {
            break;
        }
    }
    let finished: Vec<i64> = at_kill
        .iter()
        .filter(|i| i.2 == "done")
        .map(|i| i.0)
        .collect();
    assert!(!held.is_empty(), "killed while holding items");
    assert!(held.len() <= 4, "{held:?}");
    assert!(line_count(&out) < ITEMS);

    let started = Instant::now();
    let resumed = run(&args);
    assert_eq!(resumed.status.code(), Some(0), "{}", stderr(&resumed));
    assert!(
        stderr(&resumed).contains(&format!("{} skipped", finished.len())),
        "{}",
        stderr(&resumed)
    );
    eprintln!(
        "the second process took {:?} (it waited for {} items' leases)",
        started.elapsed(),
        held.len()
    );
    let after = rt.block_on(pg_items(&store));
    let killed_worker = at_kill
        .iter()
        .find(|i| i.2 == "running")
        .and_then(|i| i.3.clone())
        .expect("holder");
    for (seq, attempts, state, worker) in &after {
        assert_eq!(state, "done", "item {seq}");
        if held.contains(seq) {
            assert_eq!(*attempts, 2, "item {seq} was taken over");
            assert_ne!(worker.as_ref(), Some(&killed_worker));
        } else {
            assert_eq!(*attempts, 1, "item {seq} ran twice");
            assert!(
                finished.contains(seq) || worker.as_ref() != Some(&killed_worker),
                "item {seq}"
            );
        }
    }
    let ids: Vec<String> = read_json_lines(&out)
        .iter()
        .map(|l| l["id"].as_str().expect("id").to_string())
        .collect();
    let expected: Vec<String> = (0..ITEMS).map(|i| format!("art-{i}")).collect();
    assert_eq!(ids, expected, "every input exactly once, in order");
    rt.block_on(store.close());
}

#[test]
fn test_database_urls_swap_the_database_only() {
    assert_eq!(
        with_database("postgres://u@127.0.0.1:5432/base", "t1"),
        "postgres://u@127.0.0.1:5432/t1"
    );
    assert_eq!(
        with_database("postgres://u:p@h/base?sslmode=disable", "t1"),
        "postgres://u:p@h/t1?sslmode=disable"
    );
    assert_eq!(with_database("postgres://h", "t1"), "postgres://h/t1");
}

/// Every item of job `id` in the database at `url`: (seq, state, attempts, worker).
fn stored_items(url: &str, id: i64) -> Vec<(i64, String, i32, String)> {
    runtime().block_on(async {
        let mut connection = PgConnection::connect(url).await.expect("connects");
        sqlx::query_as(
            "SELECT seq, state, attempts, COALESCE(worker, '') FROM items WHERE job_id = $1 ORDER BY seq",
        )
        .bind(id)
        .fetch_all(&mut connection)
        .await
        .expect("items")
    })
}

/// Checks the results of a finished server job: every item once, in input order, with the
/// library's translation.
async fn assert_server_results(client: &reqwest::Client, base: &str, id: i64, items: usize) {
    let (state, lines) = jobs_api::results(client, base, id).await;
    assert_eq!(state, "done");
    assert_eq!(lines.len(), items);
    for (i, line) in lines.iter().enumerate() {
        let value: Value = serde_json::from_str(line).expect("JSON line");
        assert_eq!(value["id"], i, "every item once, in order");
        assert_eq!(
            value["translation"].as_str(),
            Some(jobs_api::library(&jobs_api::article(i), Default::default()).as_str()),
            "item {i}"
        );
    }
}

/// Starts `dragoman serve` on the database `url` with leases of `lease_secs`.
fn start_postgres_server(url: &str, lease_secs: &str) -> (jobs_api::Running, String) {
    jobs_api::start_server_binary(&[
        "--database-url".as_ref(),
        url.as_ref(),
        "--job-lease-secs".as_ref(),
        lease_secs.as_ref(),
    ])
}

#[test]
fn two_servers_on_one_postgres_share_a_job_without_doing_any_item_twice() {
    const ITEMS: usize = 200;
    let Some(db) = TestDb::create("two_servers") else {
        return;
    };
    let (_a, base_a) = start_postgres_server(&db.url, "60");
    let (_b, base_b) = start_postgres_server(&db.url, "60");
    let id = crate::common::run_async(Duration::from_secs(300), async {
        let client = crate::common::http_client();
        let created =
            jobs_api::submit_jsonl(&client, &base_a, "task=translate", jobs_api::jsonl(ITEMS))
                .await;
        assert_eq!(
            created.status,
            reqwest::StatusCode::ACCEPTED,
            "{}",
            created.text
        );
        let id = created.json["id"].as_i64().expect("an id");
        // The other server sees the job and follows it to the end.
        let status = jobs_api::wait_for(&client, &base_b, id, Duration::from_secs(240), |s| {
            s["state"] == "done"
        })
        .await;
        assert_eq!(status["counts"]["done"], ITEMS as u64, "{status}");
        assert_server_results(&client, &base_a, id, ITEMS).await;
        assert_server_results(&client, &base_b, id, ITEMS).await;
        id
    });
    let items = stored_items(&db.url, id);
    assert_eq!(items.len(), ITEMS);
    let mut per_worker: HashMap<String, usize> = HashMap::new();
    for (seq, state, attempts, worker) in &items {
        assert_eq!(state, "done", "item {seq}");
        assert_eq!(*attempts, 1, "item {seq} was claimed more than once");
        *per_worker.entry(worker.clone()).or_default() += 1;
    }
    eprintln!("items per server: {per_worker:?}");
    assert_eq!(
        per_worker.len(),
        2,
        "both servers worked on the job: {per_worker:?}"
    );
}

#[test]
fn a_server_killed_mid_job_on_postgres_leaves_its_items_to_the_other_server() {
    const ITEMS: usize = 200;
    const BATCH: i32 = 4;
    let Some(db) = TestDb::create("server_kill") else {
        return;
    };
    let (mut doomed, base_doomed) = start_postgres_server(&db.url, "2");
    let id = crate::common::run_async(Duration::from_secs(120), async {
        let client = crate::common::http_client();
        let created = jobs_api::submit_jsonl(
            &client,
            &base_doomed,
            "task=translate",
            jobs_api::jsonl(ITEMS),
        )
        .await;
        assert_eq!(
            created.status,
            reqwest::StatusCode::ACCEPTED,
            "{}",
            created.text
        );
        let id = created.json["id"].as_i64().expect("an id");
        jobs_api::wait_for(&client, &base_doomed, id, Duration::from_secs(60), |s| {
            jobs_api::finished(s) >= 8
        })
        .await;
        id
    });
    // Kill it while it holds a batch (a kill between two batches leaves nothing to take over,
    // which proves less): look at the database until it holds running items, then kill.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let running = stored_items(&db.url, id)
            .iter()
            .filter(|(_, state, _, _)| state == "running")
            .count();
        if running > 0 {
            break;
        }
        assert!(Instant::now() < deadline, "the server never held a batch");
        std::thread::sleep(Duration::from_millis(5));
    }
    doomed.0.kill().expect("SIGKILL");
    let _ = doomed.0.wait();
    let before = stored_items(&db.url, id);
    let dead_worker = before
        .iter()
        .find(|(_, state, _, _)| state == "running")
        .map(|(_, _, _, worker)| worker.clone());
    let finished_before = before
        .iter()
        .filter(|(_, state, _, _)| state == "done")
        .count();
    assert!(
        finished_before < ITEMS,
        "the job finished before the kill: {finished_before}"
    );

    let (_survivor, base) = start_postgres_server(&db.url, "2");
    crate::common::run_async(Duration::from_secs(300), async {
        let client = crate::common::http_client();
        let status = jobs_api::wait_for(&client, &base, id, Duration::from_secs(240), |s| {
            s["state"] == "done"
        })
        .await;
        assert_eq!(status["counts"]["done"], ITEMS as u64, "{status}");
        assert_server_results(&client, &base, id, ITEMS).await;
    });
    let after = stored_items(&db.url, id);
    let retried: Vec<_> = after.iter().filter(|(_, _, a, _)| *a > 1).collect();
    for (seq, state, attempts, worker) in &after {
        assert_eq!(state, "done", "item {seq}");
        assert!(*attempts <= 2, "item {seq} claimed {attempts} times");
        if *attempts == 2 {
            assert_ne!(Some(worker), dead_worker.as_ref(), "item {seq}");
        }
    }
    eprintln!(
        "{finished_before} items done before the kill; {} taken over after the lease ran out",
        retried.len()
    );
    assert!(
        !retried.is_empty() && retried.len() as i32 <= BATCH,
        "only the batch in flight was run again: {retried:?}"
    );
}
