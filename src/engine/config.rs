//! Architecture description of an encoder–decoder transformer, independent of any Hub format.
//!
//! Marian (opus-mt) and the BART family differ only in a handful of switches: how positions are
//! embedded, whether embeddings are scaled or normalised, where layer norms sit, which activation
//! the feed-forward blocks use. `models::config` turns a Hub `config.json` into this struct.

/// Feed-forward activation, as named by transformers' `ACT2FN`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activation {
    /// `swish` / `silu`: x·σ(x).
    Silu,
    /// `relu`.
    Relu,
    /// `gelu`: the exact, erf-based GELU.
    Gelu,
    /// `gelu_new` / `gelu_pytorch_tanh`: the tanh approximation.
    GeluTanh,
}

impl Activation {
    /// Parses transformers' activation name; `None` when unsupported.
    pub fn from_hf_name(name: &str) -> Option<Self> {
        match name {
            "swish" | "silu" => Some(Self::Silu),
            "relu" => Some(Self::Relu),
            "gelu" => Some(Self::Gelu),
            "gelu_new" | "gelu_pytorch_tanh" | "gelu_fast" => Some(Self::GeluTanh),
            _ => None,
        }
    }
}

/// How token positions are embedded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PositionEmbedding {
    /// Fixed sinusoids, sines in the first half of the vector and cosines in the second (Marian, Pegasus).
    Sinusoidal,
    /// A learned table whose row for position `p` is `p + offset` (BART uses offset 2).
    Learned {
        /// Rows skipped at the start of the table.
        offset: usize,
    },
}

/// Where each sub-layer's layer norm sits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NormPlacement {
    /// `x = norm(x + f(x))` (Marian, BART).
    Post,
    /// `x = x + f(norm(x))`, with a final norm after the stack (mBART, Pegasus).
    Pre,
}

/// Everything the engine needs to build an encoder–decoder transformer.
#[derive(Debug, Clone, PartialEq)]
pub struct Seq2SeqConfig {
    /// Rows of the token embedding and of the output projection.
    pub vocab_size: usize,
    /// Hidden size.
    pub d_model: usize,
    /// Number of encoder layers.
    pub encoder_layers: usize,
    /// Number of decoder layers.
    pub decoder_layers: usize,
    /// Attention heads in the encoder.
    pub encoder_attention_heads: usize,
    /// Attention heads in the decoder.
    pub decoder_attention_heads: usize,
    /// Inner size of the encoder feed-forward blocks.
    pub encoder_ffn_dim: usize,
    /// Inner size of the decoder feed-forward blocks.
    pub decoder_ffn_dim: usize,
    /// Feed-forward activation.
    pub activation: Activation,
    /// Longest sequence the position embedding covers.
    pub max_position_embeddings: usize,
    /// Multiply token embeddings by √d_model.
    pub scale_embedding: bool,
    /// How positions are embedded.
    pub position_embedding: PositionEmbedding,
    /// A layer norm right after embeddings (BART's `layernorm_embedding`).
    pub layernorm_embedding: bool,
    /// Pre- or post-norm sub-layers.
    pub norm_placement: NormPlacement,
    /// Epsilon of every layer norm.
    pub layer_norm_eps: f64,
    /// Padding token id (Marian also starts decoding with it).
    pub pad_token_id: u32,
    /// End-of-sequence token id.
    pub eos_token_id: u32,
    /// First token fed to the decoder.
    pub decoder_start_token_id: u32,
}

impl Seq2SeqConfig {
    /// Size of one attention head in the encoder.
    pub fn encoder_head_dim(&self) -> usize {
        self.d_model / self.encoder_attention_heads
    }

    /// Size of one attention head in the decoder.
    pub fn decoder_head_dim(&self) -> usize {
        self.d_model / self.decoder_attention_heads
    }
}
