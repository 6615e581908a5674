//! Integration tests: one binary, shared helpers in `common`.

mod cli;
mod common;
mod loading;
mod parity;
mod pipeline;
