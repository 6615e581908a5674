#!/usr/bin/env bash
# dragoman vs CTranslate2 vs transformers on the opus-mt-fr-en architecture (random weights).
#
#   scripts/bench/run.sh [--limit K | --every N] [--only ENGINE] [--no-build]
#
# ENGINE: transformers | ct2-fp32 | ct2-int8 | dragoman | dragoman-int8 | cli | fidelity
# --limit K   only the first K sentences (in sorted order) everywhere
# --every N   only every Nth sentence in sorted order (a subset that keeps the mix of lengths;
#             the full set takes hours on 2 cores)
# --no-build  use the dragoman binaries already built (no cargo build)
#
# Environment:
#   DRAGOMAN_BENCH_DIR   model and results (default $HOME/.cache/dragoman/bench)
#   DRAGOMAN_BENCH_VENV  Python venv (default /work/venv-cache/venv if present, else
#                        $HOME/.cache/dragoman/bench-venv, created and filled on first use)
#   CARGO_TARGET_DIR     where cargo puts the binaries (default ./target)
#   DRAGOMAN_BENCH_CLI_MAX_NEW_TOKENS  cap for the CLI run (default 64)
#   DRAGOMAN_BENCH_CLI_EVERY           the CLI run takes every E-th sentence (default 5; 1 with --limit)
#
# Results: $DRAGOMAN_BENCH_DIR/results/<timestamp>/ (one JSON per run, tokens files, logs,
# table.md).  Runs are sequential, one process each; see scripts/bench/README.md.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
LIMIT=""
EVERY=""
ONLY=""
BUILD=1
while [ $# -gt 0 ]; do
    case "$1" in
        --limit) LIMIT="$2"; shift 2 ;;
        --every) EVERY="$2"; shift 2 ;;
        --only) ONLY="$2"; shift 2 ;;
        --no-build) BUILD=0; shift ;;
        -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
        *) echo "unknown argument: $1" >&2; exit 2 ;;
    esac
done
case "$ONLY" in
    ""|transformers|ct2-fp32|ct2-int8|dragoman|dragoman-int8|cli|fidelity) ;;
    *) echo "--only: unknown engine '$ONLY'" >&2; exit 2 ;;
esac
wants() { [ -z "$ONLY" ] || [ "$ONLY" = "$1" ]; }
say() { printf '\n== %s\n' "$*"; }

export DRAGOMAN_BENCH_DIR="${DRAGOMAN_BENCH_DIR:-$HOME/.cache/dragoman/bench}"
BENCH_DIR="$DRAGOMAN_BENCH_DIR"
LIMIT_ARGS=()
[ -n "$LIMIT" ] && LIMIT_ARGS=(--limit "$LIMIT")

# ---------------------------------------------------------------------------- Python venv
missing_packages() {
    "$1/bin/python" - <<'EOF'
import importlib
need = [("torch", "torch"), ("transformers", "transformers"), ("sentencepiece", "sentencepiece"),
        ("ctranslate2", "ctranslate2"), ("google.protobuf", "protobuf"), ("safetensors", "safetensors"),
        ("numpy", "numpy")]
missing = []
for module, package in need:
    try:
        importlib.import_module(module)
    except Exception:
        missing.append(package)
print(" ".join(missing))
EOF
}

if [ -n "${DRAGOMAN_BENCH_VENV:-}" ]; then
    VENV="$DRAGOMAN_BENCH_VENV"
elif [ -x /work/venv-cache/venv/bin/python ]; then
    VENV=/work/venv-cache/venv
else
    VENV="$HOME/.cache/dragoman/bench-venv"
fi
if [ ! -x "$VENV/bin/python" ]; then
    say "creating the Python venv $VENV"
    mkdir -p "$(dirname "$VENV")"
    python3 -m venv "$VENV" || { echo "python3 -m venv failed (on Debian: apt-get install python3-venv)" >&2; exit 1; }
    "$VENV/bin/pip" install --quiet --upgrade pip
