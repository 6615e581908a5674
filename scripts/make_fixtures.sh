#!/usr/bin/env bash
# Regenerate the Marian test fixtures in tests/fixtures/ (marian-tiny-swish, marian-tiny-relu).
#
# What it does:
#   1. creates (or reuses) a Python virtual environment at $DRAGOMAN_VENV
#      (default: .venv at the repository root, which is gitignored);
#   2. pip installs the pinned reference stack below (skipped when already satisfied);
#   3. runs scripts/make_fixtures.py, which trains tiny SentencePiece models on
#      scripts/corpus/{fr,en}.txt, builds two tiny MarianMTModel models (a short deterministic
#      training run on the same corpus) in the Helsinki-NLP/opus-mt-* file layout, and records
#      the outputs of transformers (tokenizer, decode, forward pass, generate) in reference.json.
#
# How long: the first run downloads torch from PyPI (the default CUDA build, ~6 GB of wheels)
# which takes minutes; the script itself then takes ~2-3 minutes on one CPU core
# (torch is limited to one thread; no GPU is used).
#
# How to run (from anywhere):
#   scripts/make_fixtures.sh
#   DRAGOMAN_VENV=/path/to/existing/venv scripts/make_fixtures.sh
#
# Re-runnable: the output is deterministic (byte-identical files on a re-run with the same
# package versions on the same machine).  Python >= 3.10 is required ($PYTHON, default python3).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${DRAGOMAN_VENV:-$ROOT/.venv}"
PYTHON="${PYTHON:-python3}"

PINS=(
  "torch==2.15.0"
  "transformers==5.24.0"
  "sentencepiece==0.2.3"
  "safetensors==0.8.0"
  "numpy==2.4.6"
  "protobuf==7.36.2"
)

if [ ! -x "$VENV/bin/python" ]; then
  echo "creating virtual environment at $VENV"
  "$PYTHON" -m venv "$VENV"
fi

if ! "$VENV/bin/python" - "${PINS[@]}" <<'EOF'
import sys
from importlib.metadata import PackageNotFoundError, version
for pin in sys.argv[1:]:
    name, want = pin.split("==")
    try:
        have = version(name)
    except PackageNotFoundError:
        sys.exit(1)
    if have.split("+")[0] != want:
        sys.exit(1)
EOF
then
  echo "installing ${PINS[*]} into $VENV"
  "$VENV/bin/python" -m pip install --disable-pip-version-check "${PINS[@]}"
fi

# sacremoses changes MarianTokenizer's behaviour (Moses punctuation normalisation); the
# fixtures are made without it and make_fixtures.py refuses to run when it is importable.
exec "$VENV/bin/python" "$ROOT/scripts/make_fixtures.py" "$@"
