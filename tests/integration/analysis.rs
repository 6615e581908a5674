//! The analyst's brief end to end: the real all-MiniLM-L6-v2 for tags and extractive summaries,
//! the tiny fixtures for translation (Marian), abstractive summaries (BART) and NER (BERT).
//! Content checks (tags, status, entities) use English text, which the tiny translation model
//! cannot produce; French runs check structure: alignment, confidence flags, models, chunking.

use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use dragoman::pipeline::analyze::{AnalysisInput, AnalyzeError, AnalyzeOptions};
use dragoman::pipeline::setup::{load_analyzer, AnalysisModels};
use dragoman::pipeline::{
    settle_language, Analysis, Analyzer, EntityType, EventStatus, Language, SourceLanguage,
    SummaryMode, TranslateOptions,
};

use crate::common::{fixture_dir, library_translator};
use crate::embeddings::model_dir;

const CT_ARTICLE_EN: &str = include_str!("../data/eval/article_ct_exercise_en.txt");
/// The English counter-terrorism article, for other test modules.
pub const CT_ARTICLE_EN_TEXT: &str = CT_ARTICLE_EN;
const CT_ARTICLE_FR: &str = include_str!("../data/eval/article_ct_exercise_fr.txt");

/// Every analysis model: real MiniLM, tiny summarizer and NER fixtures.
pub fn full_models() -> AnalysisModels {
    AnalysisModels {
        embedding: model_dir().display().to_string(),
        summarizer: Some(fixture_dir("bart-tiny-summarizer").display().to_string()),
        ner: Some(fixture_dir("bert-tiny-ner").display().to_string()),
        ..AnalysisModels::default()
    }
}

/// MiniLM only: extractive summaries, gazetteer and rule entities.
fn minimal_models() -> AnalysisModels {
    AnalysisModels {
        embedding: model_dir().display().to_string(),
        summarizer: None,
        ner: None,
        ..AnalysisModels::default()
    }
}

fn full() -> &'static Analyzer {
    static ANALYZER: OnceLock<Analyzer> = OnceLock::new();
    ANALYZER.get_or_init(|| {
        load_analyzer(&full_models(), &candle_core::Device::Cpu).expect("analysis models load")
    })
}

fn minimal() -> &'static Analyzer {
    static ANALYZER: OnceLock<Analyzer> = OnceLock::new();
    ANALYZER.get_or_init(|| {
        load_analyzer(&minimal_models(), &candle_core::Device::Cpu).expect("MiniLM loads")
    })
}

fn english(analyzer: &Analyzer, text: &str, options: &AnalyzeOptions) -> Analysis {
    analyzer
        .analyze(AnalysisInput::English(text), options)
        .expect("analysis")
}

