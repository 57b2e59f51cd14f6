"""The ``processes`` mark, ``--fast`` (``make test-fast``) and the xdist groups
(docs/ARCHITECTURE.md, 'Tests').

A test is marked ``processes`` from the fixtures it uses (:data:`PROCESS_FIXTURES`, and whatever
depends on them), or by hand (``pytestmark = pytest.mark.processes``) when its own body starts
one. ``pytest --fast`` leaves the marked tests out and fails any other test that starts a process
anyway (a ``subprocess``, a fork, an exec): the mark cannot silently go stale.

Tests that must not overlap with each other share a group (:data:`SERIAL_GROUPS`): with
``--dist loadgroup`` a group's tests run one after another on one worker.
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import keyring.backend
import pytest
from xdist.scheduler import LoadScopeScheduling

PROCESS_FIXTURES = frozenset(
    {
        "redis_server",  # the session's redis-server (tests/conftest.py)
        "outage_redis",  # a redis-server a test stops and starts (tests/outage)
        "start_sim",  # a KIS simulator per call (tests/conftest.py)
        "sim_pool",  # the simulators a worker's tests share (tests/conftest.py)
        "scheduler_sim",  # one simulator per package (tests/scheduler)
        "start_notifier",  # notifier processes (tests/notifier)
        "image",  # docker compose build (tests/compose)
    }
)
"""Fixtures that start a process; a test that uses one (directly or through another fixture) is
marked ``processes``."""
SERIAL_GROUPS = {
    "tests/compose/": "docker",
    "tests/infra/test_compose.py": "docker",
    "tests/e2e/test_state_loss.py": "days-b",
    "tests/e2e/test_kis_unreachable.py": "days-b",
    "tests/e2e/test_auctions_day.py": "days-b",
    "tests/chaos/test_chaos_smoke.py": "days-c",
    "tests/e2e/test_dry_run.py": "days-c",
    "tests/e2e/test_track_record.py": "days-c",
    "tests/e2e/test_tick_buy.py": "days-c",
    "tests/e2e/": "days",
    "tests/api/test_schemathesis.py": "schemathesis",
}
"""Node-id prefixes whose tests run on one worker, one after another
(:class:`SerialGroupScheduling`):

- ``docker``: the compose tests share one Docker engine and its build cache, and the group builds
  the session's image once instead of once per worker;
- ``days``, ``days-b``, ``days-c``: whole simulated days at hundreds of times real speed, each
  several processes that must keep up with their clock: a day at a time in each group, so at
  most three at once (each day's clock is held until its processes are up,
  tests/e2e/conftest.py). A day mostly waits on its clock (about a quarter of a core), so the
  three groups, about 250 s each, are what keeps the suite's longest chain short;
