#!/usr/bin/env python3
"""Converts PLOVER's gold-standard records (openeventdata/PLOVER,
gold_standard_records/PLOVER_GSR_CAMEO.txt: the CAMEO 1.1b3 manual's example sentences coded with
PLOVER 0.5b1 types, CC BY-SA 4.0) into the labelled event set's schema, one sentence an article.

PLOVER 0.5b1 types are mapped to the 16 types of the current manual: DEMAND -> REQUEST,
DISAPPROVE -> ACCUSE (mode disapprove), INVESTIGATE -> ACCUSE (mode investigate), FIGHT -> ASSAULT;
DOCUMENT (no current type) is dropped. Modes are kept where the current manual has them for the
type, otherwise null. The records code neither status nor date: `status` is null (not scored) and
`date` null.

Usage: scripts/events/convert_plover_gsr.py PLOVER_GSR_CAMEO.txt > tests/data/events/plover_gsr.jsonl
"""
import json
import re
import sys

sys.path.insert(0, __import__("os").path.join(__import__("os").path.dirname(__file__), "..", "..", "tests", "data", "events"))
from validate import TYPES  # noqa: E402

RENAMED = {"DEMAND": ("REQUEST", None), "DISAPPROVE": ("ACCUSE", "disapprove"),
           "INVESTIGATE": ("ACCUSE", "investigate"), "FIGHT": ("ASSAULT", None)}
MODES = {"strike-hun": "hunger", "strike-gen": "strike", "riot-spon": "riot", "demo-org": "demo",
         "demo-spon": "demo", "host": None, "violence": "violence", "explosives": "explosives"}


def records(text):
    # The file is a JSON list with trailing commas inside its objects.
    return json.loads(re.sub(r",\s*}", "}", text))


def actor(field, sentence):
    if not isinstance(field, list) or not field:
        return None
    name = field[0].get("actorText", "")
    return name if name and name in sentence else None


def main():
    seen = set()
    for r in records(open(sys.argv[1], encoding="utf-8").read()):
        event = r.get("event", "")
        mode = (r.get("mode") or "").strip() or None
        if event in RENAMED:
            event, renamed_mode = RENAMED[event]
            mode = renamed_mode or mode
        if event not in TYPES:
            continue
        mode = MODES.get(mode, mode)
        if mode not in TYPES[event]:
            mode = None
        sentence = r["text"].strip().strip("{}").strip()
        ident = r["id"]
        while ident in seen:  # the file has one id twice
            ident += "-b"
        seen.add(ident)
        article = {
            "id": ident, "lang": "en", "date": "2000-01-01", "dateline": "", "topic": "event",
            "origin": "plover-gsr",
            "sentences": [{"text": sentence, "events": [{
                "ref": "e1", "type": event, "mode": mode, "status": None,
                "source": actor(r.get("source"), sentence), "target": actor(r.get("target"), sentence),
                "location": None, "date": None, "attribution": None}]}],
            "summary": "",
        }
        print(json.dumps(article, ensure_ascii=False))


if __name__ == "__main__":
    main()