#[test]
fn counter_terrorism_exercise_and_planned_visit_are_planned_events_with_their_entities() {
    let analysis = english(minimal(), CT_ARTICLE_EN, &AnalyzeOptions::default());
    let event = |kind: &str| {
        analysis
            .events
            .iter()
            .find(|e| e.kind == kind)
            .unwrap_or_else(|| panic!("no {kind} event: {:#?}", analysis.events))
    };
    // The joint exercise: material cooperation between the two countries, announced.
    let exercise = event("COOPERATE");
    assert_eq!(exercise.status, EventStatus::Planned, "{exercise:#?}");
    assert_eq!(exercise.tag, "military_cooperation");
    assert!(exercise.evidence[0]
        .text
        .contains("joint counter-terrorism exercise"));
    let actors: Vec<&str> = [&exercise.source, &exercise.target]
        .iter()
        .filter_map(|a| a.as_ref().map(|a| a.text.as_str()))
        .collect();
    assert!(
        actors.iter().any(|a| a.contains("Côte d'Ivoire")) && actors.contains(&"Benin"),
        "{actors:?}"
    );
    assert_eq!(
        exercise.date.as_ref().map(|d| d.phrase.as_str()),
        Some("next month")
    );
    // The minister's visit: a planned consultation in Cotonou on 9 November.
    let visit = event("CONSULT");
    assert_eq!(visit.status, EventStatus::Planned, "{visit:#?}");
    assert_eq!(
        visit.location.as_ref().map(|l| l.text.as_str()),
        Some("Cotonou")
    );
    let date = visit.date.as_ref().expect("the visit's date");
    assert_eq!(
        (
            date.start.format("%m-%d").to_string(),
            date.start == date.end
        ),
        ("11-09".to_string(), true)
    );
    for event in &analysis.events {
        assert!(
            CT_ARTICLE_EN.contains(&event.evidence[0].text),
            "{event:#?}"
        );
        assert!(event.confidence >= 0.0 && event.confidence <= 1.0);
    }
    // Tags are the events' labels, each once.
    let mut ids: Vec<&str> = analysis.tags.iter().map(|t| t.id.as_str()).collect();
    let count = ids.len();
    ids.dedup();
    assert_eq!(ids.len(), count);
    assert!(ids.contains(&"military_cooperation") && ids.contains(&"diplomatic_visit"));
    // No dateline: the brief says relative dates are resolved against today.
    assert!(
        analysis.warnings.iter().any(|w| w.contains("dateline")),
        "{:?}",
        analysis.warnings
    );
    let entity = |name: &str, kind: EntityType| {
        analysis
            .entities
            .iter()
            .find(|e| e.text == name && e.kind == kind)
            .unwrap_or_else(|| panic!("{name} ({kind:?}) missing: {:#?}", analysis.entities))
    };
    entity("Benin", EntityType::Gpe);
    entity("Côte d'Ivoire", EntityType::Gpe);
    entity("Cotonou", EntityType::Gpe);
    assert!(entity("Fortuné Agossou", EntityType::Person).mentions >= 2);
    entity("Didier Kouassi Yao", EntityType::Person);
    entity("Romaric Dossou", EntityType::Person);
    assert_eq!(analysis.source_language, Language::En);
    assert!(analysis.translation.is_none());
    // Extractive by default without a summarizer: three sentences of the article, in order.
    assert_eq!(analysis.summary_info.mode, SummaryMode::Extractive);
    assert_eq!(analysis.summary_info.sentences.len(), 3);
    assert!(analysis
        .summary_info
        .sentences
        .windows(2)
        .all(|w| w[0] < w[1]));
    assert!(analysis.models.summarizer.is_none() && analysis.models.ner.is_none());
}

#[test]
fn unrelated_text_gets_no_events_and_says_so() {
    let text = "The bakery on the corner now sells sourdough bread on Sundays. Customers praised the new recipe and the friendly staff.";
    let analysis = english(minimal(), text, &AnalyzeOptions::default());
    assert!(analysis.events.is_empty(), "{:#?}", analysis.events);
    assert!(analysis.tags.is_empty(), "{:#?}", analysis.tags);
    assert!(analysis
        .events_note
        .as_deref()
        .is_some_and(|n| n.contains("no political event")));
}

