//! Named-entity recognition with a BERT token-classification Hub model such as
//! `dslim/bert-base-NER`: BERT from `candle_transformers::models::bert` plus the `classifier`
//! linear layer of `BertForTokenClassification`, BIO/IOB2 labels from `config.json`'s `id2label`,
//! and the repo's WordPiece tokenizer (`tokenizer.json`, or rebuilt from `vocab.txt` +
//! `tokenizer_config.json` as transformers' `BertTokenizer` does when a repo has no
//! `tokenizer.json`).
//!
//! Reference: transformers 5.24 `pipeline("token-classification", aggregation_strategy="simple")`
//! (`pipelines/token_classification.py`: `gather_pre_entities`, `aggregate`, `group_entities`,
//! `group_sub_entities`, `aggregate_overlapping_entities`) and `models/bert/tokenization_bert.py`.
//! Each token's label is the argmax of its softmax scores; adjacent tokens with the same entity
//! type are grouped unless the later one is a `B-` tag; a group's score is the mean of its token
//! scores; `O` groups are dropped. Parity is tested against `tests/fixtures/bert-tiny-ner/`, made
//! by `scripts/make_ner_fixture.py`.
//!
//! Differences from the pipeline, on purpose:
//! - offsets are UTF-8 byte offsets into the input (`&text[span.start..span.end]`), not
//!   character offsets;
//! - texts longer than the model's window are never truncated: like the pipeline called with
//!   `stride`, they are cut into windows of `window_len` tokens ([CLS] and [SEP] included) that
//!   overlap by [`NerModel::stride`] word pieces, each window is labelled on its own, and
//!   entities found in several windows are merged as `aggregate_overlapping_entities` does (of
//!   two overlapping entities the longer wins, then the higher score). The pipeline without
//!   `stride` silently keeps only the first window.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use candle_core::{DType, Device, Module, Tensor, D};
use candle_nn::Linear;
use candle_transformers::models::bert::{BertModel, Config as BertConfig};
use serde::Deserialize;
use thiserror::Error;
use tokenizers::decoders::wordpiece::WordPiece as WordPieceDecoder;
use tokenizers::models::wordpiece::WordPiece;
use tokenizers::normalizers::bert::BertNormalizer;
use tokenizers::pre_tokenizers::bert::BertPreTokenizer;
use tokenizers::processors::bert::BertProcessing;
use tokenizers::{AddedToken, Decoder, Encoding, PostProcessor, Tokenizer, TruncationDirection};

use super::error::LoadError;
use super::json::read_json;
use super::network::weights_file;
use super::source::{ModelRepo, ModelSource};
use super::translation::ModelInfo;
use super::weights::CheckedWeights;

/// Windows run through the model in one forward pass.
pub const BATCH_SIZE: usize = 16;

/// Why texts could not be labelled.
#[derive(Debug, Error)]
pub enum NerError {
    /// The tokenizer rejected a text.
    #[error("tokenizing failed: {0}")]
    Tokenize(String),
    /// A tensor operation failed.
    #[error("NER model failed: {0}")]
    Model(#[from] candle_core::Error),
}

/// One entity found in a text: a run of tokens grouped as the transformers pipeline does with
/// `aggregation_strategy="simple"`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct NerSpan {
    /// The pipeline's `word`: the entity's tokens joined by the tokenizer's decoder (`##`
    /// pieces glued, spaces before punctuation removed, normalisation such as lowercasing
    /// kept). The verbatim input is `&text[start..end]`.
    pub text: String,
    /// The entity group: the token label without its `B-`/`I-` prefix (`PER`, `ORG`, `LOC`,
    /// `MISC`, …).
    pub label: String,
    /// Byte offset of the entity's first character in the input.
    pub start: usize,
    /// Byte offset just past the entity's last character in the input.
    pub end: usize,
    /// Mean over the entity's tokens of each token's softmax probability of its label.
    pub score: f32,
}

