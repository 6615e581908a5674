//! Event records: what happened, who did it to whom, where, when, how sure, and on which
//! sentences it rests — in the form event-data analysts use (PLOVER, Open Event Data Alliance,
//! github.com/openeventdata/PLOVER; POLECAT).
//!
//! Every sentence is scored by the supervised [`head`] (a probability per PLOVER type, from the
//! sentence embedding and its words); the sentences of one type make one event, whose evidence
//! they are. Its mode comes from the head's mode classifier, its analyst label from the taxonomy
//! tags of that type (the closest by sentence embedding), its status from the French original's
//! verb forms first ([`status`]), its date from the dateline and the sentence ([`dates`]), its
//! actors and place from the sentence's phrases ([`actors`]). Events are ordered by importance:
//! probability, discounted by how late in the article the event first appears (news puts the main
//! facts first).

pub mod actors;
pub mod dates;
pub mod features;
pub mod head;
pub mod labelled;
pub mod status;

use chrono::NaiveDate;
use serde::Serialize;
use utoipa::ToSchema;

use self::actors::{participants, ActorPhrase, Sector};
use self::dates::{resolve_dates, story_start, ResolvedDate, Tense};
use self::head::EventHead;
use self::status::{attribution, event_status, EventStatus};
use super::gazetteer::{Entity, EntityMention};
use super::taxonomy::Taxonomy;

/// How much later sentences count less when events are ranked: the weight of sentence `i`
/// (0-based) is `1 / (1 + i · POSITION_DISCOUNT)`.
pub const POSITION_DISCOUNT: f32 = 0.1;

/// An actor of an event.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct EventActor {
    /// The phrase as written in the English sentence ("the Malian army").
    pub text: String,
    /// Index into the brief's `entities` of the entity it names, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entity: Option<usize>,
    /// The country it belongs to, where the phrase says so.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// Government, military, police, armed group, civilians, IGO, business — where its words say so.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sector: Option<Sector>,
}

/// A sentence an event rests on.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct EventEvidence {
    /// The sentence's index in the article (0-based, over all paragraphs).
    pub sentence: usize,
    /// The English sentence.
    pub text: String,
    /// The original, when translated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// The translation's score, when translated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub translation_score: Option<f32>,
    /// True when the translation of this sentence has low confidence: check it against the original.
    pub low_confidence: bool,
    /// The classifier's probability that this sentence states the event.
    pub probability: f32,
}

/// One event the article reports.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct EventRecord {
    /// PLOVER event type (AGREE … ASSAULT).
    #[serde(rename = "type")]
    pub kind: String,
    /// PLOVER mode of the type, where one is recognised.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    /// The analyst label's taxonomy id.
    pub tag: String,
    /// The analyst label.
    pub label: String,
    /// CAMEO root code of the label.
    pub cameo: String,
    /// Calibrated probability that the article states this event (its best sentence's).
    pub confidence: f32,
    /// Who acts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<EventActor>,
    /// Who is acted on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<EventActor>,
    /// Where it happened.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<EventActor>,
    /// When: first and last day, granularity, and the words it came from (in the article's language).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date: Option<ResolvedDate>,
    /// Occurred, planned, threatened, denied or reported-unconfirmed.
    pub status: EventStatus,
    /// The words that decided the status (in the original language), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_cue: Option<String>,
    /// Who the article says it from ("the Interior Ministry").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attribution: Option<String>,
    /// The sentences it rests on, the main one first.
    pub evidence: Vec<EventEvidence>,
    /// True when the main evidence sentence's translation has low confidence.
    pub low_confidence_evidence: bool,
}

/// One sentence as the extractor sees it.
#[derive(Debug, Clone, Copy)]
pub struct EventSentence<'a> {
    /// The English sentence.
    pub english: &'a str,
    /// The English sentence with people's names masked (what the classifier reads).
    pub masked: &'a str,
    /// The French original, when translated.
    pub original: Option<&'a str>,
    /// Its embedding (of `masked`).
    pub embedding: &'a [f32],
    /// The translation's score, when translated.
    pub translation_score: Option<f32>,
    /// Low-confidence translation.
    pub low_confidence: bool,
}

