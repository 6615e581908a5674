//! SentencePiece unigram models read from a `*.spm` `ModelProto`, with no C++ library.
//!
//! The behaviour reproduces google/sentencepiece, which this module follows line by line:
//! - `src/sentencepiece_model.proto` for the protobuf layout and the proto2 defaults;
//! - `src/normalizer.cc` (`Normalizer::Normalize`, `NormalizePrefix`, `PrefixMatcher`) for
//!   the precompiled charsmap (longest match in a darts-clone double array, as in
//!   `third_party/darts_clone/darts.h`), whitespace removal, the dummy prefix and `▁` escaping;
//! - `src/model_interface.cc` (`InitializePieces`) and `src/unigram_model.cc`
//!   (`Model::Model`, `Model::EncodeOptimized`, the default encoder) for Viterbi;
//! - `src/sentencepiece_processor.cc` (`PopulateSentencePieceText`, `Decode`) for merging runs
//!   of unknown pieces and for turning pieces back into text.
//!
//! `tokenizers`' `Precompiled` normalizer is deliberately not used: it works grapheme by
//! grapheme and takes the shortest charsmap match, while SentencePiece scans bytes and takes the
//! longest; `tokenizers`' `Unigram` lets control pieces such as `</s>` match text and scores in
//! `f64`. Both differ from `SentencePieceProcessor::encode` on some inputs.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// `U+2581 LOWER ONE EIGHTH BLOCK`, SentencePiece's escaped space.
pub const SPACE_SYMBOL: &str = "\u{2581}";

/// Score penalty under the lowest normal piece given to an unknown character (`kUnkPenalty`).
const UNK_PENALTY: f32 = 10.0;

/// Hand-declared subset of SentencePiece's `sentencepiece_model.proto` (proto2).
pub mod proto {
    /// `ModelProto`: the content of a `*.spm` / `*.model` file.
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct ModelProto {
        /// Vocabulary pieces; a piece's index is its id.
        #[prost(message, repeated, tag = "1")]
        pub pieces: Vec<SentencePiece>,
        /// Training options, some of which drive encoding.
        #[prost(message, optional, tag = "2")]
        pub trainer_spec: Option<TrainerSpec>,
        /// Normalization applied before segmentation.
        #[prost(message, optional, tag = "3")]
        pub normalizer_spec: Option<NormalizerSpec>,
        /// Normalization applied after decoding (rarely present).
        #[prost(message, optional, tag = "5")]
        pub denormalizer_spec: Option<NormalizerSpec>,
    }

    /// `ModelProto.SentencePiece`: one vocabulary entry.
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct SentencePiece {
        /// The piece text (`▁` stands for a space).
        #[prost(string, optional, tag = "1")]
        pub piece: Option<String>,
        /// Log-probability of the piece (unigram).
        #[prost(float, optional, tag = "2")]
        pub score: Option<f32>,
        /// `Type` enum value; `None` means `NORMAL` (proto default).
        #[prost(int32, optional, tag = "3")]
        pub r#type: Option<i32>,
    }

    /// `TrainerSpec` fields that matter at encoding time.
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct TrainerSpec {
        /// `ModelType` enum: 1 unigram (default), 2 BPE, 3 word, 4 char.
        #[prost(int32, optional, tag = "3")]
        pub model_type: Option<i32>,
        /// Put the escaped space after words instead of before (default false).
        #[prost(bool, optional, tag = "24")]
        pub treat_whitespace_as_suffix: Option<bool>,
        /// Encode unknown characters as `<0xXX>` byte pieces (default false).
        #[prost(bool, optional, tag = "35")]
        pub byte_fallback: Option<bool>,
        /// Id of `<unk>` at training time (default 0); the piece types are authoritative.
        #[prost(int32, optional, tag = "40")]
        pub unk_id: Option<i32>,
        /// Text that decoding prints for `<unk>` (default `" ⁇ "`).
        #[prost(string, optional, tag = "44")]
        pub unk_surface: Option<String>,
    }