/// The parts of `config.json` that BERT's own config lacks.
#[derive(Debug, Deserialize)]
struct LabelConfig {
    id2label: Option<HashMap<String, String>>,
}

/// A special token in `tokenizer_config.json` / `special_tokens_map.json`: a string, or an
/// `AddedToken` object with a `content` field.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum TokenSpec {
    Plain(String),
    Object { content: String },
}

impl TokenSpec {
    fn content(&self) -> &str {
        match self {
            Self::Plain(s) => s,
            Self::Object { content } => content,
        }
    }
}

/// The special tokens, as named in either tokenizer file.
#[derive(Debug, Default, Deserialize)]
struct SpecialTokens {
    unk_token: Option<TokenSpec>,
    sep_token: Option<TokenSpec>,
    pad_token: Option<TokenSpec>,
    cls_token: Option<TokenSpec>,
    mask_token: Option<TokenSpec>,
}

impl SpecialTokens {
    /// `self`, with the tokens `other` names taking precedence (transformers lets
    /// `special_tokens_map.json` override `tokenizer_config.json`).
    fn overridden_by(self, other: SpecialTokens) -> Self {
        Self {
            unk_token: other.unk_token.or(self.unk_token),
            sep_token: other.sep_token.or(self.sep_token),
            pad_token: other.pad_token.or(self.pad_token),
            cls_token: other.cls_token.or(self.cls_token),
            mask_token: other.mask_token.or(self.mask_token),
        }
    }

    fn get(token: &Option<TokenSpec>, default: &str) -> String {
        token
            .as_ref()
            .map_or(default, TokenSpec::content)
            .to_string()
    }
}

/// `tokenizer_config.json` of a BERT repo (every field optional, defaults of `BertTokenizer`).
#[derive(Debug, Default, Deserialize)]
struct BertTokenizerConfig {
    do_lower_case: Option<bool>,
    strip_accents: Option<bool>,
    tokenize_chinese_chars: Option<bool>,
    /// A float because some repos write `1e30` for "no limit".
    model_max_length: Option<f64>,
    #[serde(flatten)]
    special: SpecialTokens,
}

/// A BERT token-classification model ready to label texts.
pub struct NerModel {
    model: BertModel,
    classifier: Linear,
    tokenizer: Tokenizer,
    labels: Vec<String>,
    unk_id: Option<u32>,
    pad_id: u32,
    window_len: usize,
    stride: usize,
    device: Device,
    info: ModelInfo,
}

