#!/usr/bin/env python3
"""Build a tiny BART summarizer fixture and the reference outputs of transformers.

Run with the fixture venv's Python (the pins of scripts/make_fixtures.sh: torch 2.15.0,
transformers 5.24.0, safetensors 0.8.0, numpy 2.4.6; no tokenizer is involved):

    $DRAGOMAN_VENV/bin/python scripts/make_bart_fixture.py

This writes tests/fixtures/bart-tiny/ with the file layout of a BART summarization Hub
repository (sshleifer/distilbart-cnn-12-6, facebook/bart-large-cnn) as
BartForConditionalGeneration.save_pretrained writes it:

    config.json  generation_config.json  model.safetensors
    reference.json     (outputs of transformers on token ids, see tests/fixtures/README.md)

The model is a BartConfig like distilbart-cnn (gelu, learned positions with BART's offset of 2,
layernorm_embedding, post-layer-norm, no embedding scaling, tied embeddings / lm_head,
pad 1, bos 0, eos 2, decoder start 2, forced BOS 0 and forced EOS 2) shrunk to d_model 32,
2 + 2 layers, 4 heads, ffn 64, 64 positions and a 300-id vocabulary (0 <s>, 1 <pad>, 2 </s>,
3 <unk>, 4..299 "words").  generation_config.json mirrors facebook/bart-large-cnn's
(num_beams 4, length_penalty 2.0, early_stopping true, no_repeat_ngram_size 3, min/max length,
forced BOS/EOS), with max_length 40 and min_length 8 instead of 142 / 56.

Random weights generate degenerate output (one token repeated, the same for every input), so
the model is trained briefly (TRAIN_STEPS Adam steps on CPU, fixed seeds, transformers' own
loss) on a synthetic id-level "summarization" task: the summary of <s> x1 x2 ... xn </s> is
<s> x1 x3 x5 ... </s> (every other word; 60% of the training summaries omit the <s>, so that
forced_bos_token_id matters).  It learns the task only partly, which is what a parity fixture
wants: the output depends on the input, ends with EOS at varied lengths, and beam search
disagrees with greedy search on some inputs.  final_logits_bias (a buffer, not trained; zero in
the real checkpoints) is set to random non-zero values so that a loader that ignores it fails.

Everything is deterministic (fixed seeds, one CPU thread; the references are computed from the
model *reloaded from the written files*): running the script twice produces byte-identical
files with the same package versions on the same machine.  The script exits with status 1 if
a sanity check fails: outputs not varied enough, float32 vs float64 forward logits differing
by 1e-5 or more, a generation that changes when rerun in float64 (a near-tie), or a directory
of 2 MB or more.
"""

import json
import math
import shutil
import sys
from pathlib import Path

import torch

torch.set_num_threads(1)
torch.set_num_interop_threads(1)

import numpy as np  # noqa: E402
import safetensors  # noqa: E402
import transformers  # noqa: E402
from safetensors import safe_open  # noqa: E402
from transformers import BartConfig, BartForConditionalGeneration, GenerationConfig  # noqa: E402

transformers.logging.set_verbosity_error()

ROOT = Path(__file__).resolve().parent.parent
OUT_DIR = ROOT / "tests" / "fixtures" / "bart-tiny"

BOS, PAD, EOS, UNK = 0, 1, 2, 3
VOCAB_SIZE = 300
FIRST_WORD = 4  # ids 4..VOCAB_SIZE-1 are "words"

# With BartConfig's default init_std (0.02) a few hundred steps learn next to nothing (the same
# few tokens for every input); with 0.1 and 300 steps the model copies most of every other word,
# with some stutter.  The seed was picked among 1..5 so that every check in summarize() passes
# and the generation_config.json settings matter: in the "defaults" case switching off
# no_repeat_ngram_size, min_length, length_penalty, forced_bos_token_id or forced_eos_token_id
# each changes some output, and one beam-search output runs to max_length (forced EOS).
SEED = 2
INIT_STD = 0.1
FINAL_LOGITS_BIAS_STD = 0.5
TRAIN_STEPS = 300
TRAIN_BATCH = 32
TRAIN_LR = 3e-3
TRAIN_MIN_WORDS, TRAIN_MAX_WORDS = 2, 36
NO_BOS_FRACTION = 0.6

