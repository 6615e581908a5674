#!/usr/bin/env python3
"""Checks the labelled event set (tests/data/events/*.jsonl and raw/*.jsonl) against the schema in
README.md and prints counts. Usage: python3 tests/data/events/validate.py [FILE ...]"""
import collections
import glob
import json
import os
import re
import sys

TYPES = {
    "AGREE": [], "CONSULT": ["visit", "third-party", "multilateral", "phone"], "SUPPORT": [],
    "CONCEDE": [], "COOPERATE": [], "AID": [],
    "RETREAT": ["withdraw", "release", "disarm", "ceasefire", "access", "resign"],
    "REQUEST": ["assist", "change", "yield", "meet"],
    "ACCUSE": ["disapprove", "investigate", "allege"],
    "REJECT": ["assist", "change", "yield", "meet"],
    "THREATEN": ["restrict", "arrest", "relations", "expel", "territory", "violence"],
    "PROTEST": ["demo", "riot", "strike", "hunger", "boycott", "obstruct", "vandalize"],
    "SANCTION": ["convict", "expel", "withdraw", "discontinue"],
    "MOBILIZE": ["troops", "weapons", "police", "militia"],
    "COERCE": ["seize", "restrict", "censor", "curfew", "martial-law", "arrest", "deport",
               "withhold", "misinformation", "cyber"],
    "ASSAULT": ["abduct", "beat", "torture", "sexual", "targeted", "destroy", "primitive",
                "firearms", "explosives", "suicide-attack", "aerial", "drone", "heavy-weapons",
                "crowd-control", "unconventional"],
}
STATUSES = {"occurred", "planned", "threatened", "denied", "reported_unconfirmed"}
TOPICS = {"event", "sport", "culture", "business", "weather", "human_interest", "obituary",
          "science", "health", "lifestyle", "technology"}
GRANULARITIES = {"day", "range", "month", "year", "week"}
ISO = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def check(path, errors, counts):
    ids = set()
    for n, line in enumerate(open(path, encoding="utf-8"), 1):
        if not line.strip():
            continue
        where = f"{path}:{n}"
        try:
            a = json.loads(line)
        except json.JSONDecodeError as e:
            errors.append(f"{where}: not JSON: {e}")
            continue
        for key in ("id", "lang", "date", "dateline", "topic", "sentences", "summary"):
            if key not in a:
                errors.append(f"{where}: missing {key}")
        if a.get("id") in ids:
            errors.append(f"{where}: duplicate id {a.get('id')}")
        ids.add(a.get("id"))
        lang = a.get("lang")
        if lang not in ("en", "fr"):
            errors.append(f"{where}: lang {lang}")
        if a.get("origin") not in (None, "plover-gsr"):
            errors.append(f"{where}: origin must be absent or plover-gsr")
        if not ISO.match(str(a.get("date", ""))):
            errors.append(f"{where}: date must be YYYY-MM-DD")
        if a.get("topic") not in TOPICS:
            errors.append(f"{where}: topic {a.get('topic')} not in {sorted(TOPICS)}")
        gsr = a.get("origin") == "plover-gsr"
        counts["articles", lang] += 1
        counts["articles_topic", a.get("topic")] += 1
        refs = {}
        for i, s in enumerate(a.get("sentences", [])):
            sw = f"{where} sentence {i}"
            text = s.get("text", "")
            english = s.get("english", text) if lang == "fr" else text
            if lang == "fr" and not s.get("english"):
                errors.append(f"{sw}: French sentence without 'english'")
            counts["sentences", lang] += 1
            events = s.get("events")
            if events is None:
                errors.append(f"{sw}: missing events (use [])")
                continue
            if not events:
                counts["no_event_sentences", lang] += 1
            for e in events:
                t = e.get("type")
                if t not in TYPES:
                    errors.append(f"{sw}: type {t}")
                    continue
                mode = e.get("mode")
                if mode is not None and mode not in TYPES[t]:
                    errors.append(f"{sw}: mode {mode} not a {t} mode {TYPES[t]}")
                st = e.get("status")
                if st not in STATUSES and not (gsr and st is None):
                    errors.append(f"{sw}: status {st}")
                if t == "THREATEN" and st != "threatened" and not gsr:
                    errors.append(f"{sw}: a THREATEN event has status threatened")
                ref = e.get("ref")
                if not ref:
                    errors.append(f"{sw}: event without ref")
                elif ref in refs and refs[ref] != t:
                    errors.append(f"{sw}: ref {ref} used for {refs[ref]} and {t}")
                refs[ref] = t
                for key in ("source", "target", "location"):
                    v = e.get(key)
                    if v is not None and v not in english:
                        errors.append(f"{sw}: {key} {v!r} not found in the English sentence")
                d = e.get("date")
                if d is not None:
                    if not (ISO.match(str(d.get("start", ""))) and ISO.match(str(d.get("end", "")))):
                        errors.append(f"{sw}: date start/end must be YYYY-MM-DD")
                    if d.get("granularity") not in GRANULARITIES:
                        errors.append(f"{sw}: date granularity {d.get('granularity')}")
                    if d.get("phrase") and d["phrase"] not in text:
                        errors.append(f"{sw}: date phrase {d['phrase']!r} not in the sentence text")
                counts["events", t] += 1
                counts["status", st, lang] += 1
        if a.get("topic") != "event" and refs:
            errors.append(f"{where}: topic {a.get('topic')} but has events")
    return ids


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    files = sys.argv[1:] or sorted(glob.glob(os.path.join(here, "*.jsonl")) + glob.glob(os.path.join(here, "raw", "*.jsonl")))
    errors, counts = [], collections.Counter()
    for f in files:
        check(f, errors, counts)
    for key in sorted(counts, key=str):
        print(" ".join(str(k) for k in key), counts[key])
    for e in errors[:200]:
        print("ERROR", e)
    print(f"{len(errors)} errors")
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
