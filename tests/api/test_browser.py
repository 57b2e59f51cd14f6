"""The status page and the API docs in headless Chromium (Debian's chromium and chromium-driver,
via Selenium)."""

from __future__ import annotations

import shutil
import struct
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.wait import WebDriverWait

from tests.api.conftest import RunningApi, start_api, stop_api
from tests.conftest import RedisServer

pytestmark = pytest.mark.slow

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
WINDOW = (1280, 2000)
"""Tall enough for the whole page in one screenshot."""
RENDER_TIMEOUT_SECONDS = 30
"""How long Swagger UI may take to fetch the document and draw its operations."""


@pytest.fixture(scope="session")
def api(
    redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningApi]:
    running = start_api(redis_server, 4, tmp_path_factory.mktemp("api-browser"))
    yield running
    stop_api(running)


@pytest.fixture(scope="session")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[webdriver.Chrome]:
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        pytest.fail(
            "chromium and chromedriver are needed: apt-get install chromium chromium-driver"
        )
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--window-size={WINDOW[0]},{WINDOW[1]}",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}",
    ):
        options.add_argument(argument)
    # An explicit driver path: Selenium Manager must not try to download one.
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


def _text(driver: webdriver.Chrome, css: str) -> str:
    return str(driver.find_element(By.CSS_SELECTOR, css).text)


def test_status_page_in_chromium(
    api: RunningApi, browser: webdriver.Chrome, tmp_path: Path
) -> None:
    browser.get(f"{api.url}/")
    assert browser.title == "KIS auto-trader · sim"

    # Today's session and phase.
    assert _text(browser, "#session-date") == "2026-03-03"
    assert _text(browser, "#phase").lower() == "intraday"
    assert _text(browser, "#paused") == "PAUSED"

    # Positions with their P&L.
    positions = {
        row.get_attribute("data-code"): row
        for row in browser.find_elements(By.CSS_SELECTOR, "tr.position")
    }
    assert set(positions) == {"000660", "005930"}
    samsung = positions["005930"].find_element(By.CSS_SELECTOR, "td.pnl")
    assert samsung.text == "+88,000"
    assert "up" in (samsung.get_attribute("class") or "")
    assert positions["000660"].find_element(By.CSS_SELECTOR, "td.pnl").text == "−12,500"

    # Today's orders.
    statuses = [e.text for e in browser.find_elements(By.CSS_SELECTOR, "tr.order .status")]
    assert sorted(statuses) == ["filled", "filled", "pending", "rejected"]

    # Queue depths and service health.
    notify = browser.find_element(By.CSS_SELECTOR, 'tr.queue[data-queue="notifications"]')
    assert notify.find_element(By.CSS_SELECTOR, "td.queued").text == "2"
    services = [
        row.get_attribute("data-service")
        for row in browser.find_elements(By.CSS_SELECTOR, "tr.service")
    ]
    assert services == ["executor", "notifier", "scheduler"]
    assert "주문가능금액을 초과했습니다" in _text(browser, "#queues")

    # The chart: one polyline vertex per equity reading, drawn with a real size.
    polyline = browser.find_element(By.CSS_SELECTOR, "#equity-chart polyline")
    vertices = browser.execute_script("return arguments[0].points.numberOfItems;", polyline)
    assert vertices == api.day.equity_points
    box = browser.execute_script(
        "const b = arguments[0].getBBox(); return [b.width, b.height];", polyline
    )
    assert box[0] > 200  # 09:00-11:30 of the session's 6.5 h: about 40 % of the plot's width
    assert box[1] > 50
    rendered = browser.find_element(By.ID, "equity-chart").size
    assert rendered["width"] > 600
    assert rendered["height"] > 200
    assert browser.find_elements(By.CSS_SELECTOR, "#equity-chart .x-axis text")
    assert browser.find_elements(By.CSS_SELECTOR, "#equity-chart .y-axis text")

    # Every resource came from this server: no CDN, no remote font.
    entries = browser.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name);"
    )
    assert any(name.endswith("/static/status.css") for name in entries)
    page_host = urlsplit(api.url).netloc
    for name in entries:
        assert urlsplit(name).netloc == page_host, name
    stylesheet_rules = browser.execute_script("return document.styleSheets[0].cssRules.length;")
    assert stylesheet_rules > 10  # the stylesheet loaded and applied

    # A screenshot in which the chart is drawn.
    shot = tmp_path / "status-page.png"
    assert browser.save_screenshot(str(shot))
    data = shot.read_bytes()
    assert data.startswith(PNG_SIGNATURE)
    width, height = struct.unpack(">II", data[16:24])  # the IHDR chunk
    viewport = browser.execute_script(
        "return [innerWidth * devicePixelRatio, innerHeight * devicePixelRatio];"
    )
    assert [width, height] == viewport
    assert width >= 1200
    assert height >= 1500
    assert len(data) > 50_000
    chart_png = browser.find_element(By.ID, "equity-chart").screenshot_as_png
    assert chart_png.startswith(PNG_SIGNATURE)
    assert len(chart_png) > 5_000


