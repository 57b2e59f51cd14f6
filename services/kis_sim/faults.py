"""Injected faults: the next N matching KIS requests fail in a chosen way (admin ``/sim/faults``).

- ``http_500``: a gateway-style HTML page with HTTP 500, nothing executed.
- ``slow``: wait ``delay_seconds`` (real time), then handle normally.
- ``malformed``: handle normally (an order IS placed), then send HTTP 200 with the JSON cut short.
- ``drop_response``: handle normally (an order IS placed), then close the connection unanswered
  (after ``delay_seconds`` when given, so the caller is left waiting on an executed order).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal, cast

FaultKind = Literal["http_500", "slow", "malformed", "drop_response"]
KINDS: tuple[FaultKind, ...] = ("http_500", "slow", "malformed", "drop_response")
MAX_DELAY_SECONDS = 600.0
"""Longest ``slow`` delay accepted."""

GATEWAY_PAGE = (
    b"<html>\r\n<head><title>500 Internal Server Error</title></head>\r\n<body>\r\n"
    b"<center><h1>500 Internal Server Error</h1></center>\r\n</body>\r\n</html>\r\n"
)
"""Body of an ``http_500`` fault: what a proxy in front of an API answers, not JSON."""


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
    path = data.get("path") or ""
    if not isinstance(path, str):
        raise ValueError("path must be a string")
    delay = data.get("delay_seconds", 0.0)
    if isinstance(delay, bool) or not isinstance(delay, int | float):
        raise ValueError("delay_seconds must be a number")
    if not 0 <= delay <= MAX_DELAY_SECONDS:
        raise ValueError(f"delay_seconds must be between 0 and {MAX_DELAY_SECONDS:g}")
    if kind == "slow" and delay <= 0:
        raise ValueError("a slow fault needs delay_seconds > 0")
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
