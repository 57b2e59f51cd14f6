"""Screenshots of the status page in three moments of a simulated session, for docs/.

``python scripts/status_screens.py [--out docs/screens]`` runs the whole system as local
processes (a redis-server, the KIS simulator, the scheduler, the executor, the notifier without
a webhook, the status API; ``shared/infra/processes.py``) on a clock that starts at 09:00 and
runs ten times faster than real time, with two picks bought at the open. Then:

1. ``kis-unreachable.png``: the simulator is stopped, so KIS answers nothing, and the page says
   so (docs/ARCHITECTURE.md, 'When KIS does not answer');
2. ``after-flatten.png``: the simulator is back, ``POST /flatten`` sold every position and
   stopped new buys for the day (docs/ARCHITECTURE.md, 'Flatten');
3. ``after-resume.png``: ``POST /resume`` cleared that stop and says so.

Needs ``chromium`` (Debian's package) on PATH. Takes about two minutes.
"""

from __future__ import annotations

import argparse
import json
import secrets
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from shared.infra.clock import KST  # noqa: E402
from shared.infra.processes import SimulatedSystem, free_port, wait_until  # noqa: E402
from shared.infra.screenshot import page_screenshot  # noqa: E402
from shared.infra.settings import SIM_ACCOUNT  # noqa: E402

START = datetime(2026, 3, 3, 9, 0, tzinfo=KST)
SPEED = 10.0
PICKS = {"005930": ["삼성전자", 70000], "000660": ["SK하이닉스", 200000]}
PRICES = {"005930": [["09:00", 70000]], "000660": [["09:00", 200000]]}
WINDOW = "1280,1900"
SIM_ENV = {"SIM_TOKEN_THROTTLE_SECONDS": "0"}
"""A restarted simulator issues a token at once (it forgot the last one)."""


def screenshot(url: str, path: Path) -> None:
    """The page at ``url`` as a PNG, drawn by headless Chromium."""
    if not page_screenshot(url, path, WINDOW, timeout=60):
        raise SystemExit("chromium is needed: apt-get install chromium")
    print(f"wrote {path}")


def read(api: str, what: str) -> dict[str, Any]:
    answer: dict[str, Any] = requests.get(f"{api}/{what}", timeout=5).json()
    return answer


def held(api: str) -> int:
    return len(read(api, "positions")["positions"])


def kis_silent(api: str) -> bool:
    """Whether a service's heartbeat says KIS does not answer."""
    return any("KIS" in (s.get("problem") or "") for s in read(api, "status")["services"])


def wait(what: str, predicate: Callable[[], object], timeout: float = 90) -> None:
    wait_until(predicate, timeout, what)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screens")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="kat-screens-run-"))
    picks = folder / "picks.json"
    picks.write_text(json.dumps(PICKS, ensure_ascii=False), encoding="utf-8")
    token = secrets.token_hex(16)
    port = free_port()
    api = f"http://127.0.0.1:{port}"
    system = SimulatedSystem(folder, START, SPEED, aof=False)
    try:
        system.start_sim(lead_seconds=8, **SIM_ENV)
        system.admin("POST", "accounts", json={"account": SIM_ACCOUNT, "cash": 10_000_000})
        system.admin("POST", "prices", json=PRICES)
        system.start_services(
            ["scheduler", "executor", "notifier", "api"],
            PICKS_FILE=str(picks),
            API_PORT=str(port),
            STATUS_API_TOKEN=token,
            STATUS_API_CACHE_SECONDS="0",
        )
        wait("both picks bought", lambda: held(api) == 2, 120)

        assert system.sim is not None
        system.sim.kill()  # KIS answers nothing: connections refused
        wait("the page saying KIS does not answer", lambda: kis_silent(api), 120)
        time.sleep(2)
        screenshot(f"{api}/", args.out / "kis-unreachable.png")

        system.sim.process.wait(10)  # type: ignore[union-attr]
        system.sim.start()
        wait("KIS answering again", lambda: not kis_silent(api), 120)
        headers = {"Authorization": f"Bearer {token}"}
        flattened = requests.post(
            f"{api}/control/flatten",
            json={"reason": "screenshot of the page after a flatten"},
            headers=headers,
            timeout=10,
        )
        flattened.raise_for_status()
        wait("every position sold", lambda: held(api) == 0, 120)
        time.sleep(2)
        screenshot(f"{api}/", args.out / "after-flatten.png")

        resumed = requests.post(f"{api}/control/resume", headers=headers, timeout=10)
        resumed.raise_for_status()
        print(f"resume: {resumed.json()}")
        time.sleep(2)
        screenshot(f"{api}/", args.out / "after-resume.png")
    finally:
        system.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
