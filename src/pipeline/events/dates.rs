//! Time expressions of French and English news sentences, resolved to ISO calendar dates.
//!
//! An event record needs to say *when*: « mardi », « la semaine dernière », « du 8 au 19 avril
//! prochain », "last Tuesday", "March 14, 2025". This module finds such expressions with regular
//! expressions (French and English alike, no language parameter: case-insensitive, accents
//! optional, ' and ’ the same) and resolves each against an anchor, the article's publication
//! date, which [`dateline_date`] reads from the wire dateline at the head of the article
//! (« PARIS, 14 mars 2025 (AFP) — », "GENEVA, March 14, 2025 —", the AFP / Reuters / AP
//! convention of a place name in capitals followed by the date of filing).
//!
//! Every result is a closed interval of days with a granularity modelled on the TimeML TIMEX3
//! value granularities (ISO-TimeML, ISO 24617-1): a day (`2025-03-11`), an ISO week
//! (`2025-W10`, Monday to Sunday), a month (`2025-03`), a year (`2025`), or a range of days
//! (« du 8 au 19 avril », « dans la nuit de lundi à mardi »). Sub-month and sub-year qualifiers
//! (« début mars », "late 2023", "mid-March") keep the whole month or year, as TIMEX3 does with
//! its `mod` attribute; the times of day (« mardi soir », "Tuesday night") keep the day.
//!
//! Resolution rules:
//! - a bare weekday is the anchor itself when it falls on that weekday, otherwise the closest
//!   one before the anchor when the sentence speaks of the past ([`Tense::Past`]), after it when
//!   it speaks of the future; « dernier » / "last" and « prochain » / "next" force the direction
//!   (and then never mean the anchor itself);
//! - a day and month without a year take the anchor's year, except that in the future tense a
//!   date before the anchor moves to the next year, and in the past tense a date more than seven
//!   days after the anchor moves to the previous year (announced dates of the coming week are
//!   often reported in the past tense); a bare month follows the same rule without the slack;
//! - relative weeks, months and years (« la semaine prochaine », "last month", « l'an
//!   dernier ») count from the anchor's ISO week, month and year.
//!
//! Nothing panics on any input: impossible dates (« le 31 février », « le 99 mars »), years out
//! of range and arithmetic beyond chrono's calendar are skipped. Numbers that are not years
//! (« 2000 soldats », « 1 500 personnes ») are never taken as years: a bare year needs a
//! preposition or qualifier before it (« en 2023 », "since 2020", « mi-2024 ») and must lie in
//! 1900..=2100. The English month names "March" and "May" must be capitalised unless a day
//! number comes with them ("a protest march", "they may leave"), and a capitalised « Mars »
//! in the middle of a sentence without a day number is taken for the planet.

use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::LazyLock;

use chrono::{Datelike, Days, NaiveDate, Weekday};
use regex::{Captures, Regex};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// How much of the article's head [`dateline_date`] looks at, in bytes.
const DATELINE_WINDOW: usize = 200;
/// In the past tense, a day-and-month date up to this many days after the anchor keeps the
/// anchor's year (the announced events of the coming week).
const PAST_SLACK_DAYS: u64 = 7;
/// Bare years and month-year pairs outside this range are not taken as years.
const YEAR_RANGE: std::ops::RangeInclusive<i32> = 1900..=2100;
/// Full dates (day, month and year) outside this range are skipped.
const FULL_DATE_YEAR_RANGE: std::ops::RangeInclusive<i32> = 1000..=9999;
/// A range of days longer than this is not a range a sentence means.
const MAX_RANGE_DAYS: i64 = 366;

/// How precise a resolved date is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Granularity {
    /// One calendar day: `start == end`.
    Day,
    /// Consecutive days named by their two ends (« du 8 au 19 avril », a night across two days).
    Range,
    /// An ISO week, Monday to Sunday.
    Week,
    /// A calendar month, first to last day.
    Month,
    /// A calendar year, 1 January to 31 December.
    Year,
}

/// A time expression of a sentence, resolved.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ResolvedDate {
    /// First day of the interval (ISO 8601 date).
    #[schema(value_type = String, format = Date)]
    pub start: NaiveDate,
    /// Last day of the interval, inclusive (ISO 8601 date).
    #[schema(value_type = String, format = Date)]
    pub end: NaiveDate,
    /// How precise the interval is.
    pub granularity: Granularity,
    /// The words it came from, as in the text.
    pub phrase: String,
    /// Byte range of `phrase` in the sentence.
    #[serde(skip)]
    pub span: Range<usize>,
}

/// Whether the sentence speaks of the past or the future (decides "mardi" = last or next Tuesday).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tense {
    /// The sentence reports what happened: a bare weekday or month is the latest one so far.
    Past,
    /// The sentence announces what will happen: a bare weekday or month is the next one.
    Future,
}

// ---------------------------------------------------------------------------------------------
// Pattern pieces
// ---------------------------------------------------------------------------------------------

/// Month names, French then English (whole words).
const MONTH_WORDS: &str = concat!(
    "janvier|f[ée]vrier|mars|avril|mai|juin|juillet|ao[uû]t|septembre|octobre|novembre|d[ée]cembre|",
    "january|february|march|april|may|june|july|august|september|october|november|december",
);
/// Month abbreviations, French then English; they only count with their full stop.
const MONTH_ABBREVIATIONS: &str =
    "janv|f[ée]vr|avr|juil|sept|d[ée]c|jan|feb|mar|apr|jun|jul|aug|sep|oct|nov|dec";
/// Weekday names, French then English.
const WEEKDAY_WORDS: &str = concat!(
    "lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche|",
    "monday|tuesday|wednesday|thursday|friday|saturday|sunday",
);
/// Times of day that may follow a weekday or a relative day; the day is kept.
const DAY_PARTS: &str =
    r"matin|soir|apr[eè]s[- ]midi|midi|morning|afternoon|evening|night|dans\s+la\s+soir[ée]e";
/// Words after a number that show it is a quantity, not a year (« 2000 soldats »).
static QUANTITY_AFTER: LazyLock<Regex> = LazyLock::new(|| {
    let units = any_of(&[
        r"ans|ann[ée]es|years?|mois|months?|jours|days|semaines|weeks",
        r"km|kilom[eè]tres|kilometres|kilometers|m[eè]tres|meters|miles|tonnes|tons",
        r"personnes|people|persons|hommes|men|femmes|women|enfants|children|habitants|residents",
        r"soldats|soldiers|troops|morts|dead|bless[ée]s|victimes|victims|cas|cases",
        r"manifestants|protesters|migrants|r[ée]fugi[ée]s|refugees|voix|votes",
        r"euros?|dollars?|exemplaires|copies|emplois|jobs",
    ]);
    build(&format!(r"^\s*(?:[0-9%€$£]|{units}\b)"))
});
/// A number right after a date that is not its year (« le 14 mars 99999 »): the date is skipped.
static NUMBER_AFTER: LazyLock<Regex> = LazyLock::new(|| build(r"^[^\S\n]*[0-9]"));

/// What after a weekday makes it the feast of « Mardi gras ».
static MARDI_GRAS: LazyLock<Regex> = LazyLock::new(|| build(r"^\s+gras\b"));

/// Compiles one of this module's constant patterns, case-insensitively.
fn build(pattern: &str) -> Regex {
    Regex::new(&format!("(?i){pattern}"))
        .expect("the date patterns are constant and valid; a failure here is a bug")
}

/// A month name or abbreviation, captured as `name`.
fn month(name: &str) -> String {
    format!(r"\b(?P<{name}>(?:{MONTH_WORDS})\b|(?:{MONTH_ABBREVIATIONS})\.)")
}

/// A day of the month (« 1er », "14th"), captured as `name` without its ordinal suffix.
fn day(name: &str) -> String {
    format!(r"\b(?P<{name}>[0-9]{{1,2}})(?:er|re|st|nd|rd|th)?\b")
}

/// A weekday name, captured as `name`.
fn weekday(name: &str) -> String {
    format!(r"\b(?P<{name}>{WEEKDAY_WORDS})\b")
}

/// A four-digit year, captured as `name`.
fn year(name: &str) -> String {
    format!(r"\b(?P<{name}>[0-9]{{4}})\b")
}

// ---------------------------------------------------------------------------------------------
// Rules
// ---------------------------------------------------------------------------------------------

/// What a rule's handler sees: the sentence and what to resolve against.
struct Context<'a> {
    text: &'a str,
    anchor: NaiveDate,
    tense: Tense,
}

/// An interval and its granularity, before the phrase and span are attached.
type Resolution = (NaiveDate, NaiveDate, Granularity);

/// Turns one match of a rule's pattern into an interval, or rejects it.
type Handler = fn(&Context, &Captures) -> Option<Resolution>;