def _all_local(browser: webdriver.Chrome, api: RunningApi) -> list[str]:
    """Every resource the page loaded, after checking each came from this server."""
    entries: list[str] = browser.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name);"
    )
    page_host = urlsplit(api.url).netloc
    for name in entries:
        assert urlsplit(name).netloc == page_host, name
    return entries


def test_api_docs_render_every_operation_offline(
    api: RunningApi, browser: webdriver.Chrome, tmp_path: Path
) -> None:
    document = requests.get(f"{api.url}/openapi.json", timeout=5).json()
    documented = sorted(
        (method.upper(), path) for path, item in document["paths"].items() for method in item
    )
    browser.get(f"{api.url}/docs")
    assert browser.title == "KIS auto-trader status API · docs"

    # Swagger UI fetches /openapi.json and draws one block per operation.
    WebDriverWait(browser, RENDER_TIMEOUT_SECONDS).until(
        lambda b: len(b.find_elements(By.CSS_SELECTOR, ".opblock")) >= len(documented)
    )
    drawn = sorted(
        (
            block.find_element(By.CSS_SELECTOR, ".opblock-summary-method").text,
            block.find_element(By.CSS_SELECTOR, ".opblock-summary-path").get_attribute("data-path"),
        )
        for block in browser.find_elements(By.CSS_SELECTOR, ".opblock")
    )
    assert drawn == documented
    assert "KIS auto-trader status API" in _text(browser, ".info .title")
    tags = [e.text for e in browser.find_elements(By.CSS_SELECTOR, ".opblock-tag")]
    assert {tag.split()[0] for tag in tags} == {"status", "control", "docs"}
    assert not browser.find_elements(By.CSS_SELECTOR, ".errors-wrapper")

    # Opening an operation shows its parameters and its answers from the models.
    orders = browser.find_element(By.CSS_SELECTOR, "#operations-status-api_orders_orders_get")
    orders.find_element(By.CSS_SELECTOR, ".opblock-summary").click()
    WebDriverWait(browser, RENDER_TIMEOUT_SECONDS).until(
        lambda _b: orders.find_elements(By.CSS_SELECTOR, "tr[data-param-name]")
    )
    parameters = {
        row.get_attribute("data-param-name")
        for row in orders.find_elements(By.CSS_SELECTOR, "tr[data-param-name]")
    }
    assert parameters == {"date", "status"}
    codes = {e.text for e in orders.find_elements(By.CSS_SELECTOR, ".response-col_status")}
    assert {"200", "400", "503"} <= codes

    # Swagger UI's script and stylesheet came from this app, not from a CDN.
    entries = _all_local(browser, api)
    assert any(name.endswith("/docs/static/js/swagger-ui-bundle.js") for name in entries)
    assert any(name.endswith("/docs/static/css/swagger-ui.css") for name in entries)
    assert any(name.endswith("/openapi.json") for name in entries)
    shot = tmp_path / "api-docs.png"
    assert browser.save_screenshot(str(shot))
    assert shot.read_bytes().startswith(PNG_SIGNATURE)


def test_a_narrow_window_clips_no_table(api: RunningApi, browser: webdriver.Chrome) -> None:
    # Issue 20: the queue table ran past its card (and the page past the window) on a phone.
    browser.set_window_size(420, WINDOW[1])
    try:
        browser.get(f"{api.url}/")
        overflow = browser.execute_script(
            """
            const page = document.documentElement;
            // A table in a .table-scroll box scrolls inside it; any other must fit its card.
            const past = [...document.querySelectorAll('.card table')].filter(t => {
              const card = t.closest('.card').getBoundingClientRect();
              return !t.closest('.table-scroll') && t.getBoundingClientRect().right > card.right;
            }).map(t => t.closest('.card').id);
            return [page.scrollWidth - page.clientWidth, past];
            """
        )
    finally:
        browser.set_window_size(*WINDOW)
    assert overflow == [0, []], overflow
