//! The status of the event one news sentence reports — occurred, planned, threatened, denied, or
//! reported without confirmation — and who the sentence says the information comes from, read
//! from the sentence's own words. The statuses follow the event-status distinctions of the PLOVER
//! manual (Open Event Data Alliance, github.com/openeventdata/PLOVER: its auxiliary modes for
//! threats, denials and intentions); the French cues follow the grammar of the *conditionnel
//! journalistique* (« l'armée aurait bombardé » : the reporter relays a claim without vouching for
//! it, as described by French reference grammars such as Riegel, Pellat & Rioul, *Grammaire
//! méthodique du français*, and Grevisse, *Le Bon Usage*), the futur simple and the passé composé.
//! The cues are regular expressions with small context checks (a noun ending like a future,
//! « la caméra », "the will of the people", is not a verb); no model is involved.
//!
//! French and English cues are recognised by the same functions: translation flattens these
//! distinctions (« aurait tué » becomes "killed"), so [`event_status`] reads the French original
//! first and the English translation only when the original gives no cue. When several cues are
//! present the strongest wins: denied > threatened > reported-unconfirmed > planned > occurred, so
//! « Le ministre a annoncé qu'il se rendra à Rabat » is planned and « L'armée aurait bombardé le
//! marché, ce que dément le ministère » is denied.

use std::ops::Range;
use std::sync::LazyLock;

use regex::{Captures, Regex};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The status of a reported event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EventStatus {
    /// It happened or is under way (« a signé », "were killed").
    Occurred,
    /// Announced, scheduled, expected or intended (« se rendra », "will visit").
    Planned,
    /// An actor threatens to do it (« menace de », "threatened to").
    Threatened,
    /// An actor denies it happened or denies responsibility (« dément », "denied").
    Denied,
    /// Reported without confirmation (« aurait tué », « non confirmé », "reportedly").
    ReportedUnconfirmed,
}

/// A status with the words that decided it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct StatusCue {
    /// The status.
    pub status: EventStatus,
    /// The words that decided it, as written; `None` when the status is the default.
    pub cue: Option<String>,
    /// Byte range of the cue in the sentence it was found in; `None` with the default.
    #[schema(value_type = Option<Object>)]
    pub span: Option<Range<usize>>,
}

/// Who the sentence says the information comes from.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Attribution {
    /// The source, as written, without a leading article (« ministère de l'Intérieur », "police").
    pub who: String,
    /// The attributing phrase as written (« selon le ministère de l'Intérieur », "police said").
    pub phrase: String,
    /// Byte range of `phrase` in the sentence.
    #[schema(value_type = Object)]
    pub span: Range<usize>,
}