/// Finds the event records of an article.
pub struct EventExtractor {
    head: EventHead,
    taxonomy: Taxonomy,
    /// Per taxonomy tag, the embeddings of its description and examples (label choice).
    prototypes: Vec<Vec<Vec<f32>>>,
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

impl EventExtractor {
    /// An extractor over a trained head and the taxonomy whose tags label its types, with the
    /// embeddings of each tag's description and examples (taxonomy order).
    pub fn new(head: EventHead, taxonomy: Taxonomy, prototypes: Vec<Vec<Vec<f32>>>) -> Self {
        Self {
            head,
            taxonomy,
            prototypes,
        }
    }

    /// The taxonomy whose tags label the events.
    pub fn taxonomy(&self) -> &Taxonomy {
        &self.taxonomy
    }

    /// The classifier.
    pub fn head(&self) -> &EventHead {
        &self.head
    }

    /// The taxonomy tag that labels an event of `kind` and `mode` in a sentence with this
    /// embedding: among the tags of the type (narrowed to those listing the mode, when some
    /// do), the one whose description or examples are closest to the sentence.
    fn label(&self, kind: &str, mode: Option<&str>, embedding: &[f32]) -> Option<usize> {
        let of_type: Vec<usize> = (0..self.taxonomy.tags.len())
            .filter(|&t| self.taxonomy.tags[t].plover.as_deref() == Some(kind))
            .collect();
        let with_mode: Vec<usize> = of_type
            .iter()
            .copied()
            .filter(|&t| mode.is_some_and(|m| self.taxonomy.tags[t].modes.iter().any(|x| x == m)))
            .collect();
        let candidates = if with_mode.is_empty() {
            of_type
        } else {
            with_mode
        };
        candidates.into_iter().max_by(|&a, &b| {
            let score = |t: usize| {
                self.prototypes
                    .get(t)
                    .map(|ps| {
                        ps.iter()
                            .map(|p| dot(p, embedding))
                            .fold(f32::NEG_INFINITY, f32::max)
                    })
                    .unwrap_or(f32::NEG_INFINITY)
            };
            score(a).total_cmp(&score(b))
        })
    }

