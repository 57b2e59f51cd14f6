"""Control endpoints: disabled without a token, 401 on a wrong one, effective with the right one."""

from __future__ import annotations

import ast
import inspect
import json
from collections.abc import Callable
from datetime import date

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient

from services.api import control
from shared.infra.redis_keys import Keys
from shared.messaging.queues import SELL_QUEUE, queue
from shared.state.control import HALTED, PAUSED, Controls
from shared.state.picks_store import stored_picks
from tests.api.conftest import TOKEN
from tests.api.day import Day

AUTH = {"Authorization": f"Bearer {TOKEN}"}
CONTROL_CALLS = [
    ("post", "/control/pause", None),
    ("post", "/control/resume", None),
    ("post", "/control/halt", None),
    ("put", "/control/picks/2026-03-04", {"005930": ["삼성전자", 70000]}),
    ("get", "/control/limits", None),
    ("put", "/control/limits", {"max_orders_per_day": 5}),
    ("post", "/control/flatten", None),
]


@pytest.mark.parametrize(("method", "path", "body"), CONTROL_CALLS)
def test_disabled_without_a_token(
    make_app: Callable[..., Flask], redis_client: redis.Redis, method: str, path: str, body: object
) -> None:
    app = make_app()  # no STATUS_API_TOKEN
    response = getattr(app.test_client(), method)(path, json=body, headers=AUTH)
    assert response.status_code == 404
    assert "STATUS_API_TOKEN" in response.get_json()["error"]
    assert redis_client.dbsize() == 0


