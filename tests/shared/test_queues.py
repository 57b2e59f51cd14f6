"""The queue contract: job ids, uniqueness, and jobs stored as JSON, never pickles."""

from __future__ import annotations

import json
import zlib
from datetime import date

import redis

from shared.kis.models import Side
from shared.messaging.events import BuyAttempt, notify
from shared.messaging.queues import (
    BUY_QUEUE,
    NOTIFY_QUEUE,
    SELL_QUEUE,
    enqueue_order,
    enqueue_reconcile,
    fetch_job,
    queue,
    queued_notifications,
)


def stored_payload(client: redis.Redis, job_id: str) -> object:
    raw = client.hget(f"rq:job:{job_id}", "data")
    assert raw is not None
    return json.loads(zlib.decompress(raw))


def test_an_order_job_is_json_with_the_order_id(redis_client: redis.Redis) -> None:
    assert enqueue_order(redis_client, "20260303-005930-buy-entry", Side.BUY)
    assert queue(redis_client, BUY_QUEUE).job_ids == ["20260303-005930-buy-entry"]
    payload = stored_payload(redis_client, "20260303-005930-buy-entry")
    assert payload == [
        "services.executor.jobs.place_order",
        None,
        ["20260303-005930-buy-entry"],
        {},
    ]


def test_an_order_is_queued_once(redis_client: redis.Redis) -> None:
    assert enqueue_order(redis_client, "20260303-005930-sell-stop_loss", Side.SELL)
    assert not enqueue_order(redis_client, "20260303-005930-sell-stop_loss", Side.SELL)
    assert queue(redis_client, SELL_QUEUE).job_ids == ["20260303-005930-sell-stop_loss"]


def test_reconcile_and_notify_jobs(redis_client: redis.Redis) -> None:
    job_id = enqueue_reconcile(redis_client, "2026-03-03", why="post-market")
    job = fetch_job(redis_client, job_id)
    assert job is not None and list(job.args) == ["2026-03-03"]
    attempt = BuyAttempt(date(2026, 3, 3), "005930", "삼성전자", price=70000, quantity=14)
    assert notify(redis_client, attempt)
    assert queue(redis_client, NOTIFY_QUEUE).jobs == []
    (event,) = queued_notifications(redis_client)
    assert event == {
        "event": "buy_attempt",
        "session": "2026-03-03",
        "code": "005930",
        "name": "삼성전자",
        "price": 70000,
        "quantity": 14,
    }
    assert fetch_job(redis_client, "no-such-job") is None
