"""No credential leaves the API: the account only masked; key, secret, webhook, token never."""

from __future__ import annotations

from collections.abc import Callable

import redis
from flask import Flask

from shared.infra.clock import build_clock
from shared.infra.redis_keys import Keys
from shared.kis.models import Side
from shared.state.order_book import OrderBook
from shared.trading.orders import OrderIntent, OrderStatus, Reason
from tests.api.conftest import ACCOUNT, APP_KEY, APP_SECRET, TOKEN, WEBHOOK, settings_for
from tests.api.day import SESSION, Day

SECRETS = {
    "KIS_APP_KEY": APP_KEY,
    "KIS_APP_SECRET": APP_SECRET,
    "KIS_ACCOUNT": ACCOUNT,
    "DISCORD_WEBHOOK_URL": WEBHOOK,
    "STATUS_API_TOKEN": TOKEN,
}
READ_PATHS = (
    "/",
    "/healthz",
    "/readyz",
    "/status",
    "/picks",
    "/orders",
    "/positions",
    "/queues",
    "/metrics",
    "/openapi.json",
    "/orders/nope",
    "/orders?date=bad",
)


def test_no_secret_in_any_answer(
    make_app: Callable[..., Flask], redis_client: redis.Redis, redis_url: str, day: Day
) -> None:
    # A broker message that quotes the account: the one place a secret could reach Redis.
    settings = settings_for(redis_url)
    book = OrderBook(redis_client, Keys(), build_clock(settings, redis_client))
    record = book.create(OrderIntent(SESSION, "000270", "기아", Side.BUY, Reason.MANUAL, 1, 1))
    assert record is not None
    book.transition(record.id, OrderStatus.PENDING, OrderStatus.SUBMITTING)
    book.transition(
        record.id,
        OrderStatus.SUBMITTING,
        OrderStatus.REJECTED,
        error_message=f"account {ACCOUNT} ({ACCOUNT.replace('-', '')}) has no such product",
    )
    app = make_app(**SECRETS)
    client = app.test_client()
    answers = {path: client.get(path) for path in READ_PATHS}
    answers[f"/orders/{record.id}"] = client.get(f"/orders/{record.id}")
    answers["/control/pause (wrong token)"] = client.post(
        "/control/pause", headers={"Authorization": "Bearer nope"}
    )
    for path, response in answers.items():
        assert response.status_code != 500, path  # /readyz is 503: no KIS here
        text = response.get_data(as_text=True)
        for name, secret in SECRETS.items():
            assert secret not in text, f"{name} in {path}"
        assert ACCOUNT.replace("-", "") not in text, path
    assert "******45-01" in answers["/status"].get_data(as_text=True)
    assert "******45-01" in answers["/"].get_data(as_text=True)
    assert (
        "account *** (***) has no such product"
        in answers[f"/orders/{record.id}"].get_json()["error_message"]
    )
