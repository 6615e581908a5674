//! Byte-level BPE tokenizer of the GPT-2 / RoBERTa / BART family, on the `tokenizers` crate.
//!
//! A repo's `tokenizer.json` is used as is when there is one. Otherwise (e.g.
//! `sshleifer/distilbart-cnn-12-6`, which ships only `vocab.json` + `merges.txt`) the same
//! tokenizer is assembled from the crate's building blocks, as transformers 5.24 does for
//! `BartTokenizer` (= `RobertaTokenizer`, `models/roberta/tokenization_roberta.py`; the pre-v5
//! slow→fast `RobertaConverter` in `convert_slow_tokenizer.py` builds the same pipeline):
//!
//! - model: BPE over `vocab.json` + `merges.txt` (no unk token, no dropout, no subword prefix or
//!   suffix, `fuse_unk` false);
//! - pre-tokenizer: `ByteLevel(add_prefix_space, trim_offsets = true, use_regex = true)`;
//! - decoder: `ByteLevel`;
//! - post-processor: `RobertaProcessing` (`<s> … </s>`), ids of `cls_token` / `sep_token`;
//! - added tokens: `tokenizer_config.json`'s `added_tokens_decoder` (in id order), then the
//!   named special tokens (`bos`, `eos`, `unk`, `sep`, `pad`, `cls`, `mask`; RoBERTa's defaults
//!   when absent) not already added, all special, with the strip flags the config gives them.
//!
//! Encoding adds `<s>` … `</s>` and never truncates. Decoding skips special tokens and applies no
//! `clean_up_tokenization`: transformers 5.24 ignores `clean_up_tokenization_spaces=True` for
//! BPE tokenizers (`TokenizersBackend._decode`), so `batch_decode(skip_special_tokens=True)` is
//! the crate's `decode(ids, true)` whatever the config says.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use thiserror::Error;
use tokenizers::decoders::byte_level::ByteLevel as ByteLevelDecoder;
use tokenizers::models::bpe::BPE;
use tokenizers::pre_tokenizers::byte_level::ByteLevel;
use tokenizers::processors::roberta::RobertaProcessing;
use tokenizers::{AddedToken, Tokenizer};

use super::error::LoadError;
use super::json::read_json;
use super::source::ModelRepo;

/// Why a text could not be encoded or ids decoded.
#[derive(Debug, Error)]
pub enum BpeError {
    /// The tokenizer rejected a text.
    #[error("tokenizing failed: {0}")]
    Encode(String),
    /// The tokenizer could not turn ids back into text.
    #[error("decoding failed: {0}")]
    Decode(String),
}

/// Which files a [`BpeTokenizer`] was built from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BpeFiles {
    /// A `tokenizers` serialization.
    TokenizerJson(PathBuf),
    /// `vocab.json` + `merges.txt`, with `tokenizer_config.json` when the repo has one.
    VocabMerges {
        /// Token → id map.
        vocab: PathBuf,
        /// Merge rules, most frequent first.
        merges: PathBuf,
        /// Special tokens and `add_prefix_space`.
        config: Option<PathBuf>,
    },
}

/// A byte-level BPE tokenizer that adds `<s>` … `</s>` and decodes without special tokens.
pub struct BpeTokenizer {
    tokenizer: Tokenizer,
    files: BpeFiles,
}

/// A special token in `tokenizer_config.json`: a plain string, or an `AddedToken` object
/// (`{"__type": "AddedToken", "content": "<mask>", "lstrip": true, …}`).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum TokenSpec {
    Text(String),
    Token(AddedTokenSpec),
}

/// The fields of a serialized `AddedToken`; absent flags take transformers' defaults.
#[derive(Debug, Clone, Deserialize)]
struct AddedTokenSpec {
    content: String,
    #[serde(default)]
    lstrip: bool,
    #[serde(default)]
    rstrip: bool,
    #[serde(default)]
    single_word: bool,
    normalized: Option<bool>,
    special: Option<bool>,
}