/// `parts` as one non-capturing alternation.
fn any_of(parts: &[&str]) -> String {
    format!("(?:{})", parts.join("|"))
}

/// An ISO 8601 calendar date: `2025-03-14`.
const ISO_DATE: &str = r"\b(?P<y>[0-9]{4})-(?P<m>[0-9]{2})-(?P<d>[0-9]{2})\b";
/// A numeric date, day or month first: `14/03/2025`.
const NUMERIC_DATE: &str = r"\b(?P<a>[0-9]{1,2})/(?P<b>[0-9]{1,2})/(?P<y>[0-9]{4})\b";
/// « dernier » / « prochain » after a date or weekday.
const AFTER_WORD: &str = r"(?:\s+(?P<rel>dernier|prochain)\b)?";

/// The rules, each a pattern and its handler. Order only breaks ties between equal spans.
static RULES: LazyLock<Vec<(Regex, Handler)>> = LazyLock::new(|| {
    let (d, m, y, w) = (day("d"), month("m"), year("y"), weekday("w"));
    let (d1, m1, y1, w1) = (day("d1"), month("m1"), year("y1"), weekday("w1"));
    let (d2, m2, y2, w2) = (day("d2"), month("m2"), year("y2"), weekday("w2"));
    let day_parts = format!(r"(?:\s+(?:{DAY_PARTS})\b)?");
    let rules: Vec<(String, Handler)> = vec![
        // 2025-03-14
        (ISO_DATE.to_string(), iso_date),
        // le 14/03/2025
        (
            format!(r"(?:\b(?:le|du|on)\s+)?{NUMERIC_DATE}"),
            numeric_date,
        ),
        // du 8 au 19 avril prochain, entre le 8 et le 19 avril, 8-19 April, from 8 to 19 April
        (
            format!(
                concat!(
                    r"(?:\b(?P<pre>du|from|between|entre|on)\s+)?(?:\b(?:le|the)\s+)?",
                    r"{d1}(?:\s+(?:of\s+)?{m1})?(?:,?\s+{y1})?",
                    r"(?P<conn>\s+(?:au|to|until|till|through|et|and)\s+|\s*[-–]\s*)",
                    r"(?:\b(?:le|the)\s+)?{d2}\s+(?:of\s+)?{m2}(?:,?\s+{y2})?{rel}",
                ),
                d1 = d1,
                m1 = m1,
                y1 = y1,
                d2 = d2,
                m2 = m2,
                y2 = y2,
                rel = AFTER_WORD,
            ),
            day_first_range,
        ),
        // from April 8 to 19, April 8-19, between April 8 and May 3, 2025
        (
            format!(
                concat!(
                    r"(?:\b(?P<pre>from|between|on)\s+)?{m1}\s+{d1}(?:,?\s+{y1})?",
                    r"(?P<conn>\s+(?:to|until|till|through|and)\s+|\s*[-–]\s*)",
                    r"(?:{m2}\s+)?{d2}(?:,?\s+{y2})?",
                ),
                d1 = d1,
                m1 = m1,
                y1 = y1,
                d2 = d2,
                m2 = m2,
                y2 = y2,
            ),
            month_first_range,
        ),
        // le mardi 11 mars 2025, le 1er mai, 14 March, the 14th of March, le 14 mars dernier
        (
            format!(
                concat!(
                    r"(?:\b(?:le|du|ce|on|the)\s+)?(?:{w},?\s+)?(?:\b(?:le|the)\s+)?",
                    r"{d}\s+(?:of\s+)?{m}(?:,?\s+{y})?{rel}",
                ),
                w = w,
                d = d,
                m = m,
                y = y,
                rel = AFTER_WORD,
            ),
            day_first_date,
        ),
        // on Tuesday, March 11, 2025; March 14
        (
            format!(r"(?:\b(?:on|le)\s+)?(?:{w},?\s+)?{m}\s+(?:the\s+)?{d}(?:,?\s+{y})?"),
            month_first_date,
        ),
        // dans la nuit de lundi à mardi, la nuit du samedi au dimanche
        (
            format!(
                r"(?:\b(?:dans|durant|pendant)\s+)?\bla\s+nuit\s+(?:de|du)\s+{w1}(?:\s+(?:à|a|au)\s+{w2})?"
            ),
            weekday_night,
        ),
        // (during) the night of Monday to Tuesday
        (
            format!(r"(?:\b(?:during|on)\s+)?\bthe\s+night\s+of\s+{w1}(?:\s+(?:to|into)\s+{w2})?"),
            weekday_night,
        ),
        // overnight Monday to Tuesday, overnight from Monday into Tuesday
        (
            format!(r"\bovernight\s+(?:(?:from|on)\s+)?{w1}(?:\s+(?:to|into)\s+{w2})?"),
            weekday_night,
        ),
        // Monday night into Tuesday (morning)
        (
            format!(
                r"(?:\b(?:on|from)\s+)?{w1}\s+night\s+(?:to|into|until)\s+(?:early\s+)?{w2}(?:\s+morning\b)?"
            ),
            weekday_night,
        ),
        // overnight, dans la nuit
        (
            r"\b(?:overnight|(?:dans|durant|pendant)\s+la\s+nuit)\b".to_string(),
            overnight,
        ),
        // mardi, le mardi, mardi dernier, next Tuesday, on Tuesday night, jeudi matin dernier
        (
            format!(
                r"(?:\b(?P<pre>on|le|ce|this|last|next|coming)\s+)?{w}{AFTER_WORD}{day_parts}(?:\s+(?P<rel2>dernier|prochain)\b)?"
            ),
            bare_weekday,
        ),
        // hier, avant-hier, aujourd'hui, demain soir, yesterday, tonight, ce matin
        (
            format!(
                r"\b(?P<w>{words})\b{day_parts}",
                words = any_of(&[
                    r"aujourd['’]hui",
                    r"avant[- ]hier",
                    r"apr[eè]s[- ]demain",
                    r"hier",
                    r"demain",
                    r"ce\s+matin",
                    r"ce\s+soir",
                    r"cet\s+apr[eè]s[- ]midi",
                    r"cette\s+nuit",
                    r"la\s+nuit\s+derni[eè]re",
                    r"the\s+day\s+before\s+yesterday",
                    r"the\s+day\s+after\s+tomorrow",
                    r"yesterday",
                    r"today",
                    r"tomorrow",
                    r"this\s+(?:morning|afternoon|evening)",
                    r"tonight",
                    r"last\s+night",
                ]),
            ),
            relative_day,
        ),
        // la semaine dernière, cette semaine, next week, earlier this week
        (
            format!(
                r"\b{}\b",
                any_of(&[
                    r"la\s+semaine\s+(?P<fr>derni[eè]re|pass[ée]e|prochaine)",
                    r"(?:(?:plus\s+t[oô]t|plus\s+tard)\s+)?cette\s+semaine",
                    r"(?:(?:earlier|later)\s+)?(?P<en>last|next|this)\s+week",
                ])
            ),
            relative_week,
        ),
        // over the weekend, last weekend, ce week-end, le week-end dernier
        (
            format!(
                r"\b{}\b",
                any_of(&[
                    r"(?:over|during|at)\s+the\s+weekend",
                    r"(?P<en>last|next|this)\s+weekend",
                    r"(?:ce|le|du|au\s+cours\s+du|pendant\s+le)\s+week-?end(?:\s+(?P<fr>dernier|pass[ée]|prochain))?",
                ])
            ),
            weekend,
        ),
        // le mois dernier, ce mois-ci, last month, later this month, fin du mois
        (
            format!(
                r"\b{}\b",
                any_of(&[
                    r"le\s+mois\s+(?P<fr>dernier|pass[ée]|prochain)",
                    r"(?:(?:plus\s+t[oô]t|plus\s+tard)\s+)?ce\s+mois(?:-ci)?",
                    r"(?:(?:earlier|later)\s+)?(?P<en>last|next|this)\s+month",
                    r"(?:\b(?:au|en)\s+)?\b(?:d[ée]but|fin|mi)(?:-|\s+)(?:du\s+|de\s+)?mois(?:\s+(?P<fr2>dernier|prochain))?",
                    r"(?:\bthe\s+)?\b(?:start|beginning|end|middle)\s+of\s+(?:the\s+|this\s+|(?P<en2>last|next)\s+)month",
                ])
            ),
            relative_month,
        ),
        // en mars, en mars dernier, mars 2024, in March, last March, début mars, mid-March
        (
            format!(
                concat!(
                    r"(?:\b(?P<prep>en|au\s+mois\s+de|in|during|since|depuis|d[èe]s|until|jusqu['’]en|by)\s+)?",
                    r"(?:\b(?P<part>d[ée]but|fin|mi|early|late|mid)(?:\s*-\s*|\s+(?:de\s+|d['’]\s*)?|d['’]))?",
                    r"(?:\b(?P<rel1>last|next|this)\s+)?{m}(?:\s+(?P<rel2>dernier|prochain)\b)?(?:,?\s+{y})?",
                ),
                m = m,
                y = y,
            ),
            named_month,
        ),
        // l'an dernier, l'année prochaine, cette année, last year, début de l'année
        (
            format!(
                r"\b{}\b",
                any_of(&[
                    r"l['’]an(?:n[ée]e)?\s+(?P<fr>derni[eè]re?|pass[ée]e?|prochaine?)",
                    r"(?:(?:plus\s+t[oô]t|plus\s+tard)\s+)?cette\s+ann[ée]e",
                    r"(?:(?:earlier|later)\s+)?(?P<en>last|next|this)\s+year",
                    r"\b(?:d[ée]but|fin|mi)(?:-|\s+)(?:de\s+)?l['’]ann[ée]e(?:\s+(?P<fr2>derni[eè]re|pass[ée]e|prochaine))?",
                    r"(?:\bthe\s+)?\b(?:start|beginning|end|middle)\s+of\s+(?:the\s+|this\s+|(?P<en2>last|next)\s+)year",
                ])
            ),
            relative_year,
        ),
        // en 2023, since 2020, l'année 2023, mi-2024, in early 2023
        (
            format!(
                concat!(
                    r"(?:\b(?P<prep>en|in|depuis|since|of|during|until|jusqu['’]en|by|l['’]ann[ée]e)\s+)?",
                    r"(?:\b(?P<part>d[ée]but|fin|mi|early|late|mid)(?:\s*-\s*|\s+))?{y}",
                ),
                y = y,
            ),
            named_year,
        ),
    ];
    rules
        .into_iter()
        .map(|(pattern, handler)| (build(&pattern), handler))
        .collect()
});

