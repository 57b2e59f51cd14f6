"""The status page's HTML and chart, through the Flask test client (the browser test is apart)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta

import redis
from flask import Flask
from flask.testing import FlaskClient

from services.api import chart
from services.api.state import EquityPoint
from shared.infra.clock import KST
from shared.infra.redis_keys import Keys
from shared.state.control import beat
from shared.trading.market_calendar import KrxCalendar
from tests.api.day import SESSION, Day


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
