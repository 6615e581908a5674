//! Scores the event tagger, its status cues and the entity finder on the labelled set in
//! `tests/data/eval/` with a real sentence-embedding model, and calibrates the tag thresholds.
//!
//! ```text
//! cargo run --release --example evaluate_analysis -- --embedding-model DIR [--thresholds FILE]
//!     [--calibrate OUT.json]
//! ```
//! Run through `scripts/evaluate_tags.sh`. Calibration picks one global threshold maximising
//! micro-F1 over all (paragraph, tag) pairs, then per-tag thresholds halfway between the global
//! one and the tag's own F1-best threshold; leave-one-out cross-validation (each paragraph scored
//! with thresholds fitted on the others) says how well either generalises.

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use serde::Deserialize;

use dragoman::models::embedding::SentenceEmbedder;
use dragoman::models::ModelSource;
use dragoman::pipeline::entities::find_mentions;
use dragoman::pipeline::tagging::{TagInput, TagScorer, TagThresholds};
use dragoman::pipeline::{EntityType, EventStatus, Gazetteer, Taxonomy};
use dragoman::text::Article;

#[derive(Debug, Deserialize)]
struct Labelled {
    id: String,
    text: String,
    tags: Vec<String>,
    status: BTreeMap<String, EventStatus>,
    entities: Vec<LabelledEntity>,
}

#[derive(Debug, Deserialize)]
struct LabelledEntity {
    text: String,
    #[serde(rename = "type")]
    kind: EntityType,
}

struct Scored {
    item: Labelled,
    sentences: Vec<String>,
    embeddings: Vec<Vec<f32>>,
    /// Article score per tag (taxonomy order).
    scores: Vec<f32>,
}

fn read_set(path: &str) -> Result<Vec<Labelled>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {path}"))?;
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).with_context(|| format!("{path}: {l}")))
        .collect()
}

#[derive(Default, Clone, Copy)]
struct Counts {
    tp: usize,
    fp: usize,
    fn_: usize,
}

impl Counts {
    fn add(&mut self, predicted: bool, expected: bool) {
        match (predicted, expected) {
            (true, true) => self.tp += 1,
            (true, false) => self.fp += 1,
            (false, true) => self.fn_ += 1,
            (false, false) => {}
        }
    }
    fn prf(&self) -> (f64, f64, f64) {
        let p = if self.tp + self.fp == 0 {
            0.0
        } else {
            self.tp as f64 / (self.tp + self.fp) as f64
        };
        let r = if self.tp + self.fn_ == 0 {
            0.0
        } else {
            self.tp as f64 / (self.tp + self.fn_) as f64
        };
        let f = if p + r == 0.0 {
            0.0
        } else {
            2.0 * p * r / (p + r)
        };
        (p, r, f)
    }
}

fn f1_at(pairs: &[(f32, bool)], threshold: f32) -> f64 {
    let mut c = Counts::default();
    for &(score, expected) in pairs {
        c.add(score >= threshold, expected);
    }
    c.prf().2
}

/// The threshold maximising F1 over `pairs`, the middle of the best plateau.
fn best_threshold(pairs: &[(f32, bool)]) -> f32 {
    let mut candidates: Vec<f32> = pairs.iter().map(|p| p.0).collect();
    candidates.sort_by(f32::total_cmp);
    candidates.dedup();
    let mut best = (f64::NEG_INFINITY, 0usize, 0usize);
    for (i, &t) in candidates.iter().enumerate() {
        let f = f1_at(pairs, t);
        if f > best.0 + 1e-12 {
            best = (f, i, i);
        } else if (f - best.0).abs() <= 1e-12 && best.2 + 1 == i {
            best.2 = i;
        }
    }
    if candidates.is_empty() {
        return 0.5;
    }
    // Halfway between the plateau's first score and the score below it.
    let low = candidates[best.1];
    let below = if best.1 == 0 {
        low - 0.02
    } else {
        candidates[best.1 - 1]
    };
    (low + below) / 2.0
}

