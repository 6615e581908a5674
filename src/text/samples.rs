//! Sample French news articles and helpers shared by the unit tests of the `text` modules.

/// Realistic French articles covering lists, quotes, dialogue, abbreviations and odd spacing.
pub(crate) const SAMPLE_ARTICLES: &[&str] = &[
    "Réforme des retraites : le gouvernement engage sa responsabilité\n\
\n\
PARIS (AFP) – La Première ministre Élisabeth Borne a annoncé jeudi le recours à l’art. 49.3 de la Constitution. « Nous ne pouvons pas prendre le risque de jouer l’avenir de nos retraites », a-t-elle déclaré devant les députés. La séance a été suspendue à 15h40.\n\
\n\
Selon M. Dupont, politologue à Sciences Po, « c’est un aveu de faiblesse… » Les syndicats appellent à une nouvelle journée de mobilisation le 23 mars.\n\
Plus de 1 200 000 manifestants ont défilé selon la CGT, 480.000 selon le ministère de l’Intérieur. Le chiffre exact reste disputé.\n\
\n\
Les prochaines étapes :\n\
- dépôt de motions de censure par les oppositions ;\n\
- vote prévu lundi à l’Assemblée nationale.\n\
\n\
(Avec Reuters.) Mis à jour le 16 mars 2023 à 18h05.",
    "Incendie à Marseille : deux morts\r\n\
\r\n\
Un incendie s’est déclaré dans la nuit de samedi à dimanche au 12, bd. National. Les pompiers sont intervenus vers 3h. « Il y avait de la fumée partout ! » raconte une voisine. Deux personnes sont décédées et 7 autres ont été blessées.\r\n\
\r\n\
   Le procureur de la République, Me. Martin, a ouvert une enquête. Les causes du sinistre restent inconnues... L’hypothèse criminelle n’est pas écartée.\r\n",
    "— Vous serez candidat ? a demandé le journaliste.\n\
— Je ne sais pas encore. Nous verrons bien ! a répondu J.-M. Durand.\n\
— Et si le parti vous le demande ?\n\
— Alors j’y réfléchirai… sérieusement.",
    "Économie\n\
\n\
L’inflation a atteint 5,2 % sur un an en février, selon l’Insee (cf. tableau p. 4). C’est le plus haut niveau depuis 1985. Les prix de l’énergie ont augmenté de 14,1 %, ceux de l’alimentation de 14,8 %.\n\
\n\
Les économistes interrogés par l’O.N.U. et les U.S.A. anticipent un reflux au second semestre. « La désinflation sera lente », prévient Mme Lagarde, présidente de la BCE. Pour en savoir plus : www.insee.fr.\n\
\n\
1. Énergie : +14,1 %\n\
2. Alimentation : +14,8 %\n\
3. Services : +3 %\n\
a) Transports : +2 %\n\
• Source : Insee, n° 57 du 28 févr. 2023.",
    "\n\n  Texte indenté, avec   des espaces   multiples.\t\n\n\
* Point à puces. Deuxième phrase ici ! Troisième ?\n\
   \n\
Fin de l’article…",
];

/// Collapses every run of whitespace into one space and trims the ends.
pub(crate) fn normalize_ws(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Deterministic pseudo-random strings over an alphabet of tricky characters, for fuzz-like tests.
pub(crate) fn fuzz_strings(count: usize, max_len: usize) -> Vec<String> {
    const ALPHABET: &[char] = &[
        'a', 'e', 'é', 'L', 'É', 'M', 'J', '1', '9', '.', '.', '.', '!', '?', '…', ',', ';', ':',
        ' ', ' ', ' ', '\u{a0}', '\u{202f}', '\t', '\n', '\r', '«', '»', '"', '\'', '’', '(', ')',
        '[', ']', '-', '—', '–', '•', '*', '°', '🙂', '中',
    ];
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    (0..count)
        .map(|_| {
            let len = usize::try_from(next() % (max_len as u64 + 1)).unwrap_or(0);
            (0..len)
                .map(|_| {
                    let idx = usize::try_from(next() % ALPHABET.len() as u64).unwrap_or(0);
                    ALPHABET[idx]
                })
                .collect()
        })
        .collect()
}