/// Accepts or rejects one match of a rule, given the sentence and the match.
type Check = fn(&str, &Captures<'_>) -> bool;

/// One cue pattern: a regular expression (the cue is its group `c`, or the whole match) and an
/// optional test of the match in its context.
struct Rule {
    re: Regex,
    check: Option<Check>,
}

/// Pattern fragments, substituted by name into the rule templates below.
const FRAGMENTS: &[(&str, &str)] = &[
    // Adverbs between a French auxiliary and its participle (« a déjà signé », « n'a pas été »).
    (
        "{FRADV}",
        r"(?:(?:d[ée]j[àa]|[ée]galement|aussi|bien|notamment|ainsi|alors|m[êe]me|encore|toujours|finalement|effectivement|pas|jamais|plus|enfin|aussit[ôo]t|r[ée]cemment|vraisemblablement|probablement|ensuite|officiellement|formellement|cat[ée]goriquement|fermement|vigoureusement|imm[ée]diatement|rapidement|d[ée]finitivement|longtemps|ensemble|tous|toutes|toutefois|cependant|pourtant|d[ée]sormais|de\s+son\s+c[ôo]t[ée]|de\s+leur\s+c[ôo]t[ée]|par\s+ailleurs|pour\s+sa\s+part|pour\s+leur\s+part|en\s+outre|en\s+effet)\s+)*",
    ),
    // Adverbs between an English auxiliary and its participle (« have already seized »).
    (
        "{ENADV}",
        r"(?:(?:already|also|now|just|recently|previously|later|eventually|finally|successfully|never|not|since|then|subsequently|immediately|quickly|briefly|jointly|formally|officially|reportedly|allegedly|all|both|twice|once|repeatedly|long|widely|first|apparently)\s+)*",
    ),
    // Adverbs between a French modal and its infinitive (« doit encore signer »).
    (
        "{INFADV}",
        r"(?:(?:encore|aussi|[ée]galement|notamment|d[ée]sormais|ensuite|bient[ôo]t|prochainement|d['’]abord|donc|ainsi|normalement|en\s+principe|pas|toujours|enfin|d[ée]j[àa]|par\s+ailleurs|en\s+outre|pour\s+sa\s+part|de\s+son\s+c[ôo]t[ée]|rapidement|bien)\s+)*",
    ),
    // Object or reflexive pronouns before a French verb (« doit se rendre », « va s'y rendre »).
    (
        "{CLITICS}",
        r"(?:(?:se|y|en|le|la|les|lui|leur|me|te|nous|vous)\s+|[slmt]['’]\s*){0,2}",
    ),
    // A French infinitive, captured as `v` (checked by `check_infinitive`).
    ("{INF}", r"(?P<v>\p{L}+(?:er|ir|re))"),
    // Stems of the French futur simple before its endings: regular -er/-ir verbs and the
    // irregular futures (viendra, mettra, paraîtra, vaincra, rompra, devra, suivra, vivra,
    // pourra, verra, acquerra, conclura). Passé simple forms of verbs in -rer (« serra »,
    // « rencontra », « assura », « livra ») do not end in any of these.
    (
        "{FUT}",
        r"(?:er|ir|dr|ttr|a[iî]tr|o[iî]tr|incr|ompr|evr|suivr|vivr|ourr|verr|querr|clur)",
    ),
    // French reporting verbs, in the present or as a participle.
    (
        "{FRSAY}",
        r"(?:(?:indiqu|annonc|d[ée]clar|affirm|rapport|pr[ée]cis|ajout|assur|confirm|expliqu|soulign|estim|r[ée]v[ée]l|signal|racont|insist|r[ée]p[ée]t|constat)(?:[ée]|e|ent)|rappel(?:[ée]|le|lent)|poursui(?:t|vi|vent)|dit|disent|promis)",
    ),
    // English reporting verbs of the subject-first form (« police said »).
    (
        "{ENSAY}",
        r"(?:said|says|told|announced|announces|reported|stated|added|confirmed|confirms|claimed|denied|denies|warned|insisted|acknowledged|admitted)",
    ),
    (
        "{WEEKDAY}",
        r"(?:lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche|monday|tuesday|wednesday|thursday|friday|saturday|sunday)",
    ),
    // Characters a source's name cannot contain (the period is handled apart: « M. Dupont »).
    ("{X}", r#"[^,;:!?()«»"“”\[\]\n]"#),
];

/// Compiles a rule template (case-insensitive) with its fragments substituted.
fn compile(template: &str) -> Regex {
    let mut pattern = String::from("(?i)");
    pattern.push_str(template);
    for (name, fragment) in FRAGMENTS {
        pattern = pattern.replace(name, fragment);
    }
    Regex::new(&pattern).expect("constant status pattern compiles; a failure here is a bug")
}

/// A rule from its template and optional check.
fn rule(template: &str, check: Option<Check>) -> Rule {
    Rule {
        re: compile(template),
        check,
    }
}

/// Denials: « dément », « a démenti », « a nié », « nie avoir », "denied", "dismissed reports".
static DENIED: LazyLock<Vec<Rule>> = LazyLock::new(|| {
    vec![
        rule(
            r"\b(?P<c>(?:(?:a|ont|avait|avaient|aurait|auraient)\s+{FRADV})?(?:d[ée]menti(?:e|s|es)?|ni[ée](?:e|s|es)?))\b",
            Some(check_not_negated),
        ),
        rule(r"\b(?P<c>d[ée]ment(?:ent|ant)?)\b", Some(check_not_negated)),
        rule(
            r"\b(?P<c>ni(?:e|ent|ant)(?:\s+(?:avoir|[êe]tre|toute?s?|tout|que))?)\b",
            Some(check_not_negated),
        ),
        rule(
            r"\b(?P<c>(?:contest(?:e|ent|ait|aient)|(?:a|ont)\s+{FRADV}contest[ée])\s+(?:avoir|[êe]tre|toute?s?|tout|les\s+accusations|les\s+faits))\b",
            Some(check_not_negated),
        ),
        rule(
            r"\b(?P<c>(?:rejet(?:te|tent|ait|aient)|(?:a|ont)\s+{FRADV}rejet[ée])\s+(?:les|ces|toutes\s+les|ses|leurs)\s+(?:accusations|all[ée]gations|affirmations|informations))\b",
            Some(check_not_negated),
        ),
        rule(
            r"\b(?P<c>(?:(?:a|ont)\s+{FRADV})?r[ée]fut(?:e|ent|ant|[ée]e?s?))\b",
            Some(check_not_negated),
        ),
        rule(
            r"\b(?P<c>den(?:ied|ies|y|ying|ial|ials))\b",
            Some(check_not_negated),
        ),
        rule(
            r"\b(?P<c>(?:rejected|rejects|dismissed|dismisses|refuted|refutes)\s+(?:the\s+|these\s+|those\s+|such\s+|all\s+)?(?:reports?|claims?|allegations?|accusations?|charges?|suggestions?|rumou?rs?))\b",
            Some(check_not_negated),
        ),
        rule(r"\b(?P<c>refut(?:ed|es|e|ing))\b", Some(check_not_negated)),
    ]
});

/// Threats: « menace de », « a menacé de », « sous peine de », « ultimatum », "threatened to",
/// "warned it would", "vowed to retaliate".
static THREATENED: LazyLock<Vec<Rule>> = LazyLock::new(|| {
    vec![
        rule(
            r"\b(?P<c>(?:(?:a|ont|avait|avaient)\s+{FRADV})?mena(?:ce|cent|[çc]ait|[çc]aient|[çc]ant|c[ée]e?s?|cera|ceront)(?:\s+[^\s,.;:«»]+){0,3}?\s+(?:de\b|d['’]))",
            Some(check_not_under_threat),
        ),
        rule(r"\bsous\s+peine\s+d(?:e\b|['’])", None),
        rule(r"\bultimatums?\b", None),
        rule(
            r"\b(?:(?:a|ont)\s+)?(?:brandi(?:t|ssent|ssant)?|agit(?:e|ent|ant|[ée]))\s+(?:de\s+nouveau\s+)?(?:la|une|sa|leur)\s+menace\b",
            None,
        ),
        rule(
            r"\b(?:prom(?:et|ettent|is)|jur(?:e|ent|[ée]))\s+(?:de\s+(?:riposter|se\s+venger|venger|r[ée]pliquer|r[ée]agir\s+avec\s+fermet[ée])|des\s+repr[ée]sailles)\b",
            None,
        ),
        rule(
            r"\b(?:(?:a|ont)\s+{FRADV})?(?:averti|pr[ée]venu)(?:\s+[^\s,.;:«»]+){0,2}?\s+qu(?:e\b|['’])",
            None,
        ),
        rule(
            r"\b(?P<c>threat(?:en|ens|ened|ening)\b(?:\s+[^\s,.;:]+){0,6}?\s+(?:to|with)\b)",
            None,
        ),
        rule(
            r"\bthreat(?:en|ens|ened|ening)\s+(?:military\s+action|retaliation|reprisals|sanctions|strikes?|war|force)\b",
            None,
        ),
        rule(
            r"\b(?P<c>threats?\s+to)\s+(?P<n>\p{L}+)",
            Some(check_threat_to),
        ),
        rule(
            r"\bwarn(?:s|ed|ing)?\s+(?:{WEEKDAY}\s+|on\s+{WEEKDAY}\s+)?(?:that\s+(?:[^\s,.;:]+\s+){1,4}?|it\s+|he\s+|she\s+|they\s+|we\s+)(?:would|will)\b",
            None,
        ),
        rule(
            r"\bvow(?:s|ed|ing)?\s+(?:to\s+retaliate|retaliation|revenge|to\s+avenge|reprisals)\b",
            None,
        ),
    ]
});

/// Unconfirmed reports: the conditionnel of report (« aurait tué », « seraient détenus »),
/// « non confirmé », « invérifiable », "reportedly", "could not be independently verified".
static REPORTED: LazyLock<Vec<Rule>> = LazyLock::new(|| {
    vec![
        rule(
            r"\b(?P<c>(?:aurai[ts]|auraient|aurions|auriez|serai[ts]|seraient|serions|seriez)\s+{FRADV}(?:[ée]t[ée]\s+)?(?P<p>\p{L}+))\b",
            Some(check_conditionnel),
        ),
        rule(r"\bnon[\s-]+(?:confirm|v[ée]rifi)[ée]e?s?\b", None),
        rule(r"\binv[ée]rifiables?\b", None),
        rule(r"\bimpossibles?\s+[àa]\s+(?:v[ée]rifier|confirmer)\b", None),
        rule(r"\bde\s+sources?\s+non[\s-]+officielles?\b", None),
        rule(r"\bselon\s+des\s+rumeurs\b", None),
        rule(
            r"\bni\s+confirm[ée]e?s?\s+ni\s+d[ée]menti(?:e|s|es)?\b",
            None,
        ),
        rule(
            r"(?:\bpas|\bn['’](?:a|ont|avait|avaient))\s+(?:encore\s+)?(?:pu\s+)?(?:[ée]t[ée]|[êe]tre)\s+(?:confirm|v[ée]rifi)[ée]e?s?\b",
            None,
        ),
        rule(
            r"\bn['’](?:a|ont)\s+pas\s+(?:encore\s+)?(?:confirm|v[ée]rifi)[ée]e?s?\b",
            None,
        ),
        rule(
            r"\b(?:reportedly|allegedly|purportedly|supposedly|rumou?red)\b",
            None,
        ),
        rule(r"\bun(?:confirmed|verified|substantiated)\b", None),
        rule(
            r"\b(?:could|can)(?:not|\s+not|n['’]t)\s+be\s+(?:independently\s+)?(?:verified|confirmed)\b",
            None,
        ),
        rule(
            r"\b(?:has|have|had)\s+not\s+been\s+(?:independently\s+)?(?:verified|confirmed)\b",
            None,
        ),
        rule(
            r"\b(?:is|are|was|were)\s+(?:said|believed|thought|rumou?red)\s+to\s+(?:have|be)\b",
            None,
        ),
        rule(r"\bneither\s+confirmed\s+nor\s+denied\b", None),
        rule(r"\balleg(?:ed|e|es)\s+that\b", None),
    ]
});

/// Plans and intentions: the futur simple, « doit/va + infinitif », « devrait », « prévu »,
/// « s'apprête à », « la semaine prochaine », « demain »; "will", "is expected to", "plans to",
/// "next week", "said it would".
static PLANNED: LazyLock<Vec<Rule>> = LazyLock::new(|| {
    vec![
        rule(
            r"\b(?P<c>\p{L}*{FUT}(?:a|ont)|s?aur(?:a|ont))\b",
            Some(check_future),
        ),
        rule(
            r"\b(?:je\s+|j['’]\s*|tu\s+|nous\s+|vous\s+)(?:(?:ne\s+|n['’]\s*))?{CLITICS}(?P<c>\p{L}*(?:{FUT}|aur)(?:ai|as|ons|ez))\b",
            Some(check_future),
        ),
        rule(r"\b(?P<c>(?:aura|auront)\s+lieu)\b", None),
        rule(
            r"\b(?P<c>(?:doi[ts]|doivent|devait|devaient|va|vont|allait|allaient|compte|comptent|entend|entendent|pourrai(?:t|ent)|voudrai(?:t|ent))\s+{INFADV}{CLITICS}{INF})\b",
            Some(check_infinitive),
        ),
        rule(r"\bdevrai(?:t|ent)\b", None),
        rule(
            r"\b(?:pr[ée]voi(?:t|ent)|envisag(?:e|ent|eait|eaient)|projett?(?:e|ent))\s+{INFADV}(?:de\b|d['’])",
            None,
        ),
        rule(r"\bs['’]appr[êe]t(?:e|ent|ait|aient)\s+[àa]\b", None),
        rule(r"\b(?P<c>pr[ée]vue?s?)\b", Some(check_not_as_planned)),
        rule(r"\b(?:est|sont|[ée]tait|[ée]taient)\s+attendue?s?\b", None),
        rule(
            r"\b(?:la\s+semaine|le\s+mois|l['’]ann[ée]e|l['’]an|le\s+week-end|{WEEKDAY})\s+prochaine?\b",
            None,
        ),
        rule(r"\bprochaine?s?\b|\bprochainement\b", None),
        rule(r"\bd['’]ici\b", None),
        rule(r"\b(?:apr[èe]s-)?demain\b", None),
        rule(r"\bà\s+venir\b", None),
        rule(
            r"\b[àa]\s+partir\s+d(?:e|u)\s+(?:{WEEKDAY}|demain|la\s+semaine\s+prochaine|\d{1,2}(?:er)?\s+\p{L}+)",
            None,
        ),
        rule(
            r"\b(?P<c>(?P<w>will|shall)\s+(?:(?:not|also|now|soon|then|still|likely|probably|again|only|never|first|each|both|all|jointly|formally|officially)\s+)*(?P<n>\p{L}+))",
            Some(check_will),
        ),
        rule(r"\b\p{L}+['’]ll\b", None),
        rule(
            r"\b(?:is|are|was|were|am|be|been)\s+(?:(?:now|also|still|widely|originally|initially|tentatively)\s+)?(?:(?:expected|scheduled|due|set|slated|poised|supposed|preparing)\s+to|scheduled\s+for|(?:expected|due)\s+(?:in|at|on|back))\b",
            None,
        ),
        rule(
            r"\b(?P<c>(?:plans?|planning|intends?|intending|intention|aims?|prepares?|preparing)\s+to)\b",
            Some(check_verb_not_noun),
        ),
        rule(r"\b(?P<c>planned|scheduled)\b", Some(check_not_as_planned)),
        rule(
            r"\bnext\s+(?:week|month|year|weekend|{WEEKDAY}|session|round|summit|meeting|elections?|spring|summer|autumn|fall|winter|stage|phase|step|day)\b",
            None,
        ),
        rule(r"\b(?:upcoming|forthcoming|tomorrow)\b", None),
        rule(r"\blater\s+this\s+(?:week|month|year)\b", None),
        rule(
            r"\bin\s+the\s+(?:coming|next)\s+(?:days|weeks|months|years)\b",
            None,
        ),
        rule(
            r"\bstarting\s+(?:on\s+)?(?:{WEEKDAY}|tomorrow|next)\b",
            None,
        ),
        rule(
            r"\b(?:said|says|announced|announces|added|stated|confirmed|indicated|declared)\s+(?:on\s+{WEEKDAY}\s+)?(?:that\s+)?(?:it|he|she|they|we)\s+would\b",
            None,
        ),
    ]
});

/// Past events: the passé composé (« a signé », « ont été tués », « s'est rendu »), « hier »,
/// « a eu lieu »; "has seized", "were killed", "took place", "yesterday", past-tense verbs.
static OCCURRED: LazyLock<Vec<Rule>> = LazyLock::new(|| {
    vec![
        rule(
            r"\b(?P<c>(?:se\s+|s['’]\s*)?(?:ai|as|a|avons|avez|ont|avait|avaient|eut|eurent|suis|es|est|sommes|[êe]tes|sont|[ée]tait|[ée]taient|fut|furent)\s+{FRADV}(?:[ée]t[ée]\s+{FRADV})?(?P<p>\p{L}+))\b",
            Some(check_fr_past),
        ),
        rule(
            r"\b(?P<c>(?:se\s+|s['’]\s*)?(?:ai|as|a|avons|avez|ont|avait|avaient|eut|eurent|suis|es|est|sommes|[êe]tes|sont|[ée]tait|[ée]taient|fut|furent)\s+{FRADV}(?P<p>\p{L}+))\b",
            Some(check_fr_past),
        ),
        rule(r"\b(?:a|ont|avait|avaient)\s+eu\s+lieu\b", None),
        rule(
            r"\b(?P<c>(?:vien(?:t|nent)|venait|venaient)\s+d(?:e\s+|['’]){CLITICS}{INF})\b",
            Some(check_infinitive),
        ),
        rule(r"\b(?:avant-)?hier\b", None),
        rule(
            r"\b(?:la\s+semaine|le\s+mois|l['’]ann[ée]e|l['’]an|le\s+week-end|{WEEKDAY})\s+derni(?:er|[èe]re)\b",
            None,
        ),
        rule(
            r"\b(?P<c>(?:has|have|had|having)\s+{ENADV}(?:been\s+{ENADV})?(?P<p>\p{L}+))\b",
            Some(check_en_perfect),
        ),
        rule(
            r"\b(?P<c>(?:was|were)\s+{ENADV}(?:being\s+)?(?P<p>\p{L}+))\b",
            Some(check_en_perfect),
        ),
        rule(
            r"\b(?:took\s+place|yesterday|last\s+(?:week|month|year|night|weekend|{WEEKDAY})|earlier\s+(?:this|last)\s+(?:week|month|year)|(?:days?|weeks?|months?|years?)\s+ago)\b",
            None,
        ),
        rule(r"\b(?P<c>\p{L}+)\b", Some(check_en_past)),
    ]
});

/// English simple-past forms that do not end in -ed.
const IRREGULAR_PAST: &[&str] = &[
    "said",
    "told",
    "met",
    "held",
    "fled",
    "fought",
    "shot",
    "struck",
    "took",
    "gave",
    "sent",
    "began",
    "left",
    "came",
    "went",
    "won",
    "lost",
    "made",
    "led",
    "brought",
    "caught",
    "found",
    "kept",
    "spoke",
    "wrote",
    "broke",
    "stole",
    "drove",
    "fell",
    "threw",
    "blew",
    "drew",
    "grew",
    "knew",
    "withdrew",
    "overthrew",
    "swore",
    "tore",
    "paid",
    "sold",
    "laid",
    "spent",
    "stood",
    "sought",
    "bought",
    "taught",
    "thought",
    "built",
    "felt",
    "heard",
    "became",
    "arose",
    "saw",
    "ran",
    "flew",
    "sank",
    "swept",
    "woke",
    "rode",
    "shook",
    "undertook",
    "overtook",
    "upheld",
    "withheld",
    "slew",
];

/// English past participles that do not end in -ed.
const IRREGULAR_PARTICIPLES: &[&str] = &[
    "been",
    "done",
    "gone",
    "taken",
    "given",
    "seen",
    "made",
    "held",
    "met",
    "fled",
    "fought",
    "shot",
    "struck",
    "stricken",
    "left",
    "sent",
    "begun",
    "won",
    "lost",
    "led",
    "told",
    "said",
    "come",
    "become",
    "brought",
    "caught",
    "found",
    "kept",
    "spoken",
    "written",
    "chosen",
    "broken",
    "stolen",
    "driven",
    "fallen",
    "risen",
    "beaten",
    "hidden",
    "thrown",
    "blown",
    "drawn",
    "grown",
    "known",
    "shown",
    "withdrawn",
    "overthrown",
    "sworn",
    "torn",
    "paid",
    "sold",
    "laid",
    "spent",
    "stood",
    "sought",
    "bought",
    "taught",
    "thought",
    "built",
    "dealt",
    "felt",
    "heard",
    "hit",
    "put",
    "set",
    "cut",
    "shut",
    "spread",
    "swept",
    "arisen",
    "frozen",
    "shaken",
    "undertaken",
    "overtaken",
    "flown",
    "sunk",
    "slain",
    "upheld",
    "withheld",
    "undergone",
    "forced",
    "born",
];

/// Words ending in -ed that are not past tenses (or are mostly adjectives).
const ED_NOT_PAST: &[&str] = &[
    "hundred",
    "sacred",
    "naked",
    "wicked",
    "kindred",
    "rugged",
    "ragged",
    "beloved",
    "crooked",
    "wretched",
    "aged",
    "armed",
    "unarmed",
    "masked",
    "alleged",
    "united",
    "based",
    "embed",
    "trépied",
    "supposed",
    "used",
    "concerned",
    "interested",
    "advanced",
    "detailed",
    "limited",
    "related",
    "unidentified",
    "unnamed",
    "unconfirmed",
    "unverified",
    "planned",
    "scheduled",
    "expected",
];

/// French past participles not ending in -é, in the masculine singular (feminine and plural
/// forms are recognised by their endings).
const FR_PARTICIPLES: &[&str] = &[
    "eu",
    "fait",
    "dit",
    "pris",
    "mis",
    "mort",
    "venu",
    "parti",
    "sorti",
    "ouvert",
    "offert",
    "couvert",
    "découvert",
    "souffert",
    "atteint",
    "craint",
    "contraint",
    "joint",
    "rejoint",
    "peint",
    "éteint",
    "vu",
    "pu",
    "dû",
    "voulu",
    "su",
    "lu",
    "bu",
    "cru",
    "plu",
    "tenu",
    "obtenu",
    "détenu",
    "maintenu",
    "retenu",
    "soutenu",
    "devenu",
    "revenu",
    "survenu",
    "intervenu",
    "parvenu",
    "prévenu",
    "contenu",
    "appartenu",
    "conduit",
    "produit",
    "détruit",
    "construit",
    "réduit",
    "introduit",
    "traduit",
    "permis",
    "promis",
    "compris",
    "repris",
    "surpris",
    "admis",
    "soumis",
    "commis",
    "transmis",
    "émis",
    "remis",
    "acquis",
    "conquis",
    "écrit",
    "décrit",
    "inscrit",
    "interdit",
    "prédit",
    "perdu",
    "rendu",
    "vendu",
    "attendu",
    "entendu",
    "répondu",
    "descendu",
    "défendu",
    "suspendu",
    "répandu",
    "étendu",
    "battu",
    "abattu",
    "combattu",
    "débattu",
    "fui",
    "suivi",
    "poursuivi",
    "vécu",
    "survécu",
    "reçu",
    "aperçu",
    "déçu",
    "conçu",
    "connu",
    "reconnu",
    "paru",
    "apparu",
    "disparu",
    "couru",
    "parcouru",
    "secouru",
    "recouru",
    "résolu",
    "fallu",
    "valu",
    "choisi",
    "fini",
    "réussi",
    "agi",
    "réagi",
    "saisi",
    "établi",
    "rétabli",
    "fourni",
    "bâti",
    "investi",
    "réuni",
    "uni",
    "accompli",
    "subi",
    "envahi",
    "trahi",
    "puni",
    "ralenti",
    "franchi",
    "garanti",
    "averti",
    "rempli",
    "démoli",
    "ressenti",
    "senti",
    "menti",
    "servi",
    "dormi",
    "assailli",
    "accueilli",
    "péri",
    "abouti",
    "aboli",
    "affaibli",
    "démenti",
    "enfreint",
    "exclu",
    "inclu",
    "conclu",
    "vaincu",
    "convaincu",
    "élu",
    "réélu",
    "mû",
    "né",
    "ému",
    "interrompu",
    "rompu",
    "corrompu",
    "satisfait",
    "refait",
    "défait",
    "surgi",
    "jailli",
    "grandi",
    "vieilli",
    "nourri",
    "guéri",
    "bondi",
    "fléchi",
    "réfléchi",
    "enrichi",
    "blêmi",
    "pâli",
    "rougi",
    "noirci",
];

/// Words ending in -é that are not participles after « a »/« est » (« à côté », « est député »),
/// and words that look like a participle's plural (« plus », « bus »).
const FR_NOT_PARTICIPLE: &[&str] = &[
    "café",
    "résumé",
    "cliché",
    "fiancé",
    "protégé",
    "touché",
    "côté",
    "député",
    "plus",
    "bus",
    "tous",
    "lui",
    "qui",
    "ici",
    "aussi",
    "ainsi",
    "parmi",
];

/// Participles after « aurait » that make a hypothetical, not a report (« aurait pu », « aurait
/// dû », « aurait fallu », « aurait voulu », « aurait aimé »).
const FR_MODAL_PARTICIPLES: &[&str] = &[
    "pu",
    "dû",
    "du",
    "voulu",
    "fallu",
    "su",
    "aimé",
    "souhaité",
    "préféré",
    "mieux",
];

/// Words that, after « aurait été », make an impersonal judgement (« il aurait été préférable »).
const FR_JUDGEMENT_WORDS: &[&str] = &[
    "préférable",
    "possible",
    "impossible",
    "utile",
    "nécessaire",
    "souhaitable",
    "mieux",
    "plus",
    "difficile",
    "facile",
    "judicieux",
    "logique",
    "normal",
    "bon",
    "sage",
    "inutile",
];

/// Words ending like a French future that are not verbs (English and French nouns, and passé
/// simple or present forms of verbs in -irer).
const FUTURE_NOT_VERB: &[&str] = &[
    "era",
    "camera",
    "opera",
    "cholera",
    "chimera",
    "etcetera",
    "viscera",
    "genera",
    "ephemera",
    "caldera",
    "riviera",
    "lira",
    "hydra",
    "tundra",
    "toundra",
    "cathedra",
    "ephedra",
    "encadra",
    "tira",
    "retira",
    "attira",
    "vira",
    "chavira",
    "expira",
    "inspira",
    "soupira",
    "aspira",
    "admira",
    "conspira",
    "respira",
    "transpira",
    "délira",
    "desira",
    "désira",
    "déchira",
    "empira",
    "sevra",
    "tirons",
    "retirons",
    "aspirons",
    "admirons",
    "désirons",
    "inspirons",
    "attirons",
    "tirez",
    "retirez",
    "admirez",
    "désirez",
    "vrai",
    "environs",
];

/// Words before a noun (and so before a word that only looks like a verb: « une aura »,
/// "the era"). French object pronouns (« le », « la », « les ») are not among them.
const DETERMINERS: &[&str] = &[
    "the", "a", "an", "its", "his", "her", "their", "our", "my", "your", "this", "that", "these",
    "those", "of", "new", "un", "une", "des", "du", "au", "aux", "cette", "ces", "son", "sa",
    "ses", "mon", "ma", "notre", "votre", "nos", "vos", "de",
];

/// Words before "will" that make it the noun (« the will of the people », "political will").
const WILL_AS_NOUN_AFTER: &[&str] = &[
    "the",
    "a",
    "an",
    "his",
    "her",
    "its",
    "their",
    "our",
    "my",
    "your",
    "this",
    "that",
    "political",
    "popular",
    "free",
    "good",
    "ill",
    "own",
    "general",
    "sovereign",
    "collective",
    "national",
    "people's",
    "people’s",
    "last",
    "strong",
    "firm",
    "real",
    "genuine",
];

/// Words that cannot follow the modal "will" (so "will" before them is the noun).
const NOT_AFTER_MODAL_WILL: &[&str] = &[
    "of", "to", "and", "or", "is", "was", "are", "were", "has", "had", "for", "in", "on", "at",
    "that", "which", "the", "a", "an", "this", "these", "his", "her", "their", "its", "with",
    "from", "by", "as", "than", "but",
];

/// Words after "threat to" that make it a threat *to something* (« a threat to peace »), not a
/// threat *to do* something.
const THREAT_TO_OBJECT: &[&str] = &[
    "the",
    "a",
    "an",
    "its",
    "his",
    "her",
    "their",
    "our",
    "my",
    "your",
    "this",
    "that",
    "these",
    "those",
    "national",
    "international",
    "regional",
    "global",
    "public",
    "world",
    "peace",
    "security",
    "stability",
    "democracy",
    "life",
    "lives",
    "health",
    "us",
    "them",
    "him",
    "me",
    "civilians",
    "children",
    "people",
    "human",
    "freedom",
    "press",
    "europe",
    "israel",
    "society",
    "all",
    "both",
    "any",
    "every",
];

/// Words that, just before a denial, negate it (« n'a pas démenti », "did not deny", "refused
/// to confirm or deny", « ni confirmé ni démenti »).
const NEGATIONS: &[&str] = &[
    "not", "never", "pas", "jamais", "ni", "nor", "neither", "ne", "refused", "declined", "refuse",
    "refuses", "refusé", "refusent", "without", "sans", "no",
];

/// French subject and object pronouns: before an English-looking past (« il met », « se sent »)
/// they mark French.
const FRENCH_PRONOUNS: &[&str] = &[
    "il", "elle", "ils", "elles", "on", "qui", "se", "s'", "s’", "ne", "n'", "n’", "le", "la",
    "les", "lui", "leur", "en", "y", "ce", "ça", "je", "tu", "nous", "vous", "me", "te",
];

/// Prepositions and quantifiers before which an -ed word is an adjective (« by armed men »).
const ED_ADJECTIVE_AFTER: &[&str] = &[
    "of",
    "by",
    "with",
    "for",
    "from",
    "in",
    "on",
    "at",
    "to",
    "into",
    "over",
    "under",
    "as",
    "than",
    "be",
    "being",
    "is",
    "are",
    "am",
    "very",
    "so",
    "too",
    "more",
    "most",
    "less",
    "least",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "several",
    "many",
    "some",
    "dozens",
    "hundreds",
    "thousands",
    "other",
    "all",
    "newly",
    "heavily",
    "well",
    "badly",
    "lightly",
    "seriously",
    "critically",
    "fatally",
    "slightly",
];

/// Pronouns that are not a source worth naming (« il a dit que », "he said").
const PRONOUNS: &[&str] = &[
    "he", "she", "it", "they", "we", "i", "you", "him", "her", "them", "us", "me", "il", "elle",
    "ils", "elles", "on", "lui", "eux", "nous", "vous", "je", "moi", "toi", "this", "that", "ceci",
    "cela", "ça", "which", "who", "qui",
];

/// Conjunctions that open a clause before its subject ("and the minister said").
const LEADING_CONJUNCTIONS: &[&str] = &[
    "and", "et", "but", "mais", "though", "although", "while", "so", "yet", "or", "ou", "alors",
    "puis", "then",
];

/// Prepositions inside a source's name ("a spokesman for the army").
const PREPOSITIONS: &[&str] = &[
    "for", "of", "in", "at", "from", "with", "to", "on", "by", "de", "du", "des", "d'", "d’", "à",
    "au", "aux", "pour", "en", "chez",
];

/// Leading articles stripped from a source (« le ministère » → « ministère »).
const ARTICLES: &[&str] = &[
    "le", "la", "les", "des", "un", "une", "the", "a", "an", "du",
];

/// Words that end a source named after its marker (« selon le ministère lors d'un point presse »,
/// "according to officials who…").
const SOURCE_STOPS: &[&str] = &[
    "que",
    "that",
    "who",
    "which",
    "qui",
    "lors",
    "hier",
    "yesterday",
    "today",
    "aujourd'hui",
    "aujourd’hui",
    "dans",
    "lundi",
    "mardi",
    "mercredi",
    "jeudi",
    "vendredi",
    "samedi",
    "dimanche",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
    "late",
    "earlier",
    "last",
    "when",
    "while",
    "quand",
    "alors",
    "tandis",
    "après",
    "after",
    "before",
    "avant",
    "pour",
    "because",
    "car",
    "dont",
    "mais",
    "but",
    "où",
    "where",
    "sous",
    "speaking",
    "s'exprimant",
    "s’exprimant",
];

/// Words that open a source phrase but are a time, not a source (« mardi l'armée »).
const LEADING_TIME: &[&str] = &[
    "hier",
    "aujourd'hui",
    "aujourd’hui",
    "lundi",
    "mardi",
    "mercredi",
    "jeudi",
    "vendredi",
    "samedi",
    "dimanche",
    "soir",
    "matin",
    "midi",
    "yesterday",
    "today",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
    "on",
    "also",
    "later",
    "earlier",
    "then",
    "encore",
    "également",
    "aussi",
    "ensuite",
    "enfin",
    "toutefois",
];

/// Words that, ending the text before "said", show it is no subject (« it was said »).
const NOT_SUBJECT_END: &[&str] = &[
    "was", "were", "is", "are", "be", "been", "being", "it", "has", "have", "had", "not", "never",
    "the", "a", "an", "of", "to", "and", "or", "but", "as", "so", "also",
];

/// Words that, ending the text before "said", are adverbs or auxiliaries to drop ("police also
/// said", "the ministry has said").
const SUBJECT_TRAILING_DROP: &[&str] = &[
    "has",
    "have",
    "had",
    "also",
    "later",
    "earlier",
    "previously",
    "separately",
    "further",
    "then",
    "recently",
    "yesterday",
    "today",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
    "on",
    "last",
    "night",
    "week",
    "initially",
    "first",
];

/// Whether `word` (in any case) is in `list`.
fn among(list: &[&str], word: &str) -> bool {
    let lower = word.to_lowercase();
    list.contains(&lower.as_str())
}

/// The word just before byte `pos` (letters, with a trailing elision apostrophe: « l' »), when
/// only spaces separate it from `pos`.
fn prev_word(sentence: &str, pos: usize) -> Option<&str> {
    static LAST_WORD: LazyLock<Regex> =
        LazyLock::new(|| compile(r"(?P<w>\p{L}+(?:['’]\p{L}+)*['’]?)\s*$"));
    // Only the last few dozen bytes matter: keeps the look-behind cheap on long texts.
    let from = (pos.saturating_sub(96)..pos)
        .find(|&i| sentence.is_char_boundary(i))
        .unwrap_or(pos);
    let before = sentence.get(from..pos)?;
    LAST_WORD
        .captures(before)
        .and_then(|c| c.name("w"))
        .map(|m| m.as_str())
}

/// The word just after byte `pos`, when only spaces separate it from `pos`.
fn next_word(sentence: &str, pos: usize) -> Option<&str> {
    static FIRST_WORD: LazyLock<Regex> = LazyLock::new(|| compile(r"^\s*(?P<w>\p{L}+)"));
    let after = sentence.get(pos..)?;
    FIRST_WORD
        .captures(after)
        .and_then(|c| c.name("w"))
        .map(|m| m.as_str())
}

/// Whether the text before `pos` holds no letter or digit (the word at `pos` opens the sentence).
fn opens_sentence(sentence: &str, pos: usize) -> bool {
    sentence
        .get(..pos)
        .is_none_or(|before| !before.chars().any(char::is_alphanumeric))
}

/// Whether the word starts with a capital letter.
fn is_capitalized(word: &str) -> bool {
    word.chars().next().is_some_and(char::is_uppercase)
}

/// Whether the word is written in capitals (an acronym: "IRA").
fn is_all_caps(word: &str) -> bool {
    word.chars().filter(|c| c.is_alphabetic()).count() > 1
        && word
            .chars()
            .filter(|c| c.is_alphabetic())
            .all(char::is_uppercase)
}

/// Whether the character just before `pos` is a hyphen (the word ends a compound: "US-led").
fn after_hyphen(sentence: &str, pos: usize) -> bool {
    sentence
        .get(..pos)
        .and_then(|before| before.chars().next_back())
        .is_some_and(|c| c == '-')
}

/// A capitalised word in the middle of a sentence is a name, not a verb.
fn is_name_like(sentence: &str, word: &str, pos: usize) -> bool {
    is_all_caps(word) || (is_capitalized(word) && !opens_sentence(sentence, pos))
}

/// The lower-cased words of the clause that ends at `pos`, the last `n` of them.
fn clause_words_before(sentence: &str, pos: usize, n: usize) -> Vec<String> {
    let before = sentence.get(..pos).unwrap_or_default();
    let clause_start = before
        .rfind([
            ',', ';', ':', '.', '!', '?', '«', '»', '"', '“', '”', '(', ')',
        ])
        .map_or(0, |i| i + 1);
    let clause = before.get(clause_start..).unwrap_or_default();
    let words: Vec<String> = clause.split_whitespace().map(str::to_lowercase).collect();
    let skip = words.len().saturating_sub(n);
    words.into_iter().skip(skip).collect()
}

/// The cue's match: the group `c` when the rule has one, else the whole match.
fn cue_of<'h>(caps: &Captures<'h>) -> Option<regex::Match<'h>> {
    caps.name("c").or_else(|| caps.get(0))
}

