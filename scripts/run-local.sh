#!/usr/bin/env bash
# `make run`: every compose service as a local process (scripts/run_local.py), no Docker.
#
# Uses the Redis at REDIS_URL (environment, then .env, then redis://127.0.0.1:6379/0). When none
# answers there and the URL is local, starts a redis-server of its own (AOF in .run/redis, or
# .run/redis-PORT for another port) on that port or a free one; run_local.py stops it after the
# services. Arguments go to run_local.py. Ports: API_PORT, SIM_PORT (docker-compose.yml's defaults).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/bootstrap.sh
py=.venv/bin/python

if [[ -z "${REDIS_URL:-}" && -f .env ]]; then
  REDIS_URL=$(sed -n 's/^[[:space:]]*\(export[[:space:]]\{1,\}\)\{0,1\}REDIS_URL=//p' .env \
    | tail -n 1 | tr -d "\"'" | tr -d '[:space:]')
fi
export REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379/0}

redis_answers() {
  "$py" -c 'import sys, redis
redis.Redis.from_url(sys.argv[1], socket_connect_timeout=1, socket_timeout=1).ping()' \
    "$1" >/dev/null 2>&1
}

redis_args=()
for arg in "$@"; do  # listing the plan needs no Redis
  case $arg in --print | -h | --help) exec "$py" scripts/run_local.py "$@" ;; esac
done
if ! redis_answers "$REDIS_URL"; then
  if ! [[ $REDIS_URL =~ ^redis://(127\.0\.0\.1|localhost)(:([0-9]+))?(/([0-9]+))?$ ]]; then
    echo "run-local: no Redis answers at $REDIS_URL" >&2
    exit 1
  fi
  wanted_port=${BASH_REMATCH[3]:-6379}
  db=${BASH_REMATCH[5]:-0}
  if ! command -v redis-server >/dev/null 2>&1; then
    echo "run-local: no Redis at $REDIS_URL and redis-server not found:" \
      "install the 'redis-server' package (e.g. sudo apt-get install redis-server)" >&2
    exit 1
  fi
  # The wanted port if nothing holds it, else any free one.
  port=$("$py" -c 'import socket, sys
for port in (int(sys.argv[1]), 0):
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            continue
        print(s.getsockname()[1])
        break' "$wanted_port")
  # One data directory per port, so a second system (another REDIS_URL port) keeps its own.
  data_dir="$PWD/.run/redis"
  [[ $wanted_port == 6379 ]] || data_dir="$PWD/.run/redis-$wanted_port"
  mkdir -p "$data_dir"
  rm -f "$data_dir/redis.pid"
  redis-server --port "$port" --bind 127.0.0.1 --appendonly yes --dir "$data_dir" \
    --daemonize yes --pidfile "$data_dir/redis.pid" --logfile "$data_dir/redis.log"
  export REDIS_URL="redis://127.0.0.1:$port/$db"
  for _ in $(seq 50); do
    redis_answers "$REDIS_URL" && [[ -s "$data_dir/redis.pid" ]] && break
    sleep 0.2
  done
  if ! redis_answers "$REDIS_URL"; then
    echo "run-local: the redis-server started on port $port does not answer" \
      "(see $data_dir/redis.log)" >&2
    exit 1
  fi
  echo "run-local: started redis-server on 127.0.0.1:$port (data in ${data_dir#"$PWD"/})"
  redis_args=(--redis-pid "$(<"$data_dir/redis.pid")")
fi

exec "$py" scripts/run_local.py ${redis_args[@]+"${redis_args[@]}"} "$@"
