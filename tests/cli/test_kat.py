"""The operator CLI against a real Redis: its commands by its ``main`` (the ``kat`` fixture),
what only a process shows through a real one."""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from datetime import time as time_of_day
from pathlib import Path

import pytest
import redis

from services.cli.main import main
from shared.infra.redis_keys import Keys
from shared.state.picks_store import stored_picks
from tests.conftest import ROOT, Ran, Sim, run_main, service_env

SEED = {
    "002680": ["한타", 3155],
    "177350": ["베셀", 7630],
    "312610": ["에이에프더블류", 3505],
    "096870": ["엘디티", 4145],
    "311390": ["네오크레마", 13450],
}


CLOCK = {"CLOCK_START": "2026-03-03T08:00:00+09:00", "CLOCK_SPEED": "1"}
"""The CLI's clock: Tuesday 2026-03-03 before the open, so picks dates are judged from there."""


Kat = Callable[..., Ran]


@pytest.fixture
def kat(redis_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Kat:
    """``kat(*args)``: the command by the CLI's ``main`` in this process (``run_main``), in a
    service's environment alone (``service_env``, with the CLI's own clock) against the real
    Redis. What only a process shows goes through one: a closed pipe, what a start imports, the
    running system's clock, a dry run's notice."""

    def run(*args: str) -> Ran:
        env = service_env(redis_url, **CLOCK, CLOCK_EPOCH=f"{time.time():.3f}")
        return run_main(main, args, env, ROOT, monkeypatch, capsys)

    return run


class Evil:
    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, (f"touch {PWNED}",))


PWNED = Path("/nonexistent")


def test_picks_load_and_show(redis_client: redis.Redis, tmp_path: Path, kat: Kat) -> None:
    path = tmp_path / "select_dict.pkl"
    path.write_bytes(pickle.dumps(SEED))
    loaded = kat("picks", "load", str(path), "--date", "2026-03-04")
    assert loaded.returncode == 0, loaded.stderr
    assert "stored 5 picks for 2026-03-04" in loaded.stdout
    from datetime import date

    picks = stored_picks(redis_client, Keys(), date(2026, 3, 4))
    assert picks is not None and {p.code: [p.name, p.target] for p in picks} == SEED
    shown = kat("picks", "show", "--date", "2026-03-04")
    assert "에이에프더블류" in shown.stdout and "13,450" in shown.stdout


def test_a_malicious_pickle_is_refused_and_never_run(
    redis_client: redis.Redis, tmp_path: Path, kat: Kat
) -> None:
    global PWNED
    PWNED = tmp_path / "pwned"
    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps({"005930": Evil()}))
    result = kat("picks", "load", str(path), "--date", "2026-03-04")
    assert result.returncode == 2
    assert "refused to load" in result.stderr and "nothing stored" in result.stderr
    assert not PWNED.exists()
    assert redis_client.keys("kat:picks:*") == []


def test_a_file_with_bad_rows_loads_nothing(
    redis_client: redis.Redis, tmp_path: Path, kat: Kat
) -> None:
    path = tmp_path / "picks.csv"
    path.write_text("code,name,target\n002680,한타,3155\n5930,삼성,70000\n000660,,0\n")
    result = kat("picks", "load", str(path), "--date", "2026-03-04")
    assert result.returncode == 2
    assert "row 3 (code '5930')" in result.stderr and "row 4 (code '000660')" in result.stderr
    assert redis_client.keys("kat:picks:*") == []


def test_picks_for_a_closed_day_are_refused(tmp_path: Path, kat: Kat) -> None:
    path = tmp_path / "picks.json"
    path.write_text(json.dumps(SEED, ensure_ascii=False))
    result = kat("picks", "load", str(path), "--date", "2026-03-07")
    assert result.returncode == 2 and "not a KRX session" in result.stderr