    /// `NormalizerSpec`: the normalization rules and whitespace options.
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct NormalizerSpec {
        /// Rule name, e.g. `nmt_nfkc`.
        #[prost(string, optional, tag = "1")]
        pub name: Option<String>,
        /// Compiled rules: `u32` trie size, darts-clone double array, NUL-separated outputs.
        #[prost(bytes = "vec", optional, tag = "2")]
        pub precompiled_charsmap: Option<Vec<u8>>,
        /// Prepend a space to the text (default true).
        #[prost(bool, optional, tag = "3")]
        pub add_dummy_prefix: Option<bool>,
        /// Strip leading/trailing spaces and collapse runs (default true).
        #[prost(bool, optional, tag = "4")]
        pub remove_extra_whitespaces: Option<bool>,
        /// Replace spaces with `▁` (default true).
        #[prost(bool, optional, tag = "5")]
        pub escape_whitespaces: Option<bool>,
    }
}

/// The type of a vocabulary piece (`ModelProto.SentencePiece.Type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PieceType {
    /// A normal piece, matched against text.
    Normal,
    /// The unknown piece `<unk>`; never matched against text.
    Unknown,
    /// A control symbol such as `<s>` or `</s>`; never matched against text.
    Control,
    /// A user-defined symbol, matched with priority and left un-normalized.
    UserDefined,
    /// A byte piece `<0xXX>` used for byte fallback.
    Byte,
    /// A piece kept in the vocabulary but never produced.
    Unused,
}

impl PieceType {
    fn from_proto(value: Option<i32>) -> Option<Self> {
        match value.unwrap_or(1) {
            1 => Some(Self::Normal),
            2 => Some(Self::Unknown),
            3 => Some(Self::Control),
            4 => Some(Self::UserDefined),
            5 => Some(Self::Unused),
            6 => Some(Self::Byte),
            _ => None,
        }
    }

    /// Pieces that live in the matching trie rather than in the reserved map.
    fn is_matchable(self) -> bool {
        matches!(self, Self::Normal | Self::UserDefined | Self::Unused)
    }
}

/// Why a SentencePiece model could not be loaded; every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum SpmError {
    /// The file could not be read.
    #[error("cannot read SentencePiece model {path}: {source}")]
    Io {
        /// The model file.
        path: PathBuf,
        /// The I/O failure.
        source: std::io::Error,
    },
    /// The bytes are not a `ModelProto` protobuf.
    #[error("SentencePiece model {path} is not a valid ModelProto protobuf: {source}")]
    Protobuf {
        /// The model file.
        path: PathBuf,
        /// The decoding failure.
        source: prost::DecodeError,
    },
    /// The model is BPE, word or char rather than unigram.
    #[error(
        "SentencePiece model {path} is a {model_type} model; only unigram models are supported"
    )]
    NotUnigram {
        /// The model file.
        path: PathBuf,
        /// The model type found.
        model_type: String,
    },
    /// The protobuf decodes but its content is unusable.
    #[error("SentencePiece model {path} is invalid: {reason}")]
    Invalid {
        /// The model file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
}

/// A byte trie with ids on terminal nodes, standing in for darts-clone's `traverse`.
#[derive(Debug, Clone, Default)]
struct Trie {
    /// Per node: children sorted by byte, and the value if a key ends here.
    nodes: Vec<TrieNode>,
}

#[derive(Debug, Clone, Default)]
struct TrieNode {
    children: Vec<(u8, usize)>,
    value: Option<u32>,
}

impl Trie {
    fn new() -> Self {
        Self {
            nodes: vec![TrieNode::default()],
        }
    }

    fn insert(&mut self, key: &[u8], value: u32) {
        let mut node = 0;
        for &b in key {
            node = match self.nodes[node].children.binary_search_by_key(&b, |c| c.0) {
                Ok(i) => self.nodes[node].children[i].1,
                Err(i) => {
                    let next = self.nodes.len();
                    self.nodes.push(TrieNode::default());
                    self.nodes[node].children.insert(i, (b, next));
                    next
                }
            };
        }
        self.nodes[node].value = Some(value);
    }

    fn child(&self, node: usize, b: u8) -> Option<usize> {
        let children = &self.nodes[node].children;
        children
            .binary_search_by_key(&b, |c| c.0)
            .ok()
            .map(|i| children[i].1)
    }

    /// All keys that are prefixes of `text`, shortest first, as `(byte length, value)`.
    fn prefixes<'a>(&'a self, text: &'a [u8]) -> impl Iterator<Item = (usize, u32)> + 'a {
        let mut node = Some(0);
        text.iter()
            .enumerate()
            .map_while(move |(i, &b)| {
                let next = self.child(node?, b)?;
                node = Some(next);
                Some((i + 1, self.nodes[next].value))
            })
            .filter_map(|(len, value)| value.map(|v| (len, v)))
    }

