//! Splitting French articles into translatable units and putting the translations back together.
//!
//! The pipeline is: [`Article::parse`] cuts a text into lines (paragraphs) and each line into
//! sentences ([`split_sentences`]), keeping list bullets and indentation aside ([`split_prefix`]);
//! sentences too long for the model are cut further with [`split_to_budget`]; once translated,
//! [`Article::reassemble`] rebuilds a text with the same line structure.

mod abbrev;
mod article;
mod chunk;
pub mod html;
mod prefix;
mod sentences;

#[cfg(test)]
mod samples;

pub use article::{Article, Line, ReassembleError};
pub use chunk::split_to_budget;
pub use prefix::split_prefix;
pub use sentences::split_sentences;
