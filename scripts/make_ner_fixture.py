#!/usr/bin/env python3
"""Build a tiny BERT token-classification (NER) fixture and the reference outputs of transformers.

Run with the fixture venv's Python (torch 2.15.0, transformers 5.24.0, tokenizers 0.23):

    $DRAGOMAN_VENV/bin/python scripts/make_ner_fixture.py

This writes tests/fixtures/bert-tiny-ner/ in the file layout of a BERT NER Hub repository such
as dslim/bert-base-NER:

    config.json            BertForTokenClassification config; id2label in dslim's order
                           (O, B-MISC, I-MISC, B-PER, I-PER, B-ORG, I-ORG, B-LOC, I-LOC)
    model.safetensors      written by save_pretrained (keys `bert.*`, `classifier.*`)
    vocab.txt              a cased WordPiece vocabulary (800 entries) picked by frequency
                           (characters, word starts, word endings, whole words; see
                           build_vocab) from the synthetic sentences below plus
                           scripts/corpus/en.txt
    tokenizer_config.json  written by BertTokenizer.save_pretrained (do_lower_case false,
                           model_max_length 64)
    special_tokens_map.json  as the Hub repos have it (transformers 5 no longer writes it)
    tokenizer.json         written by BertTokenizer.save_pretrained
    reference.json         outputs of transformers (see tests/fixtures/README.md)

The model is BERT shrunk to hidden 48, 2 layers, 4 heads, ffn 96 and max_position_embeddings
64 (so that texts longer than 62 word pieces need windows).  Random weights give one label for
every token, so it is trained briefly (TRAIN_STEPS Adam steps, fixed seeds, one CPU thread) on
synthetic news sentences whose people, organisations, places and misc names (several words
long, some accented) come from templates; a token inside an entity gets B-/I- by whether it
starts the entity.  Some names are held out of training, so predictions on the test texts are
imperfect and varied, as a parity fixture wants.

reference.json holds, for every text: input_ids and byte offsets from the fast tokenizer
(tokenizer.json); the ids from a tokenizer rebuilt from vocab.txt + tokenizer_config.json only
(the script checks they are equal); logits of the model (unpadded, one text at a time); and the
entities of `pipeline("token-classification", aggregation_strategy="simple")`, with Python's
character offsets and the equivalent UTF-8 byte offsets. The long text (more than 64 tokens) is
run through the pipeline with `stride=STRIDE` (windows of 64 tokens overlapping by STRIDE word
pieces, entities of overlapping windows merged by the pipeline's
aggregate_overlapping_entities); the window ids are recorded too. Without `stride`, the pipeline
silently truncates to 64 tokens; the count of entities it then finds is recorded as well.

Deterministic: running the script twice gives byte-identical files with the same package
versions on the same machine. Exits with status 1 if a sanity check fails (predictions not
varied, the two tokenizers disagreeing, the directory reaching 2 MB).
"""

import json
import random
from collections import Counter
import shutil
import sys
from pathlib import Path

import torch

torch.set_num_threads(1)
torch.set_num_interop_threads(1)

import transformers  # noqa: E402
from tokenizers import normalizers, pre_tokenizers  # noqa: E402
from transformers import (  # noqa: E402
    AutoTokenizer,
    BertConfig,
    BertForTokenClassification,
    BertTokenizer,
    pipeline,
)

transformers.logging.set_verbosity_error()

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests/fixtures/bert-tiny-ner"
CORPUS = ROOT / "scripts/corpus/en.txt"

MAX_POSITIONS = 64
STRIDE = 16
VOCAB_SIZE = 800
TRAIN_STEPS = 400
BATCH = 32
SEED = 20240611