GEN_MAX_LENGTH = 40
GEN_MIN_LENGTH = 8
GEN_NUM_BEAMS = 4
GEN_LENGTH_PENALTY = 2.0
GEN_NO_REPEAT_NGRAM = 3

# Number of words of the generation / forward inputs (their ids are drawn from DATA_SEED).
# 38 > TRAIN_MAX_WORDS: an input longer than any seen in training, whose output is uncertain.
DATA_SEED = 1234
# The last one repeats a 3-word cycle on its summarized positions (A f B f C f A f B f C ...),
# so that no_repeat_ngram_size=3 bites.
GENERATION_WORDS = [6, 13, 38, 3, 19]
REPEATING_ROW = 4
SINGLE_WORDS = [15]
FORWARD_WORDS = [9, 4, 20, 14]

COMMON = dict(do_sample=False, return_dict_in_generate=True, output_scores=True)
GENERATION_CASES = [
    ("defaults", "batch", dict()),
    ("greedy", "batch", dict(num_beams=1, max_new_tokens=20)),
    ("beam4_lp1", "batch", dict(num_beams=4, length_penalty=1.0, early_stopping=False)),
    ("beam3_ret2", "batch", dict(num_beams=3, num_return_sequences=2)),
    ("greedy_min10", "batch", dict(num_beams=1, min_new_tokens=10)),
    ("single_beam4", "single", dict(num_beams=4)),
]

FORWARD_F64_TOLERANCE = 1e-5


# --------------------------------------------------------------------------------------------
# helpers


def fmt_json(obj, indent=0):
    """Stable JSON: containers indented, lists of scalars on one line, floats round-trip."""
    pad = "  " * indent
    inner = "  " * (indent + 1)

    def scalar(x):
        if isinstance(x, float) and not math.isfinite(x):
            raise ValueError(f"non-finite float {x}")
        return json.dumps(x, ensure_ascii=False, allow_nan=False)

    if isinstance(obj, dict):
        if not obj:
            return "{}"
        items = [f"{inner}{scalar(str(k))}: {fmt_json(v, indent + 1)}" for k, v in obj.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(obj, (list, tuple)):
        if not obj:
            return "[]"
        if all(not isinstance(x, (dict, list, tuple)) for x in obj):
            return "[" + ", ".join(scalar(x) for x in obj) + "]"
        items = [inner + fmt_json(x, indent + 1) for x in obj]
        return "[\n" + ",\n".join(items) + "\n" + pad + "]"
    return scalar(obj)


def write_json(path, obj):
    with open(path, "w", encoding="utf-8") as f:
        f.write(fmt_json(obj))
        f.write("\n")


def dir_size(path):
    return sum(p.stat().st_size for p in Path(path).iterdir() if p.is_file())


def random_words(n, gen):
    return (torch.randint(FIRST_WORD, VOCAB_SIZE, (n,), generator=gen)).tolist()


def source(words):
    """A BART input: <s> words </s>."""
    return [BOS] + list(words) + [EOS]


def summary(words):
    """The synthetic task: <s> every other word (1st, 3rd, ...) </s>."""
    return [BOS] + list(words[0::2]) + [EOS]


def pad_batch(seqs, pad_value):
    """Right-pad a list of id lists (as BartTokenizer does); returns (ids, attention_mask)."""
    width = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), width), pad_value, dtype=torch.long)
    mask = torch.zeros((len(seqs), width), dtype=torch.long)
    for i, s in enumerate(seqs):
        ids[i, : len(s)] = torch.tensor(s, dtype=torch.long)
        mask[i, : len(s)] = 1
    return ids, mask


def strip_pad(row):
    """A generated row without the padding after its EOS."""
    row = list(row)
    while row and row[-1] == PAD:
        row.pop()
    return tuple(row)


def generated_lengths(sequences):
    """Generated tokens per row (decoder start excluded, EOS included, pad after EOS excluded)."""
    out = []
    for row in sequences.tolist():
        gen = row[1:]
        n = len(gen)
        for i, t in enumerate(gen):
            if t == EOS:
                n = i + 1
                break
        out.append(n)
    return out


# --------------------------------------------------------------------------------------------
# model construction


