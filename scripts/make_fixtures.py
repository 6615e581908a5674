#!/usr/bin/env python3
"""Build tiny Marian translation fixtures and the reference outputs of transformers.

Run through scripts/make_fixtures.sh (which pins the Python package versions).

For each model in MODELS this writes tests/fixtures/<name>/ with the file layout of a
Helsinki-NLP/opus-mt-* Hub repository:

    config.json  generation_config.json  vocab.json  source.spm  target.spm
    tokenizer_config.json  special_tokens_map.json
    model.safetensors  (swish model)   or   pytorch_model.bin  (relu model)
    reference.json     (outputs of transformers, see tests/fixtures/README.md)

The models are initialised from fixed seeds and then trained briefly (800 Adam steps) on
scripts/corpus so that their output depends on the input and ends at varied lengths (purely
random weights repeat one token to the length limit, which makes parity tests weak).

Everything is deterministic: SentencePiece is trained from an in-memory iterator with one
thread (no file paths end up in the .spm protos), torch uses fixed seeds and one CPU thread,
and the reference outputs are computed from the model and tokenizer *reloaded from the
written files*.  Running the script twice produces byte-identical files.  The script exits
with status 1 if a sanity check fails (outputs not varied enough, a generation that changes
when rerun in float64, i.e. a near-tie, or a directory of 2 MB or more).

Only transformers' own classes (MarianConfig, MarianMTModel, MarianTokenizer,
GenerationConfig) are used to produce reference outputs; nothing is reimplemented.
"""

import importlib.util
import io
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
import sentencepiece as spm  # noqa: E402
import transformers  # noqa: E402
from transformers import GenerationConfig, MarianConfig, MarianMTModel, MarianTokenizer  # noqa: E402

transformers.logging.set_verbosity_error()

ROOT = Path(__file__).resolve().parent.parent
CORPUS_DIR = ROOT / "scripts" / "corpus"
FIXTURES_DIR = ROOT / "tests" / "fixtures"

CHARACTER_COVERAGE = 0.9995  # < 1.0: the rarest characters of the corpus are out of vocabulary

# The seeds were picked among a few so that every check in summarize() passes and the cases
# exercise different beam-search paths: in the swish model early_stopping="never" changes a
# result, in the relu model early_stopping=True does, and min_new_tokens=10 bites in both.
MODELS = [
    # Like Helsinki-NLP/opus-mt-fr-en (transformer-base: swish, static sinusoidal positions).
    dict(
        name="marian-tiny-swish",
        src_vocab_size=500,
        tgt_vocab_size=400,
        d_model=32,
        encoder_layers=2,
        decoder_layers=2,
        heads=4,
        ffn=64,
        activation="swish",
        max_position_embeddings=64,
        init_std=0.1,
        train_steps=800,
        seed=3,
        weights="safetensors",
    ),
    # Like Helsinki-NLP/opus-mt-tc-big-fr-en (transformer-big: relu), old-style pytorch_model.bin.
    dict(
        name="marian-tiny-relu",
        src_vocab_size=350,
        tgt_vocab_size=300,
        d_model=48,
        encoder_layers=3,
        decoder_layers=2,
        heads=6,
        ffn=96,
        activation="relu",
        max_position_embeddings=96,
        init_std=0.1,
        train_steps=800,
        seed=2,
        weights="bin",
    ),
]

