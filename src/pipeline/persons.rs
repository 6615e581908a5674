//! People named in English news text, found without a NER model by the conventions of wire copy:
//! a name follows a title (« Defence Minister Sébastien Lecornu », « President Tebboune », « the
//! interior minister, Laurent Nuñez ») or is the subject of a reporting verb (« Jean-Yves Le Drian
//! said »). Once a full name is known, later mentions of its last word (« Lecornu ») count as the
//! same person. This is the fallback that always works; a NER model, where configured, finds
//! more (see [`crate::pipeline::entities`]).

use std::ops::Range;

/// Words that introduce a person's name (compared in lower case, trailing `.` removed).
const TITLES: &[&str] = &[
    "president",
    "vice-president",
    "minister",
    "premier",
    "chancellor",
    "secretary",
    "secretary-general",
    "king",
    "queen",
    "prince",
    "princess",
    "emir",
    "sheikh",
    "pope",
    "general",
    "gen",
    "lieutenant",
    "colonel",
    "col",
    "admiral",
    "commander",
    "marshal",
    "mr",
    "mrs",
    "ms",
    "dr",
    "senator",
    "sen",
    "governor",
    "mayor",
    "ambassador",
    "envoy",
    "spokesman",
    "spokeswoman",
    "spokesperson",
    "commissioner",
    "director",
    "leader",
    "counterpart",
    "judge",
    "prosecutor",
    "lawmaker",
    "chairman",
    "chairwoman",
    "ceo",
    "m",
    "mme",
];

/// Words that may stand between a title and the name, or before the title (« Foreign Minister »,
/// « Minister of the Armed Forces », « Chief of Staff »), compared in lower case.
const QUALIFIERS: &[&str] = &[
    "foreign",
    "defence",
    "defense",
    "interior",
    "home",
    "finance",
    "economy",
    "justice",
    "health",
    "armed",
    "forces",
    "affairs",
    "state",
    "prime",
    "vice",
    "deputy",
    "acting",
    "former",
    "chief",
    "staff",
    "army",
    "navy",
    "air",
    "force",
    "european",
    "of",
    "the",
    "for",
    "and",
    "to",
    "his",
    "her",
    "their",
    "its",
    "new",
    "incoming",
    "outgoing",
    "opposition",
    "trade",
    "energy",
    "security",
    "national",
    "general",
    "federal",
    "military",
    "police",
    "public",
    "ministry",
    "government",
    "transport",
    "agriculture",
    "education",
    "culture",
    "labour",
    "labor",
    "industry",
    "environment",
    "veterans",
];

/// Verbs that follow a speaker's name.
const REPORTING_VERBS: &[&str] = &[
    "said",
    "says",
    "told",
    "added",
    "announced",
    "stated",
    "declared",
    "warned",
    "insisted",
    "explained",
    "wrote",
    "tweeted",
];

/// Lower-case words allowed inside a name (« Jean-Yves Le Drian », « Ursula von der Leyen »).
const PARTICLES: &[&str] = &[
    "de", "du", "des", "la", "le", "van", "von", "der", "den", "da", "di", "al", "bin", "ben",
    "ibn", "el", "dos", "do", "y",
];

/// Capitalised words that are never part of a name.
const NOT_NAMES: &[&str] = &[
    "the",
    "a",
    "an",
    "this",
    "that",
    "these",
    "those",
    "it",
    "he",
    "she",
    "they",
    "we",
    "i",
    "in",
    "on",
    "at",
    "after",
    "before",
    "but",
    "and",
    "or",
    "as",
    "for",
    "from",
    "with",
    "by",
    "his",
    "her",
    "their",
    "its",
    "our",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
    "ministry",
    "government",
    "parliament",
    "army",
    "police",
    "council",
    "court",
    "office",
    "agency",
    "committee",
    "according",
    "meanwhile",
    "however",
    "also",
    "there",
    "here",
    "when",
    "while",
    "if",
    "no",
    "not",
    "all",
    "both",
    "some",
    "several",
    "many",
    "other",
    "another",
    "mr",
    "mrs",
    "ms",
    // Public bodies and groups: « Civil Protection said » names no person.
    "protection",
    "service",
    "services",
    "department",
    "authority",
    "authorities",
    "forces",
    "force",
    "union",
    "party",
    "front",
    "movement",
    "guard",
    "commission",
    "bank",
    "company",
    "group",
    "association",
    "federation",
    "institute",
    "university",
    "hospital",
    "prefecture",
    "directorate",
    "command",
    "brigade",
    "mission",
    "embassy",
    "organisation",
    "organization",
    "alliance",
    "coalition",
    "cross",
    "crescent",
    "network",
    "secretariat",
    "tribunal",
    "assembly",
    "senate",
    "cabinet",
    "presidency",
    "gendarmerie",
];

