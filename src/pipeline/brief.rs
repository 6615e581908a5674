//! The analysis as a Markdown brief for a person: summary, events, entities, then the
//! translation with low-confidence sentences marked and their originals quoted.

use std::fmt::Write;

use super::analyze::{Analysis, Language, SummaryMode};
use super::events::status::EventStatus;
use super::events::EventRecord;
use super::gazetteer::EntityType;

fn status_word(status: EventStatus) -> &'static str {
    match status {
        EventStatus::Occurred => "occurred",
        EventStatus::Planned => "planned",
        EventStatus::Threatened => "threatened",
        EventStatus::Denied => "denied",
        EventStatus::ReportedUnconfirmed => "reported, unconfirmed",
    }
}

/// One event as a line: who — did what — to whom — where — when — status.
fn event_line(event: &EventRecord) -> String {
    let what = match &event.mode {
        Some(mode) => format!("{}/{mode}", event.kind),
        None => event.kind.clone(),
    };
    let mut parts = vec![
        event
            .source
            .as_ref()
            .map(|a| format!("**{}**", escape(&a.text)))
            .unwrap_or_else(|| "(actor not named)".to_string()),
        format!("{what} ({})", escape(&event.label)),
    ];
    if let Some(target) = &event.target {
        parts.push(format!("**{}**", escape(&target.text)));
    }
    if let Some(location) = &event.location {
        parts.push(format!("in {}", escape(&location.text)));
    }
    if let Some(date) = &event.date {
        let when = if date.start == date.end {
            date.start.to_string()
        } else {
            format!("{} to {}", date.start, date.end)
        };
        parts.push(format!("{when} (“{}”)", escape(&date.phrase)));
    }
    parts.push(status_word(event.status).to_string());
    let mut line = format!(
        "- {} · confidence {:.2}",
        parts.join(" — "),
        event.confidence
    );
    if let Some(who) = &event.attribution {
        let _ = write!(line, " · according to {}", escape(who));
    }
    if let Some(main) = event.evidence.first() {
        let _ = write!(line, "  \n  Evidence: “{}”", escape(&main.text));
        if let Some(source) = &main.source {
            let _ = write!(line, " (original: « {} »)", escape(source));
        }
        if main.low_confidence {
            line.push_str(" ⚠ low-confidence translation: check the original");
        }
    }
    line
}