LABELS = ["O", "B-MISC", "I-MISC", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC"]

# (training names, held-out names) per entity type.
PEOPLE = (
    [
        "Emmanuel Macron", "Angela Merkel", "Olaf Scholz", "Élodie Durand", "François Bayrou",
        "Jean-Luc Mélenchon", "Marine Le Pen", "Ursula von der Leyen", "Joe Biden",
        "Christine Lagarde", "Kylian Mbappé", "Zoé Lefèvre", "Hélène Martin", "Pedro Sánchez",
        "Giorgia Meloni", "Antonio Guterres", "Gabriel Attal", "Rishi Sunak", "Thomas Müller",
        "Anne Hidalgo", "Michel Barnier", "Xi Jinping", "Vladimir Putin", "Sophie Bernard",
    ],
    ["Agnès Dupont", "Karl Nehammer", "Chloé Moreau", "Lars Løkke Rasmussen"],
)
ORGS = (
    [
        "Renault", "Airbus", "the European Central Bank", "Société Générale", "BNP Paribas",
        "the United Nations", "Banque de France", "the World Health Organization", "TotalEnergies",
        "the International Monetary Fund", "Air France", "SNCF", "Google", "Apple", "Reuters",
        "the European Commission", "Le Monde", "Paris Saint-Germain", "Crédit Agricole", "NATO",
    ],
    ["Électricité de France", "Danone", "the Red Cross"],
)
PLACES = (
    [
        "Paris", "Berlin", "Brussels", "Lyon", "Marseille", "Saint-Étienne", "New York",
        "Ukraine", "Germany", "Spain", "Côte d'Ivoire", "Québec", "Bordeaux", "Toulouse",
        "Washington", "London", "Rome", "China", "Nice", "the Pyrenees", "Normandy", "Kyiv",
    ],
    ["Montréal", "Zürich", "Grenoble", "Ile-de-France"],
)
MISC = (
    [
        "French", "German", "European", "Olympic Games", "Tour de France", "Euro 2024", "Covid-19",
        "Brexit", "Christmas", "Spanish", "Nobel Prize", "Champions League", "Italian",
    ],
    ["Roland-Garros", "Ramadan"],
)
KINDS = {"PER": PEOPLE, "ORG": ORGS, "LOC": PLACES, "MISC": MISC}

TEMPLATES = [
    "{PER} met {PER} in {LOC} on Tuesday.",
    "{ORG} announced new job cuts at its plant near {LOC}.",
    "The {MISC} president, {PER}, arrived in {LOC} late on Sunday.",
    "Shares of {ORG} fell 3% after {PER} criticised the deal.",
    "{PER} said {ORG} would invest 2 billion euros in {LOC}.",
    "Talks between {ORG} and {ORG} resumed in {LOC} this week.",
    "In {LOC}, thousands marched against the reform backed by {PER}.",
    "The {MISC} champion {PER} won again in {LOC}.",
    "According to {ORG}, inflation in {LOC} slowed in May.",
    "{PER}, a spokesperson for {ORG}, declined to comment.",
    "Fans travelled from {LOC} to {LOC} for the {MISC}.",
    "The {MISC} government and {ORG} signed an agreement on Friday.",
    "{PER} will visit {LOC} and {LOC} before the {MISC} summit.",
    "Police in {LOC} arrested two men, {ORG} reported.",
    "{ORG} hired {PER} as chief executive.",
    "Floods hit {LOC} after heavy rain, said {PER}.",
]

# Test texts: held-out names, accents and other non-ASCII characters, an empty string,
# characters missing from the vocabulary ([UNK]), punctuation glued to names.
TEXTS = [
    "Emmanuel Macron met Angela Merkel in Berlin on Tuesday.",
    "Agnès Dupont said Électricité de France would invest 2 billion euros in Montréal.",
    "Renault announced new job cuts at its plant near Saint-Étienne.",
    "",
    "Shares of Danone fell 3% after Chloé Moreau criticised the deal.",
    "Fans travelled from Zürich to Côte d'Ivoire for the Roland-Garros.",
    "The Spanish president, Pedro Sánchez, arrived in Québec late on Sunday.",
    "«Nous agirons», a déclaré Lars Løkke Rasmussen à Copenhague — 東京 ☃.",
    "According to the Red Cross, inflation in Ile-de-France slowed in May.",
    "Talks between Google and the United Nations resumed in Grenoble this week.",
    "ok",
    "Karl Nehammer, a spokesperson for NATO, declined to comment.",
]


def long_text() -> str:
    parts = [
        "Emmanuel Macron met Olaf Scholz in Brussels on Tuesday.",
        "Airbus announced new job cuts at its plant near Toulouse.",
        "Agnès Dupont said the European Central Bank would invest in Ukraine.",
        "Fans travelled from Lyon to Marseille for the Tour de France.",
        "Christine Lagarde will visit Rome and Madrid before the European summit.",
        "Police in Nice arrested two men, Reuters reported.",
    ]
    return " ".join(parts)


def make_sentence(rng: random.Random, held_out: bool):
    template = rng.choice(TEMPLATES)
    text = ""
    spans = []
    rest = template
    while "{" in rest:
        before, rest = rest.split("{", 1)
        kind, rest = rest.split("}", 1)
        text += before
        train, test = KINDS[kind]
        pool = test if held_out and rng.random() < 0.5 else train
        name = rng.choice(pool)
        spans.append((len(text), len(text) + len(name), kind))
        text += name
    text += rest
    return text, spans


def token_labels(offsets, special, spans):
    labels = []
    for (start, end), is_special in zip(offsets, special):
        if is_special:
            labels.append(-100)
            continue
        label = "O"
        for s, e, kind in spans:
            if s <= start < e:
                label = ("B-" if start == s else "I-") + kind
        labels.append(LABELS.index(label))
    return labels


def build_vocab(corpus: list[str]) -> list[str]:
    """A cased WordPiece vocabulary of VOCAB_SIZE entries, chosen deterministically (the
    `tokenizers` WordPiece trainer breaks frequency ties differently from run to run): the
    special tokens; every character seen at least twice, alone and as a `##` continuation;
    then, by decreasing frequency (ties in code-point order), frequent word-initial pieces of
    2-4 characters, `##` word endings of 2-4 characters and whole words, in a 1:1:2 mix."""
    normalizer = normalizers.BertNormalizer(lowercase=False, strip_accents=False)
    pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    words = Counter()
    for line in corpus:
        for word, _ in pre_tokenizer.pre_tokenize_str(normalizer.normalize_str(line)):
            words[word] += 1
    chars, starts, ends = Counter(), Counter(), Counter()
    for word, n in words.items():
        for c in word:
            chars[c] += n
        for k in range(2, 5):
            if len(word) > k:
                starts[word[:k]] += n
                ends["##" + word[-k:]] += n
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    alphabet = sorted(c for c, n in chars.items() if n >= 2)
    vocab += alphabet + ["##" + c for c in alphabet]
    ranked = lambda counter: [p for p, n in sorted(counter.items(), key=lambda x: (-x[1], x[0])) if n >= 2]
    pools = [ranked(starts), ranked(ends), ranked(words), ranked(words)]
    seen = set(vocab)
    while len(vocab) < VOCAB_SIZE and any(pools):
        for pool in pools:
            while pool and pool[0] in seen:
                pool.pop(0)
            if pool and len(vocab) < VOCAB_SIZE:
                seen.add(pool[0])
                vocab.append(pool.pop(0))
    return vocab


def main() -> None:
    rng = random.Random(SEED)
    torch.manual_seed(SEED)
    train_sentences = [make_sentence(rng, held_out=False) for _ in range(3000)]

    if OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir(parents=True)

    # 1. A cased WordPiece vocabulary.
    corpus = [s for s, _ in train_sentences] + CORPUS.read_text(encoding="utf-8").splitlines()
    vocab_lines = build_vocab(corpus)
    vocab = {token: i for i, token in enumerate(vocab_lines)}
    assert vocab["[PAD]"] == 0 and vocab["[UNK]"] == 1, list(vocab)[:5]

    tokenizer = BertTokenizer(vocab=vocab, do_lower_case=False, model_max_length=MAX_POSITIONS)
    tokenizer.save_pretrained(str(OUT))
    (OUT / "vocab.txt").write_text("".join(t + "\n" for t in vocab_lines), encoding="utf-8")
    special = {
        "unk_token": "[UNK]",
        "sep_token": "[SEP]",
        "pad_token": "[PAD]",
        "cls_token": "[CLS]",
        "mask_token": "[MASK]",
    }
    (OUT / "special_tokens_map.json").write_text(json.dumps(special) + "\n", encoding="utf-8")

    # 2. Train a tiny BertForTokenClassification.
    config = BertConfig(
        vocab_size=len(vocab),
        hidden_size=48,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=96,
        hidden_act="gelu",
        max_position_embeddings=MAX_POSITIONS,
        type_vocab_size=2,
        pad_token_id=0,
        id2label=dict(enumerate(LABELS)),
        label2id={label: i for i, label in enumerate(LABELS)},
        architectures=["BertForTokenClassification"],
    )
    model = BertForTokenClassification(config)
    model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    encoded = []
    for text, spans in train_sentences:
        enc = tokenizer(text, return_offsets_mapping=True, return_special_tokens_mask=True)
        labels = token_labels(enc["offset_mapping"], enc["special_tokens_mask"], spans)
        encoded.append((enc["input_ids"], labels))
    for step in range(TRAIN_STEPS):
        batch = [encoded[rng.randrange(len(encoded))] for _ in range(BATCH)]
        width = max(len(ids) for ids, _ in batch)
        ids = torch.tensor([i + [0] * (width - len(i)) for i, _ in batch])
        mask = torch.tensor([[1] * len(i) + [0] * (width - len(i)) for i, _ in batch])
        labels = torch.tensor([lab + [-100] * (width - len(lab)) for _, lab in batch])
        loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step % 100 == 0 or step == TRAIN_STEPS - 1:
            print(f"step {step}: loss {loss.item():.4f}")
    model.eval()
    model.save_pretrained(str(OUT))

    # 3. References, from the files just written.
    fast = AutoTokenizer.from_pretrained(str(OUT))
    slow_dir = OUT.parent / "_bert-tiny-ner-vocab-only"
    if slow_dir.exists():
        shutil.rmtree(slow_dir)
    slow_dir.mkdir()
    for name in ["vocab.txt", "tokenizer_config.json", "special_tokens_map.json", "config.json"]:
        shutil.copy(OUT / name, slow_dir / name)
    from_vocab = AutoTokenizer.from_pretrained(str(slow_dir))
    shutil.rmtree(slow_dir)
    loaded = BertForTokenClassification.from_pretrained(str(OUT)).eval()
    ner = pipeline(
        "token-classification", model=loaded, tokenizer=fast, aggregation_strategy="simple"
    )

    def byte_offset(text: str, char: int) -> int:
        return len(text[:char].encode("utf-8"))

    def entities(text, **kwargs):
        out = []
        for e in ner(text, **kwargs):
            out.append(
                {
                    "entity_group": e["entity_group"],
                    "score": float(e["score"]),
                    "word": e["word"],
                    "start": int(e["start"]),
                    "end": int(e["end"]),
                    "start_byte": byte_offset(text, int(e["start"])),
                    "end_byte": byte_offset(text, int(e["end"])),
                }
            )
        return out

    cases = []
    all_groups = set()
    for text in TEXTS:
        enc = fast(text, return_offsets_mapping=True)
        ids_vocab = from_vocab(text)["input_ids"]
        if ids_vocab != enc["input_ids"]:
            print(f"tokenizers disagree on {text!r}: {enc['input_ids']} vs {ids_vocab}")
            sys.exit(1)
        with torch.no_grad():
            logits = loaded(input_ids=torch.tensor([enc["input_ids"]])).logits[0]
        ents = entities(text)
        all_groups.update(e["entity_group"] for e in ents)
        cases.append(
            {
                "text": text,
                "input_ids": enc["input_ids"],
                "offsets_bytes": [
                    [byte_offset(text, s), byte_offset(text, e)] for s, e in enc["offset_mapping"]
                ],
                "logits": [[float(x) for x in row] for row in logits],
                "entities": ents,
            }
        )
        print(f"{text!r}: {[(e['entity_group'], e['word']) for e in ents]}")

    text = long_text()
    enc = fast(text)
    n_tokens = len(enc["input_ids"])
    assert n_tokens > MAX_POSITIONS, n_tokens
    windows = fast(
        text,
        truncation=True,
        max_length=MAX_POSITIONS,
        stride=STRIDE,
        return_overflowing_tokens=True,
    )["input_ids"]
    long_entities = entities(text, stride=STRIDE)
    truncated = entities(text)
    print(f"long text: {n_tokens} tokens, {len(windows)} windows")
    print(f"  with stride: {[(e['entity_group'], e['word']) for e in long_entities]}")
    print(f"  truncated: {len(truncated)} entities")

    multi_token = [
        e for c in cases for e in c["entities"] if len(fast(e["word"])["input_ids"]) > 3
    ]
    if all_groups != {"PER", "ORG", "LOC", "MISC"} or len(multi_token) < 5:
        print(f"predictions too poor: groups {all_groups}, {len(multi_token)} multi-token")
        sys.exit(1)

    reference = {
        "versions": {
            "torch": torch.__version__,
            "transformers": transformers.__version__,
            "tokenizers": __import__("tokenizers").__version__,
        },
        "generator": "scripts/make_ner_fixture.py",
        "max_positions": MAX_POSITIONS,
        "stride": STRIDE,
        "labels": LABELS,
        "cases": cases,
        "long": {
            "text": text,
            "input_ids": enc["input_ids"],
            "windows": windows,
            "entities": long_entities,
            "truncated_entity_count": len(truncated),
        },
    }
    (OUT / "reference.json").write_text(
        json.dumps(reference, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    size = sum(p.stat().st_size for p in OUT.iterdir())
    print(f"wrote {OUT}: {sorted(p.name for p in OUT.iterdir())}, {size} bytes")
    if size >= 2_000_000:
        sys.exit(1)


if __name__ == "__main__":
    main()
