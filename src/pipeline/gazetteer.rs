//! Entities that work without a NER model: the countries (the 193 UN member states plus Kosovo,
//! Palestine, Taiwan and the Vatican) with their French names, demonyms, capitals and a few cities
//! and regions often in the news, and the main international organisations, found in English or
//! French text by longest match on word boundaries. The data is `models/gazetteer.json`, after the
//! UN list of member states and the French short names of the UN Terminology Database (UNTERM);
//! canonical English names are those of wire copy (Turkey, Vietnam, Czech Republic).
//!
//! Matching rules: all-capital names of at most five letters (`US`, `UE`, `OTAN`, `G7`) and the
//! names a record lists under `exact` match case-sensitively, every other name case-insensitively;
//! ’ and ' are the same character and any run of whitespace matches one space, so « l’OTAN » and
//! « d’Iran » are found after the elided article; the `ignore` phrases are matched and dropped so
//! that a name inside them (America in « Latin America ») is not reported.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// The committed gazetteer, compiled into the binary.
const BUILTIN_JSON: &str = include_str!("../../models/gazetteer.json");
/// Where the committed gazetteer lives in the repository (for error messages).
const BUILTIN_PATH: &str = "models/gazetteer.json";
/// All-capital names with at most this many letters are matched case-sensitively.
const ACRONYM_MAX_LETTERS: usize = 5;

/// What kind of thing an entity is, in the usual NER labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum EntityType {
    /// A geopolitical entity: a country, a capital, another city or a region.
    #[serde(rename = "GPE")]
    Gpe,
    /// An organisation.
    #[serde(rename = "ORG")]
    Org,
    /// A person (from a NER model or the title rule of [`crate::pipeline::persons`]).
    #[serde(rename = "PERSON")]
    Person,
    /// A location that is not a known country, city or region (NER `LOC`).
    #[serde(rename = "LOC")]
    Loc,
    /// Anything else a NER model names (NER `MISC`: events, nationalities, works).
    #[serde(rename = "MISC")]
    Misc,
}

impl EntityType {
    /// The label as written in NER output (`GPE`, `ORG`, `PERSON`, `LOC`, `MISC`).
    pub fn as_str(self) -> &'static str {
        match self {
            EntityType::Gpe => "GPE",
            EntityType::Org => "ORG",
            EntityType::Person => "PERSON",
            EntityType::Loc => "LOC",
            EntityType::Misc => "MISC",
        }
    }
}

/// One place in a text where a known entity is named.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EntityMention {
    /// The entity's canonical English name, e.g. `United States` for « américains ».
    pub canonical: String,
    /// What the entity is.
    #[serde(rename = "type")]
    pub kind: EntityType,
    /// Byte offset of the mention in the searched text.
    pub start: usize,
    /// Byte offset just past the mention (`&text[start..end]` is the mention).
    pub end: usize,
    /// The mention as written in the text.
    pub text: String,
}

/// An entity with the number of times a text mentions it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entity {
    /// The entity's canonical English name.
    pub text: String,
    /// What the entity is.
    #[serde(rename = "type")]
    pub kind: EntityType,
    /// How many mentions it has.
    pub mentions: usize,
}

/// Why a gazetteer could not be loaded; every variant names the file.
#[derive(Debug, Error)]
pub enum GazetteerError {
    /// The file is missing or unreadable.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The gazetteer file.
        path: PathBuf,
        /// The I/O failure.
        source: std::io::Error,
    },
    /// The file is not JSON of the gazetteer's shape.
    #[error("{path} is not a valid gazetteer: {source}")]
    Parse {
        /// The gazetteer file.
        path: PathBuf,
        /// The parse failure.
        source: serde_json::Error,
    },
    /// The file parses but its content is unusable (an empty name, a name given to two entities…).
    #[error("{path}: {reason}")]
    Invalid {
        /// The gazetteer file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
}