impl NerModel {
    /// Loads `config.json` (with `id2label`), `model.safetensors` or `pytorch_model.bin`, and
    /// `tokenizer.json` — or, when the repo has none, `vocab.txt` with the optional
    /// `tokenizer_config.json` and `special_tokens_map.json` — from `source` onto `device`.
    pub fn load(source: &ModelSource, device: &Device) -> Result<Self, LoadError> {
        let started = Instant::now();
        let repo = source.open()?;
        let config_path = repo.get("config.json")?;
        let config: BertConfig = read_json(&config_path)?;
        let labels = read_labels(&config_path)?;
        let invalid = |message: String| LoadError::InvalidConfig {
            path: config_path.clone(),
            message,
        };
        if config.pad_token_id >= config.vocab_size {
            return Err(invalid(format!(
                "pad_token_id {} is outside the vocabulary of {}",
                config.pad_token_id, config.vocab_size
            )));
        }

        let mut tokenizer_config = match repo.get_optional("tokenizer_config.json")? {
            Some(path) => read_json::<BertTokenizerConfig>(&path)?,
            None => BertTokenizerConfig::default(),
        };
        let special = match repo.get_optional("special_tokens_map.json")? {
            Some(path) => read_json::<SpecialTokens>(&path)?,
            None => SpecialTokens::default(),
        };
        let special = std::mem::take(&mut tokenizer_config.special).overridden_by(special);
        let (mut tokenizer, tokenizer_path) = match repo.get_optional("tokenizer.json")? {
            Some(path) => {
                let tokenizer =
                    Tokenizer::from_file(&path).map_err(|e| LoadError::InvalidConfig {
                        path: path.clone(),
                        message: format!("not a valid tokenizer: {e}"),
                    })?;
                (tokenizer, path)
            }
            None => {
                let vocab_path = vocab_file(&repo)?;
                let tokenizer = wordpiece_tokenizer(&vocab_path, &tokenizer_config, &special)?;
                (tokenizer, vocab_path)
            }
        };
        let unk_id = tokenizer.token_to_id(&SpecialTokens::get(&special.unk_token, "[UNK]"));

        // Windows: the tokenizer's limit, never more than the model's positions.
        let window_len = match tokenizer_config.model_max_length {
            Some(limit) if limit >= 1.0 && limit < config.max_position_embeddings as f64 => {
                limit as usize
            }
            _ => config.max_position_embeddings,
        };
        let added = tokenizer
            .get_post_processor()
            .map_or(0, |p| p.added_tokens(false));
        let stride = window_len / 4;
        if window_len < added + stride + 1 {
            return Err(invalid(format!(
                "a window of {window_len} tokens leaves no room for text after {added} special tokens and a stride of {stride}"
            )));
        }
        // No truncation in the tokenizer: `windows_of` cuts texts itself (see there).
        tokenizer.with_padding(None);
        tokenizer
            .with_truncation(None)
            .map_err(|e| LoadError::InvalidConfig {
                path: tokenizer_path.clone(),
                message: format!("cannot turn truncation off: {e}"),
            })?;
        let tokenizer_vocab = tokenizer.get_vocab_size(true);
        if tokenizer_vocab > config.vocab_size {
            return Err(LoadError::InvalidConfig {
                path: tokenizer_path,
                message: format!(
                    "the tokenizer has {tokenizer_vocab} tokens but the model's vocab_size is {}",
                    config.vocab_size
                ),
            });
        }

        let weights_path = weights_file(&repo)?;
        let vb = CheckedWeights::open(&weights_path)?.var_builder(DType::F32, device);
        let weights_error = |e: candle_core::Error| LoadError::Weights {
            path: weights_path.clone(),
            message: e.to_string(),
        };
        let model = BertModel::load(vb.pp("bert"), &config).map_err(weights_error)?;
        let classifier = candle_nn::linear(config.hidden_size, labels.len(), vb.pp("classifier"))
            .map_err(weights_error)?;

        let info = ModelInfo {
            source: repo.name().to_string(),
            weights_file: weights_path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            max_positions: config.max_position_embeddings,
            vocab_size: config.vocab_size,
            load_time: started.elapsed(),
            quantization: crate::engine::Quantization::None,
        };
        tracing::info!(source = %info.source, weights = %info.weights_file, labels = labels.len(), ms = info.load_time.as_millis() as u64, "NER model loaded");
        Ok(Self {
            model,
            classifier,
            tokenizer,
            labels,
            unk_id,
            pad_id: config.pad_token_id as u32,
            window_len,
            stride,
            device: device.clone(),
            info,
        })
    }

    /// What was loaded, from where.
    pub fn info(&self) -> &ModelInfo {
        &self.info
    }

    /// The token labels by class id, from `config.json`'s `id2label` (e.g. `O`, `B-PER`).
    pub fn labels(&self) -> &[String] {
        &self.labels
    }

    /// Tokens per window, [CLS] and [SEP] included: `tokenizer_config.json`'s
    /// `model_max_length`, at most `max_position_embeddings`.
    pub fn window_len(&self) -> usize {
        self.window_len
    }

    /// Word pieces shared by consecutive windows of a long text (a quarter of
    /// [`NerModel::window_len`]).
    pub fn stride(&self) -> usize {
        self.stride
    }

