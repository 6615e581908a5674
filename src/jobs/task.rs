//! What a batch job does to each text: translate it, summarize it or analyse it, with the same
//! pipeline as `dragoman translate` and `dragoman analyze`. Tasks are synchronous (tensors never
//! run on the async runtime); the runner calls them on a blocking thread, a batch at a time.

use serde_json::Value;

use crate::pipeline::analyze::{AnalyzeOptions, SourceLanguage};
use crate::pipeline::flow::{analyze_articles, LocalTranslator};
use crate::pipeline::{TranslateOptions, Translator};

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
        self.translator
            .translate_many(texts, &self.options)
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
        let translator = self.translator.as_ref().map(|translator| LocalTranslator {
            translator,
            options: &self.translate_options,
        });
        let Ok(results) = analyze_articles(texts, self.source, translator.as_ref(), |input| {
            self.analyzer.analyze(input, &self.options)
        });
        results
            .into_iter()
            .map(|analysis| {
                let analysis = analysis.map_err(|e| e.to_string())?;
                match self.kind {
                    TaskKind::Summarize => Ok(Value::String(analysis.summary)),
                    _ => serde_json::to_value(&analysis).map_err(|e| e.to_string()),
                }
            })
            .collect()
    }
}
