//! Logits processors, applied in transformers' order (`_get_logits_processor`): repetition
//! penalty, no-repeat n-grams, bad words, minimum length, forced BOS at the first step, forced EOS
//! at the maximum length, and
//! finally renormalisation (`renormalize_logits`).

use super::{log_softmax_in_place, GenerationConfig};

/// The processors enabled by one [`GenerationConfig`], applied to one row at a time.
#[derive(Debug, Clone)]
pub struct LogitsProcessors {
    repetition_penalty: Option<f32>,
    no_repeat_ngram_size: usize,
    banned_single: Vec<u32>,
    banned_sequences: Vec<Vec<u32>>,
    min_length: usize,
    forced_bos: Option<u32>,
    forced_eos: Option<(usize, u32)>,
    eos_token_id: u32,
    renormalize: bool,
}

impl LogitsProcessors {
    /// Prepares the processors for `cfg`.
    pub fn new(cfg: &GenerationConfig) -> Self {
        // Like NoBadWordsLogitsProcessor: EOS alone is never treated as a bad word.
        let bad: Vec<Vec<u32>> = cfg
            .bad_words_ids
            .iter()
            .filter(|seq| !seq.is_empty() && seq.as_slice() != [cfg.eos_token_id])
            .cloned()
            .collect();
        Self {
            repetition_penalty: (cfg.repetition_penalty != 1.0).then_some(cfg.repetition_penalty),
            no_repeat_ngram_size: cfg.no_repeat_ngram_size,
            banned_single: bad.iter().filter(|s| s.len() == 1).map(|s| s[0]).collect(),
            banned_sequences: bad.into_iter().filter(|s| s.len() > 1).collect(),
            min_length: cfg.min_length,
            forced_bos: cfg.forced_bos_token_id,
            forced_eos: cfg.forced_eos_token_id.map(|id| (cfg.max_length, id)),
            eos_token_id: cfg.eos_token_id,
            renormalize: cfg.renormalize_logits,
        }
    }

    /// True when [`Self::apply`] ends with a log-softmax (its scores are log-probabilities).
    pub fn renormalizes(&self) -> bool {
        self.renormalize
    }

    /// Processes the scores of one row whose tokens so far (decoder start included) are `sequence`.
    pub fn apply(&self, sequence: &[u32], scores: &mut [f32]) {
        if let Some(penalty) = self.repetition_penalty {
            // Each distinct token once; the sequence is short, the vocabulary is not.
            let vocab = scores.len();
            let mut distinct: Vec<u32> = sequence
                .iter()
                .copied()
                .filter(|&id| (id as usize) < vocab)
                .collect();
            distinct.sort_unstable();
            distinct.dedup();
            for id in distinct {
                let s = scores[id as usize];
                scores[id as usize] = if s < 0.0 { s * penalty } else { s / penalty };
            }
        }
        self.ban(sequence, scores);
        if let Some(token) = self.forced_token(sequence, scores.len()) {
            scores.fill(f32::NEG_INFINITY);
            scores[token as usize] = 0.0;
        }
        if self.renormalize {
            log_softmax_in_place(scores);
        }
    }

    /// True when [`Self::apply`] would only set some scores to `-inf` for this row (no penalty,
    /// no forced token, no renormalisation): then [`Self::ban`] does all of its work, and it
    /// does the same on raw logits as on log-probabilities.
    pub fn only_bans(&self, sequence: &[u32], vocab: usize) -> bool {
        self.repetition_penalty.is_none()
            && !self.renormalize
            && self.forced_token(sequence, vocab).is_none()
    }

    /// The bans of [`Self::apply`] (repeated n-grams, bad words, EOS before the minimum length):
    /// those scores become `-inf`.
    pub fn ban(&self, sequence: &[u32], scores: &mut [f32]) {
        let vocab = scores.len();
        let in_vocab = |id: u32| (id as usize) < vocab;
        let n = self.no_repeat_ngram_size;
        if n > 0 && sequence.len() >= n {
            let prefix = &sequence[sequence.len() + 1 - n..];
            for window in sequence.windows(n) {
                if &window[..n - 1] == prefix && in_vocab(window[n - 1]) {
                    scores[window[n - 1] as usize] = f32::NEG_INFINITY;
                }
            }
        }
        for &id in self.banned_single.iter().filter(|&&id| in_vocab(id)) {
            scores[id as usize] = f32::NEG_INFINITY;
        }
        for banned in &self.banned_sequences {
            let (last, prefix) = banned.split_last().expect("sequences are non-empty");
            if sequence.ends_with(prefix) && in_vocab(*last) {
                scores[*last as usize] = f32::NEG_INFINITY;
            }
        }
        if sequence.len() < self.min_length && in_vocab(self.eos_token_id) {
            scores[self.eos_token_id as usize] = f32::NEG_INFINITY;
        }
    }

