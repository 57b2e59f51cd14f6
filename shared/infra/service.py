"""How every service process starts and stops: the common part of their ``__main__`` files.

:func:`run_service` parses the command line, loads the settings, sets up logging with every
secret redacted, installs the SIGTERM and SIGINT handlers, waits for Redis when the service
needs it at once, runs the service and returns its exit code:

- **2**: a configuration error (a :class:`ConfigError` from the settings or from the service's
  own start), said in one line on stderr; or bad command-line usage (argparse's own message);
- **1**: Redis went away for good in the middle of a start or a run
  (``stopped: Redis unavailable``), or whatever the service returns for a start it cannot make;
- **0**: a clean stop, after SIGTERM or SIGINT or at the end of a burst.

A signal logs ``received SIGTERM, stopping``, sets :class:`StopRequest` (loops wait on it) and
runs what the service asked to happen on a stop (:meth:`StopRequest.on_request`: a server's
shutdown, say). See docs/ARCHITECTURE.md, 'Processes'.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from types import FrameType

import redis

from shared.infra.logs import setup_logging
from shared.infra.redis_client import connect, until_redis_answers
from shared.infra.settings import ConfigError, Settings, load_settings

log = logging.getLogger(__name__)

CONFIG_ERROR_EXIT = 2
"""Exit code of a configuration error (and of bad usage, as argparse has it)."""
FAILED_EXIT = 1
"""Exit code of a service that stopped because Redis stayed away."""


class StopRequest(threading.Event):
    """Set by SIGTERM or SIGINT; what else a stop must do is added with :meth:`on_request`."""

    def __init__(self) -> None:
        super().__init__()
        self._actions: list[Callable[[], None]] = []

    def on_request(self, action: Callable[[], None]) -> None:
        """Run ``action`` in the signal handler, after the request is set, or now if a request
        came already (it may raise ``SystemExit`` to leave a blocking loop such as waitress's)."""
        self._actions.append(action)
        if self.is_set():
            action()

    def handle(self, signum: int, _frame: FrameType | None) -> None:
        """The SIGTERM and SIGINT handler."""
        log.info("received %s, stopping", signal.Signals(signum).name)
        self.set()
        for action in self._actions:
            action()


class Started:
    """What a service's run gets: its settings, its command line, the stop request, Redis."""

    def __init__(self, settings: Settings, args: argparse.Namespace, stop: StopRequest) -> None:
        self.settings = settings
        self.args = args
        self.stop = stop
        self._redis: redis.Redis | None = None

    @property
    def redis(self) -> redis.Redis:
        """The process's Redis client (``REDIS_URL``, riding out outages), made on first use."""
        if self._redis is None:
            self._redis = connect(self.settings.redis_url)
        return self._redis


def exit_now() -> None:
    """A stop action that leaves whatever the main thread runs, with exit code 0."""
    raise SystemExit(0)


def run_service(
    service: str,
    parser: argparse.ArgumentParser,
    run: Callable[[Started], int],
    *,
    argv: Sequence[str] | None = None,
    wait_for_redis: bool = False,
) -> int:
    """Start ``service`` and run it to its exit code (see the module's docstring).

    ``service`` names the process in every log line. ``wait_for_redis`` waits, a second at a
    time, until Redis answers before ``run`` (never exiting on its own: a Redis that is late to
    start is waited for); a stop meanwhile returns 0.
    """
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
    except ConfigError as e:
        return _config_error(e)
    setup_logging(service, settings.log_level, settings.secret_values())
    stop = StopRequest()
    signal.signal(signal.SIGTERM, stop.handle)
    signal.signal(signal.SIGINT, stop.handle)
    started = Started(settings, args, stop)
    try:
        if wait_for_redis and until_redis_answers(started.redis.ping, stop, "start") is None:
            return 0
        return run(started)
    except ConfigError as e:
        return _config_error(e)
    except redis.RedisError as e:
        log.error("stopped: Redis unavailable (%s)", e)
        return FAILED_EXIT


def _config_error(error: ConfigError) -> int:
    print(f"configuration error: {error.message}", file=sys.stderr)
    return CONFIG_ERROR_EXIT