/// The full dates a dateline may carry, each a pattern and its handler.
static DATELINE_RULES: LazyLock<Vec<(Regex, Handler)>> = LazyLock::new(|| {
    let (d, m, y) = (day("d"), month("m"), year("y"));
    let rules: Vec<(String, Handler)> = vec![
        (format!(r"{d}\s+(?:de\s+)?{m},?\s+{y}"), day_first_date),
        (format!(r"{m}\s+{d},?\s+{y}"), month_first_date),
        (NUMERIC_DATE.to_string(), numeric_date),
        (ISO_DATE.to_string(), iso_date),
    ];
    rules
        .into_iter()
        .map(|(pattern, handler)| (build(&pattern), handler))
        .collect()
});

// ---------------------------------------------------------------------------------------------
// Public functions
// ---------------------------------------------------------------------------------------------

/// The publication date a dateline gives: "PARIS, 14 mars 2025 (AFP) —",
/// "BAMAKO, 3 octobre 2024 —", "GENEVA, March 14, 2025 —", "NAIROBI, 3 October 2024 -",
/// "Paris, le 14/03/2025", "2025-03-14"; looked for in the first 200 bytes of the article only.
/// None when there is none.
///
/// The first full date (day, month and year, year in 1900..=2100) of the head wins; the range is
/// the byte range of the date itself in `article` (without the place name or « le »). Numeric
/// dates are read day first (`14/03/2025`), month first only when that is the sole valid reading
/// (`03/14/2025`).
pub fn dateline_date(article: &str) -> Option<(NaiveDate, Range<usize>)> {
    let mut cut = article.len().min(DATELINE_WINDOW);
    while !article.is_char_boundary(cut) {
        cut -= 1;
    }
    let head = &article[..cut];
    let cx = Context {
        text: head,
        // Datelines carry their year; the anchor is never used.
        anchor: NaiveDate::MIN,
        tense: Tense::Past,
    };
    DATELINE_RULES
        .iter()
        .filter_map(|(re, handler)| {
            re.captures_iter(head).find_map(|caps| {
                let whole = caps.get(0)?;
                let (date, _, _) = handler(&cx, &caps)?;
                YEAR_RANGE
                    .contains(&date.year())
                    .then_some((date, whole.range()))
            })
        })
        .min_by_key(|(_, span)| span.start)
}

/// Every time expression of `sentence`, resolved against `anchor`, in text order,
/// non-overlapping (longest match wins).
///
/// `anchor` is the publication date (see [`dateline_date`]); `tense` decides bare weekdays and
/// dates without a year (see the module documentation). The phrase of each result includes the
/// little words that belong to the expression (« le », « en », "on", "in").
pub fn resolve_dates(sentence: &str, anchor: NaiveDate, tense: Tense) -> Vec<ResolvedDate> {
    let cx = Context {
        text: sentence,
        anchor,
        tense,
    };
    let mut found = Vec::new();
    for (re, handler) in RULES.iter() {
        for caps in re.captures_iter(sentence) {
            let Some(whole) = caps.get(0) else {
                continue;
            };
            if whole.is_empty() {
                continue;
            }
            if let Some((start, end, granularity)) = handler(&cx, &caps) {
                found.push(ResolvedDate {
                    start,
                    end,
                    granularity,
                    phrase: whole.as_str().to_string(),
                    span: whole.range(),
                });
            }
        }
    }
    longest_first(found)
}

/// Keeps the longest of overlapping candidates (the earlier one, then the earlier rule, on
/// equal lengths) and returns them in text order.
fn longest_first(mut found: Vec<ResolvedDate>) -> Vec<ResolvedDate> {
    found.sort_by(|a, b| {
        b.span
            .len()
            .cmp(&a.span.len())
            .then(a.span.start.cmp(&b.span.start))
    });
    // Start -> end of the spans kept so far; they never overlap, so the one starting last
    // before a candidate's end is the only one that can overlap it.
    let mut taken: BTreeMap<usize, usize> = BTreeMap::new();
    let mut kept = Vec::new();
    for candidate in found {
        let overlaps = taken
            .range(..candidate.span.end)
            .next_back()
            .is_some_and(|(_, &end)| end > candidate.span.start);
        if !overlaps {
            taken.insert(candidate.span.start, candidate.span.end);
            kept.push(candidate);
        }
    }
    kept.sort_by_key(|c| c.span.start);
    kept
}

// ---------------------------------------------------------------------------------------------
// Handlers
// ---------------------------------------------------------------------------------------------

/// `2025-03-14`.
fn iso_date(_: &Context, caps: &Captures) -> Option<Resolution> {
    let y = number(caps, "y")?;
    let date = NaiveDate::from_ymd_opt(y, number(caps, "m")?, number(caps, "d")?)?;
    FULL_DATE_YEAR_RANGE
        .contains(&y)
        .then_some((date, date, Granularity::Day))
}

