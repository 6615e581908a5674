#!/usr/bin/env bash
# Rewrites docs/console-*.png: runs the console's browser tests (headless Chromium against the
# real server with the tiny test models), which save their screenshots when asked to.
# Needs chromium + chromium-driver and all-MiniLM-L6-v2 (scripts/fetch_minilm.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/dragoman/target}"
DRAGOMAN_MINILM_DIR="${DRAGOMAN_MINILM_DIR:-$(scripts/fetch_minilm.sh)}"
export DRAGOMAN_MINILM_DIR
DRAGOMAN_UPDATE_SCREENSHOTS=1 DRAGOMAN_REQUIRE_BROWSER=1 cargo test --test integration console::
ls -l docs/console-*.png
