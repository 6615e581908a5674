//! Splitting a sentence that is too long for the model into pieces that fit a token budget.
//!
//! Cuts are tried from the most to the least natural: clause punctuation (`;`, `:`, `?`, `!`,
//! `…`, spaced dashes), then commas, then before conjunctions and relative pronouns, then
//! between words, and as a last resort between characters. At each level neighbouring parts are
//! packed greedily so that pieces stay as large as the budget allows.

/// Cutting strategies, from the most to the least natural.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Level {
    /// After `;`, `:`, `?`, `!`, `…` followed by a space, and before a spaced dash.
    Clause,
    /// After a comma followed by a space.
    Comma,
    /// Before a conjunction or relative pronoun ("mais", "et", "parce que", "qui"…).
    Conjunction,
    /// Between words.
    Word,
    /// Between characters.
    Char,
}

/// The levels in the order they are tried.
const LEVELS: [Level; 5] = [
    Level::Clause,
    Level::Comma,
    Level::Conjunction,
    Level::Word,
    Level::Char,
];

/// Words before which a too-long clause may be cut (compared in lower case).
const CONJUNCTIONS: &[&str] = &[
    "mais", "et", "car", "donc", "or", "ou", "ni", "puis", "qui", "que", "dont", "où", "lorsque",
    "puisque", "quand", "tandis",
];

/// Elided conjunctions ("qu’il", "lorsqu'elle"), compared in lower case without the apostrophe.
const ELIDED_CONJUNCTIONS: &[&str] = &["qu", "lorsqu", "puisqu"];

/// Words that form a locution with a following "que"/"qui" ("parce que", "ce qui"): the cut goes
/// before them.
const LOCUTION_LEADERS: &[&str] = &[
    "parce", "alors", "tandis", "bien", "afin", "pour", "ainsi", "dès", "avant", "après", "sans",
    "pendant", "depuis", "tant", "ce", "celui", "celle", "ceux", "celles",
];

/// Splits `sentence` into trimmed pieces of at most `max_tokens` tokens each, as measured by
/// `count_tokens`; the pieces joined by spaces give back the sentence up to whitespace (except
/// where a single word had to be cut between characters).
///
/// A single character that alone exceeds the budget is returned as its own piece.
#[must_use]
pub fn split_to_budget(
    sentence: &str,
    max_tokens: usize,
    count_tokens: &dyn Fn(&str) -> usize,
) -> Vec<String> {
    let mut pieces = Vec::new();
    let splitter = Splitter {
        max_tokens,
        count_tokens,
    };
    splitter.split(sentence, 0, &mut pieces);
    pieces
}

/// The budget and token counter shared by the recursive splitting.
struct Splitter<'a> {
    /// Largest allowed token count of a piece.
    max_tokens: usize,
    /// The model's token counter.
    count_tokens: &'a dyn Fn(&str) -> usize,
}

impl Splitter<'_> {
    /// Whether trimmed `text` fits the budget.
    fn fits(&self, text: &str) -> bool {
        (self.count_tokens)(text) <= self.max_tokens
    }

    /// Appends to `out` the pieces of `text`, cutting at `LEVELS[level]` or finer if needed.
    fn split(&self, text: &str, level: usize, out: &mut Vec<String>) {
        let text = text.trim();
        if text.is_empty() {
            return;
        }
        if self.fits(text) {
            out.push(text.to_string());
            return;
        }
        let Some(&kind) = LEVELS.get(level) else {
            out.push(text.to_string());
            return;
        };
        let units = units(text, kind);
        if units.len() <= 1 {
            self.split(text, level + 1, out);
            return;
        }
        let greedy = self.greedy_groups(text, &units);
        let groups = if kind == Level::Word {
            self.balanced_groups(text, &units, greedy.len())
                .unwrap_or(greedy)
        } else {
            greedy
        };
        for group in groups {
            match group {
                Group::Fits { first, last } => {
                    let piece = span(text, &units, first, last);
                    if !piece.is_empty() {
                        out.push(piece.to_string());
                    }
                }
                // This unit alone is too long: cut it more finely.
                Group::TooLong(i) => self.split(span(text, &units, i, i), level + 1, out),
            }
        }
    }

    /// Packs `units` greedily from the left into groups that fit, as large as possible.
    fn greedy_groups(&self, text: &str, units: &[(usize, usize)]) -> Vec<Group> {
        let mut groups = Vec::new();
        let mut i = 0;
        while i < units.len() {
            if let Some(j) = largest_fitting(i, units.len(), |j| self.fits(span(text, units, i, j)))
            {
                groups.push(Group::Fits { first: i, last: j });
                i = j + 1;
            } else {
                groups.push(Group::TooLong(i));
                i += 1;
            }
        }
        groups
    }

    /// Splits `units` into `count` groups of about equal length, if every group fits; this
    /// avoids a last piece of one or two orphan words.
    fn balanced_groups(
        &self,
        text: &str,
        units: &[(usize, usize)],
        count: usize,
    ) -> Option<Vec<Group>> {
        if count < 2 || count > units.len() {
            return None;
        }
        let mut cumulative = Vec::with_capacity(units.len() + 1);
        cumulative.push(0usize);
        let mut total = 0;
        for &(start, end) in units {
            total += text.get(start..end).map_or(0, |unit| unit.chars().count());
            cumulative.push(total);
        }
        let mut groups = Vec::with_capacity(count);
        let mut first = 0;
        for g in 1..count {
            let target = total * g / count;
            // Leave at least one unit for each remaining group.
            let max_end = units.len() - (count - g);
            let mut end = first + 1;
            while end < max_end && cumulative.get(end + 1).is_some_and(|&c| c <= target) {
                end += 1;
            }
            if end < max_end {
                let under = target.saturating_sub(cumulative.get(end).copied().unwrap_or(0));
                let over = cumulative
                    .get(end + 1)
                    .copied()
                    .unwrap_or(0)
                    .saturating_sub(target);
                if over < under {
                    end += 1;
                }
            }
            groups.push(Group::Fits {
                first,
                last: end - 1,
            });
            first = end;
        }
        groups.push(Group::Fits {
            first,
            last: units.len() - 1,
        });
        let all_fit = groups.iter().all(|group| match *group {
            Group::Fits { first, last } => self.fits(span(text, units, first, last)),
            Group::TooLong(_) => false,
        });
        all_fit.then_some(groups)
    }
}

