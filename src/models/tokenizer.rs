//! Marian tokenizer: transformers' `MarianTokenizer` rebuilt on the sibling `spm` module.
//!
//! Reference: transformers 5.24 `models/marian/tokenization_marian.py` (`MarianTokenizer`)
//! and the slow-tokenizer base it sits on, `tokenization_python.py` (`tokenize`, `Trie.split`,
//! `_add_tokens`, `convert_ids_to_tokens`, `_decode`) and `tokenization_utils_base.py`
//! (special tokens, `clean_up_tokenization`).
//!
//! Encoding (`tokenizer(text).input_ids`):
//! 1. the text is cut around added tokens (`</s>`, `<unk>`, `<pad>`, plus any from
//!    `tokenizer_config.json`), so a literal `</s>` in the text becomes the eos id;
//! 2. each other chunk loses a leading `>>xx<<` language code (kept as its own token) and is
//!    segmented by the *source* SentencePiece model;
//! 3. tokens map through `vocab.json` (added tokens first), missing ones to `<unk>`;
//! 4. `</s>` is appended.
//!
//! Decoding (`tokenizer.decode(ids, skip_special_tokens=True)`): special ids are dropped, the
//! rest become vocabulary tokens that SentencePiece joins back (`decode_pieces`) — with the
//! *source* model unless `separate_vocabs`, as transformers does — then `▁` becomes a space and
//! Python's `str.strip()` trims the result.

use super::spm::{SpmError, SpmModel, SPACE_SYMBOL};
use serde::de::{Deserializer, MapAccess, Visitor};
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};

/// The files of a Marian (opus-mt) Hub repository or local directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenizerFiles {
    /// SentencePiece model for the source language (`source.spm`).
    pub source_spm: PathBuf,
    /// SentencePiece model for the target language (`target.spm`).
    pub target_spm: PathBuf,
    /// Token → id map shared by encoder and decoder (`vocab.json`).
    pub vocab: PathBuf,
    /// `tokenizer_config.json`, when the repository has one.
    pub config: Option<PathBuf>,
}

impl TokenizerFiles {
    /// The standard file names inside `dir`; `config` is set only if the file exists.
    pub fn from_dir(dir: &Path) -> Self {
        let config = dir.join("tokenizer_config.json");
        Self {
            source_spm: dir.join("source.spm"),
            target_spm: dir.join("target.spm"),
            vocab: dir.join("vocab.json"),
            config: config.is_file().then_some(config),
        }
    }
}

/// Why a Marian tokenizer could not be loaded; every variant names the file at fault.
#[derive(Debug, thiserror::Error)]
pub enum TokenizerError {
    /// A SentencePiece model is missing, unreadable, not a protobuf, not unigram or invalid.
    #[error(transparent)]
    Spm(#[from] SpmError),
    /// A JSON file is missing or unreadable.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O failure.
        source: std::io::Error,
    },
    /// `vocab.json` is not a JSON object of string → non-negative 32-bit integer.
    #[error("{path} is not a map of token string to integer id: {source}")]
    Vocab {
        /// The vocabulary file.
        path: PathBuf,
        /// The parse failure.
        source: serde_json::Error,
    },
    /// A special token the tokenizer needs is absent from `vocab.json`.
    #[error("{path} has no entry for the special token {token:?}")]
    MissingSpecialToken {
        /// The vocabulary file.
        path: PathBuf,
        /// The token, e.g. `</s>`.
        token: String,
    },
    /// `tokenizer_config.json` is not valid JSON.
    #[error("{path} is not valid JSON: {source}")]
    Config {
        /// The config file.
        path: PathBuf,
        /// The parse failure.
        source: serde_json::Error,
    },
    /// A `tokenizer_config.json` entry has an unusable value.
    #[error("{path}: bad value for {key:?}: {reason}")]
    ConfigValue {
        /// The config file.
        path: PathBuf,
        /// The offending key.
        key: String,
        /// What is wrong.
        reason: String,
    },
    /// The config asks for something this tokenizer does not implement.
    #[error("{path}: {reason}")]
    Unsupported {
        /// The config file.
        path: PathBuf,
        /// What is not supported.
        reason: String,
    },
}

