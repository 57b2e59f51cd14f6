"""Injected faults: the next N matching KIS requests fail in a chosen way (admin ``/sim/faults``).

- ``http_500``: a gateway-style HTML page with HTTP 500, nothing executed.
- ``slow``: wait ``delay_seconds`` (real time), then handle normally.
- ``malformed``: handle normally (an order IS placed), then send HTTP 200 with the JSON cut short.
- ``drop_response``: handle normally (an order IS placed), then close the connection unanswered
  (after ``delay_seconds`` when given, so the caller is left waiting on an executed order).
- ``http_500_after``: handle normally (an order IS placed and filled), then answer HTTP 500 with
  KIS's gateway error body ``EGW00002`` instead of the result: the answer lost on the way back.
- ``http_500_after_empty``: the same with an empty HTTP 500 body.
- ``rate_limited``: KIS's ``EGW00201`` (over the per-second limit) whatever the real rate,
  nothing executed: ``count`` of them in a row is an ``EGW00201`` storm.
- ``partial_fill``: the next marketable order fills in two executions: ``qty - qty // 2`` at
  once at the current price, the rest ``delay_seconds`` clock seconds later one tick worse.
- ``fill_lag``: the next order's fills reach the daily executions ``delay_seconds`` real seconds
  late (KIS paper lags seconds; ``SIM_EXECUTION_LAG_SECONDS`` does it for every order).

``partial_fill`` and ``fill_lag`` change an order, not an answer: their ``path`` defaults to
``order-cash``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal, cast, get_args

FaultKind = Literal[
    "http_500",
    "slow",
    "malformed",
    "drop_response",
    "http_500_after",
    "http_500_after_empty",
    "rate_limited",
    "partial_fill",
    "fill_lag",
]
KINDS = cast(tuple[FaultKind, ...], get_args(FaultKind))
"""Every fault kind, in the order the type lists them."""
ORDER_KINDS = frozenset({"partial_fill", "fill_lag"})
"""Kinds that shape the order itself (the TR handler applies them)."""
ORDER_PATH_PART = "order-cash"
"""Default ``path`` of the order kinds."""
MAX_DELAY_SECONDS = 600.0
"""Longest ``slow`` delay accepted."""

GATEWAY_PAGE = (
    b"<html>\r\n<head><title>500 Internal Server Error</title></head>\r\n<body>\r\n"
    b"<center><h1>500 Internal Server Error</h1></center>\r\n</body>\r\n</html>\r\n"
)
"""Body of an ``http_500`` fault: what a proxy in front of an API answers, not JSON."""
GATEWAY_ERROR = ("EGW00002", "서버 에러가 발생했습니다.")
"""Body code of ``http_500_after``: KIS's gateway "server error" code. The code is seen in
third-party KIS clients that map it to a server error (e.g. ``{"rt_cd":"1","msg_cd":"EGW00002",
"msg1":"서버 에러"}`` in Go client fixtures); the wording of msg1 is the simulator's."""


@dataclass
class Fault:
    """One armed fault."""

    kind: FaultKind
    remaining: int
    path: str = ""
    """Substring the request path must contain ("" matches every KIS request)."""
    delay_seconds: float = 0.0


def parse_fault(data: object) -> Fault:
    """A fault from the admin payload, or ValueError saying what is wrong."""
    if not isinstance(data, dict):
        raise ValueError("body must be a JSON object")
    kind = data.get("kind")
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}")
    count = data.get("count", 1)
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ValueError("count must be a whole number >= 1")
    path = data.get("path") or (ORDER_PATH_PART if kind in ORDER_KINDS else "")
    if not isinstance(path, str):
        raise ValueError("path must be a string")
    delay = data.get("delay_seconds", 0.0)
    if isinstance(delay, bool) or not isinstance(delay, int | float):
        raise ValueError("delay_seconds must be a number")
    if not 0 <= delay <= MAX_DELAY_SECONDS:
        raise ValueError(f"delay_seconds must be between 0 and {MAX_DELAY_SECONDS:g}")
    if kind in ("slow", "fill_lag") and delay <= 0:
        raise ValueError(f"a {kind} fault needs delay_seconds > 0")
    return Fault(cast(FaultKind, kind), count, path, float(delay))


class FaultBook:
    """Armed faults, first armed first used."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []

    def arm(self, fault: Fault) -> None:
        """Add a fault."""
        self._faults.append(fault)

    def clear(self) -> None:
        """Disarm every fault."""
        self._faults.clear()

    def take(self, path: str) -> Fault | None:
        """The first fault matching ``path``, with one use consumed."""
        for fault in self._faults:
            if fault.path in path:
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._faults.remove(fault)
                return fault
        return None

    def armed(self) -> list[dict[str, object]]:
        """The armed faults as JSON-ready dicts."""
        return [asdict(f) for f in self._faults]
