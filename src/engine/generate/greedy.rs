//! Greedy search, as transformers' `_sample` with `do_sample=False`.
//!
//! Finished rows are dropped from the decoder batch instead of being fed padding; the remaining
//! rows are unaffected because rows never interact.

use rayon::prelude::*;

use super::{
    check_rows, log_softmax_at, stop_reason, GenerateError, GenerationConfig, Hypothesis,
    LogitsProcessors, StepDecoder, StopReason,
};

/// Index of the first maximum, like `torch.argmax`.
pub(super) fn argmax(row: &[f32]) -> usize {
    let mut best = 0;
    for (i, &x) in row.iter().enumerate() {
        if x > row[best] {
            best = i;
        }
    }
    best
}

struct Row {
    /// Decoder start token followed by the generated tokens.
    sequence: Vec<u32>,
    log_prob_sum: f64,
    stop: Option<StopReason>,
}

/// Runs greedy search over `batch` rows.
pub(super) fn search(
    decoder: &mut dyn StepDecoder,
    batch: usize,
    cfg: &GenerationConfig,
    processors: &LogitsProcessors,
) -> Result<Vec<Vec<Hypothesis>>, GenerateError> {
    if cfg.num_return_sequences != 1 {
        return Err(GenerateError::InvalidConfig(
            "greedy search returns one sequence per input; use beam search (num_beams > 1) for more"
                .into(),
        ));
    }
    let mut rows: Vec<Row> = (0..batch)
        .map(|_| Row {
            sequence: vec![cfg.decoder_start_token_id],
            log_prob_sum: 0.0,
            stop: None,
        })
        .collect();
    // Batch indices of the rows the decoder still holds, in decoder order.
    let mut active: Vec<usize> = (0..batch).collect();
    while !active.is_empty() {
        let last: Vec<u32> = active
            .iter()
            .map(|&i| rows[i].sequence[rows[i].sequence.len() - 1])
            .collect();
        let mut logits = decoder.step(&last)?;
        check_rows(&logits, active.len())?;
        // Each row's processors, choice and log-probability, in parallel (rows are independent).
        let chosen: Vec<(usize, f32)> = logits
            .values
            .par_chunks_mut(logits.vocab)
            .zip(active.par_iter())
            .map(|(scores, &i)| {
                processors.apply(&rows[i].sequence, scores);
                let token = argmax(scores);
                // The score is the log-probability under the processed scores; renormalized
                // scores already are log-probabilities (a second log-softmax would change them by
                // ~1e-7).
                let log_prob = if processors.renormalizes() {
                    scores[token]
                } else {
                    log_softmax_at(scores, token)
                };
                (token, log_prob)
            })
            .collect();
        for (&i, (token, log_prob)) in active.iter().zip(chosen) {
            let row = &mut rows[i];
            row.log_prob_sum += f64::from(log_prob);
            row.sequence.push(token as u32);
            if token as u32 == cfg.eos_token_id || row.sequence.len() >= cfg.max_length {
                row.stop = Some(stop_reason(&row.sequence[1..], cfg));
            }
        }
        let keep: Vec<usize> = (0..active.len())
            .filter(|&k| rows[active[k]].stop.is_none())
            .collect();
        if keep.len() != active.len() {
            active = keep.iter().map(|&k| active[k]).collect();
            if !active.is_empty() {
                decoder.reorder(&keep)?;
            }
        }
    }
    Ok(rows
        .into_iter()
        .map(|row| {
            let tokens = row.sequence[1..].to_vec();
            vec![Hypothesis {
                score: (row.log_prob_sum / tokens.len().max(1) as f64) as f32,
                tokens,
                stop: row
                    .stop
                    .unwrap_or_else(|| stop_reason(&row.sequence[1..], cfg)),
            }]
        })
        .collect())
}
