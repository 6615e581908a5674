#!/usr/bin/env python3
"""Build a tiny BART summarizer *with its tokenizer* and the reference outputs of transformers.

Run with the fixture venv's Python (torch 2.15, transformers 5.24, tokenizers 0.23, safetensors,
numpy; no network):

    $DRAGOMAN_VENV/bin/python scripts/make_summarizer_fixture.py

This writes tests/fixtures/bart-tiny-summarizer/ with the file layout of
sshleifer/distilbart-cnn-12-6 (no generation_config.json; the summarization settings live in
config.json's task_specific_params.summarization) plus a tokenizer.json:

    config.json  model.safetensors
    vocab.json  merges.txt     byte-level BPE, GPT-2 / RoBERTa format ("#version: 0.2" header)
    tokenizer_config.json      as BartTokenizer.save_pretrained (transformers 5.24) writes it
    tokenizer.json             as BartTokenizerFast.save_pretrained writes it
    reference.json             outputs of transformers (see tests/fixtures/README.md)

Tokenizer: a ByteLevelBPETokenizer (the `tokenizers` library; add_prefix_space false, like
BART) trained on scripts/corpus/en.txt to VOCAB_SIZE entries: <s> 0, <pad> 1, </s> 2, <unk> 3,
the 256 byte symbols, merges; then <mask> appended last (as in BART, where it is 50264), added
as AddedToken(lstrip=True) like the real BART tokenizers.  transformers 5.24 writes
`"mask_token": "<mask>"` (no lstrip) into tokenizer_config.json, so the tokenizer loaded from
vocab.json + merges.txt + tokenizer_config.json ("slow files") treats spaces before a literal
<mask> differently from the one loaded with tokenizer.json; reference.json records both and
where they differ (only texts containing " <mask>").

In transformers 5.24 BartTokenizer and BartTokenizerFast are the same class (RobertaTokenizer on
the tokenizers backend); "slow" here means BartTokenizer.from_pretrained on a directory
without tokenizer.json (the vocab/merges fallback), "fast" means BartTokenizerFast on the full
directory.  Decoding: batch_decode(skip_special_tokens=True); transformers 5.24 ignores
clean_up_tokenization_spaces=True for BPE tokenizers (and the saved config says false), which
reference.json checks (decoded_cleanup == decoded).

Model: BartForConditionalGeneration shaped like distilbart-cnn (gelu, learned positions with
offset 2, post-layer-norm, tied embeddings, pad 1, bos 0, eos 2, decoder start 2, forced EOS 2)
shrunk to d_model 48, 2 + 2 layers, 4 heads, ffn 96, 128 positions.  It is trained briefly
(TRAIN_STEPS Adam steps, fixed seeds) to "summarize" 1-3 corpus sentences as their first
first sentence cut to LEAD_TOKENS tokens, so that outputs depend on the input (checked: they differ between inputs
and are not one repeated token).  final_logits_bias is set to small random values.

Generation references: model.generate with task_specific_params.summarization passed
explicitly (transformers 5.24 does not read task_specific_params), plus per-case overrides.
Every case is rerun in float64 and must give the same sequences (no near ties).  The script
exits with status 1 if a check fails; running it twice gives identical files.
"""

import json
import math
import shutil
import sys
import tempfile
from pathlib import Path

import torch

torch.set_num_threads(1)
torch.set_num_interop_threads(1)

import numpy as np  # noqa: E402
import safetensors  # noqa: E402
import tokenizers  # noqa: E402
import transformers  # noqa: E402
from tokenizers import ByteLevelBPETokenizer  # noqa: E402
from transformers import (  # noqa: E402
    AddedToken,
    BartConfig,
    BartForConditionalGeneration,
    BartTokenizer,
    BartTokenizerFast,
)

transformers.logging.set_verbosity_error()

ROOT = Path(__file__).resolve().parent.parent
OUT_DIR = ROOT / "tests" / "fixtures" / "bart-tiny-summarizer"
CORPUS = ROOT / "scripts" / "corpus" / "en.txt"

BOS, PAD, EOS, UNK = 0, 1, 2, 3
SPECIALS = ["<s>", "<pad>", "</s>", "<unk>"]
VOCAB_SIZE = 500  # trained entries; <mask> comes on top (id 500)
MAX_POSITIONS = 128

SEED = 3
INIT_STD = 0.1
FINAL_LOGITS_BIAS_STD = 0.1
TRAIN_STEPS = 400
TRAIN_BATCH = 16
TRAIN_LR = 3e-3
LEAD_TOKENS = 20
MAX_TRAIN_INPUT = 100