/// A denial not negated by the four words before it in its clause.
fn check_not_negated(sentence: &str, caps: &Captures<'_>) -> bool {
    let Some(cue) = cue_of(caps) else {
        return false;
    };
    !clause_words_before(sentence, cue.start(), 4)
        .iter()
        .any(|w| {
            NEGATIONS.contains(&w.as_str())
                || w.starts_with("n'")
                || w.starts_with("n’")
                || w.ends_with("n't")
                || w.ends_with("n’t")
        })
}

/// « sous la menace de » is a circumstance (at gunpoint), not a threat.
fn check_not_under_threat(sentence: &str, caps: &Captures<'_>) -> bool {
    let Some(cue) = cue_of(caps) else {
        return false;
    };
    let words = clause_words_before(sentence, cue.start(), 2);
    !(words.len() == 2 && words[0] == "sous")
}

/// "threat to" followed by a verb ("a threat to strike"), not an object ("a threat to peace").
fn check_threat_to(_sentence: &str, caps: &Captures<'_>) -> bool {
    caps.name("n")
        .is_some_and(|n| !among(THREAT_TO_OBJECT, n.as_str()) && !is_capitalized(n.as_str()))
}

/// A word with a future ending that is a verb: not a known noun, not a name, not after a
/// determiner (« une aura », "the camera").
fn check_future(sentence: &str, caps: &Captures<'_>) -> bool {
    let Some(cue) = caps.name("c") else {
        return false;
    };
    let word = cue.as_str();
    if among(FUTURE_NOT_VERB, word) || is_name_like(sentence, word, cue.start()) {
        return false;
    }
    if after_hyphen(sentence, cue.start()) {
        return false;
    }
    // « l'aura du chef »: the noun, not « il l'aura ».
    if word.eq_ignore_ascii_case("aura")
        && next_word(sentence, cue.end()).is_some_and(|n| among(&["de", "du", "des", "d"], n))
    {
        return false;
    }
    !prev_word(sentence, cue.start()).is_some_and(|p| among(DETERMINERS, p))
}