/// Markdown special characters escaped so that text from the article cannot change the layout.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(
            c,
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '#'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Renders `analysis` as a Markdown brief.
pub fn render_markdown(analysis: &Analysis) -> String {
    let mut md = String::new();
    // `write!` into a String cannot fail.
    let _ = writeln!(md, "# Brief\n");
    let source = match analysis.source_language {
        Language::Fr => format!(
            "French article, translated by {}",
            analysis.models.translation.as_deref().unwrap_or("?")
        ),
        Language::En => "English article".to_string(),
    };
    let summary_by = match analysis.summary_info.mode {
        SummaryMode::Abstractive => format!(
            "abstractive summary by {}",
            analysis.models.summarizer.as_deref().unwrap_or("?")
        ),
        SummaryMode::Extractive => "extractive summary (key sentences)".to_string(),
    };
    let _ = writeln!(md, "*{source}; {summary_by}.*\n");

    let _ = writeln!(md, "## Summary\n");
    if analysis.summary.is_empty() {
        let _ = writeln!(md, "(no summary)\n");
    } else {
        let _ = writeln!(md, "{}\n", escape(&analysis.summary));
    }

    let _ = writeln!(md, "## Events\n");
    match &analysis.events_note {
        Some(note) if analysis.events.is_empty() => {
            let _ = writeln!(md, "None: {}.\n", escape(note));
        }
        _ => {}
    }
    for event in &analysis.events {
        let _ = writeln!(md, "{}", event_line(event));
    }
    if !analysis.events.is_empty() {
        md.push('\n');
    }

    let _ = writeln!(md, "## Entities\n");
    let groups = [
        (EntityType::Person, "People"),
        (EntityType::Gpe, "Countries and places"),
        (EntityType::Loc, "Other locations"),
        (EntityType::Org, "Organisations"),
        (EntityType::Misc, "Other"),
    ];
    let mut any = false;
    for (kind, title) in groups {
        let names: Vec<String> = analysis
            .entities
            .iter()
            .filter(|e| e.kind == kind)
            .map(|e| format!("{} ({})", escape(&e.text), e.mentions))
            .collect();
        if !names.is_empty() {
            any = true;
            let _ = writeln!(md, "- {title}: {}", names.join(", "));
        }
    }
    if !any {
        let _ = writeln!(md, "None found.");
    }
    md.push('\n');

    if let Some(translation) = &analysis.translation {
        let _ = writeln!(md, "## Translation\n");
        if translation.low_confidence_sentences > 0 {
            let _ = writeln!(
                md,
                "⚠ marks {} sentence(s) the model was unsure of; the original follows each.\n",
                translation.low_confidence_sentences
            );
        }
        for paragraph in &translation.paragraphs {
            let mut line = String::new();
            for sentence in &paragraph.sentences {
                if !line.is_empty() {
                    line.push(' ');
                }
                if sentence.low_confidence {
                    let _ = write!(
                        line,
                        "⚠ {} *(original: « {} »)*",
                        escape(&sentence.text),
                        escape(&sentence.source)
                    );
                } else {
                    line.push_str(&escape(&sentence.text));
                }
            }
            let _ = writeln!(md, "{line}\n");
        }
    }

    if !analysis.warnings.is_empty() {
        let _ = writeln!(md, "## Notes\n");
        for warning in &analysis.warnings {
            let _ = writeln!(md, "- {}", escape(warning));
        }
        md.push('\n');
    }
    md.trim_end().to_string() + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::analyze::{
        BriefParagraph, BriefSentence, BriefTranslation, ModelsUsed, SummaryInfo, Timings,
    };
    use crate::pipeline::events::dates::{Granularity, ResolvedDate};
    use crate::pipeline::events::{EventActor, EventEvidence};
    use crate::pipeline::gazetteer::Entity;

    #[test]
    fn brief_has_every_section_and_marks_low_confidence() {
        let analysis = Analysis {
            source_language: Language::Fr,
            translation: Some(BriefTranslation {
                text: "Good. Unsure.".into(),
                low_confidence_sentences: 1,
                paragraphs: vec![BriefParagraph {
                    source: "Bien. Incertain.".into(),
                    text: "Good. Unsure.".into(),
                    sentences: vec![
                        BriefSentence {
                            source: "Bien.".into(),
                            text: "Good.".into(),
                            score: Some(-0.2),
                            low_confidence: false,
                        },
                        BriefSentence {
                            source: "Incertain.".into(),
                            text: "Unsure.".into(),
                            score: Some(-2.5),
                            low_confidence: true,
                        },
                    ],
                }],
            }),
            summary: "A *summary*.".into(),
            summary_info: SummaryInfo {
                mode: SummaryMode::Extractive,
                sentences: vec![0],
                parts: None,
            },
            events: vec![EventRecord {
                kind: "CONSULT".into(),
                mode: Some("visit".into()),
                tag: "diplomatic_visit".into(),
                label: "Diplomatic visit or meeting".into(),
                cameo: "04".into(),
                confidence: 0.61,
                source: Some(EventActor {
                    text: "The minister".into(),
                    entity: None,
                    country: None,
                    sector: None,
                }),
                target: None,
                location: Some(EventActor {
                    text: "Rabat".into(),
                    entity: Some(0),
                    country: None,
                    sector: None,
                }),
                date: Some(ResolvedDate {
                    start: chrono::NaiveDate::from_ymd_opt(2025, 3, 18).expect("date"),
                    end: chrono::NaiveDate::from_ymd_opt(2025, 3, 18).expect("date"),
                    granularity: Granularity::Day,
                    phrase: "mardi".into(),
                    span: 0..5,
                }),
                status: EventStatus::Planned,
                status_cue: Some("visitera".into()),
                attribution: None,
                evidence: vec![EventEvidence {
                    sentence: 0,
                    text: "The minister will visit Rabat.".into(),
                    source: Some("Le ministre visitera Rabat mardi.".into()),
                    translation_score: Some(-2.5),
                    low_confidence: true,
                    probability: 0.61,
                }],
                low_confidence_evidence: true,
            }],
            events_note: None,
            tags: Vec::new(),
            entities: vec![Entity {
                text: "Morocco".into(),
                kind: EntityType::Gpe,
                mentions: 2,
            }],
            models: ModelsUsed {
                translation: Some("opus".into()),
                summarizer: None,
                embedding: "minilm".into(),
                ner: None,
                gazetteer: "1".into(),
                taxonomy: "1".into(),
                event_head: "head".into(),
            },
            timings: Timings::default(),
            warnings: vec!["a note".into()],
        };
        let md = render_markdown(&analysis);
        for needle in [
            "## Summary",
            "A \\*summary\\*.",
            "## Events",
            "- **The minister** — CONSULT/visit (Diplomatic visit or meeting) — in Rabat — 2025-03-18 (“mardi”) — planned · confidence 0.61",
            "Evidence: “The minister will visit Rabat.” (original: « Le ministre visitera Rabat mardi. ») ⚠ low-confidence translation",
            "Countries and places: Morocco (2)",
            "⚠ Unsure. *(original: « Incertain. »)*",
            "## Notes",
        ] {
            assert!(md.contains(needle), "missing {needle:?} in:\n{md}");
        }
        assert!(!md.contains("⚠ Good."));
    }
}