@pytest.mark.parametrize(("method", "path", "body"), CONTROL_CALLS)
@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong-token"},
        {"Authorization": f"Bearer {TOKEN}x"},
        {"Authorization": f"Basic {TOKEN}"},
        {"Authorization": TOKEN},
        {"Authorization": "Bearer "},
    ],
    ids=["missing", "wrong", "longer", "basic", "no-scheme", "empty"],
)
def test_wrong_or_missing_token_is_401(
    client: FlaskClient,
    redis_client: redis.Redis,
    method: str,
    path: str,
    body: object,
    headers: dict[str, str],
) -> None:
    response = getattr(client, method)(path, json=body, headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert "error" in response.get_json()
    assert redis_client.dbsize() == 0


def test_pause_halt_resume(client: FlaskClient, redis_client: redis.Redis) -> None:
    controls = Controls(redis_client, Keys())
    body = client.post("/control/pause", json={"reason": "news at 10"}, headers=AUTH).get_json()
    assert body["paused"] is True
    assert body["halted"] is False
    assert controls.paused
    assert controls.active()[PAUSED]["by"] == "api"
    assert controls.active()[PAUSED]["reason"] == "news at 10"

    body = client.post("/control/halt", headers=AUTH).get_json()  # no body: no reason
    assert body == {"paused": True, "halted": True, "flags": controls.active()}
    assert controls.active()[HALTED]["reason"] == ""

    body = client.post("/control/resume", headers=AUTH).get_json()
    assert body == {
        "paused": False,
        "halted": False,
        "flags": {},
        "cleared": ["halted (by api)", "paused (by api: news at 10)"],
    }
    assert not controls.paused
    assert not controls.halted


@pytest.mark.parametrize(
    ("kwargs", "status", "needle"),
    [
        ({"data": "{not json", "content_type": "application/json"}, 400, "not valid JSON"),
        ({"data": "reason=x", "content_type": "text/plain"}, 415, "application/json"),
        ({"json": ["x"]}, 400, "JSON object"),
        ({"json": {"why": "x"}}, 400, "unknown field(s): why"),
        ({"json": {"reason": 5}}, 400, "reason must be text"),
        ({"json": {"reason": "x" * 201}}, 400, "at most 200"),
    ],
)
def test_bad_pause_bodies_are_refused(
    client: FlaskClient,
    redis_client: redis.Redis,
    kwargs: dict[str, object],
    status: int,
    needle: str,
) -> None:
    response = client.post("/control/pause", headers=AUTH, **kwargs)
    assert response.status_code == status
    assert needle in response.get_json()["error"]
    assert not Controls(redis_client, Keys()).paused


def test_upload_picks(client: FlaskClient, redis_client: redis.Redis) -> None:
    picks = {"005930": ["삼성전자", 70000], "000660": ["SK하이닉스", "180,000"]}
    response = client.put("/control/picks/2026-03-04", json=picks, headers=AUTH)
    assert response.status_code == 200
    body = response.get_json()
    assert body["stored"] is True
    assert [p["code"] for p in body["picks"]] == ["000660", "005930"]
    stored = stored_picks(redis_client, Keys(), date(2026, 3, 4))
    assert stored is not None
    assert {(p.code, p.name, p.target) for p in stored} == {
        ("005930", "삼성전자", 70000),
        ("000660", "SK하이닉스", 180000),
    }
    # Uploading again replaces, as the CLI's `picks load` does.
    client.put("/control/picks/2026-03-04", json={"035420": ["NAVER", 200000]}, headers=AUTH)
    again = stored_picks(redis_client, Keys(), date(2026, 3, 4))
    assert again is not None
    assert [p.code for p in again] == ["035420"]


def test_bad_picks_get_422_with_every_problem(
    client: FlaskClient, redis_client: redis.Redis
) -> None:
    picks = {"5930": ["삼성전자", 70000], "000660": ["", 0], "035420": ["NAVER"]}
    response = client.put("/control/picks/2026-03-04", json=picks, headers=AUTH)
    assert response.status_code == 422
    body = response.get_json()
    assert body["error"] == "picks refused, nothing stored"
    assert len(body["problems"]) == 3
    assert body["problems"][0].startswith("row 1 (code '5930'): code must be 6 digits")
    assert "name is empty" in body["problems"][1]
    assert "target must be a positive whole number" in body["problems"][1]
    assert "value must be [name, target], got 1 items" in body["problems"][2]
    assert redis_client.dbsize() == 0


@pytest.mark.parametrize(
    ("path", "kwargs", "status", "needle"),
    [
        ("/control/picks/2026-03-07", {"json": {"005930": ["삼성전자", 1]}}, 409, "not a KRX"),
        ("/control/picks/2026-13-01", {"json": {"005930": ["삼성전자", 1]}}, 400, "calendar date"),
        ("/control/picks/tomorrow", {"json": {"005930": ["삼성전자", 1]}}, 400, "YYYY-MM-DD"),
        ("/control/picks/2026-03-04", {}, 400, "JSON body is required"),
        ("/control/picks/2026-03-04", {"json": [1, 2]}, 422, "picks refused"),
        ("/control/picks/2026-03-04", {"json": {"005930": ["x" * 500_000, 1]}}, 422, "refused"),
        (
            "/control/picks/2026-03-04",
            {"data": "x" * (1024 * 1024 + 1)},
            413,
            "larger than the 1,048,576",
        ),
    ],
)
def test_picks_upload_refusals(
    client: FlaskClient,
    redis_client: redis.Redis,
    path: str,
    kwargs: dict[str, object],
    status: int,
    needle: str,
) -> None:
    response = client.put(path, headers=AUTH, **kwargs)
    assert response.status_code == status
    assert needle in response.get_json()["error"]
    assert redis_client.dbsize() == 0


def test_the_token_is_compared_in_constant_time() -> None:
    # Read the code path rather than time it: the check must go through hmac.compare_digest.
    source = inspect.getsource(control.token_matches)
    calls = {
        ast.unparse(node.func)
        for node in ast.walk(ast.parse(source.strip()))
        if isinstance(node, ast.Call)
    }
    assert "hmac.compare_digest" in calls
    guard = inspect.getsource(control.require_token)
    assert "token_matches(" in guard
    assert "==" not in guard
    assert control.token_matches(TOKEN, TOKEN)
    assert not control.token_matches(TOKEN[:-1], TOKEN)
    assert not control.token_matches("토큰", TOKEN)  # non-ASCII input must not raise


def test_control_responses_are_json(client: FlaskClient) -> None:
    response = client.post("/control/pause", headers=AUTH)
    assert response.mimetype == "application/json"
    json.loads(response.get_data(as_text=True))


def test_limits_shown_changed_kept_and_refused_whole(
    make_app: Callable[..., Flask], client: FlaskClient, redis_client: redis.Redis
) -> None:
    shown = client.get("/control/limits", headers=AUTH).get_json()
    assert shown | {"max_orders_per_day": 200, "max_order_krw": 50_000_000} == shown
    assert (shown["orders_today"], shown["entries_stopped"]) == (0, None)

    changed = client.put("/control/limits", json={"max_orders_per_day": 5}, headers=AUTH)
    assert changed.status_code == 200
    assert changed.get_json()["max_orders_per_day"] == 5

    # Another process with another setting reads the stored value (kept in Redis).
    other = make_app(STATUS_API_TOKEN=TOKEN, MAX_ORDERS_PER_DAY="7").test_client()
    assert other.get("/status").get_json()["limits"]["max_orders_per_day"] == 5

    for bad in (
        {"max_orders_per_day": 0, "max_order_krw": 1000},
        {"max_order_krw": 1.5},
        {"max_order_krw": True},
        {"max_order_krw": "1e3"},
        {"max_open_positions": 1001},
        {"daily_loss_limit_krw": 10**13},
        {"no_such_limit": 1},
    ):
        refused = client.put("/control/limits", json=bad, headers=AUTH)
        assert refused.status_code == 422, bad
        assert refused.get_json()["problems"], bad
    for not_an_object in ([1], {}, "5"):
        assert client.put("/control/limits", json=not_an_object, headers=AUTH).status_code == 400
    after = client.get("/control/limits", headers=AUTH).get_json()
    assert (after["max_orders_per_day"], after["max_order_krw"]) == (5, 50_000_000)


def test_flatten_queues_one_sell_per_position_once(
    client: FlaskClient, redis_client: redis.Redis, day: Day
) -> None:
    first = client.post("/control/flatten", json={"reason": "going home"}, headers=AUTH)
    assert first.status_code == 200
    body = first.get_json()
    assert body["session"] == "2026-03-03"
    assert sorted((p["code"], p["quantity"], p["outcome"]) for p in body["positions"]) == [
        ("000660", 5, "queued"),
        ("005930", 40, "queued"),
    ]
    again = client.post("/control/flatten", headers=AUTH).get_json()
    assert {p["outcome"] for p in again["positions"]} == {"already"}
    assert sorted(queue(redis_client, SELL_QUEUE).job_ids) == [
        "20260303-000660-sell-manual",
        "20260303-005930-sell-manual",
    ]
    limits = client.get("/control/limits", headers=AUTH).get_json()
    assert "flatten requested by api" in limits["entries_stopped"]
    page = client.get("/").get_data(as_text=True)
    assert 'id="entries-stopped"' in page and "flatten requested by api" in page
