//! The event-tag taxonomy, `models/taxonomy.json`: tags for news on diplomacy and security, each
//! with an English label, a description of what counts and what does not, example sentences, its
//! CAMEO root code (Schrodt, *CAMEO Conflict and Mediation Event Observations Codebook* 1.1b3) and
//! its PLOVER event type (Open Event Data Alliance, *PLOVER manual*,
//! github.com/openeventdata/PLOVER) with the PLOVER modes it covers. The tags are the analyst
//! labels of event records ([`crate::pipeline::events`]).

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// The committed taxonomy, compiled into the binary.
const BUILTIN_JSON: &str = include_str!("../../models/taxonomy.json");
/// Where the committed taxonomy lives in the repository (for error messages).
const BUILTIN_PATH: &str = "models/taxonomy.json";

/// Fewest tags a taxonomy may have.
pub const MIN_TAGS: usize = 15;
/// Most tags a taxonomy may have.
pub const MAX_TAGS: usize = 30;

/// The PLOVER event types (PLOVER manual, 2023); CAMEO 01 and 02 have no PLOVER equivalent.
pub const PLOVER_TYPES: [&str; 16] = [
    "AGREE",
    "CONSULT",
    "SUPPORT",
    "CONCEDE",
    "COOPERATE",
    "AID",
    "RETREAT",
    "REQUEST",
    "ACCUSE",
    "REJECT",
    "THREATEN",
    "PROTEST",
    "SANCTION",
    "MOBILIZE",
    "COERCE",
    "ASSAULT",
];

/// The whole taxonomy file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Taxonomy {
    /// Version of the taxonomy, for outputs to say which one tagged them.
    pub version: String,
    /// The event tags.
    pub tags: Vec<TagSpec>,
}

/// One event tag.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TagSpec {
    /// Stable snake_case identifier, e.g. `diplomatic_visit`.
    pub id: String,
    /// Short English label.
    pub label: String,
    /// What counts and what does not, in one or two sentences.
    pub description: String,
    /// Example English news sentences.
    pub examples: Vec<String>,
    /// CAMEO root code, two digits from `01` to `20`.
    pub cameo: String,
    /// PLOVER event type; `None` where PLOVER has none (public statements, elections).
    pub plover: Option<String>,
    /// The PLOVER modes of `plover` that this tag labels; empty = any mode of the type.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub modes: Vec<String>,
    /// Coding note: why these codes, where the codes and the tag differ.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Why a taxonomy could not be loaded; every variant names the file.
#[derive(Debug, Error)]
pub enum TaxonomyError {
    /// The file is missing or unreadable.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The taxonomy file.
        path: PathBuf,
        /// The I/O failure.
        source: std::io::Error,
    },
    /// The file is not JSON of the taxonomy's shape.
    #[error("{path} is not a valid taxonomy: {source}")]
    Parse {
        /// The taxonomy file.
        path: PathBuf,
        /// The parse failure.
        source: serde_json::Error,
    },
    /// The file parses but breaks a rule (duplicate id, bad CAMEO code, too few tags…).
    #[error("{path}: {reason}")]
    Invalid {
        /// The taxonomy file.
        path: PathBuf,
        /// The rule broken.
        reason: String,
    },
}

impl Taxonomy {
    /// Reads and validates a taxonomy file.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, TaxonomyError> {
        let path = path.as_ref();
        let json = std::fs::read_to_string(path).map_err(|source| TaxonomyError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_json(&json, path)
    }

    /// The taxonomy committed as `models/taxonomy.json`, compiled into the binary.
    pub fn builtin() -> Self {
        Self::from_json(BUILTIN_JSON, Path::new(BUILTIN_PATH))
            .expect("the built-in models/taxonomy.json is checked by the unit tests; this is a bug")
    }

    /// Parses and validates taxonomy JSON; `path` is only used in error messages.
    fn from_json(json: &str, path: &Path) -> Result<Self, TaxonomyError> {
        let taxonomy: Taxonomy =
            serde_json::from_str(json).map_err(|source| TaxonomyError::Parse {
                path: path.to_path_buf(),
                source,
            })?;
        taxonomy
            .validate()
            .map_err(|reason| TaxonomyError::Invalid {
                path: path.to_path_buf(),
                reason,
            })?;
        Ok(taxonomy)
    }

    /// The tag with this id.
    pub fn tag(&self, id: &str) -> Option<&TagSpec> {
        self.tags.iter().find(|tag| tag.id == id)
    }

    /// Checks the rules: a version, 15 to 30 tags, unique snake_case ids, non-empty labels,
    /// descriptions and examples, CAMEO root codes `01`–`20`, known PLOVER types, and cue lists
    /// that are non-empty and do not share a phrase.
    fn validate(&self) -> Result<(), String> {
        if self.version.trim().is_empty() {
            return Err("the version is empty".to_string());
        }
        if !(MIN_TAGS..=MAX_TAGS).contains(&self.tags.len()) {
            return Err(format!(
                "{} tags; a taxonomy has {MIN_TAGS} to {MAX_TAGS}",
                self.tags.len()
            ));
        }
        let mut ids = HashSet::new();
        for tag in &self.tags {
            let id = &tag.id;
            if !is_snake_case(id) {
                return Err(format!("tag id {id:?} is not snake_case"));
            }
            if !ids.insert(id.as_str()) {
                return Err(format!("tag id {id:?} is used twice"));
            }
            if tag.label.trim().is_empty() {
                return Err(format!("tag {id:?} has an empty label"));
            }
            if tag.description.trim().is_empty() {
                return Err(format!("tag {id:?} has an empty description"));
            }
            if tag.examples.is_empty() {
                return Err(format!("tag {id:?} has no examples"));
            }
            if tag.examples.iter().any(|e| e.trim().is_empty()) {
                return Err(format!("tag {id:?} has an empty example"));
            }
            let cameo = &tag.cameo;
            let root = match cameo.as_bytes() {
                [a, b] if a.is_ascii_digit() && b.is_ascii_digit() => (a - b'0') * 10 + (b - b'0'),
                _ => 0,
            };
            if !(1..=20).contains(&root) {
                return Err(format!(
                    "tag {id:?} has CAMEO code {cameo:?}; a CAMEO root code is two digits from 01 to 20"
                ));
            }
            if let Some(plover) = &tag.plover {
                if !PLOVER_TYPES.contains(&plover.as_str()) {
                    return Err(format!(
                        "tag {id:?} has PLOVER type {plover:?}, which is none of {}",
                        PLOVER_TYPES.join(", ")
                    ));
                }
            }
        }
        Ok(())
    }
}

