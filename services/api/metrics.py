"""``/metrics``: Prometheus text read from Redis at each scrape, so every worker agrees."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

import redis
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from services.api import queues_view, state
from services.api.context import ApiContext
from shared.infra.redis_keys import app_key_id, text
from shared.messaging.queues import ALL_QUEUES
from shared.state.control import heartbeats, is_healthy
from shared.state.order_book import OrderBook
from shared.trading.orders import OrderStatus

log = logging.getLogger(__name__)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
"""Prometheus's text exposition format."""


class RedisCollector(Collector):
    """Every metric is read from Redis on each scrape: the API keeps no counters of its own.

    When Redis cannot be read, only ``kat_redis_up 0`` is exported (and the scrape still works),
    so an alert can tell "Redis down" from "API down".
    """

    def __init__(self, ctx: ApiContext) -> None:
        self._ctx = ctx

    def collect(self) -> Iterator[Metric]:
        started = time.monotonic()
        try:
            metrics = list(self._read())
            up = 1
        except redis.RedisError as e:
            log.warning("metrics: Redis unavailable: %s", e)
            metrics, up = [], 0
        yield GaugeMetricFamily("kat_redis_up", "1 when Redis answered this scrape.", value=up)
        yield from metrics
        yield GaugeMetricFamily(
            "kat_scrape_duration_seconds",
            "Time spent reading Redis for this scrape.",
            value=time.monotonic() - started,
        )

    def _read(self) -> Iterator[Metric]:
        api = self._ctx
        settings = api.settings
        env = settings.kis_env
        quote_env = settings.quote_env  # the token and limiter of the host quotes are read from
        key_id = app_key_id(settings.app_key)
        today = api.clock.now().date()

        orders = GaugeMetricFamily(
            "kat_orders", "Orders of today's session by status.", labels=["status"]
        )
        counts = dict.fromkeys(OrderStatus, 0)
        for record in OrderBook(api.redis, api.keys, api.clock).of_day(today):
            counts[record.status] += 1
        for status, count in counts.items():
            orders.add_metric([status.value], count)
        yield orders

        errors = CounterMetricFamily(
            "kat_kis_errors", "KIS error answers by message code (msg_cd).", labels=["code"]
        )
        by_code = {text(k): int(v) for k, v in api.redis.hgetall(api.keys.kis_errors(env)).items()}
        for code, times in sorted(by_code.items()):
            errors.add_metric([code], times)
        yield errors

        yield CounterMetricFamily(
            "kat_kis_token_issuances",
            "KIS access tokens issued for this app key.",
            value=int(api.redis.get(api.keys.token_issuances(quote_env, key_id)) or 0),
        )
        yield CounterMetricFamily(
            "kat_kis_rate_limit_waits",
            "Times a caller waited for a KIS rate-limit slot.",
            value=int(api.redis.get(api.keys.rate_waits(quote_env, key_id)) or 0),
        )

        depth = GaugeMetricFamily(
            "kat_queue_jobs", "RQ jobs per queue and state.", labels=["queue", "state"]
        )
        for name in ALL_QUEUES:
            for job_state, count in queues_view.counts(api.redis, name).items():
                depth.add_metric([name, job_state], count)
        yield depth

        waiting = GaugeMetricFamily(
            "kat_notifications",
            "Notifications per list: events not yet taken in, messages not yet posted, and "
            "messages Discord never confirmed (docs/ARCHITECTURE.md, 'Notifications').",
            labels=["list"],
        )
        for name, key in (
            ("events", api.keys.notify_events()),
            ("outbox", api.keys.outbox()),
            ("unconfirmed", api.keys.notify_unconfirmed()),
        ):
            waiting.add_metric([name], int(api.redis.llen(key)))
        yield waiting

        ages = GaugeMetricFamily(
            "kat_heartbeat_age_seconds",
            "Seconds since each live process last beat (gone after 30 s of silence).",
            labels=["service", "instance"],
        )
        healthy = GaugeMetricFamily(
            "kat_heartbeat_healthy",
            "1 while a live process says it works; 0 when a part of it is stuck.",
            labels=["service", "instance"],
        )
        for beat in heartbeats(api.redis, api.keys):
            labels = [str(beat["service"]), str(beat["instance"])]
            ages.add_metric(labels, float(beat["age"]))  # type: ignore[arg-type]
            healthy.add_metric(labels, int(is_healthy(beat)))
        yield ages
        yield healthy

        controls = state.controls(api)
        flags = GaugeMetricFamily("kat_control", "1 while a control flag is set.", labels=["flag"])
        flags.add_metric(["paused"], int(controls["paused"]))
        flags.add_metric(["halted"], int(controls["halted"]))
        yield flags

        snapshot = state.account_snapshot(api)
        if snapshot is not None:
            yield GaugeMetricFamily(
                "kat_account_value_won",
                "Total account value at the scheduler's last balance reading.",
                value=snapshot["total_value"],
            )
            yield GaugeMetricFamily(
                "kat_account_cash_d2_won",
                "Cash once every trade has settled (D+2) at the scheduler's last balance reading.",
                value=snapshot["cash_d2"],
            )


def build_registry(ctx: ApiContext) -> CollectorRegistry:
    """A registry of its own per app: the global one would mix apps (and tests) together."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(RedisCollector(ctx))
    return registry


def render(registry: CollectorRegistry) -> bytes:
    return generate_latest(registry)
