//! The analysis as a Markdown brief for a person: summary, events, entities, then the
//! translation with low-confidence sentences marked and their originals quoted.

use std::fmt::Write;

use super::analyze::{Analysis, Language, SummaryMode};
use super::gazetteer::EntityType;
use super::taxonomy::EventStatus;

fn status_word(status: EventStatus) -> &'static str {
    match status {
        EventStatus::Planned => "planned",
        EventStatus::Occurred => "occurred",
        EventStatus::Unclear => "status unclear",
    }
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
    if analysis.tags.is_empty() {
        let _ = writeln!(md, "No event tag passed its threshold.\n");
    }
    for tag in &analysis.tags {
        let _ = writeln!(
            md,
            "- **{}** ({}; score {:.2}; CAMEO {}{})  \n  Evidence: “{}”",
            escape(&tag.label),
            status_word(tag.status),
            tag.score,
            tag.cameo,
            tag.plover
                .as_deref()
                .map(|p| format!(", PLOVER {p}"))
                .unwrap_or_default(),
            escape(&tag.evidence)
        );
    }
    if !analysis.tags.is_empty() {
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
        BriefParagraph, BriefSentence, BriefTag, BriefTranslation, ModelsUsed, SummaryInfo, Timings,
    };
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
            tags: vec![BriefTag {
                id: "diplomatic_visit".into(),
                label: "Diplomatic visit or meeting".into(),
                score: 0.61,
                status: EventStatus::Planned,
                evidence: "The minister will visit Rabat.".into(),
                evidence_source: None,
                cameo: "04".into(),
                plover: Some("CONSULT".into()),
            }],
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
            },
            timings: Timings::default(),
            warnings: vec!["a note".into()],
        };
        let md = render_markdown(&analysis);
        for needle in [
            "## Summary",
            "A \\*summary\\*.",
            "## Events",
            "**Diplomatic visit or meeting** (planned; score 0.61; CAMEO 04, PLOVER CONSULT)",
            "Countries and places: Morocco (2)",
            "⚠ Unsure. *(original: « Incertain. »)*",
            "## Notes",
        ] {
            assert!(md.contains(needle), "missing {needle:?} in:\n{md}");
        }
        assert!(!md.contains("⚠ Good."));
    }
}