# distilbart-cnn-12-6's task_specific_params.summarization, lengths scaled to the tiny model.
TASK_PARAMS = {
    "early_stopping": True,
    "length_penalty": 2.0,
    "max_length": 40,
    "min_length": 8,
    "no_repeat_ngram_size": 3,
    "num_beams": 4,
}

# Held-out news-like texts (not in the corpus).
TEXTS = {
    "short": "The minister resigned on Friday.",
    "medium": "Farmers blocked several motorways around Paris on Monday to protest against "
    "new environmental rules and falling prices.",
    "long": "The government announced a plan to build six new nuclear reactors by 2035. "
    "The opposition criticised the cost of the programme, estimated at 52 billion euros. "
    "Unions welcomed the decision but asked for more recruitment in the sector.",
    "accents": "À Marseille, la police a arrêté « trois suspects » — the prosecutor said.",
    "quotes": "\u201cWe will not give up,\u201d the striking workers\u2019 spokesperson told reporters.",
    "numbers": "Inflation fell to 4.9% in October, from 5.7% in September, according to INSEE.",
}

GENERATION_CASES = [
    # name, texts, overrides on top of TASK_PARAMS
    ("task_defaults_batch", ["short", "medium", "long", "numbers"], {}),
    ("task_defaults_single", ["long"], {}),
    ("task_defaults_unicode", ["accents", "quotes"], {}),
    ("greedy_batch", ["medium", "short", "quotes"], {"num_beams": 1, "max_new_tokens": 20}),
    ("beam2_lp1", ["numbers", "accents", "medium"], {"num_beams": 2, "length_penalty": 1.0}),
]

ENCODE_CASES = [
    "",
    "Hello world",
    "The President of the Republic received his German counterpart.",
    " leading space",
    "trailing space ",
    "  two leading spaces",
    "multiple   inner    spaces",
    "tab\tseparated",
    "line one\nline two",
    "paragraph\n\nbreak\n",
    "\n",
    "   ",
    "Élysée Palace, café, naïve, Noël, façade",
    "À bientôt ! Ça va ?",
    "\u201cCurly double\u201d and \u2018curly single\u2019 quotes",
    "l\u2019économie française",
    "Emoji: \U0001F642 \U0001F1EB\U0001F1F7 \U0001F468\u200D\U0001F469\u200D\U0001F467",
    "Numbers: 3.5% of 1,234,567 in 2024; 12:30; -7.25",
    "<s> literal start token",
    "text with </s> inside",
    "<s></s><pad><unk>",
    "a <mask> b",
    "a<mask>b",
    "don't won't it's we're I'm they've",
    "Hello , world . Is it ? Yes !",
    "URL: https://example.org/path?q=1&r=2",
    "CJK 東京 and Arabic العربية and Greek αβγ",
    "zero\u200bwidth and non\u00a0breaking spaces",
    "MixedCASE WORDS and ALLCAPS",
    "Sentence one. Sentence two! Sentence three?",
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


def strip_pad(row):
    row = list(row)
    while row and row[-1] == PAD:
        row.pop()
    return tuple(row)


def generated_lengths(sequences):
    out = []
    for row in sequences:
        gen = row[1:]
        n = len(gen)
        for i, t in enumerate(gen):
            if t == EOS:
                n = i + 1
                break
        out.append(n)
    return out


def pad_batch(seqs, pad_value):
    width = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), width), pad_value, dtype=torch.long)
    mask = torch.zeros((len(seqs), width), dtype=torch.long)
    for i, s in enumerate(seqs):
        ids[i, : len(s)] = torch.tensor(s, dtype=torch.long)
        mask[i, : len(s)] = 1
    return ids, mask


# --------------------------------------------------------------------------------------------
# tokenizer


def corpus_lines():
    return [line for line in CORPUS.read_text(encoding="utf-8").splitlines() if line.strip()]


