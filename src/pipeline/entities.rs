//! The entities of a text, merged from three sources and counted: the gazetteer (countries,
//! capitals, organisations: always there, with canonical names), people found by the title and
//! reporting-verb rules of [`crate::pipeline::persons`], and the spans of a NER model where one is
//! configured. Overlaps are resolved by keeping the longest span; on equal spans the gazetteer
//! wins (it knows the canonical name), then the NER model, then the rules. A bare surname counts
//! as the person whose full name ends with it.

use std::ops::Range;

use super::gazetteer::{aggregate, Entity, EntityMention, EntityType, Gazetteer};
use super::persons::find_persons;

/// A span a NER model labelled, with its entity group (`PER`, `ORG`, `LOC`, `MISC`…).
#[derive(Debug, Clone, PartialEq)]
pub struct LabelledSpan {
    /// Byte range in the text.
    pub span: Range<usize>,
    /// The model's entity group.
    pub label: String,
}

/// The entity type a NER entity group maps to.
pub fn entity_type_of(label: &str) -> EntityType {
    match label.to_ascii_uppercase().as_str() {
        "PER" | "PERSON" => EntityType::Person,
        "ORG" | "ORGANIZATION" | "ORGANISATION" => EntityType::Org,
        "GPE" => EntityType::Gpe,
        "LOC" | "LOCATION" => EntityType::Loc,
        _ => EntityType::Misc,
    }
}

/// Rank of a source when two spans cover the same text (lower wins).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Source {
    Gazetteer,
    Model,
    Rule,
}

/// Every entity mention of `text`, non-overlapping, in text order.
pub fn find_mentions(
    text: &str,
    gazetteer: &Gazetteer,
    ner: Option<&[LabelledSpan]>,
) -> Vec<EntityMention> {
    let known = gazetteer.find(text);
    let blocked: Vec<Range<usize>> = known.iter().map(|m| m.start..m.end).collect();
    let mut candidates: Vec<(Source, EntityMention)> =
        known.into_iter().map(|m| (Source::Gazetteer, m)).collect();
    for person in find_persons(text, &blocked) {
        candidates.push((
            Source::Rule,
            EntityMention {
                canonical: person.canonical,
                kind: EntityType::Person,
                start: person.span.start,
                end: person.span.end,
                text: text[person.span].to_string(),
            },
        ));
    }
    for span in ner.unwrap_or_default() {
        let Some(surface) = text.get(span.span.clone()) else {
            continue;
        };
        let trimmed = surface.trim_matches(|c: char| !c.is_alphanumeric());
        if trimmed.is_empty() {
            continue;
        }
        let start = span.span.start + surface.find(trimmed).unwrap_or(0);
        candidates.push((
            Source::Model,
            EntityMention {
                canonical: trimmed.to_string(),
                kind: entity_type_of(&span.label),
                start,
                end: start + trimmed.len(),
                text: trimmed.to_string(),
            },
        ));
    }
    candidates.sort_by(|(sa, a), (sb, b)| {
        (b.end - b.start)
            .cmp(&(a.end - a.start))
            .then(sa.cmp(sb))
            .then(a.start.cmp(&b.start))
    });
    let mut kept: Vec<EntityMention> = Vec::new();
    for (_, mention) in candidates {
        if kept
            .iter()
            .all(|k| mention.end <= k.start || k.end <= mention.start)
        {
            kept.push(mention);
        }
    }
    kept.sort_by_key(|m| m.start);
    unify_surnames(&mut kept);
    kept
}

/// Gives a one-word person mention the canonical name of the multi-word person it ends.
fn unify_surnames(mentions: &mut [EntityMention]) {
    let full: Vec<String> = mentions
        .iter()
        .filter(|m| m.kind == EntityType::Person && m.canonical.contains(' '))
        .map(|m| m.canonical.clone())
        .collect();
    for mention in mentions
        .iter_mut()
        .filter(|m| m.kind == EntityType::Person && !m.canonical.contains(' '))
    {
        if let Some(name) = full
            .iter()
            .filter(|name| name.rsplit(' ').next() == Some(mention.canonical.as_str()))
            .max_by_key(|name| name.len())
        {
            mention.canonical = name.clone();
        }
    }
}

/// The entities of `text` with their mention counts, most mentioned first.
pub fn find_entities(
    text: &str,
    gazetteer: &Gazetteer,
    ner: Option<&[LabelledSpan]>,
) -> Vec<Entity> {
    aggregate(&find_mentions(text, gazetteer, ner))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(text: &str, needle: &str, label: &str) -> LabelledSpan {
        let start = text.find(needle).expect("needle in text");
        LabelledSpan {
            span: start..start + needle.len(),
            label: label.to_string(),
        }
    }

    #[test]
    fn gazetteer_and_rules_without_a_model() {
        let text = "French Defence Minister Sébastien Lecornu will visit Rabat next week. Lecornu will meet Moroccan officials and NATO envoys.";
        let entities = find_entities(text, &Gazetteer::builtin(), None);
        let get = |name: &str| entities.iter().find(|e| e.text == name);
        assert_eq!(
            get("Sébastien Lecornu").map(|e| (e.kind, e.mentions)),
            Some((EntityType::Person, 2))
        );
        assert_eq!(get("Morocco").map(|e| e.kind), Some(EntityType::Gpe));
        assert_eq!(get("France").map(|e| e.kind), Some(EntityType::Gpe));
        assert_eq!(get("NATO").map(|e| e.kind), Some(EntityType::Org));
        assert!(get("Rabat").is_some(), "{entities:?}");
    }

    #[test]
    fn model_spans_merge_with_the_gazetteer() {
        let text =
            "Aminata Touré met the head of the Wagner Group in Bamako; Touré said Mali needs help.";
        let ner = vec![
            span(text, "Aminata Touré", "PER"),
            span(text, "Wagner Group", "ORG"),
            span(text, "Bamako", "LOC"),
            LabelledSpan {
                span: text
                    .rfind("Touré")
                    .map(|s| s..s + "Touré".len())
                    .unwrap_or(0..0),
                label: "PER".into(),
            },
        ];
        let entities = find_entities(text, &Gazetteer::builtin(), Some(&ner));
        let get = |name: &str| entities.iter().find(|e| e.text == name);
        assert_eq!(
            get("Aminata Touré").map(|e| e.mentions),
            Some(2),
            "{entities:?}"
        );
        assert_eq!(get("Wagner Group").map(|e| e.kind), Some(EntityType::Org));
        // The gazetteer's GPE wins over the model's LOC for the same span.
        assert_eq!(get("Bamako").map(|e| e.kind), Some(EntityType::Gpe));
        assert_eq!(get("Mali").map(|e| e.kind), Some(EntityType::Gpe));
    }

    #[test]
    fn bad_spans_are_ignored() {
        let text = "Rien à signaler.";
        let ner = vec![
            LabelledSpan {
                span: 2..100,
                label: "PER".into(),
            },
            LabelledSpan {
                span: 0..0,
                label: "ORG".into(),
            },
        ];
        assert!(find_entities(text, &Gazetteer::builtin(), Some(&ner)).is_empty());
        assert!(find_entities("", &Gazetteer::builtin(), None).is_empty());
    }
}