# Tokenizer test corpus: MarianTokenizer(text).input_ids
TOKENIZER_TEXTS = [
    "Le président de la République a reçu mardi son homologue allemand.",
    "« Nous devons agir ensemble », a déclaré le chef de l’État.",
    "L’inflation a atteint 3,5 % en octobre, contre 4,1 % en septembre.",
    "Le gouvernement prévoit de créer 1 200 postes dans l’armée.",
    "Le gouvernement prévoit 1\u00a0200 postes et une hausse de 3,5\u00a0%.",
    "«\u202fBonjour\u202f», dit-il\u202f: 1\u202f200 soldats et 3,5\u202f%.",
    "Première ligne.\nDeuxième ligne.\n\nQuatrième ligne.",
    "Colonne 1\tColonne 2\t\tfin",
    "Trop    d’espaces   entre     les mots.",
    "   espaces au début et à la fin   ",
    "Bravo 👍 pour l’équipe 🇫🇷 ! 😀😀",
    "Le président 习近平 a rencontré 普京 à Pékin.",
    "مرحبا بالعالم et Москва, Россия.",
    "Une suite de caractères inconnus : ᚠᛇᚻᛒᛦᚦ日本語テキスト fin.",
    "Le texte contient <unk> et </s> et <pad> littéralement.",
    "Bonjour</s>monde<pad>fin<unk>",
    "</s>",
    "<unk>",
    "ＦＵＬＬ ＷＩＤＴＨ １２３ ＡＢＣ，ｄｅ ｌａ",
    "La ﬁnance et l’eﬀort ﬂuctuent ﬃ ﬄ.",
    "",
    "anticonstitutionnellementanticonstitutionnellementanticonstitutionnellement",
    "M. Dupont et Mme Martin ont voté contre le projet de loi.",
    "Qu’est-ce que c’est ? C'est l'été ! Aujourd'hui…",
    "ÉTAT D’URGENCE À L’ÎLE-DE-FRANCE",
    "Œuvre, cœur, sœur, Œdipe, naïve, Noël, où, garçon.",
    "Le prix : 1,90 € le litre ; 100 $ ; 50 £ ; 20 ¥.",
    "cafe\u0301 et e\u0300 (accents combinants)",
    "zero\u200bwidth et soft\u00adhyphen",
    ">>fra<< Bonjour le monde",
    "\n",
    "     ",
    "a\u2581b ▁▁ c",
    "OTAN, ONU, UE, FMI, G7 et G20.",
    "Le 14 juillet 2024, à 20 h 30, 6 500 participants ont défilé.",
    "Selon l’Insee, la croissance a atteint 0,3 % au premier trimestre, "
    "tandis que le chômage a reculé de 0,2 point et que les exportations ont progressé "
    "de 2,8 % par rapport à l’année précédente, a indiqué l’institut vendredi.",
]

# Generation inputs (a batch of 5 French sentences of different lengths).
GENERATION_TEXTS = [
    "Le ministre a démissionné.",
    "Les négociations de paix reprendront à Genève la semaine prochaine.",
    "« La France ne cédera pas », a déclaré M. Dupont devant l’Assemblée nationale, mardi soir.",
    "Bonjour.",
    "Selon l’Insee, l’inflation a atteint 3,5 % en octobre, tandis que le chômage a reculé.",
]
SINGLE_TEXT = ["Le Conseil de sécurité de l’ONU se réunira en urgence ce soir."]
FORWARD_TEXTS = [
    "Les troupes ont été placées en état d’alerte.",
    "Le sommet s’est achevé.",
    "La Banque centrale européenne a relevé ses taux directeurs de 0,25 point, a annoncé Mme Lagarde.",
    "Merci !",
]

COMMON = dict(do_sample=False, return_dict_in_generate=True, output_scores=True)
GENERATION_CASES = [
    ("greedy", GENERATION_TEXTS, dict(num_beams=1, max_new_tokens=30)),
    ("beam4", GENERATION_TEXTS, dict(num_beams=4, max_new_tokens=30)),
    ("beam4_early", GENERATION_TEXTS, dict(num_beams=4, max_new_tokens=30, early_stopping=True)),
    ("beam4_never", GENERATION_TEXTS, dict(num_beams=4, max_new_tokens=30, early_stopping="never")),
    (
        "beam5_lp06_ret3",
        GENERATION_TEXTS,
        dict(num_beams=5, max_new_tokens=30, length_penalty=0.6, num_return_sequences=3),
    ),
    ("beam3_lp2", GENERATION_TEXTS, dict(num_beams=3, max_new_tokens=30, length_penalty=2.0)),
    (
        "beam4_norepeat2_rep15",
        GENERATION_TEXTS,
        dict(num_beams=4, max_new_tokens=30, no_repeat_ngram_size=2, repetition_penalty=1.5),
    ),
    (
        "greedy_min15_norepeat3_rep12",
        GENERATION_TEXTS,
        dict(num_beams=1, max_new_tokens=30, min_length=15, no_repeat_ngram_size=3, repetition_penalty=1.2),
    ),
    ("greedy_max8", GENERATION_TEXTS, dict(num_beams=1, max_length=8)),
    ("beam4_min_new10", GENERATION_TEXTS, dict(num_beams=4, max_new_tokens=30, min_new_tokens=10)),
    ("defaults", GENERATION_TEXTS, dict()),
    ("single_beam4", SINGLE_TEXT, dict(num_beams=4, max_new_tokens=30)),
]