/// The part of `tokenizer_config.json` the tokenizer depends on.
#[derive(Debug, Default, Deserialize)]
struct TokenizerConfig {
    #[serde(default)]
    add_prefix_space: Option<bool>,
    #[serde(default)]
    trim_offsets: Option<bool>,
    #[serde(default)]
    bos_token: Option<TokenSpec>,
    #[serde(default)]
    eos_token: Option<TokenSpec>,
    #[serde(default)]
    unk_token: Option<TokenSpec>,
    #[serde(default)]
    sep_token: Option<TokenSpec>,
    #[serde(default)]
    pad_token: Option<TokenSpec>,
    #[serde(default)]
    cls_token: Option<TokenSpec>,
    #[serde(default)]
    mask_token: Option<TokenSpec>,
    #[serde(default)]
    added_tokens_decoder: BTreeMap<String, AddedTokenSpec>,
}

impl TokenSpec {
    fn content(&self) -> &str {
        match self {
            Self::Text(text) => text,
            Self::Token(token) => &token.content,
        }
    }

    /// The token as transformers adds a named special token: special, flags kept.
    fn to_added_special(&self) -> AddedToken {
        match self {
            Self::Text(text) => AddedToken::from(text.clone(), true),
            Self::Token(spec) => spec.to_added(true),
        }
    }
}

impl AddedTokenSpec {
    fn to_added(&self, default_special: bool) -> AddedToken {
        let special = self.special.unwrap_or(default_special);
        AddedToken::from(self.content.clone(), special)
            .lstrip(self.lstrip)
            .rstrip(self.rstrip)
            .single_word(self.single_word)
            .normalized(self.normalized.unwrap_or(!special))
    }
}

/// `path` as `&str` (the BPE file reader takes strings).
fn utf8_path(path: &Path) -> Result<&str, LoadError> {
    path.to_str().ok_or_else(|| LoadError::InvalidConfig {
        path: path.to_path_buf(),
        message: "the path is not valid UTF-8".into(),
    })
}

impl BpeTokenizer {
    /// Loads the tokenizer of `repo`: `tokenizer.json` if present, else `vocab.json` +
    /// `merges.txt` (+ `tokenizer_config.json`).
    pub fn from_repo(repo: &ModelRepo) -> Result<Self, LoadError> {
        if let Some(path) = repo.get_optional("tokenizer.json")? {
            return Self::from_tokenizer_json(&path);
        }
        let vocab = repo.get("vocab.json")?;
        let merges = repo.get("merges.txt")?;
        let config = repo.get_optional("tokenizer_config.json")?;
        Self::from_vocab_merges(&vocab, &merges, config.as_deref())
    }

    /// Reads a `tokenizers` serialization; its truncation and padding settings are dropped
    /// (inputs are never silently truncated; batches are padded by the engine).
    pub fn from_tokenizer_json(path: &Path) -> Result<Self, LoadError> {
        let mut tokenizer = Tokenizer::from_file(path).map_err(|e| LoadError::InvalidConfig {
            path: path.to_path_buf(),
            message: format!("not a valid tokenizer: {e}"),
        })?;
        tokenizer.with_padding(None);
        tokenizer
            .with_truncation(None)
            .map_err(|e| LoadError::InvalidConfig {
                path: path.to_path_buf(),
                message: format!("cannot switch truncation off: {e}"),
            })?;
        Ok(Self {
            tokenizer,
            files: BpeFiles::TokenizerJson(path.to_path_buf()),
        })
    }