    /// The token ids of each window of `text` ([CLS] … [SEP]); one window unless the text is
    /// longer than [`NerModel::window_len`].
    pub fn tokenize(&self, text: &str) -> Result<Vec<Vec<u32>>, NerError> {
        Ok(self
            .windows(text)?
            .iter()
            .map(|w| w.get_ids().to_vec())
            .collect())
    }

    /// The classifier's logits of each window of `text`, `[window][token][label]`, computed
    /// without padding (for checking against the reference implementation).
    pub fn logits(&self, text: &str) -> Result<Vec<Vec<Vec<f32>>>, NerError> {
        self.windows(text)?
            .iter()
            .map(|w| Ok(self.forward(&[w])?.remove(0)))
            .collect()
    }

    /// The entities of each text, in text order. Texts run [`BATCH_SIZE`] windows at a time,
    /// sorted by length and padded to the longest of their batch; an empty text has no entities.
    pub fn recognize(&self, texts: &[&str]) -> Result<Vec<Vec<NerSpan>>, NerError> {
        let encodings = self
            .tokenizer
            .encode_batch(texts.to_vec(), false)
            .map_err(|e| NerError::Tokenize(e.to_string()))?;
        // Every window of every text, in text then window order.
        let mut windows: Vec<(usize, Encoding)> = Vec::new();
        for (i, encoding) in encodings.into_iter().enumerate() {
            windows.extend(self.windows_of(encoding)?.into_iter().map(|w| (i, w)));
        }
        // Windows with text in them (an empty text has only [CLS] [SEP]), longest first.
        let mut order: Vec<usize> = (0..windows.len())
            .filter(|&w| windows[w].1.get_special_tokens_mask().contains(&0))
            .collect();
        order.sort_by_key(|&w| std::cmp::Reverse(windows[w].1.len()));
        let mut per_window: Vec<Vec<NerSpan>> = vec![Vec::new(); windows.len()];
        for batch in order.chunks(BATCH_SIZE) {
            let rows: Vec<&Encoding> = batch.iter().map(|&w| &windows[w].1).collect();
            let logits = self.forward(&rows)?;
            for (&w, logits) in batch.iter().zip(logits) {
                let (i, window) = &windows[w];
                per_window[w] = self.window_spans(texts[*i], window, &logits)?;
            }
        }
        let mut found: Vec<Vec<NerSpan>> = vec![Vec::new(); texts.len()];
        let mut window_counts = vec![0usize; texts.len()];
        for ((i, _), spans) in windows.iter().zip(per_window) {
            found[*i].extend(spans);
            window_counts[*i] += 1;
        }
        Ok(found
            .into_iter()
            .zip(window_counts)
            .map(|(spans, count)| {
                if count > 1 {
                    merge_overlapping(spans)
                } else {
                    spans
                }
            })
            .collect())
    }

    /// `text` tokenized and cut into windows.
    fn windows(&self, text: &str) -> Result<Vec<Encoding>, NerError> {
        let encoding = self
            .tokenizer
            .encode(text, false)
            .map_err(|e| NerError::Tokenize(e.to_string()))?;
        self.windows_of(encoding)
    }

    /// The windows of a text's encoding without special tokens, each with [CLS] … [SEP]
    /// added: what the tokenizer gives for `truncation=True, stride=self.stride,
    /// return_overflowing_tokens=True`. The tokenizers crate (0.23.2) cannot be asked for this
    /// directly: with truncation on, it stops tokenizing after `max_length` word pieces, so
    /// the overflowing windows miss the end of the text. Hence we truncate the full encoding.
    fn windows_of(&self, mut encoding: Encoding) -> Result<Vec<Encoding>, NerError> {
        let added = self
            .tokenizer
            .get_post_processor()
            .map_or(0, |p| p.added_tokens(false));
        // `load` checked that the stride is below the text part of a window.
        encoding.truncate(
            self.window_len - added,
            self.stride,
            TruncationDirection::Right,
        );
        let mut encoding = self
            .tokenizer
            .post_process(encoding, None, true)
            .map_err(|e| NerError::Tokenize(e.to_string()))?;
        let overflowing = encoding.take_overflowing();
        Ok(std::iter::once(encoding).chain(overflowing).collect())
    }

