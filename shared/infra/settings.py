"""The one typed settings object for the configuration contract.

See docs/ARCHITECTURE.md, 'Configuration'.

Built by :func:`load_settings` (cached by callers, never at import). A missing or bad value stops
the process with one line naming the variable: :class:`ConfigError`.
"""

from __future__ import annotations

import ipaddress
import os
import re
import socket
import sys
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal, get_args
from urllib.parse import urlsplit

from pydantic import (
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, DotEnvSettingsSource, NoDecode, SettingsConfigDict

from shared.infra import credentials

KisEnv = Literal["sim", "paper", "real", "dryrun"]
QuoteHost = Literal["paper", "real"]

SIM_BASE_URL = "http://127.0.0.1:8001"
"""Where the simulator listens by default in a local run."""
PAPER_BASE_URL = "https://openapivts.koreainvestment.com:29443"
"""KIS 모의투자 REST host."""
REAL_BASE_URL = "https://openapi.koreainvestment.com:9443"
"""KIS 실전 REST host."""
PAPER_WS_URL = "ws://ops.koreainvestment.com:31000"
"""KIS 모의투자 WebSocket host."""
REAL_WS_URL = "ws://ops.koreainvestment.com:21000"
"""KIS 실전 WebSocket host."""
SIM_WS_PORT_OFFSET = 1
"""The simulator's WebSocket listens on its REST port plus this by default (KIS, too, streams
on a port of its own): 8002 beside 8001."""

DEFAULT_RATE_LIMITS: dict[str, float] = {"paper": 1.0, "real": 18.0}
"""KIS REST requests per second per app key (2026-04-20 notice), by rules."""

MONEY_LIMIT_MAX_KRW = 10**12
"""Largest amount a money limit in won may be set to (a trillion won)."""

DRY_RUN_LABEL = "DRY RUN"
"""What every page, answer, command and message says in KIS_ENV=dryrun."""

SIM_ACCOUNT = "50000000-01"
"""Account used in sim mode when none is configured."""
SIM_APP_KEY = "SIMULATOR-APP-KEY"
"""App key used in sim mode when none is configured (the simulator accepts any)."""
SIM_APP_SECRET = "SIMULATOR-APP-SECRET"  # noqa: S105 - not a secret: the simulator's demo value
"""App secret used in sim mode when none is configured."""

PLACEHOLDER_PATTERN = re.compile(
    r"^(your[-_].*|change[-_]?me.*|<.*>|x{4,}.*|placeholder.*|12345678-01|00000000-00)$",
    re.IGNORECASE,
)
"""Values shaped like the examples in ``.env.example``: refused so a copied example never runs."""

# Shapes are ASCII on purpose: Python's ``\d`` also matches full-width and other Unicode digits,
# and every pattern is used with ``fullmatch`` (``$`` would let a trailing newline through).
ACCOUNT_PATTERN = re.compile(r"[0-9]{8}-[0-9]{2}")
"""KIS_ACCOUNT: 8 digits (CANO), a dash, 2 digits (ACNT_PRDT_CD)."""
HTS_ID_PATTERN = re.compile(r"[A-Za-z0-9_.-]{1,32}")
"""KIS_HTS_ID: the HTS user id, letters, digits and ``_.-`` only."""
REDIS_PREFIX_PATTERN = re.compile(r"[A-Za-z0-9_:.-]{1,64}")
"""REDIS_PREFIX: what a Redis key pattern can carry without escaping."""
NUMBER_PATTERN = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?")
"""A number setting as written: ASCII digits, a point, an exponent. Python's own parsing also
takes ``1_000`` and full-width digits (``１２``), which no one means in a configuration file."""
INTEGER_PATTERN = re.compile(r"[+-]?[0-9]+")
"""A whole-number setting as written: ASCII digits with an optional sign."""
NUMBER_SHAPE = "must be a number written in ASCII digits, like 1000 or 0.5 (no '_' or full-width)"
"""The refusal of a number that does not match :data:`NUMBER_PATTERN`."""
CREDENTIAL_PATTERN = re.compile(r"[!-~]{1,512}")
"""App key and secret: visible ASCII only (no space, newline or control character)."""
STATUS_TOKEN_MIN_LENGTH = 32
"""Shortest STATUS_API_TOKEN accepted (``openssl rand -hex 16`` gives 32 characters)."""
WEBHOOK_PATH_PATTERN = re.compile(r"/api/webhooks/[0-9]{1,32}/[A-Za-z0-9_-]{1,128}")
"""The path of a Discord webhook URL: ``/api/webhooks/<id>/<token>``."""
DISCORD_HOSTS = frozenset(
    {"discord.com", "discordapp.com", "canary.discord.com", "ptb.discord.com"}
)
"""Discord's own webhook hosts."""
SPECIAL_SESSION_PATTERN = re.compile(
    r"([0-9]{4}-[0-9]{2}-[0-9]{2})=([0-9]{2}:[0-9]{2})-([0-9]{2}:[0-9]{2})"
)
EARLIEST_CLOCK = datetime(2000, 1, 1, tzinfo=UTC)
"""CLOCK_START and CLOCK_EPOCH lie after this moment..."""
LATEST_CLOCK = datetime(2100, 1, 1, tzinfo=UTC)
"""...and before this one: a year-9999 clock overflows the first date arithmetic."""


KIS_DOMAIN = "koreainvestment.com"
"""KIS's own domain: every host under it runs on the real clock, whatever it resolves to."""

REHEARSAL_NETWORKS = tuple(
    ipaddress.ip_network(n)
    for n in ("127.0.0.0/8", "::1/128", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")
)
"""Where a simulated clock may meet KIS_ENV=paper or real: loopback and private ranges only."""

REHEARSAL_TARGETS = "127.0.0.0/8, ::1, 10/8, 172.16/12, 192.168/16, localhost"
"""The same list, as the refusal message shows it."""

Resolver = Callable[[str], list[str]]
"""Host name -> every address it resolves to (raises OSError when it resolves to nothing)."""


def resolve_host(host: str) -> list[str]:
    """Every address ``host`` resolves to, through the system's resolver."""
    return sorted({str(info[4][0]) for info in socket.getaddrinfo(host, None)})


def rehearsal_refusal(base_url: str, resolve: Resolver = resolve_host) -> str | None:
    """Why a simulated clock may not run against ``base_url`` in paper or real mode, or None.

    Rehearsal (README.md, "Rehearsal") runs real mode's own paths on a simulated clock, so the
    endpoint must be something that cannot be KIS: a loopback or private address literal,
    ``localhost``, or a single-label name (a compose service such as ``kis-sim``) whose every
    address is loopback or private. Names with a dot are refused without a lookup: a public DNS
    name can point anywhere, and KIS's own hosts are such names.
    """
    host = (urlsplit(base_url).hostname or "").lower()
    if not host:
        return f"{base_url!r} names no host"
    if host == KIS_DOMAIN or host.endswith("." + KIS_DOMAIN):
        return f"{host} is KIS itself, which always runs on the real clock"
    if host == "localhost":
        return None
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return None if _rehearsal_address(host) else f"{host} is not a loopback or private address"
    if "." in host:
        return f"{host} is a DNS name (only localhost and single-label names like kis-sim are)"
    try:
        addresses = resolve(host)
    except OSError:
        return f"{host} does not resolve"
    if not addresses:
        return f"{host} resolves to nothing"
    public = [a for a in addresses if not _rehearsal_address(a)]
    if public:
        return f"{host} resolves to {', '.join(public)}, not a private address"
    return None


def _rehearsal_address(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    return any(ip in network for network in REHEARSAL_NETWORKS)


ENV_FILE_VARIABLE = "KAT_ENV_FILE"
"""Names the dotenv file to read (default ``.env`` in the working directory; empty for none)."""


class ConfigError(SystemExit):
    """A setting is missing or wrong; the message is one line naming the variable."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class Settings(BaseSettings):
    """Every setting of every service. Field ``foo_bar`` is read from the variable ``FOO_BAR``."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        env_ignore_empty=True,
        extra="ignore",
        frozen=True,
        # NaN and infinity pass every ``gt``/``le`` bound test or break the arithmetic after it.
        allow_inf_nan=False,
    )

    # KIS -------------------------------------------------------------------------------------
    kis_env: KisEnv = "sim"
    kis_base_url: str | None = None
    kis_sim_url: str = SIM_BASE_URL
    kis_app_key: SecretStr | None = None
    kis_app_secret: SecretStr | None = None
    kis_account: str | None = Field(default=None, repr=False)
    kis_hts_id: str | None = Field(default=None, repr=False)
    real_trading_confirm: str = ""
    kis_rate_limit: float | None = Field(default=None, gt=0, le=100)
    kis_rate_margin_seconds: float = Field(default=0.005, ge=0, le=1)
    kis_connect_timeout_seconds: float = Field(default=3.05, gt=0, le=60)
    kis_read_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    kis_order_tr_ids: Literal["current", "legacy"] = "current"
    kis_use_hashkey: bool = False
    kis_token_refresh_minutes: float = Field(default=10.0, ge=0, le=600)
    kis_retry_backoff_seconds: float = Field(default=0.25, gt=0, le=60)
    kis_token_issue_interval_seconds: float = Field(default=60.0, ge=0, le=3600)
    sim_rules: Literal["paper", "real"] = "paper"
    dryrun_quote_host: QuoteHost = "real"
    """KIS_ENV=dryrun: the KIS host quotes and the stream are read from (docs/ARCHITECTURE.md,
    'Dry run'); orders and the account stay with the local ledger at KIS_SIM_URL."""

    # Infrastructure --------------------------------------------------------------------------
    redis_url: str = "redis://127.0.0.1:6379/0"
    redis_prefix: str = "kat:"
    discord_webhook_url: SecretStr | None = None
    status_api_token: SecretStr | None = None
    picks_file: Path | None = None
    picks_dir: Path | None = None
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    notify_language: Literal["ko", "en"] = "ko"

    # Clock and calendar ----------------------------------------------------------------------
    clock_start: datetime | None = None
    clock_speed: float = Field(default=1.0, gt=0, le=10_000)
    clock_epoch: float | None = Field(
        default=None, ge=EARLIEST_CLOCK.timestamp(), lt=LATEST_CLOCK.timestamp()
    )
    clock_hold: bool = False
    """Hold the simulated clock at CLOCK_START until its anchor is written in Redis (docs/
    ARCHITECTURE.md, 'The clock'): the tests start a day once every process is up."""
    krx_extra_closed: Annotated[tuple[date, ...], NoDecode] = ()
    krx_special_sessions: Annotated[dict[date, tuple[time, time]], NoDecode] = Field(
        default_factory=dict
    )

    # Trading rules (docs/ARCHITECTURE.md, 'Phases of the day') ------------------------------
    sell_scope: Literal["bot", "all"] = "bot"
    take_profit_pct: Decimal = Field(default=Decimal("5"), gt=0, le=1000)
    stop_loss_pct: Decimal = Field(default=Decimal("-3"), lt=0, gt=-100)
    buy_band_ratio: Decimal = Field(default=Decimal("1.05"), gt=1, le=2)
    expiry_sessions: int = Field(default=5, ge=1, le=250)
    buy_cutoff_minutes: int = Field(default=15, ge=1, le=360)
    preclose_cutoff_minutes: int = Field(default=10, ge=0, le=360)
    expiry_sells_in: Literal["preclose", "closing_auction"] = "preclose"
    """When the five-session rule's sells go to KIS (docs/ARCHITECTURE.md, 'Auctions and
    volatility interruptions'): market orders in the pre-close window, before the closing call
    (the default), or limit orders at the day's lower limit in the closing call, matched at the
    close."""

    # Engine ----------------------------------------------------------------------------------
    order_stale_seconds: float = Field(default=30.0, gt=0, le=3600)
    order_absence_grace_seconds: float = Field(default=5.0, ge=0, le=600)
    buy_limit_wait_seconds: float = Field(default=2.0, ge=0, le=600)
    fee_pct: Decimal = Field(default=Decimal("0.0140527"), ge=0, le=5)
    """KIS's fee, % of each fill (default and source: shared/trading/costs.py)."""
    sell_tax_pct: Decimal = Field(default=Decimal("0.20"), ge=0, le=5)
    """Transaction tax on sells, % (default and source: shared/trading/costs.py)."""
    scheduler_min_cycle_seconds: float = Field(default=1.0, ge=0, le=600)
    scheduler_lock_seconds: float = Field(default=15.0, ge=1, le=600)
    export_dir: Path | None = None
    data_dir: Path = Path("data")
    """The data directory (docs/ARCHITECTURE.md, 'Data directory'): the bar store under
    ``history/``, backtest reports under ``backtests/``, and today's exports by default."""

    # Realtime stream (docs/ARCHITECTURE.md, 'The price and fill stream'); the fill notice is
    # keyed by KIS_HTS_ID (above, with the KIS settings) --------------------------------------
    kis_ws_url: str | None = None
    quote_source: Literal["stream", "polling"] = "stream"
    stream_silence_seconds: float = Field(default=30.0, gt=0, le=600)

    # Input limits: wrong status API tokens (docs/ARCHITECTURE.md, 'Input limits') ------------
    status_api_failure_limit: int = Field(default=20, ge=1, le=100_000)
    """Wrong tokens one client address may send per minute before control answers 429."""
    status_api_cache_seconds: float = Field(default=1.0, ge=0, le=60)
    """How long the status API serves a read-only answer again (services/api/read_cache.py)."""

    # Money limits (docs/ARCHITECTURE.md, 'Money limits'): first values only; once stored in
    # Redis, `kat limits` and PUT /control/limits change them.
    max_order_krw: int = Field(default=50_000_000, gt=0, le=MONEY_LIMIT_MAX_KRW)
    max_orders_per_day: int = Field(default=200, gt=0, le=10_000)
    max_open_positions: int = Field(default=30, gt=0, le=1_000)
    daily_loss_limit_krw: int = Field(default=10_000_000, gt=0, le=MONEY_LIMIT_MAX_KRW)

    # Validation ------------------------------------------------------------------------------
    @field_validator("*", mode="before")
    @classmethod
    def _ascii_number(cls, v: Any, info: ValidationInfo) -> Any:
        number = _is_number(cls.model_fields[info.field_name or ""])
        if number and isinstance(v, str) and not NUMBER_PATTERN.fullmatch(v):
            raise ValueError(NUMBER_SHAPE)
        return v

    @field_validator("kis_account")
    @classmethod
    def _account_shape(cls, v: str | None) -> str | None:
        if v is not None and not ACCOUNT_PATTERN.fullmatch(v):
            raise ValueError(
                "must look like 12345678-01 (8 ASCII digits, a dash, 2 digits, nothing around them)"
            )
        return v

    @field_validator("kis_hts_id")
    @classmethod
    def _hts_id_shape(cls, v: str | None) -> str | None:
        if v is not None and not HTS_ID_PATTERN.fullmatch(v):
            raise ValueError("must be 1 to 32 ASCII letters, digits, '_', '.' or '-'")
        return v

    @field_validator("kis_app_key", "kis_app_secret")
    @classmethod
    def _credential_shape(cls, v: SecretStr | None) -> SecretStr | None:
        if v is not None and not CREDENTIAL_PATTERN.fullmatch(v.get_secret_value()):
            raise ValueError(
                "must be visible ASCII characters only (no space, newline or other character;"
                " copy it again from the KIS portal)"
            )
        return v

    @field_validator("discord_webhook_url")
    @classmethod
    def _webhook_shape(cls, v: SecretStr | None) -> SecretStr | None:
        if v is not None and not PLACEHOLDER_PATTERN.match(v.get_secret_value()):
            problem = webhook_url_problem(v.get_secret_value())
            if problem:
                raise ValueError(
                    "must be a Discord webhook URL like https://discord.com/api/webhooks/<id>/"
                    f"<token> ({problem})"
                )
        return v

    @field_validator("redis_prefix")
    @classmethod
    def _prefix_not_rq(cls, v: str) -> str:
        if not v or v.startswith("rq:"):
            raise ValueError("must be non-empty and must not start with 'rq:' (rq owns those keys)")
        if not REDIS_PREFIX_PATTERN.fullmatch(v):
            raise ValueError("must be 1 to 64 ASCII letters, digits or '_:.-' (e.g. kat:)")
        return v

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, v: str) -> str:
        if not v.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix://")
        parts = urlsplit(v)
        if not _printable_ascii(v) or not (parts.hostname or parts.path.strip("/")):
            raise ValueError("must name a host (redis://HOST:PORT/DB) or a socket path (unix://)")
        return v

    @field_validator("kis_base_url", "kis_sim_url")
    @classmethod
    def _url_scheme(cls, v: str | None) -> str | None:
        if v is not None and http_url_problem(v):
            raise ValueError(
                f"must be an http:// or https:// URL with a host ({http_url_problem(v)})"
            )
        return v.rstrip("/") if v else v

    @field_validator("kis_ws_url")
    @classmethod
    def _ws_scheme(cls, v: str | None) -> str | None:
        if v is not None and url_problem(v, ("ws", "wss")):
            raise ValueError(
                f"must be a ws:// or wss:// URL with a host ({url_problem(v, ('ws', 'wss'))})"
            )
        return v.rstrip("/") if v else v

    @field_validator("clock_start")
    @classmethod
    def _aware_start(cls, v: datetime | None) -> datetime | None:
        if v is not None and v.utcoffset() is None:
            raise ValueError("needs a UTC offset, e.g. 2026-03-02T08:50:00+09:00")
        if v is not None and not EARLIEST_CLOCK <= v < LATEST_CLOCK:
            raise ValueError(
                f"must lie between {EARLIEST_CLOCK:%Y-%m-%d} and {LATEST_CLOCK:%Y-%m-%d}"
            )
        return v

    @field_validator("krx_extra_closed", mode="before")
    @classmethod
    def _split_dates(cls, v: Any) -> Any:
        if isinstance(v, str):
            return tuple(part.strip() for part in v.split(",") if part.strip())
        return v

    @field_validator("krx_special_sessions", mode="before")
    @classmethod
    def _parse_sessions(cls, v: Any) -> Any:
        if not isinstance(v, str):
            return v
        sessions: dict[str, tuple[str, str]] = {}
        for part in (p.strip() for p in v.split(",") if p.strip()):
            m = SPECIAL_SESSION_PATTERN.fullmatch(part)
            if not m:
                raise ValueError(f"{part!r} is not YYYY-MM-DD=HH:MM-HH:MM")
            sessions[m.group(1)] = (m.group(2), m.group(3))
        return sessions

    @model_validator(mode="after")
    def _consistent(self) -> Settings:
        for name in ("kis_app_key", "kis_app_secret", "discord_webhook_url", "status_api_token"):
            value = getattr(self, name)
            if value is not None and PLACEHOLDER_PATTERN.match(value.get_secret_value()):
                raise _field_error(name, "is still the placeholder from .env.example")
        if self.kis_account and PLACEHOLDER_PATTERN.match(self.kis_account):
            raise _field_error("kis_account", "is still the placeholder from .env.example")
        if self.status_api_token is not None:
            problem = status_token_problem(self.status_api_token.get_secret_value())
            if problem:
                raise _field_error("status_api_token", problem)
        if self.kis_env in ("paper", "real"):
            for name in ("kis_app_key", "kis_app_secret", "kis_account"):
                if getattr(self, name) is None:
                    raise _field_error(
                        name,
                        f"is required when KIS_ENV={self.kis_env} (environment, {name.upper()}_FILE"
                        " or the keyring)",
                    )
        if self.kis_env == "dryrun":
            self._check_dryrun()
        if self.kis_env != "sim" and self.clock_start is not None:
            self._check_rehearsal()
        if self.kis_env == "real" and self.real_trading_confirm != "yes":
            raise _field_error(
                "real_trading_confirm", "must be 'yes' to trade real money with KIS_ENV=real"
            )
        if self.clock_start is None and (
            self.clock_speed != 1.0 or self.clock_epoch is not None or self.clock_hold
        ):
            raise _field_error(
                "clock_start", "is required when CLOCK_SPEED, CLOCK_EPOCH or CLOCK_HOLD is set"
            )
        if self.clock_hold and self.clock_epoch is not None:
            raise _field_error(
                "clock_hold", "waits for an anchor, so CLOCK_EPOCH must not be set with it"
            )
        if self.preclose_cutoff_minutes >= self.buy_cutoff_minutes:
            raise _field_error("preclose_cutoff_minutes", "must be smaller than BUY_CUTOFF_MINUTES")
        for day, (opens, closes) in self.krx_special_sessions.items():
            if opens >= closes:
                raise _field_error("krx_special_sessions", f"{day}: opens after it closes")
        return self

    def _check_dryrun(self) -> None:
        """A dry run reads quotes from KIS with the quote host's keys and keeps orders at a
        local ledger only (docs/ARCHITECTURE.md, 'Dry run')."""
        host = self.dryrun_quote_host
        for name in ("kis_app_key", "kis_app_secret"):
            if getattr(self, name) is None:
                raise _field_error(
                    name,
                    f"is required when KIS_ENV=dryrun: quotes are read from the KIS {host} host"
                    f" with its app key and secret (environment, {name.upper()}_FILE or the"
                    f" keyring's {host} entries)",
                )
        refusal = rehearsal_refusal(self.kis_sim_url)
        if refusal is not None:
            raise _field_error(
                "kis_sim_url",
                "must be the local ledger (the simulator) when KIS_ENV=dryrun, on a loopback or"
                f" private address ({REHEARSAL_TARGETS}, or a single-label name resolving to"
                f" one): {refusal}",
            )

    def _check_rehearsal(self) -> None:
        """A simulated clock in paper or real mode only against a simulator (rehearsal)."""
        if self.kis_base_url is None:
            raise _field_error(
                "clock_start",
                f"a simulated clock with KIS_ENV={self.kis_env} needs KIS_BASE_URL on a loopback"
                f" or private address (rehearsal: {REHEARSAL_TARGETS}); against KIS the clock"
                " is always real",
            )
        refusal = rehearsal_refusal(self.kis_base_url)
        if refusal is not None:
            raise _field_error(
                "clock_start",
                f"a simulated clock with KIS_ENV={self.kis_env} needs KIS_BASE_URL on a loopback"
                f" or private address ({REHEARSAL_TARGETS}, or a single-label name resolving to"
                f" one): {refusal}",
            )

    # Derived values --------------------------------------------------------------------------
    @property
    def dry_run(self) -> bool:
        """True with KIS_ENV=dryrun: live quotes, a simulated wallet (every label says DRY RUN)."""
        return self.kis_env == "dryrun"

    @property
    def mode_label(self) -> str:
        """The mode as people read it: ``DRY RUN`` in a dry run, else the KIS_ENV value."""
        return DRY_RUN_LABEL if self.dry_run else self.kis_env

    @property
    def quote_env(self) -> Literal["sim", "paper", "real"]:
        """The KIS environment quotes are read from: the dry run's quote host, else KIS_ENV.
        Names the shared token and rate limiter of the quote host's app key in Redis."""
        return self.dryrun_quote_host if self.kis_env == "dryrun" else self.kis_env

    @property
    def base_url(self) -> str:
        """The KIS REST endpoint quotes are read from (in every mode but a dry run, orders go
        there too: :attr:`order_base_url`)."""
        if self.kis_base_url:
            return self.kis_base_url
        return {"sim": self.kis_sim_url, "paper": PAPER_BASE_URL, "real": REAL_BASE_URL}[
            self.quote_env
        ]

    @property
    def order_base_url(self) -> str:
        """Where orders and account reads go: in a dry run the local ledger (KIS_SIM_URL, checked
        to be loopback or private) and nothing else, whatever KIS_BASE_URL says; otherwise the
        same endpoint as the quotes."""
        if self.kis_env == "dryrun":
            return self.kis_sim_url
        return self.base_url

    @property
    def ws_url(self) -> str:
        """The KIS WebSocket endpoint in use: KIS_WS_URL, else the mode's host (in sim, the
        simulator's host on its REST port + 1, where it listens by default)."""
        if self.kis_ws_url:
            return self.kis_ws_url
        if self.quote_env == "sim":
            sim = urlsplit(self.kis_sim_url)
            port = (sim.port or (443 if sim.scheme == "https" else 80)) + SIM_WS_PORT_OFFSET
            return f"ws://{sim.hostname or '127.0.0.1'}:{port}"
        return PAPER_WS_URL if self.quote_env == "paper" else REAL_WS_URL

    @property
    def fill_tr_id(self) -> str:
        """The fill notice's tr_id: H0STCNI0 under real rules, H0STCNI9 under paper rules (sim
        follows SIM_RULES, as its order tr_ids do)."""
        return "H0STCNI0" if self.rules == "real" else "H0STCNI9"

    @property
    def rules(self) -> Literal["paper", "real"]:
        """Whose rules apply: tr_id prefix, limits, page sizes (sim follows ``SIM_RULES``, a dry
        run its quote host's, whose limit its quotes share; its ledger runs the same rules)."""
        if self.kis_env == "sim":
            return self.sim_rules
        return self.dryrun_quote_host if self.kis_env == "dryrun" else self.kis_env

    @property
    def rate_limit(self) -> float:
        """Requests per second allowed to this app key."""
        return self.kis_rate_limit or DEFAULT_RATE_LIMITS[self.rules]

    @property
    def app_key(self) -> str:
        """The app key (the simulator's demo key in sim mode when none is set)."""
        return self.kis_app_key.get_secret_value() if self.kis_app_key else SIM_APP_KEY

    @property
    def app_secret(self) -> str:
        """The app secret (the simulator's demo secret in sim mode when none is set)."""
        return self.kis_app_secret.get_secret_value() if self.kis_app_secret else SIM_APP_SECRET

    @property
    def account(self) -> str:
        """The full account number ``12345678-01``. Never log it: use :attr:`masked_account`."""
        return self.kis_account or SIM_ACCOUNT

    @property
    def masked_account(self) -> str:
        """The account with all but the last two digits of its first part hidden."""
        cano, product = self.account.split("-")
        return f"{'*' * 6}{cano[-2:]}-{product}"

    @property
    def export_folder(self) -> Path:
        """Where the ledger is exported after the close: EXPORT_DIR, else beside the picks,
        else DATA_DIR."""
        if self.export_dir is not None:
            return self.export_dir
        return self.picks_file.parent if self.picks_file is not None else self.data_dir

    def secret_values(self) -> list[str]:
        """Every configured secret, for log redaction."""
        values = [
            s.get_secret_value()
            for s in (
                self.kis_app_key,
                self.kis_app_secret,
                self.discord_webhook_url,
                self.status_api_token,
            )
            if s is not None
        ]
        redis_password = urlsplit(self.redis_url).password
        values += [v for v in (redis_password, self.kis_hts_id) if v]
        if self.kis_account:
            # The 8-digit CANO alone too: KIS's query strings send it apart from the product code.
            cano = self.kis_account.split("-")[0]
            values += [self.kis_account, self.kis_account.replace("-", ""), cano]
        return [v for v in values if len(v) >= 4]


def _is_number(field: FieldInfo) -> bool:
    kinds = set(get_args(field.annotation) or (field.annotation,)) - {type(None)}
    return bool(kinds) and kinds <= {int, float, Decimal}


def _empty_means_unset(field: FieldInfo) -> bool:
    """An empty value is the same as none for a setting whose default is nothing (no URL, no
    webhook, no extra closed days); anywhere else it would silently become the default."""
    return field.default_factory is not None or field.default in (None, "", ())


def empty_refusal(values: Mapping[str, str]) -> str | None:
    """``NAME: is empty ...`` for the first setting in ``values`` set to "" that has a default
    of its own, or None (docs/ARCHITECTURE.md, 'Configuration')."""
    for name, value in values.items():
        field = Settings.model_fields.get(name.lower())
        if value == "" and field is not None and not _empty_means_unset(field):
            return f"{name.upper()}: is empty; leave it out for its default ({field.default})"
    return None


def _printable_ascii(text: str) -> bool:
    return all(" " < c <= "~" for c in text)


def http_url_problem(url: str) -> str:
    """Why ``url`` is not an absolute http(s) URL with a host, or "" when it is one."""
    return url_problem(url, ("http", "https"))


def url_problem(url: str, schemes: tuple[str, ...]) -> str:
    """Why ``url`` is not an absolute URL of one of ``schemes`` with a host, or "" when it is."""
    if not _printable_ascii(url):
        return "spaces, newlines and non-ASCII characters are not allowed"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number
    except ValueError:
        return "it does not parse"
    if parts.scheme not in schemes:
        return f"the scheme is not {' or '.join(schemes)}"
    if not parts.hostname:
        return "no host"
    return ""


def webhook_url_problem(url: str) -> str:
    """Why ``url`` is not a Discord webhook URL, or "" (the URL itself is never quoted).

    Discord's own hosts need https; any other host (a relay, a test's stand-in) needs only the
    ``/api/webhooks/<id>/<token>`` path, so a typo'd URL fails at start, not on every message.
    """
    problem = http_url_problem(url)
    if problem:
        return problem
    parts = urlsplit(url)
    if not WEBHOOK_PATH_PATTERN.fullmatch(parts.path):
        return "the path is not /api/webhooks/<id>/<token>"
    if (parts.hostname or "") in DISCORD_HOSTS and parts.scheme != "https":
        return "Discord is reached over https only"
    return ""


def status_token_problem(token: str) -> str:
    """Why ``token`` cannot guard the control endpoints, or "" (the token is never quoted)."""
    if not CREDENTIAL_PATTERN.fullmatch(token):
        return "must be visible ASCII characters only (no space or newline)"
    if len(token) < STATUS_TOKEN_MIN_LENGTH:
        return (
            f"must be at least {STATUS_TOKEN_MIN_LENGTH} characters"
            " (make one with: openssl rand -hex 32)"
        )
    return ""


class _FieldError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def _field_error(field: str, message: str) -> _FieldError:
    return _FieldError(field, message)


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Settings from the environment (plus ``.env``, ``*_FILE`` and the keyring), or ConfigError.

    ``environ`` replaces ``os.environ`` entirely when given (tests, tools); ``.env`` is then not
    read either. Otherwise the dotenv file is ``KAT_ENV_FILE`` (default ``.env``; empty: none).
    """
    env = dict(os.environ if environ is None else environ)
    try:
        extra = credentials.from_files(env)
    except credentials.CredentialFileError as e:
        raise ConfigError(str(e)) from None
    kis_env = env.get("KIS_ENV", "sim")
    if kis_env in ("paper", "real"):
        missing = [n for n in credentials.KEYRING_VARIABLES if not env.get(n) and n not in extra]
        extra.update(credentials.from_keyring(kis_env, missing))
    elif kis_env == "dryrun":
        # The quote host's app key and secret; the account is the local ledger's, never KIS's.
        host = env.get("DRYRUN_QUOTE_HOST", "real")
        if host in ("paper", "real"):
            names = ("KIS_APP_KEY", "KIS_APP_SECRET")
            missing = [n for n in names if not env.get(n) and n not in extra]
            extra.update(credentials.from_keyring(host, missing))
    fields = Settings.model_fields
    given = {**env, **extra}
    env_file = None if environ is not None else env.get(ENV_FILE_VARIABLE, ".env") or None
    refusal = empty_refusal(given) or empty_refusal(_dotenv_values(env_file, given))
    if refusal:
        raise ConfigError(refusal)
    # Empty is left out: it is refused above where a default would take its place.
    values: dict[str, Any] = {
        k.lower(): v for k, v in given.items() if k.lower() in fields and v != ""
    }
    values["_env_file"] = env_file
    try:
        return Settings(**values)
    except ValidationError as e:
        raise ConfigError(_one_line(e)) from None
    except _FieldError as e:
        raise ConfigError(f"{e.field.upper()}: {e.message}") from None


def _dotenv_values(env_file: str | None, given: Mapping[str, str]) -> dict[str, str]:
    """The dotenv file's values, raw (empty ones kept), for the names the environment leaves."""
    if env_file is None:
        return {}
    source = DotEnvSettingsSource(Settings, env_file=env_file, env_ignore_empty=False)
    taken = {name.lower() for name in given}
    return {k: v or "" for k, v in source.env_vars.items() if k not in taken}


def _one_line(error: ValidationError) -> str:
    first = error.errors(include_url=False, include_input=False)[0]
    if first["type"] == "value_error" and isinstance(
        first.get("ctx", {}).get("error"), _FieldError
    ):
        fe: _FieldError = first["ctx"]["error"]
        return f"{fe.field.upper()}: {fe.message}"
    name = str(first["loc"][0]).upper() if first["loc"] else "settings"
    message = str(first["msg"]).removeprefix("Value error, ")
    return f"{name}: {message}"


def main() -> int:
    """``python -m shared.infra.settings``: check the configuration, print it with secrets
    masked."""
    try:
        settings = load_settings()
    except ConfigError as e:
        print(f"configuration error: {e}", file=sys.stderr)
        return 2
    print(f"KIS_ENV={settings.kis_env} rules={settings.rules} endpoint={settings.base_url}")
    if settings.dry_run:
        print(
            f"{DRY_RUN_LABEL}: quotes from the KIS {settings.dryrun_quote_host} host,"
            f" orders and the account at the local ledger {settings.order_base_url}"
        )
    print(f"account={settings.masked_account} rate_limit={settings.rate_limit:g}/s")
    print(repr(settings))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
