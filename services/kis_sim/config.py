"""The simulator's own settings (``SIM_*`` variables), validated at start with one-line errors."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Literal

from services.kis_sim.auctions import Auctions
from services.kis_sim.listings import BUNDLED_LISTINGS, Listings, ListingsError, load_listings
from services.kis_sim.paths import PathError, ScriptedPaths, load_paths_file
from services.kis_sim.trades import MAX_TRADES_PER_MINUTE
from shared.infra.settings import (
    INTEGER_PATTERN,
    NUMBER_PATTERN,
    NUMBER_SHAPE,
    SIM_WS_PORT_OFFSET,
    ConfigError,
)
from shared.trading import costs

RuleSet = Literal["paper", "real"]
Profile = Literal["simple", "kis"]
Valuation = Literal["current", "upper_limit"]
Unlisted = Literal["walk", "unknown"]
StoreKind = Literal["redis", "memory"]
PriceFeed = Literal["walk", "upstream"]

DEFAULT_FEED_MAX_AGE_SECONDS = 1.0
"""SIM_FEED_MAX_AGE_SECONDS: see :attr:`SimConfig.feed_max_age_seconds`."""

DEFAULT_HOST = "0.0.0.0"  # noqa: S104 - a service in a container listens on every interface
"""Interface the simulator listens on."""
DEFAULT_PORT = 8001
"""TCP port (matches ``shared.infra.settings.SIM_BASE_URL``)."""
WS_PORT_OFFSET = SIM_WS_PORT_OFFSET
"""The WebSocket listens on SIM_PORT + this unless SIM_WS_PORT says otherwise (KIS, too,
streams on a port of its own)."""
DEFAULT_WS_PING_SECONDS = 10.0
"""Seconds between two PINGPONGs."""
DEFAULT_WS_TICK_SECONDS = 0.05
"""Real seconds between two looks at the prices of the registered codes."""
DEFAULT_SEED = 42
"""Seed of the price random walk."""
DEFAULT_INITIAL_CASH = 10_000_000
"""Cash in won of an account created on first use."""
DEFAULT_TOKEN_TTL_SECONDS = 86_400
"""Access-token lifetime in clock seconds (KIS: one day)."""
DEFAULT_TOKEN_THROTTLE_SECONDS = 60.0
"""Real seconds between two token issuances for one app key (KIS: one a minute)."""

DEFAULT_REDIS_PREFIX = "kis_sim:"
"""Prefix of every Redis key the simulator writes (its accounts survive a restart)."""
MAX_LAG_SECONDS = 3_600.0
"""Longest execution lag accepted."""

KIS_FEE_PCT = costs.KIS_FEE_PCT
"""The broker's fee of the ``kis`` profile (its source: :mod:`shared.trading.costs`)."""
KIS_SELL_TAX_PCT = costs.SELL_TAX_PCT
"""The sell tax of the ``kis`` profile (its source: :mod:`shared.trading.costs`)."""
KIS_SETTLEMENT_DAYS = 2
"""KRX settles on D+2 (official inquire_balance.py docstring: sold rows stay until D+2)."""

PROFILE_DEFAULTS: Mapping[str, tuple[Valuation, int, Decimal, Decimal, Unlisted]] = {
    "simple": ("upper_limit", 0, Decimal(0), Decimal(0), "walk"),
    "kis": ("upper_limit", KIS_SETTLEMENT_DAYS, KIS_FEE_PCT, KIS_SELL_TAX_PCT, "unknown"),
}
"""Per SIM_PROFILE: market-buy valuation, settlement days, fee %, sell tax %, unlisted codes.
``simple`` (the default) values market buys at the upper limit as KIS does and leaves out
settlement, fees, tax and unknown codes, so demo numbers stay round; ``kis`` is KIS as
documented. ``SIM_MARKET_BUY_VALUATION=current`` turns the upper-limit valuation off.
"""

RULE_DEFAULTS: Mapping[str, tuple[int, int, int]] = {
    "paper": (1, 20, 15),
    "real": (18, 50, 100),
}
"""Per rule set: requests per second, balance rows per page, execution rows per page."""


