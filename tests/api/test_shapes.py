"""The models are the API's shapes: what they do not name is never served, what they refuse is
answered as before, and the document is generated from them."""

from __future__ import annotations

import json

import pytest
import redis
from flask.testing import FlaskClient
from pydantic import BaseModel, ValidationError

from services.api import answers, inputs
from services.api.errors import Error
from shared.infra.redis_keys import Keys
from shared.state.money_limits import LIMIT_NAMES
from tests.api.conftest import TOKEN
from tests.api.day import Day

AUTH = {"Authorization": f"Bearer {TOKEN}"}


def test_the_limit_models_name_every_limit() -> None:
    assert list(inputs.LimitsChange.model_fields) == list(LIMIT_NAMES)
    assert list(answers.Limits.model_fields)[: len(LIMIT_NAMES)] == list(LIMIT_NAMES)


@pytest.mark.parametrize(
    ("model", "data"),
    [
        (answers.Health, {"status": "ok", "debug": True}),  # a field the document lacks
        (answers.Health, {"status": "fine"}),
        (
            answers.Pnl,
            {
                "account_profit": None,
                "unrealized": None,
                "realized_today": "5",
                "realized_today_net": 0,
                "day_change": None,
            },
        ),  # a number as text
        (answers.Service, {"service": "api", "instance": None, "role": None, "age": True}),
        (answers.Picks, {"date": "2026-3-3", "stored": False, "picks": [], "problems": []}),
        (
            answers.Position,
            {
                "code": "005930",
                "name": "n",
                "quantity": 1,
                "average_price": 71000.5,
                "buy_session": "2026-03-03",
                "held_sessions": 0,
                "opened_by": "x",
                "price": None,
                "value": None,
                "profit": None,
                "profit_rate": None,
            },
        ),
    ],
)
def test_an_answer_off_its_model_is_refused(model: type[answers.Answer], data: object) -> None:
    with pytest.raises(ValidationError):
        model.model_validate(data)


def test_every_answer_of_a_day_is_its_models_whole(client: FlaskClient, day: Day) -> None:
    # What is served is exactly the model's fields: dumping the validated answer changes nothing.
    for path, model in [
        ("/status", answers.Status),
        ("/picks", answers.Picks),
        ("/orders", answers.Orders),
        (f"/orders/{day.order_ids['sold']}", answers.Order),
        ("/positions", answers.Positions),
        ("/watchlist", answers.Watchlist),
        ("/queues", answers.Queues),
        ("/control/limits", answers.Limits),
    ]:
        served = client.get(path, headers=AUTH).get_json()
        assert model.model_validate(served).model_dump(mode="json") == served, path


@pytest.mark.parametrize("raw", ['"{\\"reason\\": \\"x\\"}"', "null", "7", "[]", "true"])
def test_a_note_that_is_not_an_object_is_refused(
    client: FlaskClient, redis_client: redis.Redis, raw: str
) -> None:
    response = client.post(
        "/control/pause", data=raw, content_type="application/json", headers=AUTH
    )
    assert response.status_code == 400
    assert response.get_json() == {"error": 'the body must be a JSON object like {"reason": "..."}'}
    assert not redis_client.hexists(Keys().control(), "paused")


def test_a_watchlist_off_its_model_is_shown_empty(
    client: FlaskClient, redis_client: redis.Redis
) -> None:
    row = {
        "code": "005930",
        "name": "삼성전자",
        "kind": "pick",
        "target": "70000",  # text
        "band_top": "71400",
        "average_price": None,
        "take_profit_above": None,
        "stop_loss_below": None,
        "price": 70500,
        "price_feed": "polling",
        "price_epoch": None,
        "distance_pct": 0.0,
        "next_decision": "buy",
        "on_stream": False,
    }
    written = {
        "written_kst": "2026-03-03T11:30:00+09:00",
        "quote_source": "polling",
        "stream_healthy": None,
        "stream_capacity": 0,
        "rows": [row],
    }
    redis_client.set(Keys().watchlist(), json.dumps(written))
    assert client.get("/watchlist").get_json()["rows"] == []
    redis_client.set(Keys().watchlist(), json.dumps(written | {"rows": [row | {"target": 70000}]}))
    [shown] = client.get("/watchlist").get_json()["rows"]
    assert shown["target"] == 70000


def test_the_document_comes_from_the_models(client: FlaskClient) -> None:
    doc = client.get("/openapi.json").get_json()
    schemas = doc["components"]["schemas"]
    models: list[type[BaseModel]] = [
        answers.Status,
        answers.Order,
        answers.Positions,
        answers.Watchlist,
        answers.Queues,
        answers.Limits,
        Error,
    ]
    for model in models:
        assert set(schemas[model.__name__]["properties"]) == set(model.model_fields), model
    order = doc["paths"]["/orders/{order_id}"]["get"]
    assert order["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Order"
    }
    pause = doc["paths"]["/control/pause"]["post"]["requestBody"]
    assert pause["required"] is False
    note = pause["content"]["application/json"]["schema"]
    assert note["properties"]["reason"]["maxLength"] == inputs.REASON_MAX_LENGTH
    assert note["additionalProperties"] is False