/// An added token (`tokenizers.AddedToken`) and its stripping flags.
#[derive(Debug, Clone, PartialEq, Eq)]
struct AddedToken {
    content: String,
    lstrip: bool,
    rstrip: bool,
    single_word: bool,
}

impl AddedToken {
    fn plain(content: &str) -> Self {
        Self {
            content: content.to_string(),
            lstrip: false,
            rstrip: false,
            single_word: false,
        }
    }
}

/// transformers' `MarianTokenizer` for a shared-vocabulary opus-mt model.
#[derive(Debug, Clone)]
pub struct MarianTokenizer {
    source: SpmModel,
    target: SpmModel,
    /// `vocab.json` (`self.encoder`).
    encoder: HashMap<String, u32>,
    /// Inverse of `vocab.json`, the last token wins on duplicate ids (`self.decoder`).
    decoder: HashMap<u32, String>,
    /// `_added_tokens_encoder` / `_added_tokens_decoder`.
    added_by_content: HashMap<String, u32>,
    added_by_id: HashMap<u32, AddedToken>,
    /// Contents of the added tokens, for the text splitter.
    added_contents: Vec<String>,
    /// `all_special_tokens` and their ids.
    special_tokens: HashSet<String>,
    special_ids: HashSet<u32>,
    unk_id: u32,
    eos_id: u32,
    pad_id: u32,
    clean_up_tokenization_spaces: bool,
    split_special_tokens: bool,
    /// `not separate_vocabs`: decode with the source SentencePiece model.
    decode_with_source: bool,
}

/// Settings read from `tokenizer_config.json`.
#[derive(Debug, Default)]
struct Config {
    /// Named special tokens in `SPECIAL_TOKENS_ATTRIBUTES` order, then model-specific ones.
    named: Vec<(String, AddedToken)>,
    extra: Vec<AddedToken>,
    added_tokens_decoder: Vec<(u32, AddedToken)>,
    clean_up_tokenization_spaces: bool,
    split_special_tokens: bool,
}

const SPECIAL_TOKENS_ATTRIBUTES: [&str; 7] = [
    "bos_token",
    "eos_token",
    "unk_token",
    "sep_token",
    "pad_token",
    "cls_token",
    "mask_token",
];

