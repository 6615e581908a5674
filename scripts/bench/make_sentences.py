#!/usr/bin/env python3
"""Build scripts/bench/sentences.fr.txt: 500 distinct French sentences of 5 to 80 words.

The text is the project's own: scripts/corpus/fr.txt (one sentence or headline a line),
tests/data/eval/article_ct_exercise_fr.txt and tests/data/article_fr.txt (paragraphs, split
into sentences here).  Short items are halves of corpus sentences (split at a comma where
possible), long items are runs of consecutive corpus sentences joined with a space.

Deterministic (fixed seed); prints the word-count distribution.  The committed
sentences.fr.txt is the output of this script; rerunning it rewrites the same file.

    python3 scripts/bench/make_sentences.py
"""

import random
import re
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = Path(__file__).resolve().parent / "sentences.fr.txt"
SEED = 20240917
TOTAL = 500

# (lowest, highest word count, how many)
BINS = [
    (5, 9, 110),
    (10, 19, 160),
    (20, 39, 120),
    (40, 59, 65),
    (60, 80, 45),
]
assert sum(b[2] for b in BINS) == TOTAL

# A sentence ends at . ! ? or a closing guillemet followed by a capital; "M." and "Mme" are
# not ends.
SPLIT_RE = re.compile(r"(?<!\bM\.)(?<=[.!?»])\s+(?=[«A-ZÀÂÉÈÊÎÔÛÇ])")


def words(s):
    return len(s.split())


def read_units():
    units = []
    for line in (ROOT / "scripts/corpus/fr.txt").read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line:
            units.append(line)
    for name in ("tests/data/eval/article_ct_exercise_fr.txt", "tests/data/article_fr.txt"):
        for para in (ROOT / name).read_text(encoding="utf-8").split("\n\n"):
            para = " ".join(l.strip() for l in para.splitlines() if l.strip())
            if not para:
                continue
            for sent in SPLIT_RE.split(para):
                sent = sent.strip()
                if sent:
                    units.append(sent)
    return units


def halves(s):
    """Two pieces of at least 5 words each, cut at a comma near the middle or at the middle."""
    ws = s.split()
    if len(ws) < 10:
        return []
    cuts = [i + 1 for i, w in enumerate(ws[:-1]) if w.endswith(",") and 5 <= i + 1 <= len(ws) - 5]
    cut = min(cuts, key=lambda c: abs(c - len(ws) / 2)) if cuts else len(ws) // 2
    first = " ".join(ws[:cut]).rstrip(",;:")
    second = " ".join(ws[cut:])
    second = second[0].upper() + second[1:]
    return [p for p in (first, second) if words(p) >= 5]


def joins(units, lo, hi):
    """Runs of consecutive sentences (headlines without final punctuation left out)."""
    sents = [u for u in units if u[-1] in ".!?»…" and words(u) >= 3]
    out = []
    for i in range(len(sents)):
        total, j = 0, i
        while j < len(sents) and total < lo:
            total += words(sents[j])
            j += 1
        if lo <= total <= hi and j - i >= 2:
            out.append(" ".join(sents[i:j]))
    return out


def main():
    units = read_units()
    rng = random.Random(SEED)
    chosen = []
    seen = set()
    for lo, hi, n in BINS:
        cands = [u for u in units if lo <= words(u) <= hi]
        if hi <= 9:
            for u in units:
                cands += [p for p in halves(u) if lo <= words(p) <= hi]
        if lo >= 20:
            cands += joins(units, lo, hi)
        cands = [c for c in dict.fromkeys(cands) if c not in seen]
        if len(cands) < n:
            raise SystemExit(f"only {len(cands)} candidates for {lo}-{hi} words, need {n}")
        pick = rng.sample(cands, n)
        chosen += pick
        seen.update(pick)
    assert len(chosen) == len(set(chosen)) == TOTAL
    rng.shuffle(chosen)
    OUT.write_text("\n".join(chosen) + "\n", encoding="utf-8")

    counts = [words(s) for s in chosen]
    print(f"wrote {OUT} ({len(chosen)} sentences, {len(units)} source units)")
    print(f"words: min {min(counts)} max {max(counts)} mean {sum(counts) / len(counts):.1f}")
    for lo, hi, _ in BINS:
        print(f"  {lo:2d}-{hi:2d} words: {sum(lo <= c <= hi for c in counts)}")
    deciles = sorted(counts)
    print("  deciles:", [deciles[int(q * (len(deciles) - 1) / 10)] for q in range(11)])
    _ = Counter(counts)


if __name__ == "__main__":
    main()