    /// The longest key that is a prefix of `text`, as its byte length.
    fn longest_prefix(&self, text: &[u8]) -> Option<usize> {
        self.prefixes(text).last().map(|(len, _)| len)
    }
}

/// SentencePiece's precompiled charsmap: a darts-clone double array and the output strings.
#[derive(Debug, Clone)]
struct CharsMap {
    units: Vec<u32>,
    normalized: Vec<u8>,
}

impl CharsMap {
    /// `Normalizer::DecodePrecompiledCharsMap`.
    fn parse(blob: &[u8]) -> Result<Self, String> {
        let (size, rest) = match blob.split_first_chunk::<4>() {
            Some((size, rest)) if blob.len() > 4 => (u32::from_le_bytes(*size) as usize, rest),
            _ => return Err("precompiled_charsmap is broken (too short)".into()),
        };
        if size >= blob.len() || size > rest.len() || size % 4 != 0 {
            return Err("precompiled_charsmap trie size exceeds the blob".into());
        }
        let (trie, normalized) = rest.split_at(size);
        let units = trie
            .chunks_exact(4)
            .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect::<Vec<_>>();
        if units.is_empty() {
            return Err("precompiled_charsmap has an empty trie".into());
        }
        Ok(Self {
            units,
            normalized: normalized.to_vec(),
        })
    }

    /// darts-clone `commonPrefixSearch` keeping the longest match: `(length, value)`.
    fn longest_match(&self, key: &[u8]) -> Option<(usize, usize)> {
        let unit = |pos: usize| self.units.get(pos).copied();
        let offset = |u: u32| ((u >> 10) << ((u & (1 << 9)) >> 6)) as usize;
        let has_leaf = |u: u32| (u >> 8) & 1 == 1;
        let label = |u: u32| u & ((1 << 31) | 0xFF);
        let value = |u: u32| (u & ((1 << 31) - 1)) as usize;

        let mut best = None;
        let mut node_pos = offset(unit(0)?);
        for (i, &b) in key.iter().enumerate() {
            node_pos ^= b as usize;
            let u = unit(node_pos)?;
            if label(u) != b as u32 {
                break;
            }
            node_pos ^= offset(u);
            if has_leaf(u) {
                if let Some(leaf) = unit(node_pos) {
                    best = Some((i + 1, value(leaf)));
                }
            }
        }
        best
    }

    /// The NUL-terminated output string starting at `value`.
    fn output(&self, value: usize) -> &[u8] {
        let tail = self.normalized.get(value..).unwrap_or(&[]);
        let end = tail.iter().position(|&b| b == 0).unwrap_or(tail.len());
        &tail[..end]
    }
}

/// `Normalizer` from normalizer.cc, on bytes.
#[derive(Debug, Clone)]
struct Normalizer {
    charsmap: Option<CharsMap>,
    add_dummy_prefix: bool,
    remove_extra_whitespaces: bool,
    escape_whitespaces: bool,
    treat_whitespace_as_suffix: bool,
    /// User-defined symbols, copied verbatim (`PrefixMatcher`).
    matcher: Option<Trie>,
}

/// `string_util::IsValidDecodeUTF8` byte length; invalid sequences consume one byte.
fn utf8_char_len(input: &[u8]) -> (usize, bool) {
    let len = match input.first() {
        None => return (0, false),
        Some(&b) if b < 0x80 => return (1, true),
        Some(&b) if b & 0xE0 == 0xC0 => 2,
        Some(&b) if b & 0xF0 == 0xE0 => 3,
        Some(&b) if b & 0xF8 == 0xF0 => 4,
        Some(_) => return (1, false),
    };
    match input.get(..len).map(std::str::from_utf8) {
        Some(Ok(_)) => (len, true),
        _ => (1, false),
    }
}

/// `string_util::OneCharLen`: the UTF-8 length announced by a lead byte.
fn one_char_len(b: u8) -> usize {
    const TABLE: [usize; 16] = [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4];
    TABLE[(b >> 4) as usize]
}

