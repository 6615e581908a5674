//! Scores the analyst's brief against the labelled event set (`tests/data/events/`): event types
//! per sentence (the classifier alone) and per article (the whole brief), articles without
//! events, status, actors, place and date of each event, and the extractive summary against the
//! lead-3 baseline (ROUGE-1 and ROUGE-L F1, Lin 2004). Used by `scripts/evaluate_analysis.sh` and
//! by the tests; every figure carries its denominator.
//!
//! French articles are analysed from their French text with the labelled English translation
//! standing in for the model's (so the score is the analysis's, not the translation's): status
//! and dates are read from the French, as they are in service.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use super::analyze::{AnalysisInput, AnalyzeError, AnalyzeOptions, Analyzer, SummaryMode};
use super::events::features::words as tokens;
use super::events::labelled::{LabelledArticle, LabelledEvent};
use super::events::EventRecord;
use super::persons::mask_persons;
use super::translate::{ArticleTranslation, SentenceTranslation};
use crate::text::Article;

/// A count of successes out of a denominator.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Ratio {
    /// Successes.
    pub hits: usize,
    /// Cases.
    pub total: usize,
}

impl Ratio {
    /// hits / total (0 when there are no cases).
    pub fn value(self) -> f64 {
        if self.total == 0 {
            0.0
        } else {
            self.hits as f64 / self.total as f64
        }
    }

    fn add(&mut self, hit: bool) {
        self.hits += usize::from(hit);
        self.total += 1;
    }
}

impl std::fmt::Display for Ratio {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:.3} ({}/{})", self.value(), self.hits, self.total)
    }
}

/// True positives, false positives and false negatives.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Predicted and labelled.
    pub tp: usize,
    /// Predicted, not labelled.
    pub fp: usize,
    /// Labelled, not predicted.
    pub fn_: usize,
}

impl Counts {
    /// tp / (tp + fp).
    pub fn precision(self) -> Ratio {
        Ratio {
            hits: self.tp,
            total: self.tp + self.fp,
        }
    }

    /// tp / (tp + fn).
    pub fn recall(self) -> Ratio {
        Ratio {
            hits: self.tp,
            total: self.tp + self.fn_,
        }
    }

    /// Harmonic mean of precision and recall.
    pub fn f1(self) -> f64 {
        let (p, r) = (self.precision().value(), self.recall().value());
        if p + r == 0.0 {
            0.0
        } else {
            2.0 * p * r / (p + r)
        }
    }

    fn add(&mut self, predicted: bool, labelled: bool) {
        match (predicted, labelled) {
            (true, true) => self.tp += 1,
            (true, false) => self.fp += 1,
            (false, true) => self.fn_ += 1,
            (false, false) => {}
        }
    }
}

/// The report.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Articles scored (written articles; PLOVER's gold records only in `gold_records_top_type`).
    pub articles: usize,
    /// Sentences scored.
    pub sentences: usize,
    /// Sentence-level type decisions, per type.
    pub sentence_types: BTreeMap<String, Counts>,
    /// Article-level type decisions (the brief's events), over all types.
    pub article_types: Counts,
    /// Articles that report no event and got none.
    pub no_event_articles: Ratio,
    /// Events per article that has events, predicted (mean).
    pub events_per_article: f64,
    /// Status of the labelled events whose type the brief found, per labelled status.
    pub status: BTreeMap<String, Ratio>,
    /// The same, for French articles only.
    pub status_french: BTreeMap<String, Ratio>,
    /// Source actor right, among found events with a labelled source.
    pub source: Ratio,
    /// Target actor right.
    pub target: Ratio,
    /// Location right.
    pub location: Ratio,
    /// Date right (first and last day).
    pub date: Ratio,
    /// PLOVER gold records: the most probable type is the coded one.
    pub gold_records_top_type: Ratio,
    /// Mean ROUGE-1 F1 of the extractive summary and of the lead-3 baseline.
    pub rouge1: (f64, f64),
    /// Mean ROUGE-L F1 of the extractive summary and of lead-3.
    pub rouge_l: (f64, f64),
    /// Articles with a reference summary.
    pub summaries: usize,
}

impl Report {
    /// Micro-averaged sentence-level counts over all types.
    pub fn sentence_micro(&self) -> Counts {
        self.sentence_types
            .values()
            .fold(Counts::default(), |a, c| Counts {
                tp: a.tp + c.tp,
                fp: a.fp + c.fp,
                fn_: a.fn_ + c.fn_,
            })
    }

    /// All statuses together.
    pub fn status_overall(&self) -> Ratio {
        self.status.values().fold(Ratio::default(), |a, r| Ratio {
            hits: a.hits + r.hits,
            total: a.total + r.total,
        })
    }

