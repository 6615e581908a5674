//! Who acts, on whom, and where, read from an event's English evidence sentence: the actor
//! phrases of the sentence (known entities from the gazetteer and the person rules, merged with
//! the noun phrase around them — "the Malian army", "security forces", "Rapid Support Forces",
//! "JNIM"), the first of them outside the attribution clause as the source (the agent after "by"
//! in a passive sentence), the next as the target, and the place named after "in", "near", "at"…
//! as the location. PLOVER's actor and recipient (PLOVER manual, "actor" and "recipient"), with
//! the country and sector where the phrase says them (CAMEO's sector codes, simplified).

use std::ops::Range;
use std::sync::LazyLock;

use regex::Regex;
use serde::Serialize;
use utoipa::ToSchema;

use crate::pipeline::gazetteer::{EntityMention, EntityType};

/// What kind of actor a phrase names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Sector {
    /// Heads of state, ministers, ministries, parliaments, courts, officials.
    Government,
    /// Armies, troops, soldiers.
    Military,
    /// Police and gendarmes.
    Police,
    /// Rebels, militias, jihadist and other armed groups.
    ArmedGroup,
    /// Protesters, residents, students, workers, refugees: people outside the state.
    Civilians,
    /// International organisations (UN, EU, AU, NATO…).
    Igo,
    /// Companies and business groups.
    Business,
}

/// An actor phrase of a sentence.
#[derive(Debug, Clone, PartialEq)]
pub struct ActorPhrase {
    /// Byte range in the sentence.
    pub span: Range<usize>,
    /// The phrase as written.
    pub text: String,
    /// The entity it names, if a known one (canonical name and type).
    pub entity: Option<(String, EntityType)>,
    /// The country it belongs to ("Malian army" → Mali), where it says so.
    pub country: Option<String>,
    /// Its sector, where its words say so.
    pub sector: Option<Sector>,
}

/// Source, target and location of one sentence's event.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Participants {
    /// Who acts.
    pub source: Option<ActorPhrase>,
    /// Who is acted on.
    pub target: Option<ActorPhrase>,
    /// Where it happens.
    pub location: Option<ActorPhrase>,
}

/// Head nouns of actor phrases, with their sector.
const HEADS: &[(&str, Sector)] = &[
    ("army", Sector::Military),
    ("armed forces", Sector::Military),
    ("troops", Sector::Military),
    ("soldiers", Sector::Military),
    ("navy", Sector::Military),
    ("air force", Sector::Military),
    ("junta", Sector::Military),
    ("forces", Sector::Military),
    ("police", Sector::Police),
    ("policemen", Sector::Police),
    ("police officers", Sector::Police),
    ("gendarmes", Sector::Police),
    ("gendarmerie", Sector::Police),
    ("riot police", Sector::Police),
    ("security forces", Sector::Police),
    ("rebels", Sector::ArmedGroup),
    ("militants", Sector::ArmedGroup),
    ("fighters", Sector::ArmedGroup),
    ("jihadists", Sector::ArmedGroup),
    ("insurgents", Sector::ArmedGroup),
    ("gunmen", Sector::ArmedGroup),
    ("militia", Sector::ArmedGroup),
    ("militias", Sector::ArmedGroup),
    ("armed group", Sector::ArmedGroup),
    ("attackers", Sector::ArmedGroup),
    ("protesters", Sector::Civilians),
    ("demonstrators", Sector::Civilians),
    ("students", Sector::Civilians),
    ("workers", Sector::Civilians),
    ("farmers", Sector::Civilians),
    ("residents", Sector::Civilians),
    ("civilians", Sector::Civilians),
    ("villagers", Sector::Civilians),
    ("refugees", Sector::Civilians),
    ("migrants", Sector::Civilians),
    ("unions", Sector::Civilians),
    ("union", Sector::Civilians),
    ("activists", Sector::Civilians),
    ("journalists", Sector::Civilians),
    ("opposition", Sector::Civilians),
    ("government", Sector::Government),
    ("authorities", Sector::Government),
    ("ministry", Sector::Government),
    ("minister", Sector::Government),
    ("ministers", Sector::Government),
    ("president", Sector::Government),
    ("presidency", Sector::Government),
    ("prime minister", Sector::Government),
    ("parliament", Sector::Government),
    ("senate", Sector::Government),
    ("officials", Sector::Government),
    ("prosecutors", Sector::Government),
    ("prosecutor", Sector::Government),
    ("court", Sector::Government),
    ("judge", Sector::Government),
    ("embassy", Sector::Government),
    ("ambassador", Sector::Government),
    ("envoy", Sector::Government),
    ("delegation", Sector::Government),
    ("regime", Sector::Government),
    ("cabinet", Sector::Government),
    ("council", Sector::Government),
    ("office", Sector::Government),
    ("agency", Sector::Government),
    ("commission", Sector::Government),
    ("committee", Sector::Government),
    ("mission", Sector::Government),
    ("spokesman", Sector::Government),
    ("spokeswoman", Sector::Government),
    ("spokesperson", Sector::Government),
    ("diplomats", Sector::Government),
    ("negotiators", Sector::Government),
    ("lawmakers", Sector::Government),
    ("coast guard", Sector::Military),
    ("commander", Sector::Military),
    ("leaders", Sector::Government),
    ("movement", Sector::ArmedGroup),
    ("company", Sector::Business),
    ("firm", Sector::Business),
    ("group", Sector::Business),
];

