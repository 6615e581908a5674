#!/usr/bin/env python3
"""Teacher-forced fidelity of CTranslate2 int8 against CTranslate2 float32.

    python3 scripts/bench/fidelity.py --tokens FP32_GREEDY.jsonl [--limit K] --out FIDELITY.json
        [--bench-dir DIR] [--check-transformers K]

FP32_GREEDY.jsonl is a tokens file of run_peer.py (ct2-fp32 or transformers, greedy): one line
per sentence, {"index": i, "tokens": [generated ids after the decoder start, EOS last]}.

Every sentence's fp32 output is fed as the decoder input to CTranslate2 float32 and int8, and
the full-vocabulary logits of every step are compared: share of steps whose argmax equals the
float32 argmax, and mean absolute logit difference.

How the logits are obtained: CTranslate2 (>= 4.x) `Translator.translate_batch(source,
target_prefix=..., return_logits_vocab=True)` returns, for each step, the logits over the
whole target vocabulary, the forced prefix steps included.  With the whole output (EOS
included) as target_prefix and max_decoding_length = its length, every step is teacher-forced
and there is no free step.  Checked: one logit vector per position, equal to transformers'
teacher-forced logits (--check-transformers K compares the first K sentences and reports the
largest difference).  min_decoding_length is 0 so that EOS is not masked; entries masked by
CTranslate2 (-3.4e38, there would be none then) are left out of the error anyway.
`score_batch` is not used: it returns only the log-probability of the forced token, not the
whole distribution.

The <pad> column (59513) does not exist in the CTranslate2 model (its converter drops it) and
transformers' generation bans it, so comparisons use ids 0..59512.
"""

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np

THREADS = 2
MASKED = -1e30


def default_bench_dir():
    return Path(os.environ.get("DRAGOMAN_BENCH_DIR") or Path.home() / ".cache/dragoman/bench")


def step_logits(translator, source, targets):
    res = translator.translate_batch(
        source,
        target_prefix=targets,
        beam_size=1,
        min_decoding_length=0,
        max_decoding_length=max(len(t) for t in targets),
        return_end_token=True,
        return_logits_vocab=True,
        max_input_length=0,
    )
    out = []
    for r, t in zip(res, targets):
        steps = [np.asarray(x, dtype=np.float32) for x in r.logits[0]]
        if len(steps) < len(t):
            raise SystemExit(f"CTranslate2 returned {len(steps)} logit vectors for {len(t)} forced tokens")
        out.append(np.stack(steps[: len(t)]))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tokens", required=True, type=Path)
    ap.add_argument("--limit", type=int)
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("--bench-dir", type=Path, default=default_bench_dir())
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--check-transformers", type=int, default=3, metavar="K",
                    help="compare CTranslate2 fp32's logits with transformers' on the first K sentences (0: skip)")
    args = ap.parse_args()

    import ctranslate2

    model_dir = args.bench_dir / "opus-mt-fr-en-random"
    vocab = json.loads((model_dir / "vocab.json").read_text(encoding="utf-8"))
    inv = {i: t for t, i in vocab.items()}
    sources = {s["index"]: s["ids"] for s in json.loads((args.bench_dir / "source_ids.json").read_text())}
    forced = [json.loads(l) for l in args.tokens.read_text().splitlines() if l.strip()]
    if args.limit:
        forced = forced[: args.limit]

    fp32 = ctranslate2.Translator(str(args.bench_dir / "ct2"), compute_type="float32", inter_threads=1, intra_threads=THREADS)
    int8 = ctranslate2.Translator(str(args.bench_dir / "ct2"), compute_type="int8", inter_threads=1, intra_threads=THREADS)

    positions = agree = forced_agree = 0
    abs_sum, abs_n, max_abs = 0.0, 0, 0.0
    buckets = {}  # step index bucket -> [positions, agree]
    kept = []
    for b in range(0, len(forced), args.batch_size):
        batch = forced[b : b + args.batch_size]
        source = [[inv[i] for i in sources[f["index"]]] for f in batch]
        targets = [[inv[i] for i in f["tokens"]] for f in batch]
        ref, got = step_logits(fp32, source, targets), step_logits(int8, source, targets)
        for f, e, g in zip(batch, ref, got):
            kept.append((f, e))
            ea, ga = e.argmax(-1), g.argmax(-1)
            ok = (e > MASKED) & (g > MASKED)
            diff = np.abs(e - g)[ok]
            positions += len(ea)
            agree += int((ea == ga).sum())
            forced_agree += int((ea[:-1] == np.array(f["tokens"][:-1])).sum())
            abs_sum += float(diff.sum(dtype=np.float64))
            abs_n += diff.size
            max_abs = max(max_abs, float(diff.max()))
            for step, same in enumerate(ea == ga):
                key = "1-8" if step < 8 else "9-32" if step < 32 else "33-64" if step < 64 else "65+"
                bucket = buckets.setdefault(key, [0, 0])
                bucket[0] += 1
                bucket[1] += int(same)
        kept = kept[: args.check_transformers]

    result = {
        "engine": "ct2-int8",
        "reference": "ct2-fp32",
        "tokens_file": str(args.tokens),
        "sentences": len(forced),
        "positions": positions,
        "argmax_agreement": agree / max(positions, 1),
        "mean_abs_logit_error": abs_sum / max(abs_n, 1),
        "max_abs_logit_error": max_abs,
        "argmax_agreement_by_step": {k: v[1] / v[0] for k, v in buckets.items()},
        "fp32_argmax_equals_forced_token": forced_agree / max(positions - len(forced), 1),
        "api": "Translator.translate_batch(target_prefix=<whole output>, return_logits_vocab=True)",
    }

    if args.check_transformers and kept:
        import torch

        torch.set_num_threads(THREADS)
        import transformers
        from transformers import MarianMTModel

        transformers.logging.set_verbosity_error()
        model = MarianMTModel.from_pretrained(str(model_dir)).eval()
        start = model.config.decoder_start_token_id
        worst = 0.0
        for f, e in kept:
            with torch.inference_mode():
                lg = model(
                    input_ids=torch.tensor([sources[f["index"]]]),
                    decoder_input_ids=torch.tensor([[start] + f["tokens"][:-1]]),
                ).logits[0, :, : e.shape[1]].numpy()
            ok = e > MASKED
            worst = max(worst, float(np.abs(lg - e)[ok].max()))
        result["ct2_fp32_vs_transformers_max_abs_logit_diff"] = worst
        result["ct2_fp32_vs_transformers_sentences"] = len(kept)

    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result))


if __name__ == "__main__":
    sys.exit(main())
