#!/usr/bin/env python3
"""Build the benchmark model: Helsinki-NLP/opus-mt-fr-en's architecture with random weights.

    python3 scripts/bench/make_model.py [OUT_DIR]

OUT_DIR defaults to ${DRAGOMAN_BENCH_DIR:-$HOME/.cache/dragoman/bench}.  Built once: nothing is
done when OUT_DIR/done exists (delete it to rebuild).  Writes

    OUT_DIR/opus-mt-fr-en-random/   the Hub layout of Helsinki-NLP/opus-mt-fr-en:
        config.json generation_config.json (the fields of the real files)
        model.safetensors (random weights, fixed seed)
        source.spm target.spm vocab.json (59514 entries) tokenizer_config.json
        special_tokens_map.json
    OUT_DIR/ct2/                    the same model converted by CTranslate2 (float32 weights;
                                    int8 is chosen when loading, compute_type="int8")
    OUT_DIR/source_ids.json         scripts/bench/sentences.fr.txt tokenized by MarianTokenizer
                                    (ids incl. EOS), sorted by length (stable):
                                    [{"index": line index, "ids": [...]}, ...]
    OUT_DIR/model_info.json         how it was made, and the checks below

Why the weights are not plain N(0, 0.02): a random post-LN transformer with tied input/output
embeddings is degenerate.  With small weights (std <= 0.03) the residual stream carries the
previous token through every layer and the tied output projection picks it again (greedy
output = the first token repeated); with larger weights (std >= 0.035) every position
collapses onto the same state and the output is again one token repeated.  So every matrix is
drawn with std 0.03 (token info kept), the shared token embedding with std 0.1 (logits with a
spread of about 2, no near-ties everywhere) and the FFN matrices of the last two decoder
layers with std 0.2: those layers dominate their residual and act as a random map from the
previous token (and position and context) to the next.  Greedy outputs then vary along the
sequence and between sentences (checked below: the build fails if they do not).  None of this
changes the amount of computation, which is what the benchmark measures.

SentencePiece: unigram models (the kind opus-mt uses and dragoman reads) trained on the
project's French (scripts/corpus/fr.txt + the French eval article) and English
(scripts/corpus/en.txt + the English eval paragraphs and articles) text.  That text alone is
too small for a unigram model to keep pieces for words seen once (it stops at ~1,450 pieces and
~2 tokens per word), so each text's word list is added to the training sentences; with a
requested size of 8000 (hard_vocab_limit off) the models end up with what the text supports
(about 1,760 French and 2,780 English pieces) and ~1.3 tokens per French word, about what the real opus-mt
vocabulary gives on news text.  vocab.json is Marian's shared vocabulary: </s>=0, <unk>=1,
the source pieces, the target pieces not already there, filler pieces up to 59513 entries and
<pad>=59513, like the real 59514-entry vocabulary.
"""

import io
import json
import os
import shutil
import sys
import time
from pathlib import Path

import torch

torch.set_num_threads(2)

import numpy as np  # noqa: E402
import sentencepiece as spm  # noqa: E402
import transformers  # noqa: E402
from transformers import GenerationConfig, MarianConfig, MarianMTModel, MarianTokenizer  # noqa: E402

transformers.logging.set_verbosity_error()

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
SENTENCES = HERE / "sentences.fr.txt"

VOCAB_SIZE = 59514
PAD_ID = VOCAB_SIZE - 1
EOS_ID = 0
SPM_VOCAB = 8000
SEED = 1234
STD = 0.03
EMB_STD = 0.1
LAST_FFN_STD = 0.2
LAST_FFN_LAYERS = 2  # decoder layers 4 and 5
FINAL_LOGITS_BIAS_STD = 0.1

