//! Where a model comes from: a local directory, or a Hugging Face Hub repo at a revision.
//!
//! Hub access goes through `hf-hub`: its standard cache (`HF_HOME`, default
//! `~/.cache/huggingface`), a token from `HF_TOKEN` or the cached login, `HF_ENDPOINT`, and
//! offline mode (`HF_HUB_OFFLINE=1`) in which only the cache is read.

use std::fmt;
use std::path::{Path, PathBuf};

use hf_hub::api::sync::{ApiBuilder, ApiRepo};
use hf_hub::{Cache, Repo, RepoType};

use super::error::LoadError;

/// The revision used when none is given.
pub const DEFAULT_REVISION: &str = "main";

/// A model given as a local directory or a Hub id with revision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelSource {
    /// A directory laid out like a Hub repo.
    Local(PathBuf),
    /// A Hub repo id (`owner/name`) and revision (branch, tag or commit).
    Hub {
        /// `owner/name`.
        repo: String,
        /// Branch, tag or commit hash.
        revision: String,
    },
}

impl fmt::Display for ModelSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Local(dir) => write!(f, "{}", dir.display()),
            Self::Hub { repo, revision } => write!(f, "{repo}@{revision}"),
        }
    }
}

impl ModelSource {
    /// Parses `--model`: an existing directory, else `owner/name[@revision]`.
    pub fn parse(spec: &str) -> Result<Self, LoadError> {
        let path = Path::new(spec);
        if path.is_dir() {
            return Ok(Self::Local(path.to_path_buf()));
        }
        let (repo, revision) = match spec.split_once('@') {
            Some((repo, revision)) => (repo, revision),
            None => (spec, DEFAULT_REVISION),
        };
        let valid_part = |part: &str| {
            !part.is_empty()
                && part
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        };
        let looks_like_id = match repo.split_once('/') {
            Some((owner, name)) => valid_part(owner) && valid_part(name),
            None => valid_part(repo),
        };
        if spec.starts_with('.') || spec.starts_with('/') || spec.contains("//") {
            return Err(LoadError::NotADirectory(path.to_path_buf()));
        }
        if !looks_like_id || revision.is_empty() {
            return Err(LoadError::InvalidModelId(spec.to_string()));
        }
        Ok(Self::Hub {
            repo: repo.to_string(),
            revision: revision.to_string(),
        })
    }

    /// Opens the source for fetching files.
    pub fn open(&self) -> Result<ModelRepo, LoadError> {
        match self {
            Self::Local(dir) => {
                if !dir.is_dir() {
                    return Err(LoadError::NotADirectory(dir.clone()));
                }
                Ok(ModelRepo {
                    name: self.to_string(),
                    access: Access::Local(dir.clone()),
                })
            }
            Self::Hub { repo, revision } => {
                let hub_repo = Repo::with_revision(repo.clone(), RepoType::Model, revision.clone());
                let cache = Cache::from_env();
                let access = if offline_mode() {
                    Access::Offline {
                        cache: cache.clone(),
                        repo: hub_repo,
                    }
                } else {
                    let token = std::env::var("HF_TOKEN")
                        .ok()
                        .filter(|t| !t.is_empty())
                        .or_else(|| cache.token());
                    let api = ApiBuilder::from_env()
                        .with_token(token)
                        .with_progress(false)
                        .build()
                        .map_err(|e| LoadError::Hub {
                            model: self.to_string(),
                            file: "(client)".into(),
                            message: e.to_string(),
                        })?;
                    let api_repo = api.repo(hub_repo);
                    let listing = api_repo.info().map_err(|e| LoadError::Hub {
                        model: self.to_string(),
                        file: "(repository listing)".into(),
                        message: e.to_string(),
                    })?;
                    Access::Online {
                        repo: Box::new(api_repo),
                        files: listing.siblings.into_iter().map(|s| s.rfilename).collect(),
                    }
                };
                Ok(ModelRepo {
                    name: self.to_string(),
                    access,
                })
            }
        }
    }
}

