"""Prices and quotes for every 6-digit code: the seeded walk unless a scripted path overrides it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Literal

from services.kis_sim.auctions import CLOSING_CALL, EPSILON, Auctions
from services.kis_sim.listings import Listings, load_listings
from services.kis_sim.paths import ScriptedPath, ScriptedPaths
from services.kis_sim.replay import ReplayBook, replay_points
from services.kis_sim.trades import trades_between
from services.kis_sim.vi import DYNAMIC_RATE_KOSPI200, DYNAMIC_RATE_OTHERS, ViWindow, vi_windows
from services.kis_sim.walk import DayPath, day_path, session_close
from shared.infra.clock import KST
from shared.trading.bars import Bar
from shared.trading.krx_ticks import lower_limit, tick_size, upper_limit
from shared.trading.market_calendar import KrxCalendar, Session

Side = Literal["buy", "sell"]


@dataclass(frozen=True)
class Quote:
    """What ``inquire-price`` reports, in won (volume in shares)."""

    code: str
    price: int
    base: int
    """stck_sdpr: the price at the previous session's close."""
    open: int
    high: int
    low: int
    volume: int
    upper: int
    lower: int
    vi: bool = False
    """A volatility interruption holds the price (``vi_cls_code`` Y)."""

    @property
    def tick(self) -> int:
        """aspr_unit for the current price."""
        return tick_size(self.price)

    @property
    def sign(self) -> str:
        """prdy_vrss_sign: 1 upper limit, 2 up, 3 unchanged, 4 lower limit, 5 down."""
        change = self.price - self.base
        if change > 0:
            return "1" if self.price >= self.upper else "2"
        if change < 0:
            return "4" if self.price <= self.lower else "5"
        return "3"

    def locked_against(self, side: Side) -> bool:
        """Whether ``side`` finds no counterpart at the price limit: buys at the upper limit
        (상한가), sells at the lower (하한가); KRX's limit-locked queue."""
        return self.price >= self.upper if side == "buy" else self.price <= self.lower


