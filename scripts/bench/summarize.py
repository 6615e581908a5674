#!/usr/bin/env python3
"""Summarize a results folder of scripts/bench/run.sh into table.md (and print it).

    python3 scripts/bench/summarize.py RESULTS_DIR [--bench-dir DIR]

Reads RESULTS_DIR/<engine>-b<beams>-bs<batch>.json (+ .jsonl tokens), cli-b<beams>.json,
fidelity-ct2.json, fidelity-dragoman.json; writes RESULTS_DIR/table.md: the speed table, the
ratios dragoman / ct2-fp32, dragoman / transformers, dragoman-int8 / ct2-int8 (target tokens/s),
the greedy token parity of dragoman against transformers, int8 fidelity and the CLI timings.
"""

import argparse
import json
import re
import os
import subprocess
import time
from pathlib import Path

ENGINES = ["dragoman", "dragoman-int8", "ct2-fp32", "ct2-int8", "transformers"]
SETTINGS = [(1, 1), (1, 32), (4, 1), (4, 32)]
RATIOS = [("dragoman", "ct2-fp32"), ("dragoman", "transformers"), ("dragoman-int8", "ct2-int8")]
ROOT = Path(__file__).resolve().parents[2]


def subset_text(res, sentences):
    """Which sentences ran: the whole set, every Nth (`run.sh --every N` keeps its results under
    BENCH_DIR/every-N/) or the shortest ones (`--limit`)."""
    if sentences == 500:
        return f"{sentences} French sentences (5–80 words, sorted by length), "
    every = re.search(r"every-(\d+)", str(res))
    if every:
        return (f"{sentences} of the 500 French sentences: every {every.group(1)}th in order of "
                f"length (`run.sh --every {every.group(1)}`), ")
    return f"The {sentences} shortest (in tokens) of the 500 French sentences (--limit), "


def default_bench_dir():
    return Path(os.environ.get("DRAGOMAN_BENCH_DIR") or Path.home() / ".cache/dragoman/bench")


def load_json(path):
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def load_tokens(path):
    try:
        return {d["index"]: d["tokens"] for d in map(json.loads, path.read_text().splitlines()) if d}
    except (OSError, ValueError):
        return None


def cpu_model():
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        for line in out.splitlines():
            if line.startswith("Model name:"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


def git_describe():
    try:
        rev = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True).stdout.strip()
        return rev + ("+local changes" if dirty else "")
    except OSError:
        return "?"


def fmt(x, digits=1):
    return "—" if x is None else f"{x:,.{digits}f}"