/// `models/gazetteer.json` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GazetteerFile {
    version: String,
    /// Free text for the reader of the file.
    #[serde(default, rename = "notes")]
    _notes: IgnoredAny,
    countries: Vec<CountryRecord>,
    organisations: Vec<NameRecord>,
    #[serde(default)]
    ignore: Vec<String>,
}

/// A country with its capital and other places.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CountryRecord {
    name: String,
    #[serde(default)]
    fr: Option<String>,
    #[serde(default)]
    aliases: Vec<String>,
    #[serde(default)]
    exact: Vec<String>,
    #[serde(default)]
    capital: Option<NameRecord>,
    #[serde(default)]
    places: Vec<NameRecord>,
}

/// A city, region or organisation.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NameRecord {
    name: String,
    #[serde(default)]
    fr: Option<String>,
    #[serde(default)]
    aliases: Vec<String>,
    #[serde(default)]
    exact: Vec<String>,
}

/// Known entities and a trie of their names, ready to search texts.
#[derive(Debug, Clone)]
pub struct Gazetteer {
    version: String,
    /// Canonical name and type of each entity; trie ends point into this list.
    entities: Vec<(String, EntityType)>,
    /// The trie over case-folded names; node 0 is the root.
    nodes: Vec<Node>,
}

/// A trie node: children by folded character (sorted) and the names that end here.
#[derive(Debug, Clone, Default)]
struct Node {
    next: Vec<(char, usize)>,
    ends: Vec<NameEnd>,
}

/// A name ending at a trie node.
#[derive(Debug, Clone)]
struct NameEnd {
    /// The entity named, or `None` for an ignored phrase.
    entity: Option<usize>,
    /// For a case-sensitive name, its characters as written (after apostrophe and space folding).
    cased: Option<Vec<char>>,
}

/// One character of a searched text (or a run of whitespace), folded for matching.
#[derive(Debug, Clone, Copy)]
struct Unit {
    /// Lower-cased, apostrophes and hyphens unified, whitespace as one space.
    folded: char,
    /// As `folded` but keeping the case.
    cased: char,
    /// Byte range in the text.
    start: usize,
    end: usize,
}

impl Gazetteer {
    /// Reads and checks a gazetteer file.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, GazetteerError> {
        let path = path.as_ref();
        let json = std::fs::read_to_string(path).map_err(|source| GazetteerError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_json(&json, path)
    }

    /// The gazetteer committed as `models/gazetteer.json`, compiled into the binary. It is parsed
    /// on each call: build it once and share it.
    pub fn builtin() -> Self {
        Self::from_json(BUILTIN_JSON, Path::new(BUILTIN_PATH)).expect(
            "the built-in models/gazetteer.json is checked by the unit tests; this is a bug",
        )
    }

    /// Parses gazetteer JSON; `path` is only used in error messages.
    fn from_json(json: &str, path: &Path) -> Result<Self, GazetteerError> {
        let file: GazetteerFile =
            serde_json::from_str(json).map_err(|source| GazetteerError::Parse {
                path: path.to_path_buf(),
                source,
            })?;
        let invalid = |reason| GazetteerError::Invalid {
            path: path.to_path_buf(),
            reason,
        };
        let mut builder = Builder::new(file.version);
        for country in &file.countries {
            builder
                .add_entity(
                    &country.name,
                    EntityType::Gpe,
                    country.fr.iter().chain(&country.aliases),
                    &country.exact,
                )
                .map_err(invalid)?;
            for place in country.capital.iter().chain(&country.places) {
                builder
                    .add_entity(
                        &place.name,
                        EntityType::Gpe,
                        place.fr.iter().chain(&place.aliases),
                        &place.exact,
                    )
                    .map_err(invalid)?;
            }
        }
        for org in &file.organisations {
            builder
                .add_entity(
                    &org.name,
                    EntityType::Org,
                    org.fr.iter().chain(&org.aliases),
                    &org.exact,
                )
                .map_err(invalid)?;
        }
        for phrase in &file.ignore {
            builder.add_name(phrase, None, false).map_err(invalid)?;
        }
        builder.finish().map_err(invalid)
    }