/// `HF_HUB_OFFLINE` set to a true value, as huggingface_hub reads it.
pub fn offline_mode() -> bool {
    std::env::var("HF_HUB_OFFLINE")
        .map(|v| {
            matches!(
                v.trim().to_ascii_lowercase().as_str(),
                "1" | "true" | "yes" | "on"
            )
        })
        .unwrap_or(false)
}

enum Access {
    Local(PathBuf),
    Offline {
        cache: Cache,
        repo: Repo,
    },
    Online {
        repo: Box<ApiRepo>,
        files: Vec<String>,
    },
}

/// An opened model source from which files can be fetched.
pub struct ModelRepo {
    name: String,
    access: Access,
}

impl ModelRepo {
    /// Human-readable name (directory, or `repo@revision`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether the repo has `file` (without downloading it).
    pub fn has(&self, file: &str) -> bool {
        match &self.access {
            Access::Local(dir) => dir.join(file).is_file(),
            Access::Offline { cache, repo } => cache.repo(repo.clone()).get(file).is_some(),
            Access::Online { files, .. } => files.iter().any(|f| f == file),
        }
    }

    /// The local path of `file`, downloading it into the cache if needed.
    pub fn get(&self, file: &str) -> Result<PathBuf, LoadError> {
        let missing = |hint: String| LoadError::MissingFile {
            model: self.name.clone(),
            file: file.to_string(),
            hint,
        };
        match &self.access {
            Access::Local(dir) => {
                let path = dir.join(file);
                if path.is_file() {
                    Ok(path)
                } else {
                    Err(missing(format!(" (looked for {})", path.display())))
                }
            }
            Access::Offline { cache, repo } => cache.repo(repo.clone()).get(file).ok_or_else(|| {
                missing(format!(
                    " from the local Hub cache ({}) and HF_HUB_OFFLINE is set: download it once with network access, or unset HF_HUB_OFFLINE",
                    cache.path().display()
                ))
            }),
            Access::Online { repo, files } => {
                if !files.iter().any(|f| f == file) {
                    return Err(missing(" from the Hub repository".into()));
                }
                repo.get(file).map_err(|e| LoadError::Hub {
                    model: self.name.clone(),
                    file: file.to_string(),
                    message: e.to_string(),
                })
            }
        }
    }

    /// Like [`ModelRepo::get`] for a file that may legitimately be absent.
    pub fn get_optional(&self, file: &str) -> Result<Option<PathBuf>, LoadError> {
        if self.has(file) {
            self.get(file).map(Some)
        } else {
            Ok(None)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_hub_ids_with_and_without_revision() {
        assert_eq!(
            ModelSource::parse("Helsinki-NLP/opus-mt-fr-en").ok(),
            Some(ModelSource::Hub {
                repo: "Helsinki-NLP/opus-mt-fr-en".into(),
                revision: "main".into()
            })
        );
        assert_eq!(
            ModelSource::parse("Helsinki-NLP/opus-mt-tc-big-fr-en@v1.0").ok(),
            Some(ModelSource::Hub {
                repo: "Helsinki-NLP/opus-mt-tc-big-fr-en".into(),
                revision: "v1.0".into()
            })
        );
    }

    #[test]
    fn rejects_paths_that_do_not_exist_and_malformed_ids() {
        assert!(matches!(
            ModelSource::parse("./no/such/dir"),
            Err(LoadError::NotADirectory(_))
        ));
        assert!(matches!(
            ModelSource::parse("a b/c"),
            Err(LoadError::InvalidModelId(_))
        ));
        assert!(matches!(
            ModelSource::parse("owner/name@"),
            Err(LoadError::InvalidModelId(_))
        ));
    }

    #[test]
    fn local_directory_reports_missing_file_by_name() {
        let dir = tempfile::tempdir().expect("temp dir");
        let repo = ModelSource::Local(dir.path().to_path_buf())
            .open()
            .expect("opens");
        let err = repo.get("config.json").expect_err("missing");
        assert!(err.to_string().contains("config.json"), "{err}");
    }
}