# The fields of Helsinki-NLP/opus-mt-fr-en's config.json on the Hub.
REAL_CONFIG = {
    "_name_or_path": "/tmp/Helsinki-NLP/opus-mt-fr-en",
    "_num_labels": 3,
    "activation_dropout": 0.0,
    "activation_function": "swish",
    "add_bias_logits": False,
    "add_final_layer_norm": False,
    "architectures": ["MarianMTModel"],
    "attention_dropout": 0.0,
    "bad_words_ids": [[PAD_ID]],
    "bos_token_id": 0,
    "classif_dropout": 0.0,
    "classifier_dropout": 0.0,
    "d_model": 512,
    "decoder_attention_heads": 8,
    "decoder_ffn_dim": 2048,
    "decoder_layerdrop": 0.0,
    "decoder_layers": 6,
    "decoder_start_token_id": PAD_ID,
    "decoder_vocab_size": VOCAB_SIZE,
    "dropout": 0.1,
    "encoder_attention_heads": 8,
    "encoder_ffn_dim": 2048,
    "encoder_layerdrop": 0.0,
    "encoder_layers": 6,
    "eos_token_id": 0,
    "forced_eos_token_id": 0,
    "gradient_checkpointing": False,
    "id2label": {"0": "LABEL_0", "1": "LABEL_1", "2": "LABEL_2"},
    "init_std": 0.02,
    "is_encoder_decoder": True,
    "label2id": {"LABEL_0": 0, "LABEL_1": 1, "LABEL_2": 2},
    "max_length": 512,
    "max_position_embeddings": 512,
    "model_type": "marian",
    "normalize_before": False,
    "normalize_embedding": False,
    "num_beams": 4,
    "num_hidden_layers": 6,
    "pad_token_id": PAD_ID,
    "scale_embedding": True,
    "share_encoder_decoder_embeddings": True,
    "static_position_embeddings": True,
    "transformers_version": "4.22.0.dev0",
    "use_cache": True,
    "vocab_size": VOCAB_SIZE,
}

REAL_GENERATION_CONFIG = {
    "bad_words_ids": [[PAD_ID]],
    "bos_token_id": 0,
    "decoder_start_token_id": PAD_ID,
    "eos_token_id": 0,
    "forced_eos_token_id": 0,
    "max_length": 512,
    "num_beams": 4,
    "pad_token_id": PAD_ID,
    "renormalize_logits": True,
    "transformers_version": "4.32.0.dev0",
}

REAL_TOKENIZER_CONFIG = {
    "source_lang": "fr",
    "target_lang": "en",
    "unk_token": "<unk>",
    "eos_token": "</s>",
    "pad_token": "<pad>",
    "model_max_length": 512,
    "sp_model_kwargs": {},
    "separate_vocabs": False,
    "special_tokens_map_file": None,
    "name_or_path": "Helsinki-NLP/opus-mt-fr-en",
    "tokenizer_class": "MarianTokenizer",
}

SPECIAL_TOKENS_MAP = {"eos_token": "</s>", "unk_token": "<unk>", "pad_token": "<pad>"}


def default_out_dir():
    return Path(os.environ.get("DRAGOMAN_BENCH_DIR") or Path.home() / ".cache/dragoman/bench")


def log(msg):
    print(f"[make_model] {msg}", flush=True)


def lines_of(path):
    return [l.strip() for l in Path(path).read_text(encoding="utf-8").splitlines() if l.strip()]


def jsonl_texts(path):
    out = []
    for line in lines_of(path):
        for para in json.loads(line)["text"].split("\n\n"):
            if para.strip():
                out.append(para.strip())
    return out


def train_spm(lines):
    words = sorted({w for l in lines for w in l.split()})
    writer = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(lines + words),
        model_writer=writer,
        model_type="unigram",
        vocab_size=SPM_VOCAB,
        hard_vocab_limit=False,
        character_coverage=1.0,
        normalization_rule_name="nmt_nfkc",
        num_threads=1,
        minloglevel=2,
    )
    return writer.getvalue()