def parity(res, engine, reference, beams, bs):
    a = load_tokens(res / f"{engine}-b{beams}-bs{bs}.jsonl")
    b = load_tokens(res / f"{reference}-b{beams}-bs{bs}.jsonl")
    if a is None or b is None:
        return None
    # CTranslate2 does not force EOS at the last step; its files hold the first N-1 tokens + EOS.
    return sum(a.get(k) == v for k, v in b.items()), len(b)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("results", type=Path)
    ap.add_argument("--bench-dir", type=Path, default=default_bench_dir())
    args = ap.parse_args()
    res = args.results

    runs = {}
    for engine in ENGINES:
        for beams, bs in SETTINGS:
            r = load_json(res / f"{engine}-b{beams}-bs{bs}.json")
            if r:
                runs[(engine, beams, bs)] = r
    info = load_json(args.bench_dir / "model_info.json") or {}
    any_run = next(iter(runs.values()), {})
    sentences = any_run.get("sentences")
    tokens = {r["target_tokens"] for r in runs.values()}
    stamp = time.strftime("%Y-%m-%d %H:%M", time.localtime(res.stat().st_mtime))

    out = []
    out.append(f"### Translation speed, {stamp}")
    out.append("")
    out.append(
        f"CPU: {cpu_model()} ({os.cpu_count()} logical CPUs visible), **2 threads** for every engine, "
        f"each engine and setting in its own process, one after the other. "
        f"Model: the architecture of Helsinki-NLP/opus-mt-fr-en (Marian, d_model 512, 6+6 layers, "
        f"8 heads, FFN 2048, swish, vocabulary 59,514) with random weights. "
        + subset_text(res, sentences)
        + f"{'/'.join(str(t) for t in sorted(tokens)) or '?'} target tokens per run: every sentence generates "
        f"exactly N tokens, N = the longest source (tokens incl. EOS) of its batch."
    )
    env = {}
    for line in (res / "env.txt").read_text().splitlines() if (res / "env.txt").exists() else []:
        key, _, value = line.partition(":")
        env[key.strip()] = value.strip()
    if env.get("load average at start"):
        out.append(f"Load average when the runs started: {env['load average at start']}.")
    if "not rebuilt" in env.get("dragoman build", ""):
        out.append("The dragoman binaries were not rebuilt by this run (--no-build): they may predate the commit below.")
    out.append(
        f"Versions: dragoman {git_describe()}, CTranslate2 {info.get('ctranslate2', '?')}, "
        f"transformers {info.get('transformers', '?')}, torch {info.get('torch', '?')}."
    )
    out.append("")
    out.append("| engine | beams | batch | target tokens/s | sentences/s | p50 latency (ms, batch 1) | peak RSS (MB) | load (s) |")
    out.append("|---|---:|---:|---:|---:|---:|---:|---:|")
    for beams, bs in SETTINGS:
        for engine in ENGINES:
            r = runs.get((engine, beams, bs))
            if not r:
                continue
            p50 = fmt(r["p50_ms"], 0) if bs == 1 else "—"
            out.append(
                f"| {engine} | {beams} | {bs} | {fmt(r['tokens_per_s'])} | {fmt(r['sentences_per_s'], 2)} | "
                f"{p50} | {fmt(r['peak_rss_mb'], 0)} | {fmt(r['load_s'], 2)} |"
            )
    out.append("")
    out.append("Ratios of target tokens/s (> 1: dragoman faster):")
    out.append("")
    out.append("| beams | batch | " + " | ".join(f"{a} / {b}" for a, b in RATIOS) + " |")
    out.append("|---:|---:|" + "---:|" * len(RATIOS))
    for beams, bs in SETTINGS:
        cells = []
        for a, b in RATIOS:
            ra, rb = runs.get((a, beams, bs)), runs.get((b, beams, bs))
            cells.append(f"{ra['tokens_per_s'] / rb['tokens_per_s']:.2f}" if ra and rb else "—")
        out.append(f"| {beams} | {bs} | " + " | ".join(cells) + " |")
    out.append("")

    lines = []
    for engine, ref in (("dragoman", "transformers"), ("ct2-fp32", "transformers"), ("dragoman-int8", "ct2-int8")):
        for bs in (1, 32):
            p = parity(res, engine, ref, 1, bs)
            if p:
                lines.append(f"{engine} = {ref}, greedy batch {bs}: {p[0]}/{p[1]} sentences")
    if lines:
        out.append("Identical greedy tokens (whole output; for CTranslate2 the first N-1 tokens, its N-th is not forced to EOS): "
                   + "; ".join(lines) + ".")
        out.append("")

    fid = []
    f = load_json(res / "fidelity-ct2.json")
    if f:
        fid.append(
            f"CTranslate2 int8 vs float32: argmax agreement {f['argmax_agreement']:.3f}, mean |Δlogit| "
            f"{f['mean_abs_logit_error']:.4f} over {f['positions']} steps"
        )
    f = load_json(res / "fidelity-dragoman.json")
    if f:
        fid.append(
            f"dragoman int8 vs float32: argmax agreement {f['argmax_agreement']:.3f}, mean |Δlogit| "
            f"{f['mean_abs_logit_error']:.4f} over {f['positions']} steps"
        )
    if fid:
        out.append("int8 fidelity (teacher-forced on the float32 greedy outputs, all logits of every step): "
                   + "; ".join(fid) + ". Random weights make near-ties common, so agreement is lower than on a trained model.")
        out.append("")

    cli = [load_json(res / f"cli-b{b}.json") for b in (1, 4)]
    cli = [c for c in cli if c]
    if cli:
        out.append(
            "dragoman CLI (`dragoman translate --jsonl`, text in and out, lengths NOT forced, up to "
            f"{cli[0]['max_new_tokens']} new tokens per sentence, model load included): "
            + f"{cli[0]['sentences']} sentences"
            + ("" if cli[0].get("every", 1) == 1 else f" (every {cli[0]['every']}th of the sorted set)") + "; "
            + "; ".join(f"beams {c['beams']}: {c['sentences_per_s']:.2f} sentences/s ({c['errors']} errors)" for c in cli)
            + "."
        )
        out.append("")

    text = "\n".join(out)
    (res / "table.md").write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