@dataclass(frozen=True)
class SimConfig:
    """Everything the simulator reads from ``SIM_*`` variables."""

    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    rules: RuleSet = "paper"
    rate_limit: int = 1
    balance_page_size: int = 20
    executions_page_size: int = 15
    seed: int = DEFAULT_SEED
    price_paths: ScriptedPaths | None = None
    initial_cash: int = DEFAULT_INITIAL_CASH
    token_ttl_seconds: int = DEFAULT_TOKEN_TTL_SECONDS
    token_throttle_seconds: float = DEFAULT_TOKEN_THROTTLE_SECONDS
    profile: Profile = "simple"
    market_buy_valuation: Valuation = "current"
    settlement_days: int = 0
    fee_pct: Decimal = field(default_factory=Decimal)
    sell_tax_pct: Decimal = field(default_factory=Decimal)
    unlisted_codes: Unlisted = "walk"
    execution_lag_seconds: float = 0.0
    store: StoreKind = "redis"
    redis_prefix: str = DEFAULT_REDIS_PREFIX
    ws_port: int = DEFAULT_PORT + WS_PORT_OFFSET
    """The WebSocket port (0: no WebSocket)."""
    ws_ping_seconds: float = DEFAULT_WS_PING_SECONDS
    ws_tick_seconds: float = DEFAULT_WS_TICK_SECONDS
    auctions: Auctions = field(default_factory=Auctions)
    """KRX's opening and closing single-price auctions (``SIM_AUCTIONS``)."""
    vi: bool = False
    """KRX's static and dynamic volatility interruptions (``SIM_VI``)."""
    limit_lock: bool = False
    """KRX's locked limits: no buy fills at the upper limit, no sell at the lower."""
    trades_per_minute: float = 0.0
    """Simulated trades a code a clock minute on the stream (0: a record per price change)."""
    listings: Listings = field(default_factory=load_listings)
    """The well-known codes: names, markets, price levels (``SIM_LISTINGS``)."""
    price_feed: PriceFeed = "walk"
    """``walk``: the seeded walk and scripted paths; ``upstream``: the quotes of the KIS host a
    dry run reads (docs/ARCHITECTURE.md, 'Dry run'), recorded as they are read."""
    feed_max_age_seconds: float = DEFAULT_FEED_MAX_AGE_SECONDS
    """Upstream feed: how old (real seconds) a code's last read may be when a request does not
    name that code (holdings, working orders); a code a request names is always read afresh."""


def load_config(environ: Mapping[str, str]) -> SimConfig:
    """The config from ``environ``, or :class:`ConfigError` naming the first bad variable."""
    rules = environ.get("SIM_RULES", "paper").strip() or "paper"
    if rules not in RULE_DEFAULTS:
        raise ConfigError(f"SIM_RULES: must be 'paper' or 'real', got {rules!r}")
    rate, balance_rows, execution_rows = RULE_DEFAULTS[rules]
    host = environ.get("SIM_HOST", DEFAULT_HOST).strip()
    if not host:
        raise ConfigError("SIM_HOST: must not be empty")
    paths_file = environ.get("SIM_PRICE_PATHS", "").strip()
    profile = _choice(environ, "SIM_PROFILE", ("simple", "kis"), "simple")
    valuation, days, fee, tax, unlisted = PROFILE_DEFAULTS[profile]
    prefix = environ.get("SIM_REDIS_PREFIX", DEFAULT_REDIS_PREFIX).strip()
    if not prefix:
        raise ConfigError("SIM_REDIS_PREFIX: must not be empty")
    port = _int(environ, "SIM_PORT", DEFAULT_PORT, 1, 65_534)
    return SimConfig(
        host=host,
        port=port,
        rules="real" if rules == "real" else "paper",
        rate_limit=_int(environ, "SIM_RATE_LIMIT", rate, 1, 100_000),
        balance_page_size=_int(environ, "SIM_BALANCE_PAGE_SIZE", balance_rows, 1, 1_000),
        executions_page_size=_int(environ, "SIM_EXECUTIONS_PAGE_SIZE", execution_rows, 1, 1_000),
        seed=_int(environ, "SIM_SEED", DEFAULT_SEED, -(2**63), 2**63 - 1),
        price_paths=_paths(paths_file) if paths_file else None,
        initial_cash=_int(environ, "SIM_INITIAL_CASH", DEFAULT_INITIAL_CASH, 0, 10**15),
        token_ttl_seconds=_int(
            environ, "SIM_TOKEN_TTL_SECONDS", DEFAULT_TOKEN_TTL_SECONDS, 1, 10 * 365 * 86_400
        ),
        token_throttle_seconds=_float(
            environ, "SIM_TOKEN_THROTTLE_SECONDS", DEFAULT_TOKEN_THROTTLE_SECONDS, 0.0, 86_400.0
        ),
        profile="kis" if profile == "kis" else "simple",
        market_buy_valuation=(
            "upper_limit"
            if _choice(environ, "SIM_MARKET_BUY_VALUATION", ("current", "upper_limit"), valuation)
            == "upper_limit"
            else "current"
        ),
        settlement_days=_int(environ, "SIM_SETTLEMENT_DAYS", days, 0, 5),
        fee_pct=_percent(environ, "SIM_FEE_PCT", fee),
        sell_tax_pct=_percent(environ, "SIM_SELL_TAX_PCT", tax),
        unlisted_codes=(
            "unknown"
            if _choice(environ, "SIM_UNLISTED_CODES", ("walk", "unknown"), unlisted) == "unknown"
            else "walk"
        ),
        execution_lag_seconds=_float(
            environ, "SIM_EXECUTION_LAG_SECONDS", 0.0, 0.0, MAX_LAG_SECONDS
        ),
        store="memory"
        if _choice(environ, "SIM_STORE", ("redis", "memory"), "redis") == "memory"
        else "redis",
        redis_prefix=prefix,
        ws_port=_int(environ, "SIM_WS_PORT", port + WS_PORT_OFFSET, 0, 65_535),
        ws_ping_seconds=_float(
            environ, "SIM_WS_PING_SECONDS", DEFAULT_WS_PING_SECONDS, 0.05, 600.0
        ),
        ws_tick_seconds=_float(
            environ, "SIM_WS_TICK_SECONDS", DEFAULT_WS_TICK_SECONDS, 0.005, 60.0
        ),
        auctions=Auctions(_choice(environ, "SIM_AUCTIONS", ("off", "on"), "off") == "on"),
        vi=_choice(environ, "SIM_VI", ("off", "on"), "off") == "on",
        limit_lock=_choice(environ, "SIM_LIMIT_LOCK", ("off", "on"), "off") == "on",
        trades_per_minute=_float(environ, "SIM_TRADES_PER_MINUTE", 0.0, 0.0, MAX_TRADES_PER_MINUTE),
        listings=_listings(environ.get("SIM_LISTINGS", "").strip() or str(BUNDLED_LISTINGS)),
        price_feed=(
            "upstream"
            if _choice(environ, "SIM_PRICE_FEED", ("walk", "upstream"), "walk") == "upstream"
            else "walk"
        ),
        feed_max_age_seconds=_float(
            environ, "SIM_FEED_MAX_AGE_SECONDS", DEFAULT_FEED_MAX_AGE_SECONDS, 0.0, 60.0
        ),
    )