def build_vocab(src_proto, tgt_proto):
    vocab = {"</s>": 0, "<unk>": 1}
    for proto in (src_proto, tgt_proto):
        sp = spm.SentencePieceProcessor(model_proto=proto)
        for i in range(sp.get_piece_size()):
            if sp.is_control(i) or sp.is_unknown(i):
                continue
            vocab.setdefault(sp.id_to_piece(i), len(vocab))
    real = len(vocab)
    i = 0
    while len(vocab) < PAD_ID:
        piece = f"\u2581filler{i}"
        if piece not in vocab:
            vocab[piece] = len(vocab)
        i += 1
    vocab["<pad>"] = PAD_ID
    assert len(vocab) == VOCAB_SIZE and len(set(vocab.values())) == VOCAB_SIZE
    return vocab, real


def write_json(path, obj):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=2, ensure_ascii=False)
        f.write("\n")


def make_tokenizer(model_dir):
    fr = lines_of(ROOT / "scripts/corpus/fr.txt") + lines_of(ROOT / "tests/data/eval/article_ct_exercise_fr.txt")
    en = (
        lines_of(ROOT / "scripts/corpus/en.txt")
        + lines_of(ROOT / "tests/data/eval/article_ct_exercise_en.txt")
        + jsonl_texts(ROOT / "tests/data/eval/paragraphs.jsonl")
        + jsonl_texts(ROOT / "tests/data/eval/articles.jsonl")
    )
    src_proto, tgt_proto = train_spm(fr), train_spm(en)
    vocab, real = build_vocab(src_proto, tgt_proto)
    (model_dir / "source.spm").write_bytes(src_proto)
    (model_dir / "target.spm").write_bytes(tgt_proto)
    write_json(model_dir / "vocab.json", vocab)
    write_json(model_dir / "tokenizer_config.json", REAL_TOKENIZER_CONFIG)
    write_json(model_dir / "special_tokens_map.json", SPECIAL_TOKENS_MAP)
    info = {
        "source_spm_pieces": spm.SentencePieceProcessor(model_proto=src_proto).get_piece_size(),
        "target_spm_pieces": spm.SentencePieceProcessor(model_proto=tgt_proto).get_piece_size(),
        "vocab_real_entries": real,
        "vocab_filler_entries": VOCAB_SIZE - 1 - real,
    }
    log(f"spm: {info}")
    return info


def make_weights(model_dir):
    cfg = {k: v for k, v in REAL_CONFIG.items() if not k.startswith("_") and k not in ("transformers_version",)}
    config = MarianConfig(**cfg)
    torch.manual_seed(SEED)
    model = MarianMTModel(config).eval()
    gen = torch.Generator().manual_seed(SEED)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.dim() != 2 or "embed_positions" in name:
                continue
            if name == "model.shared.weight":
                std = EMB_STD
            elif any(f"decoder.layers.{i}.fc" in name for i in range(6 - LAST_FFN_LAYERS, 6)):
                std = LAST_FFN_STD
            else:
                std = STD
            p.copy_(torch.randn(p.shape, generator=gen) * std)
        # <pad> is the decoder start token; its row is zero as in the converted Marian models
        # (CTranslate2 starts the decoder from a zero embedding for Marian).
        model.model.shared.weight[PAD_ID].zero_()
        model.final_logits_bias.copy_(torch.randn(model.final_logits_bias.shape, generator=gen) * FINAL_LOGITS_BIAS_STD)
    model.generation_config = GenerationConfig(**{k: v for k, v in REAL_GENERATION_CONFIG.items() if k != "transformers_version"})
    model.save_pretrained(str(model_dir))
    # The Hub files' exact fields (transformers writes its own current set).
    write_json(model_dir / "config.json", REAL_CONFIG)
    write_json(model_dir / "generation_config.json", REAL_GENERATION_CONFIG)
    assert (model_dir / "model.safetensors").exists()


