"""A small KIS client for the simulator tests, and a fixture that starts a simulator with it."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import pytest
import requests

from tests.conftest import ROOT, TUESDAY_10AM, Sim, SimPool, service_env

ACCOUNT = "50000000-01"
TRADING = "/uapi/domestic-stock/v1/trading"
QUOTATIONS = "/uapi/domestic-stock/v1/quotations"
SESSION_START = TUESDAY_10AM
"""A Tuesday, mid-session: where ``sim_pool``'s clocks start too."""


def run_to_exit(redis_url: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run ``python -m services.kis_sim`` (with ``args``) to its exit: for starts that must fail
    and one-off commands."""
    return subprocess.run(
        [sys.executable, "-m", "services.kis_sim", *args],
        env=service_env(redis_url, **env),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def fast_env(**overrides: str) -> dict[str, str]:
    """Simulator settings for tests not about limits: no throttle, a generous rate limit, and a
    real-speed clock that starts now at 10:00 on a session day."""
    env = {
        "SIM_RATE_LIMIT": "1000",
        "SIM_TOKEN_THROTTLE_SECONDS": "0",
        "CLOCK_START": SESSION_START,
        "CLOCK_SPEED": "1",
        "CLOCK_EPOCH": repr(time.time()),
    }
    env.update(overrides)
    if env.get("CLOCK_HOLD"):
        del env["CLOCK_EPOCH"]  # held until the test begins the clock (tests.conftest)
    return env


class KisClient:
    """Speaks KIS's dialect to the simulator the way KIS's official samples
    (koreainvestment/open-trading-api) call it (docs/ARCHITECTURE.md, 'KIS rules we rely on')."""

    def __init__(
        self,
        sim: Sim,
        prefix: str = "V",
        app_key: str = "test-app-key",
        app_secret: str = "test-app-secret",  # noqa: S107 - the simulator accepts any
        account: str = ACCOUNT,
    ) -> None:
        self.sim = sim
        self.prefix = prefix
        self.app_key = app_key
        self.app_secret = app_secret
        self.cano, self.product = account.split("-")
        self.access_token = ""

    # Plumbing -----------------------------------------------------------------------------
    def issue_token(self) -> requests.Response:
        body = {
            "grant_type": "client_credentials",
            "appkey": self.app_key,
            "appsecret": self.app_secret,
        }
        return requests.post(f"{self.sim.url}/oauth2/tokenP", json=body, timeout=10)

    def login(self) -> KisClient:
        response = self.issue_token()
        assert response.status_code == 200, response.text
        self.access_token = response.json()["access_token"]
        return self

    def headers(self, tr_id: str, tr_cont: str = "") -> dict[str, str]:
        return {
            "content-type": "application/json; charset=utf-8",
            "authorization": f"Bearer {self.access_token}",
            "appkey": self.app_key,
            "appsecret": self.app_secret,
            "tr_id": tr_id,
            "custtype": "P",
            "tr_cont": tr_cont,
        }

    def get(
        self, path: str, tr_id: str, params: dict[str, str], tr_cont: str = ""
    ) -> requests.Response:
        return requests.get(
            f"{self.sim.url}{path}", params=params, headers=self.headers(tr_id, tr_cont), timeout=10
        )

    def post(
        self, path: str, tr_id: str, body: dict[str, Any], **headers: str
    ) -> requests.Response:
        return requests.post(
            f"{self.sim.url}{path}",
            json=body,
            headers={**self.headers(tr_id), **headers},
            timeout=10,
        )

    def tr(self, suffix: str) -> str:
        return f"{self.prefix}{suffix}"

    # Endpoints ----------------------------------------------------------------------------
    def quote(self, code: str) -> dict[str, str]:
        response = self.get(
            f"{QUOTATIONS}/inquire-price",
            "FHKST01010100",
            {"FID_COND_MRKT_DIV_CODE": "J", "FID_INPUT_ISCD": code},
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["rt_cd"] == "0", body
        return dict(body["output"])

    def balance(self, tr_cont: str = "", fk: str = "", nk: str = "") -> requests.Response:
        params = {
            "CANO": self.cano,
            "ACNT_PRDT_CD": self.product,
            "AFHR_FLPR_YN": "N",
            "OFL_YN": "",
            "INQR_DVSN": "02",
            "UNPR_DVSN": "01",
            "FUND_STTL_ICLD_YN": "N",
            "FNCG_AMT_AUTO_RDPT_YN": "N",
            "PRCS_DVSN": "00",
            "CTX_AREA_FK100": fk,
            "CTX_AREA_NK100": nk,
        }
        return self.get(f"{TRADING}/inquire-balance", self.tr("TTC8434R"), params, tr_cont)

    def summary(self) -> dict[str, str]:
        body = self.balance().json()
        assert body["rt_cd"] == "0", body
        return dict(body["output2"][0])

    def holdings(self) -> dict[str, dict[str, str]]:
        body = self.balance().json()
        assert body["rt_cd"] == "0", body
        return {row["pdno"]: row for row in body["output1"]}

    def buyable(self, code: str, price: str = "0", division: str = "01") -> dict[str, str]:
        params = {
            "CANO": self.cano,
            "ACNT_PRDT_CD": self.product,
            "PDNO": code,
            "ORD_UNPR": price,
            "ORD_DVSN": division,
            "CMA_EVLU_AMT_ICLD_YN": "N",
            "OVRS_ICLD_YN": "N",
        }
        body = self.get(f"{TRADING}/inquire-psbl-order", self.tr("TTC8908R"), params).json()
        assert body["rt_cd"] == "0", body
        return dict(body["output"])

    def order_body(
        self, code: str, qty: int, division: str = "01", price: int = 0
    ) -> dict[str, str]:
        return {
            "CANO": self.cano,
            "ACNT_PRDT_CD": self.product,
            "PDNO": code,
            "ORD_DVSN": division,
            "ORD_QTY": str(qty),
            "ORD_UNPR": str(price),
            "EXCG_ID_DVSN_CD": "KRX",
        }

    def order(
        self,
        side: str,
        code: str,
        qty: int,
        division: str = "01",
        price: int = 0,
        legacy: bool = False,
        **overrides: str,
    ) -> requests.Response:
        suffix = {"buy": "TTC0012U", "sell": "TTC0011U"}[side]
        if legacy:
            suffix = {"buy": "TTC0802U", "sell": "TTC0801U"}[side]
        body = self.order_body(code, qty, division, price)
        if legacy:
            del body["EXCG_ID_DVSN_CD"]
        if side == "sell":
            body["SLL_TYPE"] = "01"
        body.update(overrides)
        return self.post(f"{TRADING}/order-cash", self.tr(suffix), body)

    def placed(self, side: str, code: str, qty: int, division: str = "01", price: int = 0) -> str:
        """Place an order that must be accepted; returns its ODNO."""
        body = self.order(side, code, qty, division, price).json()
        assert body["rt_cd"] == "0", body
        return str(body["output"]["ODNO"])

    def cancel(self, odno: str, qty: int | None = None, legacy: bool = False) -> requests.Response:
        body = {
            "CANO": self.cano,
            "ACNT_PRDT_CD": self.product,
            "KRX_FWDG_ORD_ORGNO": "06010",
            "ORGN_ODNO": odno,
            "ORD_DVSN": "00",
            "RVSE_CNCL_DVSN_CD": "02",
            "ORD_QTY": "0" if qty is None else str(qty),
            "ORD_UNPR": "0",
            "QTY_ALL_ORD_YN": "Y" if qty is None else "N",
        }
        if not legacy:
            body["EXCG_ID_DVSN_CD"] = "KRX"
        suffix = "TTC0803U" if legacy else "TTC0013U"
        return self.post(f"{TRADING}/order-rvsecncl", self.tr(suffix), body)

    def revise(
        self, odno: str, price: int, qty: int | None = None, division: str = "00"
    ) -> requests.Response:
        """order-rvsecncl with RVSE_CNCL_DVSN_CD 01 (정정), as official order_rvsecncl.py."""
        body = {
            "CANO": self.cano,
            "ACNT_PRDT_CD": self.product,
            "KRX_FWDG_ORD_ORGNO": "06010",
            "ORGN_ODNO": odno,
            "ORD_DVSN": division,
            "RVSE_CNCL_DVSN_CD": "01",
            "ORD_QTY": "0" if qty is None else str(qty),
            "ORD_UNPR": str(price),
            "QTY_ALL_ORD_YN": "Y" if qty is None else "N",
            "EXCG_ID_DVSN_CD": "KRX",
        }
        return self.post(f"{TRADING}/order-rvsecncl", self.tr("TTC0013U"), body)

    def revisable(
        self, sides: str = "0", by_code: bool = False, tr_cont: str = "", fk: str = "", nk: str = ""
    ) -> requests.Response:
        """inquire-psbl-rvsecncl (TTTC0084R: real only), as official inquire_psbl_rvsecncl.py."""
        params = {
            "CANO": self.cano,
            "ACNT_PRDT_CD": self.product,
            "INQR_DVSN_1": "1" if by_code else "0",
            "INQR_DVSN_2": sides,
            "CTX_AREA_FK100": fk,
            "CTX_AREA_NK100": nk,
        }
        return self.get(f"{TRADING}/inquire-psbl-rvsecncl", "TTTC0084R", params, tr_cont)

    def executions(
        self, tr_cont: str = "", fk: str = "", nk: str = "", legacy: bool = False, **filters: str
    ) -> requests.Response:
        params = {
            "CANO": self.cano,
            "ACNT_PRDT_CD": self.product,
            "INQR_STRT_DT": "20260303",
            "INQR_END_DT": "20260303",
            "SLL_BUY_DVSN_CD": "00",
            "INQR_DVSN": "00",
            "PDNO": "",
            "CCLD_DVSN": "00",
            "ORD_GNO_BRNO": "",
            "ODNO": "",
            "INQR_DVSN_3": "00",
            "INQR_DVSN_1": "",
            "EXCG_ID_DVSN_CD": "KRX",
            "CTX_AREA_FK100": fk,
            "CTX_AREA_NK100": nk,
        }
        params.update(filters)
        suffix = "TTC8001R" if legacy else "TTC0081R"
        return self.get(f"{TRADING}/inquire-daily-ccld", self.tr(suffix), params, tr_cont)

    def execution_rows(self, **filters: str) -> list[dict[str, str]]:
        body = self.executions(**filters).json()
        assert body["rt_cd"] == "0", body
        return list(body["output1"])


def rejection(response: requests.Response) -> tuple[int, str, str]:
    """(HTTP status, msg_cd, msg1) of a KIS rejection."""
    body = response.json()
    assert body["rt_cd"] != "0", body
    return response.status_code, body["msg_cd"], body["msg1"]


KisFactory = Callable[..., KisClient]


def pool_settings(env: dict[str, str]) -> dict[str, str]:
    """``env`` (:func:`fast_env`'s, say) without its clock, which ``sim_pool`` gives: 10:00 on a
    session day, in real time from the simulator's start."""
    return {key: value for key, value in env.items() if not key.startswith("CLOCK_")}


FAST_SETTINGS = pool_settings(fast_env())


@pytest.fixture
def client(sim_pool: SimPool) -> KisClient:
    """A logged-in client of the worker's simulator with the fast settings (``sim_pool``), reset
    to a blank state: tests that need nothing else share it."""
    return KisClient(sim_pool(**FAST_SETTINGS).sim).login()


@pytest.fixture
def kis(start_sim: Callable[..., Sim]) -> KisFactory:
    """Factory: ``kis(SIM_RULES="real", prefix="T")`` starts a simulator (fast settings unless
    overridden) and returns a logged-in client."""

    def make(prefix: str = "V", login: bool = True, **env: str) -> KisClient:
        client = KisClient(start_sim(**fast_env(**env)), prefix=prefix)
        return client.login() if login else client

    return make