impl Normalizer {
    fn from_spec(
        spec: &proto::NormalizerSpec,
        treat_whitespace_as_suffix: bool,
        matcher: Option<Trie>,
    ) -> Result<Self, String> {
        let charsmap = match spec.precompiled_charsmap.as_deref() {
            Some(blob) if !blob.is_empty() => Some(CharsMap::parse(blob)?),
            _ => None,
        };
        Ok(Self {
            charsmap,
            add_dummy_prefix: spec.add_dummy_prefix.unwrap_or(true),
            remove_extra_whitespaces: spec.remove_extra_whitespaces.unwrap_or(true),
            escape_whitespaces: spec.escape_whitespaces.unwrap_or(true),
            treat_whitespace_as_suffix,
            matcher,
        })
    }

    /// `NormalizePrefix`: the replacement for the start of `input` and the bytes consumed.
    fn normalize_prefix<'a>(&'a self, input: &'a [u8]) -> (&'a [u8], usize) {
        if let Some(len) = self.matcher.as_ref().and_then(|m| m.longest_prefix(input)) {
            return (&input[..len], len);
        }
        if let Some(map) = &self.charsmap {
            if let Some((len, value)) = map.longest_match(input) {
                return (map.output(value), len);
            }
        }
        match utf8_char_len(input) {
            (len, true) => (&input[..len], len),
            (_, false) => ("\u{FFFD}".as_bytes(), 1),
        }
    }

    /// `Normalizer::Normalize` without the alignment.
    fn normalize(&self, text: &str) -> Vec<u8> {
        let mut input = text.as_bytes();
        let mut out = Vec::with_capacity(input.len() * 3);
        if input.is_empty() {
            return out;
        }
        if self.remove_extra_whitespaces {
            while !input.is_empty() {
                let (sp, consumed) = self.normalize_prefix(input);
                if sp != b" " {
                    break;
                }
                input = &input[consumed..];
            }
        }
        if input.is_empty() {
            return out;
        }
        let space: &[u8] = if self.escape_whitespaces {
            SPACE_SYMBOL.as_bytes()
        } else {
            b" "
        };
        if !self.treat_whitespace_as_suffix && self.add_dummy_prefix {
            out.extend_from_slice(space);
        }
        let mut is_prev_space = self.remove_extra_whitespaces;
        while !input.is_empty() {
            let (mut sp, consumed) = self.normalize_prefix(input);
            if is_prev_space {
                while let Some(rest) = sp.strip_prefix(b" ") {
                    sp = rest;
                }
            }
            if !sp.is_empty() {
                for &b in sp {
                    if self.escape_whitespaces && b == b' ' {
                        out.extend_from_slice(SPACE_SYMBOL.as_bytes());
                    } else {
                        out.push(b);
                    }
                }
                is_prev_space = sp.ends_with(b" ");
            }
            input = &input[consumed..];
            if !self.remove_extra_whitespaces {
                is_prev_space = false;
            }
        }
        if self.remove_extra_whitespaces {
            while out.ends_with(space) {
                out.truncate(out.len() - space.len());
            }
        }
        if self.treat_whitespace_as_suffix && self.add_dummy_prefix {
            out.extend_from_slice(space);
        }
        out
    }
}

/// One vocabulary entry.
#[derive(Debug, Clone)]
struct Piece {
    text: String,
    score: f32,
    kind: PieceType,
}

/// A SentencePiece unigram model that segments text like `SentencePieceProcessor`.
#[derive(Debug, Clone)]
pub struct SpmModel {
    pieces: Vec<Piece>,
    /// Control and unknown pieces (`reserved_id_map_`).
    reserved: HashMap<String, u32>,
    /// Normal, user-defined and unused pieces (`trie_`).
    trie: Trie,
    unk_id: u32,
    min_score: f32,
    max_score: f32,
    byte_fallback: bool,
    unk_surface: String,
    normalizer: Normalizer,
    denormalizer: Option<Normalizer>,
}

