//! Article-level behaviour: over-long sentences are split and reported, line structure is kept,
//! and article translation agrees with sentence-by-sentence generation.

use candle_core::Device;
use dragoman::models::{GenerationOptions, ModelSource, TranslationModel};
use dragoman::pipeline::{TranslateOptions, Translator};

use crate::common::fixture_dir;

fn translator() -> Translator {
    let model = TranslationModel::load(
        &ModelSource::Local(fixture_dir("marian-tiny-relu")),
        &Device::Cpu,
    )
    .expect("fixture loads");
    Translator::new(model)
}

fn greedy() -> TranslateOptions {
    TranslateOptions {
        generation: GenerationOptions {
            beams: Some(1),
            ..GenerationOptions::default()
        },
        ..TranslateOptions::default()
    }
}

#[test]
fn a_sentence_longer_than_the_model_positions_is_split_and_reported() {
    let translator = translator();
    let max_positions = translator.model().info.max_positions;
    let sentence = "Le gouvernement a annoncé mardi un plan de soutien aux agriculteurs, \
        qui prévoit des aides directes pour les exploitations touchées par la sécheresse, \
        un report des échéances fiscales et sociales, ainsi qu’une enveloppe de 1 200 millions \
        d’euros destinée à la modernisation des équipements, mais les syndicats estiment que \
        ces mesures restent insuffisantes et appellent à une nouvelle mobilisation nationale.";
    let tokens = translator.model().tokenizer.count_tokens(sentence);
    assert!(
        tokens > max_positions,
        "the test sentence must exceed {max_positions} tokens, has {tokens}"
    );

    let result = translator
        .translate_article(sentence, &greedy())
        .expect("translates");
    assert_eq!(result.sentences.len(), 1);
    let only = &result.sentences[0];
    assert!(only.parts > 1, "split into {} parts", only.parts);
    assert_eq!(only.source_tokens, {
        // Every part went through the model whole: no token was dropped.
        let pieces = dragoman::text::split_to_budget(sentence, max_positions, &|t: &str| {
            translator.model().tokenizer.count_tokens(t)
        });
        pieces
            .iter()
            .map(|p| translator.model().tokenizer.count_tokens(p))
            .sum::<usize>()
    });
    assert!(!only.translation.is_empty());
    assert!(
        result
            .warnings
            .iter()
            .any(|w| w.contains("translated in") && w.contains("parts")),
        "{:?}",
        result.warnings
    );
}

#[test]
fn blank_lines_and_bullets_survive_and_sentences_are_translated_alone() {
    let translator = translator();
    let article = "Le sommet s’est achevé. Les dirigeants sont partis.\n\n   \n- Premier point.\n";
    let result = translator
        .translate_article(article, &greedy())
        .expect("translates");
    let lines: Vec<&str> = result.text.split('\n').collect();
    assert_eq!(lines.len(), 5);
    assert!(lines[1].is_empty() && lines[2].is_empty() && lines[4].is_empty());
    assert!(lines[3].starts_with("- "));
    assert_eq!(result.sentences.len(), 3);

    // Each sentence's translation is what the sentence alone gives.
    for sentence in &result.sentences {
        let alone = translator
            .translate_sentences(std::slice::from_ref(&sentence.source), &greedy())
            .expect("translates");
        assert_eq!(alone[0].translation, sentence.translation);
        assert!((alone[0].score - sentence.score).abs() < 1e-4);
    }
}

#[test]
fn empty_and_whitespace_input() {
    let translator = translator();
    let empty = translator
        .translate_article("", &greedy())
        .expect("translates");
    assert_eq!(empty.text, "");
    assert!(empty.sentences.is_empty());
    let blank = translator
        .translate_article("\n \n", &greedy())
        .expect("translates");
    assert_eq!(blank.text, "\n\n");
}

#[test]
fn an_output_cut_at_the_maximum_length_is_reported() {
    let translator = translator();
    let options = TranslateOptions {
        generation: GenerationOptions {
            beams: Some(1),
            max_new_tokens: Some(2),
            ..GenerationOptions::default()
        },
        ..TranslateOptions::default()
    };
    let result = translator
        .translate_article(
            "Le président de la République a reçu mardi son homologue.",
            &options,
        )
        .expect("translates");
    assert!(result.sentences[0].hit_max_length);
    assert!(result.sentences[0].generated_tokens <= 2);
    assert!(
        result
            .warnings
            .iter()
            .any(|w| w.contains("maximum output length")),
        "{:?}",
        result.warnings
    );
}