@pytest.mark.parametrize(
    ("day", "reason"),
    [
        ("0001-01-01", "in the past"),
        ("9999-12-31", "sessions ahead"),
        ("2026-06-03", "sessions ahead"),
        ("2026-3-4", "must be YYYY-MM-DD"),
        ("２０２６-03-04", "must be YYYY-MM-DD"),
        ("2026-02-30", "is not a calendar date"),
    ],
)
def test_picks_dates_outside_the_window_are_refused_in_one_line(
    redis_client: redis.Redis, tmp_path: Path, day: str, reason: str, kat: Kat
) -> None:
    path = tmp_path / "picks.json"
    path.write_text(json.dumps(SEED, ensure_ascii=False))
    result = kat("picks", "load", str(path), "--date", day)
    assert result.returncode == 2, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert reason in result.stderr
    assert redis_client.keys("kat:picks:*") == []


def test_pause_status_resume(kat: Kat) -> None:
    assert kat("pause", "--reason", "lunch").returncode == 0
    status = json.loads(kat("status").stdout)
    assert status["controls"]["paused"]["reason"] == "lunch"
    assert 0 < status["controls"]["paused"]["set_epoch"] <= time.time()
    assert status["account"] == "******00-01"
    assert kat("halt").returncode == 0
    assert kat("resume").returncode == 0
    assert json.loads(kat("status").stdout)["controls"] == {}


def failing_job() -> None:
    raise RuntimeError("KIS said no")


def test_queues_failed_and_requeue(redis_client: redis.Redis, kat: Kat) -> None:
    from rq import SimpleWorker

    from shared.messaging.queues import BUY_QUEUE, SERIALIZER, queue

    orders = queue(redis_client, BUY_QUEUE)
    orders.enqueue(failing_job, job_id="broken-job")
    SimpleWorker([orders], connection=redis_client, serializer=SERIALIZER).work(burst=True)

    shown = kat("queues")
    assert shown.returncode == 0, shown.stderr
    assert "orders-buy     queued    0  started   0  failed   1" in shown.stdout
    assert "notify events     0  outbox    0  unconfirmed   0" in shown.stdout
    failed = kat("failed")
    assert "broken-job" in failed.stdout and "RuntimeError: KIS said no" in failed.stdout
    requeued = kat("requeue", "broken-job")
    assert requeued.returncode == 0, requeued.stderr
    assert orders.job_ids == ["broken-job"]
    assert kat("requeue", "no-such-job").returncode == 1


def test_health_needs_a_live_heartbeat(redis_client: redis.Redis, kat: Kat) -> None:
    import socket

    from shared.state.control import beat

    assert kat("health", "executor").returncode == 1
    beat(redis_client, Keys(), "executor", f"{socket.gethostname()}-1-abc")
    assert kat("health", "executor").returncode == 0
    # A notifier that beats but says its sender is stuck is not healthy (issue 11).
    beat(redis_client, Keys(), "notifier", f"{socket.gethostname()}-2-abc", healthy=False)
    stuck = kat("health", "notifier")
    assert stuck.returncode == 1 and "UNHEALTHY" in stuck.stdout


def test_limits_show_change_and_refuse(kat: Kat) -> None:
    shown = kat("limits")
    assert shown.returncode == 0, shown.stderr
    assert "max_orders_per_day     200" in shown.stdout
    changed = kat("limits", "--max-orders-per-day", "12", "--max-open-positions", "4")
    assert changed.returncode == 0, changed.stderr
    assert "changed: max_orders_per_day=12, max_open_positions=4" in changed.stdout
    refused = kat("limits", "--max-order-krw", "0", "--max-orders-per-day", "3")
    assert refused.returncode == 2
    assert refused.stderr.startswith("limits refused, nothing changed: max_order_krw")
    assert len(refused.stderr.strip().splitlines()) == 1
    status = json.loads(kat("status").stdout)
    assert (status["limits"]["max_orders_per_day"], status["limits"]["max_open_positions"]) == (
        12,
        4,
    )