impl Config {
    fn read(path: Option<&Path>) -> Result<Self, TokenizerError> {
        let mut named: Vec<(String, AddedToken)> = vec![
            ("eos_token".into(), AddedToken::plain("</s>")),
            ("unk_token".into(), AddedToken::plain("<unk>")),
            ("pad_token".into(), AddedToken::plain("<pad>")),
        ];
        let Some(path) = path else {
            return Ok(Self {
                named,
                ..Self::default()
            });
        };
        let text = std::fs::read_to_string(path).map_err(|source| TokenizerError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let json: serde_json::Value =
            serde_json::from_str(&text).map_err(|source| TokenizerError::Config {
                path: path.to_path_buf(),
                source,
            })?;
        let bad = |key: &str, reason: &str| TokenizerError::ConfigValue {
            path: path.to_path_buf(),
            key: key.to_string(),
            reason: reason.to_string(),
        };
        let Some(obj) = json.as_object() else {
            return Err(bad("<root>", "not a JSON object"));
        };
        let flag = |key: &str| -> Result<bool, TokenizerError> {
            match obj.get(key) {
                None | Some(serde_json::Value::Null) => Ok(false),
                Some(serde_json::Value::Bool(b)) => Ok(*b),
                Some(_) => Err(bad(key, "expected a boolean")),
            }
        };
        if flag("separate_vocabs")? {
            return Err(TokenizerError::Unsupported {
                path: path.to_path_buf(),
                reason: "separate_vocabs = true (target_vocab.json) is not supported".into(),
            });
        }
        let clean_up_tokenization_spaces = flag("clean_up_tokenization_spaces")?;
        let split_special_tokens = flag("split_special_tokens")?;

        // Named special tokens: the standard attributes, then other `*_token` string keys.
        let mut set_named = |key: &str, value: &serde_json::Value| -> Result<(), TokenizerError> {
            let token = match value {
                serde_json::Value::Null => None,
                v => Some(parse_added_token(v).ok_or_else(|| bad(key, "not a token"))?),
            };
            match (named.iter().position(|(k, _)| k == key), token) {
                (Some(i), Some(t)) => named[i].1 = t,
                (Some(i), None) => {
                    named.remove(i);
                }
                (None, Some(t)) => named.push((key.to_string(), t)),
                (None, None) => {}
            }
            Ok(())
        };
        for key in SPECIAL_TOKENS_ATTRIBUTES {
            if let Some(value) = obj.get(key) {
                set_named(key, value)?;
            }
        }
        for (key, value) in obj {
            let is_token_string = value.is_string()
                || value.get("__type").and_then(|t| t.as_str()) == Some("AddedToken");
            if key.ends_with("_token")
                && !SPECIAL_TOKENS_ATTRIBUTES.contains(&key.as_str())
                && is_token_string
            {
                set_named(key, value)?;
            }
        }
        named.sort_by_key(|(k, _)| {
            SPECIAL_TOKENS_ATTRIBUTES
                .iter()
                .position(|a| a == k)
                .unwrap_or(SPECIAL_TOKENS_ATTRIBUTES.len())
        });

        let extra_key = ["extra_special_tokens", "additional_special_tokens"]
            .into_iter()
            .find(|k| obj.get(*k).is_some_and(|v| !v.is_null()));
        let mut extra = Vec::new();
        if let Some(key) = extra_key {
            match &obj[key] {
                serde_json::Value::Array(items) => {
                    for item in items {
                        extra.push(parse_added_token(item).ok_or_else(|| bad(key, "not a token"))?);
                    }
                }
                serde_json::Value::Object(map) => {
                    for (name, item) in map {
                        let token =
                            parse_added_token(item).ok_or_else(|| bad(key, "not a token"))?;
                        named.push((name.clone(), token));
                    }
                }
                _ => return Err(bad(key, "expected a list of tokens")),
            }
        }

        let mut added_tokens_decoder = Vec::new();
        match obj.get("added_tokens_decoder") {
            None | Some(serde_json::Value::Null) => {}
            Some(serde_json::Value::Object(map)) => {
                for (id, item) in map {
                    let id: u32 = id
                        .parse()
                        .map_err(|_| bad("added_tokens_decoder", "key is not an integer id"))?;
                    let token = parse_added_token(item)
                        .ok_or_else(|| bad("added_tokens_decoder", "value is not a token"))?;
                    added_tokens_decoder.push((id, token));
                }
            }
            Some(_) => return Err(bad("added_tokens_decoder", "expected an object")),
        }
        Ok(Self {
            named,
            extra,
            added_tokens_decoder,
            clean_up_tokenization_spaces,
            split_special_tokens,
        })
    }
}

/// A token given as a string or as a serialized `AddedToken` object.
fn parse_added_token(value: &serde_json::Value) -> Option<AddedToken> {
    match value {
        serde_json::Value::String(s) => Some(AddedToken::plain(s)),
        serde_json::Value::Object(map) => {
            let flag = |k: &str| map.get(k).and_then(|v| v.as_bool()).unwrap_or(false);
            Some(AddedToken {
                content: map.get("content")?.as_str()?.to_string(),
                lstrip: flag("lstrip"),
                rstrip: flag("rstrip"),
                single_word: flag("single_word"),
            })
        }
        _ => None,
    }
}

/// `vocab.json` entries in file order.
struct OrderedVocab(Vec<(String, u32)>);

impl<'de> serde::Deserialize<'de> for OrderedVocab {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = OrderedVocab;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object mapping token strings to ids in 0..2^32")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(0));
                while let Some(entry) = map.next_entry::<String, u32>()? {
                    entries.push(entry);
                }
                Ok(OrderedVocab(entries))
            }
        }
        deserializer.deserialize_map(V)
    }
}

/// Python's `str.isspace()` for one character.
fn is_py_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// `PreTrainedTokenizerBase.clean_up_tokenization`.
fn clean_up_tokenization(text: &str) -> String {
    [
        (" .", "."),
        (" ?", "?"),
        (" !", "!"),
        (" ,", ","),
        (" ' ", "'"),
        (" n't", "n't"),
        (" 'm", "'m"),
        (" 's", "'s"),
        (" 've", "'ve"),
        (" 're", "'re"),
    ]
    .iter()
    .fold(text.to_string(), |t, (from, to)| t.replace(from, to))
}