/// `id` is lower-case ASCII words joined by single underscores.
fn is_snake_case(id: &str) -> bool {
    id.split('_').all(|word| {
        !word.is_empty()
            && word
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    }) && id.starts_with(|c: char| c.is_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_taxonomy_validates() {
        let taxonomy = Taxonomy::builtin();
        assert!(
            (20..=MAX_TAGS).contains(&taxonomy.tags.len()),
            "{}",
            taxonomy.tags.len()
        );
        for id in [
            "diplomatic_visit",
            "agreement_signed",
            "official_statement",
            "military_cooperation",
            "military_mobilisation",
            "armed_conflict",
            "terrorist_attack",
            "counter_terrorism",
            "protest_unrest",
            "sanctions",
            "diplomatic_rupture",
            "threat",
            "arrest_trial",
            "humanitarian_aid",
            "trade_energy_deal",
            "election_political_change",
            "pledge_cooperation",
            "concession",
            "appeal_demand",
            "rejection",
            "cyberattack",
            "refugees_migration",
            "peace_talks",
            "ceasefire",
            "arms_sale",
        ] {
            assert!(taxonomy.tag(id).is_some(), "missing tag {id}");
        }
        for tag in &taxonomy.tags {
            assert!((4..=6).contains(&tag.examples.len()), "{}", tag.id);
        }
        assert_eq!(taxonomy.tag("threat").map(|t| t.cameo.as_str()), Some("13"));
        assert_eq!(
            taxonomy
                .tag("official_statement")
                .and_then(|t| t.plover.clone()),
            None
        );
    }

    #[test]
    fn validation_names_the_problem() {
        let base = Taxonomy::builtin();
        let check = |change: &dyn Fn(&mut Taxonomy), expected: &str| {
            let mut taxonomy = base.clone();
            change(&mut taxonomy);
            let reason = taxonomy.validate().expect_err(expected);
            assert!(reason.contains(expected), "{reason:?} lacks {expected:?}");
        };
        check(&|t| t.tags[1].id = t.tags[0].id.clone(), "used twice");
        check(&|t| t.tags[0].examples.clear(), "no examples");
        check(&|t| t.tags[0].cameo = "21".into(), "CAMEO code \"21\"");
        check(&|t| t.tags[0].cameo = "4".into(), "CAMEO code \"4\"");
        check(&|t| t.tags[0].cameo = "00".into(), "CAMEO code \"00\"");
        check(&|t| t.tags[0].cameo = "1a".into(), "CAMEO code \"1a\"");
        check(
            &|t| t.tags[0].plover = Some("FIGHT".into()),
            "PLOVER type \"FIGHT\"",
        );
        check(
            &|t| t.tags[0].id = "Diplomatic-Visit".into(),
            "not snake_case",
        );
        check(&|t| t.tags.truncate(10), "10 tags");
        check(
            &|t| {
                let extra = t.tags[0].clone();
                while t.tags.len() <= MAX_TAGS {
                    let mut tag = extra.clone();
                    tag.id = format!("extra_{}", t.tags.len());
                    t.tags.push(tag);
                }
            },
            "31 tags",
        );
        check(&|t| t.version = " ".into(), "version");
    }

    #[test]
    fn load_reports_the_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        let err = Taxonomy::load(dir.path().join("missing.json")).expect_err("missing");
        assert!(matches!(err, TaxonomyError::Io { .. }));
        assert!(err.to_string().contains("missing.json"), "{err}");

        let path = dir.path().join("taxonomy.json");
        let mut taxonomy = Taxonomy::builtin();
        taxonomy.tags[2].cameo = "42".into();
        let json = serde_json::to_string_pretty(&taxonomy).expect("serializable");
        std::fs::write(&path, json).expect("write");
        let err = Taxonomy::load(&path).expect_err("invalid");
        assert!(matches!(err, TaxonomyError::Invalid { .. }));
        let message = err.to_string();
        assert!(
            message.contains("taxonomy.json") && message.contains("\"42\""),
            "{message}"
        );

        std::fs::write(&path, "{\"version\": \"x\", \"tags\": []}").expect("write");
        let err = Taxonomy::load(&path).expect_err("no tags");
        assert!(matches!(err, TaxonomyError::Invalid { .. }), "{err}");
        std::fs::write(&path, "{\"version\": \"x\"}").expect("write");
        let err = Taxonomy::load(&path).expect_err("no tags field");
        assert!(matches!(err, TaxonomyError::Parse { .. }), "{err}");

        std::fs::write(&path, BUILTIN_JSON).expect("write");
        assert_eq!(Taxonomy::load(&path).expect("loads"), Taxonomy::builtin());
    }
}
