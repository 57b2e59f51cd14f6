"""Money as KIS counts it: upper-limit valuation of market buys, D+2 settlement, fees and tax."""

from __future__ import annotations

from tests.kis_sim.conftest import ACCOUNT, KisClient, KisFactory, rejection

PRICE = {"005930": [["00:00", 70_000]]}
"""A flat 70,000: the previous close is 70,000 too, so the upper limit is 91,000."""


def test_market_buy_is_valued_at_the_upper_limit_when_set(kis: KisFactory) -> None:
    client = kis(SIM_MARKET_BUY_VALUATION="upper_limit")
    client.sim.admin("POST", "prices", json=PRICE)
    buyable = client.buyable("005930")
    assert buyable["psbl_qty_calc_unpr"] == "91000"
    assert (buyable["nrcvb_buy_qty"], buyable["max_buy_qty"]) == ("109", "109")  # 10 M // 91,000
    assert buyable["ord_psbl_cash"] == "10000000"
    # A limit order is valued at its own price.
    assert client.buyable("005930", "70000", "00")["nrcvb_buy_qty"] == "142"

    client.sim.admin("POST", "accounts", json={"account": ACCOUNT, "cash": 150_000})
    # 2 × 70,000 fits, but 2 × 91,000 does not: KIS refuses the market buy.
    assert rejection(client.order("buy", "005930", 2)) == (
        200,
        "40910000",
        "모의투자 주문가능금액을 초과했습니다.",
    )
    client.placed("buy", "005930", 2, division="00", price=70_000)
    client.sim.admin("POST", "accounts", json={"account": ACCOUNT, "cash": 100_000})
    client.placed("buy", "005930", 1)  # 91,000 reserved, filled and settled at 70,000
    assert client.holdings()["005930"]["pchs_avg_pric"] == "70000.0000"
    assert client.summary()["dnca_tot_amt"] == "30000"


def test_a_market_buy_is_valued_at_the_upper_limit_unless_turned_off(
    client: KisClient, kis: KisFactory
) -> None:
    client.sim.admin("POST", "prices", json=PRICE)
    client.sim.admin("POST", "accounts", json={"account": ACCOUNT, "cash": 150_000})
    assert client.buyable("005930")["psbl_qty_calc_unpr"] == "91000"
    assert rejection(client.order("buy", "005930", 2))[1] == "40910000"  # 2 x 91,000 > 150,000
    client.placed("buy", "005930", 1)
    current = kis(SIM_MARKET_BUY_VALUATION="current")
    current.sim.admin("POST", "prices", json=PRICE)
    current.sim.admin("POST", "accounts", json={"account": ACCOUNT, "cash": 150_000})
    assert current.buyable("005930")["psbl_qty_calc_unpr"] == "70000"
    current.placed("buy", "005930", 2)


def test_settlement_at_d_plus_2_across_restarts(kis: KisFactory) -> None:
    client = kis(SIM_SETTLEMENT_DAYS="2")  # Tuesday 2026-03-03 10:00
    client.sim.admin("POST", "prices", json={"005930": [["00:00", 70_000]]})
    client.placed("buy", "005930", 10)
    summary = client.summary()
    assert summary["dnca_tot_amt"] == "10000000"  # unchanged on the trade day
    assert summary["nxdy_excc_amt"] == "10000000"  # settles Thursday, not tomorrow
    assert summary["prvs_rcdl_excc_amt"] == "9300000"
    assert summary["tot_evlu_amt"] == str(9_300_000 + 700_000)
    assert client.buyable("005930")["ord_psbl_cash"] == "9300000"

    client.sim.admin("POST", "prices", json={"005930": [["00:00", 80_000]]})
    client.placed("sell", "005930", 10)
    row = client.holdings()["005930"]
    assert (row["hldg_qty"], row["thdt_sll_qty"]) == ("0", "10")
    assert client.buyable("005930")["ord_psbl_cash"] == "10100000"  # the sale counts at once
    assert client.summary()["dnca_tot_amt"] == "10000000"
    client.sim.service.stop()

    # Wednesday: both trades settle tomorrow (D+1 of today); the sold row is still listed.
    wednesday = kis(SIM_SETTLEMENT_DAYS="2", CLOCK_START="2026-03-04T10:00:00+09:00")
    summary = wednesday.summary()
    assert (summary["dnca_tot_amt"], summary["nxdy_excc_amt"]) == ("10000000", "10100000")
    assert summary["prvs_rcdl_excc_amt"] == "10100000"
    assert summary["thdt_buy_amt"] == "0"
    assert summary["bfdy_buy_amt"] == "700000"
    assert wednesday.holdings()["005930"]["hldg_qty"] == "0"
    wednesday.sim.service.stop()

    # Thursday (D+2): settled; the sold-out row is gone.
    thursday = kis(SIM_SETTLEMENT_DAYS="2", CLOCK_START="2026-03-05T10:00:00+09:00")
    summary = thursday.summary()
    assert {summary[k] for k in ("dnca_tot_amt", "nxdy_excc_amt", "prvs_rcdl_excc_amt")} == {
        "10100000"
    }
    assert thursday.holdings() == {}


