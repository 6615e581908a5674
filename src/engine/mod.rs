//! The math: an encoder–decoder transformer on candle and the search that generates with it.
//!
//! - [`cpu`]: process-wide settings for CPU inference (threads, thread pool, allocator).
//! - [`config`]: the architecture as data (Marian and BART differ only there).
//! - [`activation`]: activations in place on host values (between packed products).
//! - [`attention`]: multi-head attention with explicit key/value tensors.
//! - [`kv_cache`]: attention keys/values in host memory, appended in place (CPU decoding).
//! - [`linear`]: dense layers in f32 or int8 ([`Quantization`]).
//! - [`norm`]: residual addition and layer norm in one pass on host values (CPU).
//! - [`packed`]: weight matrices packed at load for the CPU's f32 products (BLIS-style GEMM).
//! - [`packed_int8`]: int8 weights packed at load and products in integers (the int8 mode on AVX2).
//! - [`skinny`]: products of a few rows with an unpacked weight matrix (CPUs without AVX2/FMA).
//! - [`seq2seq`]: encoder, decoder and per-request [`seq2seq::DecoderState`].
//! - [`generate`]: greedy and beam search with transformers' semantics, architecture-agnostic.
//! - [`session`]: glue that runs a batch of token sequences through encoder, decoder and search.

pub mod activation;
pub mod attention;
pub mod config;
pub mod cpu;
pub mod generate;
pub mod kv_cache;
pub mod linear;
pub mod norm;
pub mod packed;
pub mod packed_int8;
pub mod seq2seq;
pub mod session;
pub mod skinny;

pub use config::{Activation, NormPlacement, PositionEmbedding, Seq2SeqConfig};
pub use generate::{EarlyStopping, GenerationConfig, Hypothesis, StopReason};
pub use linear::Quantization;
pub use seq2seq::Seq2Seq;
pub use session::generate_batch;