    /// The `version` field of the file.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// Number of entities (countries, cities, regions and organisations).
    pub fn len(&self) -> usize {
        self.entities.len()
    }

    /// True when the gazetteer knows no entity.
    pub fn is_empty(&self) -> bool {
        self.entities.is_empty()
    }

    /// Every mention of a known entity in `text`, in order: at each word start the longest name
    /// that ends on a word boundary wins, and matches never overlap.
    pub fn find(&self, text: &str) -> Vec<EntityMention> {
        let units = fold(text);
        let mut mentions = Vec::new();
        let mut i = 0;
        while i < units.len() {
            if !starts_word(&units, i) {
                i += 1;
                continue;
            }
            let Some((end, entity)) = self.longest_at(&units, i) else {
                i += 1;
                continue;
            };
            if let Some(entity) = entity {
                let (canonical, kind) = &self.entities[entity];
                let (start, stop) = (units[i].start, units[end - 1].end);
                mentions.push(EntityMention {
                    canonical: canonical.clone(),
                    kind: *kind,
                    start,
                    end: stop,
                    text: text[start..stop].to_string(),
                });
            }
            i = end;
        }
        mentions
    }

    /// The longest name starting at unit `i` and ending on a word boundary: its end (exclusive)
    /// and the entity it names (`None` for an ignored phrase).
    fn longest_at(&self, units: &[Unit], i: usize) -> Option<(usize, Option<usize>)> {
        let mut node = 0;
        let mut best = None;
        for j in i..units.len() {
            let Some(next) = self.child(node, units[j].folded) else {
                break;
            };
            node = next;
            let ends = &self.nodes[node].ends;
            if ends.is_empty() || !ends_word(units, j + 1) {
                continue;
            }
            // Case-sensitive names come first, so an exact match wins over a folded one.
            let matched = ends.iter().find(|end| match &end.cased {
                None => true,
                Some(cased) => units[i..=j]
                    .iter()
                    .map(|u| u.cased)
                    .eq(cased.iter().copied()),
            });
            if let Some(end) = matched {
                best = Some((j + 1, end.entity));
            }
        }
        best
    }

    fn child(&self, node: usize, c: char) -> Option<usize> {
        let next = &self.nodes[node].next;
        next.binary_search_by_key(&c, |&(k, _)| k)
            .ok()
            .map(|at| next[at].1)
    }
}

/// Counts mentions per entity; the most mentioned first, ties by name.
pub fn aggregate(mentions: &[EntityMention]) -> Vec<Entity> {
    let mut counts: HashMap<(&str, EntityType), usize> = HashMap::new();
    for mention in mentions {
        *counts
            .entry((mention.canonical.as_str(), mention.kind))
            .or_default() += 1;
    }
    let mut entities: Vec<Entity> = counts
        .into_iter()
        .map(|((text, kind), mentions)| Entity {
            text: text.to_string(),
            kind,
            mentions,
        })
        .collect();
    entities.sort_by(|a, b| {
        b.mentions
            .cmp(&a.mentions)
            .then_with(|| a.text.cmp(&b.text))
            .then_with(|| a.kind.cmp(&b.kind))
    });
    entities
}

/// Builds the trie, refusing a name given to two different entities.
struct Builder {
    gazetteer: Gazetteer,
    /// Owner of each case-insensitive name, by folded form (`None` = the ignore list).
    folded_owner: HashMap<Vec<char>, Option<usize>>,
    /// Owner of each case-sensitive name, by cased form.
    exact_owner: HashMap<Vec<char>, Option<usize>>,
    /// Canonical names seen, which must be unique.
    canonical: HashMap<String, usize>,
}

impl Builder {
    fn new(version: String) -> Self {
        Self {
            gazetteer: Gazetteer {
                version,
                entities: Vec::new(),
                nodes: vec![Node::default()],
            },
            folded_owner: HashMap::new(),
            exact_owner: HashMap::new(),
            canonical: HashMap::new(),
        }
    }