def test_fees_and_tax_are_charged_and_shown(kis: KisFactory) -> None:
    client = kis(SIM_FEE_PCT="0.015", SIM_SELL_TAX_PCT="0.20")
    client.sim.admin("POST", "prices", json={"005930": [["00:00", 70_000]]})
    client.placed("buy", "005930", 10)  # 700,000 + fee 105
    assert client.buyable("005930")["ord_psbl_cash"] == str(10_000_000 - 700_105)
    row = client.holdings()["005930"]
    assert (row["pchs_amt"], row["pchs_avg_pric"]) == ("700000", "70000.0000")  # fees apart
    client.sim.admin("POST", "prices", json={"005930": [["00:00", 80_000]]})
    client.placed("sell", "005930", 10)  # 800,000 - fee 120 - tax 1,600
    summary = client.summary()
    cash = 10_000_000 - 700_105 + 800_000 - 120 - 1_600
    assert summary["dnca_tot_amt"] == str(cash)
    assert summary["thdt_tlex_amt"] == str(105 + 120 + 1_600)
    executions = client.executions().json()["output2"]
    assert executions["prsm_tlex_smtl"] == str(105 + 120 + 1_600)
    [order] = [o for o in client.sim.admin("GET", "orders").json()["orders"] if o["side"] == "sell"]
    assert [(f["fee"], f["tax"]) for f in order["fills"]] == [(120, 1_600)]


def test_the_buy_fee_limits_the_buyable_quantity(kis: KisFactory) -> None:
    client = kis(SIM_FEE_PCT="0.015", SIM_INITIAL_CASH="700000", SIM_MARKET_BUY_VALUATION="current")
    client.sim.admin("POST", "prices", json={"005930": [["00:00", 70_000]]})
    buyable = client.buyable("005930")
    assert buyable["nrcvb_buy_qty"] == "9"  # 10 shares would cost 700,105
    assert buyable["nrcvb_buy_amt"] == "699896"  # + fee 104 (cut below one won) = 700,000
    assert rejection(client.order("buy", "005930", 10))[1] == "40910000"
    client.placed("buy", "005930", 9)


def test_kis_profile_turns_every_kis_rule_on(kis: KisFactory) -> None:
    client = kis(SIM_PROFILE="kis")
    client.sim.admin("POST", "prices", json=PRICE)
    assert client.buyable("005930")["psbl_qty_calc_unpr"] == "91000"
    client.placed("buy", "005930", 10)
    summary = client.summary()
    fee = 700_000 * 140527 // 1_000_000_000  # 0.0140527 % cut below one won: 98
    assert summary["dnca_tot_amt"] == "10000000"
    assert summary["prvs_rcdl_excc_amt"] == str(10_000_000 - 700_000 - fee)
    assert summary["thdt_tlex_amt"] == str(fee)
    # A code KIS does not list answers like KIS.
    assert client.quote("123456")["stck_prpr"] == "0"
