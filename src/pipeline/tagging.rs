//! Zero-shot event tagging with sentence embeddings: every sentence of an article is compared
//! (cosine) with each tag's description and example sentences from the taxonomy; a tag's
//! sentence score is its best match, its article score the best sentence score, and the tag is
//! kept when that score reaches the tag's threshold — or a lower one when the tag is the
//! sentence's best (a sentence clearly about one event type supports it with a modest score).
//! Thresholds are calibrated on the project's labelled set (`tests/data/eval/`, `scripts/evaluate_tags.sh`) and stored with the name of
//! the embedding model they hold for (`models/tag_thresholds.json`). The best sentence is the
//! tag's evidence; its status (planned, occurred) comes from the taxonomy's cue words, read in
//! the original French sentence first and in the English one if the French says nothing.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::taxonomy::{EventStatus, Taxonomy};
use crate::models::embedding::{EmbedError, SentenceEmbedder};

/// The committed thresholds, compiled into the binary.
const BUILTIN_THRESHOLDS: &str = include_str!("../../models/tag_thresholds.json");

/// Per-tag score thresholds for one embedding model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TagThresholds {
    /// The embedding model the thresholds were calibrated for.
    pub embedding_model: String,
    /// How they were calibrated (data set, date, method).
    #[serde(default)]
    pub calibration: String,
    /// Threshold for tags without their own.
    pub default: f32,
    /// Lower threshold for a tag that is a sentence's best-scoring tag: a sentence that is
    /// clearly more about one tag than any other supports it below `default`. `None` = off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_tag: Option<f32>,
    /// Thresholds by tag id.
    #[serde(default)]
    pub tags: BTreeMap<String, f32>,
}

/// Why thresholds could not be loaded.
#[derive(Debug, Error)]
pub enum ThresholdsError {
    /// The file is missing or unreadable.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The I/O failure.
        source: std::io::Error,
    },
    /// The file is not valid thresholds JSON.
    #[error("{path} is not a valid thresholds file: {source}")]
    Parse {
        /// The file.
        path: String,
        /// The parse failure.
        source: serde_json::Error,
    },
}

impl TagThresholds {
    /// The committed thresholds (calibrated for all-MiniLM-L6-v2).
    pub fn builtin() -> Self {
        serde_json::from_str(BUILTIN_THRESHOLDS)
            .expect("models/tag_thresholds.json is valid: a unit test checks it; this is a bug")
    }

    /// Reads a thresholds file.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, ThresholdsError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| ThresholdsError::Io {
            path: path.display().to_string(),
            source,
        })?;
        serde_json::from_str(&text).map_err(|source| ThresholdsError::Parse {
            path: path.display().to_string(),
            source,
        })
    }

    /// The threshold of tag `id`.
    pub fn of(&self, id: &str) -> f32 {
        self.tags.get(id).copied().unwrap_or(self.default)
    }
}

/// One sentence to tag: its English text, the original it was translated from, its embedding.
#[derive(Debug, Clone, Copy)]
pub struct TagInput<'a> {
    /// The English sentence.
    pub text: &'a str,
    /// The French original, when the sentence is a translation.
    pub original: Option<&'a str>,
    /// The L2-normalised embedding of `text`.
    pub embedding: &'a [f32],
}

/// A tag found in an article.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TagHit {
    /// Tag id from the taxonomy.
    pub id: String,
    /// Tag label.
    pub label: String,
    /// Article score: the best sentence's cosine similarity to the tag.
    pub score: f32,
    /// Planned, occurred or unclear.
    pub status: EventStatus,
    /// Index of the evidence sentence in the input.
    pub evidence: usize,
    /// CAMEO root code.
    pub cameo: String,
    /// PLOVER event type.
    pub plover: Option<String>,
}

/// `sentence` with the names of people removed (found by [`crate::pipeline::persons`]): names
/// say nothing about the kind of event and pull embeddings towards unrelated sentences.
pub fn mask_persons(sentence: &str) -> String {
    let persons = crate::pipeline::persons::find_persons(sentence, &[]);
    if persons.is_empty() {
        return sentence.to_string();
    }
    let mut out = String::with_capacity(sentence.len());
    let mut at = 0;
    for person in persons {
        out.push_str(&sentence[at..person.span.start]);
        at = person.span.end;
    }
    out.push_str(&sentence[at..]);
    // Tidy what the removal leaves: doubled spaces, « , , », a space before punctuation.
    let mut tidy = out.split_whitespace().collect::<Vec<_>>().join(" ");
    for (from, to) in [
        (" ,", ","),
        (",,", ","),
        (" .", "."),
        ("’s", ""),
        ("'s", ""),
    ] {
        tidy = tidy.replace(from, to);
    }
    tidy
}

/// The evidence an article has for one tag.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct TagEvidence {
    /// Best sentence score and that sentence's index.
    pub best: Option<(f32, usize)>,
    /// Best score among sentences whose highest-scoring tag this is, with the index.
    pub best_as_top: Option<(f32, usize)>,
}