def check_and_tokenize(model_dir, out_dir):
    tok = MarianTokenizer.from_pretrained(str(model_dir))
    model = MarianMTModel.from_pretrained(str(model_dir)).eval()
    assert model.config.vocab_size == VOCAB_SIZE and model.config.d_model == 512
    assert model.config.encoder_layers == 6 and model.config.decoder_layers == 6
    assert model.config.activation_function == "swish"
    assert len(tok) == VOCAB_SIZE, len(tok)
    assert tok.pad_token_id == PAD_ID and tok.eos_token_id == EOS_ID

    sentences = [l.rstrip("\n") for l in SENTENCES.read_text(encoding="utf-8").splitlines()]
    assert len(sentences) == 500 and all(sentences)
    ids = [tok(s).input_ids for s in sentences]
    assert all(i[-1] == EOS_ID for i in ids)
    unk = sum(t == 1 for i in ids for t in i)
    order = sorted(range(len(ids)), key=lambda i: len(ids[i]))  # stable
    with open(out_dir / "source_ids.json", "w", encoding="utf-8") as f:
        f.write("[\n")
        f.write(",\n".join(json.dumps({"index": i, "ids": ids[i]}) for i in order))
        f.write("\n]\n")
    lens = sorted(len(i) for i in ids)

    # Greedy outputs must not be one repeated token and must differ between sentences.
    probe = [order[k] for k in range(0, 500, 50)]
    outs = []
    with torch.no_grad():
        for i in probe:
            o = model.generate(
                torch.tensor([ids[i]]), num_beams=1, do_sample=False, max_new_tokens=30, min_new_tokens=29
            )
            outs.append(o[0, 1:].tolist())
    distinct = [len(set(o[:-1])) for o in outs]
    n_seqs = len({tuple(o) for o in outs})
    log(f"greedy probe ({len(probe)} sentences, 29 tokens): distinct tokens per output {distinct}, distinct outputs {n_seqs}")
    log("  e.g. " + " ".join(tok.convert_ids_to_tokens(outs[3][:15])))
    if min(distinct) < 3 or n_seqs < len(probe) - 1:
        sys.exit("[make_model] greedy outputs are degenerate; change the weight scales")
    return {
        "source_tokens": {
            "total": sum(lens),
            "min": lens[0],
            "median": lens[len(lens) // 2],
            "max": lens[-1],
            "mean": round(sum(lens) / len(lens), 1),
            "unk": unk,
            "tokens_per_word": round(sum(lens) / sum(len(s.split()) for s in sentences), 3),
        },
        "greedy_probe": {"distinct_tokens_per_output_of_29": distinct, "distinct_outputs": n_seqs, "of": len(probe)},
    }


def convert_ct2(model_dir, ct2_dir):
    import ctranslate2

    if ct2_dir.exists():
        shutil.rmtree(ct2_dir)
    ctranslate2.converters.TransformersConverter(str(model_dir)).convert(str(ct2_dir), quantization=None, force=True)
    return ctranslate2.__version__


def main():
    out_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else default_out_dir()
    done = out_dir / "done"
    if done.exists():
        log(f"{out_dir} already built (remove {done} to rebuild)")
        return
    t0 = time.time()
    out_dir.mkdir(parents=True, exist_ok=True)
    model_dir = out_dir / "opus-mt-fr-en-random"
    if model_dir.exists():
        shutil.rmtree(model_dir)
    model_dir.mkdir()
    info = {"seed": SEED, "std": STD, "embedding_std": EMB_STD, "last_decoder_ffn_std": LAST_FFN_STD,
            "last_decoder_ffn_layers": LAST_FFN_LAYERS, "final_logits_bias_std": FINAL_LOGITS_BIAS_STD}
    info["tokenizer"] = make_tokenizer(model_dir)
    log("weights ...")
    make_weights(model_dir)
    log("reload, tokenize the sentences, probe greedy outputs ...")
    info.update(check_and_tokenize(model_dir, out_dir))
    log("CTranslate2 conversion ...")
    info["ctranslate2"] = convert_ct2(model_dir, out_dir / "ct2")
    info["transformers"] = transformers.__version__
    info["torch"] = torch.__version__
    info["numpy"] = np.__version__
    write_json(out_dir / "model_info.json", info)
    done.write_text(time.strftime("%Y-%m-%dT%H:%M:%S\n"))
    log(f"built {out_dir} in {time.time() - t0:.0f} s: {json.dumps(info['source_tokens'])}")


if __name__ == "__main__":
    main()