    /// One forward pass over `windows`, padded to the longest; each row's logits cut to its
    /// own length.
    fn forward(&self, windows: &[&Encoding]) -> Result<Vec<Vec<Vec<f32>>>, NerError> {
        let rows = windows.len();
        let len = windows.iter().map(|e| e.len()).max().unwrap_or(0);
        if len == 0 {
            return Ok(vec![Vec::new(); rows]);
        }
        let mut ids = vec![self.pad_id; rows * len];
        let mut type_ids = vec![0u32; rows * len];
        let mut mask = vec![0u32; rows * len];
        for (row, encoding) in windows.iter().enumerate() {
            let n = encoding.len();
            let start = row * len;
            ids[start..start + n].copy_from_slice(encoding.get_ids());
            type_ids[start..start + n].copy_from_slice(encoding.get_type_ids());
            mask[start..start + n].copy_from_slice(encoding.get_attention_mask());
        }
        let ids = Tensor::from_vec(ids, (rows, len), &self.device)?;
        let type_ids = Tensor::from_vec(type_ids, (rows, len), &self.device)?;
        let mask = Tensor::from_vec(mask, (rows, len), &self.device)?;
        let hidden = self.model.forward(&ids, &type_ids, Some(&mask))?;
        let logits = self.classifier.forward(&hidden)?;
        debug_assert_eq!(logits.dim(D::Minus1)?, self.labels.len());
        let mut out = logits.to_dtype(DType::F32)?.to_vec3::<f32>()?;
        for (row, encoding) in out.iter_mut().zip(windows) {
            row.truncate(encoding.len());
        }
        Ok(out)
    }

    /// The entities of one window: `gather_pre_entities` + `aggregate` + `group_entities` of the
    /// pipeline, then its filter on the `O` group.
    fn window_spans(
        &self,
        text: &str,
        window: &Encoding,
        logits: &[Vec<f32>],
    ) -> Result<Vec<NerSpan>, NerError> {
        let mut tokens = Vec::new();
        for (idx, scores) in logits.iter().enumerate() {
            if window.get_special_tokens_mask()[idx] != 0 {
                continue;
            }
            let (label, score) = argmax_softmax(scores);
            let id = window.get_ids()[idx];
            let (start, end) = window.get_offsets()[idx];
            let word = if Some(id) == self.unk_id {
                // The pipeline shows an unknown token as the text it stands for.
                text.get(start..end).unwrap_or_default().to_string()
            } else {
                window.get_tokens()[idx].clone()
            };
            tokens.push(TokenLabel {
                label: &self.labels[label],
                score,
                word,
                start,
                end,
            });
        }
        group_entities(&tokens)
            .into_iter()
            .filter(|group| group.label != "O")
            .map(|group| {
                Ok(NerSpan {
                    text: self.decode(group.words)?,
                    label: group.label.to_string(),
                    start: group.start,
                    end: group.end,
                    score: group.score,
                })
            })
            .collect()
    }

    /// transformers' `convert_tokens_to_string`: the tokenizer's decoder, else words joined
    /// by spaces.
    fn decode(&self, words: Vec<String>) -> Result<String, NerError> {
        match self.tokenizer.get_decoder() {
            Some(decoder) => decoder
                .decode(words)
                .map_err(|e| NerError::Tokenize(e.to_string())),
            None => Ok(words.join(" ")),
        }
    }
}

