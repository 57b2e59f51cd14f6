"""``python -m services.kis_sim``: load config, set up logging, build the app and serve it."""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from types import FrameType

from redis import Redis

from services.kis_sim.app import create_app
from services.kis_sim.config import load_config
from services.kis_sim.server import build_server
from services.kis_sim.simulator import Simulator
from shared.clock import build_clock
from shared.logs import setup_logging
from shared.market_calendar import KrxCalendar
from shared.settings import ConfigError, load_settings

logger = logging.getLogger("kis_sim")

SHUTDOWN_POLL_SECONDS = 0.1
"""How often the serving loop checks for a stop request (werkzeug's default is 0.5 s)."""


def main() -> int:
    """Run until SIGTERM or SIGINT; exit code 2 on bad configuration."""
    try:
        config = load_config(os.environ)
        settings = load_settings()
    except ConfigError as e:
        print(str(e), file=sys.stderr)
        return 2
    setup_logging("kis-sim", settings.log_level, settings.secret_values())
    # Redis only anchors a simulated clock that has no CLOCK_EPOCH; the simulator keeps no
    # other state there.
    redis = None
    if settings.clock_start is not None and settings.clock_epoch is None:
        redis = Redis.from_url(settings.redis_url)
    try:
        clock = build_clock(settings, redis)
    except Exception as e:
        logger.error("cannot build the clock: %s", e)
        return 1
    finally:
        if redis is not None:
            redis.close()
    sim = Simulator(config, clock, KrxCalendar.from_settings(settings))
    try:
        server = build_server(config.host, config.port, create_app(sim))
    except OSError as e:
        logger.error("cannot listen on %s:%d: %s", config.host, config.port, e)
        return 1

    def stop(signum: int, _frame: FrameType | None) -> None:
        logger.info("received %s, stopping", signal.Signals(signum).name)
        # shutdown() waits for serve_forever() to return, which runs on this very thread:
        # ask from another one.
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    logger.info(
        "KIS simulator on http://%s:%d rules=%s rate_limit=%d/s clock=%r now=%s",
        config.host,
        config.port,
        config.rules,
        config.rate_limit,
        clock,
        clock.now().isoformat(),
    )
    server.serve_forever(poll_interval=SHUTDOWN_POLL_SECONDS)
    logger.info("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