impl SpmModel {
    /// Reads and validates a `*.spm` / `*.model` file.
    pub fn from_file(path: &Path) -> Result<Self, SpmError> {
        let bytes = std::fs::read(path).map_err(|source| SpmError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_bytes(&bytes, path)
    }

    /// Parses a serialized `ModelProto`; `path` only labels errors.
    pub fn from_bytes(bytes: &[u8], path: &Path) -> Result<Self, SpmError> {
        let model = <proto::ModelProto as prost::Message>::decode(bytes).map_err(|source| {
            SpmError::Protobuf {
                path: path.to_path_buf(),
                source,
            }
        })?;
        Self::from_proto(&model, path)
    }

    /// Builds the model from a decoded `ModelProto`; `path` only labels errors.
    pub fn from_proto(model: &proto::ModelProto, path: &Path) -> Result<Self, SpmError> {
        let invalid = |reason: String| SpmError::Invalid {
            path: path.to_path_buf(),
            reason,
        };
        let trainer = model.trainer_spec.clone().unwrap_or_default();
        let model_type = trainer.model_type.unwrap_or(1);
        if model_type != 1 {
            let name = match model_type {
                2 => "BPE".to_string(),
                3 => "word".to_string(),
                4 => "char".to_string(),
                other => format!("unknown (model_type = {other})"),
            };
            return Err(SpmError::NotUnigram {
                path: path.to_path_buf(),
                model_type: name,
            });
        }
        let byte_fallback = trainer.byte_fallback.unwrap_or(false);

        // `ModelInterface::InitializePieces`.
        let mut pieces = Vec::with_capacity(model.pieces.len());
        let mut reserved = HashMap::new();
        let mut matchable: HashMap<&str, u32> = HashMap::new();
        let mut user_defined = Trie::new();
        let mut has_user_defined = false;
        let mut unk_id = None;
        let mut bytes_found = [false; 256];
        for (i, sp) in model.pieces.iter().enumerate() {
            let id = u32::try_from(i).map_err(|_| invalid("too many pieces".into()))?;
            let text = sp.piece.as_deref().unwrap_or("");
            if text.is_empty() {
                return Err(invalid(format!("piece {id} is empty")));
            }
            let kind = PieceType::from_proto(sp.r#type).ok_or_else(|| {
                invalid(format!(
                    "piece {id} {text:?} has unknown type {:?}",
                    sp.r#type
                ))
            })?;
            let fresh = if kind.is_matchable() {
                matchable.insert(text, id).is_none()
            } else {
                reserved.insert(text.to_string(), id).is_none()
            };
            if !fresh {
                return Err(invalid(format!("piece {text:?} is defined twice")));
            }
            match kind {
                PieceType::UserDefined => {
                    user_defined.insert(text.as_bytes(), id);
                    has_user_defined = true;
                }
                PieceType::Unknown if unk_id.is_some() => {
                    return Err(invalid("more than one unknown piece".into()));
                }
                PieceType::Unknown => unk_id = Some(id),
                PieceType::Byte => {
                    if !byte_fallback {
                        return Err(invalid(format!(
                            "byte piece {text:?} found although byte_fallback is false"
                        )));
                    }
                    let byte = piece_to_byte(text)
                        .ok_or_else(|| invalid(format!("byte piece {text:?} is invalid")))?;
                    bytes_found[byte as usize] = true;
                }
                _ => {}
            }
            pieces.push(Piece {
                text: text.to_string(),
                score: sp.score.unwrap_or(0.0),
                kind,
            });
        }
        let unk_id = unk_id.ok_or_else(|| invalid("no unknown (<unk>) piece".into()))?;
        if byte_fallback && bytes_found.iter().any(|&found| !found) {
            return Err(invalid(
                "byte_fallback is set but the 256 byte pieces are not all present".into(),
            ));
        }

        // `unigram::Model::Model`: FLT_MAX / FLT_MIN over normal pieces.
        let mut min_score = f32::MAX;
        let mut max_score = f32::MIN_POSITIVE;
        for p in pieces.iter().filter(|p| p.kind == PieceType::Normal) {
            min_score = min_score.min(p.score);
            max_score = max_score.max(p.score);
        }
        let mut trie = Trie::new();
        for (text, &id) in &matchable {
            trie.insert(text.as_bytes(), id);
        }
        if matchable.is_empty() {
            return Err(invalid("no matchable pieces".into()));
        }

        let treat_ws_suffix = trainer.treat_whitespace_as_suffix.unwrap_or(false);
        let normalizer = Normalizer::from_spec(
            &model.normalizer_spec.clone().unwrap_or_default(),
            treat_ws_suffix,
            has_user_defined.then_some(user_defined),
        )
        .map_err(|e| invalid(format!("normalizer_spec: {e}")))?;
        let denormalizer = match &model.denormalizer_spec {
            Some(spec)
                if spec
                    .precompiled_charsmap
                    .as_ref()
                    .is_some_and(|m| !m.is_empty()) =>
            {
                Some(
                    Normalizer::from_spec(spec, false, None)
                        .map_err(|e| invalid(format!("denormalizer_spec: {e}")))?,
                )
            }
            _ => None,
        };
        Ok(Self {
            pieces,
            reserved,
            trie,
            unk_id,
            min_score,
            max_score,
            byte_fallback,
            unk_surface: trainer
                .unk_surface
                .unwrap_or_else(|| " \u{2047} ".to_string()),
            normalizer,
            denormalizer,
        })
    }