    /// Adds an entity under its canonical name, its other names and its case-sensitive names.
    fn add_entity<'a>(
        &mut self,
        canonical: &str,
        kind: EntityType,
        names: impl Iterator<Item = &'a String>,
        exact: &[String],
    ) -> Result<(), String> {
        let canonical = canonical.trim();
        let id = self.gazetteer.entities.len();
        if let Some(&other) = self.canonical.get(canonical) {
            let (_, other_kind) = self.gazetteer.entities[other];
            return Err(format!(
                "two entities are called {canonical:?} ({} and {})",
                other_kind.as_str(),
                kind.as_str()
            ));
        }
        self.canonical.insert(canonical.to_string(), id);
        self.gazetteer.entities.push((canonical.to_string(), kind));
        for name in exact {
            self.add_name(name, Some(id), true)?;
        }
        // A name also listed under `exact` is only matched case-sensitively.
        let listed_exact = |name: &str| exact.iter().any(|e| e.trim() == name.trim());
        if !listed_exact(canonical) {
            self.add_name(canonical, Some(id), false)?;
        }
        for name in names {
            if !listed_exact(name) {
                self.add_name(name, Some(id), false)?;
            }
        }
        Ok(())
    }

    /// Adds one name (or, with `entity` `None`, an ignored phrase) to the trie.
    fn add_name(&mut self, name: &str, entity: Option<usize>, exact: bool) -> Result<(), String> {
        let units = fold(name);
        let units = trim_spaces(&units);
        let owner = self.describe(entity);
        let Some(first) = units.first() else {
            return Err(format!("{owner} has an empty name"));
        };
        if !first.cased.is_alphanumeric() {
            return Err(format!(
                "the name {name:?} of {owner} must start with a letter or a digit"
            ));
        }
        let folded: Vec<char> = units.iter().map(|u| u.folded).collect();
        let cased: Vec<char> = units.iter().map(|u| u.cased).collect();
        let exact = exact || is_acronym(&cased);
        let (owners, key) = if exact {
            (&mut self.exact_owner, cased.clone())
        } else {
            (&mut self.folded_owner, folded.clone())
        };
        match owners.get(&key).copied() {
            Some(previous) if previous == entity => return Ok(()),
            Some(previous) => {
                let previous = self.describe(previous);
                return Err(format!("{name:?} is a name of both {previous} and {owner}"));
            }
            None => {
                owners.insert(key, entity);
            }
        }
        let mut node = 0;
        for c in folded {
            node = match self.gazetteer.child(node, c) {
                Some(next) => next,
                None => {
                    let next = self.gazetteer.nodes.len();
                    self.gazetteer.nodes.push(Node::default());
                    let children = &mut self.gazetteer.nodes[node].next;
                    let at = children.partition_point(|&(k, _)| k < c);
                    children.insert(at, (c, next));
                    next
                }
            };
        }
        let ends = &mut self.gazetteer.nodes[node].ends;
        let end = NameEnd {
            entity,
            cased: exact.then_some(cased),
        };
        if exact {
            ends.insert(0, end);
        } else {
            ends.push(end);
        }
        Ok(())
    }

    fn finish(self) -> Result<Gazetteer, String> {
        if self.gazetteer.entities.is_empty() {
            return Err("no countries and no organisations".to_string());
        }
        Ok(self.gazetteer)
    }

    fn describe(&self, entity: Option<usize>) -> String {
        match entity {
            Some(id) => format!("{:?}", self.gazetteer.entities[id].0),
            None => "the ignore list".to_string(),
        }
    }
}

/// All-capital names of at most [`ACRONYM_MAX_LETTERS`] letters and no space (`US`, `U.S.`, `G7`).
fn is_acronym(cased: &[char]) -> bool {
    let letters = cased.iter().filter(|c| c.is_alphabetic()).count();
    (1..=ACRONYM_MAX_LETTERS).contains(&letters)
        && !cased.contains(&' ')
        && !cased.iter().any(|c| c.is_lowercase())
}