def make_config():
    return BartConfig(
        vocab_size=VOCAB_SIZE,
        d_model=32,
        encoder_layers=2,
        decoder_layers=2,
        encoder_attention_heads=4,
        decoder_attention_heads=4,
        encoder_ffn_dim=64,
        decoder_ffn_dim=64,
        max_position_embeddings=64,
        activation_function="gelu",
        scale_embedding=False,
        dropout=0.1,
        attention_dropout=0.0,
        activation_dropout=0.0,
        init_std=INIT_STD,
        pad_token_id=PAD,
        bos_token_id=BOS,
        eos_token_id=EOS,
        decoder_start_token_id=EOS,
        forced_eos_token_id=EOS,
        tie_word_embeddings=True,
        # Kept in config.json as in the real repos; transformers 5.24 never reads it.
        task_specific_params={
            "summarization": {
                "early_stopping": True,
                "length_penalty": GEN_LENGTH_PENALTY,
                "max_length": GEN_MAX_LENGTH,
                "min_length": GEN_MIN_LENGTH,
                "no_repeat_ngram_size": GEN_NO_REPEAT_NGRAM,
                "num_beams": GEN_NUM_BEAMS,
            }
        },
    )


def make_generation_config():
    # The fields of facebook/bart-large-cnn's generation_config.json (max/min length scaled down).
    return GenerationConfig(
        bos_token_id=BOS,
        decoder_start_token_id=EOS,
        early_stopping=True,
        eos_token_id=EOS,
        forced_bos_token_id=BOS,
        forced_eos_token_id=EOS,
        length_penalty=GEN_LENGTH_PENALTY,
        max_length=GEN_MAX_LENGTH,
        min_length=GEN_MIN_LENGTH,
        no_repeat_ngram_size=GEN_NO_REPEAT_NGRAM,
        num_beams=GEN_NUM_BEAMS,
        pad_token_id=PAD,
    )


def train(model, gen):
    """A short deterministic training run on the synthetic task (transformers' own loss).

    labels = <s> summary </s> (padded with -100); BartForConditionalGeneration builds the
    decoder inputs with shift_tokens_right, i.e. </s> <s> summary, as BART fine-tuning does.
    """
    opt = torch.optim.Adam(model.parameters(), lr=TRAIN_LR)
    model.train()
    for step in range(TRAIN_STEPS):
        lens = torch.randint(TRAIN_MIN_WORDS, TRAIN_MAX_WORDS + 1, (TRAIN_BATCH,), generator=gen).tolist()
        words = [random_words(n, gen) for n in lens]
        input_ids, attention_mask = pad_batch([source(w) for w in words], PAD)
        # Most summaries lack the leading <s>, so that the model does not always produce it at
        # the first step and forced_bos_token_id changes results (the reason the real
        # checkpoints force it).
        no_bos = (torch.rand(TRAIN_BATCH, generator=gen) < NO_BOS_FRACTION).tolist()
        labels, _ = pad_batch([summary(w)[1:] if nb else summary(w) for w, nb in zip(words, no_bos)], -100)
        loss = model(input_ids=input_ids, attention_mask=attention_mask, labels=labels).loss
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 100 == 0 or step == TRAIN_STEPS - 1:
            print(f"   step {step:4d} loss {loss.item():.3f}", flush=True)


def build_model():
    torch.manual_seed(SEED)
    model = BartForConditionalGeneration(make_config())
    gen = torch.Generator().manual_seed(SEED)
    with torch.no_grad():
        model.final_logits_bias.copy_(torch.randn(model.final_logits_bias.shape, generator=gen) * FINAL_LOGITS_BIAS_STD)
    train(model, gen)
    model.eval()
    model.generation_config = make_generation_config()
    model.save_pretrained(str(OUT_DIR))
    assert (OUT_DIR / "model.safetensors").exists()
    return model


# --------------------------------------------------------------------------------------------
# reference outputs


def inputs():
    gen = torch.Generator().manual_seed(DATA_SEED)
    batch = []
    for i, n in enumerate(GENERATION_WORDS):
        words = random_words(n, gen)
        if i == REPEATING_ROW:
            words[0::2] = [words[2 * (k % 3)] for k in range(len(words[0::2]))]
        batch.append(source(words))
    single = [source(random_words(n, gen)) for n in SINGLE_WORDS]
    forward = [source(random_words(n, gen)) for n in FORWARD_WORDS]
    return {"batch": batch, "single": single}, forward


def run_generation(model, seqs, kwargs):
    input_ids, attention_mask = pad_batch(seqs, PAD)
    with torch.no_grad():
        out = model.generate(input_ids=input_ids, attention_mask=attention_mask, **kwargs)
    return input_ids, attention_mask, out


