"""The account survives a restart (Redis under the simulator's prefix); reset forgets it."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable

import redis

from tests.conftest import ROOT, Sim, free_port, service_env
from tests.kis_sim.conftest import ACCOUNT, KisClient, KisFactory, fast_env, run_to_exit


def test_restart_keeps_cash_holdings_orders_and_executions(
    kis: KisFactory, redis_client: redis.Redis
) -> None:
    first = kis()
    first.sim.admin("POST", "prices", json={"005930": [["00:00", 70_000]]})
    bought = first.placed("buy", "005930", 5)
    resting = first.placed("buy", "005930", 2, division="00", price=60_000)
    before = (first.summary(), first.holdings(), first.execution_rows())
    assert redis_client.sismember("kis_sim:accounts", "50000000-01")
    first.sim.service.stop()

    second = kis()
    second.sim.admin("POST", "prices", json={"005930": [["00:00", 70_000]]})
    assert (second.summary(), second.holdings(), second.execution_rows()) == before
    assert [r["odno"] for r in second.execution_rows()] == [resting, bought]
    # The resting order still works, and order numbers go on from where they were.
    assert second.cancel(resting).json()["rt_cd"] == "0"
    assert second.placed("buy", "005930", 1) > resting
    assert second.buyable("005930")["ord_psbl_cash"] == str(10_000_000 - 6 * 70_000)


def test_admin_reset_and_the_reset_command_forget_the_account(
    kis: KisFactory, redis_url: str, redis_client: redis.Redis
) -> None:
    client = kis()
    client.placed("buy", "005930", 1)
    assert redis_client.keys("kis_sim:*")
    client.sim.admin("POST", "reset")
    assert redis_client.keys("kis_sim:*") == []

    client.login().placed("buy", "005930", 1)
    client.sim.service.stop()
    redis_client.set("unrelated", "stays")
    result = subprocess.run(
        [sys.executable, "-m", "services.kis_sim", "reset"],
        env=service_env(redis_url),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "deleted 4 simulator key(s) under 'kis_sim:'" in result.stdout
    assert redis_client.keys("kis_sim:*") == []
    assert redis_client.get("unrelated") == b"stays"
    assert kis().holdings() == {}


def test_prefix_is_a_setting(kis: KisFactory, redis_client: redis.Redis) -> None:
    kis(SIM_REDIS_PREFIX="sim2:").placed("buy", "005930", 1)
    assert redis_client.keys("kis_sim:*") == []
    assert set(redis_client.keys("sim2:*")) == {
        b"sim2:accounts",
        b"sim2:last_odno",
        b"sim2:account:50000000-01",
        b"sim2:orders:50000000-01",
    }


def test_unreachable_redis_refuses_to_start_unless_memory_is_chosen(
    start_sim: Callable[..., Sim], redis_url: str
) -> None:
    dead = f"redis://127.0.0.1:{free_port()}/0"
    result = run_to_exit(dead, SIM_PORT=str(free_port()), **fast_env())
    assert result.returncode == 1
    assert "SIM_STORE=memory" in result.stdout + result.stderr

    sim = start_sim(REDIS_URL=dead, SIM_STORE="memory", **fast_env())
    client = KisClient(sim).login()
    client.placed("buy", "005930", 1)
    assert "accounts and orders are lost when the simulator stops" in sim.service.output()


def test_bad_usage_exits_2(redis_url: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "services.kis_sim", "wipe"],
        env=service_env(redis_url),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2
    assert "usage" in result.stderr


def test_replacing_an_account_drops_its_stored_orders(kis: KisFactory) -> None:
    first = kis()
    first.placed("buy", "005930", 1)
    holdings = [{"code": "000660", "qty": 3, "avg_price": 200_000}]
    first.sim.admin("POST", "accounts", json={"account": ACCOUNT, "cash": 5, "holdings": holdings})
    first.sim.service.stop()
    second = kis()
    assert second.execution_rows() == []
    assert list(second.holdings()) == ["000660"]
    assert second.summary()["dnca_tot_amt"] == "5"