class Market:
    """Prices by code and moment; scripted paths can be replaced at runtime."""

    def __init__(
        self,
        seed: int,
        calendar: KrxCalendar,
        scripted: ScriptedPaths | None,
        listed_only: bool = False,
        listings: Listings | None = None,
        auctions: Auctions | None = None,
        vi: bool = False,
        live: bool = False,
    ) -> None:
        self._seed = seed
        self.live = live
        """Prices only as read from an upstream KIS host (:meth:`record`), never the walk: a
        code not read yet is unknown, as KIS answers a code it does not list."""
        self._vi = vi
        self._vi_cache: dict[tuple[str, date], tuple[ViWindow, ...]] = {}
        self.auctions = auctions or Auctions()
        """The auction hours: the price stands still in the closing call."""
        self.listings = listings if listings is not None else load_listings()
        """The well-known codes (names, markets, price levels)."""
        self._calendar = calendar
        self._listed_only = listed_only
        self._paths: dict[str, ScriptedPath] = {}
        self._names: dict[str, str] = {}
        self.replayed = ReplayBook()
        """Bars replayed through ``/sim/bars`` and halted days, for the chart TRs."""
        if scripted is not None:
            self.apply(scripted)

    @property
    def calendar(self) -> KrxCalendar:
        """The KRX calendar the market trades by."""
        return self._calendar

    def replay(self, bars: Iterable[Bar], halted: Mapping[str, Iterable[date]]) -> list[str]:
        """Replay stored bars: each minute bar becomes the scripted points of
        :func:`replay_points` (its path at :func:`shared.trading.bars.path_moments`), replacing
        the code's points of those days and its time-of-day points; daily bars and ``halted``
        days are kept for the chart TRs (docs/ARCHITECTURE.md, 'History'). Returns the codes."""
        bars = list(bars)
        self._vi_cache.clear()
        changed = self.replayed.add(bars, halted)
        points = replay_points(bars)
        for code, days in halted.items():
            points.setdefault(code, [])
            gone = set(days)
            path = self._paths.get(code)
            if path is not None:
                kept = [p for p in path.absolute if p[0].astimezone(KST).date() not in gone]
                self._paths[code] = ScriptedPath((), tuple(kept))
        for code, new in points.items():
            path = self._paths.get(code, ScriptedPath())
            days = {moment.astimezone(KST).date() for moment, _ in new}
            kept = [p for p in path.absolute if p[0].astimezone(KST).date() not in days]
            merged = ScriptedPath((), tuple(sorted([*kept, *new])))
            if merged.empty:
                self._paths.pop(code, None)
            else:
                self._paths[code] = merged
        return changed

    def path(self, code: str) -> ScriptedPath | None:
        """The scripted path of ``code``, if one drives it."""
        return self._paths.get(code)

    def walk_day(self, code: str, session: Session) -> DayPath:
        """The seeded walk of ``code`` through ``session``, minute by minute."""
        return self._day(code, session)

    def apply(self, scripted: ScriptedPaths) -> list[str]:
        """Set or replace the given codes' paths (an empty path drops one); returns the codes."""
        self._vi_cache.clear()
        for code, path in scripted.paths.items():
            if path.empty:
                self._paths.pop(code, None)
            else:
                self._paths[code] = path
        self._names.update(scripted.names)
        return sorted(scripted.paths)

    def record(self, code: str, moment: datetime, price: int, base: int) -> None:
        """Record an upstream quote of ``code`` read at ``moment``: its price holds from then
        on (a scripted point); ``base`` (the previous close, 기준가) becomes the price at the
        previous session's close, so the day's limits are KIS's. Points of earlier days go."""
        session = self._quote_session(moment)
        previous_close = self._calendar.previous_session(session.day).closes
        path = self._paths.get(code)
        points = sorted(p for p in (path.absolute if path else ()) if p[0] > previous_close)
        if not points or points[-1][1] != price:
            points.append((moment, price))
        self._vi_cache.clear()
        self._paths[code] = ScriptedPath((), ((previous_close, base), *sorted(points)))

    def name(self, code: str) -> str:
        """Display name: the scripted file's, else the real one of a listed code, else
        ``SIM<code>``."""
        return self._names.get(code) or self.listings.name(code) or f"SIM{code}"

    def is_listed(self, code: str) -> bool:
        """Whether ``code`` trades here: every 6-digit code, or with ``listed_only`` the
        well-known ones and those with a scripted path or name."""
        if self.live:
            return code in self._paths
        if not self._listed_only:
            return True
        known = code in self._paths or code in self._names or code in self.replayed.codes
        return known or code in self.listings.by_code

    def is_scripted(self, code: str) -> bool:
        """Whether a scripted path drives ``code``."""
        return code in self._paths

    def price(self, code: str, now: datetime) -> int:
        """The current price in won."""
        return self.quote(code, now).price

    def quote(self, code: str, now: datetime) -> Quote:
        """The full quote of ``code`` at ``now`` (aware)."""
        session = self._quote_session(now)
        now = self.auctions.trading_moment(session, now)
        window = self.vi_window(code, session, now)
        if window is not None:
            return replace(self._raw_quote(code, session, window.start - EPSILON), vi=True)
        return self._raw_quote(code, session, now)

    def vi_windows(self, code: str, session: Session) -> tuple[ViWindow, ...]:
        """The volatility interruptions of ``code`` in ``session`` (none unless ``SIM_VI``)."""
        if not self._vi:
            return ()
        key = (code, session.day)
        if key not in self._vi_cache:
            until = session.closes - CLOSING_CALL if self.auctions.enabled else session.closes
            path = self._paths.get(code)
            if path is not None:
                moments = [session.opens, *path.events(session.opens, until)]
                events = [(m, path.at(m)) for m in moments]
            else:
                day = self._day(code, session)
                minute = timedelta(minutes=1)
                events = [(session.opens + m * minute, p) for m, p in enumerate(day.prices)]
            rate = (
                DYNAMIC_RATE_KOSPI200
                if self.listings.market(code) == "KOSPI200"
                else DYNAMIC_RATE_OTHERS
            )
            seed = f"{self._seed}:{code}:{session.day.isoformat()}:vi"
            self._vi_cache[key] = vi_windows(events, rate, until, seed)
        return self._vi_cache[key]

    def vi_window(self, code: str, session: Session, moment: datetime) -> ViWindow | None:
        """The VI of ``code`` that covers ``moment``, if any."""
        return next((w for w in self.vi_windows(code, session) if w.covers(moment)), None)

    def _raw_quote(self, code: str, session: Session, now: datetime) -> Quote:
        path = self._paths.get(code)
        if path is not None:
            return self._scripted_quote(code, path, session, now)
        if self.live:
            return _quote(code, 0, 0, 0, 0, 0, 0)  # never read upstream: unknown, as at KIS
        return self._walk_quote(code, session, now)

    def first_crossing(
        self,
        code: str,
        side: Side,
        limit: int,
        start: datetime,
        end: datetime,
        locked_at: int | None = None,
    ) -> datetime | None:
        """The first moment in ``[start, end]`` at which a resting limit order would trade:
        the price at or below ``limit`` for a buy, at or above it for a sell; never at or
        beyond ``locked_at`` (a price limit where that side finds no counterpart)."""

        def crosses(price: int) -> bool:
            if side == "buy":
                return price <= limit and (locked_at is None or price < locked_at)
            return price >= limit and (locked_at is None or price > locked_at)

        session = self._calendar.session(start.astimezone(KST).date())
        path = self._paths.get(code)
        if path is not None:
            for moment in [start, *path.events(start, end)]:
                halted = session is not None and self.vi_window(code, session, moment)
                if crosses(path.at(moment)) and not halted:
                    return moment
            return None
        if session is None:
            return None
        low, high = max(start, session.opens), min(end, session.closes)
        if low > high:
            return None
        day = self._day(code, session)
        first, last = _minute(session, low, day), _minute(session, high, day)
        for m in range(first, last + 1):
            moment = max(low, session.opens + timedelta(minutes=m))
            if crosses(day.prices[m]) and not self.vi_window(code, session, moment):
                return moment
        return None

    def moves(self, code: str, start: datetime, end: datetime) -> list[tuple[datetime, int]]:
        """The moments in ``(start, end]`` at which ``code``'s price may change, each with the
        price from then on (the stream's ticks; consecutive equal prices are left in)."""
        path = self._paths.get(code)
        if path is not None:
            return [(moment, self.price(code, moment)) for moment in path.events(start, end)]
        session = self._calendar.session(end.astimezone(KST).date())
        if session is None:
            return []
        moments: list[datetime] = []
        low, high = max(start, session.opens - timedelta(seconds=1)), min(end, session.closes)
        minute = timedelta(minutes=1)
        moment = session.opens + minute * max(0, int((low - session.opens) // minute))
        while moment <= high:
            if moment > low:
                moments.append(moment)
            moment += minute
        return [(m, self.price(code, m)) for m in moments]

    def trades(
        self, code: str, start: datetime, end: datetime, per_minute: float
    ) -> list[tuple[datetime, int]]:
        """The simulated trades of ``code`` in ``(start, end]`` (:mod:`trades`): about
        ``per_minute`` a clock minute in the session, the walk's minute volume split among them."""
        session = self._calendar.session(end.astimezone(KST).date())
        if session is None or per_minute <= 0:
            return []
        day = self._day(code, session)

        def minute_volume(m: int) -> int:
            m = max(1, min(len(day.volumes) - 1, m + 1))
            return max(1, day.volumes[m] - day.volumes[m - 1])

        found = trades_between(self._seed, code, session, start, end, per_minute, minute_volume)
        return [
            t
            for t in found
            if not self.auctions.in_call(session, t[0]) and not self.vi_window(code, session, t[0])
        ]

    # ----------------------------------------------------------------------------------------
    def _quote_session(self, now: datetime) -> Session:
        # On a closed day a quote shows the last session, as KIS does over a weekend.
        today = now.astimezone(KST).date()
        return self._calendar.session(today) or self._calendar.previous_session(today)

    def _close(self, code: str, session: Session) -> int:
        return session_close(self._seed, code, session.day.toordinal(), self.listings.level(code))

    def _day(self, code: str, session: Session) -> DayPath:
        previous = self._calendar.previous_session(session.day)
        minutes = int((session.closes - session.opens).total_seconds() // 60)
        return day_path(
            self._seed,
            code,
            session.day.toordinal(),
            self._close(code, previous),
            self._close(code, session),
            minutes,
        )

    def _walk_quote(self, code: str, session: Session, now: datetime) -> Quote:
        day = self._day(code, session)
        base = day.base
        if now < session.opens:
            return _quote(code, base, base, base, base, base, 0)
        m = _minute(session, min(now, session.closes), day)
        return _quote(
            code, day.prices[m], base, day.prices[0], day.highs[m], day.lows[m], day.volumes[m]
        )

    def _scripted_quote(
        self, code: str, path: ScriptedPath, session: Session, now: datetime
    ) -> Quote:
        price = path.at(now)
        base = path.at(self._calendar.previous_session(session.day).closes)
        volume = 0
        if now < session.opens:
            return _quote(code, price, base, price, price, price, volume)
        until = min(now, session.closes)
        seen = [path.at(m) for m in [session.opens, *path.events(session.opens, until)]]
        seen.append(price)
        volume = 0 if self.live else self._walk_quote(code, session, now).volume
        return _quote(code, price, base, seen[0], max(seen), min(seen), volume)


def _minute(session: Session, moment: datetime, day: DayPath) -> int:
    elapsed = int((moment - session.opens).total_seconds() // 60)
    return max(0, min(len(day.prices) - 1, elapsed))


def _quote(code: str, price: int, base: int, open_: int, high: int, low: int, volume: int) -> Quote:
    return Quote(code, price, base, open_, high, low, volume, upper_limit(base), lower_limit(base))