    /// The report as Markdown tables.
    pub fn markdown(&self) -> String {
        let mut md = String::new();
        let micro = self.sentence_micro();
        let _ = writeln!(
            md,
            "{} articles, {} sentences.\n",
            self.articles, self.sentences
        );
        let _ = writeln!(md, "| measure | value |\n|---|---|");
        let _ = writeln!(
            md,
            "| sentence-level type micro-F1 | {:.3} (P {}, R {}) |",
            micro.f1(),
            micro.precision(),
            micro.recall()
        );
        let _ = writeln!(
            md,
            "| article-level type precision | {} |\n| article-level type recall | {} |",
            self.article_types.precision(),
            self.article_types.recall()
        );
        let _ = writeln!(
            md,
            "| no-event articles with no event | {} |\n| events per article with events | {:.2} |",
            self.no_event_articles, self.events_per_article
        );
        let _ = writeln!(md, "| status accuracy | {} |", self.status_overall());
        for (label, ratio) in [
            ("source actor", self.source),
            ("target actor", self.target),
            ("location", self.location),
            ("date", self.date),
        ] {
            let _ = writeln!(md, "| {label} accuracy | {ratio} |");
        }
        let _ = writeln!(
            md,
            "| PLOVER gold records: best type right | {} |",
            self.gold_records_top_type
        );
        let _ = writeln!(
            md,
            "| ROUGE-1 F1: extractive / lead-3 ({} articles) | {:.3} / {:.3} |",
            self.summaries, self.rouge1.0, self.rouge1.1
        );
        let _ = writeln!(
            md,
            "| ROUGE-L F1: extractive / lead-3 | {:.3} / {:.3} |\n",
            self.rouge_l.0, self.rouge_l.1
        );
        let _ = writeln!(
            md,
            "| type | sentence precision | sentence recall | F1 |\n|---|---|---|---|"
        );
        for (kind, counts) in &self.sentence_types {
            let _ = writeln!(
                md,
                "| {kind} | {} | {} | {:.3} |",
                counts.precision(),
                counts.recall(),
                counts.f1()
            );
        }
        let _ = writeln!(
            md,
            "\n| status | accuracy (all) | accuracy (French) |\n|---|---|---|"
        );
        for (status, ratio) in &self.status {
            let french = self.status_french.get(status).copied().unwrap_or_default();
            let _ = writeln!(md, "| {status} | {ratio} | {french} |");
        }
        md
    }
}

/// ROUGE-1 F1 of `candidate` against `reference`.
pub fn rouge1(candidate: &str, reference: &str) -> f64 {
    let (c, r) = (tokens(candidate), tokens(reference));
    if c.is_empty() || r.is_empty() {
        return 0.0;
    }
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for w in &r {
        *counts.entry(w).or_default() += 1;
    }
    let mut overlap = 0;
    for w in &c {
        if let Some(n) = counts.get_mut(w.as_str()).filter(|n| **n > 0) {
            *n -= 1;
            overlap += 1;
        }
    }
    f_score(overlap, c.len(), r.len())
}

/// ROUGE-L F1 (longest common subsequence of tokens) of `candidate` against `reference`.
pub fn rouge_l(candidate: &str, reference: &str) -> f64 {
    let (c, r) = (tokens(candidate), tokens(reference));
    if c.is_empty() || r.is_empty() {
        return 0.0;
    }
    let mut row = vec![0usize; r.len() + 1];
    for x in &c {
        let mut diagonal = 0;
        for (j, y) in r.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = if x == y {
                diagonal + 1
            } else {
                above.max(row[j])
            };
            diagonal = above;
        }
    }
    f_score(row[r.len()], c.len(), r.len())
}

fn f_score(overlap: usize, candidate: usize, reference: usize) -> f64 {
    if overlap == 0 {
        return 0.0;
    }
    let p = overlap as f64 / candidate as f64;
    let r = overlap as f64 / reference as f64;
    2.0 * p * r / (p + r)
}

/// Whether a predicted phrase names the labelled one: one contains the other's words.
fn same_phrase(predicted: &str, labelled: &str) -> bool {
    let skip = |w: &String| !matches!(w.as_str(), "the" | "a" | "an" | "s");
    let p: Vec<String> = tokens(predicted).into_iter().filter(skip).collect();
    let l: Vec<String> = tokens(labelled).into_iter().filter(skip).collect();
    if p.is_empty() || l.is_empty() {
        return false;
    }
    let contains = |a: &[String], b: &[String]| a.windows(b.len()).any(|w| w == b);
    contains(&p, &l) || contains(&l, &p)
}

