//! Beam search, step for step as transformers 5.24's vectorised `_beam_search`.
//!
//! Each step keeps the top `2 * num_beams` continuations of every input; the best `num_beams`
//! that did not stop keep running, and those among the top `num_beams` that stopped (EOS or
//! maximum length) compete for the `num_beams` finished slots with their length-normalised score.
//! The `-1e9` sentinels and f32 arithmetic are kept so that ties and rankings come out the same.
//! Inputs whose result can no longer change are dropped from the decoder batch.

use rayon::prelude::*;

use super::candidates::{merge, scan_row, Best, Candidate, RowScoring};
use super::{
    check_rows, log_softmax_in_place, log_softmax_shift, stop_reason, EarlyStopping, GenerateError,
    GenerationConfig, Hypothesis, Logits, LogitsProcessors, StepDecoder,
};

/// transformers' "very large negative value".
const SENTINEL: f32 = -1.0e9;

/// One of the `num_beams` best finished hypotheses of an input (or a placeholder).
#[derive(Debug, Clone)]
struct Slot {
    sequence: Vec<u32>,
    score: f32,
    finished: bool,
}

/// The search state of one input.
#[derive(Debug, Clone)]
struct Item {
    running: Vec<Vec<u32>>,
    running_scores: Vec<f32>,
    slots: Vec<Slot>,
    improvable: bool,
    done: bool,
}

/// Indices of the `k` largest values, largest first, ties broken by lower index.
fn top_k_indices(values: &[f32], k: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[b].total_cmp(&values[a]).then(a.cmp(&b)));
    order.truncate(k);
    order
}

/// The `k` best continuations of one row (beam `beam` of its input, accumulated score `base`):
/// the row's log-softmax plus `base`, after the processors. When the processors only ban tokens
/// the log-softmax is never written (its shift is applied while scanning); otherwise it is, and
/// the processors run on it as in transformers.
fn best_of_row(
    row: &mut [f32],
    sequence: &[u32],
    processors: &LogitsProcessors,
    base: f32,
    beam: usize,
    k: usize,
) -> Vec<Candidate> {
    let mut best = Best::new(k);
    let (shift, log_sum) = if processors.only_bans(sequence, row.len()) {
        // The shift of the untouched row (banned tokens still count in the sum, as in
        // transformers, where the bans come after the log-softmax).
        let shift = log_softmax_shift(row).unwrap_or((0.0, 0.0));
        processors.ban(sequence, row);
        shift
    } else {
        log_softmax_in_place(row);
        processors.apply(sequence, row);
        (0.0, 0.0)
    };
    let scoring = RowScoring {
        shift,
        log_sum,
        base,
        beam,
    };
    scan_row(row, scoring, &mut best);
    best.into_vec()
}

/// Each row of `logits` repeated `times` times in a row.
fn repeat_rows(logits: &Logits, times: usize) -> Logits {
    let vocab = logits.vocab;
    let mut values = vec![0f32; logits.values.len() * times];
    values
        .par_chunks_mut(vocab)
        .enumerate()
        .for_each(|(row, target)| {
            target.copy_from_slice(&logits.values[(row / times) * vocab..][..vocab]);
        });
    Logits { values, vocab }
}

fn penalty_denominator(length: usize, length_penalty: f32) -> f32 {
    (length as f64).powf(f64::from(length_penalty)) as f32
}