/// `14/03/2025`, day first; month first only when day first is impossible.
fn numeric_date(_: &Context, caps: &Captures) -> Option<Resolution> {
    let (a, b, y): (u32, u32, i32) = (number(caps, "a")?, number(caps, "b")?, number(caps, "y")?);
    if !FULL_DATE_YEAR_RANGE.contains(&y) {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(y, b, a).or_else(|| NaiveDate::from_ymd_opt(y, a, b))?;
    Some((date, date, Granularity::Day))
}

/// « le 14 mars 2025 », "14 March", « le 1er mai dernier ».
fn day_first_date(cx: &Context, caps: &Captures) -> Option<Resolution> {
    explicit_date(cx, caps, DayNumber::Before)
}

/// "March 14, 2025", "on Tuesday, March 11".
fn month_first_date(cx: &Context, caps: &Captures) -> Option<Resolution> {
    explicit_date(cx, caps, DayNumber::After)
}

/// A day and month, with or without a year.
fn explicit_date(cx: &Context, caps: &Captures, day_number: DayNumber) -> Option<Resolution> {
    if number_follows(cx, caps) {
        return None;
    }
    let m = month_number(caps.name("m")?.as_str(), day_number)?;
    let d: u32 = number(caps, "d")?;
    let date = match caps.name("y") {
        Some(_) => {
            let y = number(caps, "y")?;
            if !FULL_DATE_YEAR_RANGE.contains(&y) {
                return None;
            }
            NaiveDate::from_ymd_opt(y, m, d)?
        }
        None => day_in_year(cx, m, d, direction(caps, &["rel"]))?,
    };
    Some((date, date, Granularity::Day))
}

/// « du 8 au 19 avril », "8-19 April", « du 28 février au 3 mars ».
fn day_first_range(cx: &Context, caps: &Captures) -> Option<Resolution> {
    let m2 = month_number(caps.name("m2")?.as_str(), DayNumber::Before)?;
    let m1 = match caps.name("m1") {
        Some(m) => month_number(m.as_str(), DayNumber::Before)?,
        None => m2,
    };
    day_range(cx, caps, m1, m2)
}

/// "from April 8 to 19", "April 8-19", "between April 8 and May 3, 2025".
fn month_first_range(cx: &Context, caps: &Captures) -> Option<Resolution> {
    let m1 = month_number(caps.name("m1")?.as_str(), DayNumber::After)?;
    let m2 = match caps.name("m2") {
        Some(m) => month_number(m.as_str(), DayNumber::After)?,
        None => m1,
    };
    day_range(cx, caps, m1, m2)
}

/// The range from `d1` of month `m1` to `d2` of month `m2`, years given or inferred.
fn day_range(cx: &Context, caps: &Captures, m1: u32, m2: u32) -> Option<Resolution> {
    if number_follows(cx, caps) {
        return None;
    }
    // « et » / "and" only makes a range after « entre » / "between".
    let connector = fold(caps.name("conn")?.as_str().trim());
    let opener = caps.name("pre").map(|p| fold(p.as_str()));
    if matches!(connector.as_str(), "et" | "and")
        && !matches!(opener.as_deref(), Some("entre" | "between"))
    {
        return None;
    }
    let (d1, d2): (u32, u32) = (number(caps, "d1")?, number(caps, "d2")?);
    if m1 == m2 && d2 <= d1 {
        return None;
    }
    let given = |name: &str| -> Option<Option<i32>> {
        match caps.name(name) {
            None => Some(None),
            Some(_) => {
                let y: i32 = number(caps, name)?;
                FULL_DATE_YEAR_RANGE.contains(&y).then_some(Some(y))
            }
        }
    };
    let (y1, y2) = (given("y1")?, given("y2")?);
    // Does the end fall later in the year than the start, or in the next year?
    let same_year = (m2, d2) >= (m1, d1);
    let start = match (y1, y2) {
        (Some(y), _) => NaiveDate::from_ymd_opt(y, m1, d1)?,
        (None, Some(y)) => NaiveDate::from_ymd_opt(if same_year { y } else { y - 1 }, m1, d1)?,
        (None, None) => day_in_year(cx, m1, d1, direction(caps, &["rel"]))?,
    };
    let end_year = match y2 {
        Some(y) => y,
        None if same_year => start.year(),
        None => start.year() + 1,
    };
    let end = NaiveDate::from_ymd_opt(end_year, m2, d2)?;
    let days = (end - start).num_days();
    (1..=MAX_RANGE_DAYS)
        .contains(&days)
        .then_some((start, end, Granularity::Range))
}

/// « dans la nuit de lundi à mardi », "overnight Monday to Tuesday": the two days.
fn weekday_night(cx: &Context, caps: &Captures) -> Option<Resolution> {
    let first = weekday_of(caps.name("w1")?.as_str())?;
    let start = weekday_date(cx, first, None)?;
    let end = match caps.name("w2") {
        Some(w) => {
            let second = weekday_of(w.as_str())?;
            (1..=7)
                .filter_map(|n| start.checked_add_days(Days::new(n)))
                .find(|d| d.weekday() == second)?
        }
        None => start.succ_opt()?,
    };
    Some((start, end, Granularity::Range))
}

/// "overnight", « dans la nuit »: the night before the anchor in the past tense, the night
/// after it in the future tense.
fn overnight(cx: &Context, _: &Captures) -> Option<Resolution> {
    match cx.tense {
        Tense::Past => Some((cx.anchor.pred_opt()?, cx.anchor, Granularity::Range)),
        Tense::Future => Some((cx.anchor, cx.anchor.succ_opt()?, Granularity::Range)),
    }
}

/// « mardi », « mardi dernier », "next Tuesday", "on Tuesday night".
fn bare_weekday(cx: &Context, caps: &Captures) -> Option<Resolution> {
    // « Mardi gras » is a feast, not a Tuesday of the news.
    if MARDI_GRAS.is_match(&cx.text[caps.get(0)?.end()..]) {
        return None;
    }
    let target = weekday_of(caps.name("w")?.as_str())?;
    let date = weekday_date(cx, target, direction(caps, &["pre", "rel", "rel2"]))?;
    Some((date, date, Granularity::Day))
}

/// hier, demain, aujourd'hui, yesterday, tonight, « ce matin », « cette nuit ».
fn relative_day(cx: &Context, caps: &Captures) -> Option<Resolution> {
    let word = fold(caps.name("w")?.as_str());
    let offset: i64 = if word.starts_with("avant") || word.starts_with("the day before") {
        -2
    } else if word.starts_with("apres-d")
        || word.starts_with("apres d")
        || word.starts_with("the day after")
    {
        2
    } else if word.starts_with("hier")
        || word.starts_with("yesterday")
        || word.starts_with("last")
        || word.contains("derniere")
    {
        -1
    } else if word.starts_with("demain") || word.starts_with("tomorrow") {
        1
    } else {
        0
    };
    let date = shift_days(cx.anchor, offset)?;
    Some((date, date, Granularity::Day))
}

/// « la semaine dernière », « cette semaine », "next week": an ISO week.
fn relative_week(cx: &Context, caps: &Captures) -> Option<Resolution> {
    let offset = relative_offset(caps, &["fr", "en"]);
    let day = shift_days(cx.anchor, 7 * offset)?;
    let monday = day.checked_sub_days(Days::new(day.weekday().num_days_from_monday().into()))?;
    let sunday = monday.checked_add_days(Days::new(6))?;
    Some((monday, sunday, Granularity::Week))
}

/// "over the weekend", « ce week-end », "next weekend": a Saturday and its Sunday — the latest
/// one up to the anchor in the past tense (or with "last"/« dernier »), the next one from it in
/// the future tense (or with "next"/« prochain »); a Saturday or Sunday anchor is in its own.
fn weekend(cx: &Context, caps: &Captures) -> Option<Resolution> {
    let tense = direction(caps, &["fr", "en"]).unwrap_or(cx.tense);
    let back = i64::from((cx.anchor.weekday().num_days_from_monday() + 2) % 7);
    let saturday = match (tense, cx.anchor.weekday()) {
        (_, Weekday::Sun) => shift_days(cx.anchor, -1)?,
        (Tense::Past, _) => shift_days(cx.anchor, -back)?,
        (Tense::Future, _) => shift_days(cx.anchor, (7 - back) % 7)?,
    };
    Some((saturday, saturday.succ_opt()?, Granularity::Range))
}

/// « le mois dernier », « ce mois-ci », "last month", « fin du mois ».
fn relative_month(cx: &Context, caps: &Captures) -> Option<Resolution> {
    let offset = relative_offset(caps, &["fr", "en", "fr2", "en2"]);
    let index = i64::from(cx.anchor.year()) * 12 + i64::from(cx.anchor.month0()) + offset;
    let y = i32::try_from(index.div_euclid(12)).ok()?;
    let m = u32::try_from(index.rem_euclid(12)).ok()? + 1;
    month_resolution(y, m)
}

/// « en mars », « mars 2024 », « en mars dernier », "last March", « début mars », "mid-March".
fn named_month(cx: &Context, caps: &Captures) -> Option<Resolution> {
    let token = caps.name("m")?;
    let has_context = ["prep", "part", "rel1", "rel2", "y"]
        .iter()
        .any(|name| caps.name(name).is_some());
    if !has_context || number_follows(cx, caps) {
        return None;
    }
    // A capitalised « Mars » inside a sentence is the planet (« Mars 2020 », « vers Mars »).
    if token.as_str() == "Mars" && !cx.text[..caps.get(0)?.start()].trim().is_empty() {
        return None;
    }
    let m = month_number(token.as_str(), DayNumber::None)?;
    let y = match caps.name("y") {
        Some(_) => {
            let y: i32 = number(caps, "y")?;
            if !YEAR_RANGE.contains(&y) {
                return None;
            }
            y
        }
        None => {
            let first = |y: i32| NaiveDate::from_ymd_opt(y, m, 1);
            let anchor_month = NaiveDate::from_ymd_opt(cx.anchor.year(), cx.anchor.month(), 1)?;
            let year = cx.anchor.year();
            let candidates = (year - 1..=year + 1).filter_map(first);
            pick(
                candidates,
                anchor_month,
                cx.tense,
                direction(caps, &["rel1", "rel2"]),
                0,
            )?
            .year()
        }
    };
    month_resolution(y, m)
}

/// « l'an dernier », « cette année », "next year".
fn relative_year(cx: &Context, caps: &Captures) -> Option<Resolution> {
    let offset = i32::try_from(relative_offset(caps, &["fr", "en", "fr2", "en2"])).ok()?;
    year_resolution(cx.anchor.year().checked_add(offset)?)
}

/// « en 2023 », "since 2020", « mi-2024 »: needs a word before it and a year in 1900..=2100.
fn named_year(cx: &Context, caps: &Captures) -> Option<Resolution> {
    if caps.name("prep").is_none() && caps.name("part").is_none() {
        return None;
    }
    let whole = caps.get(0)?;
    if QUANTITY_AFTER.is_match(&cx.text[whole.end()..]) {
        return None;
    }
    let y: i32 = number(caps, "y")?;
    if !YEAR_RANGE.contains(&y) {
        return None;
    }
    year_resolution(y)
}

// ---------------------------------------------------------------------------------------------
// Calendar helpers
// ---------------------------------------------------------------------------------------------

/// Where the day number stands relative to a month name, which decides whether a lower-case
/// English "march" / "may" can be the month.
#[derive(Clone, Copy, PartialEq, Eq)]
enum DayNumber {
    /// No day number (« en mars », "in May").
    None,
    /// "14 March": "up to 14 may die" must not be a date, so lower-case "may" is refused.
    Before,
    /// "March 14", "may 14".
    After,
}

/// The month number of a month name or abbreviation; `None` for the English "march" / "may"
/// written in lower case where they are more likely the noun or verb.
fn month_number(token: &str, day_number: DayNumber) -> Option<u32> {
    let folded = fold(token);
    let name = folded.trim_end_matches('.');
    let capitalised = token.starts_with('M');
    let month = match name {
        "janvier" | "janv" | "january" | "jan" => 1,
        "fevrier" | "fevr" | "february" | "feb" => 2,
        "march" if !capitalised && day_number == DayNumber::None => return None,
        "mars" | "march" | "mar" => 3,
        "avril" | "avr" | "april" | "apr" => 4,
        "may" if !capitalised && day_number != DayNumber::After => return None,
        "mai" | "may" => 5,
        "juin" | "june" | "jun" => 6,
        "juillet" | "juil" | "july" | "jul" => 7,
        "aout" | "august" | "aug" => 8,
        "septembre" | "sept" | "september" | "sep" => 9,
        "octobre" | "october" | "oct" => 10,
        "novembre" | "november" | "nov" => 11,
        "decembre" | "december" | "dec" => 12,
        _ => return None,
    };
    Some(month)
}

/// The weekday a French or English weekday name names.
fn weekday_of(token: &str) -> Option<Weekday> {
    Some(match fold(token).as_str() {
        "lundi" | "monday" => Weekday::Mon,
        "mardi" | "tuesday" => Weekday::Tue,
        "mercredi" | "wednesday" => Weekday::Wed,
        "jeudi" | "thursday" => Weekday::Thu,
        "vendredi" | "friday" => Weekday::Fri,
        "samedi" | "saturday" => Weekday::Sat,
        "dimanche" | "sunday" => Weekday::Sun,
        _ => return None,
    })
}

/// The direction the first of the named groups that matched forces: « dernier », « passé »,
/// "last" the past; « prochain », "next", "coming" the future; « ce », "this", "on" nothing.
fn direction(caps: &Captures, names: &[&str]) -> Option<Tense> {
    names.iter().find_map(|name| {
        let word = fold(caps.name(name)?.as_str());
        if word.starts_with("dernier") || word.starts_with("pass") || word == "last" {
            Some(Tense::Past)
        } else if word.starts_with("prochain") || word == "next" || word == "coming" {
            Some(Tense::Future)
        } else {
            None
        }
    })
}

/// -1, 0 or +1 for « dernier » / "last", « ce » / "this", « prochain » / "next".
fn relative_offset(caps: &Captures, names: &[&str]) -> i64 {
    match direction(caps, names) {
        Some(Tense::Past) => -1,
        Some(Tense::Future) => 1,
        None => 0,
    }
}

/// The date of a weekday around the anchor (see the module documentation).
fn weekday_date(cx: &Context, target: Weekday, forced: Option<Tense>) -> Option<NaiveDate> {
    let candidates = (-7..=7)
        .filter_map(|n| shift_days(cx.anchor, n))
        .filter(|d| d.weekday() == target);
    pick(candidates, cx.anchor, cx.tense, forced, 0)
}

/// A day and month without a year, placed in the year the tense and the anchor call for.
fn day_in_year(cx: &Context, m: u32, d: u32, forced: Option<Tense>) -> Option<NaiveDate> {
    let year = cx.anchor.year();
    let candidates = (year - 1..=year + 1).filter_map(|y| NaiveDate::from_ymd_opt(y, m, d));
    pick(candidates, cx.anchor, cx.tense, forced, PAST_SLACK_DAYS)
}

/// Of the candidate dates, the one meant: with a forced direction the closest strictly
/// before / after `reference`; otherwise in the future tense the first on or after it, in the
/// past tense the last on or before it plus `slack` days.
fn pick(
    candidates: impl Iterator<Item = NaiveDate>,
    reference: NaiveDate,
    tense: Tense,
    forced: Option<Tense>,
    slack: u64,
) -> Option<NaiveDate> {
    match forced {
        Some(Tense::Past) => candidates.filter(|d| *d < reference).max(),
        Some(Tense::Future) => candidates.filter(|d| *d > reference).min(),
        None => match tense {
            Tense::Future => candidates.filter(|d| *d >= reference).min(),
            Tense::Past => {
                let limit = reference
                    .checked_add_days(Days::new(slack))
                    .unwrap_or(NaiveDate::MAX);
                candidates.filter(|d| *d <= limit).max()
            }
        },
    }
}

/// `date` moved by `days` (either way), if still in chrono's calendar.
fn shift_days(date: NaiveDate, days: i64) -> Option<NaiveDate> {
    let magnitude = Days::new(days.unsigned_abs());
    if days < 0 {
        date.checked_sub_days(magnitude)
    } else {
        date.checked_add_days(magnitude)
    }
}

/// The whole month `m` of year `y`.
fn month_resolution(y: i32, m: u32) -> Option<Resolution> {
    let first = NaiveDate::from_ymd_opt(y, m, 1)?;
    let next = if m == 12 {
        NaiveDate::from_ymd_opt(y.checked_add(1)?, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(y, m + 1, 1)
    };
    // December of chrono's last year has no next month to count back from.
    let last = match next {
        Some(next) => next.pred_opt()?,
        None => NaiveDate::from_ymd_opt(y, 12, 31)?,
    };
    Some((first, last, Granularity::Month))
}

/// The whole year `y`.
fn year_resolution(y: i32) -> Option<Resolution> {
    Some((
        NaiveDate::from_ymd_opt(y, 1, 1)?,
        NaiveDate::from_ymd_opt(y, 12, 31)?,
        Granularity::Year,
    ))
}

// ---------------------------------------------------------------------------------------------
// Text helpers
// ---------------------------------------------------------------------------------------------

/// The named group parsed as a number (the patterns only capture ASCII digits).
fn number<T: std::str::FromStr>(caps: &Captures, name: &str) -> Option<T> {
    caps.name(name)?.as_str().parse().ok()
}

/// Whether a number follows the match with only spaces between (« le 14 mars 99999 », « en mai
/// 68 »): the match is then part of something else.
fn number_follows(cx: &Context, caps: &Captures) -> bool {
    caps.get(0)
        .is_some_and(|whole| NUMBER_AFTER.is_match(&cx.text[whole.end()..]))
}

/// Lower case without the French accents, ’ as '.
fn fold(text: &str) -> String {
    text.chars()
        .flat_map(char::to_lowercase)
        .map(|c| match c {
            'à' | 'â' | 'ä' => 'a',
            'é' | 'è' | 'ê' | 'ë' => 'e',
            'î' | 'ï' => 'i',
            'ô' | 'ö' => 'o',
            'ù' | 'û' | 'ü' => 'u',
            'ç' => 'c',
            '’' => '\'',
            other => other,
        })
        .collect()
}

/// Where the story starts in a text that may open with a dateline ("BAMAKO, 3 octobre 2024
/// (AFP) — "): the dateline names neither an actor nor the event's date.
pub fn story_start(text: &str) -> usize {
    let Some((_, span)) = dateline_date(text) else {
        return 0;
    };
    if span.start > 80 {
        return 0;
    }
    let mut offset = span.end;
    let mut rest = &text[span.end..];
    let trimmed = rest.trim_start();
    offset += rest.len() - trimmed.len();
    rest = trimmed;
    // A dateline ends with its separator (" —", " -", " :", " (AFP) —"); a date followed by
    // words is part of the story.
    if !rest.starts_with(['—', '–', '-', ':', '(']) {
        return 0;
    }
    if rest.starts_with('(') {
        if let Some(close) = rest.find(')') {
            offset += close + 1;
            rest = &rest[close + 1..];
        }
    }
    let trimmed = rest.trim_start_matches(|c: char| {
        c.is_whitespace() || matches!(c, '—' | '–' | '-' | ':' | ',')
    });
    offset + (rest.len() - trimmed.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use Granularity::{Day, Month, Range as Span, Week, Year};
    use Tense::{Future, Past};

    /// A case: sentence, tense, expected phrase (empty: the whole sentence), start, end (empty:
    /// same as start) and granularity.
    type Case = (
        &'static str,
        Tense,
        &'static str,
        &'static str,
        &'static str,
        Granularity,
    );

    fn date(iso: &str) -> NaiveDate {
        NaiveDate::parse_from_str(iso, "%Y-%m-%d").expect("test dates are valid")
    }

    /// Friday 14 March 2025, the anchor of most tests.
    fn friday() -> NaiveDate {
        date("2025-03-14")
    }

    /// Checks that each case resolves to exactly the one expected date.
    #[track_caller]
    fn check(anchor: NaiveDate, cases: &[Case]) {
        for &(sentence, tense, phrase, start, end, granularity) in cases {
            let got = resolve_dates(sentence, anchor, tense);
            let phrase = if phrase.is_empty() { sentence } else { phrase };
            let end = if end.is_empty() { start } else { end };
            let expected = ResolvedDate {
                start: date(start),
                end: date(end),
                granularity,
                phrase: phrase.to_string(),
                span: sentence
                    .find(phrase)
                    .map_or(0..0, |at| at..at + phrase.len()),
            };
            assert_eq!(
                got,
                vec![expected],
                "{sentence:?} ({tense:?}, anchor {anchor})"
            );
        }
    }

    /// Checks that none of the sentences has a time expression, in either tense.
    #[track_caller]
    fn check_none(sentences: &[&str]) {
        for sentence in sentences {
            for tense in [Past, Future] {
                let got = resolve_dates(sentence, friday(), tense);
                assert!(got.is_empty(), "{sentence:?} gave {got:?}");
            }
        }
    }

    #[test]
    fn weekday_follows_the_tense() {
        #[rustfmt::skip]
        const CASES: &[Case] = &[
            ("Il est arrivé mardi à Rabat.", Past, "mardi", "2025-03-11", "", Day),
            ("Il arrivera mardi à Rabat.", Future, "mardi", "2025-03-18", "", Day),
            ("Le sommet s'ouvre vendredi.", Past, "vendredi", "2025-03-14", "", Day),
            ("Le sommet s'ouvre vendredi.", Future, "vendredi", "2025-03-14", "", Day),
            ("Elle est partie dimanche.", Past, "dimanche", "2025-03-09", "", Day),
            ("He arrived on Tuesday.", Past, "on Tuesday", "2025-03-11", "", Day),
            ("He will arrive on Tuesday.", Future, "on Tuesday", "2025-03-18", "", Day),
            ("Ce lundi, les urnes ont ouvert.", Past, "Ce lundi", "2025-03-10", "", Day),
            ("LUNDI, rien.", Past, "LUNDI", "2025-03-10", "", Day),
        ];
        check(friday(), CASES);
    }

    #[test]
    fn weekday_direction_words_win_over_the_tense() {
        #[rustfmt::skip]
        const CASES: &[Case] = &[
            ("Il viendra mardi dernier.", Future, "mardi dernier", "2025-03-11", "", Day),
            ("Il est venu mardi prochain.", Past, "mardi prochain", "2025-03-18", "", Day),
            ("vendredi dernier", Past, "", "2025-03-07", "", Day),
            ("vendredi prochain", Past, "", "2025-03-21", "", Day),
            ("It happened last Friday.", Future, "last Friday", "2025-03-07", "", Day),
            ("They meet next Tuesday.", Past, "next Tuesday", "2025-03-18", "", Day),
        ];
        check(friday(), CASES);
    }

    #[test]
    fn weekday_with_time_of_day_keeps_the_day() {
        #[rustfmt::skip]
        const CASES: &[Case] = &[
            ("Lundi soir, la police est intervenue.", Past, "Lundi soir", "2025-03-10", "", Day),
            ("mercredi après-midi", Past, "", "2025-03-12", "", Day),
            ("mercredi apres-midi", Future, "", "2025-03-19", "", Day),
            ("jeudi matin dernier", Future, "", "2025-03-13", "", Day),
            ("The blast hit on Tuesday night.", Past, "on Tuesday night", "2025-03-11", "", Day),
            ("Saturday morning", Future, "", "2025-03-15", "", Day),
        ];
        check(friday(), CASES);
    }

    #[test]
    fn nights_across_two_days() {
        #[rustfmt::skip]
        const CASES: &[Case] = &[
            ("Dans la nuit de lundi à mardi, des tirs.", Past, "Dans la nuit de lundi à mardi", "2025-03-10", "2025-03-11", Span),
            ("dans la nuit du samedi au dimanche", Future, "", "2025-03-15", "2025-03-16", Span),
            ("la nuit de jeudi a vendredi", Past, "", "2025-03-13", "2025-03-14", Span),
            ("Strikes hit overnight Monday to Tuesday.", Past, "overnight Monday to Tuesday", "2025-03-10", "2025-03-11", Span),
            ("on Wednesday night into Thursday morning", Past, "", "2025-03-12", "2025-03-13", Span),
            ("Fighting raged overnight.", Past, "overnight", "2025-03-13", "2025-03-14", Span),
            ("Des frappes dans la nuit.", Past, "dans la nuit", "2025-03-13", "2025-03-14", Span),
            ("Il partira dans la nuit.", Future, "dans la nuit", "2025-03-14", "2025-03-15", Span),
        ];
        check(friday(), CASES);
    }

    #[test]
    fn relative_days() {
        #[rustfmt::skip]
        const CASES: &[Case] = &[
            ("Il est arrivé hier.", Future, "hier", "2025-03-13", "", Day),
            ("avant-hier", Past, "", "2025-03-12", "", Day),
            ("aujourd'hui", Past, "", "2025-03-14", "", Day),
            ("aujourd’hui", Future, "", "2025-03-14", "", Day),
            ("Il arrivera demain matin.", Future, "demain matin", "2025-03-15", "", Day),
            ("après-demain", Future, "", "2025-03-16", "", Day),
            ("apres-demain", Future, "", "2025-03-16", "", Day),
            ("hier soir", Past, "", "2025-03-13", "", Day),
            ("Ce matin, le marché a chuté.", Past, "Ce matin", "2025-03-14", "", Day),
            ("Cette nuit, deux drones ont frappé.", Past, "Cette nuit", "2025-03-14", "", Day),
            ("la nuit dernière", Past, "", "2025-03-13", "", Day),
            ("He spoke yesterday.", Past, "yesterday", "2025-03-13", "", Day),
            ("Today the vote opens.", Future, "Today", "2025-03-14", "", Day),
            ("They fly tomorrow.", Future, "tomorrow", "2025-03-15", "", Day),
            ("the day before yesterday", Past, "", "2025-03-12", "", Day),
            ("the day after tomorrow", Past, "", "2025-03-16", "", Day),
            ("Shots were heard last night.", Past, "last night", "2025-03-13", "", Day),
            ("this afternoon", Past, "", "2025-03-14", "", Day),
        ];
        check(friday(), CASES);
        check_none(&["le lendemain", "la hiérarchie militaire", "la veille"]);
    }

    #[test]
    fn explicit_dates() {
        #[rustfmt::skip]
        const CASES: &[Case] = &[
            ("Le vote a eu lieu le 14 mars.", Past, "le 14 mars", "2025-03-14", "", Day),
            ("Il est né le 14 mars 2024.", Past, "le 14 mars 2024", "2024-03-14", "", Day),
            ("le 1er mai", Future, "", "2025-05-01", "", Day),
            ("le 1er mai", Past, "", "2024-05-01", "", Day),
            ("le 20 mars", Past, "", "2025-03-20", "", Day),
            ("le 25 mars", Past, "", "2024-03-25", "", Day),
            ("le mardi 11 mars", Past, "", "2025-03-11", "", Day),
            ("le 14 mars dernier", Future, "", "2024-03-14", "", Day),
            ("le 14 mars prochain", Past, "", "2026-03-14", "", Day),
            ("le 3 fevrier", Past, "", "2025-02-03", "", Day),
            ("le 15 août", Future, "", "2025-08-15", "", Day),
            ("le 5 sept. 2024", Past, "", "2024-09-05", "", Day),
            ("It opened on March 14.", Past, "on March 14", "2025-03-14", "", Day),
            ("It opened on 14 March.", Past, "on 14 March", "2025-03-14", "", Day),
            ("Talks end March 14, 2026.", Past, "March 14, 2026", "2026-03-14", "", Day),
            ("on Tuesday, March 11, 2025", Future, "", "2025-03-11", "", Day),
            ("the 5th of June", Future, "", "2025-06-05", "", Day),
            ("on Jan. 5", Past, "", "2025-01-05", "", Day),
            ("by march 14", Future, "march 14", "2025-03-14", "", Day),
            ("Paris, le 14/03/2025", Past, "le 14/03/2025", "2025-03-14", "", Day),
            ("on 03/14/2025", Past, "", "2025-03-14", "", Day),
            ("Publié 2025-03-14 à midi", Past, "2025-03-14", "2025-03-14", "", Day),
            ("Le 14 juillet 1789, la Bastille", Past, "Le 14 juillet 1789", "1789-07-14", "", Day),
            ("le 29 février", Past, "", "2024-02-29", "", Day),
        ];
        check(friday(), CASES);
    }

    #[test]
    fn year_wraps_around() {
        #[rustfmt::skip]
        const EARLY_JANUARY: &[Case] = &[
            ("le 28 décembre", Past, "", "2024-12-28", "", Day),
            ("on December 28", Past, "", "2024-12-28", "", Day),
            ("en décembre", Past, "", "2024-12-01", "2024-12-31", Month),
            ("du 28 décembre au 3 janvier", Past, "", "2024-12-28", "2025-01-03", Span),
        ];
        #[rustfmt::skip]
        const LATE_DECEMBER: &[Case] = &[
            ("le 5 janvier", Future, "", "2026-01-05", "", Day),
            ("in January", Future, "", "2026-01-01", "2026-01-31", Month),
            ("du 28 décembre au 3 janvier", Future, "", "2025-12-28", "2026-01-03", Span),
        ];
        check(date("2025-01-03"), EARLY_JANUARY);
        check(date("2025-12-20"), LATE_DECEMBER);
    }

    #[test]
    fn impossible_dates_are_skipped() {
        check_none(&[
            "le 31 février",
            "le 99 mars",
            "le 0 mai",
            "le 14 mars 99999",
            "31/31/2025",
            "2025-13-45",
            "en mai 68",
        ]);
        // 2025 is not a leap year; the next 29 February is too far to be meant.
        assert!(resolve_dates("le 29 février", friday(), Future).is_empty());
    }

    #[test]
    fn day_ranges() {
        #[rustfmt::skip]
        const CASES: &[Case] = &[
            ("du 8 au 19 avril prochain", Past, "", "2025-04-08", "2025-04-19", Span),
            ("Festival du 8 au 19 avril.", Future, "du 8 au 19 avril", "2025-04-08", "2025-04-19", Span),
            ("du 8 au 19 avril", Past, "", "2024-04-08", "2024-04-19", Span),
            ("entre le 8 et le 19 avril", Future, "", "2025-04-08", "2025-04-19", Span),
            ("du 28 février au 3 mars", Past, "", "2025-02-28", "2025-03-03", Span),
            ("from April 8 to 19", Future, "", "2025-04-08", "2025-04-19", Span),
            ("April 8-19", Future, "", "2025-04-08", "2025-04-19", Span),
            ("8-19 April", Future, "", "2025-04-08", "2025-04-19", Span),
            ("from April 8 to May 3", Future, "", "2025-04-08", "2025-05-03", Span),
            ("between 8 and 19 April 2026", Past, "", "2026-04-08", "2026-04-19", Span),
            ("held on March 3-4", Past, "on March 3-4", "2025-03-03", "2025-03-04", Span),
            ("on 3-4 March", Past, "", "2025-03-03", "2025-03-04", Span),
            ("from 28 December 2024 to 3 January 2025", Past, "", "2024-12-28", "2025-01-03", Span),
            // « et » without « entre » names two days, not a range: the last one is kept.
            ("le 8 et le 19 avril", Future, "le 19 avril", "2025-04-19", "", Day),
            // An impossible range leaves its well-formed end.
            ("du 19 au 8 avril", Future, "8 avril", "2025-04-08", "", Day),
        ];
        check(friday(), CASES);
    }

    #[test]
    fn months() {
        #[rustfmt::skip]
        const CASES: &[Case] = &[
            ("en mars", Past, "", "2025-03-01", "2025-03-31", Month),
            ("en mars", Future, "", "2025-03-01", "2025-03-31", Month),
            ("en mars dernier", Past, "", "2024-03-01", "2024-03-31", Month),
            ("en mars prochain", Past, "", "2026-03-01", "2026-03-31", Month),
            ("en février", Future, "", "2026-02-01", "2026-02-28", Month),
            ("en décembre", Past, "", "2024-12-01", "2024-12-31", Month),
            ("en décembre", Future, "", "2025-12-01", "2025-12-31", Month),
            ("mars 2024", Past, "", "2024-03-01", "2024-03-31", Month),
            ("in March", Past, "", "2025-03-01", "2025-03-31", Month),
            ("last March", Past, "", "2024-03-01", "2024-03-31", Month),
            ("next March", Past, "", "2026-03-01", "2026-03-31", Month),
            ("in May", Past, "", "2024-05-01", "2024-05-31", Month),
            ("début mars", Past, "", "2025-03-01", "2025-03-31", Month),
            ("fin avril", Future, "", "2025-04-01", "2025-04-30", Month),
            ("fin d'avril", Future, "", "2025-04-01", "2025-04-30", Month),
            ("mi-mars", Past, "", "2025-03-01", "2025-03-31", Month),
            ("early March", Past, "", "2025-03-01", "2025-03-31", Month),
            ("late February", Past, "", "2025-02-01", "2025-02-28", Month),
            ("mid-March", Past, "", "2025-03-01", "2025-03-31", Month),
            ("in August 2024", Future, "", "2024-08-01", "2024-08-31", Month),
            ("Since January, 300 died.", Past, "Since January", "2025-01-01", "2025-01-31", Month),
        ];
        check(friday(), CASES);
    }

    #[test]
    fn relative_months() {
        #[rustfmt::skip]
        const CASES: &[Case] = &[
            ("le mois dernier", Future, "", "2025-02-01", "2025-02-28", Month),
            ("le mois prochain", Past, "", "2025-04-01", "2025-04-30", Month),
            ("ce mois-ci", Past, "", "2025-03-01", "2025-03-31", Month),
            ("last month", Past, "", "2025-02-01", "2025-02-28", Month),
            ("next month", Past, "", "2025-04-01", "2025-04-30", Month),
            ("this month", Past, "", "2025-03-01", "2025-03-31", Month),
            ("earlier this month", Past, "", "2025-03-01", "2025-03-31", Month),
            ("later this month", Future, "", "2025-03-01", "2025-03-31", Month),
            ("à la fin du mois", Future, "fin du mois", "2025-03-01", "2025-03-31", Month),
            ("by the end of the month", Future, "the end of the month", "2025-03-01", "2025-03-31", Month),
            ("at the start of next month", Future, "the start of next month", "2025-04-01", "2025-04-30", Month),
        ];
        check(friday(), CASES);
        check(
            date("2025-01-10"),
            &[("last month", Past, "", "2024-12-01", "2024-12-31", Month)],
        );
        check(
            date("2025-12-10"),
            &[("next month", Past, "", "2026-01-01", "2026-01-31", Month)],
        );
    }

    #[test]
    fn weekends() {
        #[rustfmt::skip]
        const CASES: &[Case] = &[
            ("over the weekend", Past, "", "2025-03-08", "2025-03-09", Span),
            ("this weekend", Future, "", "2025-03-15", "2025-03-16", Span),
            ("last weekend", Future, "", "2025-03-08", "2025-03-09", Span),
            ("ce week-end", Future, "", "2025-03-15", "2025-03-16", Span),
            ("le week-end dernier", Past, "", "2025-03-08", "2025-03-09", Span),
            ("le weekend prochain", Past, "", "2025-03-15", "2025-03-16", Span),
        ];
        check(friday(), CASES);
        // A Monday anchor: the weekend just past; a Sunday anchor: its own weekend.
        check(
            date("2025-09-08"),
            &[(
                "over the weekend",
                Past,
                "",
                "2025-09-06",
                "2025-09-07",
                Span,
            )],
        );
        check(
            date("2025-09-07"),
            &[("this weekend", Future, "", "2025-09-06", "2025-09-07", Span)],
        );
    }

    #[test]
    fn weeks() {
        #[rustfmt::skip]
        const CASES: &[Case] = &[
            ("la semaine dernière", Past, "", "2025-03-03", "2025-03-09", Week),
            ("la semaine derniere", Future, "", "2025-03-03", "2025-03-09", Week),
            ("la semaine prochaine", Past, "", "2025-03-17", "2025-03-23", Week),
            ("cette semaine", Past, "", "2025-03-10", "2025-03-16", Week),
            ("last week", Past, "", "2025-03-03", "2025-03-09", Week),
            ("next week", Past, "", "2025-03-17", "2025-03-23", Week),
            ("this week", Past, "", "2025-03-10", "2025-03-16", Week),
            ("earlier this week", Past, "", "2025-03-10", "2025-03-16", Week),
        ];
        check(friday(), CASES);
        check(
            date("2024-12-30"),
            &[("next week", Past, "", "2025-01-06", "2025-01-12", Week)],
        );
    }

    #[test]
    fn years() {
        #[rustfmt::skip]
        const CASES: &[Case] = &[
            ("en 2023", Past, "", "2023-01-01", "2023-12-31", Year),
            ("in 2023", Past, "", "2023-01-01", "2023-12-31", Year),
            ("depuis 2020", Past, "", "2020-01-01", "2020-12-31", Year),
            ("since 2020", Past, "", "2020-01-01", "2020-12-31", Year),
            ("the elections of 2022", Past, "of 2022", "2022-01-01", "2022-12-31", Year),
            ("l'année 2019", Past, "", "2019-01-01", "2019-12-31", Year),
            ("mi-2024", Past, "", "2024-01-01", "2024-12-31", Year),
            ("fin 2024", Past, "", "2024-01-01", "2024-12-31", Year),
            ("in early 2026", Past, "", "2026-01-01", "2026-12-31", Year),
            ("l'an dernier", Past, "", "2024-01-01", "2024-12-31", Year),
            ("l’année dernière", Past, "", "2024-01-01", "2024-12-31", Year),
            ("l'an prochain", Past, "", "2026-01-01", "2026-12-31", Year),
            ("l'année prochaine", Past, "", "2026-01-01", "2026-12-31", Year),
            ("cette année", Past, "", "2025-01-01", "2025-12-31", Year),
            ("last year", Past, "", "2024-01-01", "2024-12-31", Year),
            ("next year", Past, "", "2026-01-01", "2026-12-31", Year),
            ("this year", Past, "", "2025-01-01", "2025-12-31", Year),
            ("depuis le début de l'année", Past, "début de l'année", "2025-01-01", "2025-12-31", Year),
            ("fin de l'année dernière", Past, "", "2024-01-01", "2024-12-31", Year),
            ("at the end of last year", Past, "the end of last year", "2024-01-01", "2024-12-31", Year),
        ];
        check(friday(), CASES);
    }

    #[test]
    fn numbers_that_are_not_years() {
        check_none(&[
            "L'armée a déployé 2000 soldats.",
            "1 500 personnes ont manifesté.",
            "Il y a 2024 raisons.",
            "depuis 2000 ans",
            "a budget of 2023 euros",
            "in 2500",
            "en 1850",
            "entre 2020 et 2023",
        ]);
    }

    #[test]
    fn false_positive_traps() {
        check_none(&[
            "Il a dit oui, mais il a refusé.",
            "La sonde vers la planète Mars.",
            "Le rover Mars 2020 a atterri.",
            "They may attend the talks.",
            "Up to 14 may die.",
            "a protest march through the capital",
            "in march",
            "the Mondayization of work",
            "Le journal lundimatin",
            "un samedisme",
            "Mardi gras est fêté partout.",
        ]);
        #[rustfmt::skip]
        const CASES: &[Case] = &[
            ("It may rain in May.", Future, "in May", "2025-05-01", "2025-05-31", Month),
            ("a protest march on Tuesday", Past, "on Tuesday", "2025-03-11", "", Day),
            ("A march is planned for May 1.", Future, "May 1", "2025-05-01", "", Day),
        ];
        check(friday(), CASES);
    }

    #[test]
    fn several_expressions_in_text_order() {
        let sentence = "Lundi, le ministre a dit qu'il irait à Rabat la semaine prochaine, \
                        puis du 8 au 19 avril à Dakar.";
        let got = resolve_dates(sentence, friday(), Past);
        let summary: Vec<(&str, String, Granularity)> = got
            .iter()
            .map(|r| (r.phrase.as_str(), r.start.to_string(), r.granularity))
            .collect();
        assert_eq!(
            summary,
            [
                ("Lundi", "2025-03-10".to_string(), Day),
                ("la semaine prochaine", "2025-03-17".to_string(), Week),
                // Past tense: mid-April is more than a week after the anchor, so last April.
                ("du 8 au 19 avril", "2024-04-08".to_string(), Span),
            ]
        );
        for r in &got {
            assert_eq!(&sentence[r.span.clone()], r.phrase);
        }
    }

    #[test]
    fn datelines() {
        #[rustfmt::skip]
        let cases = [
            ("PARIS, 14 mars 2025 (AFP) — Le gouvernement…", "2025-03-14", "14 mars 2025"),
            ("BAMAKO, 3 octobre 2024 — La junte…", "2024-10-03", "3 octobre 2024"),
            ("GENEVA, March 14, 2025 — The UN…", "2025-03-14", "March 14, 2025"),
            ("NAIROBI, 3 October 2024 - Kenya…", "2024-10-03", "3 October 2024"),
            ("Paris, le 14/03/2025\nLe président…", "2025-03-14", "14/03/2025"),
            ("2025-03-14\nTitre", "2025-03-14", "2025-03-14"),
            ("DAKAR, jeudi 1er mai 2025 (AFP) - …", "2025-05-01", "1er mai 2025"),
            ("WASHINGTON, Jan. 5, 2025 (AP) —", "2025-01-05", "Jan. 5, 2025"),
        ];
        for (article, iso, phrase) in cases {
            let (got, span) = dateline_date(article).expect(article);
            assert_eq!(got, date(iso), "{article}");
            assert_eq!(&article[span], phrase, "{article}");
        }
        assert_eq!(dateline_date("Le président a parlé mardi."), None);
        assert_eq!(dateline_date("PARIS (AFP) — Le 14 mars, rien."), None);
        assert_eq!(dateline_date(""), None);
        let late = format!("{} 14 mars 2025", "x".repeat(200));
        assert_eq!(dateline_date(&late), None);
        // A multi-byte character across byte 200 does not panic.
        let multibyte = format!("{}é 14 mars 2025", "x".repeat(199));
        assert_eq!(dateline_date(&multibyte), None);
    }

    #[test]
    fn garbage_never_panics_and_returns_quickly() {
        let started = std::time::Instant::now();
        let inputs = [
            String::new(),
            "////".to_string(),
            "le le le le".to_string(),
            "99/99/9999 0/0/0000 9999-99-99 31/02/2025".to_string(),
            "le 00 mars, le 32 janvier, du 19 au 8 avril, du 8 au 8 avril".to_string(),
            "en 99999, in 2101, mars 1899".to_string(),
            "’’’ééé\u{202f}\u{a0}—–-".to_string(),
            "12/31/".repeat(100_000 / 6),
            "1/1/2000/".repeat(12_000),
            "é’ mardi 99 f ".repeat(8_000),
        ];
        for input in &inputs {
            for anchor in [friday(), NaiveDate::MIN, NaiveDate::MAX] {
                for tense in [Past, Future] {
                    let _ = resolve_dates(input, anchor, tense);
                }
            }
            let _ = dateline_date(input);
        }
        let everything = "hier, demain, mardi prochain, mardi dernier, la semaine prochaine, \
                          la semaine dernière, le mois prochain, le mois dernier, l'an prochain, \
                          l'an dernier, le 5 janvier, le 28 décembre, en décembre, en janvier, \
                          overnight, dans la nuit de dimanche à lundi, du 28 décembre au 3 janvier";
        for anchor in [NaiveDate::MIN, NaiveDate::MAX] {
            for tense in [Past, Future] {
                let _ = resolve_dates(everything, anchor, tense);
            }
        }
        let elapsed = started.elapsed();
        assert!(
            elapsed < std::time::Duration::from_secs(20),
            "took {elapsed:?}"
        );
    }

    #[test]
    fn openapi_schema_has_dates_and_no_span() {
        use utoipa::openapi::schema::{KnownFormat, Schema, SchemaFormat};
        use utoipa::openapi::RefOr;
        let RefOr::T(Schema::Object(object)) = <ResolvedDate as utoipa::PartialSchema>::schema()
        else {
            panic!("ResolvedDate is an object schema");
        };
        assert!(!object.properties.contains_key("span"));
        let Some(RefOr::T(Schema::Object(start))) = object.properties.get("start") else {
            panic!("ResolvedDate has a start property");
        };
        assert!(start.format == Some(SchemaFormat::KnownFormat(KnownFormat::Date)));
        let RefOr::T(Schema::Object(granularity)) =
            <Granularity as utoipa::PartialSchema>::schema()
        else {
            panic!("Granularity is an enum schema");
        };
        let names: Vec<String> = granularity
            .enum_values
            .unwrap_or_default()
            .iter()
            .map(|v| v.to_string())
            .collect();
        assert_eq!(
            names,
            ["\"day\"", "\"range\"", "\"week\"", "\"month\"", "\"year\""]
        );
    }

    #[test]
    fn the_story_starts_after_the_dateline() {
        let text = "BAMAKO, 3 octobre 2024 (AFP) — L'armée a frappé.";
        assert_eq!(&text[story_start(text)..], "L'armée a frappé.");
        let text = "KYIV, March 14, 2025 — Russian forces shelled Kharkiv.";
        assert_eq!(
            &text[story_start(text)..],
            "Russian forces shelled Kharkiv."
        );
        let text = "Russian forces shelled Kharkiv on March 14, 2025.";
        assert_eq!(
            story_start(text),
            0,
            "a date inside the story is no dateline"
        );
    }
}
