#!/usr/bin/env bash
# Retrains the event classifier (models/event_head.json) from the labelled set in tests/data/events:
# the service's own code computes every sentence's features with the real all-MiniLM-L6-v2
# (examples/event_features.rs), then scripts/events/train_head.py fits the head in a venv with
# numpy (5-fold cross-validation on the training split for every choice; the held-out split is
# scored once for the report). Deterministic: a fixed seed, fixed folds.
#   scripts/events/train_head.sh [--out FILE] [--embedding-model DIR]
set -euo pipefail
cd "$(dirname "$0")/../.."
model_dir="$(scripts/fetch_minilm.sh)"
out=models/event_head.json
embedding_name=sentence-transformers/all-MiniLM-L6-v2
while [[ $# -gt 0 ]]; do
    case "$1" in
        --out) out="$2"; shift 2 ;;
        --embedding-model) model_dir="$2"; embedding_name="$2"; shift 2 ;;
        *) echo "unknown argument $1" >&2; exit 2 ;;
    esac
done
venv="${DRAGOMAN_EVENTS_VENV:-$HOME/.cache/dragoman/venv-events}"
if [[ ! -x "$venv/bin/python" ]]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q numpy==2.1.3
fi
features="$(mktemp -d)/features.jsonl"
cargo run --quiet --release --example event_features -- \
    --embedding-model "$model_dir" --out "$features"
"$venv/bin/python" scripts/events/train_head.py --features "$features" --out "$out" \
    --embedding-model "$embedding_name"
