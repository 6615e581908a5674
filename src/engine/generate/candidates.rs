//! The best continuations of a beam-search step. Each row's scores are read once, without being
//! written: the log-softmax's shift and the beam's score are applied on the fly, eight tokens at
//! a time, and only the rare token that beats the current `k`-th best is looked at one by one.
//!
//! The result is the one of a log-softmax written over the row followed by a scalar pass over
//! every token (same f32 arithmetic, same order, same tie rule), which is what the beam search
//! did before; a batch-32 beam-4 step of opus-mt has 7.6 million scores.

use std::cmp::Ordering;

/// A candidate continuation: accumulated score, beam it extends, token.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Candidate {
    /// Log-probability of the beam so far plus the token's.
    pub score: f32,
    /// Beam (within its input) the token extends.
    pub beam: usize,
    /// The token.
    pub token: u32,
}

/// The `k` best candidates offered so far, best first; of equal scores the one offered first
/// ranks higher, and once `k` are held a candidate must beat the worst of them to get in.
#[derive(Debug)]
pub(super) struct Best {
    list: Vec<Candidate>,
    k: usize,
}

impl Best {
    /// An empty list that keeps `k` candidates.
    pub fn new(k: usize) -> Self {
        Self {
            list: Vec::with_capacity(k + 1),
            k,
        }
    }

    /// Offers `candidate` (NaN and `-inf` never get into a full list).
    #[inline]
    pub fn offer(&mut self, candidate: Candidate) {
        if self.k == 0 {
            return;
        }
        if self.list.len() == self.k
            && candidate.score.partial_cmp(&self.list[self.k - 1].score) != Some(Ordering::Greater)
        {
            return;
        }
        let at = self.list.partition_point(|c| c.score >= candidate.score);
        self.list.insert(at, candidate);
        self.list.truncate(self.k);
    }

    /// The score a candidate must exceed to get in, once the list is full.
    fn threshold(&self) -> Option<f32> {
        (self.k > 0 && self.list.len() == self.k).then(|| self.list[self.k - 1].score)
    }

    /// The candidates held, best first.
    pub fn into_vec(self) -> Vec<Candidate> {
        self.list
    }
}

/// How one row's values become candidate scores: `((x - shift) - log_sum) + base` for beam
/// `beam`, i.e. the row's log-softmax (shift = its maximum, `log_sum` = ln Σ exp(row - shift))
/// plus the beam's score, bit for bit as when the log-softmax is written first. A shift and
/// `log_sum` of 0 score `x + base`.
#[derive(Debug, Clone, Copy)]
pub(super) struct RowScoring {
    /// Subtracted first (the row's maximum).
    pub shift: f32,
    /// Subtracted next (the log of the shifted exponentials' sum).
    pub log_sum: f32,
    /// Added last (the beam's accumulated score).
    pub base: f32,
    /// The beam the row continues.
    pub beam: usize,
}

impl RowScoring {
    #[inline]
    fn candidate(&self, x: f32, token: usize) -> Candidate {
        Candidate {
            score: ((x - self.shift) - self.log_sum) + self.base,
            beam: self.beam,
            token: token as u32,
        }
    }
}

/// Offers every token of `row` to `best`, in order, scored by `scoring`.
pub(super) fn scan_row(row: &[f32], scoring: RowScoring, best: &mut Best) {
    // Until the list is full every token gets in: one by one.
    let mut start = 0;
    while best.threshold().is_none() && start < row.len() {
        best.offer(scoring.candidate(row[start], start));
        start += 1;
    }
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx") {
            // SAFETY: the CPU supports AVX.
            unsafe { scan_tail_avx(row, start, scoring, best) };
            return;
        }
    }
    for (t, &x) in row.iter().enumerate().skip(start) {
        best.offer(scoring.candidate(x, t));
    }
}

/// [`scan_row`] from token `start` on, eight tokens per comparison against the current threshold.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx")]
unsafe fn scan_tail_avx(row: &[f32], start: usize, scoring: RowScoring, best: &mut Best) {
    use std::arch::x86_64::*;
    let rest = &row[start..];
    let (shift, log_sum, base) = (
        _mm256_set1_ps(scoring.shift),
        _mm256_set1_ps(scoring.log_sum),
        _mm256_set1_ps(scoring.base),
    );
    let threshold_of = |best: &Best| _mm256_set1_ps(best.threshold().unwrap_or(f32::NEG_INFINITY));
    let mut threshold = threshold_of(best);
    let mut chunks = rest.chunks_exact(8);
    let mut offset = start;
    for chunk in &mut chunks {
        // SAFETY: `chunk` holds eight values.
        let x = _mm256_loadu_ps(chunk.as_ptr());
        let s = _mm256_add_ps(_mm256_sub_ps(_mm256_sub_ps(x, shift), log_sum), base);
        // Ordered comparison: NaN never passes, as in `Best::offer`.
        if _mm256_movemask_ps(_mm256_cmp_ps::<_CMP_GT_OQ>(s, threshold)) != 0 {
            let mut scores = [0f32; 8];
            _mm256_storeu_ps(scores.as_mut_ptr(), s);
            for (lane, &value) in scores.iter().enumerate() {
                best.offer(Candidate {
                    score: value,
                    beam: scoring.beam,
                    token: (offset + lane) as u32,
                });
            }
            threshold = threshold_of(best);
        }
        offset += 8;
    }
    for (lane, &x) in chunks.remainder().iter().enumerate() {
        best.offer(scoring.candidate(x, offset + lane));
    }
}