TRAIN_LR = 3e-3
TRAIN_BATCH = 16
FINAL_LOGITS_BIAS_STD = 0.5

GEN_MAX_LENGTH = 40
GEN_NUM_BEAMS = 4


# --------------------------------------------------------------------------------------------
# helpers


def read_lines(path):
    with open(path, encoding="utf-8") as f:
        return [line.rstrip("\n") for line in f if line.strip()]


def train_spm(lines, vocab_size):
    """Train a unigram SentencePiece model in memory; returns the serialized proto."""
    writer = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(lines),
        model_writer=writer,
        model_type="unigram",
        vocab_size=vocab_size,
        character_coverage=CHARACTER_COVERAGE,
        normalization_rule_name="nmt_nfkc",
        num_threads=1,
        minloglevel=2,
    )
    return writer.getvalue()


def build_vocab(src_proto, tgt_proto):
    """Marian shared vocab: </s>=0, <unk>=1, source pieces, new target pieces, <pad> last."""
    vocab = {"</s>": 0, "<unk>": 1}
    for proto in (src_proto, tgt_proto):
        sp = spm.SentencePieceProcessor(model_proto=proto)
        for i in range(sp.get_piece_size()):
            if sp.is_control(i) or sp.is_unknown(i):
                continue
            piece = sp.id_to_piece(i)
            if piece not in vocab:
                vocab[piece] = len(vocab)
    vocab["<pad>"] = len(vocab)
    return vocab


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


# --------------------------------------------------------------------------------------------
# fixture construction


def build_tokenizer_files(spec, fr_lines, en_lines, out_dir):
    src_proto = train_spm(fr_lines, spec["src_vocab_size"])
    tgt_proto = train_spm(en_lines, spec["tgt_vocab_size"])
    vocab = build_vocab(src_proto, tgt_proto)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "source.spm").write_bytes(src_proto)
        (tmp / "target.spm").write_bytes(tgt_proto)
        with open(tmp / "vocab.json", "w", encoding="utf-8") as f:
            json.dump(vocab, f, indent=2)
        tok = MarianTokenizer(
            source_spm=str(tmp / "source.spm"),
            target_spm=str(tmp / "target.spm"),
            vocab=str(tmp / "vocab.json"),
            source_lang="fr",
            target_lang="en",
        )
        # Writes tokenizer_config.json, vocab.json, source.spm, target.spm exactly as transformers does.
        tok.save_pretrained(str(out_dir))
    # transformers 5 no longer writes special_tokens_map.json; the Hub repos have this one.
    if not (out_dir / "special_tokens_map.json").exists():
        with open(out_dir / "special_tokens_map.json", "w", encoding="utf-8") as f:
            json.dump({"eos_token": "</s>", "unk_token": "<unk>", "pad_token": "<pad>"}, f)
    return vocab


def train(model, tok, fr_lines, en_lines, spec, gen):
    """A short deterministic training run on the parallel corpus.

    Purely random weights make a degenerate translator (one token repeated forever, or a
    length that never varies), and parity against such a model proves little.  A few hundred
    Adam steps give outputs that depend on the input, end with EOS at varied lengths (some
    still loop until the length limit) and leave beam search disagreeing with greedy search.
    This uses transformers' own forward pass and loss; nothing is reimplemented.
    """
    pad_id = model.config.pad_token_id
    opt = torch.optim.Adam(model.parameters(), lr=TRAIN_LR)
    model.train()
    for step in range(spec["train_steps"]):
        idx = torch.randperm(len(fr_lines), generator=gen)[:TRAIN_BATCH].tolist()
        batch = tok(
            [fr_lines[i] for i in idx], text_target=[en_lines[i] for i in idx], padding=True, return_tensors="pt"
        )
        batch["labels"][batch["labels"] == pad_id] = -100
        loss = model(**batch).loss
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 200 == 0 or step == spec["train_steps"] - 1:
            print(f"   {spec['name']}: step {step:4d} loss {loss.item():.3f}", flush=True)


