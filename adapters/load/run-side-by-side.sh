#!/usr/bin/env bash
# Side by side: runs socketio-load's cases against Node's socket.io,
# socketioxide, our two drivers (the conformance examples) and the floor (a
# raw WebSocket echo peer), rounds interleaved (round 1: every peer, round
# 2: every peer...), a fresh server process per peer and round; prints the
# Markdown table of medians the README's Performance section shows.
#
# usage: adapters/load/run-side-by-side.sh [--rounds N] [--peers "LIST"]
#            [--cases "LIST"] [--duration S] [--quick] [--no-build] [--out DIR]
#
#   --rounds N     rounds (default 3)
#   --peers LIST   of: node socketioxide mio blocking floor (default all)
#   --cases LIST   of: storm echo-lat echo-64 echo-4k ack-64 fanout-1k
#                  fanout-10k poll-echo upgrade-storm room-fanout idle-10k
#                  idle-100k (default all but idle-100k)
#   --duration S   measured seconds per case (default 3)
#   --quick        1 round, 1 s per case
#   --no-build     use the binaries already built
#   --out DIR      results directory (default target/load-results/<UTC stamp>)
#
# Installs the peers itself: `npm ci` from peers/node/package-lock.json
# (node_modules is git-ignored) and `cargo build --locked` of
# peers/socketioxide (its own Cargo.lock, outside the workspace). Needs
# cargo; node + npm only for the node peer. Loopback only; every run is
# bounded (`timeout`, the generator's own bounds); the script stops only the
# servers it started, by PID.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"

ROUNDS=3
PEERS="node socketioxide mio blocking floor"
CASES="storm echo-lat echo-64 echo-4k ack-64 fanout-1k fanout-10k poll-echo upgrade-storm room-fanout idle-10k"
DURATION=3
BUILD=1
OUT=""
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) ROUNDS="$2"; shift 2 ;;
    --peers) PEERS="$2"; shift 2 ;;
    --cases) CASES="$2"; shift 2 ;;
    --duration) DURATION="$2"; shift 2 ;;
    --quick) ROUNDS=1; DURATION=1; shift ;;
    --no-build) BUILD=0; shift ;;
    --out) OUT="$2"; shift 2 ;;
    -h|--help) sed -n '2,26p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done

LG="$TARGET/release/socketio-load"
SX="$TARGET/peers/release/socketio-load-peer-socketioxide"

if [ "$BUILD" = 1 ]; then
  echo "== building socketio-load, the conformance examples and the floor"
  (cd "$ROOT" && cargo build --release --quiet -p socketio-load -p socketio-mio -p socketio-blocking \
      --bins --examples)
  for p in $PEERS; do
    case "$p" in
      socketioxide)
        echo "== building peers/socketioxide (--locked)"
        (cd "$HERE/peers/socketioxide" && CARGO_TARGET_DIR="$TARGET/peers" cargo build --release --locked --quiet) ;;
      node)
        if [ ! -d "$HERE/peers/node/node_modules/socket.io" ]; then
          echo "== npm ci in peers/node"
          (cd "$HERE/peers/node" && npm ci --no-audit --no-fund --silent)
        fi ;;
    esac
  done
fi

peer_cmd() {
  local port="$1" args="--port $1 --ping-interval 25000 --ping-timeout 20000"
  case "$2" in
    node) echo "node $HERE/peers/node/server.js $args" ;;
    socketioxide) echo "$SX $args" ;;
    mio) echo "$TARGET/release/examples/mio_conformance $args" ;;
    blocking) echo "$TARGET/release/examples/conformance $args" ;;
    floor) echo "$TARGET/release/examples/ws_echo_peer --port $port" ;;
    *) echo "unknown peer: $2" >&2; return 1 ;;
  esac
}

# The floor speaks WebSocket echo and broadcast only.
peer_has_case() {
  case "$1:$2" in
    floor:poll-echo|floor:upgrade-storm|floor:room-fanout) return 1 ;;
    *) return 0 ;;
  esac
}

# 10,000 connections need 10,000 descriptors on each side (polling: 3 per client).
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

OUT="${OUT:-$TARGET/load-results/$(date -u +%Y%m%dT%H%M%SZ)}"
mkdir -p "$OUT"
RESULTS="$OUT/results.jsonl"
: > "$RESULTS"
{
  echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //') x $(nproc)"
  echo "memory: $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
  echo "kernel: $(uname -r)"
  echo "node: $(node --version 2>/dev/null || echo none); rustc: $(rustc --version 2>/dev/null || echo none)"
  echo "commit: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo "rounds: $ROUNDS; duration: $DURATION s; nofile: $(ulimit -n)"
} > "$OUT/machine.txt"
cat "$OUT/machine.txt"

SERVER_PID=""
stop_server() {
  local pid="$SERVER_PID"
  [ -n "$pid" ] || return 0
  SERVER_PID=""
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
  wait "$pid" 2>/dev/null || true
}
trap stop_server EXIT
trap 'stop_server; exit 130' INT TERM

T0=$(date +%s)
for round in $(seq 1 "$ROUNDS"); do
  for peer in $PEERS; do
    port=$("$LG" free-port)
    cmd=$(peer_cmd "$port" "$peer")
    log="$OUT/server-$peer-r$round.log"
    echo "== round $round/$ROUNDS: $peer on 127.0.0.1:$port"
    bash -c "exec $cmd" > "$log" 2>&1 &
    SERVER_PID=$!
    if ! "$LG" wait-port --port "$port" --timeout-ms 20000; then
      echo "   $peer did not start; see $log" >&2
      stop_server
      continue
    fi
    for c in $CASES; do
      peer_has_case "$peer" "$c" || continue
      raw="$OUT/$peer-$c-r$round.txt"
      extra=""
      if [ "$c" = idle-100k ]; then
        # More connections than one process may open: helper processes
        # share them (the server's own limit still applies).
        extra="--procs $(( 100000 / ($(ulimit -n) - 1000) + 1 ))"
      fi
      # shellcheck disable=SC2086
      if timeout 300 "$LG" "$c" --port "$port" --pid "$SERVER_PID" --label "$peer" \
          --duration "$DURATION" $extra > "$raw" 2>&1; then
        printf '{"peer":"%s","case":"%s","round":%d,"result":%s}\n' \
          "$peer" "$c" "$round" "$(tail -n 1 "$raw")" >> "$RESULTS"
        head -n 1 "$raw" | cut -c1-240 | sed 's/^/   /'
      else
        echo "   $c: FAILED (see $raw)"
      fi
      if ! kill -0 "$SERVER_PID" 2>/dev/null; then
        echo "   $peer exited; see $log"
        break
      fi
      # Let the server finish closing the previous connections.
      case "$c" in storm|fanout-10k|room-fanout|idle-*) sleep 2 ;; *) sleep 1 ;; esac
    done
    stop_server
  done
done
echo "== finished in $(( $(date +%s) - T0 )) s; raw results in $OUT"
{
  echo '```'
  cat "$OUT/machine.txt"
  echo '```'
  echo
  "$LG" table "$RESULTS"
} | tee "$OUT/table.md"