/// Splits a text into matching units: one per character, one per run of whitespace.
fn fold(text: &str) -> Vec<Unit> {
    let mut units: Vec<Unit> = Vec::with_capacity(text.len());
    for (start, c) in text.char_indices() {
        let end = start + c.len_utf8();
        if c.is_whitespace() {
            match units.last_mut() {
                Some(last) if last.cased == ' ' => last.end = end,
                _ => units.push(Unit {
                    folded: ' ',
                    cased: ' ',
                    start,
                    end,
                }),
            }
            continue;
        }
        let cased = unify(c);
        units.push(Unit {
            folded: lower(cased),
            cased,
            start,
            end,
        });
    }
    units
}

/// Typographic apostrophes become `'` and non-breaking hyphens `-`.
fn unify(c: char) -> char {
    match c {
        '\u{2019}' | '\u{2018}' | '\u{02BC}' | '\u{00B4}' | '\u{2032}' | '\u{FF07}' => '\'',
        '\u{2010}' | '\u{2011}' => '-',
        _ => c,
    }
}

/// The lower case of a character when it is a single character (so units stay one per char).
fn lower(c: char) -> char {
    let mut lower = c.to_lowercase();
    match (lower.next(), lower.next()) {
        (Some(l), None) => l,
        _ => c,
    }
}

fn trim_spaces(units: &[Unit]) -> &[Unit] {
    let start = units
        .iter()
        .position(|u| u.cased != ' ')
        .unwrap_or(units.len());
    let end = units
        .iter()
        .rposition(|u| u.cased != ' ')
        .map_or(start, |e| e + 1);
    &units[start..end]
}

/// A word starts at `i`: a letter or digit not preceded by one.
fn starts_word(units: &[Unit], i: usize) -> bool {
    units[i].cased.is_alphanumeric() && (i == 0 || !units[i - 1].cased.is_alphanumeric())
}

