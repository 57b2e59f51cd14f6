#!/usr/bin/env bash
# The project's test command (`make test`, and CI): lint, format check, type check, import rules,
# test suite.
#
# Extra arguments go to pytest: `scripts/test.sh tests/shared -q`. The pytest session starts a
# throwaway redis-server of its own (tests/conftest.py; one per xdist worker), so this never
# touches a running Redis. The tests run on TEST_WORKERS xdist workers (5 unless set; 0 runs them
# in this process) with --dist loadgroup, and the 25 slowest are listed at the end
# (docs/ARCHITECTURE.md, 'Tests'; docs/DECISIONS.md says why five).
# TEST_SH_NO_APT=1 forbids installing redis-server and chromium (the status page's browser tests);
# TEST_SH_CHECK_ONLY=1 stops after the redis-server check.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

step() { printf '==> %s (at %d s)\n' "$*" "$SECONDS"; }

ensure_redis_server() {
  if [[ -n "${REDIS_SERVER_BIN:-}" && -x "$REDIS_SERVER_BIN" ]]; then
    return 0
  fi
  if ! command -v redis-server >/dev/null 2>&1 \
    && [[ -z "${TEST_SH_NO_APT:-}" && $EUID -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
    step "installing redis-server with apt-get"
    local log
    log=$(mktemp)
    if ! { DEBIAN_FRONTEND=noninteractive apt-get update -q \
        && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends redis-server
      } >"$log" 2>&1; then
      tail -n 20 "$log" >&2
    fi
    rm -f "$log"
  fi
  if ! REDIS_SERVER_BIN=$(command -v redis-server); then
    echo "redis-server not found: install the 'redis-server' package" \
      "(e.g. sudo apt-get install redis-server)" >&2
    exit 1
  fi
  export REDIS_SERVER_BIN
}

ensure_browser() {
  # The status page is tested in Debian's headless Chromium driven by its chromedriver.
  if { ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; } \
    && [[ -z "${TEST_SH_NO_APT:-}" && $EUID -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
    step "installing chromium and chromium-driver with apt-get"
    local log
    log=$(mktemp)
    if ! { DEBIAN_FRONTEND=noninteractive apt-get update -q \
        && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium chromium-driver
      } >"$log" 2>&1; then
      tail -n 20 "$log" >&2
    fi
    rm -f "$log"
  fi
  if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
    echo "chromium or chromedriver not found: install the 'chromium' and 'chromium-driver'" \
      "packages (e.g. sudo apt-get install chromium chromium-driver)" >&2
    exit 1
  fi
}

step "redis-server"
ensure_redis_server
if [[ -n "${TEST_SH_CHECK_ONLY:-}" ]]; then
  echo "redis-server: $REDIS_SERVER_BIN"
  exit 0
fi

# After the check-only exit: that mode checks redis-server alone, on machines without a browser.
# Chromium installs (apt-get, when missing) while .venv is made: neither waits for the other.
step "chromium, beside the bootstrap of .venv"
browser_log=$(mktemp)
ensure_browser >"$browser_log" 2>&1 &
browser_job=$!

step "bootstrap .venv"
bash scripts/bootstrap.sh

browser_status=0
wait "$browser_job" || browser_status=$?
if ((browser_status != 0)); then
  cat "$browser_log" >&2
  rm -f "$browser_log"
  exit "$browser_status"
fi
cat "$browser_log"
rm -f "$browser_log"

step "ruff check"
.venv/bin/ruff check .

step "ruff format --check"
.venv/bin/ruff format --check .

step "mypy"
.venv/bin/mypy

step "lint-imports"
.venv/bin/lint-imports --no-cache

# Python's bytecode cache, even where the environment turns it off: the suite starts about 700
# Python processes of this project's code, each of which would otherwise compile every module
# it imports again, and each worker would rewrite every test module's assertions again
# (docs/DECISIONS.md, 'Parallel tests'). The caches are __pycache__ folders, ignored by git.
unset PYTHONDONTWRITEBYTECODE
workers=${TEST_WORKERS:-5}
step "pytest -n $workers --dist loadgroup --durations=25 $*"
.venv/bin/pytest -n "$workers" --dist loadgroup --durations=25 "$@"
printf '==> everything passed in %d s\n' "$SECONDS"