impl MarianTokenizer {
    /// Loads from the files of a Hub repo / local dir.
    pub fn from_files(files: &TokenizerFiles) -> Result<Self, TokenizerError> {
        let config = Config::read(files.config.as_deref())?;
        let source = SpmModel::from_file(&files.source_spm)?;
        let target = SpmModel::from_file(&files.target_spm)?;

        let vocab_path = &files.vocab;
        let text = std::fs::read_to_string(vocab_path).map_err(|source| TokenizerError::Io {
            path: vocab_path.clone(),
            source,
        })?;
        let OrderedVocab(entries) =
            serde_json::from_str(&text).map_err(|source| TokenizerError::Vocab {
                path: vocab_path.clone(),
                source,
            })?;
        // Python: `encoder = json.load(...)` (last duplicate key wins, first position kept),
        // `decoder = {v: k for k, v in encoder.items()}`.
        let mut encoder: HashMap<String, u32> = HashMap::with_capacity(entries.len());
        let mut order: Vec<&str> = Vec::with_capacity(entries.len());
        for (token, id) in &entries {
            if encoder.insert(token.clone(), *id).is_none() {
                order.push(token);
            }
        }
        let mut decoder = HashMap::with_capacity(order.len());
        for token in order {
            if let Some(&id) = encoder.get(token) {
                decoder.insert(id, token.to_string());
            }
        }

        // PythonBackend.__init__: seeded `added_tokens_decoder`, then `_add_tokens` of every
        // special token not yet added (in the vocab: its id; otherwise appended after it).
        let mut added_by_id: HashMap<u32, AddedToken> = HashMap::new();
        let mut added_by_content: HashMap<String, u32> = HashMap::new();
        for (id, token) in &config.added_tokens_decoder {
            added_by_id.insert(*id, token.clone());
        }
        for (id, token) in &added_by_id {
            added_by_content.insert(token.content.clone(), *id);
        }
        let mut special_list: Vec<AddedToken> = Vec::new();
        for token in config.named.iter().map(|(_, t)| t).chain(&config.extra) {
            if !special_list.iter().any(|t| t.content == token.content) {
                special_list.push(token.clone());
            }
        }
        let mut current: HashSet<&str> = encoder.keys().map(String::as_str).collect();
        current.extend(added_by_content.keys().map(String::as_str));
        let base_len = current.len();
        let mut appended = 0u32;
        let mut new_added: Vec<(u32, AddedToken)> = Vec::new();
        for token in &special_list {
            if token.content.is_empty() || added_by_content.contains_key(&token.content) {
                continue;
            }
            if new_added.iter().any(|(_, t)| t.content == token.content) {
                continue;
            }
            let id = match encoder.get(&token.content) {
                Some(&id) => id,
                None => {
                    let id = u32::try_from(base_len)
                        .ok()
                        .and_then(|n| n.checked_add(appended))
                        .ok_or_else(|| TokenizerError::MissingSpecialToken {
                            path: vocab_path.clone(),
                            token: token.content.clone(),
                        })?;
                    appended += 1;
                    id
                }
            };
            // `all_special_tokens` are strings, so `_add_tokens` gives them default flags.
            new_added.push((id, AddedToken::plain(&token.content)));
        }
        drop(current);
        for (id, token) in new_added {
            added_by_content.insert(token.content.clone(), id);
            added_by_id.insert(id, token);
        }

        let require = |token: &str| -> Result<u32, TokenizerError> {
            encoder
                .get(token)
                .copied()
                .ok_or_else(|| TokenizerError::MissingSpecialToken {
                    path: vocab_path.clone(),
                    token: token.to_string(),
                })
        };
        let named = |key: &str, default: &str| -> String {
            config
                .named
                .iter()
                .find(|(k, _)| k == key)
                .map_or_else(|| default.to_string(), |(_, t)| t.content.clone())
        };
        let unk_id = require(&named("unk_token", "<unk>"))?;
        let eos_id = require(&named("eos_token", "</s>"))?;
        let pad_id = require(&named("pad_token", "<pad>"))?;

        let special_tokens: HashSet<String> =
            special_list.iter().map(|t| t.content.clone()).collect();
        // `all_special_ids = convert_tokens_to_ids(all_special_tokens)`.
        let special_ids = special_list
            .iter()
            .map(|t| {
                added_by_content
                    .get(&t.content)
                    .or_else(|| encoder.get(&t.content))
                    .copied()
                    .unwrap_or(unk_id)
            })
            .collect();
        let mut added_contents: Vec<String> = added_by_content.keys().cloned().collect();
        added_contents.sort();

        Ok(Self {
            source,
            target,
            encoder,
            decoder,
            added_by_content,
            added_by_id,
            added_contents,
            special_tokens,
            special_ids,
            unk_id,
            eos_id,
            pad_id,
            clean_up_tokenization_spaces: config.clean_up_tokenization_spaces,
            split_special_tokens: config.split_special_tokens,
            decode_with_source: true,
        })
    }