/// Infixes of French place names (« Saint-Aurèle-sur-Durance », « Villeneuve-lès-Avignon »):
/// a word that has one is a place, never part of a person's name.
const PLACE_INFIXES: &[&str] = &["-sur-", "-sous-", "-lès-", "-les-", "-en-", "-aux-"];

/// A person mention: where it is and the full name it refers to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonMention {
    /// Byte range of the mention in the text.
    pub span: Range<usize>,
    /// The fullest form of the name found in the text (« Sébastien Lecornu » for « Lecornu »).
    pub canonical: String,
}

#[derive(Debug, Clone)]
struct Token<'a> {
    text: &'a str,
    span: Range<usize>,
    /// Only whitespace between the previous token and this one.
    joined: bool,
    /// The token is followed directly by a comma.
    comma_after: bool,
}

/// Adds the word at `range` (without a possessive « ’s » or edge hyphens and apostrophes).
fn push_word<'a>(out: &mut Vec<Token<'a>>, text: &'a str, range: Range<usize>, joined: bool) {
    let word = &text[range.clone()];
    let trimmed = word
        .strip_suffix("'s")
        .or_else(|| word.strip_suffix("’s"))
        .unwrap_or(word)
        .trim_matches(|c| c == '-' || c == '\'' || c == '’');
    if trimmed.is_empty() {
        return;
    }
    let begin = range.start + word.find(trimmed).unwrap_or(0);
    out.push(Token {
        text: &text[begin..begin + trimmed.len()],
        span: begin..begin + trimmed.len(),
        joined,
        comma_after: false,
    });
}

fn tokens(text: &str) -> Vec<Token<'_>> {
    let mut out: Vec<Token<'_>> = Vec::new();
    let mut start: Option<usize> = None;
    let mut gap_is_space = true;
    let is_word_char = |c: char| c.is_alphanumeric() || c == '-' || c == '\'' || c == '’';
    for (i, c) in text.char_indices() {
        if is_word_char(c) {
            if start.is_none() {
                start = Some(i);
            }
            continue;
        }
        if let Some(s) = start.take() {
            let joined = gap_is_space && !out.is_empty();
            push_word(&mut out, text, s..i, joined);
            gap_is_space = true;
        }
        if c == ',' {
            if let Some(last) = out.last_mut() {
                last.comma_after = true;
            }
        }
        if !c.is_whitespace() {
            gap_is_space = false;
        }
    }
    if let Some(s) = start {
        let joined = gap_is_space && !out.is_empty();
        push_word(&mut out, text, s..text.len(), joined);
    }
    // A `.` right after a title abbreviation (« Mr. », « Gen. ») does not break the phrase.
    for i in 1..out.len() {
        let prev = &out[i - 1];
        let between = &text[prev.span.end..out[i].span.start];
        if between.trim() == "." && is_in(TITLES, prev.text) {
            out[i].joined = true;
        }
    }
    out
}

fn lower(word: &str) -> String {
    word.trim_end_matches('.').to_lowercase()
}

fn is_in(list: &[&str], word: &str) -> bool {
    let w = lower(word);
    list.contains(&w.as_str())
}

fn is_capitalised(word: &str) -> bool {
    let first = word.chars().next();
    if first.is_some_and(char::is_uppercase) {
        return word.chars().any(char::is_lowercase) || word.chars().count() > 1;
    }
    // « al-Sisi », « el-Materi »
    word.split_once('-')
        .is_some_and(|(head, tail)| is_in(PARTICLES, head) && is_capitalised(tail))
}

fn is_name_word(token: &Token<'_>, blocked: &dyn Fn(&Range<usize>) -> bool) -> bool {
    let lowered = lower(token.text);
    is_capitalised(token.text)
        && !PLACE_INFIXES.iter().any(|infix| lowered.contains(infix))
        && !is_in(TITLES, token.text)
        && !is_in(QUALIFIERS, token.text)
        && !is_in(NOT_NAMES, token.text)
        && !token
            .text
            .chars()
            .all(|c| c.is_uppercase() || !c.is_alphabetic())
        && !blocked(&token.span)
}