    /// Number of pieces in the vocabulary.
    pub fn len(&self) -> usize {
        self.pieces.len()
    }

    /// Whether the vocabulary is empty (never true for a loaded model).
    pub fn is_empty(&self) -> bool {
        self.pieces.is_empty()
    }

    /// Id of the unknown piece.
    pub fn unk_id(&self) -> u32 {
        self.unk_id
    }

    /// The piece text of `id`, if in range.
    pub fn id_to_piece(&self, id: u32) -> Option<&str> {
        self.pieces.get(id as usize).map(|p| p.text.as_str())
    }

    /// The type of piece `id`, if in range.
    pub fn piece_type(&self, id: u32) -> Option<PieceType> {
        self.pieces.get(id as usize).map(|p| p.kind)
    }

    /// `PieceToId`: the id of a piece text, or the unknown id.
    pub fn piece_to_id(&self, piece: &str) -> u32 {
        if let Some(&id) = self.reserved.get(piece) {
            return id;
        }
        let bytes = piece.as_bytes();
        match self.trie.prefixes(bytes).last() {
            Some((len, id)) if len == bytes.len() => id,
            _ => self.unk_id,
        }
    }

    /// The normalized text that segmentation works on (`SentencePieceProcessor::Normalize`).
    pub fn normalize(&self, text: &str) -> String {
        String::from_utf8_lossy(&self.normalizer.normalize(text)).into_owned()
    }

    /// Segments `text` like `SentencePieceProcessor.encode(text, out_type=str)`.
    pub fn encode(&self, text: &str) -> Vec<String> {
        self.encode_with_ids(text)
            .into_iter()
            .map(|(p, _)| p)
            .collect()
    }

    /// Segments `text` into `(piece, id)` pairs, as `encode` and `encode(out_type=int)`.
    pub fn encode_with_ids(&self, text: &str) -> Vec<(String, u32)> {
        let normalized = self.normalizer.normalize(text);
        let best = self.viterbi(&normalized);
        // `PopulateSentencePieceText`: byte fallback, or merge runs of unknown pieces.
        let mut out: Vec<(String, u32)> = Vec::with_capacity(best.len());
        let mut prev_unk = false;
        for (range, id) in best {
            let bytes = &normalized[range];
            let is_unk = id == self.unk_id;
            if is_unk && self.byte_fallback {
                for &b in bytes {
                    let piece = byte_to_piece(b);
                    let id = self.piece_to_id(&piece);
                    out.push((piece, id));
                }
            } else {
                let piece = String::from_utf8_lossy(bytes);
                match out.last_mut() {
                    Some(last) if prev_unk && is_unk => last.0.push_str(&piece),
                    _ => out.push((piece.into_owned(), id)),
                }
            }
            prev_unk = is_unk;
        }
        out
    }

