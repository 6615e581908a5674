#!/usr/bin/env python3
"""Validate the event-tagging / entity evaluation set and print per-tag counts.

Usage: python3 tests/data/eval/validate.py   (from the repository root; exits 1 on any error)
"""
import json
import re
import sys
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
TAGS = [t["id"] for t in json.loads((ROOT / "models/taxonomy.json").read_text())["tags"]]
STATUSES = {"planned", "occurred", "unclear"}
TYPES = {"GPE", "ORG", "PERSON"}
MIN_POSITIVES = 4

errors = []


def load(name):
    recs = []
    for n, line in enumerate((HERE / name).read_text(encoding="utf-8").splitlines(), 1):
        try:
            recs.append(json.loads(line))
        except json.JSONDecodeError as e:
            errors.append(f"{name}:{n}: does not parse: {e}")
    return recs


def check(name, recs):
    for r in recs:
        where = f"{name}:{r.get('id')}"
        if set(r) != {"id", "text", "tags", "status", "entities"}:
            errors.append(f"{where}: fields {sorted(r)}")
        tags = r.get("tags", [])
        for t in tags:
            if t not in TAGS:
                errors.append(f"{where}: unknown tag {t!r}")
        if len(set(tags)) != len(tags):
            errors.append(f"{where}: duplicate tags")
        status = r.get("status", {})
        if not set(status) <= set(tags):
            errors.append(f"{where}: status keys {sorted(set(status) - set(tags))} not in tags")
        if set(status) != set(tags):
            errors.append(f"{where}: tags without status {sorted(set(tags) - set(status))}")
        for k, v in status.items():
            if v not in STATUSES:
                errors.append(f"{where}: bad status {k}={v!r}")
        seen = set()
        for e in r.get("entities", []):
            if e.get("type") not in TYPES:
                errors.append(f"{where}: bad entity type {e}")
            if e.get("text") not in r["text"]:
                errors.append(f"{where}: entity not in text: {e.get('text')!r}")
            key = (e.get("text"), e.get("type"))
            if key in seen:
                errors.append(f"{where}: duplicate entity {key}")
            seen.add(key)


paras = load("paragraphs.jsonl")
arts = load("articles.jsonl")
check("paragraphs.jsonl", paras)
check("articles.jsonl", arts)
ids = [r["id"] for r in paras + arts]
for i, c in Counter(ids).items():
    if c > 1:
        errors.append(f"duplicate id {i}")
for r in paras:
    if "\n" in r["text"]:
        errors.append(f"{r['id']}: paragraph contains a line break")
    n_sent = len(re.findall(r"[.!?][\"”]?(?=\s+[A-Z\"“]|$)", r["text"]))
    if not 1 <= n_sent <= 3:
        errors.append(f"{r['id']}: {n_sent} sentences")
for r in arts:
    n = len(r["text"].split("\n\n"))
    if not 5 <= n <= 10:
        errors.append(f"{r['id']}: {n} paragraphs")
en = (HERE / "article_ct_exercise_en.txt").read_text(encoding="utf-8").strip()
fr = (HERE / "article_ct_exercise_fr.txt").read_text(encoding="utf-8").strip()
if en not in [r["text"] for r in arts]:
    errors.append("article_ct_exercise_en.txt is not the text of any record in articles.jsonl")
if len(en.split("\n\n")) != len(fr.split("\n\n")):
    errors.append("article_ct_exercise_en.txt and _fr.txt have different paragraph counts")

pos = Counter(t for r in paras for t in r["tags"])
stat = {t: Counter() for t in TAGS}
for r in paras:
    for t, s in r["status"].items():
        stat[t][s] += 1
apos = Counter(t for r in arts for t in r["tags"])
for t in TAGS:
    if pos[t] < MIN_POSITIVES:
        errors.append(f"tag {t}: only {pos[t]} positives in paragraphs.jsonl")

ntags = Counter(min(len(r["tags"]), 2) for r in paras)
ents = Counter(e["type"] for r in paras for e in r["entities"])
aents = Counter(e["type"] for r in arts for e in r["entities"])
print(f"paragraphs: {len(paras)} (no tag {ntags[0]}, 1 tag {ntags[1]}, 2-3 tags {ntags[2]}); "
      f"articles: {len(arts)}")
print(f"tag positives: paragraphs {sum(pos.values())}, articles {sum(apos.values())}")
print(f"entities: paragraphs {dict(sorted(ents.items()))}, articles {dict(sorted(aents.items()))}")
print()
print("| tag | paragraphs | planned | occurred | unclear | articles |")
print("|---|---:|---:|---:|---:|---:|")
for t in TAGS:
    s = stat[t]
    print(f"| {t} | {pos[t]} | {s['planned']} | {s['occurred']} | {s['unclear']} | {apos[t]} |")
print()
if errors:
    print(f"{len(errors)} error(s):")
    for e in errors:
        print("  " + e)
    sys.exit(1)
print("OK: all lines parse, ids unique, tags in taxonomy, every tag >= 4 positives, "
      "status keys == tags, entity types valid, entity texts verbatim")