/// "will" as a modal: not after a determiner or adjective (« the will »), not before "of"/"to".
fn check_will(sentence: &str, caps: &Captures<'_>) -> bool {
    let (Some(w), Some(n)) = (caps.name("w"), caps.name("n")) else {
        return false;
    };
    if is_name_like(sentence, w.as_str(), w.start()) {
        return false;
    }
    if prev_word(sentence, w.start()).is_some_and(|p| among(WILL_AS_NOUN_AFTER, p)) {
        return false;
    }
    !among(NOT_AFTER_MODAL_WILL, n.as_str())
}

/// A French infinitive (not « encore », « contre », « hier », nor a capitalised name).
fn check_infinitive(_sentence: &str, caps: &Captures<'_>) -> bool {
    const NOT_INFINITIVE: &[&str] = &[
        "encore", "notre", "votre", "autre", "contre", "entre", "hier", "premier", "dernier",
        "cher", "fier", "mer", "fer", "ver", "hiver", "titre", "centre", "ministre", "lettre",
        "membre", "nombre", "ordre", "offre", "libre", "pire", "frère", "père", "mère", "lire",
    ];
    caps.name("v").is_some_and(|v| {
        let word = v.as_str();
        !is_capitalized(word) && !among(NOT_INFINITIVE, word) && word.chars().count() > 2
    })
}