/// The French article as the flow sees it, with the labelled English for each sentence the
/// segmenter finds (a labelled sentence is one paragraph; when the segmenter cuts it in two, the
/// first part carries the whole translation). Also the paragraph of each segmented sentence.
fn translated(article: &LabelledArticle, text: &str) -> (ArticleTranslation, Vec<usize>) {
    let parsed = Article::parse(text);
    let mut sentences = Vec::new();
    let mut paragraph_of = Vec::new();
    for (paragraph, line) in parsed.lines.iter().filter(|l| !l.is_blank()).enumerate() {
        let english = article
            .sentences
            .get(paragraph)
            .map(|s| s.english().to_string())
            .unwrap_or_default();
        for (i, source) in line.sentences.iter().enumerate() {
            sentences.push(SentenceTranslation {
                source: source.clone(),
                translation: if i == 0 {
                    english.clone()
                } else {
                    String::new()
                },
                score: 0.0,
                source_tokens: 0,
                generated_tokens: 0,
                parts: 1,
                hit_max_length: false,
                alternatives: Vec::new(),
            });
            paragraph_of.push(paragraph);
        }
    }
    let english: Vec<String> = article
        .sentences
        .iter()
        .map(|s| s.english().to_string())
        .collect();
    (
        ArticleTranslation {
            text: english.join("\n\n"),
            sentences,
            warnings: Vec::new(),
        },
        paragraph_of,
    )
}

/// The labelled event of `kind` an extracted event stands for: the one stated in its main
/// sentence, else the first of that type.
fn matching<'a>(
    article: &'a LabelledArticle,
    event: &EventRecord,
    main_paragraph: usize,
) -> Option<&'a LabelledEvent> {
    article
        .sentences
        .get(main_paragraph)
        .and_then(|s| s.events.iter().find(|e| e.kind == event.kind))
        .or_else(|| {
            article
                .sentences
                .iter()
                .flat_map(|s| &s.events)
                .find(|e| e.kind == event.kind)
        })
}