    /// Builds the tokenizer from `vocab.json` and `merges.txt` the way transformers does for
    /// BART / RoBERTa, taking special tokens and `add_prefix_space` from `config`
    /// (`tokenizer_config.json`) when given.
    pub fn from_vocab_merges(
        vocab: &Path,
        merges: &Path,
        config_path: Option<&Path>,
    ) -> Result<Self, LoadError> {
        let config: TokenizerConfig = match config_path {
            Some(path) => read_json(path)?,
            None => TokenizerConfig::default(),
        };
        let bpe = BPE::from_file(utf8_path(vocab)?, utf8_path(merges)?)
            .build()
            .map_err(|e| LoadError::InvalidConfig {
                path: merges.to_path_buf(),
                message: format!(
                    "cannot build a BPE model from it and {}: {e}",
                    vocab.display()
                ),
            })?;
        let add_prefix_space = config.add_prefix_space.unwrap_or(false);
        let trim_offsets = config.trim_offsets.unwrap_or(true);
        let mut tokenizer = Tokenizer::new(bpe);
        tokenizer.with_pre_tokenizer(Some(ByteLevel::new(add_prefix_space, true, true)));
        tokenizer.with_decoder(Some(ByteLevelDecoder::default()));

        let text = |spec: &Option<TokenSpec>, default: &str| {
            spec.clone()
                .unwrap_or_else(|| TokenSpec::Text(default.into()))
        };
        let named = [
            text(&config.bos_token, "<s>"),
            text(&config.eos_token, "</s>"),
            text(&config.unk_token, "<unk>"),
            text(&config.sep_token, "</s>"),
            text(&config.pad_token, "<pad>"),
            text(&config.cls_token, "<s>"),
            text(&config.mask_token, "<mask>"),
        ];
        let mut decoder: Vec<(u64, &AddedTokenSpec)> = Vec::new();
        for (id, spec) in &config.added_tokens_decoder {
            let id = id.parse::<u64>().map_err(|_| LoadError::InvalidConfig {
                path: config_path.unwrap_or(vocab).to_path_buf(),
                message: format!(
                    "tokenizer_config.json: added_tokens_decoder key {id:?} is not an id"
                ),
            })?;
            decoder.push((id, spec));
        }
        decoder.sort_by_key(|(id, _)| *id);
        let mut added: Vec<AddedToken> = decoder.iter().map(|(_, s)| s.to_added(false)).collect();
        for spec in &named {
            if !added.iter().any(|t| t.content == spec.content()) {
                added.push(spec.to_added_special());
            }
        }
        tokenizer
            .add_tokens(added)
            .map_err(|e| LoadError::InvalidConfig {
                path: vocab.to_path_buf(),
                message: format!("cannot add the special tokens: {e}"),
            })?;

        let id_of = |spec: &TokenSpec| -> Result<(String, u32), LoadError> {
            let content = spec.content().to_string();
            let id = tokenizer
                .token_to_id(&content)
                .ok_or_else(|| LoadError::InvalidConfig {
                    path: vocab.to_path_buf(),
                    message: format!("no id for the special token {content:?}"),
                })?;
            Ok((content, id))
        };
        let sep = id_of(&named[3])?;
        let cls = id_of(&named[5])?;
        tokenizer.with_post_processor(Some(
            RobertaProcessing::new(sep, cls)
                .trim_offsets(trim_offsets)
                .add_prefix_space(add_prefix_space),
        ));
        Ok(Self {
            tokenizer,
            files: BpeFiles::VocabMerges {
                vocab: vocab.to_path_buf(),
                merges: merges.to_path_buf(),
                config: config_path.map(Path::to_path_buf),
            },
        })
    }

    /// The files this tokenizer was built from.
    pub fn files(&self) -> &BpeFiles {
        &self.files
    }

    /// Token ids of `text` with `<s>` … `</s>` around them (`tokenizer(text).input_ids`).
    pub fn encode(&self, text: &str) -> Result<Vec<u32>, BpeError> {
        self.tokenizer
            .encode(text, true)
            .map(|encoding| encoding.get_ids().to_vec())
            .map_err(|e| BpeError::Encode(e.to_string()))
    }

    /// Text of `ids` without special tokens (`tokenizer.decode(ids, skip_special_tokens=True)`).
    pub fn decode(&self, ids: &[u32]) -> Result<String, BpeError> {
        self.tokenizer
            .decode(ids, true)
            .map_err(|e| BpeError::Decode(e.to_string()))
    }