fi
PY="$VENV/bin/python"
MISSING="$(missing_packages "$VENV")"
if [ -n "$MISSING" ]; then
    say "installing into $VENV: $MISSING"
    if [[ " $MISSING " == *" torch "* ]]; then
        "$VENV/bin/pip" install torch --index-url https://download.pytorch.org/whl/cpu \
            || "$VENV/bin/pip" install torch
        MISSING="${MISSING//torch/}"
    fi
    # shellcheck disable=SC2086
    [ -n "${MISSING// /}" ] && "$VENV/bin/pip" install $MISSING
    MISSING="$(missing_packages "$VENV")"
    [ -z "$MISSING" ] || { echo "still missing in $VENV: $MISSING" >&2; exit 1; }
fi

# ---------------------------------------------------------------------------- model (once)
say "benchmark model in $BENCH_DIR"
"$PY" "$HERE/make_model.py" "$BENCH_DIR"
if [ -n "$EVERY" ]; then
    # A directory that shares the model and holds every Nth sentence of source_ids.json.
    SUBSET="$BENCH_DIR/every-$EVERY"
    mkdir -p "$SUBSET"
    for entry in ct2 done model_info.json opus-mt-fr-en-random; do
        ln -sfn "$BENCH_DIR/$entry" "$SUBSET/$entry"
    done
    "$PY" - "$BENCH_DIR/source_ids.json" "$SUBSET/source_ids.json" "$EVERY" <<'EOF_SUBSET'
import json, sys
sources = json.load(open(sys.argv[1], encoding="utf-8"))
every = int(sys.argv[3])
json.dump(sources[::every], open(sys.argv[2], "w", encoding="utf-8"))
print(f"every {every}th sentence: {len(sources[::every])} of {len(sources)}")
EOF_SUBSET
    BENCH_DIR="$SUBSET"
    export DRAGOMAN_BENCH_DIR="$SUBSET"
fi

# ---------------------------------------------------------------------------- dragoman build
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
BENCH_BIN="$TARGET_DIR/release/examples/bench_translate"
CLI_BIN="$TARGET_DIR/release/dragoman"
HAVE_EXAMPLE=0
[ -f "$ROOT/examples/bench_translate.rs" ] && HAVE_EXAMPLE=1
if [ "$BUILD" = 1 ] && { wants dragoman || wants dragoman-int8 || wants cli || wants fidelity; }; then
    if ! command -v cargo >/dev/null; then
        echo "cargo not found: dragoman is skipped" >&2
    elif [ "$HAVE_EXAMPLE" = 1 ]; then
        say "cargo build --release --example bench_translate --bin dragoman"
        (cd "$ROOT" && cargo build --release --example bench_translate --bin dragoman) \
            || echo "the dragoman build failed: dragoman is skipped" >&2
    else
        echo "examples/bench_translate.rs does not exist (yet): the dragoman speed runs are skipped" >&2
        (cd "$ROOT" && cargo build --release --bin dragoman) || echo "the dragoman build failed" >&2
    fi
fi
if [ "$HAVE_EXAMPLE" = 0 ] || [ ! -x "$BENCH_BIN" ]; then
    BENCH_BIN=""
    echo "no $TARGET_DIR/release/examples/bench_translate: dragoman speed runs skipped" >&2
fi
[ -x "$CLI_BIN" ] || { CLI_BIN=""; echo "no $TARGET_DIR/release/dragoman: CLI run skipped" >&2; }

# ---------------------------------------------------------------------------- runs
RES="$BENCH_DIR/results/$(date +%Y%m%d-%H%M%S)"
mkdir -p "$RES"
{
    echo "date: $(date -Is)"
    echo "host: $(uname -srm)"
    lscpu 2>/dev/null | grep -E '^(Model name|CPU\(s\)|Thread|Core|Socket|L2|L3)' || true
    echo "limit: ${LIMIT:-all}"
    echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo ?)"
    if [ "$BUILD" = 1 ]; then echo "dragoman build: rebuilt by this run"; else echo "dragoman build: not rebuilt (--no-build)"; fi
    echo "dragoman: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo ?)"
    "$PY" -c 'import ctranslate2, torch, transformers; print("ctranslate2", ctranslate2.__version__); print("torch", torch.__version__); print("transformers", transformers.__version__)'
} > "$RES/env.txt" 2>&1
echo "results: $RES"