/// The name that starts at token `i`: up to four name words joined by spaces, with particles
/// inside. Returns the index past its last token.
fn name_at(
    tokens: &[Token<'_>],
    i: usize,
    blocked: &dyn Fn(&Range<usize>) -> bool,
) -> Option<usize> {
    if !is_name_word(&tokens[i], blocked) {
        return None;
    }
    let mut end = i + 1;
    let mut words = 1;
    let mut j = i + 1;
    while j < tokens.len() && words < 4 && tokens[j].joined && !tokens[j - 1].comma_after {
        if is_name_word(&tokens[j], blocked) {
            words += 1;
            j += 1;
            end = j;
        } else if PARTICLES.contains(&tokens[j].text) {
            j += 1;
        } else {
            break;
        }
    }
    Some(end)
}

/// Finds people in `text`. `blocked` byte ranges (e.g. gazetteer mentions of countries and
/// organisations) are never part of a name.
pub fn find_persons(text: &str, blocked: &[Range<usize>]) -> Vec<PersonMention> {
    let tokens = tokens(text);
    let is_blocked = |span: &Range<usize>| {
        blocked
            .iter()
            .any(|b| b.start < span.end && span.start < b.end)
    };
    let mut found: Vec<Range<usize>> = Vec::new(); // token ranges
    let mut i = 0;
    while i < tokens.len() {
        // Title rule: a title, then qualifiers / blocked words (at most five), maybe a comma, then a name.
        if is_in(TITLES, tokens[i].text) {
            let mut j = i + 1;
            let mut skipped = 0;
            let mut comma = tokens[i].comma_after;
            while j < tokens.len() && skipped < 5 && (tokens[j].joined || comma) {
                let t = &tokens[j];
                let skippable =
                    is_in(QUALIFIERS, t.text) || is_in(TITLES, t.text) || is_blocked(&t.span);
                if !skippable {
                    break;
                }
                comma = t.comma_after;
                skipped += 1;
                j += 1;
            }
            if j < tokens.len() && (tokens[j].joined || comma) {
                if let Some(end) = name_at(&tokens, j, &is_blocked) {
                    found.push(j..end);
                    i = end;
                    continue;
                }
            }
            i += 1;
            continue;
        }
        // Reporting rule: a name of two words or more right before « said », « told »…
        if let Some(end) = name_at(&tokens, i, &is_blocked) {
            let words = tokens[i..end]
                .iter()
                .filter(|t| !PARTICLES.contains(&t.text))
                .count();
            let verb_follows = end < tokens.len()
                && tokens[end].joined
                && !tokens[end - 1].comma_after
                && REPORTING_VERBS.contains(&tokens[end].text);
            if words >= 2 && verb_follows {
                found.push(i..end);
            }
            i = end;
            continue;
        }
        i += 1;
    }

    // Canonical names: the longest found form that ends with the same last word.
    let name_of =
        |r: &Range<usize>| text[tokens[r.start].span.start..tokens[r.end - 1].span.end].to_string();
    let last_word = |r: &Range<usize>| tokens[r.end - 1].text.to_string();
    let mut full_names: Vec<(String, String)> = Vec::new(); // (last word, full name)
    for r in &found {
        let (last, name) = (last_word(r), name_of(r));
        match full_names.iter_mut().find(|(l, _)| *l == last) {
            Some(entry) if name.len() > entry.1.len() => entry.1 = name,
            Some(_) => {}
            None => full_names.push((last, name)),
        }
    }
    let mut mentions: Vec<PersonMention> = found
        .iter()
        .map(|r| PersonMention {
            span: tokens[r.start].span.start..tokens[r.end - 1].span.end,
            canonical: full_names
                .iter()
                .find(|(l, _)| *l == last_word(r))
                .map(|(_, n)| n.clone())
                .unwrap_or_else(|| name_of(r)),
        })
        .collect();
    // Later bare surnames of a multi-word name.
    for token in &tokens {
        let Some((_, full)) = full_names
            .iter()
            .find(|(last, full)| last == token.text && full.contains(' '))
        else {
            continue;
        };
        let inside = mentions
            .iter()
            .any(|m| m.span.start <= token.span.start && token.span.end <= m.span.end);
        if !inside && !is_blocked(&token.span) {
            mentions.push(PersonMention {
                span: token.span.clone(),
                canonical: full.clone(),
            });
        }
    }
    mentions.sort_by_key(|m| m.span.start);
    mentions
}

/// `sentence` with the names of people removed (found by [`crate::pipeline::persons`]): names
/// say nothing about the kind of event and pull embeddings towards unrelated sentences.
pub fn mask_persons(sentence: &str) -> String {
    let persons = find_persons(sentence, &[]);
    if persons.is_empty() {
        return sentence.to_string();
    }
    let mut out = String::with_capacity(sentence.len());
    let mut at = 0;
    for person in persons {
        out.push_str(&sentence[at..person.span.start]);
        at = person.span.end;
    }
    out.push_str(&sentence[at..]);
    // Tidy what the removal leaves: doubled spaces, « , , », a space before punctuation.
    let mut tidy = out.split_whitespace().collect::<Vec<_>>().join(" ");
    for (from, to) in [
        (" ,", ","),
        (",,", ","),
        (" .", "."),
        ("’s", ""),
        ("'s", ""),
    ] {
        tidy = tidy.replace(from, to);
    }
    tidy
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(text: &str) -> Vec<(String, String)> {
        find_persons(text, &[])
            .into_iter()
            .map(|m| (text[m.span].to_string(), m.canonical))
            .collect()
    }

    fn pair(a: &str, b: &str) -> (String, String) {
        (a.to_string(), b.to_string())
    }

    #[test]
    fn names_after_titles() {
        assert_eq!(
            names("Defence Minister Sébastien Lecornu will travel to Rabat."),
            vec![pair("Sébastien Lecornu", "Sébastien Lecornu")]
        );
        assert_eq!(
            names("The interior minister, Laurent Nuñez, said the threat was high."),
            vec![pair("Laurent Nuñez", "Laurent Nuñez")]
        );
        assert_eq!(
            names("Minister of the Armed Forces Catherine Vautrin met troops."),
            vec![pair("Catherine Vautrin", "Catherine Vautrin")]
        );
        assert_eq!(
            names("Gen. Thierry Burkhard inspected the base."),
            vec![pair("Thierry Burkhard", "Thierry Burkhard")]
        );
    }

    #[test]
    fn blocked_words_are_skipped_between_title_and_name() {
        let text = "French President Emmanuel Macron met Algerian President Abdelmadjid Tebboune.";
        let french = text.find("French").map(|s| s..s + 6).into_iter();
        let algerian = text.find("Algerian").map(|s| s..s + 8).into_iter();
        let blocked: Vec<Range<usize>> = french.chain(algerian).collect();
        let found: Vec<String> = find_persons(text, &blocked)
            .into_iter()
            .map(|m| text[m.span].to_string())
            .collect();
        assert_eq!(found, vec!["Emmanuel Macron", "Abdelmadjid Tebboune"]);
    }

    #[test]
    fn public_bodies_and_villages_are_not_people() {
        // Regression: « Civil Protection » and an invented village came out as people.
        assert!(names("Civil Protection said 40 houses were flooded.").is_empty());
        assert!(names("The Interior Ministry said the border was closed.").is_empty());
        assert!(names("Saint-Aurèle-sur-Durance Mayor said the road was cut.").is_empty());
        assert!(names("Residents of Saint-Aurèle-sur-Durance told reporters.").is_empty());
        // Full names are kept whole.
        assert_eq!(
            names("Camille Reymond said the vote would be held."),
            vec![pair("Camille Reymond", "Camille Reymond")]
        );
    }

    #[test]
    fn speakers_before_reporting_verbs_and_particles() {
        assert_eq!(
            names("Jean-Yves Le Drian said talks would resume."),
            vec![pair("Jean-Yves Le Drian", "Jean-Yves Le Drian")]
        );
        assert_eq!(
            names("Commission chief Ursula von der Leyen told reporters."),
            vec![pair("Ursula von der Leyen", "Ursula von der Leyen")]
        );
    }

    #[test]
    fn later_surnames_count_as_the_same_person() {
        let text = "President Emmanuel Macron arrived on Monday. Macron's visit lasts two days; Macron will speak.";
        let found = names(text);
        assert_eq!(found.len(), 3, "{found:?}");
        assert!(
            found.iter().all(|(_, c)| c == "Emmanuel Macron"),
            "{found:?}"
        );
    }

    #[test]
    fn no_person_without_a_cue() {
        assert!(names("The Ministry said on Monday that talks would resume.").is_empty());
        assert!(names("Heavy Rain Hits The North.").is_empty());
        assert!(names("Paris and Berlin said they agreed.").is_empty());
        assert!(names("").is_empty());
        assert!(names("1 200 000 345,5").is_empty());
    }
}
