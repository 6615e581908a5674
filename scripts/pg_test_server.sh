#!/usr/bin/env bash
# A throwaway PostgreSQL server for the PostgreSQL tests: a fresh cluster in a temporary
# directory, listening on 127.0.0.1 only (no Unix socket elsewhere, trust auth on loopback),
# with one database.
#
#   eval "$(scripts/pg_test_server.sh start)"   # exports DRAGOMAN_TEST_DATABASE_URL, DRAGOMAN_PG_TEST_DIR
#   cargo test jobs_postgres
#   scripts/pg_test_server.sh stop              # stops it and removes the directory
#
# `start` prints `export …` lines on stdout (everything else goes to stderr). `stop` takes the
# directory from DRAGOMAN_PG_TEST_DIR or as its second argument. Needs PostgreSQL's server
# binaries (Debian: `apt-get install postgresql`); as root, the cluster runs as the `postgres`
# user (created if missing), because PostgreSQL refuses to run as root.
set -euo pipefail

log() { echo "pg_test_server: $*" >&2; }

# The directory holding initdb/pg_ctl/postgres: PG_BINDIR, Debian's newest version, or PATH.
bindir() {
    if [[ -n "${PG_BINDIR:-}" ]]; then
        echo "$PG_BINDIR"
        return
    fi
    local newest
    newest="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
    if [[ -n "$newest" && -x "$newest/initdb" ]]; then
        echo "$newest"
        return
    fi
    if command -v initdb >/dev/null 2>&1; then
        dirname "$(command -v initdb)"
        return
    fi
    log "no PostgreSQL server binaries (initdb) found; install them (Debian: apt-get install postgresql) or set PG_BINDIR"
    exit 1
}

# Runs a command as the cluster's owner.
as_owner() {
    if [[ "$(id -u)" == 0 ]]; then
        runuser -u "$OWNER" -- "$@"
    else
        "$@"
    fi
}

free_port() {
    local port
    for _ in $(seq 1 50); do
        port=$((20000 + RANDOM % 40000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return
        fi
    done
    log "no free port found"
    exit 1
}

start() {
    local bin dir port url
    bin="$(bindir)"
    OWNER="$(id -un)"
    if [[ "$(id -u)" == 0 ]]; then
        OWNER=postgres
        if ! id "$OWNER" >/dev/null 2>&1; then
            useradd --system --no-create-home --shell /usr/sbin/nologin "$OWNER"
        fi
    fi
    dir="$(mktemp -d "${TMPDIR:-/tmp}/dragoman-pg.XXXXXX")"
    chmod 755 "$dir"
    mkdir "$dir/data" "$dir/run"
    [[ "$(id -u)" == 0 ]] && chown -R "$OWNER" "$dir/data" "$dir/run"
    as_owner "$bin/initdb" --pgdata="$dir/data" --username=dragoman --auth=trust \
        --encoding=UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 || {
        cat "$dir/initdb.log" >&2
        log "initdb failed"
        exit 1
    }
    for attempt in 1 2 3 4 5; do
        port="$(free_port)"
        if as_owner "$bin/pg_ctl" --pgdata="$dir/data" --log="$dir/run/server.log" --wait \
            --timeout=60 \
            -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$dir/run -c fsync=off -c max_connections=200" \
            start >&2; then
            break
        fi
        log "start on port $port failed (attempt $attempt)"
        tail -n 20 "$dir/run/server.log" >&2 || true
        [[ "$attempt" == 5 ]] && exit 1
    done
    "$bin/createdb" --host=127.0.0.1 --port="$port" --username=dragoman dragoman_test >&2
    url="postgres://dragoman@127.0.0.1:$port/dragoman_test"
    echo "$url" >"$dir/url"
    echo "$bin" >"$dir/bindir"
    echo "$OWNER" >"$dir/owner"
    log "PostgreSQL listening on 127.0.0.1:$port (cluster in $dir)"
    echo "export DRAGOMAN_TEST_DATABASE_URL=$url"
    echo "export DRAGOMAN_PG_TEST_DIR=$dir"
}

stop() {
    local dir="${1:-${DRAGOMAN_PG_TEST_DIR:-}}"
    if [[ -z "$dir" || ! -d "$dir" ]]; then
        log "nothing to stop (no cluster directory given)"
        return 0
    fi
    if [[ ! -f "$dir/bindir" ]]; then
        log "$dir is not a cluster made by this script; leaving it alone"
        return 1
    fi
    OWNER="$(cat "$dir/owner")"
    if [[ -f "$dir/data/postmaster.pid" ]]; then
        as_owner "$(cat "$dir/bindir")/pg_ctl" --pgdata="$dir/data" --mode=fast --wait stop >&2 || true
    fi
    rm -rf "$dir"
    log "stopped and removed $dir"
}

case "${1:-}" in
start) start ;;
stop) stop "${2:-}" ;;
*)
    echo "usage: $0 start|stop [DIR]" >&2
    exit 2
    ;;
esac
