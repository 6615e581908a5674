//! French sentence segmentation for news paragraphs.
//!
//! A sentence ends with `.`, `!`, `?`, `…` or `...` (any run of these, such as `?!`), plus any
//! closing quotes or brackets right after it, when whitespace and then an upper-case letter, a
//! digit, an opening quote or a dialogue dash follow. A period after an abbreviation, an
//! initial or a dotted acronym does not end a sentence (see the `abbrev` module).

use super::abbrev::{self, Abbrev};

/// Whether `c` can end a sentence.
fn is_terminal(c: char) -> bool {
    matches!(c, '.' | '!' | '?' | '…' | '‼' | '⁇' | '⁈' | '⁉')
}

/// Closing quotes or brackets that belong to the sentence when right after its terminal.
fn is_adjacent_closer(c: char) -> bool {
    matches!(c, ')' | ']' | '}' | '»' | '›' | '”' | '’' | '"' | '\'')
}

/// Closing quotes or brackets that belong to the sentence even after a space (« Oui. »).
fn is_spaced_closer(c: char) -> bool {
    matches!(c, ')' | ']' | '»' | '›' | '”')
}

/// Opening quotes that may start a sentence.
fn is_opening_quote(c: char) -> bool {
    matches!(c, '«' | '"' | '“' | '‘' | '‹' | '„' | '\'')
}

/// Dashes that may introduce a new line of dialogue.
fn is_dash(c: char) -> bool {
    matches!(c, '—' | '–' | '―' | '-')
}

/// Splits a paragraph into trimmed sentences; the sentences joined by spaces give back the
/// paragraph up to whitespace. Returns no sentence for a blank paragraph.
#[must_use]
pub fn split_sentences(paragraph: &str) -> Vec<String> {
    let chars: Vec<(usize, char)> = paragraph.char_indices().collect();
    let byte_at = |i: usize| chars.get(i).map_or(paragraph.len(), |&(b, _)| b);
    let mut sentences = Vec::new();
    let mut segment_start = 0;
    let mut i = 0;
    while let Some(&(_, c)) = chars.get(i) {
        if !is_terminal(c) {
            i += 1;
            continue;
        }
        let end = scan_end(&chars, i);
        if is_boundary(paragraph, &chars, segment_start, i, end) {
            let cut = byte_at(end);
            push_trimmed(&mut sentences, &paragraph[segment_start..cut]);
            segment_start = cut;
        }
        i = end.max(i + 1);
    }
    push_trimmed(&mut sentences, &paragraph[segment_start..]);
    sentences
}

/// Appends the trimmed `text` unless it is blank.
fn push_trimmed(out: &mut Vec<String>, text: &str) {
    let text = text.trim();
    if !text.is_empty() {
        out.push(text.to_string());
    }
}

/// Char index just after the terminal run starting at `start` and the closers following it.
fn scan_end(chars: &[(usize, char)], start: usize) -> usize {
    let mut k = start;
    loop {
        while chars.get(k).is_some_and(|&(_, c)| is_terminal(c)) {
            k += 1;
        }
        loop {
            let mut m = k;
            while chars.get(m).is_some_and(|&(_, c)| c.is_whitespace()) {
                m += 1;
            }
            match chars.get(m) {
                Some(&(_, c))
                    if (m == k && is_adjacent_closer(c)) || (m > k && is_spaced_closer(c)) =>
                {
                    k = m + 1;
                }
                _ => break,
            }
        }
        // « Viendra-t-il ? ». : a terminal may follow the closing quote.
        if !chars.get(k).is_some_and(|&(_, c)| is_terminal(c)) {
            return k;
        }
    }
}

