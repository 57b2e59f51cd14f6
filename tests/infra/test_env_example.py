"""``.env.example`` documents every setting; copied as is it runs sim, and its placeholders fail."""

from __future__ import annotations

import re

import pytest

from shared.infra import credentials
from shared.infra.settings import PLACEHOLDER_PATTERN, ConfigError, Settings, load_settings
from tests.infra.helpers import ROOT

ACTIVE = re.compile(r"^([A-Z][A-Z0-9_]*)=(.*)$")
COMMENTED = re.compile(r"^#\s*([A-Z][A-Z0-9_]*)=(.*)$")
CHECKED_CREDENTIALS = (
    "KIS_APP_KEY",
    "KIS_APP_SECRET",
    "KIS_ACCOUNT",
    "DISCORD_WEBHOOK_URL",
    "STATUS_API_TOKEN",
)


def example() -> tuple[dict[str, str], dict[str, str]]:
    """(active lines, commented-out variable lines) of .env.example."""
    active: dict[str, str] = {}
    commented: dict[str, str] = {}
    for line in (ROOT / ".env.example").read_text(encoding="utf-8").splitlines():
        if m := ACTIVE.match(line):
            assert m.group(1) not in active, f"{m.group(1)} twice"
            active[m.group(1)] = m.group(2)
        elif m := COMMENTED.match(line):
            commented[m.group(1)] = m.group(2)
        else:
            assert not line or line.startswith("#"), f"not KEY=VALUE: {line!r}"
    return active, commented


def test_every_setting_is_documented() -> None:
    active, commented = example()
    documented = set(active) | set(commented)
    missing = {name.upper() for name in Settings.model_fields} - documented
    assert not missing, f"add to .env.example: {sorted(missing)}"
    assert not set(active) & set(commented)
    assert {n for n in documented if n.startswith("SIM_")} >= {
        "SIM_RULES",
        "SIM_RATE_LIMIT",
        "SIM_SEED",
        "SIM_PRICE_PATHS",
        "SIM_INITIAL_CASH",
        "SIM_TOKEN_TTL_SECONDS",
        "SIM_TOKEN_THROTTLE_SECONDS",
    }


def test_copied_as_is_it_is_a_working_sim_setup() -> None:
    active, _ = example()
    assert active["KIS_ENV"] == "sim"
    assert not set(active) & set(credentials.FILE_VARIABLES), "credentials stay commented out"
    settings = load_settings(active)
    assert settings.kis_env == "sim"
    assert str(settings.take_profit_pct) == active["TAKE_PROFIT_PCT"]


def test_every_example_value_is_well_formed() -> None:
    active, commented = example()
    others = {k: v for k, v in commented.items() if k not in credentials.FILE_VARIABLES}
    settings = load_settings({**active, **others})
    assert settings.clock_speed == float(others["CLOCK_SPEED"])


def test_placeholders_are_refused_in_paper_mode() -> None:
    active, commented = example()
    creds = {k: v for k, v in commented.items() if k in credentials.FILE_VARIABLES}
    assert set(creds) == set(credentials.FILE_VARIABLES)
    with pytest.raises(ConfigError, match="placeholder"):
        load_settings({**active, **creds, "KIS_ENV": "paper"})


@pytest.mark.parametrize("name", CHECKED_CREDENTIALS)
def test_each_placeholder_is_refused(name: str) -> None:
    active, commented = example()
    assert PLACEHOLDER_PATTERN.match(commented[name])
    with pytest.raises(ConfigError, match=rf"^{name}: .*placeholder"):
        load_settings({**active, name: commented[name]})


def test_hts_id_example_looks_like_a_placeholder() -> None:
    _, commented = example()
    assert PLACEHOLDER_PATTERN.match(commented["KIS_HTS_ID"])