/// "plans to", "aim to" as verbs ("it plans to hold"), not nouns ("a plan to open", "London's
/// plan to return").
fn check_verb_not_noun(sentence: &str, caps: &Captures<'_>) -> bool {
    let Some(cue) = cue_of(caps) else {
        return false;
    };
    !prev_word(sentence, cue.start()).is_some_and(|p| {
        among(DETERMINERS, p) || p.ends_with("'s") || p.ends_with("’s") || p.ends_with('\'')
    })
}

/// « comme prévu », "as planned", « plus tôt que prévu »: the plan was carried out, no cue.
fn check_not_as_planned(sentence: &str, caps: &Captures<'_>) -> bool {
    let Some(cue) = cue_of(caps) else {
        return false;
    };
    !prev_word(sentence, cue.start())
        .is_some_and(|p| among(&["as", "than", "comme", "que", "qu'", "qu’"], p))
}

/// Whether a word is a French past participle (an -é form, or a known irregular one with its
/// feminine and plural forms).
fn is_fr_participle(word: &str) -> bool {
    let lower = word.to_lowercase();
    if FR_NOT_PARTICIPLE.contains(&lower.as_str()) || lower.chars().count() < 2 {
        return false;
    }
    if ["é", "ée", "és", "ées"].iter().any(|e| lower.ends_with(e)) {
        return true;
    }
    let forms = [
        Some(lower.as_str()),
        lower.strip_suffix("es"),
        lower.strip_suffix('s'),
        lower.strip_suffix('e'),
    ];
    forms.iter().flatten().any(|f| FR_PARTICIPLES.contains(f))
}

/// Passé composé or plus-que-parfait: the auxiliary is followed by a participle.
fn check_fr_past(_sentence: &str, caps: &Captures<'_>) -> bool {
    caps.name("p")
        .is_some_and(|p| !is_capitalized(p.as_str()) && is_fr_participle(p.as_str()))
}

/// The conditionnel of report: « aurait » or « serait » with a participle — not the
/// hypotheticals « aurait pu », « aurait dû », « il aurait été préférable », nor a « si » clause.
fn check_conditionnel(sentence: &str, caps: &Captures<'_>) -> bool {
    let (Some(c), Some(p)) = (caps.name("c"), caps.name("p")) else {
        return false;
    };
    let participle = p.as_str();
    if is_capitalized(participle) || among(FR_MODAL_PARTICIPLES, participle) {
        return false;
    }
    if among(FR_JUDGEMENT_WORDS, participle) {
        return false;
    }
    // « aurait été » + judgement: the regex took « été » as the participle or skipped it.
    let ete_then_judgement = participle.eq_ignore_ascii_case("été")
        && next_word(sentence, p.end()).is_some_and(|n| among(FR_JUDGEMENT_WORDS, n));
    if ete_then_judgement || !is_fr_participle(participle) {
        return false;
    }
    // A hypothesis (« si l'accord avait été signé, la guerre aurait été évitée »).
    static IF_CLAUSE: LazyLock<Regex> = LazyLock::new(|| compile(r"\b(?:si|s['’]ils?|if)\b"));
    let before = sentence.get(..c.start()).unwrap_or_default();
    !IF_CLAUSE.is_match(before)
}

/// Whether a word is an English past participle (-ed, or a known irregular one).
fn is_en_participle(word: &str) -> bool {
    let lower = word.to_lowercase();
    if IRREGULAR_PARTICIPLES.contains(&lower.as_str()) {
        return true;
    }
    lower.ends_with("ed") && lower.chars().count() >= 4 && !lower.ends_with("eed")
}

/// "has/had/were" + participle.
fn check_en_perfect(_sentence: &str, caps: &Captures<'_>) -> bool {
    caps.name("p")
        .is_some_and(|p| !is_capitalized(p.as_str()) && is_en_participle(p.as_str()))
}

/// An English simple past: an -ed verb or an irregular past, not an adjective (« by armed men »),
/// a name, a compound ("US-led"), or a French look-alike (« il met », « se sent »).
fn check_en_past(sentence: &str, caps: &Captures<'_>) -> bool {
    let Some(cue) = caps.name("c") else {
        return false;
    };
    let word = cue.as_str();
    let lower = word.to_lowercase();
    let irregular = IRREGULAR_PAST.contains(&lower.as_str());
    let regular = lower.ends_with("ed")
        && lower.chars().count() >= 5
        && !lower.ends_with("eed")
        && !ED_NOT_PAST.contains(&lower.as_str());
    if !(irregular || regular) || is_capitalized(word) || after_hyphen(sentence, cue.start()) {
        return false;
    }
    if let Some(prev) = prev_word(sentence, cue.start()) {
        if among(DETERMINERS, prev) || among(FRENCH_PRONOUNS, prev) {
            return false;
        }
        if regular && among(ED_ADJECTIVE_AFTER, prev) {
            return false;
        }
    }
    // « met en garde », « met fin à »: French « mettre ».
    !(lower == "met" && next_word(sentence, cue.end()).is_some_and(|n| among(&["en", "fin"], n)))
}

/// The earliest cue the rules accept in the sentence (the longest at equal starts).
fn first_cue(sentence: &str, rules: &[Rule]) -> Option<Range<usize>> {
    let mut best: Option<Range<usize>> = None;
    for rule in rules {
        let mut from = 0;
        while let Some(caps) = rule.re.captures_at(sentence, from) {
            let Some(whole) = caps.get(0) else {
                break;
            };
            if rule.check.is_none_or(|check| check(sentence, &caps)) {
                if let Some(cue) = cue_of(&caps) {
                    let better = best.as_ref().is_none_or(|b| {
                        cue.start() < b.start || (cue.start() == b.start && cue.end() > b.end)
                    });
                    if better {
                        best = Some(cue.range());
                    }
                }
                break;
            }
            // Rejected: look again from the next character (the match may hide a good one).
            let step = sentence
                .get(whole.start()..)
                .and_then(|rest| rest.chars().next())
                .map_or(1, char::len_utf8);
            from = whole.start() + step;
            if from > sentence.len() {
                break;
            }
        }
    }
    best
}

/// The status a sentence's cues give, or None when it has no cue at all.
pub fn cue_status(sentence: &str) -> Option<StatusCue> {
    let tables: [(EventStatus, &[Rule]); 5] = [
        (EventStatus::Denied, &DENIED),
        (EventStatus::Threatened, &THREATENED),
        (EventStatus::ReportedUnconfirmed, &REPORTED),
        (EventStatus::Planned, &PLANNED),
        (EventStatus::Occurred, &OCCURRED),
    ];
    tables.into_iter().find_map(|(status, rules)| {
        let span = first_cue(sentence, rules)?;
        let cue = sentence.get(span.clone())?.to_string();
        Some(StatusCue {
            status,
            cue: Some(cue),
            span: Some(span),
        })
    })
}

/// The status of a translated sentence's event: original's cue, else translation's, else Occurred.
///
/// News reports what happened, so a sentence with no cue at all is Occurred with `cue` and `span`
/// `None`. The span indexes whichever text gave the cue: the original when it has one.
pub fn event_status(original: Option<&str>, english: &str) -> StatusCue {
    original
        .and_then(cue_status)
        .or_else(|| cue_status(english))
        .unwrap_or(StatusCue {
            status: EventStatus::Occurred,
            cue: None,
            span: None,
        })
}

/// Markers followed by their source: « selon X », « d'après X », "according to X", "citing X".
static SOURCE_AFTER_MARKER: LazyLock<Regex> =
    LazyLock::new(|| compile(r"\b(?P<p>selon|d['’]apr[èe]s|according\s+to|citing)\s+(?P<x>{X}+)"));

/// « de source militaire », « de sources concordantes »: the source includes the word « source ».
static DE_SOURCE: LazyLock<Regex> =
    LazyLock::new(|| compile(r"\b(?P<p>de)\s+(?P<x>(?:m[êe]me\s+)?sources?\b{X}*)"));