    /// Token ids of `text` followed by eos, like `tokenizer(text).input_ids`.
    pub fn encode(&self, text: &str) -> Vec<u32> {
        let mut ids: Vec<u32> = self
            .tokenize(text)
            .iter()
            .map(|t| self.token_to_id(t))
            .collect();
        ids.push(self.eos_id);
        ids
    }

    /// Number of ids `encode` returns for `text` (eos included).
    pub fn count_tokens(&self, text: &str) -> usize {
        self.tokenize(text).len() + 1
    }

    /// Token strings of `text` without eos, like `tokenizer.tokenize(text)`.
    pub fn tokenize(&self, text: &str) -> Vec<String> {
        if self.split_special_tokens {
            return self.tokenize_chunk(text);
        }
        let mut chunks = self.split_on_added_tokens(text);
        // Stripping flags of added tokens (`PythonBackend.tokenize`).
        for i in 0..chunks.len() {
            let Some(token) = self
                .added_by_content
                .get(&chunks[i])
                .and_then(|id| self.added_by_id.get(id))
                .cloned()
            else {
                continue;
            };
            if token.rstrip && i + 1 < chunks.len() && !chunks[i + 1].is_empty() {
                chunks[i + 1] = chunks[i + 1].trim_start_matches(is_py_space).to_string();
            }
            if token.lstrip && i > 0 && !chunks[i - 1].is_empty() {
                chunks[i - 1] = chunks[i - 1].trim_end_matches(is_py_space).to_string();
            }
            if token.single_word {
                let word = chunks[i].clone();
                if i > 0 && !chunks[i - 1].is_empty() && !chunks[i - 1].ends_with(' ') {
                    chunks[i - 1].push_str(&word);
                    chunks[i].clear();
                } else if i + 1 < chunks.len()
                    && !chunks[i + 1].is_empty()
                    && !chunks[i + 1].starts_with(' ')
                {
                    chunks[i + 1] = word + &chunks[i + 1];
                    chunks[i].clear();
                }
            }
        }
        let mut tokens = Vec::new();
        for chunk in chunks {
            if chunk.is_empty() {
                continue;
            }
            if self.added_by_content.contains_key(&chunk) || self.special_tokens.contains(&chunk) {
                tokens.push(chunk);
            } else {
                tokens.extend(self.tokenize_chunk(&chunk));
            }
        }
        tokens
    }

    /// `MarianTokenizer._tokenize`: language code, then source SentencePiece pieces.
    fn tokenize_chunk(&self, text: &str) -> Vec<String> {
        let mut tokens = Vec::new();
        let mut text = text;
        // `remove_language_code`: text starts with ">>" and contains "<<".
        if text.starts_with(">>") {
            if let Some(end) = text.find("<<") {
                tokens.push(text[..end + 2].to_string());
                text = &text[end + 2..];
            }
        }
        tokens.extend(self.source.encode(text));
        tokens
    }

    /// `Trie.split`: cut `text` around added tokens, leftmost match first, longest at a start.
    fn split_on_added_tokens(&self, text: &str) -> Vec<String> {
        let mut chunks = Vec::new();
        let mut last = 0;
        let mut pos = 0;
        while pos < text.len() {
            let rest = &text[pos..];
            let found = self
                .added_contents
                .iter()
                .filter(|t| !t.is_empty() && rest.starts_with(t.as_str()))
                .map(String::len)
                .max();
            match found {
                Some(len) => {
                    if last < pos {
                        chunks.push(text[last..pos].to_string());
                    }
                    chunks.push(text[pos..pos + len].to_string());
                    pos += len;
                    last = pos;
                }
                None => pos += rest.chars().next().map_or(1, char::len_utf8),
            }
        }
        if last < text.len() {
            chunks.push(text[last..].to_string());
        }
        chunks
    }

