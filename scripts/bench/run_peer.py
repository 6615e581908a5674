#!/usr/bin/env python3
"""Speed of one peer engine (transformers or CTranslate2) on the benchmark model, one setting.

    python3 scripts/bench/run_peer.py --engine {transformers,ct2-fp32,ct2-int8} \
        --beams {1,4} --batch-size {1,32} [--limit K] --out RESULT.json [--tokens TOKENS.jsonl] \
        [--bench-dir DIR]

One engine and one setting per process, so that the peak RSS belongs to that run alone (torch
is imported only for the transformers engine).  DIR (default ${DRAGOMAN_BENCH_DIR:-
$HOME/.cache/dragoman/bench}) is what make_model.py built.

Equal work: the sentences of DIR/source_ids.json (sorted by source length) are taken in order,
in consecutive batches of --batch-size; every sentence of a batch generates exactly N new
tokens, N = the batch's longest source in tokens (EOS included):

- transformers: min_new_tokens = N - 1, max_new_tokens = N; the model's generation config
  forces EOS at the maximum length, so each output is N tokens after the decoder start, the
  last one EOS (checked for every sentence).
- CTranslate2: min_decoding_length = N - 1, max_decoding_length = N.  CTranslate2 counts the
  generated tokens after the decoder start, the end token included, and min_decoding_length = m
  forbids the end token in the first m positions (checked with end_token set to a token greedy
  search produces) — the same counting as transformers.  But it does not force EOS when the
  maximum is reached: the N-th token is a free choice (a full decoding step all the same, so
  the work is equal).  Every output is checked to be N tokens long; the tokens file records the
  first N - 1 tokens followed by EOS (what a forced-EOS engine outputs; identical for greedy
  search) and the free N-th token as "ct2_last".
- Greedy = beam 1; beam 4 with length_penalty 1.0 (all hypotheses have the same length).
- Two threads: torch.set_num_threads(2); CTranslate2 inter_threads=1, intra_threads=2.

Measures (no warm-up, like dragoman's bench_translate): load_s (model load), seconds (all
batches), target_tokens (sum of N over the sentences), tokens_per_s, sentences_per_s, p50_ms
(median latency of one batch call), peak_rss_mb (ru_maxrss).
"""

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path

THREADS = 2
PAD_ID = 59513
EOS_ID = 0


def default_bench_dir():
    return Path(os.environ.get("DRAGOMAN_BENCH_DIR") or Path.home() / ".cache/dragoman/bench")


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KB on Linux


def batches(sources, size):
    for i in range(0, len(sources), size):
        batch = sources[i : i + size]
        yield batch, max(len(s["ids"]) for s in batch)


class Transformers:
    name = "transformers"

    def __init__(self, bench_dir, beams):
        import torch

        torch.set_num_threads(THREADS)
        import transformers
        from transformers import MarianMTModel

        transformers.logging.set_verbosity_error()
        self.torch = torch
        self.beams = beams
        self.model = MarianMTModel.from_pretrained(str(bench_dir / "opus-mt-fr-en-random")).eval()
        assert self.model.generation_config.forced_eos_token_id == EOS_ID

    def generate(self, batch, n):
        torch = self.torch
        width = max(len(s["ids"]) for s in batch)
        ids = torch.full((len(batch), width), PAD_ID, dtype=torch.long)
        for row, s in enumerate(batch):
            ids[row, : len(s["ids"])] = torch.tensor(s["ids"])
        with torch.inference_mode():
            out = self.model.generate(
                input_ids=ids,
                attention_mask=(ids != PAD_ID).long(),
                num_beams=self.beams,
                do_sample=False,
                length_penalty=1.0,
                min_new_tokens=n - 1,
                max_new_tokens=n,
            )
        results = []
        for s, row in zip(batch, out.tolist()):
            tokens = row[1:]
            if len(tokens) != n or tokens[-1] != EOS_ID or EOS_ID in tokens[:-1] or PAD_ID in tokens:
                raise SystemExit(f"transformers: sentence {s['index']}: {len(tokens)} tokens, expected {n} ending in EOS")
            results.append({"index": s["index"], "tokens": tokens})
        return results


