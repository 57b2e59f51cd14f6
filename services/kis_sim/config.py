"""The simulator's own settings (``SIM_*`` variables), validated at start with one-line errors."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from services.kis_sim.paths import PathError, ScriptedPaths, load_paths_file
from shared.settings import ConfigError

RuleSet = Literal["paper", "real"]

DEFAULT_HOST = "0.0.0.0"  # noqa: S104 - a service in a container listens on every interface
"""Interface the simulator listens on."""
DEFAULT_PORT = 8001
"""TCP port (matches ``shared.settings.SIM_BASE_URL``)."""
DEFAULT_SEED = 42
"""Seed of the price random walk."""
DEFAULT_INITIAL_CASH = 10_000_000
"""Cash in won of an account created on first use."""
DEFAULT_TOKEN_TTL_SECONDS = 86_400
"""Access-token lifetime in clock seconds (KIS: one day)."""
DEFAULT_TOKEN_THROTTLE_SECONDS = 60.0
"""Real seconds between two token issuances for one app key (KIS: one a minute)."""

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
    return SimConfig(
        host=host,
        port=_int(environ, "SIM_PORT", DEFAULT_PORT, 1, 65_535),
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
    )


def _int(environ: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name}: must be a whole number, got {raw!r}") from None
    if not low <= value <= high:
        raise ConfigError(f"{name}: must be between {low} and {high}, got {value}")
    return value


def _float(environ: Mapping[str, str], name: str, default: float, low: float, high: float) -> float:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name}: must be a number, got {raw!r}") from None
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