    /// `unigram::Model::EncodeOptimized`: best segmentation as byte ranges and ids.
    fn viterbi(&self, normalized: &[u8]) -> Vec<(std::ops::Range<usize>, u32)> {
        #[derive(Clone, Copy)]
        struct Best {
            id: u32,
            score: f32,
            starts_at: Option<usize>,
        }
        let size = normalized.len();
        if size == 0 {
            return Vec::new();
        }
        let unk_score = self.min_score - UNK_PENALTY;
        let mut best = vec![
            Best {
                id: self.unk_id,
                score: 0.0,
                starts_at: None,
            };
            size + 1
        ];
        let mut starts_at = 0;
        while starts_at < size {
            let till_here = best[starts_at].score;
            let mblen = one_char_len(normalized[starts_at]).min(size - starts_at);
            let mut has_single_node = false;
            for (length, id) in self.trie.prefixes(&normalized[starts_at..]) {
                let Some(piece) = self.pieces.get(id as usize) else {
                    continue;
                };
                if piece.kind == PieceType::Unused {
                    continue;
                }
                // Scores add up in `f32`: this is what the `sentencepiece` wheels do (checked
                // against 0.2.x on exact ties such as `.` + `...` vs `...` + `.`).
                let score: f32 = if piece.kind == PieceType::UserDefined {
                    (f64::from(length as f32 * self.max_score) - 0.1) as f32
                } else {
                    piece.score
                };
                let candidate = score + till_here;
                let target = &mut best[starts_at + length];
                if target.starts_at.is_none() || candidate > target.score {
                    *target = Best {
                        id,
                        score: candidate,
                        starts_at: Some(starts_at),
                    };
                }
                if length == mblen {
                    has_single_node = true;
                }
            }
            if !has_single_node {
                let candidate = unk_score + till_here;
                let target = &mut best[starts_at + mblen];
                if target.starts_at.is_none() || candidate > target.score {
                    *target = Best {
                        id: self.unk_id,
                        score: candidate,
                        starts_at: Some(starts_at),
                    };
                }
            }
            starts_at += mblen;
        }
        let mut out = Vec::new();
        let mut ends_at = size;
        while ends_at > 0 {
            let node = best[ends_at];
            let Some(start) = node.starts_at.filter(|&s| s < ends_at) else {
                // Unreachable for a well-formed lattice; stop rather than loop.
                break;
            };
            out.push((start..ends_at, node.id));
            ends_at = start;
        }
        out.reverse();
        out
    }

    /// Joins pieces back into text like `SentencePieceProcessor.decode_pieces`.
    pub fn decode_pieces<S: AsRef<str>>(&self, pieces: &[S]) -> String {
        let ids: Vec<u32> = pieces
            .iter()
            .map(|p| self.piece_to_id(p.as_ref()))
            .collect();
        let mut text = String::new();
        let mut is_bos_ws = true;
        let mut bos_ws_seen = false;
        let mut bytes: Vec<u8> = Vec::new();
        for (piece, &id) in pieces.iter().map(AsRef::as_ref).zip(&ids) {
            let kind = self.piece_type(id).unwrap_or(PieceType::Normal);
            if kind == PieceType::Byte {
                if let Some(b) = piece_to_byte(piece) {
                    bytes.push(b);
                }
                continue;
            }
            flush_bytes(&mut bytes, &mut text);
            if bos_ws_seen || !text.is_empty() {
                is_bos_ws = false;
            }
            let (decoded, seen) = self.decode_piece(piece, id, kind, is_bos_ws);
            bos_ws_seen = seen;
            text.push_str(&decoded);
        }
        flush_bytes(&mut bytes, &mut text);
        match &self.denormalizer {
            Some(d) => String::from_utf8_lossy(&d.normalize(&text)).into_owned(),
            None => text,
        }
    }

    /// `DecodeSentencePiece` inside `SentencePieceProcessor::Decode`.
    fn decode_piece(
        &self,
        piece: &str,
        id: u32,
        kind: PieceType,
        is_bos_ws: bool,
    ) -> (String, bool) {
        match kind {
            PieceType::Control => return (String::new(), false),
            PieceType::Unknown => {
                return if self.id_to_piece(id) == Some(piece) {
                    (self.unk_surface.clone(), false)
                } else {
                    (piece.to_string(), false)
                };
            }
            _ => {}
        }
        let mut piece = piece;
        let mut has_bos_ws = false;
        if is_bos_ws
            && (self.normalizer.add_dummy_prefix || self.normalizer.remove_extra_whitespaces)
        {
            if let Some(rest) = piece.strip_prefix(SPACE_SYMBOL) {
                piece = rest;
                has_bos_ws = true;
            }
            if self.normalizer.remove_extra_whitespaces {
                has_bos_ws = false;
            }
        }
        (piece.replace(SPACE_SYMBOL, " "), has_bos_ws)
    }
}

/// Appends pending byte pieces as UTF-8, one U+FFFD per invalid byte (`ProcessBytePieces`).
fn flush_bytes(bytes: &mut Vec<u8>, text: &mut String) {
    let mut rest = bytes.as_slice();
    while !rest.is_empty() {
        let (len, valid) = utf8_char_len(rest);
        if valid {
            text.push_str(&String::from_utf8_lossy(&rest[..len]));
        } else {
            text.push('\u{FFFD}');
        }
        rest = &rest[len.max(1)..];
    }
    bytes.clear();
}

/// `<0xXX>` for a byte.
fn byte_to_piece(b: u8) -> String {
    format!("<0x{b:02X}>")
}

