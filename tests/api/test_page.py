"""The status page's HTML and chart, through the Flask test client (the browser test is apart)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import datetime, timedelta

import redis
from flask import Flask
from flask.testing import FlaskClient

from services.api import chart
from services.api.state import EquityPoint
from shared.infra.clock import KST, SystemClock
from shared.infra.redis_keys import Keys
from shared.kis import Side
from shared.state.account_cash import remember_orderable_cash
from shared.state.control import beat
from shared.state.order_book import OrderBook
from shared.trading.auctions import Auction, waiting_note
from shared.trading.market_calendar import KrxCalendar
from shared.trading.orders import OrderIntent, OrderStatus, Reason
from tests.api.day import NOW, SESSION, Day


def test_page_shows_the_day(client: FlaskClient, day: Day) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert 'id="session-date">2026-03-03<' in html
    assert 'id="phase">intraday<' in html
    assert 'id="paused">PAUSED<' in html
    assert html.count('class="position"') == 2
    assert html.count('class="order"') == 4
    assert html.count('class="service"') == 3
    assert "+88,000" in html  # 삼성전자's unrealised profit
    assert "−12,500" in html  # SK하이닉스's loss
    [points] = re.findall(r'<polyline class="line" points="([^"]+)"', html)
    assert len(points.split()) == day.equity_points
    assert 'http-equiv="refresh"' in html


def test_page_uses_only_local_assets(client: FlaskClient, day: Day) -> None:
    html = client.get("/").get_data(as_text=True)
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources, "the page links its stylesheet"
    for source in sources:
        assert source.startswith(("/", "data:")), source
    assert "<script" not in html
    css = client.get("/static/status.css")
    assert css.status_code == 200
    assert "url(" not in css.get_data(as_text=True)  # no remote font or image either


def test_empty_day_says_no_data_yet(client: FlaskClient) -> None:
    html = client.get("/").get_data(as_text=True)
    assert 'id="equity-empty"' in html
    assert "No data yet" in html
    assert "<polyline" not in html
    assert "No positions." in html
    assert "No orders today." in html


def _series(values: list[int], start: datetime) -> list[EquityPoint]:
    return [EquityPoint(start + timedelta(minutes=10 * i), v) for i, v in enumerate(values)]


def test_chart_geometry() -> None:
    session = KrxCalendar().session(SESSION)
    assert session is not None
    points = _series([100, 90, 120, 110], session.opens)
    drawn = chart.build(points, session)
    assert drawn is not None
    coords = [tuple(map(float, p.split(","))) for p in drawn.points.split()]
    assert len(coords) == 4
    assert coords[0][0] == chart.LEFT  # the open is the left edge
    xs = [x for x, _ in coords]
    assert xs == sorted(xs)
    assert all(drawn.left <= x <= drawn.right for x in xs)
    ys = [y for _, y in coords]
    assert ys[2] == min(ys)  # the highest value is the top-most point
    assert ys[1] == max(ys)
    assert all(drawn.top <= y <= drawn.bottom for y in ys)
    assert [t.label for t in drawn.x_ticks] == [f"{h:02d}:00" for h in range(9, 16)]
    assert drawn.y_ticks
    assert drawn.direction == "up"
    assert drawn.change == 10


def test_chart_of_a_flat_or_single_reading() -> None:
    one = chart.build(_series([10_000_000], datetime(2026, 3, 7, 12, 0, tzinfo=KST)), None)
    assert one is not None
    assert one.point_count == 1
    assert one.top <= one.last_y <= one.bottom
    assert chart.build([], None) is None


def test_closed_day(make_app: Callable[..., Flask]) -> None:
    client = make_app(CLOCK_START="2026-03-07T10:00:00+09:00").test_client()  # a Saturday
    status = client.get("/status").get_json()
    assert status["session"] is None
    assert status["phase"] == "closed"
    assert status["next_session"]["date"] == "2026-03-09"
    html = client.get("/").get_data(as_text=True)
    assert "no session (market closed)" in html
    assert 'id="phase">closed<' in html
    assert "No data yet" in html


def test_a_service_problem_is_a_banner_and_under_its_row(
    client: FlaskClient, day: Day, redis_client: redis.Redis
) -> None:
    """A heartbeat's ``problem`` (the notifier's webhook not there, ...) is said above the
    cards with since when, and under the service's row; ``/status`` carries it too."""
    since = datetime(2026, 3, 3, 10, 31, 5, tzinfo=KST).timestamp()
    problem = "Discord webhook not there (HTTP 404 Unknown Webhook code 10015): 3 messages held"
    beat(
        redis_client,
        Keys(),
        "notifier",
        "api-test-host-103-0a0b0c",
        healthy=False,
        problem=problem,
        problem_since_epoch=since,
    )
    html = client.get("/").get_data(as_text=True)
    [banner] = re.findall(r'<p class="banner" role="alert" id="problem-notifier">(.*?)</p>', html)
    assert "3 messages held" in banner and "since 2026-03-03 10:31:05 KST" in banner
    assert html.count('<tr class="problem">') == 1
    [notifier] = [s for s in client.get("/status").get_json()["services"] if s["problem"]]
    assert notifier["service"] == "notifier" and notifier["problem_since_epoch"] == since


def test_no_banner_without_a_problem(client: FlaskClient, day: Day) -> None:
    html = client.get("/").get_data(as_text=True)
    assert 'class="banner"' not in html and 'class="problem"' not in html