    /// The token this row must produce next, if any: EOS at the last position (when forced),
    /// else the forced BOS as the first generated token.
    fn forced_token(&self, sequence: &[u32], vocab: usize) -> Option<u32> {
        let in_vocab = |id: u32| (id as usize) < vocab;
        if let Some((max_length, eos)) = self.forced_eos {
            if sequence.len() + 1 == max_length && in_vocab(eos) {
                return Some(eos);
            }
        }
        self.forced_bos
            .filter(|&bos| sequence.len() == 1 && in_vocab(bos))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::generate::EarlyStopping;

    fn config() -> GenerationConfig {
        GenerationConfig {
            num_beams: 1,
            num_return_sequences: 1,
            max_length: 6,
            min_length: 0,
            length_penalty: 1.0,
            early_stopping: EarlyStopping::Heuristic,
            bad_words_ids: vec![vec![4]],
            forced_bos_token_id: None,
            forced_eos_token_id: Some(0),
            no_repeat_ngram_size: 0,
            repetition_penalty: 1.0,
            renormalize_logits: false,
            eos_token_id: 0,
            pad_token_id: 4,
            decoder_start_token_id: 4,
        }
    }

    #[test]
    fn bans_pad_and_forces_eos_at_the_last_position() {
        let processors = LogitsProcessors::new(&config());
        let mut scores = vec![0.5, 1.0, 2.0, 3.0, 4.0];
        processors.apply(&[4, 1, 2], &mut scores);
        assert_eq!(scores[4], f32::NEG_INFINITY);
        assert_eq!(scores[3], 3.0);
        let mut scores = vec![0.5, 1.0, 2.0, 3.0, 4.0];
        processors.apply(&[4, 1, 2, 3, 1], &mut scores);
        assert_eq!(
            scores,
            vec![
                0.0,
                f32::NEG_INFINITY,
                f32::NEG_INFINITY,
                f32::NEG_INFINITY,
                f32::NEG_INFINITY
            ]
        );
    }

    #[test]
    fn only_bans_holds_exactly_where_apply_is_ban() {
        let cfg = GenerationConfig {
            min_length: 3,
            no_repeat_ngram_size: 2,
            ..config()
        };
        let processors = LogitsProcessors::new(&cfg);
        let scores: Vec<f32> = (0..5).map(|t| t as f32 - 1.5).collect();
        // Before the last position: bans only (pad, EOS before min_length, a repeated bigram).
        for sequence in [&[4u32, 1][..], &[4, 1, 2, 1]] {
            assert!(processors.only_bans(sequence, 5));
            let (mut applied, mut banned) = (scores.clone(), scores.clone());
            processors.apply(sequence, &mut applied);
            processors.ban(sequence, &mut banned);
            assert_eq!(applied, banned);
            assert!(banned.contains(&f32::NEG_INFINITY));
        }
        // The forced EOS at the last position, a repetition penalty, renormalisation: not bans.
        assert!(!processors.only_bans(&[4, 1, 2, 3, 1], 5));
        let penalized = LogitsProcessors::new(&GenerationConfig {
            repetition_penalty: 1.5,
            ..cfg.clone()
        });
        assert!(!penalized.only_bans(&[4, 1], 5));
        let renormalized = LogitsProcessors::new(&GenerationConfig {
            renormalize_logits: true,
            ..cfg
        });
        assert!(!renormalized.only_bans(&[4, 1], 5));
    }

    #[test]
    fn forced_bos_applies_only_to_the_first_generated_token() {
        let cfg = GenerationConfig {
            forced_bos_token_id: Some(2),
            forced_eos_token_id: None,
            ..config()
        };
        let processors = LogitsProcessors::new(&cfg);
        let mut scores = vec![1.0; 5];
        processors.apply(&[4], &mut scores);
        assert_eq!(
            scores,
            vec![
                f32::NEG_INFINITY,
                f32::NEG_INFINITY,
                0.0,
                f32::NEG_INFINITY,
                f32::NEG_INFINITY
            ]
        );
        let mut scores = vec![1.0; 5];
        processors.apply(&[4, 2], &mut scores);
        assert_eq!(scores[2], 1.0);
    }

    #[test]
    fn no_repeat_ngram_bans_the_completion_of_a_seen_bigram() {
        let cfg = GenerationConfig {
            no_repeat_ngram_size: 2,
            forced_eos_token_id: None,
            ..config()
        };
        let processors = LogitsProcessors::new(&cfg);
        let mut scores = vec![0.0; 5];
        processors.apply(&[4, 1, 2, 1], &mut scores);
        assert_eq!(scores[2], f32::NEG_INFINITY);
        assert_eq!(scores[1], 0.0);
    }

    #[test]
    fn repetition_penalty_depends_on_the_sign_and_applies_once() {
        let cfg = GenerationConfig {
            repetition_penalty: 2.0,
            forced_eos_token_id: None,
            ..config()
        };
        let processors = LogitsProcessors::new(&cfg);
        let mut scores = vec![1.0, -1.0, 4.0, 3.0, 0.0];
        processors.apply(&[4, 1, 2, 2], &mut scores);
        assert_eq!(scores[1], -2.0);
        assert_eq!(scores[2], 2.0);
        assert_eq!(scores[3], 3.0);
    }

    #[test]
    fn min_length_bans_eos_until_reached() {
        let cfg = GenerationConfig {
            min_length: 3,
            forced_eos_token_id: None,
            ..config()
        };
        let processors = LogitsProcessors::new(&cfg);
        let mut scores = vec![1.0; 5];
        processors.apply(&[4, 1], &mut scores);
        assert_eq!(scores[0], f32::NEG_INFINITY);
        let mut scores = vec![1.0; 5];
        processors.apply(&[4, 1, 2], &mut scores);
        assert_eq!(scores[0], 1.0);
    }
}
