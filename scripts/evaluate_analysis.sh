#!/usr/bin/env bash
# Scores the analyst's brief (event records, status, actors, places, dates, extractive summary vs
# lead-3) on the held-out split of tests/data/events with the real all-MiniLM-L6-v2 (fetched from
# PyPI by scripts/fetch_minilm.sh) and prints the README's tables.
#   scripts/evaluate_analysis.sh [--split held-out|train|all] [--event-head FILE]
set -euo pipefail
cd "$(dirname "$0")/.."
DRAGOMAN_MINILM_DIR="$(scripts/fetch_minilm.sh)"
cargo run --quiet --release --example evaluate_analysis -- \
    --embedding-model "${DRAGOMAN_MINILM_DIR}" "$@"