/// International organisations among the gazetteer's organisations.
const IGOS: &[&str] = &[
    "United Nations",
    "European Union",
    "African Union",
    "NATO",
    "ECOWAS",
    "Arab League",
    "World Food Programme",
    "UNHCR",
    "UNICEF",
    "World Health Organization",
    "International Criminal Court",
    "International Monetary Fund",
    "World Bank",
    "Security Council",
    "OSCE",
    "ASEAN",
    "SADC",
    "IAEA",
    "Red Cross",
    "International Committee of the Red Cross",
    "MONUSCO",
    "MINUSMA",
];

/// An actor phrase around a head noun: up to three modifiers (capitalised words, demonyms,
/// "security", "armed", "pro-government"…) and the head, or a capitalised name ending in a
/// group word ("Rapid Support Forces", "Islamic State"), or an acronym ("JNIM", "RSF").
static ACTOR: LazyLock<Regex> = LazyLock::new(|| {
    let mut heads: Vec<String> = HEADS.iter().map(|(h, _)| h.replace(' ', r"\s+")).collect();
    heads.sort_by_key(|h| std::cmp::Reverse(h.len()));
    let heads = heads.join("|");
    Regex::new(&format!(
        r"(?x)
        (?:\b[Tt]he\s+)?
        (?:
          (?:(?:[A-Z][\w'’-]*|security|armed|government|opposition|rebel|riot|border|military|local|regional|federal|national|interior|foreign|defence|defense|pro-\w+|anti-\w+|Islamist|jihadist|separatist|striking|angry|unidentified|suspected)\s+){{0,3}}
          (?i:{heads})\b
        |
          (?:[A-Z][\w'’-]+\s+){{1,4}}(?:Forces|Front|Movement|Army|Brigades?|Group|Party|State|Alliance|Council|Union|Command|Guard|Militia|Organi[sz]ation|Committee|Coalition|Ministry|Government)\b
        |
          \b[A-Z]{{2,6}}\b
        )"
    ))
    .expect("the actor pattern is valid; this is a bug")
});

/// Prepositions after which a place is where the event happens.
static PLACE_PREPOSITION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(?:in|near|at|outside|around|across|inside|into|towards|through|along|throughout|visit|visited|visiting|on the outskirts of|north of|south of|east of|west of)\s+(?:the\s+)?$")
        .expect("the preposition pattern is valid; this is a bug")
});

/// A capitalised place name after a place preposition ("in Gao", "near the town of Djibo"), for
/// places the gazetteer does not know.
static PLACE_NAME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(?:in|near|at|outside|around|through|along|across|visit|visited|visiting)\s+(?:the\s+)?(?:(?:[a-z-]+\s+){0,3}(?:town|city|village|port|region|province|district|capital|area|state|county|outskirts)\s+of\s+|(?:north|south|east|west|northern|southern|eastern|western|central|north-eastern|north-western|south-eastern|south-western)\s+)?((?:[A-Z][\p{L}'’-]+)(?:[\s-](?:sur|de|du|la|le|les|d'|[A-Z][\p{L}'’-]+))*)")
        .expect("the place pattern is valid; this is a bug")
});

/// Passive voice with an agent: "was shelled by", "were arrested by".
static PASSIVE_BY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)\b(?:was|were|been|being|is|are)\s+(?:\w+\s+)?\w+(?:ed|en|wn|lt|ck|ot|ht)\s+by\s+$",
    )
    .expect("the passive pattern is valid; this is a bug")
});

/// Words that start a sentence with a capital without being names.
const NOT_NAMES: &[&str] = &[
    "The",
    "A",
    "An",
    "On",
    "In",
    "At",
    "After",
    "Before",
    "During",
    "Earlier",
    "Later",
    "Last",
    "Next",
    "This",
    "That",
    "These",
    "Those",
    "Two",
    "Three",
    "Four",
    "Five",
    "Several",
    "Some",
    "Many",
    "About",
    "Around",
    "Nearly",
    "More",
    "Most",
    "Dozens",
    "Hundreds",
    "Thousands",
    "It",
    "They",
    "He",
    "She",
    "We",
    "Its",
    "Their",
    "His",
    "Her",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
    "According",
    "But",
    "And",
    "Meanwhile",
    "However",
    "Also",
    "Since",
    "While",
    "When",
    "Under",
    "Following",
];

fn sector_of(phrase: &str, entity: Option<&(String, EntityType)>) -> Option<Sector> {
    if let Some((name, EntityType::Org)) = entity {
        if IGOS.iter().any(|igo| name.contains(igo)) {
            return Some(Sector::Igo);
        }
    }
    let lower = phrase.to_lowercase();
    HEADS
        .iter()
        .filter(|(head, _)| {
            lower.ends_with(head)
                && lower[..lower.len() - head.len()]
                    .chars()
                    .last()
                    .is_none_or(|c| !c.is_alphanumeric())
        })
        .max_by_key(|(head, _)| head.len())
        .map(|(_, sector)| *sector)
        .or_else(|| match entity {
            Some((_, EntityType::Person)) => Some(Sector::Government).filter(|_| {
                ["president", "minister", "general", "colonel", "commander"]
                    .iter()
                    .any(|title| lower.contains(title))
            }),
            _ => None,
        })
}

fn overlaps(a: &Range<usize>, b: &Range<usize>) -> bool {
    a.start < b.end && b.start < a.end
}

/// The actor phrases of `sentence`, in text order, non-overlapping: each pattern match grown to
/// cover the entity mentions it touches, and every entity mention not inside a match on its own.
/// `mentions` are the sentence's entity mentions (byte offsets into `sentence`).
pub fn actor_phrases(sentence: &str, mentions: &[EntityMention]) -> Vec<ActorPhrase> {
    let mut spans: Vec<Range<usize>> = ACTOR
        .find_iter(sentence)
        .filter(|m| {
            // A capitalised first word alone ("The", "Meanwhile") is not an actor.
            let text = m.as_str().trim();
            !NOT_NAMES.contains(&text)
        })
        .map(|m| m.range())
        .collect();
    for mention in mentions {
        let span = mention.start..mention.end;
        if let Some(existing) = spans.iter_mut().find(|s| overlaps(s, &span)) {
            existing.start = existing.start.min(span.start);
            existing.end = existing.end.max(span.end);
        } else {
            spans.push(span);
        }
    }
    spans.sort_by_key(|s| s.start);
    // Overlapping spans merge, and so do spans with only spaces between them: a title and a
    // name ("Interior Minister Jane Doe").
    let mut merged: Vec<Range<usize>> = Vec::new();
    for span in spans {
        match merged.last_mut() {
            Some(last)
                if overlaps(last, &span)
                    || sentence
                        .get(last.end..span.start)
                        .is_some_and(|gap| !gap.is_empty() && gap.trim().is_empty()) =>
            {
                last.end = last.end.max(span.end)
            }
            _ => merged.push(span),
        }
    }
    merged
        .into_iter()
        .filter_map(|span| {
            let text = sentence.get(span.clone())?.trim().to_string();
            let inside: Vec<&EntityMention> = mentions
                .iter()
                .filter(|m| span.start <= m.start && m.end <= span.end)
                .collect();
            // The entity a phrase names: an organisation or person over a country named as a
            // modifier ("the Malian army" is the army of Mali, not Mali).
            let entity = inside
                .iter()
                .find(|m| matches!(m.kind, EntityType::Org | EntityType::Person))
                .or_else(|| inside.first())
                .map(|m| (m.canonical.clone(), m.kind));
            let country = inside
                .iter()
                .find(|m| m.kind == EntityType::Gpe)
                .map(|m| m.canonical.clone());
            let sector = sector_of(&text, entity.as_ref());
            Some(ActorPhrase {
                span,
                text,
                entity,
                country,
                sector,
            })
        })
        .collect()
}

/// Whether the phrase at `span` reads as a place: a place preposition just before it.
fn after_place_preposition(sentence: &str, span: &Range<usize>) -> bool {
    let before = &sentence[..span.start];
    let start = before
        .char_indices()
        .rev()
        .nth(40)
        .map(|(i, _)| i)
        .unwrap_or(0);
    PLACE_PREPOSITION.is_match(&before[start..])
}

/// Source, target and location of the event `sentence` states; `excluded` is the attribution
/// clause ("…, the ministry said"), whose speaker is not an actor of the event.
pub fn participants(
    sentence: &str,
    mentions: &[EntityMention],
    excluded: Option<&Range<usize>>,
) -> Participants {
    let phrases: Vec<ActorPhrase> = actor_phrases(sentence, mentions)
        .into_iter()
        .filter(|p| excluded.is_none_or(|x| !overlaps(x, &p.span)))
        .collect();
    let (places, actors): (Vec<ActorPhrase>, Vec<ActorPhrase>) =
        phrases.into_iter().partition(|p| {
            after_place_preposition(sentence, &p.span)
                && p.sector.is_none()
                && !matches!(
                    p.entity,
                    Some((_, EntityType::Person)) | Some((_, EntityType::Org))
                )
        });
    let location = places.into_iter().next().or_else(|| {
        PLACE_NAME
            .captures_iter(sentence)
            .filter_map(|c| c.get(1))
            .find(|m| {
                excluded.is_none_or(|x| !overlaps(x, &m.range()))
                    && !NOT_NAMES.contains(&m.as_str())
                    && !actors.iter().any(|a| overlaps(&a.span, &m.range()))
            })
            .map(|m| ActorPhrase {
                span: m.range(),
                text: m.as_str().to_string(),
                entity: None,
                country: None,
                sector: None,
            })
    });
    // A passive with an agent: the agent acts, the subject is acted on.
    let agent = actors
        .iter()
        .position(|a| PASSIVE_BY.is_match(&sentence[..a.span.start]));
    let (source, target) = match agent {
        Some(i) => (
            actors.get(i).cloned(),
            actors[..i]
                .first()
                .cloned()
                .or_else(|| actors.get(i + 1).cloned()),
        ),
        None => {
            let source = actors.first().cloned();
            // An apposition names the source again ("the minister, Jane Doe, said").
            let apposition = |s: &ActorPhrase, a: &ActorPhrase| {
                sentence
                    .get(s.span.end..a.span.start)
                    .is_some_and(|gap| gap.trim() == ",")
                    && sentence[a.span.end..].trim_start().starts_with(',')
            };
            let target = actors
                .iter()
                .skip(1)
                .find(|a| {
                    source.as_ref().is_none_or(|s| {
                        (s.entity.is_none() || s.entity != a.entity) && !apposition(s, a)
                    })
                })
                .cloned();
            (source, target)
        }
    };
    Participants {
        source,
        target,
        location,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mention(sentence: &str, text: &str, canonical: &str, kind: EntityType) -> EntityMention {
        let start = sentence.find(text).expect("test mention in sentence");
        EntityMention {
            canonical: canonical.into(),
            kind,
            start,
            end: start + text.len(),
            text: text.into(),
        }
    }

    #[test]
    fn an_army_shelling_a_town_has_source_target_and_place() {
        let s = "The Malian army shelled a JNIM camp near Ménaka on Tuesday.";
        let mentions = [mention(s, "Malian", "Mali", EntityType::Gpe)];
        let p = participants(s, &mentions, None);
        let source = p.source.expect("source");
        assert_eq!(source.text, "The Malian army");
        assert_eq!(source.country.as_deref(), Some("Mali"));
        assert_eq!(source.sector, Some(Sector::Military));
        assert_eq!(p.target.expect("target").text, "JNIM");
        assert_eq!(p.location.expect("location").text, "Ménaka");
    }

    #[test]
    fn a_passive_agent_is_the_source_and_attribution_is_skipped() {
        let s = "Three villagers were abducted by gunmen in Zamfara, police said.";
        let said = s.find("police said").expect("clause");
        let mentions = [mention(s, "Zamfara", "Zamfara", EntityType::Gpe)];
        let p = participants(s, &mentions, Some(&(said..s.len())));
        assert_eq!(p.source.expect("source").text, "gunmen");
        assert_eq!(p.target.expect("target").text, "Three villagers");
        assert_eq!(p.location.expect("location").text, "Zamfara");
    }

    #[test]
    fn titles_join_names_and_appositions_are_not_targets() {
        let s = "Kosovo's interior minister, Arben Krasniqi-Rama, refused to reverse the decision.";
        let p = participants(
            s,
            &[mention(
                s,
                "Arben Krasniqi-Rama",
                "Arben Krasniqi-Rama",
                EntityType::Person,
            )],
            None,
        );
        assert_eq!(p.source.expect("source").text, "Kosovo's interior minister");
        assert!(p.target.is_none());
        let s =
            "Interior Minister Jane Doe met the Tunisian envoy in the northern port of Bizerte.";
        let p = participants(
            s,
            &[mention(s, "Jane Doe", "Jane Doe", EntityType::Person)],
            None,
        );
        assert_eq!(p.source.expect("source").text, "Interior Minister Jane Doe");
        assert_eq!(p.target.expect("target").text, "the Tunisian envoy");
        assert_eq!(p.location.expect("location").text, "Bizerte");
    }

    #[test]
    fn unknown_villages_after_in_are_places() {
        let s = "Protesters blocked the main road in Saint-Aurèle-sur-Durance on Friday.";
        let p = participants(s, &[], None);
        assert_eq!(p.source.expect("source").sector, Some(Sector::Civilians));
        assert_eq!(
            p.location.expect("location").text,
            "Saint-Aurèle-sur-Durance"
        );
    }
}
