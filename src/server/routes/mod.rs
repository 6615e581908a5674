//! The HTTP routes, one file per group.

pub mod analyze;
pub mod console;
pub mod jobs;
pub mod libre;
pub mod status;
pub mod translate;
