"""The read-only endpoints over a populated day, through the Flask test client."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient
from rq import Queue, SimpleWorker

from services.api import state
from services.api.context import ctx
from shared.infra.redis_keys import Keys
from shared.messaging.queues import ALL_QUEUES, NOTIFY_QUEUE, SELL_QUEUE, SERIALIZER
from shared.trading.orders import OrderStatus
from tests.api.conftest import kis_host
from tests.api.day import NOW, Day
from tests.conftest import free_port


def test_healthz_needs_nothing(make_app: Callable[..., Flask]) -> None:
    # Redis on a port where nothing listens: liveness must not depend on it.
    app = make_app(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    response = app.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


@pytest.fixture
def kis_listener() -> Iterator[str]:
    with kis_host() as url:
        yield url


def test_readyz_when_redis_and_kis_answer(
    make_app: Callable[..., Flask], kis_listener: str
) -> None:
    response = make_app(KIS_BASE_URL=kis_listener).test_client().get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ready", "checks": {"redis": "ok", "kis": "ok"}}


def test_readyz_names_what_is_down(make_app: Callable[..., Flask]) -> None:
    app = make_app(KIS_BASE_URL=f"http://127.0.0.1:{free_port()}")
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["error"] == "not ready: kis unreachable"
    assert body["checks"]["redis"] == "ok"
    assert body["checks"]["kis"].startswith("down: ")

    app = make_app(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    body = app.test_client().get("/readyz").get_json()
    assert body["checks"]["redis"].startswith("down: ")
    assert "redis" in body["error"]


def test_status_describes_the_day(client: FlaskClient, day: Day) -> None:
    response = client.get("/status")
    assert response.status_code == 200
    body = response.get_json()
    assert body["mode"] == "sim"
    assert body["account"] == "******00-01"  # the simulator's account, masked
    assert body["clock"].startswith("2026-03-03T11:3")
    assert body["today"] == "2026-03-03"
    assert body["session"] == {
        "date": "2026-03-03",
        "opens": "2026-03-03T09:00:00+09:00",
        "closes": "2026-03-03T15:30:00+09:00",
    }
    assert body["next_session"]["date"] == "2026-03-04"
    assert body["phase"] == "intraday"
    assert body["controls"]["paused"] is True
    assert body["controls"]["halted"] is False
    assert body["controls"]["flags"]["paused"]["reason"] == "lunch check"
    assert 0 < body["controls"]["flags"]["paused"]["set_epoch"] <= time.time()
    assert body["balance_kst"] == NOW.isoformat()
    services = {s["service"]: s for s in body["services"]}
    assert set(services) == {"scheduler", "executor", "notifier"}
    assert services["scheduler"]["role"] == "leader"
    assert 0 <= services["executor"]["age"] < 30
    assert body["cash_d2"] == 6_300_000
    assert body["total_value"] == 6_300_000 + 5 * 179_500 + 40 * 73_200
    assert body["pnl"]["day_change"] == body["total_value"] - 10_000_000
    assert body["pnl"]["realized_today"] == 110_000  # NAVER: 10 x (212,000 - 201,000)
    # Net: fees 282 (2,010,000 bought) + 297 (2,120,000 sold), tax 4,240 (0.20 % of the sale).
    assert body["pnl"]["realized_today_net"] == 110_000 - 282 - 297 - 4_240
    assert body["pnl"]["unrealized"] == 5 * (179_500 - 182_000) + 40 * (73_200 - 71_000)
    assert body["pnl"]["account_profit"] == 75_500
    assert body["pnl"]["day_change"] is not None
    assert body["orders_today"]["filled"] == 2
    assert body["orders_today"]["rejected"] == 1
    assert body["orders_today"]["pending"] == 1
    assert set(body["orders_today"]) == {s.value for s in OrderStatus}


def test_status_on_an_empty_system(client: FlaskClient) -> None:
    body = client.get("/status").get_json()
    assert body["services"] == []
    assert body["cash_d2"] is None
    assert body["pnl"] == {
        "account_profit": None,
        "unrealized": None,
        "realized_today": 0,
        "realized_today_net": 0,
        "day_change": None,
    }
    assert body["controls"] == {"paused": False, "halted": False, "flags": {}}


def test_picks_by_date(client: FlaskClient, day: Day) -> None:
    body = client.get("/picks").get_json()  # default: today's session
    assert body["date"] == "2026-03-03"
    assert body["stored"] is True
    assert [p["code"] for p in body["picks"]] == ["000660", "051910", "068270"]
    assert body["picks"][0] == {"code": "000660", "name": "SK하이닉스", "target": 180_000}
    other = client.get("/picks?date=2026-03-04").get_json()
    assert other == {"date": "2026-03-04", "stored": False, "picks": [], "problems": []}


def test_orders_of_the_day_and_by_status(client: FlaskClient, day: Day) -> None:
    body = client.get("/orders").get_json()
    assert body["date"] == "2026-03-03"
    assert body["status"] is None
    assert len(body["orders"]) == 4
    assert body["counts"]["filled"] == 2
    filled = client.get("/orders?date=2026-03-03&status=filled").get_json()
    assert filled["status"] == "filled"
    assert {o["id"] for o in filled["orders"]} == {day.order_ids["sold"], day.order_ids["bought"]}
    assert filled["counts"]["pending"] == 1  # counts stay those of the whole day
    earlier = client.get("/orders?date=2026-02-27").get_json()
    assert [o["code"] for o in earlier["orders"]] == ["005930"]


def test_one_order(client: FlaskClient, day: Day) -> None:
    body = client.get(f"/orders/{day.order_ids['rejected']}").get_json()
    assert body["status"] == "rejected"
    assert body["error_code"] == "APBK0952"
    assert body["side"] == "buy"
    assert [h[0] for h in body["history"]] == ["pending", "submitting", "rejected"]
    sold = client.get(f"/orders/{day.order_ids['sold']}").get_json()
    assert sold["filled_quantity"] == 10
    assert sold["average_fill_price"] == "212000"


@pytest.mark.parametrize(
    ("path", "status", "needle"),
    [
        ("/orders/20990101-000000-buy-entry", 404, "no order"),
        ("/orders/" + "x" * 101, 404, "no such order"),
        ("/orders?date=2026-3-3", 400, "YYYY-MM-DD"),
        ("/orders?date=2026-02-30", 400, "not a calendar date"),
        ("/orders?status=done", 400, "status must be one of"),
        ("/picks?date=yesterday", 400, "YYYY-MM-DD"),
        ("/no/such/path", 404, "not found"),
    ],
)
def test_bad_requests_get_a_json_4xx(
    client: FlaskClient, path: str, status: int, needle: str
) -> None:
    response = client.get(path)
    assert response.status_code == status
    assert response.mimetype == "application/json"
    assert needle in response.get_json()["error"]


def test_wrong_method_is_a_json_405_with_allow(client: FlaskClient) -> None:
    response = client.delete("/status")
    assert response.status_code == 405
    assert response.mimetype == "application/json"
    assert "GET" in response.headers["Allow"]
    assert "error" in response.get_json()


def test_redis_down_is_a_json_503(make_app: Callable[..., Flask]) -> None:
    app = make_app(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0", CLOCK_EPOCH="1772495400")
    for path in ("/status", "/orders", "/positions", "/queues"):
        response = app.test_client().get(path)
        assert response.status_code == 503, path
        assert response.get_json() == {"error": "Redis is unavailable; try again shortly"}
    page = app.test_client().get("/")
    assert page.status_code == 503
    assert "Redis is unavailable" in page.get_data(as_text=True)


def test_positions_with_pnl(client: FlaskClient, day: Day) -> None:
    body = client.get("/positions").get_json()
    rows = {p["code"]: p for p in body["positions"]}
    assert set(rows) == {"000660", "005930"}
    samsung = rows["005930"]
    assert samsung["quantity"] == 40
    assert samsung["average_price"] == "71000"
    assert samsung["buy_session"] == "2026-02-27"
    assert samsung["held_sessions"] == 1  # 2026-03-02 is a holiday
    assert samsung["price"] == 73_200
    assert samsung["value"] == 40 * 73_200
    assert samsung["profit"] == 88_000
    assert samsung["profit_rate"] == "3.10"
    assert rows["000660"]["profit"] == -12_500
    assert rows["000660"]["profit_rate"] == "-1.37"
    assert body["unrealized_profit"] == 75_500
    assert body["realized_profit_today"] == 110_000
    [naver] = body["realized_today"]
    assert naver["code"] == "035420"
    assert naver["reason"] == "take_profit"
    assert naver["profit_rate"] == "5.47"


def test_queues_show_counts_workers_and_failures(client: FlaskClient, day: Day) -> None:
    body = client.get("/queues").get_json()
    counts = {q["name"]: q for q in body["queues"]}
    assert list(counts) == list(ALL_QUEUES)
    assert counts[SELL_QUEUE]["failed"] == 1
    assert counts[SELL_QUEUE]["finished"] == 1
    assert counts[SELL_QUEUE]["queued"] == 0
    assert counts[NOTIFY_QUEUE]["queued"] == 2
    assert set(counts[SELL_QUEUE]) == {
        "name",
        "queued",
        "started",
        "scheduled",
        "deferred",
        "failed",
        "finished",
    }
    [failure] = body["failures"]
    assert failure["id"] == day.failed_job_id
    assert failure["enqueued_epoch"] <= failure["ended_epoch"] <= time.time()
    assert failure["queue"] == SELL_QUEUE
    assert failure["func"] == "tests.api.jobs.reject_order"
    assert failure["error"] == (
        "tests.api.jobs.OrderRejected: 주문가능금액을 초과했습니다 (APBK0952) "
        "for 20260303-051910-buy-entry"
    )
    assert body["workers"] == []  # the burst worker has gone


def test_queues_list_a_live_worker(
    client: FlaskClient, day: Day, redis_client: redis.Redis
) -> None:
    queue = Queue(NOTIFY_QUEUE, connection=redis_client, serializer=SERIALIZER)
    worker = SimpleWorker(
        [queue], connection=redis_client, serializer=SERIALIZER, name="notifier-1"
    )
    worker.register_birth()
    try:
        [listed] = client.get("/queues").get_json()["workers"]
    finally:
        worker.register_death()
    assert listed["name"] == "notifier-1"
    assert listed["queues"] == [NOTIFY_QUEUE]
    assert listed["current_job"] is None


def test_metrics_in_prometheus_text(client: FlaskClient, day: Day) -> None:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain; version=0.0.4")
    text = response.get_data(as_text=True)
    lines = set(text.splitlines())
    assert "kat_redis_up 1.0" in lines
    assert 'kat_orders{status="filled"} 2.0' in lines
    assert 'kat_orders{status="cancelled"} 0.0' in lines
    assert 'kat_kis_errors_total{code="EGW00201"} 3.0' in lines
    assert "kat_kis_token_issuances_total 2.0" in lines
    assert "kat_kis_rate_limit_waits_total 17.0" in lines
    assert f'kat_queue_jobs{{queue="{NOTIFY_QUEUE}",state="queued"}} 2.0' in lines
    assert f'kat_queue_jobs{{queue="{SELL_QUEUE}",state="failed"}} 1.0' in lines
    assert any(line.startswith('kat_heartbeat_age_seconds{instance="') for line in lines)
    healthy = [line for line in lines if line.startswith("kat_heartbeat_healthy{")]
    assert healthy and all(line.endswith(" 1.0") for line in healthy)
    assert 'kat_notifications{list="events"} 0.0' in lines
    assert 'kat_notifications{list="unconfirmed"} 0.0' in lines
    assert 'kat_control{flag="paused"} 1.0' in lines
    assert "# TYPE kat_kis_errors_total counter" in lines


def test_metrics_when_redis_is_down(make_app: Callable[..., Flask]) -> None:
    app = make_app(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    response = app.test_client().get("/metrics")
    assert response.status_code == 200
    assert "kat_redis_up 0.0" in response.get_data(as_text=True)


def test_openapi_describes_every_route(client: FlaskClient) -> None:
    doc = client.get("/openapi.json").get_json()
    assert doc["openapi"].startswith("3.1")
    documented = {
        (re.sub(r"\{(\w+)\}", r"<\1>", path), method.upper())
        for path, item in doc["paths"].items()
        for method in item
    }
    app = client.application
    served = {
        (rule.rule, method)
        for rule in app.url_map.iter_rules()
        if rule.endpoint.rpartition(".")[2] != "static"  # the page's and the docs' files
        for method in rule.methods or ()
        if method not in ("HEAD", "OPTIONS")
    }
    assert documented == served
    orders = doc["paths"]["/orders"]["get"]["parameters"]
    date_param = next(p for p in orders if p["name"] == "date")
    assert date_param["schema"]["pattern"] == "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
    status_param = next(p for p in orders if p["name"] == "status")
    status_schema = doc["components"]["schemas"][status_param["schema"]["$ref"].rpartition("/")[2]]
    assert status_schema["enum"] == [s.value for s in OrderStatus]
    for path, item in doc["paths"].items():
        for operation in item.values():
            secured = path.startswith("/control/")
            assert ("security" in operation) is secured, path
    assert doc["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


def test_equity_and_snapshot_readers_skip_garbage(
    client: FlaskClient, day: Day, redis_client: redis.Redis
) -> None:
    keys = Keys()
    garbage = {"not json": 1.0, json.dumps({"valued_kst": "x"}): 2.0}
    redis_client.zadd(keys.equity(day.session), garbage)
    page = client.get("/")
    assert page.status_code == 200
    redis_client.set(keys.account_snapshot(), "{broken")
    body = client.get("/status").get_json()
    assert body["cash_d2"] is None
    assert body["pnl"]["day_change"] is not None


def test_records_written_before_timestamps_named_their_clock_are_read(
    client: FlaskClient, day: Day, redis_client: redis.Redis
) -> None:
    """Redis keeps records across an upgrade (AOF): their old names (``at``, ``t``) still read,
    and the API serves them under the names that say their clock."""
    keys = Keys()
    snapshot = json.loads(redis_client.get(keys.account_snapshot()) or "{}")
    snapshot["at"] = snapshot.pop("read_kst")
    redis_client.set(keys.account_snapshot(), json.dumps(snapshot))
    redis_client.set(keys.orderable_cash(), json.dumps({"won": 1_234, "at": NOW.isoformat()}))
    redis_client.hset(keys.control(), "halted", json.dumps({"by": "cli", "reason": "", "at": 5.0}))
    beat_before = {"service": "scheduler", "instance": "old-host-1-abc", "at": time.time() - 2}
    redis_client.set(keys.heartbeat("scheduler", "old-host-1-abc"), json.dumps(beat_before))
    equity = [json.loads(m) for m in redis_client.zrange(keys.equity(day.session), 0, -1)]
    redis_client.delete(keys.equity(day.session))
    redis_client.zadd(
        keys.equity(day.session),
        {json.dumps({"t": p["valued_kst"], "value": p["value"]}): i for i, p in enumerate(equity)},
    )
    watchlist = {
        "at": NOW.isoformat(),
        "quote_source": "polling",
        "stream_healthy": None,
        "stream_capacity": 40,
        "rows": [],
    }
    redis_client.set(keys.watchlist(), json.dumps(watchlist))

    body = client.get("/status").get_json()
    assert (body["balance_kst"], body["orderable_cash_kst"]) == (NOW.isoformat(), NOW.isoformat())
    assert body["orderable_cash"] == 1_234
    assert body["controls"]["flags"]["halted"] == {"by": "cli", "reason": "", "set_epoch": 5.0}
    old = [s for s in body["services"] if s["instance"] == "old-host-1-abc"]
    assert len(old) == 1 and 2 <= old[0]["age"] < 30
    assert body["pnl"]["day_change"] == body["total_value"] - 10_000_000
    with client.application.app_context():
        points = state.equity_series(ctx(), day.session)
    assert [p.valued_kst.isoformat() for p in points] == [p["valued_kst"] for p in equity]
    assert client.get("/positions").get_json()["prices_kst"] == NOW.isoformat()
    assert client.get("/watchlist").get_json()["written_kst"] == NOW.isoformat()


def test_an_unexpected_error_is_a_json_500_without_details(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(_ctx: object) -> dict[str, object]:
        raise RuntimeError("internal detail that must not leak")

    monkeypatch.setattr(state, "status", broken)
    response = client.get("/status")
    assert response.status_code == 500
    assert response.get_json() == {"error": "internal error (logged by the API)"}