def figure(html: str, element_id: str) -> str:
    """The text of one element of the page, its tags dropped and its spaces collapsed."""
    [inner] = re.findall(rf'id="{element_id}"[^>]*>(.*?)</(?:dd|td|p|span)>', html, re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", inner).split())


def test_each_account_figure_shows_when_it_was_read(
    client: FlaskClient, day: Day, redis_client: redis.Redis
) -> None:
    # Issue 20: orderable cash read before a buy was shown under the later balance's time.
    remember_orderable_cash(redis_client, Keys(), 10_041_000, NOW - timedelta(minutes=10))
    html = client.get("/").get_data(as_text=True)
    assert figure(html, "orderable-cash") == "10,041,000 read 11:20:00"
    assert figure(html, "total-value") == "10,125,500 read 11:30:00"
    assert figure(html, "cash-d2") == "6,300,000 read 11:30:00"


def test_total_value_says_it_is_gross(client: FlaskClient, day: Day) -> None:
    html = client.get("/").get_data(as_text=True)
    assert "Total value (gross)" in html
    assert "before the fees and tax of selling" in html


WATCHED = {
    "written_kst": "2026-03-03T11:30:00+09:00",
    "quote_source": "polling",
    "stream_healthy": None,
    "stream_capacity": 40,
    "rows": [
        {
            "code": "000100",
            "name": "pick",
            "kind": "pick",
            "target": 200_000,
            "band_top": "210000.00",
            "average_price": None,
            "take_profit_above": None,
            "stop_loss_below": None,
            "price": 199_000,
            "price_epoch": None,
            "price_feed": "polling",
            "distance_pct": 0.503,
            "next_decision": "buy",
            "on_stream": False,
        },
        {
            "code": "000200",
            "name": "held",
            "kind": "position",
            "target": None,
            "band_top": None,
            "average_price": "210001.00",
            "take_profit_above": "220501.05",
            "stop_loss_below": "203700.97",
            "price": 210_000,
            "price_epoch": None,
            "price_feed": "balance",
            "distance_pct": 3.0,
            "next_decision": "stop_loss",
            "on_stream": False,
        },
    ],
}


def test_the_watchlist_writes_every_price_one_way(
    client: FlaskClient, redis_client: redis.Redis
) -> None:
    # Issue 20: "< 210000.00" beside "210,000".
    redis_client.set(Keys().watchlist(), json.dumps(WATCHED))
    html = client.get("/").get_data(as_text=True)
    bands = re.findall(r'<td class="num band">(.*?)</td>', html)
    assert bands == [
        "200,000 ≤ p &lt; 210,000",
        "&lt; 203,700.97 or &gt; 220,501.05",
    ]


def test_an_idle_page_says_what_it_has_not_got(client: FlaskClient) -> None:
    html = client.get("/").get_data(as_text=True)
    assert "None" not in html  # "Prices by None."
    assert "No watchlist yet" in html
    # The API answers this page; the simulator is at the address it is configured with.
    endpoints = dict(
        re.findall(
            r'<tr class="endpoint" data-service="([^"]+)">.*?<td class="state">(.*?)</td>',
            html,
            re.S,
        )
    )
    assert endpoints["api"] == "serving this page"
    assert endpoints["kis-sim"].startswith("down") or endpoints["kis-sim"] == "reachable"


def test_an_order_sent_for_fewer_shares_shows_both_counts(
    client: FlaskClient, redis_client: redis.Redis
) -> None:
    """A buy decided for 71 shares that KIS was asked for 68 (its buyable cash) is not shown as
    71 filled 68 'filled' without a word: the page says 68 of 71."""
    book = OrderBook(redis_client, Keys(), SystemClock())
    record = book.create(
        OrderIntent(SESSION, "005930", "삼성전자", Side.BUY, Reason.ENTRY, 71, 70_000)
    )
    assert record is not None
    book.transition(
        record.id, OrderStatus.PENDING, OrderStatus.SUBMITTING, attempts=1, sent_quantity=68
    )
    html = client.get("/").get_data(as_text=True)
    [row] = re.findall(rf'<tr class="order" data-id="{record.id}">.*?</tr>', html, re.S)
    cells = re.findall(r'<td class="num">(.*?)</td>', row, re.S)
    assert re.sub(r"<[^>]+>", "", cells[0]) == "68 of 71"


def test_an_order_waiting_for_an_auction_says_so(
    client: FlaskClient, day: Day, redis_client: redis.Redis
) -> None:
    """A stop-loss KIS holds for a volatility interruption's auction: accepted, and the page
    says what it waits for (docs/ARCHITECTURE.md, 'Auctions and volatility interruptions')."""
    book = OrderBook(redis_client, Keys(), SystemClock())
    intent = OrderIntent(SESSION, "000660", "SK하이닉스", Side.SELL, Reason.STOP_LOSS, 5, 176_000)
    record = book.create(intent)
    assert record is not None
    book.transition(record.id, OrderStatus.PENDING, OrderStatus.SUBMITTING, attempts=1)
    book.transition(
        record.id, OrderStatus.SUBMITTING, OrderStatus.ACCEPTED, broker_order_no="0000055555"
    )
    book.transition(
        record.id,
        OrderStatus.ACCEPTED,
        OrderStatus.ACCEPTED,
        waiting_for=Auction.VI.value,
        error_message=waiting_note(Auction.VI),
    )
    html = client.get("/").get_data(as_text=True)
    [row] = re.findall(rf'<tr class="order" data-id="{record.id}">(.*?)</tr>', html, re.S)
    assert "status-accepted" in row
    assert "accepted, waiting for the volatility interruption&#39;s auction" in row
    [answer] = [o for o in client.get("/orders").get_json()["orders"] if o["id"] == record.id]
    assert (answer["status"], answer["waiting_for"]) == ("accepted", "volatility_interruption")