- ``schemathesis``: its last test checks what the fuzzing tests before it covered, in this
  process."""
SHORT_LAST = (
    "tests/kis_client/",
    "tests/kis_sim/",
    "tests/scheduler/",
    "tests/shared/",
    "tests/infra/",
)
"""Node-id prefixes of folders of many short tests that keep a core busy: they run after the
others (:func:`pytest_collection_modifyitems`), so that the run ends on them and the workers
finish together with both cores busy. In collection order it ended on the notifier's, the
outages' and the stream's long tests, which mostly wait (locks, rate limits, timeouts), with a
core idle."""
SPAWN_EVENTS = frozenset(
    {
        "subprocess.Popen",
        "os.fork",
        "os.forkpty",
        "os.posix_spawn",
        "os.spawn",
        "os.system",
        "os.exec",
    }
)
"""Audit events (docs.python.org, 'Audit events table') that start a process."""


class ProcessInFastMode(RuntimeError):
    """A test left in by ``--fast`` started a process."""


class _Guard:
    """While ``active``, any process start is refused and remembered."""

    def __init__(self) -> None:
        self.active = False
        self.started: list[str] = []
        self.installed = False

    def audit(self, event: str, args: tuple[Any, ...]) -> None:
        if not self.active or event not in SPAWN_EVENTS:
            return
        what = f"{event} {args[1] if event == 'subprocess.Popen' else args[:1]!r}"
        self.started.append(what)
        raise ProcessInFastMode(f"--fast: this test started a process ({what})")


_GUARD = _Guard()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--fast",
        action="store_true",
        help="run only the tests that start no process (not marked 'processes'); "
        "one that starts a process anyway fails",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "processes: starts a process (set from its fixtures, tests/fast_mode.py); --fast leaves "
        "it out",
    )


def pytest_itemcollected(item: pytest.Item) -> None:
    if PROCESS_FIXTURES.intersection(getattr(item, "fixturenames", ())):
        item.add_marker(pytest.mark.processes)


def serial_group(nodeid: str) -> str | None:
    """The :data:`SERIAL_GROUPS` group of a test, if any."""
    return next((g for prefix, g in SERIAL_GROUPS.items() if nodeid.startswith(prefix)), None)


class SerialGroupScheduling(LoadScopeScheduling):  # type: ignore[misc]  # xdist has no types
    """``--dist loadgroup`` by :data:`SERIAL_GROUPS`: a group's tests are one unit of work (one
    worker, in order), any other test a unit of its own.

    xdist's own groups (the ``xdist_group`` mark) do nothing under pytest 9: xdist 3.8 puts the
    group into ``item._nodeid``, which pytest 9 no longer reads, so every test ran wherever."""

    def _split_scope(self, nodeid: str) -> str:
        return serial_group(nodeid) or nodeid

    def add_node_collection(self, node: Any, collection: Sequence[str]) -> None:
        super().add_node_collection(node, unique_nodeids(collection))


def unique_nodeids(collection: Sequence[str]) -> list[str]:
    """The collection with a repeated node id numbered (``id#2``, ``id#3``): schemathesis gives
    every operation's test the same id, and the scheduler finds a test by its id, so it would run
    the first of them once per operation (tests/api/test_schemathesis.py)."""
    seen: Counter[str] = Counter()
    unique = []
    for nodeid in collection:
        seen[nodeid] += 1
        unique.append(nodeid if seen[nodeid] == 1 else f"{nodeid}#{seen[nodeid]}")
    return unique


@pytest.hookimpl(tryfirst=True, optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> LoadScopeScheduling | None:
    if config.getvalue("dist") != "loadgroup":
        return None
    return SerialGroupScheduling(config, log)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Stable: each module's tests keep their order. Every xdist worker sorts its own collection
    # alike, and the scheduler hands out work in that order (the groups first, the largest).
    items.sort(key=lambda item: item.nodeid.startswith(SHORT_LAST))
    if not config.getoption("fast"):
        return
    kept = [item for item in items if item.get_closest_marker("processes") is None]
    if len(kept) < len(items):
        config.hook.pytest_deselected(
            items=[item for item in items if item.get_closest_marker("processes") is not None]
        )
        items[:] = kept


def pytest_sessionstart(session: pytest.Session) -> None:
    if session.config.getoption("fast"):
        load_library_probes()


def load_library_probes() -> None:
    """Run once, before any test, what a library does once per process by running a command:
    ``keyring`` loads its backends on first use, and its macOS backend looks for a C library with
    ``ldconfig``/``gcc`` (``ctypes.util.find_library``). Otherwise whichever test first reads the
    keyring would count as starting a process."""
    keyring.backend.get_all_keyring()


@contextmanager
def _guarded(config: pytest.Config) -> Iterator[None]:
    if not config.getoption("fast"):
        yield
        return
    if not _GUARD.installed:
        sys.addaudithook(_GUARD.audit)
        _GUARD.installed = True
    _GUARD.started.clear()
    _GUARD.active = True
    try:
        yield
    finally:
        _GUARD.active = False
    if _GUARD.started:
        pytest.fail(
            f"--fast: this test started a process ({'; '.join(_GUARD.started)}); "
            "mark it 'processes' (tests/fast_mode.py)",
            pytrace=False,
        )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Iterator[None]:
    with _guarded(item.config):
        return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    with _guarded(item.config):
        return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item) -> Iterator[None]:
    with _guarded(item.config):
        return (yield)