    /// `convert_tokens_to_ids` for one token: added tokens, then vocab.json, then unk.
    pub fn token_to_id(&self, token: &str) -> u32 {
        self.added_by_content
            .get(token)
            .or_else(|| self.encoder.get(token))
            .copied()
            .unwrap_or(self.unk_id)
    }

    /// `convert_ids_to_tokens` for one id: added tokens, then vocab.json, then the SentencePiece
    /// piece; `None` where Python would raise (id outside every table).
    pub fn id_to_token(&self, id: u32) -> Option<String> {
        if let Some(token) = self.added_by_id.get(&id) {
            return Some(token.content.clone());
        }
        if let Some(token) = self.decoder.get(&id) {
            return Some(token.clone());
        }
        self.decode_spm().id_to_piece(id).map(str::to_string)
    }

    fn decode_spm(&self) -> &SpmModel {
        if self.decode_with_source {
            &self.source
        } else {
            &self.target
        }
    }

    /// Text of `ids`, like `tokenizer.decode(ids, skip_special_tokens=True)`; unknown ids are
    /// skipped.
    pub fn decode(&self, ids: &[u32]) -> String {
        let tokens: Vec<String> = ids
            .iter()
            .filter(|id| !self.special_ids.contains(id))
            .filter_map(|&id| self.id_to_token(id))
            .collect();
        // `MarianTokenizer.convert_tokens_to_string`.
        let spm = self.decode_spm();
        let mut out = String::new();
        let mut pending: Vec<&str> = Vec::new();
        for token in &tokens {
            if self.special_tokens.contains(token) {
                out.push_str(&spm.decode_pieces(&pending));
                out.push_str(token);
                out.push(' ');
                pending.clear();
            } else {
                pending.push(token);
            }
        }
        out.push_str(&spm.decode_pieces(&pending));
        let out = out.replace(SPACE_SYMBOL, " ");
        let out = out.trim_matches(is_py_space);
        if self.clean_up_tokenization_spaces {
            clean_up_tokenization(out)
        } else {
            out.to_string()
        }
    }

    /// Id of `</s>`, appended to every encoding.
    pub fn eos_id(&self) -> u32 {
        self.eos_id
    }

    /// Id of `<pad>` (also Marian's decoder start token).
    pub fn pad_id(&self) -> u32 {
        self.pad_id
    }

    /// Id of `<unk>`.
    pub fn unk_id(&self) -> u32 {
        self.unk_id
    }

    /// Entries in `vocab.json` (`MarianTokenizer.vocab_size`).
    pub fn vocab_size(&self) -> usize {
        self.encoder.len()
    }

    /// The source-language SentencePiece model.
    pub fn source_spm(&self) -> &SpmModel {
        &self.source
    }