#[test]
fn french_article_brief_aligns_sentences_and_flags_low_confidence() {
    let translator = library_translator("marian-tiny-swish");
    let translation = translator
        .translate_article(CT_ARTICLE_FR, &TranslateOptions::default())
        .expect("translation");
    let scores: Vec<f32> = translation.sentences.iter().map(|s| s.score).collect();
    // A threshold between the scores, so that some sentences are flagged and some are not.
    let mut sorted = scores.clone();
    sorted.sort_by(f32::total_cmp);
    let threshold = sorted[sorted.len() / 2];
    let options = AnalyzeOptions {
        low_confidence_below: threshold,
        ..AnalyzeOptions::default()
    };
    let analysis = full()
        .analyze(
            AnalysisInput::Translated {
                source: CT_ARTICLE_FR,
                translation: &translation,
                model: "marian-tiny-swish".into(),
                elapsed: Duration::from_millis(5),
            },
            &options,
        )
        .expect("analysis");
    let brief = analysis.translation.as_ref().expect("translation section");
    let paragraphs = CT_ARTICLE_FR
        .split("\n\n")
        .filter(|p| !p.trim().is_empty())
        .count();
    assert_eq!(brief.paragraphs.len(), paragraphs);
    let sentences: Vec<_> = brief.paragraphs.iter().flat_map(|p| &p.sentences).collect();
    assert_eq!(sentences.len(), translation.sentences.len());
    let mut flagged = 0;
    for (sentence, translated) in sentences.iter().zip(&translation.sentences) {
        assert_eq!(sentence.source, translated.source);
        assert_eq!(sentence.text, translated.translation);
        assert_eq!(sentence.low_confidence, translated.score < threshold);
        flagged += usize::from(sentence.low_confidence);
    }
    assert!(flagged > 0 && flagged < sentences.len());
    assert_eq!(brief.low_confidence_sentences, flagged);
    assert!(analysis
        .warnings
        .iter()
        .any(|w| w.contains("low confidence")));
    // Abstractive by default with a summarizer; every model is reported.
    assert_eq!(analysis.summary_info.mode, SummaryMode::Abstractive);
    assert!(!analysis.summary.is_empty());
    assert_eq!(
        analysis.models.translation.as_deref(),
        Some("marian-tiny-swish")
    );
    assert!(analysis
        .models
        .summarizer
        .as_deref()
        .is_some_and(|s| s.contains("bart-tiny-summarizer")));
    assert!(analysis
        .models
        .ner
        .as_deref()
        .is_some_and(|s| s.contains("bert-tiny-ner")));
    assert!(analysis.timings.translation_ms > 0.0);
    // Tags quote their evidence in both languages.
    for tag in &analysis.tags {
        let source = tag
            .evidence_source
            .as_deref()
            .expect("French original of the evidence");
        assert!(CT_ARTICLE_FR.contains(source), "{tag:#?}");
    }
}

#[test]
fn ner_model_entities_are_merged_with_the_gazetteer() {
    // The tiny NER fixture was trained on such names (see scripts/make_ner_fixture.py).
    let text = "Emmanuel Macron met the head of the European Central Bank in Paris. Macron said France would help.";
    let with_ner = english(full(), text, &AnalyzeOptions::default());
    let names: Vec<(&str, EntityType)> = with_ner
        .entities
        .iter()
        .map(|e| (e.text.as_str(), e.kind))
        .collect();
    assert!(
        names.contains(&("Emmanuel Macron", EntityType::Person)),
        "{names:?}"
    );
    assert!(names.contains(&("Paris", EntityType::Gpe)), "{names:?}");
    assert!(names.contains(&("France", EntityType::Gpe)), "{names:?}");
    let macron = with_ner
        .entities
        .iter()
        .find(|e| e.text == "Emmanuel Macron")
        .map(|e| e.mentions);
    assert_eq!(macron, Some(2), "the bare surname counts: {names:?}");
}

#[test]
fn a_two_hundred_paragraph_article_is_summarized_in_parts() {
    let paragraphs: Vec<String> = (0..200)
        .map(|i| format!("Paragraph {i} reports that the delegation from Benin met officials in Cotonou on day {i}. The talks covered border security and trade."))
        .collect();
    let text = paragraphs.join("\n\n");
    let options = AnalyzeOptions {
        summary_mode: Some(SummaryMode::Abstractive),
        ..AnalyzeOptions::default()
    };
    let analysis = english(full(), &text, &options);
    let parts = analysis.summary_info.parts.expect("abstractive parts");
    assert!(
        parts > 1,
        "200 paragraphs exceed the fixture's 128 positions"
    );
    assert!(
        analysis.warnings.iter().any(|w| w.contains("parts")),
        "{:?}",
        analysis.warnings
    );
    assert!(!analysis.summary.is_empty());
    let extractive = english(
        minimal(),
        &text,
        &AnalyzeOptions {
            summary_sentences: 5,
            ..AnalyzeOptions::default()
        },
    );
    assert_eq!(extractive.summary_info.sentences.len(), 5);
    assert!(extractive
        .entities
        .iter()
        .any(|e| e.text == "Benin" && e.mentions == 200));
}

