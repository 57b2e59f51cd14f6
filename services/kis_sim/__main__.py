"""``python -m services.kis_sim``: load config, set up logging, build the app and serve it.

``python -m services.kis_sim reset`` deletes the simulator's stored accounts (every Redis key
under ``SIM_REDIS_PREFIX``) and exits; the next start begins from blank accounts.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import threading
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from redis import Redis
from redis.exceptions import RedisError

from services.kis_sim.app import create_app
from services.kis_sim.config import load_config
from services.kis_sim.server import build_server
from services.kis_sim.simulator import Simulator
from services.kis_sim.store import AccountStore, MemoryStore, RedisStore, StoreError
from services.kis_sim.stream_server import StreamServer
from shared.infra.clock import Clock, build_clock
from shared.infra.service import Started, run_service
from shared.infra.settings import DRY_RUN_LABEL, ConfigError, Settings
from shared.trading.market_calendar import KrxCalendar

if TYPE_CHECKING:
    from shared.kis.client import KisQuotes  # imported in upstream_quotes: see upstream.py

logger = logging.getLogger("kis_sim")

SHUTDOWN_POLL_SECONDS = 0.1
"""How often the serving loop checks for a stop request (werkzeug's default is 0.5 s)."""

PARSER = argparse.ArgumentParser(
    prog="python -m services.kis_sim",
    description="A stand-in for KIS in KIS_ENV=sim, configured by the environment.",
)
PARSER.add_argument(
    "command",
    nargs="?",
    choices=["reset"],
    help="reset: delete the stored accounts (every key under SIM_REDIS_PREFIX) and exit",
)


def main(argv: list[str] | None = None) -> int:
    """Serve until SIGTERM or SIGINT (or ``reset`` the store); exit code 2 on bad usage or
    configuration, 1 when Redis or the port is unavailable."""
    return run_service("kis-sim", PARSER, _serve, argv=argv)


def _serve(started: Started) -> int:
    config = load_config(os.environ)
    settings = started.settings
    if started.args.command == "reset":
        return reset_store(settings.redis_url, config.redis_prefix)
    store: AccountStore = MemoryStore()
    if config.store == "redis":
        redis_store = RedisStore(Redis.from_url(settings.redis_url), config.redis_prefix)
        try:
            redis_store.check()
        except StoreError as e:
            logger.error(
                "SIM_STORE=redis but %s (REDIS_URL host %s); start Redis, or set "
                "SIM_STORE=memory to run without keeping accounts across restarts",
                e,
                _host(settings.redis_url),
            )
            return 1
        store = redis_store
    else:
        logger.warning("SIM_STORE=memory: accounts and orders are lost when the simulator stops")
    # A simulated clock without CLOCK_EPOCH is anchored in Redis too.
    redis = None
    if settings.clock_start is not None and settings.clock_epoch is None:
        redis = Redis.from_url(settings.redis_url)
    try:
        clock = build_clock(settings, redis, publish=True)
    except Exception as e:
        logger.error("cannot build the clock: %s", e)
        return 1
    finally:
        if redis is not None:
            redis.close()
    upstream = None
    if config.price_feed == "upstream":
        upstream = upstream_quotes(settings, clock)
    try:
        sim = Simulator(config, clock, KrxCalendar.from_settings(settings), store, upstream)
    except StoreError as e:
        logger.error("%s", e)
        return 1
    try:
        server = build_server(config.host, config.port, create_app(sim))
    except OSError as e:
        logger.error("cannot listen on %s:%d: %s", config.host, config.port, e)
        return 1

    stream: StreamServer | None = None
    if config.ws_port:
        stream = StreamServer(
            sim,
            config.host,
            config.ws_port,
            ping_seconds=config.ws_ping_seconds,
            tick_seconds=config.ws_tick_seconds,
            trades_per_minute=config.trades_per_minute,
        )
        try:
            stream.start()
        except OSError as e:
            # REST goes on: a client without its stream falls back to polling.
            logger.error("no WebSocket: cannot listen on %s:%d: %s", config.host, config.ws_port, e)
            stream = None

    # shutdown() waits for serve_forever() to return, which runs on the signalled (main) thread:
    # ask from another one.
    started.stop.on_request(lambda: threading.Thread(target=server.shutdown, daemon=True).start())
    if stream is not None:
        logger.info("KIS simulator WebSocket on ws://%s:%d", config.host, config.ws_port)
    if upstream is not None:
        logger.info(
            "%s: prices read from the KIS %s host %s (quotes only)",
            DRY_RUN_LABEL,
            settings.dryrun_quote_host,
            settings.base_url,
        )
    logger.info(
        "KIS simulator on http://%s:%d rules=%s profile=%s rate_limit=%d/s store=%s "
        "accounts=%d clock=%r now=%s",
        config.host,
        config.port,
        config.rules,
        config.profile,
        config.rate_limit,
        f"redis:{config.redis_prefix}" if config.store == "redis" else "memory",
        len(sim.ledger.accounts()),
        clock,
        clock.now().isoformat(),
    )
    server.serve_forever(poll_interval=SHUTDOWN_POLL_SECONDS)
    if stream is not None:
        stream.stop()
    logger.info("stopped")
    return 0


def upstream_quotes(settings: Settings, clock: Clock) -> KisQuotes:
    """The quote host of a dry run (KIS_ENV=dryrun), read-only, sharing the token and rate
    limiter of its app key through Redis with the services (docs/ARCHITECTURE.md, 'Dry run')."""
    if not settings.dry_run:
        raise ConfigError(
            "SIM_PRICE_FEED: upstream reads a dry run's quote host and needs KIS_ENV=dryrun"
            f" (with its app key and secret), not KIS_ENV={settings.kis_env}"
        )
    from shared.kis.client import build_quote_client  # a dry run's only (upstream.py)

    return build_quote_client(settings, Redis.from_url(settings.redis_url), clock)


def reset_store(redis_url: str, prefix: str) -> int:
    """Delete every key under ``prefix``; 0 on success, 1 when Redis is unreachable."""
    client = Redis.from_url(redis_url)
    try:
        RedisStore(client, prefix).check()
        keys = list(client.scan_iter(match=f"{prefix}*", count=500))
        if keys:
            client.delete(*keys)
    except (StoreError, RedisError) as e:
        logger.error("cannot reset the simulator's accounts: %s", e)
        return 1
    finally:
        client.close()
    print(f"deleted {len(keys)} simulator key(s) under {prefix!r} at {_host(redis_url)}")
    return 0


def _host(redis_url: str) -> str:
    # Never log a URL with its password: host and port only.
    parsed = urlsplit(redis_url)
    return f"{parsed.hostname}:{parsed.port or 6379}"


if __name__ == "__main__":
    sys.exit(main())