/// A word may end before `j`: at the end of the text or before a character that is not a letter
/// or digit (space, punctuation, apostrophe, hyphen).
fn ends_word(units: &[Unit], j: usize) -> bool {
    j == units.len() || !units[j].cased.is_alphanumeric()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gazetteer() -> Gazetteer {
        Gazetteer::builtin()
    }

    /// Canonical names of the mentions, checking that every span is the mention's text.
    fn names(text: &str) -> Vec<String> {
        let mentions = gazetteer().find(text);
        for m in &mentions {
            assert_eq!(&text[m.start..m.end], m.text, "{m:?}");
        }
        mentions.into_iter().map(|m| m.canonical).collect()
    }

    #[test]
    fn builtin_gazetteer_loads_every_country_and_organisation() {
        let gazetteer = gazetteer();
        assert!(!gazetteer.version().is_empty());
        // 197 countries, their capitals and places, and the organisations.
        assert!(gazetteer.len() > 400, "{}", gazetteer.len());
        let file: GazetteerFile = serde_json::from_str(BUILTIN_JSON).expect("valid JSON");
        assert_eq!(file.countries.len(), 197);
        for name in [
            "Kosovo",
            "Taiwan",
            "Palestine",
            "Vatican",
            "South Sudan",
            "Tuvalu",
        ] {
            assert_eq!(names(name), [name]);
        }
        assert!(BUILTIN_JSON.len() < 150_000);
    }

    #[test]
    fn short_acronyms_match_only_in_capitals() {
        assert_eq!(
            names("US officials said the talks would let us move forward."),
            ["United States"]
        );
        assert_eq!(
            names("U.S. and UK envoys met in Geneva."),
            ["United States", "United Kingdom", "Geneva"]
        );
        assert_eq!(names("La position de l'UE est claire."), ["European Union"]);
        assert!(names("une ue et un au").is_empty());
        assert_eq!(
            names("L'UA et l'ONU ont salué l'accord."),
            ["African Union", "United Nations"]
        );
        // Longer names are case-insensitive, headlines included.
        assert_eq!(names("FRANCE AND GERMANY"), ["France", "Germany"]);
        assert_eq!(names("Unesco, UNESCO"), ["UNESCO", "UNESCO"]);
    }

    #[test]
    fn french_elisions_and_curly_apostrophes() {
        let text = "Le chef de l’OTAN s’est rendu en Ukraine avant l'arrivée d’experts d’Iran et de Côte d’Ivoire.";
        let mentions = gazetteer().find(text);
        let found: Vec<(&str, &str)> = mentions
            .iter()
            .map(|m| (m.canonical.as_str(), m.text.as_str()))
            .collect();
        assert_eq!(
            found,
            [
                ("NATO", "OTAN"),
                ("Ukraine", "Ukraine"),
                ("Iran", "Iran"),
                ("Côte d'Ivoire", "Côte d’Ivoire"),
            ]
        );
        let otan = &mentions[0];
        assert_eq!(&text[otan.start..otan.end], "OTAN");
        assert_eq!(otan.kind, EntityType::Org);
        assert_eq!(
            names("Iran's nuclear programme and Iran’s neighbours"),
            ["Iran", "Iran"]
        );
    }

    #[test]
    fn demonyms_in_both_languages() {
        assert_eq!(
            names("Les forces françaises et américaines ont quitté la base malienne."),
            ["France", "United States", "Mali"]
        );
        assert_eq!(
            names("British and Chinese diplomats met Ukrainian officials."),
            ["United Kingdom", "China", "Ukraine"]
        );
        assert_eq!(names("Polish troops; a polish on the table."), ["Poland"]);
    }

    #[test]
    fn turkey_and_turkiye_are_one_country() {
        let mentions = gazetteer().find("Turkey and Türkiye; la Turquie; a roast turkey.");
        let entities = aggregate(&mentions);
        assert_eq!(
            entities,
            [Entity {
                text: "Turkey".into(),
                kind: EntityType::Gpe,
                mentions: 3
            }]
        );
    }

    #[test]
    fn longest_match_wins() {
        assert_eq!(
            names("New Zealand and the Danish island of Zealand"),
            ["New Zealand", "Denmark"]
        );
        assert_eq!(
            names("Guinea-Bissau, Equatorial Guinea, Guinée équatoriale and Guinea"),
            [
                "Guinea-Bissau",
                "Equatorial Guinea",
                "Equatorial Guinea",
                "Guinea"
            ]
        );
        assert_eq!(names("South Sudan and Sudan"), ["South Sudan", "Sudan"]);
        assert_eq!(names("Le Soudan du Sud"), ["South Sudan"]);
        assert_eq!(
            names("The UN Security Council and the UN"),
            ["UN Security Council", "United Nations"]
        );
    }

    #[test]
    fn niger_is_not_nigeria() {
        assert_eq!(
            names("Niger and Nigeria: Nigerien and Nigerian troops"),
            ["Niger", "Nigeria", "Niger", "Nigeria"]
        );
        assert_eq!(
            names("Le Niger et le Nigeria : soldats nigériens et nigérians"),
            ["Niger", "Nigeria", "Niger", "Nigeria"]
        );
    }

    #[test]
    fn the_two_congos() {
        let drc = "Democratic Republic of the Congo";
        let roc = "Republic of the Congo";
        assert_eq!(names("Congo"), [roc]);
        assert_eq!(names("Congo-Brazzaville"), [roc]);
        assert_eq!(names("the Democratic Republic of the Congo"), [drc]);
        assert_eq!(names("DR Congo and the RDC"), [drc, drc]);
        assert_eq!(
            names("la République démocratique du Congo et la République du Congo"),
            [drc, roc]
        );
        assert_eq!(
            names("Kinshasa et Brazzaville"),
            ["Kinshasa", "Brazzaville"]
        );
    }

    #[test]
    fn ignored_phrases_hide_the_names_inside() {
        assert!(names("Latin American leaders in the South China Sea").is_empty());
        assert_eq!(
            names("Les dirigeants latino-américains et américains"),
            ["United States"]
        );
        assert_eq!(names("Air France flew to Paris"), ["Paris"]);
    }

    #[test]
    fn organisations_in_english_and_french() {
        assert_eq!(
            names("The IMF and the World Bank"),
            ["International Monetary Fund", "World Bank"]
        );
        assert_eq!(
            names("le FMI, la Banque mondiale et la CPI"),
            [
                "International Monetary Fund",
                "World Bank",
                "International Criminal Court"
            ]
        );
        assert_eq!(
            names("the WHO said; who said"),
            ["World Health Organization"]
        );
        assert_eq!(
            names("La CEDEAO et l'Union africaine"),
            ["ECOWAS", "African Union"]
        );
    }

    #[test]
    fn whitespace_runs_and_no_break_spaces() {
        let text = "New\u{a0}Zealand and Saudi  Arabia\nand Burkina\nFaso";
        assert_eq!(names(text), ["New Zealand", "Saudi Arabia", "Burkina Faso"]);
    }

    #[test]
    fn aggregate_sorts_by_mentions_then_name() {
        let mentions = gazetteer().find("Mali, Niger, France, Mali, Niger, Mali, OTAN");
        let entities = aggregate(&mentions);
        let summary: Vec<(&str, usize)> = entities
            .iter()
            .map(|e| (e.text.as_str(), e.mentions))
            .collect();
        assert_eq!(
            summary,
            [("Mali", 3), ("Niger", 2), ("France", 1), ("NATO", 1)]
        );
        assert!(aggregate(&[]).is_empty());
        let json = serde_json::to_value(&entities[3]).expect("serializable");
        assert_eq!(
            json,
            serde_json::json!({"text": "NATO", "type": "ORG", "mentions": 1})
        );
    }

    #[test]
    fn empty_and_unmatched_texts() {
        assert!(names("").is_empty());
        assert!(names("   ").is_empty());
        assert!(names("Nothing to see here, no countries at all.").is_empty());
    }

    #[test]
    fn load_reports_the_file_and_the_problem() {
        let dir = tempfile::tempdir().expect("temp dir");
        let missing = dir.path().join("missing.json");
        let err = Gazetteer::load(&missing).expect_err("missing file");
        assert!(matches!(err, GazetteerError::Io { .. }));
        assert!(err.to_string().contains("missing.json"), "{err}");

        let bad = dir.path().join("bad.json");
        std::fs::write(&bad, "{\"version\": 1}").expect("write");
        let err = Gazetteer::load(&bad).expect_err("bad shape");
        assert!(matches!(err, GazetteerError::Parse { .. }));
        assert!(err.to_string().contains("bad.json"), "{err}");

        let ambiguous = dir.path().join("ambiguous.json");
        std::fs::write(
            &ambiguous,
            r#"{"version": "t", "countries": [
                {"name": "Niger", "aliases": ["Sahel"]},
                {"name": "Mali", "aliases": ["sahel"]}
            ], "organisations": []}"#,
        )
        .expect("write");
        let err = Gazetteer::load(&ambiguous).expect_err("ambiguous name");
        let message = err.to_string();
        assert!(message.contains("ambiguous.json"), "{message}");
        assert!(
            message.contains("\"Niger\"") && message.contains("\"Mali\""),
            "{message}"
        );

        let good = dir.path().join("good.json");
        std::fs::write(
            &good,
            r#"{"version": "t", "countries": [{"name": "Chad", "fr": "Tchad"}],
                "organisations": [{"name": "African Union", "aliases": ["AU"]}]}"#,
        )
        .expect("write");
        let gazetteer = Gazetteer::load(&good).expect("loads");
        assert_eq!(gazetteer.len(), 2);
        let found: Vec<_> = gazetteer
            .find("Le Tchad et l'AU, au Tchad")
            .into_iter()
            .map(|m| m.canonical)
            .collect();
        assert_eq!(found, ["Chad", "African Union", "Chad"]);
    }
}