def test_kat_follows_the_running_systems_simulated_clock(
    start_sim: Callable[..., Sim], redis_url: str, kat: Kat
) -> None:
    """A simulated day runs (here the simulator, a service, on 2026-03-05 10:00 at 60x); a
    ``kat`` without a clock of its own acts on that day, not on the machine's date."""
    start_sim(CLOCK_START="2026-03-05T10:00:00+09:00", CLOCK_SPEED="60")
    done = subprocess.run(
        [sys.executable, "-m", "services.cli", "status"],
        env=service_env(redis_url),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    clock = datetime.fromisoformat(json.loads(done.stdout)["clock"])
    assert clock.date() == date(2026, 3, 5) and time_of_day(10) <= clock.time() < time_of_day(11)
    # Its own CLOCK_START still wins.
    assert json.loads(kat("status").stdout)["clock"].startswith("2026-03-03T08:0")


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("orders",), "no orders on 2026-03-03"),
        (("orders", "--status", "filled"), "no filled orders on 2026-03-03"),
        (("positions",), "no positions"),
        (("failed",), "no failed jobs"),
        (("picks", "show"), "no picks stored for 2026-03-03"),
    ],
)
def test_an_empty_listing_says_none(args: tuple[str, ...], said: str, kat: Kat) -> None:
    # Issue 20: an empty listing printed nothing at all, like a command that did not run.
    shown = kat(*args)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.strip() == said


def test_queues_say_when_no_worker_runs(kat: Kat) -> None:
    shown = kat("queues")
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.strip().splitlines()[-1] == "workers: none"


def test_a_closed_pipe_ends_quietly(redis_url: str) -> None:
    # Issue 20: `kat status | head` ended in a BrokenPipeError traceback.
    reader, writer = os.pipe()
    os.close(reader)  # the reader has gone before kat writes a byte: every write fails
    try:
        result = subprocess.run(
            [sys.executable, "-m", "services.cli", "status"],
            env=service_env(redis_url, **CLOCK, CLOCK_EPOCH=f"{time.time():.3f}"),
            cwd=ROOT,
            stdout=writer,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
            check=False,
        )
    finally:
        os.close(writer)
    assert result.stderr == ""
    assert result.returncode == 141  # 128 + SIGPIPE, as a shell reports a tool its pipe closed


def test_status_shows_when_a_flag_was_set_in_kst(kat: Kat) -> None:
    # Issue 20: the time a flag was set was printed as a raw Unix epoch.
    assert kat("pause", "--reason", "lunch").returncode == 0
    status = json.loads(kat("status").stdout)
    set_kst = datetime.fromisoformat(status["controls"]["paused"]["set_kst"])
    assert set_kst.utcoffset() == timedelta(hours=9)
    # On the system clock, as "clock" is (CLOCK_START, real speed): not today's real date.
    clock = datetime.fromisoformat(status["clock"])
    assert timedelta(0) <= clock - set_kst < timedelta(seconds=30), (clock, set_kst)


def test_a_dry_run_says_so_in_every_command(redis_url: str, kat: Kat) -> None:
    # docs/ARCHITECTURE.md, 'Dry run': `kat status` carries it, every command says it first.
    env = service_env(
        redis_url,
        **CLOCK,
        CLOCK_EPOCH=f"{time.time():.3f}",
        KIS_ENV="dryrun",
        KIS_APP_KEY="PSclidryrunkey0123456789abcdefghijklm",
        KIS_APP_SECRET="cli-dryrun-secret-" + "T" * 40,
        KIS_BASE_URL="http://127.0.0.1:9",
    )
    done = subprocess.run(
        [sys.executable, "-m", "services.cli", "status"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    status = json.loads(done.stdout)
    assert status["mode"] == "dryrun" and status["dry_run"] is True
    assert status["notice"].startswith("DRY RUN: live prices from the KIS real host")
    assert done.stderr.startswith("DRY RUN: ")
    assert "cli-dryrun-secret" not in done.stdout + done.stderr
    assert json.loads(kat("status").stdout)["dry_run"] is False


@pytest.mark.processes
def test_the_cli_starts_without_the_backtest() -> None:
    """Every command but ``kat backtest`` (healthchecks included, every few seconds) starts
    without the backtest's numpy and DuckDB and the replay's process machinery."""
    heavy = ("numpy", "duckdb", "shared.backtest.command", "shared.replay.command")
    code = f"import sys, services.cli.main; print([m for m in {heavy!r} if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