/// The `k` best of several rows' candidates (each row's list from [`scan_row`] with its own
/// [`Best`] of `k`), as one scan over all rows in order would have found them.
pub(super) fn merge(rows: &[Vec<Candidate>], k: usize) -> Vec<Candidate> {
    let mut best = Best::new(k);
    for row in rows {
        // In token order, as the scan met them (a row's tokens are distinct).
        let mut in_order = row.clone();
        in_order.sort_by_key(|c| c.token);
        for candidate in in_order {
            best.offer(candidate);
        }
    }
    best.into_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The former search: log-softmax written, then a scalar pass over every beam and token.
    fn reference(rows: &[Vec<f32>], bases: &[f32], k: usize) -> Vec<Candidate> {
        let mut best = Best::new(k);
        for (beam, (row, &base)) in rows.iter().zip(bases).enumerate() {
            let log_probs = crate::engine::generate::log_softmax(row);
            for (token, &x) in log_probs.iter().enumerate() {
                best.offer(Candidate {
                    score: x + base,
                    beam,
                    token: token as u32,
                });
            }
        }
        best.into_vec()
    }

    fn fused(rows: &[Vec<f32>], bases: &[f32], k: usize) -> Vec<Candidate> {
        let per_row: Vec<Vec<Candidate>> = rows
            .iter()
            .zip(bases)
            .enumerate()
            .map(|(beam, (row, &base))| {
                let mut best = Best::new(k);
                let (shift, log_sum) =
                    crate::engine::generate::log_softmax_shift(row).unwrap_or((0.0, 0.0));
                let scoring = RowScoring {
                    shift,
                    log_sum,
                    base,
                    beam,
                };
                scan_row(row, scoring, &mut best);
                best.into_vec()
            })
            .collect();
        merge(&per_row, k)
    }

    #[test]
    fn the_fused_scan_equals_log_softmax_then_a_full_pass() {
        // Vocabulary-sized rows with many exact ties (values on a coarse grid) and odd lengths.
        for (vocab, beams, k) in [(59_514, 4, 8), (37, 3, 6), (5, 2, 4), (1000, 5, 10)] {
            let rows: Vec<Vec<f32>> = (0..beams)
                .map(|b| {
                    (0..vocab)
                        .map(|t| (((t * 7919 + b * 104_729) % 251) as f32) * 0.0625 - 8.0)
                        .collect()
                })
                .collect();
            let bases: Vec<f32> = (0..beams).map(|b| -(b as f32) * 0.03125).collect();
            let want = reference(&rows, &bases, k);
            assert_eq!(
                fused(&rows, &bases, k),
                want,
                "vocab {vocab}, beams {beams}"
            );
            assert_eq!(want.len(), k.min(vocab * beams));
        }
    }

    #[test]
    fn banned_and_sentinel_rows_rank_like_the_reference() {
        // A row of -inf but one token, a beam at the -1e9 sentinel, a row without finite values.
        let mut forced = vec![f32::NEG_INFINITY; 20];
        forced[3] = 0.0;
        let plain: Vec<f32> = (0..20).map(|t| (t % 5) as f32).collect();
        let empty = vec![f32::NEG_INFINITY; 20];
        let rows = vec![forced, plain.clone(), empty, plain];
        let bases = [0.0, -1.0e9, -0.5, -2.0];
        assert_eq!(fused(&rows, &bases, 8), reference(&rows, &bases, 8));
    }

    #[test]
    fn ties_keep_the_earlier_beam_and_token() {
        let rows = vec![vec![1.0, 2.0, 2.0, 0.0], vec![2.0, 1.0, 2.0, 2.0]];
        let picked: Vec<(usize, u32)> = fused(&rows, &[0.0, 0.0], 4)
            .iter()
            .map(|c| (c.beam, c.token))
            .collect();
        assert_eq!(picked, vec![(0, 1), (0, 2), (1, 0), (1, 2)]);
    }
}
