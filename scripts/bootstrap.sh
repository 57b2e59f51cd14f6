#!/usr/bin/env bash
# Create .venv with Python >= 3.11 and install the project with its dev tools; a no-op when done.
#
# The install is skipped while pyproject.toml is unchanged (its hash is stamped inside .venv).
# BOOTSTRAP_PYTHON picks the interpreter; otherwise the newest python3.1x on PATH is used.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

venv=.venv
stamp="$venv/.pyproject.sha256"
UV_VERSION=0.13.10

usable() {  # usable PYTHON: runs, and is Python >= 3.11
  "$1" -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1
}

find_python() {
  local candidate
  for candidate in ${BOOTSTRAP_PYTHON:-} python3.13 python3.12 python3.11 python3; do
    # pyenv shims exist for versions that are not installed: running them is the only test.
    if command -v "$candidate" >/dev/null 2>&1 && usable "$candidate"; then
      printf '%s\n' "$candidate"
      return 0
    fi
  done
  return 1
}

fail_with_log() {  # fail_with_log MESSAGE LOGFILE
  echo "bootstrap: $1" >&2
  tail -n 30 "$2" >&2
  rm -f "$2"
  exit 1
}

if ! usable "$venv/bin/python"; then
  python=$(find_python) || {
    echo "bootstrap: no Python >= 3.11 found (tried python3.13, python3.12, python3.11, python3)" >&2
    exit 1
  }
  rm -rf "$venv"
  log=$(mktemp)
  "$python" -m venv "$venv" >"$log" 2>&1 \
    || fail_with_log "'$python -m venv' failed (on Debian/Ubuntu: apt-get install python3-venv)" "$log"
  rm -f "$log"
fi

hash=$("$venv/bin/python" -c \
  'import hashlib, sys; print(hashlib.sha256(open(sys.argv[1], "rb").read()).hexdigest())' \
  pyproject.toml)
if [[ -f "$stamp" && "$(<"$stamp")" == "$hash" ]]; then
  exit 0
fi

log=$(mktemp)
# uv installs the same pinned packages as pip in about half the time (10 to 16 s instead of 29 s
# into a new .venv; docs/DECISIONS.md). Where uv cannot be had (pip reaches only a mirror that
# lacks it, say), or cannot install, pip does it.
if ! { "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "uv==$UV_VERSION" \
    && VIRTUAL_ENV="$PWD/$venv" "$venv/bin/uv" pip install --quiet --compile-bytecode -e '.[dev]'
  } >"$log" 2>&1; then
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -e '.[dev]' >"$log" 2>&1 \
    || fail_with_log "pip install -e '.[dev]' failed:" "$log"
fi
rm -f "$log"
# keyrings.alt was a dev dependency until it proved to be what a server without an OS keyring
# fell back to (a plain file); an environment made before must lose it (docs/DECISIONS.md).
"$venv/bin/python" -m pip uninstall --quiet --yes keyrings.alt >/dev/null 2>&1 || true
printf '%s\n' "$hash" >"$stamp"
