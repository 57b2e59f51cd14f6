# Entry points; the logic lives in scripts/. `make test` is the test command (CI runs it too).
# Extra arguments: make test ARGS="tests/shared -q", make run ARGS="--only kis-sim".
.PHONY: test test-fast run demo-day bench bench-all bench-stream bench-backtest backtest-demo chaos track-record demo lint clean bootstrap

ARGS ?=

test:
	bash scripts/test.sh $(ARGS)

# The tests that start no process, in one pytest process (about 30 s of CPU); no lint.
test-fast:
	bash scripts/test-fast.sh $(ARGS)

run:
	bash scripts/run-local.sh $(ARGS)

demo-day:
	bash scripts/demo-day.sh $(ARGS)

bootstrap:
	bash scripts/bootstrap.sh

bench: bootstrap
	.venv/bin/python -m benchmarks.kis_rate $(ARGS)

# Price-change-to-order latency on the KIS stream against REST polling (docs/ARCHITECTURE.md).
bench-stream: bootstrap
	.venv/bin/python -m benchmarks.stream $(ARGS)

# The backtest over a year of synthetic minute bars (docs/ARCHITECTURE.md, 'Backtest'); its last
# line: backtest year <s> s, sweep <n> runs <s> s, replay agrees <a>/<b> sessions.
bench-backtest: bootstrap
	.venv/bin/python -m benchmarks.backtest $(ARGS)

# The backtest on the synthetic demo data in examples/backtest/ (offline, a few seconds); the
# report goes to .run/backtest-demo/ (report.html, and report.json beside it).
backtest-demo: bootstrap
	.venv/bin/kat backtest --from 2025-12-17 --to 2026-01-16 \
		--picks-dir examples/backtest/picks --bars-csv examples/backtest/bars.csv.gz \
		--out .run/backtest-demo $(ARGS)

# 60 KRX sessions by the whole system (about 15 minutes), then /performance against the
# simulator's fills, to the won, and docs/screens/history.png. See docs/benchmarks.md.
track-record: bootstrap
	.venv/bin/python -m benchmarks.track_record $(ARGS)

# Every benchmark, the services' memory and idle CPU, the fastest full day: docs/benchmarks.md.
bench-all: bootstrap
	.venv/bin/python -m benchmarks.record $(ARGS)

# Simulated days with kills, Redis restarts and outages, KIS and Discord faults (20 runs):
# make chaos ARGS="--runs 5 --seed 7". See docs/ARCHITECTURE.md, 'Chaos run'.
chaos: bootstrap
	.venv/bin/python -m benchmarks.chaos $(ARGS)

demo: bootstrap
	.venv/bin/python scripts/demo_client.py $(ARGS)

lint: bootstrap
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy
	.venv/bin/lint-imports --no-cache

# Caches and build leftovers only: .venv and .run (the local Redis data) are kept.
clean:
	rm -rf .mypy_cache .ruff_cache .pytest_cache build *.egg-info
	find . -path ./.venv -prune -o -type d -name __pycache__ -exec rm -rf {} +