/// Scores `analyzer` on `articles` (pass the held-out split).
pub fn evaluate(analyzer: &Analyzer, articles: &[LabelledArticle]) -> Result<Report, AnalyzeError> {
    let mut report = Report::default();
    let extractor = analyzer.event_extractor();
    let head = extractor.head();
    let threshold = head.threshold();
    let options = AnalyzeOptions {
        summary_mode: Some(SummaryMode::Extractive),
        ..AnalyzeOptions::default()
    };
    let (mut rouge1_sum, mut rouge1_lead, mut rouge_l_sum, mut rouge_l_lead) = (0.0, 0.0, 0.0, 0.0);
    let mut with_events = (0usize, 0usize);
    for article in articles {
        // Sentence level: the classifier on each labelled English sentence.
        let english: Vec<&str> = article.sentences.iter().map(|s| s.english()).collect();
        let masked: Vec<String> = english.iter().map(|s| mask_persons(s)).collect();
        let masked_refs: Vec<&str> = masked.iter().map(String::as_str).collect();
        let embeddings =
            analyzer
                .embedder()
                .embed(&masked_refs)
                .map_err(|e| AnalyzeError::Model {
                    step: "sentence embedding",
                    message: e.to_string(),
                })?;
        let probabilities: Vec<Vec<f32>> = masked
            .iter()
            .zip(&embeddings)
            .map(|(m, e)| head.probabilities(&head.features(m, e)))
            .collect();
        if article.origin.as_deref() == Some("plover-gsr") {
            if let (Some(p), Some(gold)) = (
                probabilities.first(),
                article.sentences.first().and_then(|s| s.events.first()),
            ) {
                let best = p
                    .iter()
                    .enumerate()
                    .max_by(|a, b| a.1.total_cmp(b.1))
                    .map(|(i, _)| head.types()[i].as_str());
                report
                    .gold_records_top_type
                    .add(best == Some(gold.kind.as_str()));
            }
            continue;
        }
        report.articles += 1;
        for (sentence, p) in article.sentences.iter().zip(&probabilities) {
            report.sentences += 1;
            for (t, kind) in head.types().iter().enumerate() {
                let labelled = sentence.events.iter().any(|e| &e.kind == kind);
                report
                    .sentence_types
                    .entry(kind.clone())
                    .or_default()
                    .add(p[t] >= threshold, labelled);
            }
        }

        // Article level: the whole brief.
        let text = article.text();
        let (analysis, paragraph_of) = if article.lang == "fr" {
            let (translation, paragraph_of) = translated(article, &text);
            let analysis = analyzer.analyze(
                AnalysisInput::Translated {
                    source: &text,
                    translation: &translation,
                    model: "labelled translation".into(),
                    elapsed: std::time::Duration::ZERO,
                },
                &options,
            )?;
            (analysis, paragraph_of)
        } else {
            let analysis = analyzer.analyze(AnalysisInput::English(&text), &options)?;
            let paragraph_of = Article::parse(&text)
                .lines
                .iter()
                .filter(|l| !l.is_blank())
                .enumerate()
                .flat_map(|(p, l)| std::iter::repeat_n(p, l.sentences.len()))
                .collect();
            (analysis, paragraph_of)
        };
        let gold: BTreeSet<&str> = article
            .sentences
            .iter()
            .flat_map(|s| s.events.iter().map(|e| e.kind.as_str()))
            .collect();
        let predicted: BTreeSet<&str> = analysis.events.iter().map(|e| e.kind.as_str()).collect();
        for kind in head.types() {
            report.article_types.add(
                predicted.contains(kind.as_str()),
                gold.contains(kind.as_str()),
            );
        }
        if gold.is_empty() {
            report.no_event_articles.add(predicted.is_empty());
        }
        if !predicted.is_empty() {
            with_events.0 += 1;
            with_events.1 += analysis.events.len();
        }
        for event in analysis
            .events
            .iter()
            .filter(|e| gold.contains(e.kind.as_str()))
        {
            let main = event
                .evidence
                .first()
                .and_then(|e| paragraph_of.get(e.sentence).copied())
                .unwrap_or(0);
            let Some(labelled) = matching(article, event, main) else {
                continue;
            };
            if let Some(status) = &labelled.status {
                let right = serde_json::to_value(event.status)
                    .ok()
                    .and_then(|v| v.as_str().map(|s| s == status))
                    .unwrap_or(false);
                report.status.entry(status.clone()).or_default().add(right);
                if article.lang == "fr" {
                    report
                        .status_french
                        .entry(status.clone())
                        .or_default()
                        .add(right);
                }
            }
            for (labelled, predicted, ratio) in [
                (&labelled.source, &event.source, &mut report.source),
                (&labelled.target, &event.target, &mut report.target),
                (&labelled.location, &event.location, &mut report.location),
            ] {
                if let Some(labelled) = labelled {
                    ratio.add(
                        predicted
                            .as_ref()
                            .is_some_and(|p| same_phrase(&p.text, labelled)),
                    );
                }
            }
            if let Some(date) = &labelled.date {
                let ok = event.date.as_ref().is_some_and(|d| {
                    d.start.to_string() == date.start && d.end.to_string() == date.end
                });
                report.date.add(ok);
            }
        }

        // Summary against lead-3.
        if !article.summary.is_empty() {
            report.summaries += 1;
            let lead: String = english
                .iter()
                .take(3)
                .copied()
                .collect::<Vec<_>>()
                .join(" ");
            rouge1_sum += rouge1(&analysis.summary, &article.summary);
            rouge_l_sum += rouge_l(&analysis.summary, &article.summary);
            rouge1_lead += rouge1(&lead, &article.summary);
            rouge_l_lead += rouge_l(&lead, &article.summary);
        }
    }
    let n = report.summaries.max(1) as f64;
    report.rouge1 = (rouge1_sum / n, rouge1_lead / n);
    report.rouge_l = (rouge_l_sum / n, rouge_l_lead / n);
    report.events_per_article = with_events.1 as f64 / with_events.0.max(1) as f64;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rouge_matches_hand_counts() {
        // 3 of 4 candidate words in a 6-word reference: P 0.75, R 0.5, F 0.6.
        assert!(
            (rouge1("the army shelled Gao", "the army shelled the town of") - 0.6).abs() < 1e-9
        );
        // LCS "a c d" = 3 of 4 and 3 of 5: F = 2·0.75·0.6/1.35.
        let expected = 2.0 * 0.75 * 0.6 / 1.35;
        assert!((rouge_l("a b c d", "a c x d e") - expected).abs() < 1e-9);
        assert_eq!(rouge1("", "x"), 0.0);
    }

    #[test]
    fn phrases_match_by_contained_words() {
        assert!(same_phrase("The Malian army", "the Malian army"));
        assert!(same_phrase("Malian army", "the Malian army's drones"));
        assert!(!same_phrase("JNIM", "the Malian army"));
        assert!(!same_phrase("the", "the army"));
    }

    #[test]
    fn counts_give_precision_recall_and_f1() {
        let mut c = Counts::default();
        for (p, l) in [(true, true), (true, false), (false, true), (true, true)] {
            c.add(p, l);
        }
        assert_eq!((c.tp, c.fp, c.fn_), (2, 1, 1));
        assert!((c.f1() - 2.0 / 3.0).abs() < 1e-9);
        assert_eq!(c.precision().to_string(), "0.667 (2/3)");
    }
}