/// The byte of a `<0xXX>` piece.
fn piece_to_byte(piece: &str) -> Option<u8> {
    let hex = piece.strip_prefix("<0x")?.strip_suffix('>')?;
    let byte = u8::from_str_radix(hex, 16).ok()?;
    // Only the exact `%02X` spelling is a byte piece.
    (byte_to_piece(byte) == piece).then_some(byte)
}

#[cfg(test)]
mod tests {
    use super::proto::{ModelProto, NormalizerSpec, SentencePiece, TrainerSpec};
    use super::*;

    /// A hand-built model; expected outputs come from `sentencepiece` 0.2.3 on the same proto.
    fn tiny() -> ModelProto {
        let pieces = [
            ("<unk>", 0.0, 2),
            ("<s>", 0.0, 3),
            ("</s>", 0.0, 3),
            ("<x>", 0.0, 4),
            ("\u{2581}", -2.0, 1),
            ("a", -3.0, 1),
            ("b", -3.0, 1),
            ("\u{2581}a", -1.5, 1),
            ("ab", -2.5, 1),
            ("<", -4.0, 1),
            ("/", -4.0, 1),
            ("s", -4.0, 1),
            (">", -4.0, 1),
            ("x", -4.0, 1),
            ("c", -5.0, 5),
        ];
        ModelProto {
            pieces: pieces
                .iter()
                .map(|&(piece, score, kind)| SentencePiece {
                    piece: Some(piece.to_string()),
                    score: Some(score),
                    r#type: Some(kind),
                })
                .collect(),
            trainer_spec: Some(TrainerSpec {
                model_type: Some(1),
                ..TrainerSpec::default()
            }),
            normalizer_spec: Some(NormalizerSpec {
                name: Some("identity".into()),
                ..NormalizerSpec::default()
            }),
            denormalizer_spec: None,
        }
    }

    #[test]
    fn encodes_like_sentencepiece() {
        let model = SpmModel::from_proto(&tiny(), Path::new("tiny.model")).expect("valid model");
        let cases: [(&str, &[(&str, u32)]); 7] = [
            ("  a  b  ", &[("▁a", 7), ("▁", 4), ("b", 6)]),
            ("ab", &[("▁", 4), ("ab", 8)]),
            // Control pieces never match text.
            (
                "</s>",
                &[("▁", 4), ("<", 9), ("/", 10), ("s", 11), (">", 12)],
            ),
            // User-defined pieces win.
            ("a<x>b", &[("▁a", 7), ("<x>", 3), ("b", 6)]),
            // Runs of unknown characters merge into one piece.
            (
                "日本 語a",
                &[("▁", 4), ("日本", 0), ("▁", 4), ("語", 0), ("a", 5)],
            ),
            // Unused pieces are unknown.
            ("c", &[("▁", 4), ("c", 0)]),
            ("", &[]),
        ];
        for (text, expected) in cases {
            let got = model.encode_with_ids(text);
            let expected: Vec<(String, u32)> = expected
                .iter()
                .map(|&(p, id)| (p.to_string(), id))
                .collect();
            assert_eq!(got, expected, "encode({text:?})");
        }
        assert_eq!(model.decode_pieces(&["▁a", "▁", "b"]), "a b");
        assert_eq!(
            model.decode_pieces(&["▁", "<unk>", "日本"]),
            " \u{2047} 日本"
        );
    }

    #[test]
    fn rejects_bpe_and_broken_models() {
        let path = Path::new("bpe.model");
        let mut bpe = tiny();
        bpe.trainer_spec = Some(TrainerSpec {
            model_type: Some(2),
            ..TrainerSpec::default()
        });
        let err = SpmModel::from_proto(&bpe, path).expect_err("BPE must be rejected");
        assert!(matches!(err, SpmError::NotUnigram { .. }), "{err:?}");
        assert!(err.to_string().contains("bpe.model") && err.to_string().contains("BPE"));

        let mut no_unk = tiny();
        no_unk.pieces.remove(0);
        let err = SpmModel::from_proto(&no_unk, path).expect_err("no <unk> must fail");
        assert!(matches!(err, SpmError::Invalid { .. }), "{err:?}");

        let err = SpmModel::from_bytes(b"\xff\xff\xff", path).expect_err("garbage must fail");
        assert!(matches!(err, SpmError::Protobuf { .. }), "{err:?}");
    }
}