#[test]
fn abstractive_request_without_a_summarizer_falls_back_and_says_so() {
    let options = AnalyzeOptions {
        summary_mode: Some(SummaryMode::Abstractive),
        ..AnalyzeOptions::default()
    };
    let analysis = english(minimal(), CT_ARTICLE_EN, &options);
    assert_eq!(analysis.summary_info.mode, SummaryMode::Extractive);
    assert!(analysis.warnings.iter().any(|w| w.contains("extractive")));
}

#[test]
fn bad_input_gets_a_clear_error() {
    assert!(matches!(
        settle_language("", SourceLanguage::Fr),
        Err(AnalyzeError::Empty)
    ));
    assert!(matches!(
        settle_language(" \n\t ", SourceLanguage::Auto),
        Err(AnalyzeError::Empty)
    ));
    assert!(matches!(
        settle_language("12 345 678, 90 — 2024 / 15 %", SourceLanguage::Fr),
        Err(AnalyzeError::NoWords)
    ));
    let german = "Die Bundesregierung hat am Mittwoch neue Maßnahmen beschlossen, um die Wirtschaft zu stärken und die Inflation zu bekämpfen.";
    let error = settle_language(german, SourceLanguage::Auto).expect_err("German is refused");
    assert!(error.to_string().contains("German"), "{error}");
    let (language, warnings) = settle_language(german, SourceLanguage::Fr).expect("forced French");
    assert_eq!(language, Language::Fr);
    assert!(
        warnings.iter().any(|w| w.contains("German")),
        "{warnings:?}"
    );
    let (language, _) = settle_language(CT_ARTICLE_FR, SourceLanguage::Auto).expect("French");
    assert_eq!(language, Language::Fr);
    let (language, _) = settle_language(CT_ARTICLE_EN, SourceLanguage::Auto).expect("English");
    assert_eq!(language, Language::En);
    let zero = AnalyzeOptions {
        summary_sentences: 0,
        ..AnalyzeOptions::default()
    };
    let error = minimal()
        .analyze(AnalysisInput::English(CT_ARTICLE_EN), &zero)
        .expect_err("0 sentences is refused");
    assert!(error.to_string().contains("between 1 and"), "{error}");
}

#[test]
fn cli_analyze_prints_a_markdown_brief_and_json() {
    let models = minimal_models();
    let run = |format: &str, input: &str| {
        let output = Command::new(env!("CARGO_BIN_EXE_dragoman"))
            .args([
                "analyze",
                "--source",
                "en",
                "--summarizer",
                "none",
                "--embedding-model",
                &models.embedding,
                "--format",
                format,
                input,
            ])
            .env_remove("DRAGOMAN_NER_MODEL")
            .env_remove("DRAGOMAN_SUMMARIZER")
            .output()
            .expect("dragoman runs");
        (
            output.status,
            String::from_utf8_lossy(&output.stdout).to_string(),
            String::from_utf8_lossy(&output.stderr).to_string(),
        )
    };
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/eval/article_ct_exercise_en.txt"
    );
    let (status, markdown, stderr) = run("markdown", path);
    assert!(status.success(), "{stderr}");
    for section in [
        "# Brief",
        "## Summary",
        "## Events",
        "## Entities",
        "COOPERATE (Military exercise or cooperation)",
    ] {
        assert!(markdown.contains(section), "missing {section}:\n{markdown}");
    }
    let (status, json, stderr) = run("json", path);
    assert!(status.success(), "{stderr}");
    let value: serde_json::Value = serde_json::from_str(&json).expect("JSON output");
    assert!(value["tags"].as_array().is_some_and(|t| !t.is_empty()));
    assert_eq!(value["source_language"], "en");

    let empty = tempfile::NamedTempFile::new().expect("temp file");
    let (status, _, stderr) = run("json", &empty.path().display().to_string());
    assert!(!status.success());
    assert!(stderr.contains("empty"), "{stderr}");
}