def build_model(spec, vocab, tok, fr_lines, en_lines, out_dir):
    vocab_size = len(vocab)
    pad_id = vocab["<pad>"]
    eos_id = vocab["</s>"]
    assert pad_id == vocab_size - 1 and eos_id == 0
    config = MarianConfig(
        vocab_size=vocab_size,
        decoder_vocab_size=vocab_size,
        d_model=spec["d_model"],
        encoder_layers=spec["encoder_layers"],
        decoder_layers=spec["decoder_layers"],
        encoder_attention_heads=spec["heads"],
        decoder_attention_heads=spec["heads"],
        encoder_ffn_dim=spec["ffn"],
        decoder_ffn_dim=spec["ffn"],
        activation_function=spec["activation"],
        max_position_embeddings=spec["max_position_embeddings"],
        scale_embedding=True,
        share_encoder_decoder_embeddings=True,
        tie_word_embeddings=True,
        pad_token_id=pad_id,
        eos_token_id=eos_id,
        bos_token_id=eos_id,  # as in the opus-mt config.json files
        forced_eos_token_id=eos_id,
        decoder_start_token_id=pad_id,
        init_std=spec["init_std"],
        dropout=0.1,
        attention_dropout=0.0,
        activation_dropout=0.0,
        architectures=["MarianMTModel"],
    )
    torch.manual_seed(spec["seed"])
    model = MarianMTModel(config)
    gen = torch.Generator().manual_seed(spec["seed"])
    with torch.no_grad():
        # Non-zero output bias (as converted Marian models have), so that loaders must apply it.
        model.final_logits_bias.copy_(torch.randn(model.final_logits_bias.shape, generator=gen) * FINAL_LOGITS_BIAS_STD)
        # nn.Embedding(padding_idx=pad) zeroes the <pad> row and never trains it, but <pad> is also
        # the decoder start token: give it a non-zero embedding so that loaders must get it right.
        emb = model.get_input_embeddings().weight
        emb[pad_id].copy_(torch.randn(emb.shape[1], generator=gen) * spec["init_std"] * 5)
    train(model, tok, fr_lines, en_lines, spec, gen)
    model.eval()
    model.generation_config = GenerationConfig(
        bad_words_ids=[[pad_id]],
        bos_token_id=eos_id,
        decoder_start_token_id=pad_id,
        eos_token_id=eos_id,
        forced_eos_token_id=eos_id,
        max_length=GEN_MAX_LENGTH,
        num_beams=GEN_NUM_BEAMS,
        pad_token_id=pad_id,
        renormalize_logits=True,
    )

    if spec["weights"] == "safetensors":
        model.save_pretrained(str(out_dir))
        assert (out_dir / "model.safetensors").exists()
        assert not (out_dir / "pytorch_model.bin").exists()
    else:
        # Old Hub layout: a torch.save'd state_dict (tied tensors share one storage).
        model.config.save_pretrained(str(out_dir))
        model.generation_config.save_pretrained(str(out_dir))
        torch.save(model.state_dict(), out_dir / "pytorch_model.bin")
    return model


# --------------------------------------------------------------------------------------------
# reference outputs


def generated_lengths(sequences, eos_id, pad_id):
    """Number of generated tokens per row (decoder start excluded, EOS included, pad after EOS excluded)."""
    out = []
    for row in sequences.tolist():
        gen = row[1:]
        n = len(gen)
        for i, t in enumerate(gen):
            if t == eos_id:
                n = i + 1
                break
        out.append(n)
    return out


def run_generation(model, tok, texts, kwargs):
    enc = tok(texts, padding=True, return_tensors="pt")
    with torch.no_grad():
        out = model.generate(input_ids=enc.input_ids, attention_mask=enc.attention_mask, **kwargs)
    return enc, out