/// `id2label` from `config.json` as a list indexed by class id.
fn read_labels(path: &Path) -> Result<Vec<String>, LoadError> {
    let invalid = |message: String| LoadError::InvalidConfig {
        path: path.to_path_buf(),
        message,
    };
    let id2label = read_json::<LabelConfig>(path)?
        .id2label
        .ok_or_else(|| invalid("no `id2label`: not a token-classification model".into()))?;
    let count = id2label.len();
    let mut labels = vec![None; count];
    for (id, label) in id2label {
        match id.parse::<usize>().ok().filter(|&i| i < count) {
            Some(i) => labels[i] = Some(label),
            None => {
                return Err(invalid(format!(
                    "`id2label` key `{id}` is not a class id below {count}"
                )))
            }
        }
    }
    let labels: Vec<String> = labels.into_iter().flatten().collect();
    if labels.is_empty() {
        return Err(invalid("`id2label` is empty".into()));
    }
    Ok(labels)
}

/// `vocab.txt`, required when the repo has no `tokenizer.json`.
fn vocab_file(repo: &ModelRepo) -> Result<PathBuf, LoadError> {
    if repo.has("vocab.txt") {
        return repo.get("vocab.txt");
    }
    Err(LoadError::MissingFile {
        model: repo.name().to_string(),
        file: "tokenizer.json` or `vocab.txt".into(),
        hint: String::new(),
    })
}

/// Reads `vocab.txt` as transformers' `load_vocab` does: one token per line (universal
/// newlines), only the line break removed; a repeated token keeps its last line number.
fn read_vocab(path: &Path) -> Result<HashMap<String, u32>, LoadError> {
    let text = std::fs::read_to_string(path).map_err(|source| LoadError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    Ok(text
        .lines()
        .enumerate()
        .map(|(id, token)| (token.to_string(), id as u32))
        .collect())
}

/// The fast tokenizer transformers' `BertTokenizer` builds from `vocab.txt`: `BertNormalizer`
/// (clean text; Chinese characters split; lowercasing and accent stripping per the config),
/// `BertPreTokenizer`, `WordPiece` (`##` continuation, 100 characters per word), [CLS] … [SEP]
/// around the text, the `WordPiece` decoder, and the five special tokens registered so they are
/// matched whole and flagged in the special-tokens mask.
fn wordpiece_tokenizer(
    vocab_path: &Path,
    config: &BertTokenizerConfig,
    special: &SpecialTokens,
) -> Result<Tokenizer, LoadError> {
    let invalid = |message: String| LoadError::InvalidConfig {
        path: vocab_path.to_path_buf(),
        message,
    };
    let vocab = read_vocab(vocab_path)?;
    let unk = SpecialTokens::get(&special.unk_token, "[UNK]");
    let sep = SpecialTokens::get(&special.sep_token, "[SEP]");
    let pad = SpecialTokens::get(&special.pad_token, "[PAD]");
    let cls = SpecialTokens::get(&special.cls_token, "[CLS]");
    let mask = SpecialTokens::get(&special.mask_token, "[MASK]");
    let id = |token: &str| {
        vocab
            .get(token)
            .copied()
            .ok_or_else(|| invalid(format!("special token `{token}` is not in the vocabulary")))
    };
    let (sep_id, cls_id) = (id(&sep)?, id(&cls)?);
    let specials: Vec<AddedToken> = [&pad, &unk, &cls, &sep, &mask]
        .into_iter()
        .map(|t| AddedToken::from(t.clone(), true))
        .collect();
    // The builder wants the crate's private map type; its serde form takes any map.
    let model: WordPiece = serde_json::from_value(serde_json::json!({
        "unk_token": unk,
        "continuing_subword_prefix": "##",
        "max_input_chars_per_word": 100,
        "vocab": vocab,
    }))
    .map_err(|e| invalid(format!("not a WordPiece vocabulary: {e}")))?;
    let lowercase = config.do_lower_case.unwrap_or(true);
    let mut tokenizer = Tokenizer::new(model);
    tokenizer
        .with_normalizer(Some(BertNormalizer::new(
            true,
            config.tokenize_chinese_chars.unwrap_or(true),
            config.strip_accents,
            lowercase,
        )))
        .map_err(|e| invalid(format!("cannot set the normalizer: {e}")))?;
    tokenizer
        .with_pre_tokenizer(Some(BertPreTokenizer))
        .with_post_processor(Some(BertProcessing::new((sep, sep_id), (cls, cls_id))))
        .with_decoder(Some(WordPieceDecoder::default()));
    tokenizer
        .add_special_tokens(specials)
        .map_err(|e| invalid(format!("cannot add the special tokens: {e}")))?;
    Ok(tokenizer)
}

/// The label id with the highest softmax score (the first on ties, like numpy's `argmax`) and
/// that score, computed as the pipeline does: `exp(x - max) / sum(exp(x - max))` in f32.
fn argmax_softmax(logits: &[f32]) -> (usize, f32) {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let exps: Vec<f32> = logits.iter().map(|x| (x - max).exp()).collect();
    let sum: f32 = exps.iter().sum();
    let mut best = 0;
    for (i, e) in exps.iter().enumerate() {
        if *e > exps[best] {
            best = i;
        }
    }
    (best, exps[best] / sum)
}

/// One non-special token with its label: the pipeline's entity before grouping.
#[derive(Debug, Clone)]
struct TokenLabel<'a> {
    label: &'a str,
    score: f32,
    word: String,
    start: usize,
    end: usize,
}

