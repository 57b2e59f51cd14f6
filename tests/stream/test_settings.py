"""The stream's settings: the WebSocket endpoint per mode, the fill notice's tr_id per rules."""

from __future__ import annotations

import pytest

from services.kis_sim.config import load_config
from shared.infra.settings import ConfigError, load_settings

CREDENTIALS = {
    "KIS_APP_KEY": "PSabcdefgh12",
    "KIS_APP_SECRET": "secretvalue99",
    "KIS_ACCOUNT": "73519246-01",
}


def test_each_mode_has_its_websocket_and_fill_notice() -> None:
    sim = load_settings({"KIS_ENV": "sim"})
    assert (sim.ws_url, sim.fill_tr_id, sim.quote_source) == (
        "ws://127.0.0.1:8002",
        "H0STCNI9",
        "stream",
    )
    assert load_settings({"KIS_ENV": "sim", "SIM_RULES": "real"}).fill_tr_id == "H0STCNI0"
    compose = load_settings({"KIS_ENV": "sim", "KIS_SIM_URL": "http://kis-sim:8101"})
    assert compose.ws_url == "ws://kis-sim:8102"
    assert load_config({"SIM_PORT": "8101"}).ws_port == 8102  # where the simulator listens
    paper = load_settings({"KIS_ENV": "paper", **CREDENTIALS})
    assert (paper.ws_url, paper.fill_tr_id) == ("ws://ops.koreainvestment.com:31000", "H0STCNI9")
    real = load_settings({"KIS_ENV": "real", "REAL_TRADING_CONFIRM": "yes", **CREDENTIALS})
    assert (real.ws_url, real.fill_tr_id) == ("ws://ops.koreainvestment.com:21000", "H0STCNI0")
    assert load_settings({"KIS_WS_URL": "ws://10.0.0.5:9000/"}).ws_url == "ws://10.0.0.5:9000"


@pytest.mark.parametrize(
    ("name", "value"),
    [("KIS_WS_URL", "http://x:1"), ("QUOTE_SOURCE", "both"), ("STREAM_SILENCE_SECONDS", "0")],
)
def test_bad_stream_settings_name_the_variable(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name):
        load_settings({name: value})
