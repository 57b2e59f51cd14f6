"""KRX's single-price auctions, as the engine sees them: which one an unfilled order waits for.

See docs/ARCHITECTURE.md, 'Auctions and volatility interruptions'. During an auction KIS takes
orders and fills none; at its end every order its one price crosses fills at that price. The
opening call (30 minutes before the open) and the closing call (the last 10 minutes) follow from
the session's hours; a volatility interruption (VI) from the quote's ``vi_cls_code``. Pure.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from shared.trading.market_calendar import Session

OPENING_CALL = timedelta(minutes=30)
"""KRX takes orders for the opening auction this long before the open (08:30 on a regular day)."""
CLOSING_CALL = timedelta(minutes=10)
"""KRX's closing auction takes orders this long before the close (15:20 on a regular day); its
match is at the close."""


class Auction(StrEnum):
    """A single-price auction an accepted order may wait for."""

    OPENING = "opening"
    CLOSING = "closing"
    VI = "volatility_interruption"

    @property
    def label(self) -> str:
        """How a person reads it: "the closing auction"."""
        return {
            Auction.OPENING: "the opening auction",
            Auction.CLOSING: "the closing auction",
            Auction.VI: "the volatility interruption's auction",
        }[self]


def in_closing_call(moment: datetime, session: Session) -> bool:
    """Whether ``moment`` lies in the session's closing call (nothing trades until the close)."""
    return session.closes - CLOSING_CALL <= moment < session.closes


def auction_at(moment: datetime, session: Session | None, *, vi: bool) -> Auction | None:
    """The auction an order working at ``moment`` waits for, if any.

    ``vi``: the code's quote says a volatility interruption holds it. The closing call comes
    first: a VI that runs into it ends there and its orders join the closing auction.
    """
    if session is not None:
        if session.opens - OPENING_CALL <= moment < session.opens:
            return Auction.OPENING
        if in_closing_call(moment, session):
            return Auction.CLOSING
    return Auction.VI if vi else None


def waiting_note(auction: Auction) -> str:
    """The note of an order accepted and waiting for ``auction`` (the status page shows it)."""
    return f"accepted, waiting for {auction.label}"


def filled_note(auction: Auction) -> str:
    """The note of an order that waited for ``auction`` once shares of it filled."""
    return f"filled in {auction.label}"