FAILED=()
run_one() { # name, log file, command...
    local name="$1" log="$2"; shift 2
    say "$name"
    if "$@" > "$log" 2>&1; then
        tail -n 1 "$log"
    else
        echo "FAILED (see $log):" >&2
        tail -n 5 "$log" >&2
        FAILED+=("$name")
    fi
}

for engine in transformers ct2-fp32 ct2-int8 dragoman dragoman-int8; do
    wants "$engine" || continue
    case "$engine" in dragoman*) [ -n "$BENCH_BIN" ] || continue ;; esac
    for beams in 1 4; do
        for bs in 1 32; do
            tag="$engine-b$beams-bs$bs"
            case "$engine" in
                dragoman|dragoman-int8)
                    int8=()
                    [ "$engine" = dragoman-int8 ] && int8=(--int8)
                    run_one "$tag" "$RES/$tag.log" "$BENCH_BIN" \
                        --model "$BENCH_DIR/opus-mt-fr-en-random" --ids "$BENCH_DIR/source_ids.json" \
                        --beams "$beams" --batch-size "$bs" --threads 2 "${LIMIT_ARGS[@]}" "${int8[@]}" \
                        --out "$RES/$tag.json" --tokens "$RES/$tag.jsonl" ;;
                *)
                    run_one "$tag" "$RES/$tag.log" "$PY" "$HERE/run_peer.py" --engine "$engine" \
                        --beams "$beams" --batch-size "$bs" "${LIMIT_ARGS[@]}" \
                        --out "$RES/$tag.json" --tokens "$RES/$tag.jsonl" ;;
            esac
        done
    done
done

if wants cli && [ -n "$CLI_BIN" ]; then
    # Slow (no forced lengths: most sentences run to the cap): every 5th sentence of the full set.
    EVERY=1
    [ -z "$LIMIT" ] && EVERY="${DRAGOMAN_BENCH_CLI_EVERY:-5}"
    for beams in 1 4; do
        run_one "dragoman CLI, beams $beams (lengths not forced)" "$RES/cli-b$beams.log" \
            "$PY" "$HERE/run_cli.py" --binary "$CLI_BIN" --beams "$beams" "${LIMIT_ARGS[@]}" --every "$EVERY" \
            --max-new-tokens "${DRAGOMAN_BENCH_CLI_MAX_NEW_TOKENS:-64}" --out "$RES/cli-b$beams.json"
    done
fi

if wants fidelity; then
    # The float32 greedy outputs to teacher-force: this run's, or else the latest earlier run's.
    FORCED=""
    for f in "$RES/ct2-fp32-b1-bs1.jsonl" "$RES/transformers-b1-bs1.jsonl"; do
        [ -s "$f" ] && { FORCED="$f"; break; }
    done
    if [ -z "$FORCED" ]; then
        FORCED="$(ls -t "$BENCH_DIR"/results/*/ct2-fp32-b1-bs1.jsonl "$BENCH_DIR"/results/*/transformers-b1-bs1.jsonl 2>/dev/null | head -n 1 || true)"
    fi
    if [ -z "$FORCED" ]; then
        echo "fidelity skipped: no float32 greedy tokens file (run ct2-fp32 or transformers first)" >&2
    else
        echo "teacher-forced outputs: $FORCED"
        run_one "fidelity: CTranslate2 int8 vs float32" "$RES/fidelity-ct2.log" \
            "$PY" "$HERE/fidelity.py" --tokens "$FORCED" "${LIMIT_ARGS[@]}" --out "$RES/fidelity-ct2.json"
        if [ -n "$BENCH_BIN" ]; then
            run_one "fidelity: dragoman int8 vs float32" "$RES/fidelity-dragoman.log" "$BENCH_BIN" \
                --model "$BENCH_DIR/opus-mt-fr-en-random" --ids "$BENCH_DIR/source_ids.json" \
                --teacher-force "$FORCED" --int8 --threads 2 "${LIMIT_ARGS[@]}" --out "$RES/fidelity-dragoman.json"
        fi
    fi
fi

say "summary ($RES/table.md)"
"$PY" "$HERE/summarize.py" "$RES"
if [ ${#FAILED[@]} -gt 0 ]; then
    echo >&2
    echo "failed runs: ${FAILED[*]}" >&2
    exit 1
fi
