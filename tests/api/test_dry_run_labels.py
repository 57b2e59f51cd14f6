"""A dry run's status API says DRY RUN: a header on every answer, a field of /status and a
banner on the page (docs/ARCHITECTURE.md, 'Dry run')."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask

from services.api.app import MODE_HEADER
from tests.api.conftest import TOKEN, kis_host
from tests.api.day import Day
from tests.conftest import free_port

APP_KEY = "PSapidryrunkey0123456789abcdefghijklm"


def test_every_answer_of_a_dry_run_says_so(make_app: Callable[..., Flask], day: Day) -> None:
    with kis_host() as quote_host, kis_host() as ledger:
        app = make_app(
            KIS_ENV="dryrun",
            KIS_APP_KEY=APP_KEY,
            KIS_APP_SECRET="api-dryrun-secret-" + "U" * 40,
            KIS_BASE_URL=quote_host,
            KIS_SIM_URL=ledger,
            STATUS_API_TOKEN=TOKEN,
        )
        client = app.test_client()
        status = client.get("/status")
        assert status.status_code == 200
        assert status.headers[MODE_HEADER] == "DRY RUN"
        assert status.get_json()["dry_run"] is True
        assert status.get_json()["mode"] == "dryrun"
        for path in ("/orders", "/positions", "/picks", "/openapi.json", "/healthz", "/nowhere"):
            assert client.get(path).headers[MODE_HEADER] == "DRY RUN", path
        refused = client.post("/control/pause")  # no token: refused, and still labelled
        assert refused.status_code == 401 and refused.headers[MODE_HEADER] == "DRY RUN"
        page = client.get("/").get_data(as_text=True)
        assert '<p class="banner dry-run" role="note" id="dry-run"><strong>DRY RUN</strong>' in page
        assert '<span class="badge mode-dryrun" id="mode">DRY RUN</span>' in page
        assert "<title>DRY RUN · " in page
        assert "KIS (real, quotes)" in page and "kis-sim (orders, the account)" in page
        assert APP_KEY not in page
        ready = client.get("/readyz")
        assert ready.status_code == 200, ready.get_json()
        assert ready.get_json()["checks"] == {"redis": "ok", "kis": "ok", "ledger": "ok"}
    # The ledger gone: not ready, and it says which.
    with kis_host() as quote_host:
        app = make_app(
            KIS_ENV="dryrun",
            KIS_APP_KEY=APP_KEY,
            KIS_APP_SECRET="api-dryrun-secret-" + "U" * 40,
            KIS_BASE_URL=quote_host,
            KIS_SIM_URL=f"http://127.0.0.1:{free_port()}",
        )
        gone = app.test_client().get("/readyz")
        assert gone.status_code == 503
        assert gone.get_json()["checks"]["ledger"].startswith("down")
        assert gone.headers[MODE_HEADER] == "DRY RUN"


def test_other_modes_name_themselves_and_show_no_banner(
    make_app: Callable[..., Flask], day: Day
) -> None:
    client = make_app().test_client()
    status = client.get("/status")
    assert status.headers[MODE_HEADER] == "sim"
    assert status.get_json()["dry_run"] is False
    assert "DRY RUN" not in client.get("/").get_data(as_text=True)
