//! dragoman: French news articles to English on open transformer models.
//!
//! Data flows top to bottom:
//! - [`models`] finds a model (Hub id or local directory), reads its config, tokenizers, weights.
//! - [`engine`] is the math: an encoder–decoder transformer on candle and transformers-exact
//!   greedy / beam search.
//! - [`text`] splits articles into lines and French sentences and puts translations back together.
//! - [`pipeline`] turns an article into its translation with the pieces above.
//! - [`server`] serves it over HTTP with a batching queue (`dragoman serve`).
//! - [`jobs`] runs durable, resumable JSONL batch jobs (`dragoman batch`) on a SQLite state file.
//!
//! The command line (`src/main.rs`) is a thin layer over [`pipeline::Translator`].

#![warn(missing_docs)]

pub mod engine;
pub mod jobs;
pub mod models;
pub mod pipeline;
pub mod server;
pub mod text;
