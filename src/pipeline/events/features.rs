//! What the event classifier reads of one English sentence: its sentence embedding (names of
//! people masked, see [`crate::pipeline::persons::mask_persons`]), the words it uses, as hashed
//! unigrams and bigrams (the "hashing trick" of Weinberger et al., *Feature Hashing for Large
//! Scale Multitask Learning*, 2009), and which PLOVER types' trigger words it contains
//! ([`CueLexicon`], `models/event_cues.json`: the dictionaries of the older event coders, as
//! features the classifier weighs). The same functions serve training
//! (`examples/event_features.rs`) and inference, so both see the same numbers.

use std::collections::BTreeMap;

/// Buckets the word n-grams are hashed into by the feature dump; a head uses a divisor of it
/// (the residues of these buckets).
pub const HASH_BUCKETS: usize = 4096;

/// FNV-1a, 32 bits: a stable hash (the standard library's is randomised per process).
fn fnv1a(bytes: &[u8]) -> u32 {
    let mut hash: u32 = 0x811c_9dc5;
    for &b in bytes {
        hash ^= u32::from(b);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    hash
}

/// The lower-cased words of `sentence` (letters and digits; apostrophes split words).
pub fn words(sentence: &str) -> Vec<String> {
    sentence
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// The distinct hash buckets (out of `buckets`) of the sentence's unigrams and bigrams, sorted:
/// a binary bag of words whose vector has a 1 at each of these indices.
pub fn ngram_buckets(sentence: &str, buckets: usize) -> Vec<u32> {
    let modulus = buckets.max(1) as u32;
    let words = words(sentence);
    let mut buckets: Vec<u32> = words
        .iter()
        .map(|w| fnv1a(w.as_bytes()))
        .chain(
            words
                .windows(2)
                .map(|pair| fnv1a(format!("{} {}", pair[0], pair[1]).as_bytes())),
        )
        .map(|h| h % modulus)
        .collect();
    buckets.sort_unstable();
    buckets.dedup();
    buckets
}

/// The committed trigger-word lists, compiled into the binary.
const BUILTIN_CUES: &str = include_str!("../../../models/event_cues.json");

/// Trigger words per PLOVER type: each cue is one or more word prefixes matched in order at word
/// starts; a cue word of three letters or fewer must match a whole word.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CueLexicon {
    /// Version of the lists.
    pub version: String,
    /// Cues by type.
    pub types: BTreeMap<String, Vec<String>>,
}

impl CueLexicon {
    /// The lists of `models/event_cues.json`.
    pub fn builtin() -> Self {
        serde_json::from_str(BUILTIN_CUES)
            .expect("models/event_cues.json is valid: a unit test checks it; this is a bug")
    }

    /// Per type of `types` (in that order), 1.0 when one of its cues occurs in `sentence`.
    pub fn hits(&self, sentence: &str, types: &[String]) -> Vec<f32> {
        let words = words(sentence);
        types
            .iter()
            .map(|kind| {
                let cues = self.types.get(kind).map(Vec::as_slice).unwrap_or(&[]);
                let found = cues.iter().any(|cue| {
                    let parts: Vec<&str> = cue.split_whitespace().collect();
                    !parts.is_empty()
                        && words.windows(parts.len()).any(|window| {
                            window.iter().zip(&parts).all(|(word, part)| {
                                if part.chars().count() <= 3 {
                                    word == part
                                } else {
                                    word.starts_with(part)
                                }
                            })
                        })
                });
                if found {
                    1.0
                } else {
                    0.0
                }
            })
            .collect()
    }
}

/// One sentence's features.
#[derive(Debug, Clone, PartialEq)]
pub struct SentenceFeatures<'a> {
    /// The L2-normalised sentence embedding.
    pub embedding: &'a [f32],
    /// [`ngram_buckets`] of the English sentence.
    pub buckets: Vec<u32>,
    /// [`CueLexicon::hits`] of the English sentence, in the classifier's type order.
    pub cues: Vec<f32>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_stable_sorted_and_distinct() {
        let a = ngram_buckets(
            "Troops shelled the town; troops shelled it again.",
            HASH_BUCKETS,
        );
        let b = ngram_buckets(
            "troops SHELLED the town troops shelled it again",
            HASH_BUCKETS,
        );
        assert_eq!(a, b, "case and punctuation do not matter");
        assert!(a.windows(2).all(|w| w[0] < w[1]));
        assert!(a.iter().all(|&x| (x as usize) < HASH_BUCKETS));
        // troops, shelled, the, town, it, again + bigrams (troops shelled, shelled the, the town,
        // town troops, shelled it, it again) = at most 12 distinct buckets.
        assert!(a.len() <= 12 && a.len() >= 10, "{a:?}");
        // FNV-1a of "a" is a known constant.
        assert_eq!(fnv1a(b"a"), 0xe40c_292c);
        assert!(ngram_buckets("", 7).is_empty());
        let small = ngram_buckets("Troops shelled the town.", 1024);
        let mut residues: Vec<u32> = ngram_buckets("Troops shelled the town.", HASH_BUCKETS)
            .into_iter()
            .map(|b| b % 1024)
            .collect();
        residues.sort_unstable();
        residues.dedup();
        assert_eq!(
            small, residues,
            "fewer buckets are the residues of the dump's"
        );
    }

    #[test]
    fn cues_match_word_prefixes_phrases_and_short_whole_words() {
        let lexicon = CueLexicon::builtin();
        let types: Vec<String> = ["CONSULT", "COERCE", "REQUEST", "ASSAULT"]
            .iter()
            .map(|t| t.to_string())
            .collect();
        // "arrest" is a prefix of "arrested"; "called on" is a two-word cue.
        let hits = lexicon.hits(
            "Police arrested 40 people and called on others to leave.",
            &types,
        );
        assert_eq!(hits, vec![0.0, 1.0, 1.0, 0.0]);
        // "met" must be a whole word: "method" is not a meeting.
        assert_eq!(lexicon.hits("A new method.", &types), vec![0.0; 4]);
        assert_eq!(lexicon.hits("They met in Rabat.", &types)[0], 1.0);
        assert_eq!(lexicon.types.len(), 16);
    }
}