def reference(orig_state):
    model = BartForConditionalGeneration.from_pretrained(str(OUT_DIR))
    model.eval()
    # The reloaded model must be exactly the one that was built (final_logits_bias included).
    loaded = model.state_dict()
    assert set(loaded) == set(orig_state), set(loaded) ^ set(orig_state)
    for k, t in orig_state.items():
        assert torch.equal(loaded[k], t), k
    model64 = BartForConditionalGeneration.from_pretrained(str(OUT_DIR), dtype=torch.float64)
    model64.eval()
    gen_inputs, forward_seqs = inputs()
    checks = {}

    ref = {
        "versions": {
            "transformers": transformers.__version__,
            "torch": torch.__version__,
            "safetensors": safetensors.__version__,
            "numpy": np.__version__,
        }
    }

    # forward pass with teacher forcing: decoder input = [</s>, <s>, next 4 greedy tokens]
    input_ids, attention_mask, greedy = run_generation(
        model, forward_seqs, dict(do_sample=False, num_beams=1, max_new_tokens=20, return_dict_in_generate=True)
    )
    dec_in = greedy.sequences[:, :6]
    assert dec_in.shape[1] == 6, dec_in.shape
    assert (dec_in[:, 0] == EOS).all() and (dec_in[:, 1] == BOS).all(), dec_in
    assert not ((dec_in[:, 2:] == EOS) | (dec_in[:, 2:] == PAD)).any(), dec_in
    with torch.no_grad():
        fwd = model(input_ids=input_ids, attention_mask=attention_mask, decoder_input_ids=dec_in)
        fwd64 = model64(input_ids=input_ids, attention_mask=attention_mask, decoder_input_ids=dec_in)
    checks["forward_logits_f32_vs_f64"] = (fwd.logits.double() - fwd64.logits).abs().max().item()
    checks["forward_encoder_f32_vs_f64"] = (
        (fwd.encoder_last_hidden_state.double() - fwd64.encoder_last_hidden_state).abs().max().item()
    )
    ref["forward"] = {
        "input_ids": input_ids.tolist(),
        "attention_mask": attention_mask.tolist(),
        "encoder_last_hidden_state": fwd.encoder_last_hidden_state.tolist(),
        "decoder_input_ids": dec_in.tolist(),
        "logits": fwd.logits.tolist(),
    }

    # generation
    gens = []
    robustness = {}
    for name, which, case_kwargs in GENERATION_CASES:
        kwargs = dict(case_kwargs)
        kwargs.update(COMMON)
        input_ids, attention_mask, out = run_generation(model, gen_inputs[which], kwargs)
        seqs = out.sequences
        if kwargs.get("num_beams", model.generation_config.num_beams) > 1:
            scores = out.sequences_scores.tolist()
        else:
            trans = model.compute_transition_scores(seqs, out.scores, normalize_logits=True)
            lens = generated_lengths(seqs)
            scores = [float(trans[i, : lens[i]].double().mean()) for i in range(seqs.shape[0])]
        gens.append(
            {
                "name": name,
                "kwargs": kwargs,
                "input_ids": input_ids.tolist(),
                "attention_mask": attention_mask.tolist(),
                "sequences": seqs.tolist(),
                "scores": scores,
            }
        )
        # numerical robustness: the same search in float64 must give the same sequences
        _, _, out64 = run_generation(model64, gen_inputs[which], kwargs)
        robustness[name] = out64.sequences.tolist() == seqs.tolist()
    ref["generations"] = gens

    # Information only (not stored): which generation_config.json settings change the
    # "defaults" output when switched off one at a time.
    batch_ids, batch_mask = pad_batch(gen_inputs["batch"], PAD)
    defaults = [strip_pad(r) for r in gens[0]["sequences"]]
    assert gens[0]["name"] == "defaults"
    ablations = {}
    for label, kw in [
        ("no_repeat_ngram_size=0", dict(no_repeat_ngram_size=0)),
        ("min_length=0", dict(min_length=0)),
        ("length_penalty=1.0", dict(length_penalty=1.0)),
        ("early_stopping=False", dict(early_stopping=False)),
        ("forced_bos_token_id=None", dict(forced_bos_token_id=None)),
        ("forced_eos_token_id=None", dict(forced_eos_token_id=None)),
    ]:
        with torch.no_grad():
            seqs = model.generate(input_ids=batch_ids, attention_mask=batch_mask, do_sample=False, **kw)
        ablations[label] = [i for i, r in enumerate(seqs.tolist()) if strip_pad(r) != defaults[i]]
    checks["ablations"] = ablations
    return ref, robustness, checks


