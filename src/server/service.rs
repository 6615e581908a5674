//! Translating request texts through the queue: validation, tokenization off the async
//! runtime, one queue job per text, reassembly. Shared by `/v1/translate` and LibreTranslate's
//! `/translate`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::config::Limits;
use super::error::ApiError;
use super::state::Engine;
use crate::pipeline::{ArticleTranslation, PreparedArticle, TranslateOptions};

/// The outcome for one text: its translation or why it failed, and the time it took.
pub struct TextOutcome {
    /// Translation or error message.
    pub result: Result<ArticleTranslation, String>,
    /// Time from submission to answer.
    pub elapsed: Duration,
}

/// Checks the number and total size of `texts` against `limits`.
pub fn check_texts(texts: &[String], limits: &Limits) -> Result<(), ApiError> {
    if texts.is_empty() {
        return Err(ApiError::Unprocessable("texts must not be empty".into()));
    }
    if texts.len() > limits.max_texts {
        return Err(ApiError::TooLarge(format!(
            "{} texts in one request; the limit is {}",
            texts.len(),
            limits.max_texts
        )));
    }
    let chars: usize = texts.iter().map(|t| t.chars().count()).sum();
    if chars > limits.max_chars {
        return Err(ApiError::TooLarge(format!(
            "{chars} characters in one request; the limit is {}",
            limits.max_chars
        )));
    }
    Ok(())
}

/// Translates `texts` independently; one failing text does not fail the others.
pub async fn translate_texts(
    engine: Arc<Engine>,
    texts: Vec<String>,
    options: TranslateOptions,
    limits: &Limits,
) -> Result<Vec<TextOutcome>, ApiError> {
    let generation = engine.translator.generation_config(&options);
    generation
        .validate()
        .map_err(|e| ApiError::Unprocessable(e.to_string()))?;
    if generation.num_beams > limits.max_beams {
        return Err(ApiError::Unprocessable(format!(
            "beams = {} is above this server's limit of {}",
            generation.num_beams, limits.max_beams
        )));
    }
    let translator = Arc::clone(&engine.translator);
    let prepared: Vec<PreparedArticle> = tokio::task::spawn_blocking(move || {
        texts
            .iter()
            .map(|t| translator.prepare_article(t))
            .collect()
    })
    .await
    .map_err(|e| ApiError::Internal(format!("tokenization failed: {e}")))?;

    // The texts are queued together, so a request needing more room than the queue has can
    // never be served: that is 413, not a 429 that no retry would get past.
    let needed: usize = prepared.iter().map(|a| a.sentences.units.len()).sum();
    if needed > engine.queue.capacity() {
        return Err(ApiError::TooLarge(format!(
            "this request has {needed} sentences; the queue holds at most {}",
            engine.queue.capacity()
        )));
    }
    let started = Instant::now();
    let mut pending = Vec::with_capacity(prepared.len());
    for article in &prepared {
        let units: Vec<Vec<u32>> = article
            .sentences
            .units
            .iter()
            .map(|u| u.ids.clone())
            .collect();
        pending.push(if units.is_empty() {
            None
        } else {
            Some(engine.queue.submit(units, generation.clone())?)
        });
    }
    let mut answers = Vec::with_capacity(pending.len());
    for receiver in pending {
        let answer = match receiver {
            None => Ok(Vec::new()),
            Some(receiver) => receiver
                .await
                .unwrap_or_else(|_| Err("the model worker stopped".into())),
        };
        answers.push((answer, started.elapsed()));
    }

    let translator = Arc::clone(&engine.translator);
    tokio::task::spawn_blocking(move || {
        prepared
            .iter()
            .zip(answers)
            .map(|(article, (answer, elapsed))| TextOutcome {
                result: answer.and_then(|outputs| {
                    translator
                        .assemble_article(article, outputs)
                        .map_err(|e| e.to_string())
                }),
                elapsed,
            })
            .collect()
    })
    .await
    .map_err(|e| ApiError::Internal(format!("reassembly failed: {e}")))
}