/// Scores sentences against the taxonomy's tags.
pub struct TagScorer {
    taxonomy: Taxonomy,
    thresholds: TagThresholds,
    /// Per tag, the embeddings of its description and examples.
    prototypes: Vec<Vec<Vec<f32>>>,
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

impl TagScorer {
    /// Embeds every tag's description and examples with `embedder`.
    pub fn new(
        taxonomy: Taxonomy,
        thresholds: TagThresholds,
        embedder: &SentenceEmbedder,
    ) -> Result<Self, EmbedError> {
        let mut prototypes = Vec::with_capacity(taxonomy.tags.len());
        for tag in &taxonomy.tags {
            let texts: Vec<&str> = std::iter::once(tag.description.as_str())
                .chain(tag.examples.iter().map(String::as_str))
                .collect();
            prototypes.push(embedder.embed(&texts)?);
        }
        Ok(Self::from_parts(taxonomy, thresholds, prototypes))
    }

    /// A scorer from precomputed prototype embeddings (one list per tag, in taxonomy order).
    pub fn from_parts(
        taxonomy: Taxonomy,
        thresholds: TagThresholds,
        prototypes: Vec<Vec<Vec<f32>>>,
    ) -> Self {
        Self {
            taxonomy,
            thresholds,
            prototypes,
        }
    }

    /// The taxonomy in use.
    pub fn taxonomy(&self) -> &Taxonomy {
        &self.taxonomy
    }

    /// The thresholds in use.
    pub fn thresholds(&self) -> &TagThresholds {
        &self.thresholds
    }

    /// The similarity of one sentence embedding to every tag (taxonomy order): the best cosine
    /// over the tag's description and examples.
    pub fn sentence_scores(&self, embedding: &[f32]) -> Vec<f32> {
        self.prototypes
            .iter()
            .map(|vectors| {
                vectors
                    .iter()
                    .map(|p| dot(p, embedding))
                    .fold(f32::NEG_INFINITY, f32::max)
            })
            .collect()
    }