/// A run of consecutive units that become one piece, or one unit too long on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Group {
    /// Units `first..=last` fit the budget together.
    Fits {
        /// Index of the first unit.
        first: usize,
        /// Index of the last unit (inclusive).
        last: usize,
    },
    /// This unit does not fit the budget alone.
    TooLong(usize),
}

/// The trimmed text of units `first..=last`; empty if the indices are out of range.
fn span<'t>(text: &'t str, units: &[(usize, usize)], first: usize, last: usize) -> &'t str {
    match (units.get(first), units.get(last)) {
        (Some(&(start, _)), Some(&(_, end))) => text.get(start..end).map_or("", str::trim),
        _ => "",
    }
}

/// The largest `j` in `lo..hi` such that `fits(j)`, assuming `fits` is (roughly) monotone;
/// `None` if `fits(lo)` is false. Uses galloping then binary search to limit calls.
fn largest_fitting(lo: usize, hi: usize, fits: impl Fn(usize) -> bool) -> Option<usize> {
    if lo >= hi || !fits(lo) {
        return None;
    }
    let mut good = lo;
    let mut step = 1;
    let mut bad = loop {
        let probe = good.saturating_add(step);
        if probe >= hi {
            break hi;
        }
        if fits(probe) {
            good = probe;
            step = step.saturating_mul(2);
        } else {
            break probe;
        }
    };
    while bad - good > 1 {
        let mid = good + (bad - good) / 2;
        if fits(mid) {
            good = mid;
        } else {
            bad = mid;
        }
    }
    Some(good)
}

/// Consecutive byte ranges covering `text`, cut where `level` allows.
fn units(text: &str, level: Level) -> Vec<(usize, usize)> {
    let cuts = match level {
        Level::Clause => punctuation_cuts(text, &[';', ':', '?', '!', '…'], true),
        Level::Comma => punctuation_cuts(text, &[','], false),
        Level::Conjunction => conjunction_cuts(text),
        Level::Word => words(text)
            .iter()
            .skip(1)
            .map(|&(start, _)| start)
            .collect(),
        Level::Char => text.char_indices().skip(1).map(|(b, _)| b).collect(),
    };
    let mut bounds: Vec<usize> = cuts
        .into_iter()
        .filter(|&b| b > 0 && b < text.len())
        .collect();
    bounds.sort_unstable();
    bounds.dedup();
    let mut units = Vec::with_capacity(bounds.len() + 1);
    let mut start = 0;
    for b in bounds {
        units.push((start, b));
        start = b;
    }
    units.push((start, text.len()));
    units
}

/// Cuts after any of `marks` followed by whitespace, and before spaced dashes if `dashes`.
fn punctuation_cuts(text: &str, marks: &[char], dashes: bool) -> Vec<usize> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let is_space = |i: usize| chars.get(i).is_some_and(|&(_, c)| c.is_whitespace());
    let mut cuts = Vec::new();
    for (i, &(b, c)) in chars.iter().enumerate() {
        if marks.contains(&c) && is_space(i + 1) {
            cuts.push(b + c.len_utf8());
        } else if dashes
            && matches!(c, '—' | '–' | '―' | '-')
            && i > 0
            && is_space(i - 1)
            && is_space(i + 1)
        {
            cuts.push(b);
        }
    }
    cuts
}