/// Runs beam search over `batch` inputs of `num_beams` decoder rows each.
pub(super) fn search(
    decoder: &mut dyn StepDecoder,
    batch: usize,
    cfg: &GenerationConfig,
    processors: &LogitsProcessors,
) -> Result<Vec<Vec<Hypothesis>>, GenerateError> {
    let beams = cfg.num_beams;
    let keep = 2 * beams;
    let start = vec![cfg.decoder_start_token_id];
    let mut items: Vec<Item> = (0..batch)
        .map(|_| Item {
            running: vec![start.clone(); beams],
            running_scores: (0..beams)
                .map(|b| if b == 0 { 0.0 } else { SENTINEL })
                .collect(),
            slots: vec![
                Slot {
                    sequence: start.clone(),
                    score: SENTINEL,
                    finished: false,
                };
                beams
            ],
            improvable: true,
            done: false,
        })
        .collect();
    let mut active: Vec<usize> = (0..batch).collect();
    let mut cur_len = 1;
    // At the first step every beam of an input is the decoder start: the decoder holds one row
    // per input, and the rows are repeated `beams` times for the search (same values, so the
    // same result as decoding every beam) and then in the decoder by the first reorder.
    let mut first = true;
    while !active.is_empty() {
        let last: Vec<u32> = active
            .iter()
            .flat_map(|&i| items[i].running.iter().map(|s| s[s.len() - 1]))
            .collect();
        let mut logits = if first {
            let starts: Vec<u32> = last.iter().step_by(beams).copied().collect();
            let logits = decoder.step(&starts)?;
            check_rows(&logits, starts.len())?;
            repeat_rows(&logits, beams)
        } else {
            let logits = decoder.step(&last)?;
            check_rows(&logits, last.len())?;
            logits
        };
        let vocab = logits.vocab;
        // Every row's best continuations, in parallel (rows are independent), then each input's
        // over its beams.
        let sequences: Vec<(&Vec<u32>, f32)> = active
            .iter()
            .flat_map(|&i| {
                items[i]
                    .running
                    .iter()
                    .zip(items[i].running_scores.iter().copied())
            })
            .collect();
        let per_row: Vec<Vec<Candidate>> = logits
            .values
            .par_chunks_mut(vocab)
            .zip(sequences.par_iter())
            .enumerate()
            .map(|(row_index, (row, &(sequence, base)))| {
                best_of_row(row, sequence, processors, base, row_index % beams, keep)
            })
            .collect();
        let all_candidates: Vec<Vec<Candidate>> = per_row
            .chunks(beams)
            .map(|rows| merge(rows, keep))
            .collect();
        let at_max_length = cur_len + 1 >= cfg.max_length;
        let mut reorder = Vec::with_capacity(last.len());
        for ((position, &index), candidates) in active.iter().enumerate().zip(all_candidates) {
            let item = &mut items[index];
            let hits: Vec<bool> = candidates
                .iter()
                .map(|c| c.token == cfg.eos_token_id || at_max_length)
                .collect();

            // Running beams for the next step: the best candidates that did not stop.
            let running_scores: Vec<f32> = candidates
                .iter()
                .zip(&hits)
                .map(|(c, &hit)| c.score + if hit { SENTINEL } else { 0.0 })
                .collect();
            let next = top_k_indices(&running_scores, beams);

            // Finished slots: previous ones merged with the top `beams` candidates that stopped.
            let denominator = penalty_denominator(cur_len, cfg.length_penalty);
            let full =
                item.slots.iter().all(|s| s.finished) && cfg.early_stopping == EarlyStopping::Eager;
            let mut merged: Vec<Slot> = item.slots.clone();
            for (k, (candidate, &hit)) in candidates.iter().zip(&hits).enumerate() {
                let just_finished = hit && k < beams;
                let mut score = candidate.score / denominator;
                if full {
                    score += SENTINEL;
                }
                if !item.improvable {
                    score += SENTINEL;
                }
                if !just_finished {
                    score += SENTINEL;
                }
                let mut sequence = item.running[candidate.beam].clone();
                sequence.push(candidate.token);
                merged.push(Slot {
                    sequence,
                    score,
                    finished: just_finished,
                });
            }
            let merged_scores: Vec<f32> = merged.iter().map(|s| s.score).collect();
            item.slots = top_k_indices(&merged_scores, beams)
                .into_iter()
                .map(|k| merged[k].clone())
                .collect();

            let mut running = Vec::with_capacity(beams);
            let mut new_scores = Vec::with_capacity(beams);
            for &k in &next {
                let candidate = candidates[k];
                let mut sequence = item.running[candidate.beam].clone();
                sequence.push(candidate.token);
                running.push(sequence);
                new_scores.push(running_scores[k]);
                // The decoder row the continuation extends (one row per input at first).
                reorder.push(if first {
                    position
                } else {
                    position * beams + candidate.beam
                });
            }
            item.running = running;
            item.running_scores = new_scores;
        }
        cur_len += 1;

        for &index in &active {
            let item = &mut items[index];
            let hypothetical =
                if cfg.early_stopping == EarlyStopping::Never && cfg.length_penalty > 0.0 {
                    cfg.max_length - 1
                } else {
                    cur_len - 1
                };
            let best_possible =
                item.running_scores[0] / penalty_denominator(hypothetical, cfg.length_penalty);
            let worst_finished = item
                .slots
                .iter()
                .map(|s| s.score)
                .fold(f32::INFINITY, f32::min);
            item.improvable &= item
                .slots
                .iter()
                .any(|s| best_possible > if s.finished { worst_finished } else { SENTINEL });
            let all_finished = item.slots.iter().all(|s| s.finished);
            item.done = !item.improvable
                || (all_finished && cfg.early_stopping == EarlyStopping::Eager)
                || at_max_length;
        }

        let still: Vec<usize> = (0..active.len())
            .filter(|&p| !items[active[p]].done)
            .collect();
        if still.is_empty() {
            break;
        }
        let rows: Vec<usize> = still
            .iter()
            .flat_map(|&p| reorder[p * beams..(p + 1) * beams].iter().copied())
            .collect();
        decoder.reorder(&rows)?;
        active = still.iter().map(|&p| active[p]).collect();
        first = false;
    }

    Ok(items
        .into_iter()
        .map(|item| {
            item.slots
                .into_iter()
                .take(cfg.num_return_sequences)
                .map(|slot| {
                    let tokens = slot.sequence[1..].to_vec();
                    let stop = stop_reason(&tokens, cfg);
                    Hypothesis {
                        tokens,
                        score: slot.score,
                        stop,
                    }
                })
                .collect()
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top_k_indices_is_stable_on_ties() {
        assert_eq!(top_k_indices(&[1.0, 2.0, 2.0, 0.5], 3), vec![1, 2, 0]);
    }
}