/// A run of tokens grouped by `group_entities`.
#[derive(Debug, Clone, PartialEq)]
struct Group<'a> {
    label: &'a str,
    score: f32,
    words: Vec<String>,
    start: usize,
    end: usize,
}

/// The pipeline's `get_tag`: (`B` or `I`, entity type); a label without a `B-`/`I-` prefix
/// counts as a continuation of its own type.
fn tag(label: &str) -> (bool, &str) {
    if let Some(rest) = label.strip_prefix("B-") {
        (true, rest)
    } else if let Some(rest) = label.strip_prefix("I-") {
        (false, rest)
    } else {
        (false, label)
    }
}

/// The pipeline's `group_entities`: a token joins the previous group when it has the same
/// entity type and is not a `B-` token. The group is labelled as `group_sub_entities` does
/// (the first token's label after its first `-`), scored by the mean token score.
fn group_entities<'a>(tokens: &[TokenLabel<'a>]) -> Vec<Group<'a>> {
    let mut groups = Vec::new();
    let mut run: Vec<&TokenLabel<'a>> = Vec::new();
    let close = |run: &[&TokenLabel<'a>]| -> Option<Group<'a>> {
        let first = run.first()?;
        let last = run.last()?;
        let label = first.label.split_once('-').map_or(first.label, |(_, l)| l);
        let score = run.iter().map(|t| f64::from(t.score)).sum::<f64>() / run.len() as f64;
        Some(Group {
            label,
            score: score as f32,
            words: run.iter().map(|t| t.word.clone()).collect(),
            start: first.start,
            end: last.end,
        })
    };
    for token in tokens {
        if let Some(last) = run.last() {
            let (begins, kind) = tag(token.label);
            let (_, last_kind) = tag(last.label);
            if kind != last_kind || begins {
                groups.extend(close(&run));
                run.clear();
            }
        }
        run.push(token);
    }
    groups.extend(close(&run));
    groups
}