def reference(model_dir, orig_state):
    tok = MarianTokenizer.from_pretrained(str(model_dir))
    model = MarianMTModel.from_pretrained(str(model_dir))
    model.eval()
    # The reloaded model must be exactly the one that was built (final_logits_bias included).
    loaded = model.state_dict()
    assert set(loaded) == set(orig_state), set(loaded) ^ set(orig_state)
    for k, t in orig_state.items():
        assert torch.equal(loaded[k], t), k
    cfg = model.config
    eos_id, pad_id = cfg.eos_token_id, cfg.pad_token_id

    ref = {
        "versions": {
            "transformers": transformers.__version__,
            "torch": torch.__version__,
            "sentencepiece": spm.__version__,
        }
    }

    # tokenizer
    ref["tokenizer"] = [{"text": t, "ids": tok(t).input_ids} for t in TOKENIZER_TEXTS]

    # forward pass with teacher forcing
    enc = tok(FORWARD_TEXTS, padding=True, return_tensors="pt")
    with torch.no_grad():
        greedy = model.generate(
            input_ids=enc.input_ids, attention_mask=enc.attention_mask, do_sample=False, num_beams=1, max_new_tokens=30
        )
        dec_in = torch.cat(
            [torch.full((len(FORWARD_TEXTS), 1), cfg.decoder_start_token_id, dtype=torch.long), greedy[:, 1:6]], dim=1
        )
        assert dec_in.shape[1] == 6, dec_in.shape
        fwd = model(input_ids=enc.input_ids, attention_mask=enc.attention_mask, decoder_input_ids=dec_in)
    ref["forward"] = {
        "texts": FORWARD_TEXTS,
        "input_ids": enc.input_ids.tolist(),
        "attention_mask": enc.attention_mask.tolist(),
        "encoder_last_hidden_state": fwd.encoder_last_hidden_state.tolist(),
        "decoder_input_ids": dec_in.tolist(),
        "logits": fwd.logits.tolist(),
    }

    # generation
    gens = []
    decode_ids = []
    robustness = {}
    model64 = MarianMTModel.from_pretrained(str(model_dir), dtype=torch.float64)
    model64.eval()
    for name, texts, case_kwargs in GENERATION_CASES:
        kwargs = dict(case_kwargs)
        kwargs.update(COMMON)
        enc, out = run_generation(model, tok, texts, kwargs)
        seqs = out.sequences
        if kwargs.get("num_beams", model.generation_config.num_beams) > 1:
            scores = out.sequences_scores.tolist()
        else:
            trans = model.compute_transition_scores(seqs, out.scores, normalize_logits=True)
            lens = generated_lengths(seqs, eos_id, pad_id)
            scores = [float(trans[i, : lens[i]].double().mean()) for i in range(seqs.shape[0])]
        seq_list = seqs.tolist()
        gens.append(
            {
                "name": name,
                "kwargs": kwargs,
                "texts": texts,
                "sequences": seq_list,
                "scores": scores,
                "decoded": tok.batch_decode(seqs, skip_special_tokens=True),
            }
        )
        decode_ids.extend(seq_list)
        # numerical robustness: same search in float64 must give the same sequences
        _, out64 = run_generation(model64, tok, texts, kwargs)
        robustness[name] = out64.sequences.tolist() == seq_list

    # decode cases: every generated sequence plus hand-made ones
    vocab = tok.get_vocab()
    v = lambda p: vocab[p]  # noqa: E731
    common_pieces = [p for p in ["▁de", "▁la", "▁le", "▁président", "s", ".", "▁,", ","] if p in vocab]
    a, b, c = common_pieces[0], common_pieces[1], common_pieces[2]
    target_only = [p for p in vocab if p not in ("</s>", "<unk>", "<pad>")][-6:]
    hand = [
        [v(a), 1, v(b), v(c), eos_id],
        [pad_id, v(a), pad_id, v(b), eos_id, pad_id, pad_id],
        [v(a), eos_id, v(b), v(c), eos_id],
        [1, 1, v(a), 1],
        [pad_id, 1, v("▁"), 1, v("▁"), v(b), eos_id],
        [v("▁"), v("▁"), v(a), v("▁")],
        [pad_id, eos_id],
        [],
        [v(p) for p in target_only] + [eos_id],
        # "▁" + punctuation: shows whether decode cleans up tokenization spaces (" ." -> ".")
        [v(a)] + [x for p in [".", ",", "?", "!", "'"] if p in vocab for x in (v("▁"), v(p))] + [v(b), eos_id],
    ]
    decode_ids = hand + decode_ids
    seen = set()
    ref["decode"] = []
    for ids in decode_ids:
        key = tuple(ids)
        if key in seen:
            continue
        seen.add(key)
        ref["decode"].append({"ids": ids, "text": tok.decode(ids, skip_special_tokens=True)})
    ref["generations"] = gens
    return ref, robustness