def summarize(ref, robustness, checks):
    print(f"\n== bart-tiny: {dir_size(OUT_DIR) / 1024:.0f} KiB")
    for f in sorted(OUT_DIR.iterdir()):
        print(f"   {f.name:26s} {f.stat().st_size:>9d}")
    with safe_open(str(OUT_DIR / "model.safetensors"), framework="pt") as f:
        keys = sorted(f.keys())
        print(f"   model.safetensors: {len(keys)} tensors, metadata {f.metadata()}")
        for k in keys:
            print(f"     {k:60s} {list(f.get_slice(k).get_shape())}")
    print(f"   forward logits  f32 vs f64 max abs diff: {checks['forward_logits_f32_vs_f64']:.3e}")
    print(f"   forward encoder f32 vs f64 max abs diff: {checks['forward_encoder_f32_vs_f64']:.3e}")
    by_name = {g["name"]: g for g in ref["generations"]}
    for g in ref["generations"]:
        lens = generated_lengths(torch.tensor(g["sequences"]))
        print(f"   {g['name']:14s} f64-identical={robustness[g['name']]!s:5s} lengths={lens}")
    for g in ref["generations"]:
        print(f"   {g['name']}:")
        for row in g["sequences"]:
            print(f"     {row}")
    greedy, beam = by_name["greedy"], by_name["defaults"]
    print("   inputs and their every-other-word summaries:")
    for row in greedy["input_ids"]:
        words = [t for t in row if t not in (BOS, PAD, EOS)]
        print(f"     {summary(words)}")
    n_distinct = len(set(map(strip_pad, greedy["sequences"])))
    lens = generated_lengths(torch.tensor(greedy["sequences"]))

    def n_diff(a, b):
        return sum(1 for x, y in zip(a["sequences"], b["sequences"]) if strip_pad(x) != strip_pad(y))

    beam_diff = n_diff(greedy, beam)
    print(f"   greedy distinct outputs: {n_distinct}/5, distinct lengths: {sorted(set(lens))}")
    print(f"   defaults (beam 4) differs from greedy on {beam_diff}/5 inputs")
    print(f"   beam4_lp1 differs from defaults on {n_diff(by_name['beam4_lp1'], beam)}/5 inputs")
    print(f"   greedy_min10 differs from greedy on {n_diff(by_name['greedy_min10'], greedy)}/5 inputs")
    for label, rows in checks["ablations"].items():
        print(f"   defaults with {label:26s} changes rows {rows}")
    problems = []
    if n_distinct < 4:
        problems.append("greedy outputs do not vary enough across inputs")
    if len(set(lens)) < 3:
        problems.append("greedy lengths do not vary enough")
    for g in ref["generations"]:
        if not all(strip_pad(row)[-1] == EOS and row[0] == EOS and row[1] == BOS for row in g["sequences"]):
            problems.append(f"{g['name']}: an output does not start with </s> <s> or end with EOS")
    if beam_diff == 0:
        problems.append("beam search never differs from greedy")
    if checks["forward_logits_f32_vs_f64"] >= FORWARD_F64_TOLERANCE:
        problems.append("float32 vs float64 forward logits differ by >= 1e-5")
    if not all(robustness.values()):
        problems.append("float64 generation differs from float32 (near ties)")
    if dir_size(OUT_DIR) >= 2 * 1024 * 1024:
        problems.append("directory is not < 2 MB")
    return problems


def main():
    if OUT_DIR.exists():
        shutil.rmtree(OUT_DIR)
    OUT_DIR.mkdir(parents=True)
    model = build_model()
    ref, robustness, checks = reference(model.state_dict())
    write_json(OUT_DIR / "reference.json", ref)
    problems = summarize(ref, robustness, checks)
    print()
    print(
        f"versions: transformers {transformers.__version__}, torch {torch.__version__}, "
        f"safetensors {safetensors.__version__}, numpy {np.__version__}"
    )
    if problems:
        print("PROBLEMS:\n  " + "\n  ".join(problems))
        sys.exit(1)
    print("OK")


if __name__ == "__main__":
    main()