/// Whether the terminal run at `start` (ending with closers at `end`) ends a sentence.
fn is_boundary(
    paragraph: &str,
    chars: &[(usize, char)],
    segment_start: usize,
    start: usize,
    end: usize,
) -> bool {
    // Whitespace must follow, then some text.
    if !chars.get(end).is_some_and(|&(_, c)| c.is_whitespace()) {
        return false;
    }
    let Some(next) = (end..chars.len()).find(|&m| !chars[m].1.is_whitespace()) else {
        return false;
    };
    let (start_byte, _) = chars[start];
    // An ellipsis marking a cut in a quotation: "[…]" or "(...)".
    if start > 0 && matches!(chars[start - 1].1, '[' | '(') {
        return false;
    }
    // Never produce a sentence made only of punctuation.
    if !paragraph[segment_start..start_byte].contains(char::is_alphanumeric) {
        return false;
    }
    let rest = &paragraph[chars[next].0..];
    if !starts_new_sentence(rest) {
        return false;
    }
    let single_period =
        chars[start].1 == '.' && !chars.get(start + 1).is_some_and(|&(_, c)| is_terminal(c));
    if single_period {
        let before = &paragraph[..start_byte];
        let token_start = before
            .char_indices()
            .rev()
            .find(|&(_, c)| c.is_whitespace())
            .map_or(0, |(b, c)| b + c.len_utf8());
        match abbrev::classify(&before[token_start..]) {
            Some(Abbrev::Always) => return false,
            Some(Abbrev::BeforeNumber) if abbrev::starts_with_number(rest) => return false,
            _ => {}
        }
    }
    true
}