    /// Per tag (taxonomy order): its best sentence score with the sentence's index, and the
    /// best score among the sentences whose top tag it is.
    pub fn article_evidence(&self, sentences: &[TagInput<'_>]) -> Vec<TagEvidence> {
        let per_sentence: Vec<Vec<f32>> = sentences
            .iter()
            .map(|s| self.sentence_scores(s.embedding))
            .collect();
        self.evidence_from(&per_sentence)
    }

    /// [`Self::article_evidence`] from sentence scores already computed.
    fn evidence_from(&self, per_sentence: &[Vec<f32>]) -> Vec<TagEvidence> {
        let mut evidence = vec![TagEvidence::default(); self.prototypes.len()];
        for (index, scores) in per_sentence.iter().enumerate() {
            let top = scores
                .iter()
                .enumerate()
                .max_by(|a, b| a.1.total_cmp(b.1))
                .map(|(t, _)| t);
            for (tag, &score) in scores.iter().enumerate() {
                let e = &mut evidence[tag];
                if e.best.is_none_or(|(b, _)| score > b) {
                    e.best = Some((score, index));
                }
                if top == Some(tag) && e.best_as_top.is_none_or(|(b, _)| score > b) {
                    e.best_as_top = Some((score, index));
                }
            }
        }
        evidence
    }

    /// Whether `evidence` passes the thresholds of tag `id`; the supporting score and sentence.
    pub fn decide(&self, id: &str, evidence: &TagEvidence) -> Option<(f32, usize)> {
        let threshold = self.thresholds.of(id);
        if let Some(best) = evidence.best.filter(|(score, _)| *score >= threshold) {
            return Some(best);
        }
        let top = self.thresholds.top_tag?;
        evidence.best_as_top.filter(|(score, _)| *score >= top)
    }

    /// The tags of an article, best first: those whose best sentence reaches the tag's
    /// threshold, or that are some sentence's top tag above the lower `top_tag` threshold; each
    /// with its evidence sentence and status.
    pub fn tag(&self, sentences: &[TagInput<'_>]) -> Vec<TagHit> {
        if sentences.is_empty() {
            return Vec::new();
        }
        let per_sentence: Vec<Vec<f32>> = sentences
            .iter()
            .map(|s| self.sentence_scores(s.embedding))
            .collect();
        let evidence = self.evidence_from(&per_sentence);
        let mut hits = Vec::new();
        for (t, spec) in self.taxonomy.tags.iter().enumerate() {
            let Some((score, index)) = self.decide(&spec.id, &evidence[t]) else {
                continue;
            };
            // Status: the sentences close to the tag vote with their scores (the evidence
            // sentence twice); sentences without a cue abstain.
            let floor = self
                .thresholds
                .top_tag
                .unwrap_or(score)
                .min(score)
                .min(self.thresholds.of(&spec.id));
            let (mut planned, mut occurred) = (0.0f32, 0.0f32);
            for (i, sentence) in sentences.iter().enumerate() {
                let s = per_sentence[i][t];
                if s < floor {
                    continue;
                }
                let weight = if i == index { 2.0 * s } else { s };
                match self.status_of(sentence) {
                    EventStatus::Planned => planned += weight,
                    EventStatus::Occurred => occurred += weight,
                    EventStatus::Unclear => {}
                }
            }
            let status = if planned > occurred {
                EventStatus::Planned
            } else if occurred > planned {
                EventStatus::Occurred
            } else {
                self.status_of(&sentences[index])
            };
            hits.push(TagHit {
                id: spec.id.clone(),
                label: spec.label.clone(),
                score,
                status,
                evidence: index,
                cameo: spec.cameo.clone(),
                plover: spec.plover.clone(),
            });
        }
        hits.sort_by(|a, b| b.score.total_cmp(&a.score));
        hits
    }

    /// The status of one sentence: the French original's cues first, then the English ones.
    fn status_of(&self, sentence: &TagInput<'_>) -> EventStatus {
        let original = sentence
            .original
            .map(|o| self.taxonomy.status_of(o))
            .unwrap_or(EventStatus::Unclear);
        if original != EventStatus::Unclear {
            return original;
        }
        self.taxonomy.status_of(sentence.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(v: &[f32]) -> Vec<f32> {
        let n = dot(v, v).sqrt();
        v.iter().map(|x| x / n).collect()
    }

    fn scorer() -> TagScorer {
        let taxonomy = Taxonomy::builtin();
        let count = taxonomy.tags.len();
        // Tag i's prototype is the i-th axis of a space with one axis per tag.
        let prototypes = (0..count)
            .map(|i| {
                let mut v = vec![0.0; count];
                v[i] = 1.0;
                vec![v]
            })
            .collect();
        let thresholds = TagThresholds {
            embedding_model: "test".into(),
            calibration: String::new(),
            default: 0.6,
            top_tag: None,
            tags: BTreeMap::from([(taxonomy.tags[1].id.clone(), 0.95)]),
        };
        TagScorer::from_parts(taxonomy, thresholds, prototypes)
    }

    #[test]
    fn a_sentences_top_tag_passes_the_lower_threshold() {
        let mut scorer = scorer();
        let count = scorer.taxonomy().tags.len();
        let mut v = vec![0.0; count];
        v[3] = 0.5;
        v[4] = 0.4;
        v[5] = 0.76;
        let e = unit(&v); // about 0.49, 0.39 and 0.75
        let sentences = [TagInput {
            text: "x",
            original: None,
            embedding: &e,
        }];
        let ids: Vec<String> = scorer.tag(&sentences).into_iter().map(|h| h.id).collect();
        assert_eq!(ids, vec![scorer.taxonomy().tags[5].id.clone()]);
        scorer.thresholds.default = 0.8;
        assert!(scorer.tag(&sentences).is_empty());
        scorer.thresholds.top_tag = Some(0.7);
        let ids: Vec<String> = scorer.tag(&sentences).into_iter().map(|h| h.id).collect();
        assert_eq!(
            ids,
            vec![scorer.taxonomy().tags[5].id.clone()],
            "the top tag passes 0.7"
        );
        scorer.thresholds.top_tag = Some(0.4);
        assert_eq!(
            scorer.tag(&sentences).len(),
            1,
            "only the top tag gets the lower threshold"
        );
    }

    #[test]
    fn builtin_thresholds_parse_and_name_their_model() {
        let thresholds = TagThresholds::builtin();
        assert!(thresholds.embedding_model.contains("all-MiniLM-L6-v2"));
        assert!(thresholds.default > 0.0 && thresholds.default < 1.0);
        let taxonomy = Taxonomy::builtin();
        for id in thresholds.tags.keys() {
            assert!(taxonomy.tag(id).is_some(), "threshold for unknown tag {id}");
        }
    }

    #[test]
    fn tags_above_threshold_with_evidence_and_status() {
        let scorer = scorer();
        let count = scorer.taxonomy().tags.len();
        let mut near_0 = vec![0.0; count];
        near_0[0] = 0.9;
        near_0[2] = 0.3;
        let mut near_1 = vec![0.0; count];
        near_1[1] = 0.9; // below tag 1's own threshold of 0.95
        near_1[0] = 0.4;
        let (a, b) = (unit(&near_0), unit(&near_1));
        let sentences = [
            TagInput {
                text: "The minister will travel to Rabat next week.",
                original: Some("Le ministre se rendra à Rabat la semaine prochaine."),
                embedding: &b,
            },
            TagInput {
                text: "The talks took place on Monday.",
                original: None,
                embedding: &a,
            },
        ];
        let hits = scorer.tag(&sentences);
        assert_eq!(hits.len(), 1, "{hits:?}");
        assert_eq!(hits[0].id, scorer.taxonomy().tags[0].id);
        assert_eq!(hits[0].evidence, 1);
        assert_eq!(hits[0].status, EventStatus::Occurred);
        assert!(hits[0].score > 0.9);
        assert!(scorer.tag(&[]).is_empty());
    }
}