def summarize(name, ref, robustness, model_dir):
    eos_id = json.loads((model_dir / "config.json").read_text())["eos_token_id"]
    pad_id = json.loads((model_dir / "config.json").read_text())["pad_token_id"]
    print(f"\n== {name}: {dir_size(model_dir) / 1024:.0f} KiB")
    for f in sorted(model_dir.iterdir()):
        print(f"   {f.name:26s} {f.stat().st_size:>9d}")
    by_name = {g["name"]: g for g in ref["generations"]}
    for g in ref["generations"]:
        lens = generated_lengths(torch.tensor(g["sequences"]), eos_id, pad_id)
        print(f"   {g['name']:30s} f64-identical={robustness[g['name']]!s:5s} lengths={lens}")
    greedy = by_name["greedy"]
    beam = by_name["beam4"]
    n_distinct = len(set(map(tuple, greedy["sequences"])))
    lens = generated_lengths(torch.tensor(greedy["sequences"]), eos_id, pad_id)
    beam_diff = sum(1 for x, y in zip(greedy["sequences"], beam["sequences"]) if x != y)
    print(f"   greedy distinct outputs: {n_distinct}/5, distinct lengths: {sorted(set(lens))}")
    print(f"   beam4 differs from greedy on {beam_diff}/5 inputs")
    same = [g["name"] for g in ref["generations"] if g["name"] != "beam4" and g["sequences"] == beam["sequences"]]
    print(f"   cases with the same sequences as beam4: {same}")
    for t, d in zip(greedy["texts"], greedy["decoded"]):
        print(f"     {t[:40]!r:45s} -> {d[:70]!r}")
    problems = []
    if n_distinct < 4:
        problems.append("greedy outputs do not vary enough across inputs")
    if len(set(lens)) < 3:
        problems.append("greedy lengths do not vary enough")
    if beam_diff == 0:
        problems.append("beam search never differs from greedy")
    if not all(robustness.values()):
        problems.append("float64 generation differs from float32 (near ties)")
    if dir_size(model_dir) >= 2 * 1024 * 1024:
        problems.append("directory is not < 2 MB")
    return problems


def main():
    if importlib.util.find_spec("sacremoses") is not None:
        sys.exit(
            "sacremoses is installed: MarianTokenizer would apply Moses punctuation normalization. "
            "The fixtures are made without it; use the venv from scripts/make_fixtures.sh."
        )
    fr_lines = read_lines(CORPUS_DIR / "fr.txt")
    en_lines = read_lines(CORPUS_DIR / "en.txt")
    all_problems = []
    for spec in MODELS:
        out_dir = FIXTURES_DIR / spec["name"]
        if out_dir.exists():
            shutil.rmtree(out_dir)
        out_dir.mkdir(parents=True)
        vocab = build_tokenizer_files(spec, fr_lines, en_lines, out_dir)
        tok = MarianTokenizer.from_pretrained(str(out_dir))
        model = build_model(spec, vocab, tok, fr_lines, en_lines, out_dir)
        ref, robustness = reference(out_dir, model.state_dict())
        write_json(out_dir / "reference.json", ref)
        problems = summarize(spec["name"], ref, robustness, out_dir)
        all_problems += [f"{spec['name']}: {p}" for p in problems]
    print()
    print(
        f"versions: transformers {transformers.__version__}, torch {torch.__version__}, "
        f"sentencepiece {spm.__version__}, safetensors {safetensors.__version__}, numpy {np.__version__}"
    )
    if all_problems:
        print("PROBLEMS:\n  " + "\n  ".join(all_problems))
        sys.exit(1)
    print("OK")


if __name__ == "__main__":
    main()
