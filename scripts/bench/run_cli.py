#!/usr/bin/env python3
"""Time dragoman's command line (`dragoman translate --jsonl`) on the benchmark sentences.

    python3 scripts/bench/run_cli.py --binary target/release/dragoman --beams {1,4} \
        [--int8] [--limit K] [--every E] [--max-new-tokens M] --out RESULT.json [--bench-dir DIR]

The sentences go in the order of source_ids.json (the first K with --limit, the same sentences
as the other runs; with --every E only every E-th of them, which keeps the mix of lengths:
run.sh uses E = 5 for the full set, since this run is slow) as JSON Lines {"id": index, "text": sentence} on one process's stdin:
`dragoman --threads 2 translate --model DIR --jsonl --beams N --max-new-tokens M`.

Lengths are NOT forced here: this is the whole path a user runs (text in, text out: sentence
splitting, SentencePiece, generation with the model's own stopping rule, detokenization) and
the wall time includes loading the model.  With random weights EOS is rarely produced, so most
sentences run to --max-new-tokens (default 64; the model's own default would be 512), and
multi-sentence items are split by dragoman into sentences that are each generated to that cap.
Hence only sentences/s is reported, and it is not comparable with the forced-length numbers.
"""

import argparse
import json
import os
import resource
import subprocess
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def default_bench_dir():
    return Path(os.environ.get("DRAGOMAN_BENCH_DIR") or Path.home() / ".cache/dragoman/bench")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--binary", required=True)
    ap.add_argument("--beams", type=int, default=1)
    ap.add_argument("--int8", action="store_true")
    ap.add_argument("--limit", type=int)
    ap.add_argument("--every", type=int, default=1)
    ap.add_argument("--max-new-tokens", type=int, default=64)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("--bench-dir", type=Path, default=default_bench_dir())
    args = ap.parse_args()

    sentences = (HERE / "sentences.fr.txt").read_text(encoding="utf-8").splitlines()
    order = [s["index"] for s in json.loads((args.bench_dir / "source_ids.json").read_text())]
    if args.limit:
        order = order[: args.limit]
    order = order[:: max(1, args.every)]
    cmd = [
        args.binary, "--threads", str(args.threads), "translate",
        "--model", str(args.bench_dir / "opus-mt-fr-en-random"),
        "--jsonl", "--beams", str(args.beams), "--max-new-tokens", str(args.max_new_tokens),
    ]
    if args.int8:
        cmd += ["--quantize", "int8"]
    with tempfile.TemporaryDirectory() as tmp:
        inp = Path(tmp) / "in.jsonl"
        inp.write_text("".join(json.dumps({"id": i, "text": sentences[i]}, ensure_ascii=False) + "\n" for i in order))
        started = time.perf_counter()
        with open(inp, "rb") as stdin:
            proc = subprocess.run(cmd, stdin=stdin, capture_output=True)
        seconds = time.perf_counter() - started
    lines = [json.loads(l) for l in proc.stdout.decode("utf-8").splitlines() if l.strip()]
    errors = sum("error" in l for l in lines)
    if proc.returncode != 0 and not lines:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr.decode()[-2000:]}")
    result = {
        "engine": "dragoman-cli-int8" if args.int8 else "dragoman-cli",
        "beams": args.beams,
        "sentences": len(order),
        "translated": len(lines) - errors,
        "errors": errors,
        "seconds_incl_load": seconds,
        "sentences_per_s": len(order) / seconds,
        "every": args.every,
        "max_new_tokens": args.max_new_tokens,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0,
        "lengths_forced": False,
        "command": " ".join(cmd),
    }
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
