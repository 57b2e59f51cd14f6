#!/usr/bin/env bash
# `make demo-day`: one simulated trading day (2026-03-03, 60x speed) with the example picks and
# scripted prices, on a throwaway redis-server so every run starts from a clean slate.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/bootstrap.sh
command -v redis-server >/dev/null || { echo "redis-server not found: install the 'redis-server' package" >&2; exit 1; }

port=$(.venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
workdir=$(mktemp -d)
redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no --dir "$workdir" \
  --daemonize no >/dev/null &
redis_pid=$!
trap 'kill "$redis_pid" 2>/dev/null; wait "$redis_pid" 2>/dev/null; rm -rf "$workdir"' EXIT
for _ in $(seq 50); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done

export KAT_ENV_FILE="" KIS_ENV=sim REDIS_URL="redis://127.0.0.1:$port/0"
export CLOCK_START="${CLOCK_START:-2026-03-03T08:50:00+09:00}" CLOCK_SPEED="${CLOCK_SPEED:-60}"
export CLOCK_EPOCH="$(date +%s)"
export PICKS_FILE=examples/picks-2026-03-03.json SIM_PRICE_PATHS=examples/demo-prices.json
export SIM_RATE_LIMIT=5 KIS_RATE_LIMIT=5 EXPORT_DIR=.run/demo-day
echo "demo day: Redis on port $port, clock from $CLOCK_START at ${CLOCK_SPEED}x; Ctrl-C stops"
echo "watch it from another terminal: REDIS_URL=$REDIS_URL .venv/bin/kat orders --date 2026-03-03"
bash scripts/run-local.sh "$@"