fn fit(scored: &[&Scored], tags: &[String], skip: Option<usize>) -> TagThresholds {
    let mut all = Vec::new();
    let mut per_tag: Vec<Vec<(f32, bool)>> = vec![Vec::new(); tags.len()];
    for (i, s) in scored.iter().enumerate() {
        if Some(i) == skip {
            continue;
        }
        for (t, tag) in tags.iter().enumerate() {
            let pair = (s.scores[t], s.item.tags.contains(tag));
            all.push(pair);
            per_tag[t].push(pair);
        }
    }
    let global = best_threshold(&all);
    let mut own = BTreeMap::new();
    for (t, tag) in tags.iter().enumerate() {
        let tag_best = best_threshold(&per_tag[t]);
        own.insert(tag.clone(), (global + tag_best) / 2.0);
    }
    TagThresholds {
        embedding_model: String::new(),
        calibration: String::new(),
        default: global,
        tags: own,
    }
}

fn evaluate(
    scored: &[&Scored],
    tags: &[String],
    thresholds: &dyn Fn(usize) -> TagThresholds,
) -> (Vec<Counts>, Counts) {
    let mut per_tag = vec![Counts::default(); tags.len()];
    let mut micro = Counts::default();
    for (i, s) in scored.iter().enumerate() {
        let th = thresholds(i);
        for (t, tag) in tags.iter().enumerate() {
            let predicted = s.scores[t] >= th.of(tag);
            let expected = s.item.tags.contains(tag);
            per_tag[t].add(predicted, expected);
            micro.add(predicted, expected);
        }
    }
    (per_tag, micro)
}