    /// Number of ids, added tokens included.
    pub fn vocab_size(&self) -> usize {
        self.tokenizer.get_vocab_size(true)
    }

    /// The id of `token`, if it is in the vocabulary.
    pub fn token_to_id(&self, token: &str) -> Option<u32> {
        self.tokenizer.token_to_id(token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(file: &str) -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/bart-tiny-summarizer")
            .join(file)
    }

    fn with_config(config: &str) -> BpeTokenizer {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("tokenizer_config.json");
        std::fs::write(&path, config).expect("write");
        BpeTokenizer::from_vocab_merges(&fixture("vocab.json"), &fixture("merges.txt"), Some(&path))
            .expect("loads")
    }

    #[test]
    fn added_token_objects_in_the_config_keep_their_strip_flags() {
        // transformers 4.x wrote the mask token of BART as an AddedToken object with lstrip.
        let plain = with_config(r#"{"mask_token": "<mask>"}"#);
        let lstrip = with_config(
            r#"{"mask_token": {"__type": "AddedToken", "content": "<mask>", "lstrip": true,
                "normalized": true, "rstrip": false, "single_word": false}}"#,
        );
        let mask = plain.token_to_id("<mask>").expect("mask id");
        let plain_ids = plain.encode("a <mask> b").expect("encodes");
        let lstrip_ids = lstrip.encode("a <mask> b").expect("encodes");
        assert_eq!(
            lstrip_ids.len() + 1,
            plain_ids.len(),
            "{plain_ids:?} {lstrip_ids:?}"
        );
        assert_eq!(lstrip_ids[2], mask);
        // What transformers 5.24's BartTokenizer gives for this config (checked by hand).
        assert_eq!(lstrip_ids, vec![0, 68, 500, 287, 2]);
        // added_tokens_decoder entries are honoured too.
        let decoder = with_config(
            r#"{"added_tokens_decoder": {"500": {"content": "<mask>", "lstrip": true,
                "normalized": false, "rstrip": false, "single_word": false, "special": true}}}"#,
        );
        assert_eq!(decoder.encode("a <mask> b").expect("encodes"), lstrip_ids);
        assert_eq!(decoder.decode(&lstrip_ids).expect("decodes"), "a b");
    }

    #[test]
    fn add_prefix_space_treats_the_first_word_like_the_others() {
        let plain = with_config("{}");
        let prefixed = with_config(r#"{"add_prefix_space": true}"#);
        assert_eq!(
            prefixed.encode("Hello world").expect("encodes"),
            plain.encode(" Hello world").expect("encodes")
        );
    }

    #[test]
    fn encoding_adds_bos_and_eos_and_never_truncates() {
        let tokenizer =
            BpeTokenizer::from_tokenizer_json(&fixture("tokenizer.json")).expect("loads");
        assert_eq!(tokenizer.encode("").expect("encodes"), vec![0, 2]);
        let long = "word ".repeat(500);
        assert!(tokenizer.encode(&long).expect("encodes").len() > 500);
    }

    #[test]
    fn missing_merges_are_reported_by_name() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::copy(fixture("vocab.json"), dir.path().join("vocab.json")).expect("copy");
        let repo = super::super::source::ModelSource::Local(dir.path().to_path_buf())
            .open()
            .expect("opens");
        let err = BpeTokenizer::from_repo(&repo).err().expect("no merges.txt");
        assert!(err.to_string().contains("merges.txt"), "{err}");
    }

    #[test]
    fn malformed_merges_are_reported_by_name() {
        let dir = tempfile::tempdir().expect("temp dir");
        let merges = dir.path().join("merges.txt");
        std::fs::write(&merges, "#version: 0.2\na b c\n").expect("write");
        let err = BpeTokenizer::from_vocab_merges(&fixture("vocab.json"), &merges, None)
            .err()
            .expect("bad merges");
        assert!(err.to_string().contains("merges.txt"), "{err}");
    }
}
