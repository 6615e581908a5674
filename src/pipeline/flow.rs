//! The one way an article becomes a brief, for every entry point (`dragoman analyze`, the batch
//! task `analyze`/`summarize`, `POST /v1/analyze`, the server's jobs): settle each text's
//! language, translate the French ones in one batch, analyse every text, and put the language
//! warnings before the analysis's own.
//!
//! Callers differ only in how they translate (a local [`crate::pipeline::Translator`] or the
//! server's batching queue) and in how they admit an analysis (the server bounds how many run at
//! once): both are passed in, as an [`ArticleTranslator`] and an analysis function.

use std::time::{Duration, Instant};

use super::analyze::{settle_language, Analysis, AnalysisInput, AnalyzeError, Language};
use super::analyze::{AnalyzeOptions, Analyzer, SourceLanguage};
use super::translate::{ArticleTranslation, TranslateOptions, Translator};

/// Translates whole French articles for the flow.
pub trait ArticleTranslator {
    /// A failure of the whole batch (the server's queue full, say), returned to the caller as is.
    type Error;

    /// The translation model, as reported in the brief.
    fn model(&self) -> String;

    /// One result per text, in order; `Err` of the whole batch when nothing could be translated.
    fn translate(
        &self,
        texts: &[&str],
    ) -> Result<Vec<Result<ArticleTranslation, String>>, Self::Error>;
}

/// A local translator with fixed options: all the batch's sentences are decoded together.
pub struct LocalTranslator<'a> {
    /// The loaded model.
    pub translator: &'a Translator,
    /// Generation and splitting options.
    pub options: &'a TranslateOptions,
}

impl ArticleTranslator for LocalTranslator<'_> {
    type Error = std::convert::Infallible;

    fn model(&self) -> String {
        self.translator.model().info.source.clone()
    }

    fn translate(
        &self,
        texts: &[&str],
    ) -> Result<Vec<Result<ArticleTranslation, String>>, Self::Error> {
        Ok(self.translator.translate_many(texts, self.options))
    }
}

/// Briefs for `texts`: French texts (as settled from `source`) are translated with `translator`
/// in one call, then every text goes through `analyze` (the caller's way of running
/// [`Analyzer::analyze`]). One result per text, in order; the outer `Err` is the translator's
/// failure of the whole batch.
pub fn analyze_articles<T: ArticleTranslator + ?Sized>(
    texts: &[&str],
    source: SourceLanguage,
    translator: Option<&T>,
    mut analyze: impl FnMut(AnalysisInput<'_>) -> Result<Analysis, AnalyzeError>,
) -> Result<Vec<Result<Analysis, AnalyzeError>>, T::Error> {
    let languages: Vec<_> = texts.iter().map(|t| settle_language(t, source)).collect();
    let french: Vec<usize> = (0..texts.len())
        .filter(|&i| matches!(languages[i], Ok((Language::Fr, _))))
        .collect();
    let started = Instant::now();
    let mut translations: Vec<Option<Result<ArticleTranslation, String>>> =
        (0..texts.len()).map(|_| None).collect();
    let model = translator.map(|t| t.model()).unwrap_or_default();
    if !french.is_empty() {
        if let Some(translator) = translator {
            let sources: Vec<&str> = french.iter().map(|&i| texts[i]).collect();
            for (&i, result) in french.iter().zip(translator.translate(&sources)?) {
                translations[i] = Some(result);
            }
        }
    }
    // The batch's translation time, shared out evenly among its French articles.
    let elapsed: Duration = started.elapsed() / french.len().max(1) as u32;
    let results = texts
        .iter()
        .zip(languages)
        .zip(translations)
        .map(|((text, language), translation)| {
            let (language, mut warnings) = language?;
            let mut analysis = match (language, translation) {
                (Language::En, _) => analyze(AnalysisInput::English(text))?,
                (Language::Fr, Some(translation)) => analyze(AnalysisInput::Translated {
                    source: text,
                    translation: &translation.map_err(AnalyzeError::Translation)?,
                    model: model.clone(),
                    elapsed,
                })?,
                (Language::Fr, None) => return Err(AnalyzeError::NoTranslator),
            };
            warnings.append(&mut analysis.warnings);
            analysis.warnings = warnings;
            Ok(analysis)
        })
        .collect();
    Ok(results)
}

/// [`analyze_articles`] for one text with a local translator and the analyzer run in place.
pub fn analyze_article(
    analyzer: &Analyzer,
    translator: Option<&LocalTranslator<'_>>,
    text: &str,
    source: SourceLanguage,
    options: &AnalyzeOptions,
) -> Result<Analysis, AnalyzeError> {
    analyzer.check_options(options)?;
    let Ok(mut results) = analyze_articles(&[text], source, translator, |input| {
        analyzer.analyze(input, options)
    });
    results
        .pop()
        .expect("analyze_articles returns one result per text; this is a bug")
}
