//! Errors raised while finding and loading a model; each names the file and the problem.

use std::path::PathBuf;

use thiserror::Error;

use super::tokenizer::TokenizerError;

/// Why a model could not be found or loaded.
#[derive(Debug, Error)]
pub enum LoadError {
    /// A local model directory does not exist or is not a directory.
    #[error("model directory {0} does not exist or is not a directory")]
    NotADirectory(PathBuf),
    /// `--model` is neither a directory nor a Hub id.
    #[error("`{0}` is neither a local directory nor a Hub model id like `Helsinki-NLP/opus-mt-fr-en[@revision]`")]
    InvalidModelId(String),
    /// A file the model needs is not there.
    #[error("{model}: required file `{file}` is missing{hint}")]
    MissingFile {
        /// The model (directory or repo@revision).
        model: String,
        /// The file name.
        file: String,
        /// Extra advice (offline mode, cache location).
        hint: String,
    },
    /// Talking to the Hub failed.
    #[error("{model}: could not fetch `{file}` from the Hugging Face Hub: {message}")]
    Hub {
        /// The repo@revision.
        model: String,
        /// The file being fetched (or `repo info`).
        file: String,
        /// The underlying error.
        message: String,
    },
    /// A file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A JSON file is malformed or lacks a field.
    #[error("{path}: {message}")]
    InvalidJson {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The configuration describes something we do not support or is inconsistent.
    #[error("{path}: {message}")]
    InvalidConfig {
        /// The config file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The weights do not match the configuration.
    #[error("{path}: {message}")]
    Weights {
        /// The weights file.
        path: PathBuf,
        /// What is wrong (tensor name, expected and actual shape or dtype).
        message: String,
    },
    /// The tokenizer files are missing or invalid.
    #[error(transparent)]
    Tokenizer(#[from] TokenizerError),
}
