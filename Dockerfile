# One image for every service; each compose service chooses its process with `command:`.
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONPATH=/app \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN groupadd --gid 1000 app \
    && useradd --no-log-init --uid 1000 --gid app --create-home --shell /usr/sbin/nologin app

WORKDIR /app

# Dependencies first, read from pyproject.toml alone, so a source change reuses this layer.
COPY pyproject.toml ./
RUN python -c "import tomllib; deps = tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']; print(*deps, sep='\n')" > /tmp/requirements.txt \
    && pip install --no-cache-dir --requirement /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# The code stays root-owned and read-only for the app user; PYTHONPATH makes it importable.
# Compiled here because the containers run with a read-only root filesystem (and
# PYTHONDONTWRITEBYTECODE): every start and every healthcheck then skips the compiler.
# examples/ holds the demo day's picks and prices; data/ is DATA_DIR: the ledger exported after
# the close, the bar store and backtest reports (a named volume in compose, which takes this
# directory's owner).
COPY shared ./shared
COPY services ./services
COPY examples ./examples
RUN python -m compileall -q shared services \
    && mkdir -p data \
    && chown 1000:1000 data

# The `app` user, by number so runtimes can verify it is not root (hadolint DL3066).
USER 1000:1000