def _choice(environ: Mapping[str, str], name: str, allowed: tuple[str, ...], default: str) -> str:
    value = environ.get(name, "").strip() or default
    if value not in allowed:
        raise ConfigError(f"{name}: must be one of {', '.join(allowed)}, got {value!r}")
    return value


def _percent(environ: Mapping[str, str], name: str, default: Decimal) -> Decimal:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    if not NUMBER_PATTERN.fullmatch(raw):
        raise ConfigError(f"{name}: {NUMBER_SHAPE}, got {raw!r}")
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise ConfigError(f"{name}: must be a percentage like 0.015, got {raw!r}") from None
    if not value.is_finite() or not 0 <= value <= 5:
        raise ConfigError(f"{name}: must be between 0 and 5 (percent), got {raw}")
    return value


def _int(environ: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    if not INTEGER_PATTERN.fullmatch(raw):
        raise ConfigError(f"{name}: must be a whole number in ASCII digits, got {raw!r}")
    value = int(raw)
    if not low <= value <= high:
        raise ConfigError(f"{name}: must be between {low} and {high}, got {value}")
    return value


def _float(environ: Mapping[str, str], name: str, default: float, low: float, high: float) -> float:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    if not NUMBER_PATTERN.fullmatch(raw):
        raise ConfigError(f"{name}: {NUMBER_SHAPE}, got {raw!r}")
    value = float(raw)
    if not low <= value <= high:  # also refuses nan
        raise ConfigError(f"{name}: must be between {low:g} and {high:g}, got {raw}")
    return value


def _paths(file_name: str) -> ScriptedPaths:
    path = Path(file_name)
    try:
        return load_paths_file(path)
    except OSError as e:
        raise ConfigError(f"SIM_PRICE_PATHS: cannot read {file_name}: {e.strerror}") from None
    except PathError as e:
        raise ConfigError(f"SIM_PRICE_PATHS: {file_name}: {e}") from None


def _listings(file_name: str) -> Listings:
    try:
        return load_listings(Path(file_name))
    except OSError as e:
        raise ConfigError(f"SIM_LISTINGS: cannot read {file_name}: {e.strerror}") from None
    except ListingsError as e:
        raise ConfigError(f"SIM_LISTINGS: {file_name}: {e}") from None
