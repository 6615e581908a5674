//! French (and the common English) abbreviations, initials and acronyms that a period does not end a sentence after.

/// How an abbreviation followed by a period behaves at a potential sentence boundary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Abbrev {
    /// Never ends a sentence ("M.", "cf.", "J.-C.", "U.S.A.").
    Always,
    /// Does not end a sentence when a number follows ("p. 12", "art. 49", "3 sept. 2024").
    BeforeNumber,
}

/// Titles, compared case-sensitively ("Me" is Maître, "St" is Saint).
const TITLES: &[&str] = &[
    "M", "MM", "Mme", "Mmes", "Mlle", "Mlles", "Dr", "Drs", "Pr", "Prs", "Me", "Mgr", "St", "Ste",
    "Sts", "Stes", "Cie", "Gal", "Gén", "Col", "Cdt", "Lt", "Jr", "Mr", "Mrs", "Ms", "Messrs",
    "Gen", "Sen", "Gov", "Capt", "Sgt", "Prof", "Rev",
];

/// Abbreviations compared in lower case that never end a sentence.
const ALWAYS_LOWER: &[&str] = &[
    "al", "cf", "av", "apr", "bd", "boul", "coll", "dir", "éd", "éds", "env", "ex", "hab", "ibid",
    "op", "cit", "réf", "sq", "suiv", "tél", "trad", "vs",
];

/// Abbreviations compared in lower case that do not end a sentence before a number.
const BEFORE_NUMBER_LOWER: &[&str] = &[
    "art", "p", "pp", "n", "no", "n°", "nº", "t", "vol", "chap", "fig", "janv", "févr", "fév",
    "avr", "juil", "sept", "oct", "nov", "déc",
];

/// Classifies the word written just before a period (leading brackets or quotes allowed).
///
/// Returns `None` when the period may end a sentence after this word.
pub(crate) fn classify(token: &str) -> Option<Abbrev> {
    let token = token.trim_start_matches(|c: char| {
        matches!(
            c,
            '(' | '[' | '{' | '«' | '"' | '“' | '‘' | '‹' | '\'' | '—' | '–'
        ) || c.is_whitespace()
    });
    let (word, elided) = match token.rfind(['\'', '’']) {
        Some(pos) => (&token[pos..], true),
        None => (token, false),
    };
    let word = word.trim_start_matches(['\'', '’']);
    let mut chars = word.chars();
    let first = chars.next()?;
    if chars.next().is_none() && first.is_uppercase() {
        return Some(Abbrev::Always);
    }
    if is_initials(word) {
        return Some(Abbrev::Always);
    }
    let lower = word.to_lowercase();
    if elided {
        // "l’art. 49.3" is a reference, but "l’art." alone is the noun; titles are never elided.
        return BEFORE_NUMBER_LOWER
            .contains(&lower.as_str())
            .then_some(Abbrev::BeforeNumber);
    }
    if TITLES.contains(&word) {
        return Some(Abbrev::Always);
    }
    if ALWAYS_LOWER.contains(&lower.as_str()) {
        Some(Abbrev::Always)
    } else if BEFORE_NUMBER_LOWER.contains(&lower.as_str()) {
        Some(Abbrev::BeforeNumber)
    } else {
        None
    }
}

/// Whether `word` is dotted initials or an acronym such as "J.-C", "J.-M" or "U.S.A".
fn is_initials(word: &str) -> bool {
    if !word.contains('.') {
        return false;
    }
    word.split('.').all(|part| {
        let part = part.trim_start_matches('-');
        let len = part.chars().count();
        (1..=2).contains(&len) && part.chars().all(char::is_alphabetic)
    })
}

/// Whether `rest` starts with a number: digits or an upper-case Roman numeral ("IV").
pub(crate) fn starts_with_number(rest: &str) -> bool {
    let rest = rest.trim_start();
    if rest.starts_with(|c: char| c.is_numeric()) {
        return true;
    }
    let numeral_len = rest
        .find(|c: char| !matches!(c, 'I' | 'V' | 'X' | 'L' | 'C' | 'D' | 'M'))
        .unwrap_or(rest.len());
    numeral_len > 0
        && !rest[numeral_len..].starts_with(|c: char| c.is_alphanumeric() || c == '\'' || c == '’')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_are_case_sensitive() {
        assert_eq!(classify("M"), Some(Abbrev::Always));
        assert_eq!(classify("Mme"), Some(Abbrev::Always));
        assert_eq!(classify("Mgr"), Some(Abbrev::Always));
        assert_eq!(classify("Me"), Some(Abbrev::Always));
        assert_eq!(classify("me"), None);
    }

    #[test]
    fn lower_case_lists_ignore_case() {
        assert_eq!(classify("cf"), Some(Abbrev::Always));
        assert_eq!(classify("Cf"), Some(Abbrev::Always));
        assert_eq!(classify("(cf"), Some(Abbrev::Always));
        assert_eq!(classify("art"), Some(Abbrev::BeforeNumber));
        assert_eq!(classify("Sept"), Some(Abbrev::BeforeNumber));
        assert_eq!(classify("n°"), Some(Abbrev::BeforeNumber));
    }

    #[test]
    fn initials_and_acronyms() {
        assert_eq!(classify("J"), Some(Abbrev::Always));
        assert_eq!(classify("J.-C"), Some(Abbrev::Always));
        assert_eq!(classify("J.-M"), Some(Abbrev::Always));
        assert_eq!(classify("U.S.A"), Some(Abbrev::Always));
        assert_eq!(classify("O.N.U"), Some(Abbrev::Always));
        assert_eq!(classify("www.example.fr"), None);
        assert_eq!(classify("49.3"), None);
    }

    #[test]
    fn elided_words() {
        assert_eq!(classify("l'art"), Some(Abbrev::BeforeNumber));
        assert_eq!(classify("d’ex"), None);
        assert_eq!(classify("l’Me"), None);
        assert_eq!(classify("l'O.N.U"), Some(Abbrev::Always));
    }

    #[test]
    fn ordinary_words_are_not_abbreviations() {
        assert_eq!(classify("Berlin"), None);
        assert_eq!(classify("a"), None);
        assert_eq!(classify("etc"), None);
        assert_eq!(classify(""), None);
        assert_eq!(classify("(AFP)"), None);
    }

    #[test]
    fn numbers_and_roman_numerals() {
        assert!(starts_with_number(" 12 et suivantes"));
        assert!(starts_with_number("IV, p. 3"));
        assert!(starts_with_number("XII"));
        assert!(!starts_with_number("Il est parti"));
        assert!(!starts_with_number("C'est"));
        assert!(!starts_with_number("Le"));
        assert!(!starts_with_number(""));
    }
}
