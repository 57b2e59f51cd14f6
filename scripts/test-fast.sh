#!/usr/bin/env bash
# `make test-fast`: the tests that start no process (no redis-server, simulator, service, docker,
# browser or CLI run), in this one pytest process; a test among them that starts one anyway fails
# (tests/fast_mode.py, docs/ARCHITECTURE.md 'Tests'). No lint: `make lint` is that.
#
# Extra arguments go to pytest: `scripts/test-fast.sh tests/shared -q`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/bootstrap.sh
unset PYTHONDONTWRITEBYTECODE  # as scripts/test.sh: compiled once, not on every run
exec .venv/bin/pytest --fast -q -p no:xdist --durations=10 "$@"