/// Byte ranges of the whitespace-separated words of `text`.
fn words(text: &str) -> Vec<(usize, usize)> {
    let mut words = Vec::new();
    let mut start = None;
    for (b, c) in text.char_indices() {
        match (c.is_whitespace(), start) {
            (true, Some(s)) => {
                words.push((s, b));
                start = None;
            }
            (false, None) => start = Some(b),
            _ => {}
        }
    }
    if let Some(s) = start {
        words.push((s, text.len()));
    }
    words
}

/// Cuts before conjunctions, or before the first word of locutions such as "parce que".
fn conjunction_cuts(text: &str) -> Vec<usize> {
    let words = words(text);
    let lowered: Vec<String> = words
        .iter()
        .map(|&(s, e)| {
            text[s..e]
                .trim_matches(|c: char| !c.is_alphanumeric() && c != '\'' && c != '’')
                .to_lowercase()
        })
        .collect();
    let mut cuts = Vec::new();
    for (i, word) in lowered.iter().enumerate().skip(1) {
        let elided = word
            .split_once(['\'', '’'])
            .is_some_and(|(head, _)| ELIDED_CONJUNCTIONS.contains(&head));
        if !elided && !CONJUNCTIONS.contains(&word.as_str()) {
            continue;
        }
        let takes_leader = elided || word == "que" || word == "qui";
        let cut_word = if takes_leader && LOCUTION_LEADERS.contains(&lowered[i - 1].as_str()) {
            // "parce que" at the very start of the text: nothing to cut.
            if i == 1 {
                continue;
            }
            i - 1
        } else {
            i
        };
        if let Some(&(start, _)) = words.get(cut_word) {
            cuts.push(start);
        }
    }
    cuts
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::samples::{fuzz_strings, normalize_ws, SAMPLE_ARTICLES};
    use crate::text::split_sentences;

    fn words_count(text: &str) -> usize {
        text.split_whitespace().count()
    }

    fn chars_count(text: &str) -> usize {
        text.chars().count()
    }

    /// A token counter, as passed to `split_to_budget`.
    type Counter<'a> = &'a dyn Fn(&str) -> usize;

    fn no_ws(text: &str) -> String {
        text.chars().filter(|c| !c.is_whitespace()).collect()
    }

    fn split_words(text: &str, max: usize) -> Vec<String> {
        split_to_budget(text, max, &words_count)
    }

    #[test]
    fn fitting_sentence_is_returned_whole() {
        let s = "Le Sénat a adopté le texte.";
        assert_eq!(split_words(s, 10), [s]);
        assert_eq!(split_words("  Espacé.  ", 10), ["Espacé."]);
        assert!(split_words("", 10).is_empty());
        assert!(split_words(" \t ", 10).is_empty());
    }

    #[test]
    fn clause_punctuation_comes_first() {
        let s = "Le gouvernement, fragilisé, a tenu bon ; l’opposition, elle, a dénoncé un passage en force.";
        assert_eq!(
            split_words(s, 8),
            [
                "Le gouvernement, fragilisé, a tenu bon ;",
                "l’opposition, elle, a dénoncé un passage en force.",
            ]
        );
        assert_eq!(
            split_words(
                "Le ministre a été clair : aucune hausse d’impôts ne sera décidée.",
                6
            ),
            [
                "Le ministre a été clair :",
                "aucune hausse d’impôts ne sera décidée."
            ]
        );
    }

    #[test]
    fn spaced_dashes_open_a_piece() {
        assert_eq!(
            split_words(
                "Le président — très attendu sur ce dossier — a finalement renoncé.",
                6
            ),
            [
                "Le président",
                "— très attendu sur ce dossier",
                "— a finalement renoncé."
            ]
        );
        assert_eq!(
            split_words("Un jeune-homme de vingt-deux ans est arrivé hier soir.", 8),
            ["Un jeune-homme de vingt-deux", "ans est arrivé hier soir."]
        );
    }

    #[test]
    fn commas_before_conjunctions() {
        let s = "Après des semaines de négociations, les partenaires sociaux ont trouvé un accord mais la CGT refuse de signer.";
        assert_eq!(
            split_words(s, 13),
            [
                "Après des semaines de négociations,",
                "les partenaires sociaux ont trouvé un accord mais la CGT refuse de signer.",
            ]
        );
    }

    #[test]
    fn conjunctions_when_needed() {
        let s = "Les députés ont rejeté la motion de censure mais la colère des syndicats ne retombe pas car la réforme reste impopulaire.";
        assert_eq!(
            split_words(s, 9),
            [
                "Les députés ont rejeté la motion de censure",
                "mais la colère des syndicats ne retombe pas",
                "car la réforme reste impopulaire.",
            ]
        );
    }

    #[test]
    fn locutions_stay_together() {
        let s = "Le projet a été reporté parce que les financements manquent toujours cette année.";
        assert_eq!(
            split_words(s, 8),
            [
                "Le projet a été reporté",
                "parce que les financements manquent toujours cette année.",
            ]
        );
        let s = "Les enquêteurs savent désormais qu’il était présent sur les lieux ce soir-là.";
        assert_eq!(
            split_words(s, 8),
            [
                "Les enquêteurs savent désormais",
                "qu’il était présent sur les lieux ce soir-là.",
            ]
        );
    }

    #[test]
    fn word_fallback_balances_pieces() {
        let s = "un deux trois quatre cinq six sept huit neuf dix onze";
        assert_eq!(
            split_words(s, 4),
            [
                "un deux trois",
                "quatre cinq six sept",
                "huit neuf dix onze"
            ]
        );
    }

    #[test]
    fn long_word_is_cut_by_chars() {
        assert_eq!(
            split_to_budget("anticonstitutionnellement", 10, &chars_count),
            ["anticonsti", "tutionnell", "ement"]
        );
        assert_eq!(
            split_to_budget(
                "Le mot anticonstitutionnellement est long.",
                10,
                &chars_count
            ),
            ["Le mot", "anticonsti", "tutionnell", "ement", "est long."]
        );
        assert_eq!(
            split_to_budget("ééé🙂中中", 2, &chars_count),
            ["éé", "é🙂", "中中"]
        );
    }

    #[test]
    fn impossible_budgets_terminate() {
        assert_eq!(
            split_to_budget("Oui, non.", 0, &chars_count),
            ["O", "u", "i", ",", "n", "o", "n", "."]
        );
        // A counter with per-call overhead (like special tokens) never fits one character.
        let overhead = |text: &str| text.chars().count() + 2;
        assert_eq!(split_to_budget("Été", 1, &overhead), ["É", "t", "é"]);
        assert_eq!(split_words("Un deux", 0), ["U", "n", "d", "e", "u", "x"]);
    }

    #[test]
    fn largest_fitting_gallops_and_bisects() {
        assert_eq!(largest_fitting(0, 10, |j| j <= 6), Some(6));
        assert_eq!(largest_fitting(3, 10, |j| j <= 100), Some(9));
        assert_eq!(largest_fitting(3, 10, |j| j < 3), None);
        assert_eq!(largest_fitting(5, 5, |_| true), None);
        assert_eq!(largest_fitting(2, 3, |_| true), Some(2));
    }

    #[test]
    fn pieces_fit_and_reconstruct_on_samples() {
        let sentences: Vec<String> = SAMPLE_ARTICLES
            .iter()
            .flat_map(|article| article.lines())
            .flat_map(split_sentences)
            .collect();
        let counters: [(&str, Counter); 2] = [("words", &words_count), ("chars", &chars_count)];
        for sentence in &sentences {
            for (name, count) in counters {
                for max in [1, 2, 3, 5, 8, 13, 40] {
                    let pieces = split_to_budget(sentence, max, count);
                    for piece in &pieces {
                        assert!(
                            count(piece) <= max,
                            "{name} budget {max}: piece {piece:?} too long in {sentence:?}"
                        );
                        assert_eq!(piece.trim(), piece);
                        assert!(!piece.is_empty());
                    }
                    assert_eq!(
                        no_ws(&pieces.concat()),
                        no_ws(sentence),
                        "{name} budget {max}: text changed in {sentence:?}"
                    );
                    if name == "words" {
                        // Words are never cut under a word budget, so whitespace is preserved.
                        assert_eq!(normalize_ws(&pieces.join(" ")), normalize_ws(sentence));
                    }
                }
            }
        }
    }

    #[test]
    fn fuzz_never_panics_and_keeps_text() {
        for text in fuzz_strings(1000, 80) {
            for max in [0, 1, 4, 17] {
                for count in [&words_count as Counter, &chars_count] {
                    let pieces = split_to_budget(&text, max, count);
                    assert_eq!(
                        no_ws(&pieces.concat()),
                        no_ws(&text),
                        "text changed in {text:?}"
                    );
                    if max > 0 {
                        assert!(
                            pieces.iter().all(|p| count(p) <= max),
                            "{text:?} over {max}"
                        );
                    }
                }
            }
        }
    }
}