    /// The per-type probabilities of each sentence.
    pub fn sentence_probabilities(&self, sentences: &[EventSentence<'_>]) -> Vec<Vec<f32>> {
        sentences
            .iter()
            .map(|s| {
                self.head
                    .probabilities(&self.head.features(s.masked, s.embedding))
            })
            .collect()
    }

    /// The event records of an article, most important first. `anchor` is the publication date
    /// (from the dateline) that relative dates resolve against; `mentions` are the entity
    /// mentions of each sentence (offsets into its English text); `entities` the brief's
    /// entity list, which actors point into.
    pub fn extract(
        &self,
        sentences: &[EventSentence<'_>],
        anchor: NaiveDate,
        mentions: &[Vec<EntityMention>],
        entities: &[Entity],
    ) -> Vec<EventRecord> {
        let probabilities = self.sentence_probabilities(sentences);
        let threshold = self.head.threshold();
        // An article reports events only when its sentences state some clearly enough.
        let best: Vec<f32> = probabilities
            .iter()
            .map(|p| p.iter().copied().fold(0.0f32, f32::max))
            .collect();
        if !self.head.reports_events(&best) {
            return Vec::new();
        }
        let mut records: Vec<(f32, EventRecord)> = Vec::new();
        for (t, kind) in self.head.types().iter().enumerate() {
            let mut evidence: Vec<(usize, f32)> = probabilities
                .iter()
                .enumerate()
                .map(|(i, p)| (i, p[t]))
                .filter(|(_, p)| *p >= threshold)
                .collect();
            let best = evidence.iter().map(|(_, p)| *p).fold(0.0f32, f32::max);
            if best < self.head.article_threshold() {
                continue;
            }
            let importance = evidence
                .iter()
                .map(|&(i, p)| p / (1.0 + i as f32 * POSITION_DISCOUNT))
                .fold(0.0f32, f32::max);
            // The main sentence is the first that states the event clearly (news states it
            // fully first, then adds details and reactions); the others follow, most probable first.
            let article_threshold = self.head.article_threshold();
            let lead = evidence
                .iter()
                .position(|&(_, p)| p >= article_threshold)
                .unwrap_or(0);
            let first = evidence.remove(lead);
            evidence.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            evidence.insert(0, first);
            let main = first.0;
            let confidence = best;
            let sentence = &sentences[main];
            let mode = self
                .head
                .mode(kind, sentence.embedding)
                .map(|(mode, _)| mode);
            let Some(tag) = self.label(kind, mode.as_deref(), sentence.embedding) else {
                continue;
            };
            let tag = &self.taxonomy.tags[tag];
            // The first sentence may open with the dateline: actors and dates come after it.
            let skip = if main == 0 {
                story_start(sentence.english)
            } else {
                0
            };
            let english = &sentence.english[skip..];
            let original = sentence
                .original
                .map(|o| if main == 0 { &o[story_start(o)..] } else { o });
            let status = event_status(original, english);
            let said = attribution(english);
            let shifted: Vec<EntityMention> = mentions
                .get(main)
                .map(Vec::as_slice)
                .unwrap_or(&[])
                .iter()
                .filter(|m| m.start >= skip)
                .map(|m| EntityMention {
                    start: m.start - skip,
                    end: m.end - skip,
                    ..m.clone()
                })
                .collect();
            let found = participants(english, &shifted, said.as_ref().map(|a| &a.span));
            let tense = match status.status {
                EventStatus::Planned | EventStatus::Threatened => Tense::Future,
                _ => Tense::Past,
            };
            // The date in the original language: the French sentence's words.
            let dated = original.unwrap_or(english);
            let date = resolve_dates(dated, anchor, tense).into_iter().next();
            let actor = |phrase: ActorPhrase| EventActor {
                entity: phrase.entity.as_ref().and_then(|(name, kind)| {
                    entities
                        .iter()
                        .position(|e| &e.text == name && e.kind == *kind)
                }),
                text: phrase.text,
                country: phrase.country,
                sector: phrase.sector,
            };
            // Who denies an act is who is said to have done it ("Moscow denied targeting …").
            let source = match (status.status, &said) {
                (EventStatus::Denied, Some(said))
                    if said.who.starts_with(|c: char| c.is_uppercase()) =>
                {
                    Some(EventActor {
                        text: said.who.clone(),
                        entity: entities.iter().position(|e| e.text == said.who),
                        country: None,
                        sector: None,
                    })
                }
                _ => found.source.map(actor),
            };
            let record = EventRecord {
                kind: kind.clone(),
                mode,
                tag: tag.id.clone(),
                label: tag.label.clone(),
                cameo: tag.cameo.clone(),
                confidence,
                source,
                target: found.target.map(actor),
                location: found.location.map(actor),
                date,
                status: status.status,
                status_cue: status.cue,
                attribution: said.map(|a| a.who),
                low_confidence_evidence: sentence.low_confidence,
                evidence: evidence
                    .iter()
                    .map(|&(i, probability)| EventEvidence {
                        sentence: i,
                        text: sentences[i].english.to_string(),
                        source: sentences[i].original.map(str::to_string),
                        translation_score: sentences[i].translation_score,
                        low_confidence: sentences[i].low_confidence,
                        probability,
                    })
                    .collect(),
            };
            records.push((importance, record));
        }
        records.sort_by(|a, b| b.0.total_cmp(&a.0));
        records.into_iter().map(|(_, r)| r).collect()
    }
}