fn macro_f1(per_tag: &[Counts]) -> f64 {
    per_tag.iter().map(|c| c.prf().2).sum::<f64>() / per_tag.len().max(1) as f64
}

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let mut model = None;
    let mut thresholds_path = None;
    let mut calibrate = None;
    let mut prototypes: Option<String> = None;
    let mut explain: Option<String> = None;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--embedding-model" => model = args.next(),
            "--thresholds" => thresholds_path = args.next().map(PathBuf::from),
            "--calibrate" => calibrate = args.next().map(PathBuf::from),
            "--prototypes" => prototypes = args.next(),
            "--explain" => explain = args.next(),
            other => bail!("unknown argument {other}"),
        }
    }
    let model = model.context("--embedding-model DIR|ID is required")?;
    let source = ModelSource::parse(&model)?;
    let embedder = SentenceEmbedder::load(&source, &candle_core::Device::Cpu)?;
    let taxonomy = Taxonomy::builtin();
    let thresholds = match &thresholds_path {
        Some(p) => TagThresholds::load(p)?,
        None => TagThresholds::builtin(),
    };
    let tags: Vec<String> = taxonomy.tags.iter().map(|t| t.id.clone()).collect();
    // Experiments: which texts stand for a tag (the library uses description + examples).
    let scorer = match prototypes.as_deref() {
        None | Some("both") => TagScorer::new(taxonomy, thresholds.clone(), &embedder)?,
        Some(variant) => {
            let mut vectors = Vec::new();
            for tag in &taxonomy.tags {
                let first = tag.description.split(". ").next().unwrap_or("").to_string();
                let texts: Vec<&str> = match variant {
                    "examples" => tag.examples.iter().map(String::as_str).collect(),
                    "first-sentence" => std::iter::once(first.as_str())
                        .chain(tag.examples.iter().map(String::as_str))
                        .collect(),
                    "label" => std::iter::once(tag.label.as_str())
                        .chain(tag.examples.iter().map(String::as_str))
                        .collect(),
                    other => bail!("unknown --prototypes {other}"),
                };
                vectors.push(embedder.embed(&texts)?);
            }
            TagScorer::from_parts(taxonomy, thresholds.clone(), vectors)
        }
    };

    let mut paragraphs = Vec::new();
    let mut articles = Vec::new();
    for (set, into) in [
        ("tests/data/eval/paragraphs.jsonl", &mut paragraphs),
        ("tests/data/eval/articles.jsonl", &mut articles),
    ] {
        for item in read_set(set)? {
            let sentences: Vec<String> = Article::parse(&item.text)
                .sentences()
                .map(str::to_string)
                .collect();
            let refs: Vec<&str> = sentences.iter().map(String::as_str).collect();
            let embeddings = embedder.embed(&refs)?;
            let inputs: Vec<TagInput<'_>> = sentences
                .iter()
                .zip(&embeddings)
                .map(|(s, e)| TagInput {
                    text: s,
                    original: None,
                    embedding: e,
                })
                .collect();
            let scores = scorer
                .article_scores(&inputs)
                .into_iter()
                .map(|(s, _)| s)
                .collect();
            into.push(Scored {
                item,
                sentences,
                embeddings,
                scores,
            });
        }
    }
    if let Some(id) = &explain {
        for s in paragraphs
            .iter()
            .chain(&articles)
            .filter(|s| &s.item.id == id)
        {
            for (sentence, embedding) in s.sentences.iter().zip(&s.embeddings) {
                let scores = scorer.sentence_scores(embedding);
                let mut ranked: Vec<(usize, f32)> = scores.into_iter().enumerate().collect();
                ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
                let top: Vec<String> = ranked[..4]
                    .iter()
                    .map(|(t, v)| format!("{}={v:.3}", tags[*t]))
                    .collect();
                println!("{sentence}\n    {}", top.join(" "));
            }
        }
        return Ok(());
    }
    let para_refs: Vec<&Scored> = paragraphs.iter().collect();
    let art_refs: Vec<&Scored> = articles.iter().collect();

    if let Some(out) = &calibrate {
        let fitted = fit(&para_refs, &tags, None);
        let global_only = |th: TagThresholds| TagThresholds {
            tags: BTreeMap::new(),
            ..th
        };
        let (_, in_global) = evaluate(&para_refs, &tags, &|_| global_only(fitted.clone()));
        let (in_tags, in_micro) = evaluate(&para_refs, &tags, &|_| fitted.clone());
        let (cv_gt, cv_global) = evaluate(&para_refs, &tags, &|i| {
            global_only(fit(&para_refs, &tags, Some(i)))
        });
        let (cv_t, cv_tags) = evaluate(&para_refs, &tags, &|i| fit(&para_refs, &tags, Some(i)));
        println!("calibration on {} paragraphs:", paragraphs.len());
        println!("  global threshold {:.3}: in-sample micro-F1 {:.3}; leave-one-out micro-F1 {:.3}, macro-F1 {:.3}",
            fitted.default, in_global.prf().2, cv_global.prf().2, macro_f1(&cv_gt));
        println!("  per-tag thresholds: in-sample micro-F1 {:.3} macro {:.3}; leave-one-out micro-F1 {:.3}, macro-F1 {:.3}",
            in_micro.prf().2, macro_f1(&in_tags), cv_tags.prf().2, macro_f1(&cv_t));
        let use_tags = cv_tags.prf().2 > cv_global.prf().2;
        let mut chosen = if use_tags {
            fitted
        } else {
            global_only(fitted)
        };
        chosen.embedding_model = "sentence-transformers/all-MiniLM-L6-v2".into();
        chosen.calibration = format!(
            "{} fitted on tests/data/eval/paragraphs.jsonl ({} paragraphs) by examples/evaluate_analysis.rs; leave-one-out micro-F1 {:.3} (global only {:.3}, per tag {:.3})",
            if use_tags { "per-tag thresholds (halfway between the global and the tag's F1-best)" } else { "one global threshold" },
            paragraphs.len(),
            if use_tags { cv_tags.prf().2 } else { cv_global.prf().2 },
            cv_global.prf().2,
            cv_tags.prf().2,
        );
        for v in chosen.tags.values_mut() {
            *v = (*v * 1000.0).round() / 1000.0;
        }
        chosen.default = (chosen.default * 1000.0).round() / 1000.0;
        std::fs::write(out, serde_json::to_string_pretty(&chosen)? + "\n")?;
        println!(
            "  wrote {} ({})",
            out.display(),
            if use_tags { "per-tag" } else { "global" }
        );
        return Ok(());
    }

    // Tags with the thresholds in use.
    for (name, set) in [("paragraphs", &para_refs), ("articles", &art_refs)] {
        let (per_tag, micro) = evaluate(set, &tags, &|_| thresholds.clone());
        let (p, r, f) = micro.prf();
        println!(
            "\n## Tags on {} {name} ({})",
            set.len(),
            thresholds.calibration
        );
        println!(
            "micro P {p:.3} R {r:.3} F1 {f:.3}; macro-F1 {:.3}",
            macro_f1(&per_tag)
        );
        if name == "paragraphs" {
            println!("\n| tag | P | R | F1 | TP | FP | FN |\n|---|---:|---:|---:|---:|---:|---:|");
            for (t, c) in per_tag.iter().enumerate() {
                let (p, r, f) = c.prf();
                println!(
                    "| {} | {p:.2} | {r:.2} | {f:.2} | {} | {} | {} |",
                    tags[t], c.tp, c.fp, c.fn_
                );
            }
        } else {
            for s in set.iter() {
                let inputs: Vec<TagInput<'_>> = s
                    .sentences
                    .iter()
                    .zip(&s.embeddings)
                    .map(|(t, e)| TagInput {
                        text: t,
                        original: None,
                        embedding: e,
                    })
                    .collect();
                let found: Vec<String> = scorer
                    .tag(&inputs)
                    .iter()
                    .map(|h| format!("{}:{:?}", h.id, h.status))
                    .collect();
                println!(
                    "- {}: expected {:?}; found {:?}",
                    s.item.id, s.item.status, found
                );
            }
        }
    }

    // Status of correctly found tags.
    let mut status_total = 0;
    let mut status_right = 0;
    let mut status_unclear = 0;
    for s in para_refs.iter().chain(art_refs.iter()) {
        let inputs: Vec<TagInput<'_>> = s
            .sentences
            .iter()
            .zip(&s.embeddings)
            .map(|(t, e)| TagInput {
                text: t,
                original: None,
                embedding: e,
            })
            .collect();
        for hit in scorer.tag(&inputs) {
            if let Some(expected) = s.item.status.get(&hit.id) {
                status_total += 1;
                status_right += usize::from(*expected == hit.status);
                status_unclear += usize::from(hit.status == EventStatus::Unclear);
            }
        }
    }
    println!("\n## Status of correctly found tags\n{status_right}/{status_total} right ({:.1}%), {status_unclear} answered unclear",
        100.0 * status_right as f64 / status_total.max(1) as f64);

    // Entities: surface forms per item, demonym matches of the gazetteer left out (the set does
    // not label demonyms).
    let gazetteer = Gazetteer::builtin();
    let demonyms = demonym_forms()?;
    let mut per_type: BTreeMap<&str, Counts> = BTreeMap::new();
    for s in para_refs.iter().chain(art_refs.iter()) {
        let predicted: HashSet<(String, EntityType)> =
            find_mentions(&s.item.text, &gazetteer, None)
                .into_iter()
                .filter(|m| !demonyms.contains(&m.text.to_lowercase()))
                .map(|m| (m.text, m.kind))
                .collect();
        let expected: HashSet<(String, EntityType)> = s
            .item
            .entities
            .iter()
            .map(|e| (e.text.clone(), e.kind))
            .collect();
        for kind in [EntityType::Gpe, EntityType::Org, EntityType::Person] {
            let c = per_type.entry(kind.as_str()).or_default();
            let p: HashSet<_> = predicted.iter().filter(|e| e.1 == kind).collect();
            let x: HashSet<_> = expected.iter().filter(|e| e.1 == kind).collect();
            c.tp += p.intersection(&x).count();
            c.fp += p.difference(&x).count();
            c.fn_ += x.difference(&p).count();
        }
    }
    println!("\n## Entities (gazetteer + person rules, no NER model; demonyms excluded)\n\n| type | P | R | F1 | TP | FP | FN |\n|---|---:|---:|---:|---:|---:|---:|");
    for (kind, c) in &per_type {
        let (p, r, f) = c.prf();
        println!(
            "| {kind} | {p:.2} | {r:.2} | {f:.2} | {} | {} | {} |",
            c.tp, c.fp, c.fn_
        );
    }
    Ok(())
}

/// Lower-cased alias forms of countries that are demonyms (they end like one and are not the
/// country's name).
fn demonym_forms() -> Result<HashSet<String>> {
    let value: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string("models/gazetteer.json")?)?;
    let mut out = HashSet::new();
    let mut names = HashSet::new();
    for country in value["countries"].as_array().into_iter().flatten() {
        for key in ["name", "fr"] {
            if let Some(n) = country[key].as_str() {
                names.insert(n.to_lowercase());
            }
        }
        for alias in country["aliases"].as_array().into_iter().flatten() {
            if let Some(a) = alias.as_str() {
                let lower = a.to_lowercase();
                let demonym_ending = [
                    "an", "ans", "ese", "ish", "i", "is", "ic", "ien", "ienne", "iens", "iennes",
                    "ais", "aise", "aises", "ois", "oise", "ch", "ian", "ians",
                ]
                .iter()
                .any(|e| lower.ends_with(e));
                if demonym_ending && !a.chars().all(|c| c.is_uppercase() || !c.is_alphabetic()) {
                    out.insert(lower);
                }
            }
        }
    }
    Ok(out.difference(&names).cloned().collect())
}