/// A reporting verb after a quote or a comma, followed by its subject: « …, a indiqué l'armée »,
/// "…," said the minister.
static INVERTED_VERB: LazyLock<Regex> = LazyLock::new(|| {
    compile(
        r#"[,«»"“”—–]\s*(?P<p>(?:(?:a|ont|avait|avaient)\s+{FRADV})?{FRSAY}|said|says|added|stated)\s+(?P<x>{X}+)"#,
    )
});

/// A French reporting verb followed by « que » or a colon: « le ministère a indiqué que ».
static FR_SUBJECT_VERB: LazyLock<Regex> = LazyLock::new(|| {
    compile(
        r#"\b(?P<v>(?:(?:a|ont|avait|avaient)\s+{FRADV})?{FRSAY})\b(?:\s+[^\s,;:.!?«»"“”]+){0,5}?\s*(?:\bqu(?:e\b|['’])|:)"#,
    )
});

/// A French verb of denial or claim after its subject, with no « que » needed: « le ministère a
/// démenti toute implication », « Moscou nie avoir visé », « l'armée affirme avoir détruit ».
static FR_SUBJECT_DENIAL: LazyLock<Regex> = LazyLock::new(|| {
    compile(
        r"\b(?P<v>(?:(?:a|ont|avait|avaient)\s+{FRADV})?(?:d[ée]menti|ni[ée]|contest[ée])|d[ée]ment(?:ent)?|ni(?:e|ent)|contest(?:e|ent)|(?:affirm|assur|reconna[iî])(?:e|ent|t|ssent))\b",
    )
});

/// An English reporting verb after its subject: "police said", "Reuters reported".
static EN_SUBJECT_VERB: LazyLock<Regex> = LazyLock::new(|| compile(r"\b(?P<v>{ENSAY})\b"));