class CTranslate2:
    def __init__(self, bench_dir, beams, compute_type):
        import ctranslate2

        self.name = "ct2-int8" if compute_type == "int8" else "ct2-fp32"
        self.beams = beams
        vocab = json.loads((bench_dir / "opus-mt-fr-en-random" / "vocab.json").read_text(encoding="utf-8"))
        self.vocab = vocab
        self.inv = {i: t for t, i in vocab.items()}
        self.translator = ctranslate2.Translator(
            str(bench_dir / "ct2"),
            device="cpu",
            compute_type=compute_type,
            inter_threads=1,
            intra_threads=THREADS,
        )

    def generate(self, batch, n):
        source = [[self.inv[i] for i in s["ids"]] for s in batch]
        out = self.translator.translate_batch(
            source,
            beam_size=self.beams,
            length_penalty=1.0,
            min_decoding_length=n - 1,
            max_decoding_length=n,
            return_end_token=True,
            max_input_length=0,
        )
        results = []
        for s, r in zip(batch, out):
            tokens = [self.vocab[t] for t in r.hypotheses[0]]
            if len(tokens) != n or EOS_ID in tokens[:-1]:
                raise SystemExit(f"{self.name}: sentence {s['index']}: {len(tokens)} tokens, expected {n}")
            results.append({"index": s["index"], "tokens": tokens[:-1] + [EOS_ID], "ct2_last": tokens[-1]})
        return results


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--engine", required=True, choices=["transformers", "ct2-fp32", "ct2-int8"])
    ap.add_argument("--beams", type=int, default=1)
    ap.add_argument("--batch-size", type=int, default=1)
    ap.add_argument("--limit", type=int)
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("--tokens", type=Path)
    ap.add_argument("--bench-dir", type=Path, default=default_bench_dir())
    args = ap.parse_args()

    sources = json.loads((args.bench_dir / "source_ids.json").read_text(encoding="utf-8"))
    if args.limit:
        sources = sources[: args.limit]

    # Library imports are not part of the load time (dragoman's load_s is the model's alone).
    if args.engine == "transformers":
        import torch  # noqa: F401
        import transformers  # noqa: F401
    else:
        import ctranslate2  # noqa: F401

    started = time.perf_counter()
    if args.engine == "transformers":
        engine = Transformers(args.bench_dir, args.beams)
    else:
        engine = CTranslate2(args.bench_dir, args.beams, "int8" if args.engine == "ct2-int8" else "float32")
    load_s = time.perf_counter() - started

    latencies, outputs, target_tokens = [], [], 0
    started = time.perf_counter()
    for batch, n in batches(sources, max(1, args.batch_size)):
        call = time.perf_counter()
        results = engine.generate(batch, n)
        latencies.append(time.perf_counter() - call)
        target_tokens += n * len(batch)
        outputs += results
    seconds = time.perf_counter() - started
    latencies.sort()

    result = {
        "engine": engine.name,
        "beams": args.beams,
        "batch_size": args.batch_size,
        "sentences": len(sources),
        "target_tokens": target_tokens,
        "seconds": seconds,
        "tokens_per_s": target_tokens / seconds,
        "sentences_per_s": len(sources) / seconds,
        "p50_ms": latencies[len(latencies) // 2] * 1000.0,
        "peak_rss_mb": peak_rss_mb(),
        "load_s": load_s,
        "threads": THREADS,
    }
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result))
    if args.tokens:
        with open(args.tokens, "w") as f:
            for o in outputs:
                f.write(json.dumps(o) + "\n")
    if "torch" in sys.modules and args.engine != "transformers":
        print("note: torch was imported; the peak RSS includes it", file=sys.stderr)


if __name__ == "__main__":
    main()