/// The pipeline's `aggregate_overlapping_entities` for the entities of all windows of a text:
/// sorted by start (stably); an entity starting inside the one kept before it replaces that one
/// if it is longer, or as long with a higher score, and is dropped otherwise.
fn merge_overlapping(mut spans: Vec<NerSpan>) -> Vec<NerSpan> {
    spans.sort_by_key(|s| s.start);
    let mut merged: Vec<NerSpan> = Vec::with_capacity(spans.len());
    let mut spans = spans.into_iter();
    let Some(mut previous) = spans.next() else {
        return merged;
    };
    for span in spans {
        if previous.start <= span.start && span.start < previous.end {
            let (len, previous_len) = (span.end - span.start, previous.end - previous.start);
            if len > previous_len || (len == previous_len && span.score > previous.score) {
                previous = span;
            }
        } else {
            merged.push(std::mem::replace(&mut previous, span));
        }
    }
    merged.push(previous);
    merged
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(label: &'static str, score: f32, start: usize) -> TokenLabel<'static> {
        TokenLabel {
            label,
            score,
            word: format!("w{start}"),
            start,
            end: start + 1,
        }
    }

    #[test]
    fn groups_like_the_pipeline() {
        let tokens = [
            token("B-PER", 0.9, 0),
            token("I-PER", 0.7, 1),
            token("B-PER", 0.8, 2),
            token("O", 0.99, 3),
            token("I-LOC", 0.6, 4),
            token("I-ORG", 0.5, 5),
            token("I-ORG", 0.7, 6),
            token("MISC", 0.4, 7),
        ];
        let groups = group_entities(&tokens);
        let summary: Vec<(&str, usize, usize, usize)> = groups
            .iter()
            .map(|g| (g.label, g.start, g.end, g.words.len()))
            .collect();
        assert_eq!(
            summary,
            [
                ("PER", 0, 2, 2),
                ("PER", 2, 3, 1),
                ("O", 3, 4, 1),
                ("LOC", 4, 5, 1),
                ("ORG", 5, 7, 2),
                ("MISC", 7, 8, 1)
            ]
        );
        assert!((groups[0].score - 0.8).abs() < 1e-6);
        assert!(group_entities(&[]).is_empty());
    }

    #[test]
    fn softmax_argmax_takes_the_first_maximum() {
        let (label, score) = argmax_softmax(&[1.0, 3.0, 3.0]);
        assert_eq!(label, 1);
        let e = (-2.0f32).exp();
        assert!((score - 1.0 / (2.0 + e)).abs() < 1e-6);
    }

    fn span(start: usize, end: usize, score: f32) -> NerSpan {
        NerSpan {
            text: String::new(),
            label: "PER".into(),
            start,
            end,
            score,
        }
    }

    #[test]
    fn overlapping_entities_keep_the_longer_then_the_surer() {
        let merged = merge_overlapping(vec![
            span(10, 14, 0.9),
            span(0, 5, 0.5),
            span(0, 5, 0.7),
            span(10, 20, 0.4),
            span(30, 35, 0.9),
            span(30, 35, 0.8),
        ]);
        assert_eq!(
            merged,
            [span(0, 5, 0.7), span(10, 20, 0.4), span(30, 35, 0.9)]
        );
        assert!(merge_overlapping(Vec::new()).is_empty());
    }

    #[test]
    fn labels_need_id2label() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("config.json");
        std::fs::write(&path, r#"{"id2label": {"0": "O", "1": "B-PER"}}"#).expect("write");
        assert_eq!(read_labels(&path).expect("labels"), ["O", "B-PER"]);
        std::fs::write(&path, r#"{"id2label": {"0": "O", "2": "B-PER"}}"#).expect("write");
        let err = read_labels(&path).expect_err("gap in ids");
        assert!(err.to_string().contains("`2`"), "{err}");
        std::fs::write(&path, "{}").expect("write");
        let err = read_labels(&path).expect_err("no id2label");
        assert!(err.to_string().contains("id2label"), "{err}");
    }

    #[test]
    fn vocab_lines_keep_everything_but_the_line_break() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("vocab.txt");
        std::fs::write(&path, "[PAD]\r\n[UNK]\n\nb \n").expect("write");
        let vocab = read_vocab(&path).expect("vocab");
        assert_eq!(vocab.len(), 4);
        assert_eq!(vocab["[UNK]"], 1);
        assert_eq!(vocab[""], 2);
        assert_eq!(vocab["b "], 3);
    }
}