    /// The target-language SentencePiece model.
    pub fn target_spm(&self) -> &SpmModel {
        &self.target
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");
    const MODELS: [&str; 2] = ["marian-tiny-swish", "marian-tiny-relu"];

    #[derive(serde::Deserialize)]
    struct Reference {
        tokenizer: Vec<EncodeCase>,
        decode: Vec<DecodeCase>,
    }

    #[derive(serde::Deserialize)]
    struct EncodeCase {
        text: String,
        ids: Vec<u32>,
    }

    #[derive(serde::Deserialize)]
    struct DecodeCase {
        ids: Vec<u32>,
        text: String,
    }

    fn load(model: &str) -> (MarianTokenizer, Reference) {
        let dir = Path::new(FIXTURES).join(model);
        let tokenizer = MarianTokenizer::from_files(&TokenizerFiles::from_dir(&dir))
            .unwrap_or_else(|e| panic!("{model}: {e}"));
        let text = std::fs::read_to_string(dir.join("reference.json"))
            .unwrap_or_else(|e| panic!("{model}: reference.json: {e}"));
        let reference =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{model}: reference.json: {e}"));
        (tokenizer, reference)
    }

    #[test]
    fn encode_matches_transformers() {
        for model in MODELS {
            let (tokenizer, reference) = load(model);
            assert!(
                !reference.tokenizer.is_empty(),
                "{model}: no tokenizer cases"
            );
            for case in &reference.tokenizer {
                let ids = tokenizer.encode(&case.text);
                assert_eq!(ids, case.ids, "{model}: encode({:?})", case.text);
                assert_eq!(tokenizer.count_tokens(&case.text), case.ids.len());
            }
        }
    }

    #[test]
    fn decode_matches_transformers() {
        for model in MODELS {
            let (tokenizer, reference) = load(model);
            assert!(!reference.decode.is_empty(), "{model}: no decode cases");
            for case in &reference.decode {
                let text = tokenizer.decode(&case.ids);
                assert_eq!(text, case.text, "{model}: decode({:?})", case.ids);
            }
        }
    }

    #[test]
    fn special_ids_come_from_vocab() {
        for model in MODELS {
            let (tokenizer, _) = load(model);
            let path = Path::new(FIXTURES).join(model).join("vocab.json");
            let text = std::fs::read_to_string(path).expect("vocab.json");
            let vocab: HashMap<String, u32> = serde_json::from_str(&text).expect("vocab.json");
            assert_eq!(tokenizer.eos_id(), vocab["</s>"], "{model}");
            assert_eq!(tokenizer.unk_id(), vocab["<unk>"], "{model}");
            assert_eq!(tokenizer.pad_id(), vocab["<pad>"], "{model}");
            assert_eq!(tokenizer.vocab_size(), vocab.len(), "{model}");
            assert_eq!(tokenizer.encode(""), vec![vocab["</s>"]], "{model}");
        }
    }

    fn scratch_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("dragoman-tok-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("create scratch dir");
        for file in [
            "source.spm",
            "target.spm",
            "vocab.json",
            "tokenizer_config.json",
        ] {
            std::fs::copy(
                Path::new(FIXTURES).join("marian-tiny-relu").join(file),
                dir.join(file),
            )
            .expect("copy fixture");
        }
        dir
    }

    #[test]
    fn missing_spm_names_the_file() {
        let dir = scratch_dir("missing");
        let files = TokenizerFiles::from_dir(&dir);
        std::fs::remove_file(&files.source_spm).expect("remove");
        let err = MarianTokenizer::from_files(&files).expect_err("missing spm must fail");
        assert!(
            matches!(err, TokenizerError::Spm(SpmError::Io { .. })),
            "{err:?}"
        );
        assert!(err.to_string().contains("source.spm"), "{err}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn garbled_spm_names_the_file() {
        let dir = scratch_dir("garbled");
        let files = TokenizerFiles::from_dir(&dir);
        for garbage in [
            &b"\xff\xff\xff\xff not a protobuf"[..],
            b"",
            b"\x0a\x02\x0a\x00",
        ] {
            std::fs::write(&files.target_spm, garbage).expect("write");
            let err = MarianTokenizer::from_files(&files).expect_err("garbled spm must fail");
            assert!(err.to_string().contains("target.spm"), "{err}");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn bad_vocab_names_the_file() {
        let dir = scratch_dir("vocab");
        let files = TokenizerFiles::from_dir(&dir);
        for (content, missing) in [
            (r#"["</s>", "<unk>"]"#, None),
            (r#"{"</s>": "zero"}"#, None),
            (r#"{"</s>": -1}"#, None),
            (r#"{"</s>": 0, "<pad>": 2}"#, Some("<unk>")),
            (r#"{"</s>": 0, "<unk>": 1}"#, Some("<pad>")),
        ] {
            std::fs::write(&files.vocab, content).expect("write");
            let err = MarianTokenizer::from_files(&files).expect_err("bad vocab must fail");
            assert!(err.to_string().contains("vocab.json"), "{err}");
            match missing {
                Some(token) => assert!(
                    matches!(&err, TokenizerError::MissingSpecialToken { token: t, .. } if t == token),
                    "{err:?}"
                ),
                None => assert!(matches!(err, TokenizerError::Vocab { .. }), "{err:?}"),
            }
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
