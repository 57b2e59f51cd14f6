"""Picks are accepted for today's session up to a few sessions ahead, never for other dates.

Issue 11: picks uploaded for ``0001-01-01`` or ``9999-12-31`` were accepted. The API's clock
reads 2026-03-03 11:30 KST (tests/api/day.py). See docs/ARCHITECTURE.md, 'Input limits'.
"""

from __future__ import annotations

import pytest
import redis
from flask.testing import FlaskClient

from shared.trading.picks import PICKS_SESSIONS_AHEAD
from tests.api.conftest import TOKEN

AUTH = {"Authorization": f"Bearer {TOKEN}"}
PICKS = {"005930": ["삼성전자", 70000]}


@pytest.mark.parametrize(
    ("day", "reason"),
    [
        ("0001-01-01", "in the past"),
        ("2026-03-02", "in the past"),
        ("9999-12-31", f"more than {PICKS_SESSIONS_AHEAD} sessions ahead"),
        ("2026-03-11", f"more than {PICKS_SESSIONS_AHEAD} sessions ahead"),
        ("2027-03-03", f"more than {PICKS_SESSIONS_AHEAD} sessions ahead"),
    ],
)
def test_picks_outside_the_window_are_refused_and_nothing_stored(
    client: FlaskClient, redis_client: redis.Redis, day: str, reason: str
) -> None:
    response = client.put(f"/control/picks/{day}", json=PICKS, headers=AUTH)
    assert response.status_code == 422, response.get_json()
    assert reason in response.get_json()["error"]
    assert redis_client.keys("kat:picks:*") == []


@pytest.mark.parametrize("day", ["2026-03-03", "2026-03-04", "2026-03-10"])
def test_today_and_the_next_sessions_are_accepted(client: FlaskClient, day: str) -> None:
    # 2026-03-10 is the fifth session after Tuesday 2026-03-03 (a weekend in between).
    response = client.put(f"/control/picks/{day}", json=PICKS, headers=AUTH)
    assert response.status_code == 200, response.get_json()
