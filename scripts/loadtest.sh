#!/usr/bin/env bash
# Load-tests `dragoman serve` on the loopback interface, one model after the other.
#
#   scripts/loadtest.sh [MODEL_DIR ...] [-- LOADTEST_ARGS ...]
#
# Models default to the two fixtures (tests/fixtures/marian-tiny-swish, marian-tiny-relu).
# For each model: builds release once (dragoman + examples/loadtest.rs), starts
# `dragoman serve --model DIR --host 127.0.0.1 --port 0`, reads the address from its
# "dragoman listening on http://ADDR" line, runs the load test (which waits for /ready, measures
# the offline baseline in-process, then 1, 8 and 32 clients), stops the server with SIGTERM and
# prints the table. LOADTEST_ARGS go to the example (see `--help`: --sentences, --concurrency,
# --beams, --max-new-tokens, --request-timeout-s, --max-run-s, ...). Server settings come from the
# usual DRAGOMAN_* variables (e.g. DRAGOMAN_MAX_WAIT_MS=1); the defaults are the server's.
#
# Run it on an otherwise idle machine: the client, the server and the offline baseline share
# its cores.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
target="${CARGO_TARGET_DIR:-$root/target}"

models=()
while [[ $# -gt 0 ]]; do
    if [[ "$1" == "--" ]]; then
        shift
        break
    fi
    models+=("$1")
    shift
done
if [[ ${#models[@]} -eq 0 ]]; then
    models=(tests/fixtures/marian-tiny-swish tests/fixtures/marian-tiny-relu)
fi

cargo build --release --bin dragoman --example loadtest
server_bin="$target/release/dragoman"
loadtest_bin="$target/release/examples/loadtest"

server_pid=""
log=""
stop_server() {
    if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
        kill -TERM "$server_pid"
        wait "$server_pid" || true
    fi
    server_pid=""
    if [[ -n "$log" ]]; then
        rm -f "$log"
    fi
    log=""
}
trap stop_server EXIT
trap 'exit 130' INT TERM

for model in "${models[@]}"; do
    echo
    echo "== $model ($(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores)"
    log="$(mktemp)"
    "$server_bin" serve --model "$model" --host 127.0.0.1 --port 0 2>"$log" &
    server_pid=$!
    address=""
    for _ in $(seq 1 300); do
        address="$(sed -n 's|^dragoman listening on http://||p' "$log" | head -n 1)"
        if [[ -n "$address" ]] || ! kill -0 "$server_pid" 2>/dev/null; then
            break
        fi
        sleep 0.1
    done
    if [[ -z "$address" ]]; then
        echo "the server did not start:" >&2
        cat "$log" >&2
        exit 1
    fi
    "$loadtest_bin" --url "http://$address" --model "$model" "$@"
    stop_server
done