/// Words of `text` with their byte ranges (split on whitespace).
fn words_with_ranges(text: &str) -> Vec<(Range<usize>, &str)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, ch) in text.char_indices() {
        match (ch.is_whitespace(), start) {
            (true, Some(s)) => {
                if let Some(w) = text.get(s..i) {
                    out.push((s..i, w));
                }
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    if let Some(s) = start {
        if let Some(w) = text.get(s..) {
            out.push((s..text.len(), w));
        }
    }
    out
}

/// A word without surrounding punctuation, lower-cased.
fn bare_lower(word: &str) -> String {
    word.trim_matches(|c: char| !c.is_alphanumeric() && c != '\'' && c != '’')
        .to_lowercase()
}

/// Whether the period ending `word` is an abbreviation's (« M. », "U.S.", "Gen.").
fn is_abbreviation(word: &str) -> bool {
    let stem = word.trim_end_matches('.');
    stem.contains('.')
        || (stem.chars().count() <= 3
            && is_capitalized(stem)
            && stem.chars().all(char::is_alphabetic))
}

/// Punctuation that bounds a source's name.
const SOURCE_BOUNDS: [char; 14] = [
    ',', ';', ':', '!', '?', '«', '»', '"', '“', '”', '(', ')', '—', '–',
];

/// Whether the source named after a marker ends before the word `lw` (lower-cased), given the
/// word after it (as written).
fn ends_source(lw: &str, next: Option<&str>) -> bool {
    let next_lower = next.map(bare_lower).unwrap_or_default();
    SOURCE_STOPS.contains(&lw)
        || lw.starts_with("qu'")
        || lw.starts_with("qu’")
        // "on Monday", "on condition of anonymity", "on its website"; not "Office on Drugs".
        || (lw == "on" && next.is_none_or(|n| !is_capitalized(n) || among(SOURCE_STOPS, n)))
        || (lw == "in" && matches!(next_lower.as_str(), "a" | "an"))
        || (lw == "to"
            && among(&["reporters", "journalists", "afp", "reuters", "the"], &next_lower))
        || (lw == "à"
            && (next_lower.starts_with("l'afp")
                || next_lower.starts_with("l’afp")
                || next_lower.starts_with("l'agence")
                || next_lower.starts_with("l’agence")
                || next_lower == "la"
                || next_lower == "des"))
}

/// The source named after a marker, within `range` of the sentence: leading time words and
/// « dans un communiqué » skipped, cut at the first stop word, a sentence's final period or 12
/// words. Returns the range kept.
fn source_after(sentence: &str, range: Range<usize>) -> Option<Range<usize>> {
    let text = sentence.get(range.clone())?;
    let words = words_with_ranges(text);
    let mut first = 0;
    while let Some((_, w)) = words.get(first) {
        let lw = bare_lower(w);
        let next = words.get(first + 1).map(|(_, n)| bare_lower(n));
        if LEADING_TIME.contains(&lw.as_str()) {
            first += 1;
        } else if (lw == "dans" && matches!(next.as_deref(), Some("un" | "une")))
            || (lw == "in" && matches!(next.as_deref(), Some("a" | "an")))
        {
            first += 3;
        } else {
            break;
        }
    }
    let mut end = first;
    while let Some((_, w)) = words.get(end) {
        let next = words.get(end + 1).map(|(_, n)| *n);
        if ends_source(&bare_lower(w), next) || end - first >= 12 {
            break;
        }
        end += 1;
        if w.ends_with('.') && !is_abbreviation(w) {
            break;
        }
    }
    let start = words.get(first)?.0.start;
    let stop = words.get(end.checked_sub(1)?)?.0.end;
    (end > first).then(|| range.start + start..range.start + stop)
}

/// The subject that ends at byte `end` (where its verb starts): the words back to the last
/// punctuation, sentence end or clause word (« que », "that", "who"), with English trailing
/// auxiliaries and adverbs dropped ("police also said"). Returns its range.
fn subject_before(
    sentence: &str,
    end: usize,
    english: bool,
    apposition: bool,
) -> Option<Range<usize>> {
    let before = sentence.get(..end)?;
    // « Le porte-parole, Firmin Yakité, a nié »: the name between the commas is the subject.
    if apposition && before.trim_end().ends_with(',') {
        let inner = before.trim_end().len() - 1;
        let subject = subject_before(sentence, inner, english, false)?;
        let opened_by_comma = sentence
            .get(..subject.start)
            .is_some_and(|b| b.trim_end().ends_with(','));
        return opened_by_comma.then_some(subject);
    }
    let clause_start = before.rfind(SOURCE_BOUNDS).map_or(0, |i| {
        i + before[i..].chars().next().map_or(1, char::len_utf8)
    });
    let clause = before.get(clause_start..)?;
    let mut kept: Vec<(Range<usize>, &str)> = Vec::new();
    for (r, w) in words_with_ranges(clause) {
        let lw = bare_lower(w);
        let clause_word = [
            "que", "that", "who", "which", "qui", "but", "mais", "when", "quand", "while", "if",
            "si", "because", "car", "as",
        ]
        .contains(&lw.as_str())
            || lw.starts_with("qu'")
            || lw.starts_with("qu’");
        if clause_word {
            kept.clear();
            continue;
        }
        kept.push((r, w));
        if w.ends_with('.') && !is_abbreviation(w) {
            kept.clear();
        }
    }
    // Leading time words and conjunctions (« Mardi le ministère », "and the minister said").
    while kept.first().is_some_and(|(_, w)| {
        let lw = bare_lower(w);
        LEADING_TIME.contains(&lw.as_str()) || LEADING_CONJUNCTIONS.contains(&lw.as_str())
    }) {
        kept.remove(0);
    }
    if english {
        while let Some((_, w)) = kept.last() {
            let lw = bare_lower(w);
            if SUBJECT_TRAILING_DROP.contains(&lw.as_str())
                || (lw.ends_with("ly") && !is_capitalized(w))
            {
                kept.pop();
            } else {
                break;
            }
        }
    }
    // A reduced relative clause: "a charge Kigali has denied", "a verdict his party said".
    if kept
        .first()
        .is_some_and(|(_, w)| among(&["a", "an", "un", "une"], w))
    {
        let cut = (2..kept.len()).find(|&i| {
            let (Some(&(_, word)), Some(&(_, prev))) = (kept.get(i), kept.get(i - 1)) else {
                return false;
            };
            let prev = bare_lower(prev);
            let is_last = i + 1 == kept.len();
            let possessive = among(&["the", "his", "her", "its", "their", "our"], word);
            !PREPOSITIONS.contains(&prev.as_str())
                && (possessive || (is_last && is_capitalized(word) && !is_capitalized(&prev)))
        });
        if let Some(i) = cut {
            kept.drain(..i);
        }
    }
    if kept
        .last()
        .is_some_and(|(_, w)| NOT_SUBJECT_END.contains(&bare_lower(w).as_str()))
    {
        return None;
    }
    if kept.is_empty() || kept.len() > 10 {
        return None;
    }
    let first = kept.first()?.0.start + clause_start;
    let last = kept.last()?.0.end + clause_start;
    Some(first..last)
}

/// The source text without a leading article and without trailing punctuation (an
/// abbreviation's final period is kept: "U.S."); None for a pronoun ("he", « lui »).
fn clean_who(text: &str) -> Option<String> {
    let mut rest = text.trim();
    loop {
        let first = rest.split_whitespace().next().unwrap_or_default();
        if among(ARTICLES, first) && !is_all_caps(first) && rest.len() > first.len() {
            rest = rest.get(first.len()..)?.trim_start();
        } else if let Some(after) = ["l'", "l’", "L'", "L’"]
            .iter()
            .find_map(|elided| rest.strip_prefix(elided))
        {
            rest = after.trim_start();
        } else {
            break;
        }
    }
    let last = rest.split_whitespace().next_back().unwrap_or_default();
    let keep_period = last.ends_with('.') && last.trim_end_matches('.').contains('.');
    let who = if keep_period {
        rest
    } else {
        rest.trim_end_matches(|c: char| !c.is_alphanumeric() && c != ')')
    };
    if who.is_empty() || among(PRONOUNS, who) || ARTICLES.contains(&who) {
        return None;
    }
    Some(who.to_string())
}

/// Who the sentence says the information comes from (the attribution that starts first).
pub fn attribution(sentence: &str) -> Option<Attribution> {
    let mut found: Vec<Attribution> = Vec::new();
    let mut push = |phrase: Range<usize>, who_range: Range<usize>| {
        let (Some(phrase_text), Some(who_text)) =
            (sentence.get(phrase.clone()), sentence.get(who_range))
        else {
            return;
        };
        let Some(who) = clean_who(who_text) else {
            return;
        };
        let trimmed = if phrase_text.ends_with('.') && phrase_text.ends_with(who.as_str()) {
            phrase_text
        } else {
            phrase_text.trim_end_matches(|c: char| !c.is_alphanumeric() && c != ')')
        };
        found.push(Attribution {
            who,
            phrase: trimmed.to_string(),
            span: phrase.start..phrase.start + trimmed.len(),
        });
    };
    for re in [&*SOURCE_AFTER_MARKER, &*DE_SOURCE, &*INVERTED_VERB] {
        for caps in re.captures_iter(sentence) {
            let (Some(p), Some(x)) = (caps.name("p"), caps.name("x")) else {
                continue;
            };
            if let Some(who) = source_after(sentence, x.range()) {
                push(p.start()..who.end, who);
            }
        }
    }
    for (re, english) in [
        (&*FR_SUBJECT_VERB, false),
        (&*FR_SUBJECT_DENIAL, false),
        (&*EN_SUBJECT_VERB, true),
    ] {
        for caps in re.captures_iter(sentence) {
            let Some(v) = caps.name("v") else {
                continue;
            };
            // "attacks claimed by the TTP": a participle, not a reporting verb.
            if english && next_word(sentence, v.end()).is_some_and(|n| n.eq_ignore_ascii_case("by"))
            {
                continue;
            }
            if let Some(subject) = subject_before(sentence, v.start(), english, true) {
                push(subject.start..v.end(), subject);
            }
        }
    }
    found.into_iter().min_by_key(|a| (a.span.start, a.span.end))
}

#[cfg(test)]
mod tests {
    use super::*;
    use EventStatus::*;

    /// Asserts the status and cue of a sentence, and that the span points at the cue.
    fn assert_cue(sentence: &str, status: EventStatus, cue: &str) {
        let got = cue_status(sentence).unwrap_or_else(|| panic!("no cue in {sentence:?}"));
        assert_eq!(
            (got.status, got.cue.as_deref()),
            (status, Some(cue)),
            "{sentence}"
        );
        let span = got.span.expect("a cue has a span");
        assert_eq!(&sentence[span], cue, "{sentence}");
    }

    /// Asserts the attribution of a sentence: who, and the phrase its span covers.
    fn assert_attribution(sentence: &str, who: &str, phrase: &str) {
        let got = attribution(sentence).unwrap_or_else(|| panic!("no source in {sentence:?}"));
        assert_eq!(
            (got.who.as_str(), got.phrase.as_str()),
            (who, phrase),
            "{sentence}"
        );
        assert_eq!(&sentence[got.span], phrase, "{sentence}");
    }

    // Denied.

    #[test]
    fn denied_a_dementi() {
        assert_cue(
            "Le ministère a démenti toute implication dans l'attaque.",
            Denied,
            "a démenti",
        );
    }

    #[test]
    fn denied_dement_avoir() {
        assert_cue(
            "Le gouvernement dément avoir ordonné les frappes.",
            Denied,
            "dément",
        );
    }

    #[test]
    fn denied_a_nie_que_beats_the_past_in_its_clause() {
        assert_cue(
            "Il a nié que l'armée ait tiré sur les manifestants.",
            Denied,
            "a nié",
        );
    }

    #[test]
    fn denied_beats_the_conditionnel() {
        assert_cue(
            "L'armée aurait bombardé un marché, ce que dément le ministère.",
            Denied,
            "dément",
        );
    }

    #[test]
    fn denied_nient_toute() {
        assert_cue(
            "Les rebelles nient toute responsabilité.",
            Denied,
            "nient toute",
        );
    }

    #[test]
    fn denied_unaccented_and_curly_apostrophe() {
        assert_cue(
            "L’armee a formellement dementi les faits.",
            Denied,
            "a formellement dementi",
        );
    }

    #[test]
    fn denied_english() {
        assert_cue(
            "The ministry denied that its forces had fired on protesters.",
            Denied,
            "denied",
        );
        assert_cue(
            "Officials dismissed reports of a coup.",
            Denied,
            "dismissed reports",
        );
        assert_cue(
            "Moscow refuted the allegations.",
            Denied,
            "refuted the allegations",
        );
    }

    #[test]
    fn denied_beats_planned() {
        assert_cue("The army denied it would withdraw.", Denied, "denied");
        assert_cue(
            "Le porte-parole a démenti que l'armée se rendra à Gao.",
            Denied,
            "a démenti",
        );
    }

    #[test]
    fn negated_denial_is_no_denial() {
        assert_cue(
            "Le porte-parole n'a pas démenti ces informations.",
            Occurred,
            "a pas démenti",
        );
        assert_eq!(cue_status("The army did not deny the strike."), None);
    }

    #[test]
    fn neither_confirmed_nor_denied_is_unconfirmed() {
        assert_cue(
            "L'information n'a été ni confirmée ni démentie par Paris.",
            ReportedUnconfirmed,
            "ni confirmée ni démentie",
        );
        assert_cue(
            "The ministry neither confirmed nor denied the raid.",
            ReportedUnconfirmed,
            "neither confirmed nor denied",
        );
    }

    #[test]
    fn dementiel_is_not_a_denial() {
        assert_cue("Un projet démentiel a été lancé.", Occurred, "a été lancé");
    }

    // Threatened.

    #[test]
    fn threatened_menace_de() {
        assert_cue(
            "Le Hamas menace de rompre la trêve.",
            Threatened,
            "menace de",
        );
    }

    #[test]
    fn threatened_ont_menace_with_a_day_between() {
        assert_cue(
            "Les rebelles ont menacé mercredi de prendre la ville.",
            Threatened,
            "ont menacé mercredi de",
        );
    }

    #[test]
    fn threatened_ultimatum_beats_occurred() {
        assert_cue(
            "Washington a lancé un ultimatum à Caracas.",
            Threatened,
            "ultimatum",
        );
    }

    #[test]
    fn threatened_promet_de_riposter() {
        assert_cue(
            "Le président promet de riposter.",
            Threatened,
            "promet de riposter",
        );
    }

    #[test]
    fn threatened_english() {
        assert_cue(
            "Iran threatened to close the Strait of Hormuz.",
            Threatened,
            "threatened to",
        );
        assert_cue(
            "The group warned it would attack convoys.",
            Threatened,
            "warned it would",
        );
        assert_cue(
            "The militia vowed to retaliate.",
            Threatened,
            "vowed to retaliate",
        );
    }

    #[test]
    fn threatened_beats_unconfirmed() {
        assert_cue(
            "Reportedly, the group threatened to strike.",
            Threatened,
            "threatened to",
        );
    }

    #[test]
    fn under_threat_of_a_weapon_is_no_threat() {
        assert_cue(
            "Le braquage a eu lieu sous la menace d'une arme.",
            Occurred,
            "a eu lieu",
        );
    }

    #[test]
    fn threat_to_an_object_is_no_threat() {
        assert_eq!(
            cue_status("Climate change is a threat to national security."),
            None
        );
    }

    // Reported, unconfirmed.

    #[test]
    fn unconfirmed_aurait_tue() {
        assert_cue(
            "Une frappe aurait tué douze civils.",
            ReportedUnconfirmed,
            "aurait tué",
        );
    }

    #[test]
    fn unconfirmed_auraient_ete_enleves() {
        assert_cue(
            "Trois soldats auraient été enlevés.",
            ReportedUnconfirmed,
            "auraient été enlevés",
        );
    }

    #[test]
    fn unconfirmed_serait_mort_and_seraient_detenus() {
        assert_cue(
            "Le chef rebelle serait mort dans l'attaque.",
            ReportedUnconfirmed,
            "serait mort",
        );
        assert_cue(
            "Cinq journalistes seraient détenus à Evin.",
            ReportedUnconfirmed,
            "seraient détenus",
        );
    }

    #[test]
    fn unconfirmed_sources_beat_occurred() {
        assert_cue(
            "Selon des sources non confirmées, l'armée a pris la ville.",
            ReportedUnconfirmed,
            "non confirmées",
        );
        assert_cue(
            "Le bilan est invérifiable.",
            ReportedUnconfirmed,
            "invérifiable",
        );
    }

    #[test]
    fn unconfirmed_english() {
        assert_cue(
            "The strike reportedly killed 12 people.",
            ReportedUnconfirmed,
            "reportedly",
        );
        assert_cue(
            "The claims could not be independently verified.",
            ReportedUnconfirmed,
            "could not be independently verified",
        );
        assert_cue(
            "The leader is said to have fled.",
            ReportedUnconfirmed,
            "is said to have",
        );
    }

    #[test]
    fn devrait_and_pourrait_are_planned_not_unconfirmed() {
        assert_cue("Le sommet devrait avoir lieu à Rabat.", Planned, "devrait");
        assert_cue(
            "L'armée pourrait intervenir.",
            Planned,
            "pourrait intervenir",
        );
    }

    #[test]
    fn hypothetical_conditionnel_is_no_report() {
        assert_eq!(cue_status("L'armée aurait pu éviter le drame."), None);
        assert_eq!(cue_status("Il aurait été préférable de négocier."), None);
    }

    // Planned.

    #[test]
    fn planned_beats_the_past_reporting_verb() {
        assert_cue(
            "Le ministre a annoncé qu'il se rendra à Rabat.",
            Planned,
            "rendra",
        );
    }

    #[test]
    fn planned_futur_simple() {
        assert_cue("Le président sera reçu à l'Élysée.", Planned, "sera");
        assert_cue("Les deux pays signeront un accord.", Planned, "signeront");
        assert_cue("Nous continuerons le combat.", Planned, "continuerons");
        assert_cue("Je ne céderai pas.", Planned, "céderai");
    }

    #[test]
    fn planned_irregular_futures() {
        for verb in [
            "sera",
            "seront",
            "aura",
            "auront",
            "fera",
            "feront",
            "ira",
            "iront",
            "viendra",
            "viendront",
            "tiendra",
            "tiendront",
            "devra",
            "devront",
            "pourra",
            "pourront",
            "verra",
            "enverra",
            "rendra",
            "rendront",
            "prendra",
            "mettra",
            "recevra",
            "accueillera",
            "saura",
            "faudra",
            "paraîtra",
            "vaincra",
            "suivra",
            "conclura",
        ] {
            let sentence = format!("Le pays {verb} bientôt.");
            assert_cue(&sentence, Planned, verb);
        }
    }

    #[test]
    fn planned_aura_lieu() {
        assert_cue(
            "La rencontre aura lieu la semaine prochaine.",
            Planned,
            "aura lieu",
        );
    }

    #[test]
    fn planned_modal_and_intent() {
        assert_cue(
            "Le Premier ministre doit se rendre à Alger.",
            Planned,
            "doit se rendre",
        );
        assert_cue(
            "Paris s'apprête à reconnaître l'État de Palestine.",
            Planned,
            "s'apprête à",
        );
        assert_cue("Une réunion est prévue demain.", Planned, "prévue");
        assert_cue(
            "Les Vingt-Sept doivent adopter de nouvelles sanctions.",
            Planned,
            "doivent adopter",
        );
    }

    #[test]
    fn planned_english() {
        assert_cue(
            "The president will visit Algiers next week.",
            Planned,
            "will visit",
        );
        assert_cue(
            "Ministers are expected to sign the deal.",
            Planned,
            "are expected to",
        );
        assert_cue(
            "The minister is expected in Cotonou on 9 November.",
            Planned,
            "is expected in",
        );
        assert_cue(
            "The vote is scheduled for Monday.",
            Planned,
            "is scheduled for",
        );
        assert_cue("We'll respond.", Planned, "We'll");
    }

    #[test]
    fn said_it_would_is_planned_said_alone_is_occurred() {
        assert_cue(
            "The ministry said it would resume talks.",
            Planned,
            "said it would",
        );
        assert_cue("He said the talks were useful.", Occurred, "said");
    }

    #[test]
    fn will_as_a_noun_is_no_plan() {
        assert_cue(
            "Parliament respected the will of the people.",
            Occurred,
            "respected",
        );
        assert_eq!(cue_status("It reflects the will of the people."), None);
    }

    #[test]
    fn as_planned_is_no_plan() {
        assert_cue("Comme prévu, la réunion a eu lieu.", Occurred, "a eu lieu");
        assert_cue("The meeting took place as planned.", Occurred, "took place");
        assert_cue(
            "Officials signed a plan to rebuild the port.",
            Occurred,
            "signed",
        );
    }

    #[test]
    fn nouns_ending_like_futures_are_no_plan() {
        assert_cue(
            "La guerre au Sahara a fait des centaines de morts.",
            Occurred,
            "a fait",
        );
        assert_cue(
            "Une caméra a filmé la scène à l'opéra.",
            Occurred,
            "a filmé",
        );
        assert_cue(
            "C'est la première fois que la frontière est fermée.",
            Occurred,
            "est fermée",
        );
        assert_cue(
            "Une ère nouvelle a commencé pour la terre et la carrière du ministre.",
            Occurred,
            "a commencé",
        );
        assert_cue(
            "Ankara et Riyad ont signé un accord.",
            Occurred,
            "ont signé",
        );
        assert_eq!(cue_status("Le Sahara occidental reste disputé."), None);
        assert_eq!(cue_status("Une aura de mystère entoure le projet."), None);
    }

    #[test]
    fn english_words_ending_like_futures_are_no_plan() {
        assert_cue("The camera crew filmed the opera.", Occurred, "filmed");
        assert_cue("A new era began in Riyadh.", Occurred, "began");
        assert_cue("The IRA disbanded in 2005.", Occurred, "disbanded");
    }

    // Occurred.

    #[test]
    fn occurred_passe_compose() {
        assert_cue(
            "Des frappes aériennes ont visé mardi un camp du JNIM.",
            Occurred,
            "ont visé",
        );
        assert_cue(
            "Le président s'est rendu à Alger hier.",
            Occurred,
            "s'est rendu",
        );
        assert_cue("Trois personnes ont été tuées.", Occurred, "ont été tuées");
        assert_cue("Le sommet a eu lieu hier.", Occurred, "a eu lieu");
    }

    #[test]
    fn occurred_english() {
        assert_cue(
            "Ten people were killed in the attack.",
            Occurred,
            "were killed",
        );
        assert_cue("The summit was held in Algiers.", Occurred, "was held");
        assert_cue("The rebels have seized the town.", Occurred, "have seized");
        assert_cue("Gunmen stormed the hotel.", Occurred, "stormed");
    }

    #[test]
    fn french_look_alikes_of_english_pasts_are_no_cue() {
        assert_eq!(cue_status("Il met en garde contre une escalade."), None);
        assert_eq!(cue_status("Le pays se sent menacé par les rebelles."), None);
    }

    #[test]
    fn no_cue_at_all() {
        assert_eq!(cue_status("Le Maroc et l'Algérie."), None);
        assert_eq!(cue_status(""), None);
    }

    // event_status.

    #[test]
    fn event_status_reads_the_original_first() {
        let original = "Le président se rendra à Alger.";
        let got = event_status(Some(original), "The president travelled to Algiers.");
        assert_eq!(got.status, Planned);
        assert_eq!(got.cue.as_deref(), Some("rendra"));
        // The span indexes the original, where the cue was found (« é » is two bytes).
        assert_eq!(got.span, Some(17..23));
        assert_eq!(original.get(17..23), Some("rendra"));
    }

    #[test]
    fn event_status_falls_back_to_the_translation() {
        let got = event_status(
            Some("Le président, à Alger."),
            "The president will travel to Algiers.",
        );
        assert_eq!(got.status, Planned);
        assert_eq!(got.cue.as_deref(), Some("will travel"));
    }

    #[test]
    fn event_status_defaults_to_occurred() {
        let got = event_status(None, "The president in Algiers.");
        assert_eq!(
            got,
            StatusCue {
                status: Occurred,
                cue: None,
                span: None
            }
        );
    }

    // Attribution.

    #[test]
    fn attribution_selon() {
        assert_attribution(
            "Selon le ministère de l'Intérieur, trois personnes ont été tuées.",
            "ministère de l'Intérieur",
            "Selon le ministère de l'Intérieur",
        );
        assert_attribution(
            "Selon M. Dupont, la réunion a eu lieu.",
            "M. Dupont",
            "Selon M. Dupont",
        );
        assert_attribution(
            "Le bilan s'élève à dix morts, selon le ministère lors d'un point presse.",
            "ministère",
            "selon le ministère",
        );
    }

    #[test]
    fn attribution_unconfirmed_sources() {
        assert_attribution(
            "Selon des sources non confirmées, le chef rebelle serait mort.",
            "sources non confirmées",
            "Selon des sources non confirmées",
        );
    }

    #[test]
    fn attribution_d_apres_and_de_source() {
        assert_attribution(
            "D'après l'agence officielle SANA, l'explosion a fait six morts.",
            "agence officielle SANA",
            "D'après l'agence officielle SANA",
        );
        assert_attribution(
            "Le bilan est lourd, de source militaire.",
            "source militaire",
            "de source militaire",
        );
    }

    #[test]
    fn attribution_french_inverted_verb() {
        assert_attribution(
            "Trois soldats ont été tués, a indiqué l'armée malienne.",
            "armée malienne",
            "a indiqué l'armée malienne",
        );
        assert_attribution(
            "Des frappes ont visé un camp, a annoncé mardi l'armée dans un communiqué.",
            "armée",
            "a annoncé mardi l'armée",
        );
        assert_attribution(
            "Les soldats ont été libérés, ont rapporté les médias d'État lundi.",
            "médias d'État",
            "ont rapporté les médias d'État",
        );
    }

    #[test]
    fn attribution_french_subject_verb() {
        assert_attribution(
            "Le ministère a annoncé mardi que les pourparlers reprendraient.",
            "ministère",
            "Le ministère a annoncé",
        );
        assert_attribution(
            "Le porte-parole du gouvernement, Firmin Yakité, a nié toute implication.",
            "Firmin Yakité",
            "Firmin Yakité, a nié",
        );
    }

    #[test]
    fn attribution_according_to_and_citing() {
        assert_attribution(
            "Three people were killed, according to the Interior Ministry.",
            "Interior Ministry",
            "according to the Interior Ministry",
        );
        assert_attribution(
            "The strike hit a depot, according to the U.S. military.",
            "U.S. military",
            "according to the U.S. military",
        );
        assert_attribution(
            "Citing security sources, the agency said five were killed.",
            "security sources",
            "Citing security sources",
        );
    }

    #[test]
    fn attribution_english_subject_verb() {
        assert_attribution(
            "Police said three people were arrested.",
            "Police",
            "Police said",
        );
        assert_attribution(
            "The talks will resume, the foreign ministry said on Tuesday.",
            "foreign ministry",
            "the foreign ministry said",
        );
        assert_attribution(
            "A spokesman for the army told AFP the strike hit a depot.",
            "spokesman for the army",
            "A spokesman for the army told",
        );
        assert_attribution(
            "Reuters reported that the deal was signed.",
            "Reuters",
            "Reuters reported",
        );
        assert_attribution("Five died, the UN said.", "UN", "the UN said");
        assert_attribution(
            "Kinshasa accuses Rwanda, a charge Kigali has consistently denied.",
            "Kigali",
            "Kigali has consistently denied",
        );
    }

    #[test]
    fn attribution_english_inverted_verb() {
        assert_attribution(
            "\"We will not retreat,\" said the army chief.",
            "army chief",
            "said the army chief",
        );
    }

    #[test]
    fn attribution_none_for_pronouns_and_passives() {
        assert_eq!(attribution("He said the talks were useful."), None);
        assert_eq!(attribution("Selon lui, l'attaque a fait dix morts."), None);
        assert_eq!(attribution("It was said that the army withdrew."), None);
        assert_eq!(attribution("Attacks claimed by the TTP rose."), None);
        assert_eq!(attribution("Le président a signé le décret."), None);
    }

    #[test]
    fn status_names_are_snake_case() {
        // The same `rename_all` drives Serialize and Deserialize; read the names back.
        use serde::de::{value, IntoDeserializer};
        let read = |name: &str| {
            let de: value::StrDeserializer<'_, value::Error> = name.into_deserializer();
            EventStatus::deserialize(de)
        };
        assert_eq!(read("reported_unconfirmed"), Ok(ReportedUnconfirmed));
        assert_eq!(read("occurred"), Ok(Occurred));
        assert!(read("ReportedUnconfirmed").is_err());
    }
}