def build_tokenizer(work):
    """Trains the BPE, writes vocab.json / merges.txt / tokenizer_config.json / tokenizer.json."""
    bpe = ByteLevelBPETokenizer(add_prefix_space=False)
    bpe.train_from_iterator(
        corpus_lines(), vocab_size=VOCAB_SIZE, min_frequency=2, special_tokens=SPECIALS, show_progress=False
    )
    bpe.save_model(str(OUT_DIR))
    vocab = json.loads((OUT_DIR / "vocab.json").read_text(encoding="utf-8"))
    assert [vocab[t] for t in SPECIALS] == [BOS, PAD, EOS, UNK], vocab
    assert len(vocab) == VOCAB_SIZE, len(vocab)
    vocab["<mask>"] = len(vocab)
    (OUT_DIR / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")

    tok = BartTokenizer.from_pretrained(
        str(OUT_DIR),
        mask_token=AddedToken("<mask>", lstrip=True, rstrip=False),
        model_max_length=MAX_POSITIONS,
    )
    saved = work / "saved"
    tok.save_pretrained(str(saved))
    for name in ["tokenizer_config.json", "tokenizer.json"]:
        shutil.copy(saved / name, OUT_DIR / name)
    return len(vocab)


def load_tokenizers(work):
    """("slow") BartTokenizer on vocab.json + merges.txt + tokenizer_config.json only, and
    ("fast") BartTokenizerFast on the full directory (tokenizer.json included)."""
    slow_dir = work / "slow"
    slow_dir.mkdir()
    for name in ["vocab.json", "merges.txt", "tokenizer_config.json"]:
        shutil.copy(OUT_DIR / name, slow_dir / name)
    slow = BartTokenizer.from_pretrained(str(slow_dir))
    fast = BartTokenizerFast.from_pretrained(str(OUT_DIR))
    return slow, fast


def tokenizer_reference(slow, fast, generated):
    encode = []
    for text in ENCODE_CASES:
        s = slow(text).input_ids
        f = fast(text).input_ids
        encode.append({"text": text, "slow": s, "fast": f, "agree": s == f})
    decode_ids = [
        [],
        [BOS, EOS],
        [EOS, BOS, EOS, PAD, PAD],
        fast("Hello , world . Is it ? Yes !").input_ids,
        fast("don't won't it's we're I'm").input_ids,
        fast(" leading and trailing ").input_ids,
        fast(ENCODE_CASES[16]).input_ids,  # emoji
        fast(ENCODE_CASES[12]).input_ids,  # accents
        [fast.convert_tokens_to_ids("ð")],  # a lone UTF-8 lead byte
        fast("x \U0001F642 y").input_ids[:4],  # an emoji cut in the middle of its bytes
        [BOS] + fast("mid").input_ids[1:-1] + [EOS, UNK] + fast(" sequence").input_ids[1:-1] + [PAD],
        fast("a <mask> b").input_ids,
        [UNK, UNK],
    ] + [list(row) for row in generated]
    decode = []
    for ids in decode_ids:
        d_slow = slow.decode(ids, skip_special_tokens=True)
        d_fast = fast.decode(ids, skip_special_tokens=True)
        d_clean = fast.decode(ids, skip_special_tokens=True, clean_up_tokenization_spaces=True)
        assert d_slow == d_fast, (ids, d_slow, d_fast)
        assert d_clean == d_fast, (ids, d_clean, d_fast)
        decode.append({"ids": ids, "text": d_fast})
    return {
        "classes": {"slow": type(slow).__name__, "fast": type(fast).__name__},
        "clean_up_tokenization_spaces": [slow.clean_up_tokenization_spaces, fast.clean_up_tokenization_spaces],
        "encode": encode,
        "decode": decode,
    }


# --------------------------------------------------------------------------------------------
# model


def make_config(vocab_size):
    return BartConfig(
        vocab_size=vocab_size,
        d_model=48,
        encoder_layers=2,
        decoder_layers=2,
        encoder_attention_heads=4,
        decoder_attention_heads=4,
        encoder_ffn_dim=96,
        decoder_ffn_dim=96,
        max_position_embeddings=MAX_POSITIONS,
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
        task_specific_params={"summarization": dict(TASK_PARAMS)},
    )


def training_pairs(tok, gen):
    """1-3 consecutive corpus sentences -> the first one, cut to LEAD_TOKENS tokens."""
    lines = corpus_lines()
    pairs = []
    while len(pairs) < TRAIN_BATCH:
        start = int(torch.randint(0, len(lines), (1,), generator=gen))
        n = int(torch.randint(1, 4, (1,), generator=gen))
        text = " ".join(lines[start : start + n])
        ids = tok(text).input_ids
        if len(ids) > MAX_TRAIN_INPUT:
            continue
        lead = tok(lines[start]).input_ids[1:-1]
        pairs.append((ids, [BOS] + lead[:LEAD_TOKENS] + [EOS]))
    return pairs


def build_model(tok, vocab_size):
    torch.manual_seed(SEED)
    model = BartForConditionalGeneration(make_config(vocab_size))
    gen = torch.Generator().manual_seed(SEED)
    with torch.no_grad():
        model.final_logits_bias.copy_(torch.randn(model.final_logits_bias.shape, generator=gen) * FINAL_LOGITS_BIAS_STD)
    opt = torch.optim.Adam(model.parameters(), lr=TRAIN_LR)
    model.train()
    for step in range(TRAIN_STEPS):
        pairs = training_pairs(tok, gen)
        input_ids, attention_mask = pad_batch([p[0] for p in pairs], PAD)
        labels, _ = pad_batch([p[1] for p in pairs], -100)
        loss = model(input_ids=input_ids, attention_mask=attention_mask, labels=labels).loss
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 100 == 0 or step == TRAIN_STEPS - 1:
            print(f"   step {step:4d} loss {loss.item():.3f}", flush=True)
    model.eval()
    model.save_pretrained(str(OUT_DIR))
    # Like sshleifer/distilbart-cnn-12-6: no generation_config.json.
    (OUT_DIR / "generation_config.json").unlink(missing_ok=True)
    return model


def run_generation(model, tok, texts, kwargs):
    enc = tok(texts, padding=True, return_tensors="pt")
    with torch.no_grad():
        out = model.generate(
            input_ids=enc.input_ids,
            attention_mask=enc.attention_mask,
            do_sample=False,
            return_dict_in_generate=True,
            output_scores=True,
            **kwargs,
        )
    return enc, out


def generation_reference(tok):
    model = BartForConditionalGeneration.from_pretrained(str(OUT_DIR))
    model.eval()
    model64 = BartForConditionalGeneration.from_pretrained(str(OUT_DIR), dtype=torch.float64)
    model64.eval()
    cases, robust = [], {}
    for name, keys, overrides in GENERATION_CASES:
        texts = [TEXTS[k] for k in keys]
        kwargs = dict(TASK_PARAMS)
        kwargs.update(overrides)
        enc, out = run_generation(model, tok, texts, kwargs)
        seqs = out.sequences.tolist()
        cases.append(
            {
                "name": name,
                "texts": texts,
                "overrides": overrides,
                "kwargs": kwargs,
                "input_ids": [[t for t, m in zip(r, mk) if m] for r, mk in zip(enc.input_ids.tolist(), enc.attention_mask.tolist())],
                "sequences": [list(strip_pad(r)) for r in seqs],
                "decoded": tok.batch_decode(out.sequences, skip_special_tokens=True),
            }
        )
        _, out64 = run_generation(model64, tok, texts, kwargs)
        robust[name] = out64.sequences.tolist() == seqs
    return cases, robust


def main():
    if OUT_DIR.exists():
        shutil.rmtree(OUT_DIR)
    OUT_DIR.mkdir(parents=True)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        vocab_size = build_tokenizer(work)
        slow, fast = load_tokenizers(work)
        build_model(fast, vocab_size)
        cases, robust = generation_reference(fast)
        generated = [row for case in cases for row in case["sequences"]]
        tok_ref = tokenizer_reference(slow, fast, generated)
    ref = {
        "versions": {
            "transformers": transformers.__version__,
            "tokenizers": tokenizers.__version__,
            "torch": torch.__version__,
            "safetensors": safetensors.__version__,
            "numpy": np.__version__,
        },
        "task_params": TASK_PARAMS,
        "tokenizer": tok_ref,
        "generations": cases,
    }
    write_json(OUT_DIR / "reference.json", ref)

    problems = []
    print(f"\n== bart-tiny-summarizer: {dir_size(OUT_DIR) / 1024:.0f} KiB")
    for f in sorted(OUT_DIR.iterdir()):
        print(f"   {f.name:26s} {f.stat().st_size:>9d}")
    disagree = [c["text"] for c in tok_ref["encode"] if not c["agree"]]
    print(f"   encode cases: {len(tok_ref['encode'])}, slow != fast on {disagree}")
    print(f"   decode cases: {len(tok_ref['decode'])}")
    if any("<mask>" not in t for t in disagree):
        problems.append("slow and fast tokenizers disagree on a text without <mask>")
    all_outputs = []
    for case in cases:
        print(f"   {case['name']:22s} f64-identical={robust[case['name']]!s:5s} lengths={generated_lengths(case['sequences'])}")
        for text, row, out in zip(case["texts"], case["sequences"], case["decoded"]):
            print(f"     {text[:50]!r:54s} -> {out!r}")
            gen = [t for t in row if t not in (BOS, PAD, EOS)]
            if len(set(gen)) < 3:
                problems.append(f"{case['name']}: degenerate output {row}")
            all_outputs.append(tuple(row))
        if not robust[case["name"]]:
            problems.append(f"{case['name']}: float64 generation differs (near tie)")
    if len(set(all_outputs)) < len(all_outputs) // 2:
        problems.append("outputs do not differ enough between inputs")
    if dir_size(OUT_DIR) >= 2 * 1024 * 1024:
        problems.append("directory is not < 2 MB")
    if (OUT_DIR / "generation_config.json").exists():
        problems.append("generation_config.json must not exist")
    print(f"\nversions: {ref['versions']}")
    if problems:
        print("PROBLEMS:\n  " + "\n  ".join(problems))
        sys.exit(1)
    print("OK")


if __name__ == "__main__":
    main()
