//! Integration tests: one binary, shared helpers in `common`.

mod analysis;
mod bart;
mod batch;
mod cli;
mod common;
mod console;
mod embeddings;
mod events;
mod jobs_api;
mod jobs_postgres;
mod loading;
mod ner;
mod parity;
mod pipeline;
mod quantized;
mod server;
mod server_process;
mod summarizer;
