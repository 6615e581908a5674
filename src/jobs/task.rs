//! What a batch job does to each text: translate it, summarize it or analyse it, with the same
//! pipeline as `dragoman translate` and `dragoman analyze`. Tasks are synchronous (tensors never
//! run on the async runtime); the runner calls them on a blocking thread, a batch at a time.

use std::time::Instant;

use serde_json::Value;

use crate::pipeline::analyze::{AnalysisInput, AnalyzeOptions, SourceLanguage};
use crate::pipeline::{
    settle_language, ArticleTranslation, Language, TranslateOptions, Translator,
};

/// The kinds of batch task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskKind {
    /// French to English: `"translation"`.
    Translate,
    /// The summary only: `"summary"`.
    Summarize,
    /// The whole analysis: `"analysis"`.
    Analyze,
}

impl TaskKind {
    /// The task's name (in job specs and on the command line).
    pub fn name(self) -> &'static str {
        match self {
            Self::Translate => "translate",
            Self::Summarize => "summarize",
            Self::Analyze => "analyze",
        }
    }

    /// The output field that holds a result.
    pub fn result_field(self) -> &'static str {
        match self {
            Self::Translate => "translation",
            Self::Summarize => "summary",
            Self::Analyze => "analysis",
        }
    }
}

/// Work done on a batch of texts.
pub trait Task: Send + Sync {
    /// Which task this is.
    fn kind(&self) -> TaskKind;
    /// One result per text, in order: the value of the result field, or an error message.
    fn run(&self, texts: &[&str]) -> Vec<Result<Value, String>>;
}

/// Translates several articles at once: their sentences share the model's length-sorted
/// batches. If the shared run fails, each article is tried alone so one bad article fails alone.
pub fn translate_many(
    translator: &Translator,
    texts: &[&str],
    options: &TranslateOptions,
) -> Vec<Result<ArticleTranslation, String>> {
    let prepared: Vec<_> = texts
        .iter()
        .map(|t| translator.prepare_article(t))
        .collect();
    let units: Vec<_> = prepared
        .iter()
        .flat_map(|p| p.sentences.units.iter().cloned())
        .collect();
    match translator.run_units(&units, options) {
        Ok(outputs) => {
            let mut outputs = outputs.into_iter();
            prepared
                .iter()
                .map(|article| {
                    let mine = outputs
                        .by_ref()
                        .take(article.sentences.units.len())
                        .collect();
                    translator
                        .assemble_article(article, mine)
                        .map_err(|e| e.to_string())
                })
                .collect()
        }
        Err(e) if texts.len() == 1 => vec![Err(e.to_string())],
        Err(_) => texts
            .iter()
            .map(|t| {
                translator
                    .translate_article(t, options)
                    .map_err(|e| e.to_string())
            })
            .collect(),
    }
}

/// `--task translate`.
pub struct TranslateTask {
    translator: Translator,
    options: TranslateOptions,
}

impl TranslateTask {
    /// A task over a loaded translator.
    pub fn new(translator: Translator, options: TranslateOptions) -> Self {
        Self {
            translator,
            options,
        }
    }
}

impl Task for TranslateTask {
    fn kind(&self) -> TaskKind {
        TaskKind::Translate
    }

    fn run(&self, texts: &[&str]) -> Vec<Result<Value, String>> {
        translate_many(&self.translator, texts, &self.options)
            .into_iter()
            .map(|r| r.map(|t| Value::String(t.text)))
            .collect()
    }
}

/// `--task summarize` and `--task analyze`: French articles are translated first (together),
/// English ones analysed as given.
pub struct AnalyzeTask {
    kind: TaskKind,
    analyzer: crate::pipeline::Analyzer,
    translator: Option<Translator>,
    translate_options: TranslateOptions,
    source: SourceLanguage,
    options: AnalyzeOptions,
}

impl AnalyzeTask {
    /// A summarize (`summary_only`) or analyze task. Without a translator, French texts fail.
    pub fn new(
        analyzer: crate::pipeline::Analyzer,
        translator: Option<Translator>,
        translate_options: TranslateOptions,
        source: SourceLanguage,
        mut options: AnalyzeOptions,
        summary_only: bool,
    ) -> Self {
        if summary_only {
            options.tags = false;
            options.entities = false;
        }
        Self {
            kind: if summary_only {
                TaskKind::Summarize
            } else {
                TaskKind::Analyze
            },
            analyzer,
            translator,
            translate_options,
            source,
            options,
        }
    }
}

impl Task for AnalyzeTask {
    fn kind(&self) -> TaskKind {
        self.kind
    }

    fn run(&self, texts: &[&str]) -> Vec<Result<Value, String>> {
        let languages: Vec<_> = texts
            .iter()
            .map(|t| settle_language(t, self.source).map_err(|e| e.to_string()))
            .collect();
        let french: Vec<usize> = (0..texts.len())
            .filter(|&i| matches!(languages[i], Ok((Language::Fr, _))))
            .collect();
        let started = Instant::now();
        let mut translations: Vec<Option<Result<ArticleTranslation, String>>> =
            (0..texts.len()).map(|_| None).collect();
        if !french.is_empty() {
            match &self.translator {
                Some(translator) => {
                    let sources: Vec<&str> = french.iter().map(|&i| texts[i]).collect();
                    let results = translate_many(translator, &sources, &self.translate_options);
                    for (&i, result) in french.iter().zip(results) {
                        translations[i] = Some(result);
                    }
                }
                None => {
                    for &i in &french {
                        translations[i] = Some(Err(
                            "the text is French but no translation model is loaded".into(),
                        ));
                    }
                }
            }
        }
        // The batch's translation time, shared out evenly among its French articles.
        let elapsed = started.elapsed() / french.len().max(1) as u32;
        let model = self
            .translator
            .as_ref()
            .map(|t| t.model().info.source.clone())
            .unwrap_or_default();
        texts
            .iter()
            .zip(languages)
            .zip(translations)
            .map(|((text, language), translation)| {
                let (language, mut warnings) = language?;
                let mut analysis = match (language, translation) {
                    (Language::En, _) => self
                        .analyzer
                        .analyze(AnalysisInput::English(text), &self.options),
                    (Language::Fr, Some(translation)) => self.analyzer.analyze(
                        AnalysisInput::Translated {
                            source: text,
                            translation: &translation?,
                            model: model.clone(),
                            elapsed,
                        },
                        &self.options,
                    ),
                    (Language::Fr, None) => {
                        return Err("internal error: a French text was not translated".into())
                    }
                }
                .map_err(|e| e.to_string())?;
                warnings.append(&mut analysis.warnings);
                analysis.warnings = warnings;
                match self.kind {
                    TaskKind::Summarize => Ok(Value::String(analysis.summary)),
                    _ => serde_json::to_value(&analysis).map_err(|e| e.to_string()),
                }
            })
            .collect()
    }
}
