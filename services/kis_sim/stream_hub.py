"""What the simulator's WebSocket side shares with its REST side and the admin endpoints.

The REST side issues approval keys (each remembered with its app key, so the WebSocket can
refuse a second session of one app key), the ledger reports orders and fills (turned into fill
notices), and the admin flips the stream's fault switches. See services/kis_sim/README.md,
'WebSocket'.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from shared.broker.ledger import FillListener
from shared.broker.orders import Fill, Order

StreamFaultKind = Literal["drop", "silent"]
MAX_SILENT_SECONDS = 600.0


@dataclass
class StreamSwitches:
    """The stream's fault switches: ``drops`` counts drop requests (each open socket is cut
    once per request), ``silent_until_monotonic`` is when (``time.monotonic()``) the stream may
    send again."""

    drops: int = 0
    silent_until_monotonic: float = 0.0

    def silent(self) -> bool:
        """Whether the stream sends nothing right now."""
        return time.monotonic() < self.silent_until_monotonic


@dataclass
class StreamHub:
    """Approval keys, the fill listeners, the switches and the stream's counters."""

    approval_keys: dict[str, str] = field(default_factory=dict)
    """approval key -> the app key it was issued to."""
    listeners: list[FillListener] = field(default_factory=list)
    wakers: list[Callable[[], None]] = field(default_factory=list)
    """Told when prices were replaced (``/sim/prices``): the stream looks at once."""
    switches: StreamSwitches = field(default_factory=StreamSwitches)
    stats: Counter[str] = field(default_factory=Counter)
    sessions: int = 0
    """Sessions open right now."""
    registrations: int = 0
    """Registrations held right now, all sessions together."""

    def tell(self, order: Order, fill: Fill | None) -> None:
        """Pass an accepted order (``fill`` None) or a fill to every listener."""
        for listener in list(self.listeners):
            listener(order, fill)

    def prices_changed(self) -> None:
        """Wake every stream: a scripted path was replaced."""
        for wake in list(self.wakers):
            wake()

    def fault(self, kind: StreamFaultKind, seconds: float = 0.0) -> None:
        """``drop``: cut every open socket now; ``silent``: send nothing for ``seconds``."""
        if kind == "drop":
            self.switches.drops += 1
        else:
            self.switches.silent_until_monotonic = time.monotonic() + seconds

    def clear(self) -> None:
        """End a silence."""
        self.switches.silent_until_monotonic = 0.0

    def as_json(self) -> dict[str, object]:
        """The state shown by ``GET /sim/stream``."""
        return {
            "sessions": self.sessions,
            "registrations": self.registrations,
            "silent": self.switches.silent(),
            "drops": self.switches.drops,
            "counters": dict(self.stats),
        }