/// Whether `rest` (starting at a non-whitespace char) looks like the start of a sentence.
fn starts_new_sentence(rest: &str) -> bool {
    let mut chars = rest.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    let starts_text = |c: char| c.is_uppercase() || c.is_numeric() || is_opening_quote(c);
    if starts_text(first) {
        return true;
    }
    if is_dash(first) || matches!(first, '(' | '[') {
        return chars.find(|c| !c.is_whitespace()).is_some_and(starts_text);
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::samples::{fuzz_strings, normalize_ws, SAMPLE_ARTICLES};

    fn split(text: &str) -> Vec<String> {
        split_sentences(text)
    }

    fn assert_split(text: &str, expected: &[&str]) {
        assert_eq!(split(text), expected, "while splitting {text:?}");
    }

    fn assert_single(text: &str) {
        assert_split(text, &[text]);
    }

    #[test]
    fn basic_two_sentences() {
        assert_split(
            "Le président Emmanuel Macron a rencontré M. Scholz à Berlin. Ils ont discuté de l’Ukraine.",
            &[
                "Le président Emmanuel Macron a rencontré M. Scholz à Berlin.",
                "Ils ont discuté de l’Ukraine.",
            ],
        );
    }

    #[test]
    fn blank_and_empty_paragraphs() {
        assert!(split("").is_empty());
        assert!(split("   \t ").is_empty());
        assert_single("Sans point final");
        assert_split("  Espaces autour.  ", &["Espaces autour."]);
    }

    #[test]
    fn exclamation_question_and_combinations() {
        assert_split(
            "Quelle victoire ! Les Bleus sont en finale. Qui l’eût cru ?",
            &[
                "Quelle victoire !",
                "Les Bleus sont en finale.",
                "Qui l’eût cru ?",
            ],
        );
        assert_split(
            "Vraiment ?! Personne ne s’y attendait. Incroyable !! Le stade a explosé.",
            &[
                "Vraiment ?!",
                "Personne ne s’y attendait.",
                "Incroyable !!",
                "Le stade a explosé.",
            ],
        );
    }

    #[test]
    fn non_breaking_spaces_before_punctuation() {
        assert_split(
            "Est-ce la fin\u{a0}? Le gouvernement ne répond pas\u{202f}! Les syndicats attendent.",
            &[
                "Est-ce la fin\u{a0}?",
                "Le gouvernement ne répond pas\u{202f}!",
                "Les syndicats attendent.",
            ],
        );
    }

    #[test]
    fn lowercase_after_question_mark_is_not_a_boundary() {
        assert_single("Pourquoi maintenant ? s’interroge le député.");
    }

    #[test]
    fn ellipsis() {
        assert_split(
            "Il a hésité... Puis il a signé. Elle attend… Rien ne vient.",
            &[
                "Il a hésité...",
                "Puis il a signé.",
                "Elle attend…",
                "Rien ne vient.",
            ],
        );
        assert_single("Il a hésité... puis il a finalement signé le texte.");
        assert_single("Elle attend… encore et toujours.");
        assert_single("Il a déclaré que […] Le gouvernement devait agir.");
        assert_single("Le texte (...) Sera publié demain.");
        assert_split("... Et puis plus rien.", &["... Et puis plus rien."]);
    }

    #[test]
    fn titles_are_not_boundaries() {
        assert_single("Selon M. Dupont, le projet est abandonné.");
        assert_single("MM. Macron et Scholz se sont entretenus par téléphone.");
        assert_single("Mme. Borne a présenté le texte.");
        assert_single("Le Dr. Martin et le Pr. Durand ont signé la tribune.");
        assert_single("Me. Dupond-Moretti a plaidé, puis Mgr. Aupetit a parlé.");
        assert_single("Elle habite à St. Denis, près de Ste. Geneviève.");
    }

    #[test]
    fn reference_abbreviations() {
        assert_single("Voir l’art. 49.3 de la Constitution et le chap. IV du rapport.");
        assert_single("Le texte (cf. Annexe) précise ce point, p. 12 et vol. 2.");
        assert_single("Il est né en 52 av. J.-C. Pendant la guerre des Gaules.");
        assert_single("Il vit au 5 bd. Haussmann depuis longtemps.");
        assert_single("L’étude de Dupont et al. Montre une hausse.");
        assert_single("Le décret du 3 janv. 2024 et celui du 12 févr. 2023 sont abrogés.");
        assert_single("Il vit au 12, av. Foch.");
    }

    #[test]
    fn reference_abbreviation_words_can_end_sentences() {
        assert_split(
            "Il se passionne pour le marché de l’art. Les prix flambent.",
            &[
                "Il se passionne pour le marché de l’art.",
                "Les prix flambent.",
            ],
        );
        assert_split(
            "Ils étaient sept. Le huitième est arrivé plus tard.",
            &["Ils étaient sept.", "Le huitième est arrivé plus tard."],
        );
        assert_split(
            "Le suspect a avoué le vol. Il sera jugé en juin.",
            &["Le suspect a avoué le vol.", "Il sera jugé en juin."],
        );
    }

    #[test]
    fn etc_ends_a_sentence_before_upper_case() {
        assert_split(
            "Il a acheté du pain, du lait, etc. Puis il est rentré.",
            &["Il a acheté du pain, du lait, etc.", "Puis il est rentré."],
        );
        assert_single("Du pain, du lait, etc. pour toute la semaine.");
    }

    #[test]
    fn initials() {
        assert_single("Le livre de J. Dupont est sorti.");
        assert_single("J.-M. Le Pen a été condamné.");
        assert_single("Selon J.-L. Mélenchon et M.-C. Durand, rien n’est joué.");
    }

    #[test]
    fn acronyms_with_dots() {
        assert_single("Les U.S.A. et l’O.N.U. ont réagi.");
        assert_single("Il a quitté l’O.N.U. Depuis, il enseigne.");
    }

    #[test]
    fn numbers() {
        assert_single("Le taux est passé de 3,5 % à 3.75 % en un an.");
        assert_single("La réunion est prévue à 14h30 avec 1 200 délégués et 1.200 observateurs.");
        assert_split(
            "Le bilan s’élève à 12 morts. 35 personnes ont été blessées.",
            &[
                "Le bilan s’élève à 12 morts.",
                "35 personnes ont été blessées.",
            ],
        );
        assert_split(
            "Le 49.3 a été utilisé. La motion a échoué.",
            &["Le 49.3 a été utilisé.", "La motion a échoué."],
        );
    }

    #[test]
    fn urls_and_emails() {
        assert_single("Le site www.example.fr publie les résultats.");
        assert_split(
            "Consultez www.example.fr. Les résultats y sont publiés.",
            &["Consultez www.example.fr.", "Les résultats y sont publiés."],
        );
        assert_split(
            "Écrivez à redaction@journal.fr. Nous répondrons.",
            &["Écrivez à redaction@journal.fr.", "Nous répondrons."],
        );
        assert_single("Voir https://www.lemonde.fr/politique/article.html pour le détail.");
    }

    #[test]
    fn guillemets_followed_by_lowercase() {
        assert_single("« Il viendra. » dit-il.");
        assert_single("« Il viendra\u{a0}! » a affirmé le ministre à la presse.");
        assert_single("« Qui a fait ça ? », a demandé le juge.");
    }

    #[test]
    fn guillemets_followed_by_uppercase() {
        assert_split(
            "« Nous ne céderons pas. » Le Premier ministre a été clair.",
            &[
                "« Nous ne céderons pas. »",
                "Le Premier ministre a été clair.",
            ],
        );
        assert_split(
            "Il a lancé : « Au secours\u{a0}!\u{a0}» Personne n’a répondu.",
            &[
                "Il a lancé : « Au secours\u{a0}!\u{a0}»",
                "Personne n’a répondu.",
            ],
        );
        assert_split(
            "Il s’est demandé : « Viendra-t-il ? ». Nul ne le sait.",
            &["Il s’est demandé : « Viendra-t-il ? ».", "Nul ne le sait."],
        );
    }

    #[test]
    fn sentence_starting_with_quote_or_parenthesis() {
        assert_split(
            "Le verdict est tombé. « C’est une honte », a réagi l’avocat.",
            &[
                "Le verdict est tombé.",
                "« C’est une honte », a réagi l’avocat.",
            ],
        );
        assert_split(
            "Il est parti. \"Je reviendrai\", a-t-il promis.",
            &["Il est parti.", "\"Je reviendrai\", a-t-il promis."],
        );
        assert_split(
            "La séance est levée. (Applaudissements.) Le président quitte la salle.",
            &[
                "La séance est levée.",
                "(Applaudissements.)",
                "Le président quitte la salle.",
            ],
        );
    }

    #[test]
    fn closers_belong_to_the_ending_sentence() {
        assert_split(
            "Le texte a été adopté (à une large majorité.) Les débats reprendront lundi.",
            &[
                "Le texte a été adopté (à une large majorité.)",
                "Les débats reprendront lundi.",
            ],
        );
        assert_split(
            "Il a dit : \"C’est fini.\" Puis il est sorti.",
            &["Il a dit : \"C’est fini.\"", "Puis il est sorti."],
        );
        assert_split(
            "Elle a répondu : “Jamais !” Le public a applaudi.",
            &["Elle a répondu : “Jamais !”", "Le public a applaudi."],
        );
    }

    #[test]
    fn dialogue_dashes() {
        assert_split(
            "— Vous viendrez ? — Oui, je viendrai. — Alors à demain.",
            &[
                "— Vous viendrez ?",
                "— Oui, je viendrai.",
                "— Alors à demain.",
            ],
        );
        assert_single("— Vous viendrez ? — demanda-t-il.");
    }

    #[test]
    fn no_whitespace_after_terminal_is_not_a_boundary() {
        assert_single("Bonjour!Ça va?Oui.");
    }

    #[test]
    fn no_text_lost_on_sample_paragraphs() {
        for article in SAMPLE_ARTICLES {
            for line in article.lines() {
                let sentences = split(line);
                assert_eq!(
                    normalize_ws(&sentences.join(" ")),
                    normalize_ws(line),
                    "text lost or duplicated in {line:?}"
                );
                for s in &sentences {
                    assert_eq!(s.trim(), s, "sentence not trimmed: {s:?}");
                    assert!(!s.is_empty());
                }
            }
        }
    }

    #[test]
    fn fuzz_never_panics_and_keeps_text() {
        for text in fuzz_strings(3000, 80) {
            let sentences = split(&text);
            assert_eq!(
                normalize_ws(&sentences.join(" ")),
                normalize_ws(&text),
                "text lost or duplicated in {text:?}"
            );
            assert!(sentences.iter().all(|s| !s.is_empty() && s.trim() == s));
        }
    }

    #[test]
    fn sample_paragraph_counts() {
        let counts: Vec<usize> = SAMPLE_ARTICLES[0]
            .lines()
            .map(|line| split(line).len())
            .collect();
        assert_eq!(counts, [1, 0, 3, 0, 2, 2, 0, 1, 1, 1, 0, 2]);
    }
}
