"""The KIS client: one method per endpoint, typed in and out.

The protocol rules it follows, with their sources: docs/ARCHITECTURE.md, 'KIS rules we rely on'.

Build it with :func:`build_client`; it shares its token and rate limiter with every other process
using the same app key through Redis.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, time, timedelta

import redis

from shared.infra.clock import Clock
from shared.infra.redis_keys import Keys, app_key_id
from shared.infra.settings import SIM_APP_KEY, SIM_APP_SECRET, Settings
from shared.kis.errors import KisProtocolError, KisRejected
from shared.kis.models import (
    AccountSummary,
    Balance,
    BuyableCash,
    ChartHeader,
    DailyChartRow,
    Execution,
    Holding,
    MarketDay,
    MinuteChartRow,
    OrderAck,
    OrderRequest,
    Quote,
    Side,
    chart_rows,
)
from shared.kis.rate_limit import RateLimiter, Window
from shared.kis.reachability import KisReachability
from shared.kis.token import TokenCache, token_file
from shared.kis.token_seal import TokenSeal
from shared.kis.tr_ids import QUOTE_HOST_TR_IDS, TrIds, tr_ids
from shared.kis.transport import KisTransport

PRICE_PATH = "/uapi/domestic-stock/v1/quotations/inquire-price"
BALANCE_PATH = "/uapi/domestic-stock/v1/trading/inquire-balance"
BUYABLE_PATH = "/uapi/domestic-stock/v1/trading/inquire-psbl-order"
ORDER_PATH = "/uapi/domestic-stock/v1/trading/order-cash"
CANCEL_PATH = "/uapi/domestic-stock/v1/trading/order-rvsecncl"
EXECUTIONS_PATH = "/uapi/domestic-stock/v1/trading/inquire-daily-ccld"
HOLIDAY_PATH = "/uapi/domestic-stock/v1/quotations/chk-holiday"
HASHKEY_PATH = "/uapi/hashkey"
DAILY_CHART_PATH = "/uapi/domestic-stock/v1/quotations/inquire-daily-itemchartprice"
MINUTE_CHART_PATH = "/uapi/domestic-stock/v1/quotations/inquire-time-dailychartprice"
TODAY_MINUTE_CHART_PATH = "/uapi/domestic-stock/v1/quotations/inquire-time-itemchartprice"

DAILY_CHART_ROWS = 100
"""Most sessions one daily-chart answer holds (OTA inquire_daily_itemchartprice.py: 최대 100건)."""
MINUTE_CHART_ROWS = 120
"""Most minutes one past-day minute answer holds (OTA inquire_time_dailychartprice.py)."""
TODAY_MINUTE_CHART_ROWS = 30
"""Most minutes one today's-minute answer holds (OTA inquire_time_itemchartprice.py)."""
MAX_CHART_CALLS = 500
"""Calls one chart walk may take before the answers are judged broken (a year is 3 daily calls;
a session at most 4 past-minute or 14 today's-minute calls)."""

APPROVAL_KEYS_PER_SECOND = 1.0
"""WebSocket approval keys KIS issues per app key per second (portal notice, 2026-04-20)."""

MARKET = "01"
"""ORD_DVSN of a market order."""
LIMIT = "00"
"""ORD_DVSN of a limit order."""
EXCHANGE = "KRX"
"""EXCG_ID_DVSN_CD sent with the current order ids: this system trades on KRX only."""


class KisQuotes:
    """Typed access to KIS's market data: prices, charts, the calendar, the stream's key.

    Nothing here touches an account or an order: this is all a dry run's ledger (the simulator
    reading live prices, docs/ARCHITECTURE.md, 'Dry run') is given of the KIS host.
    """

    def __init__(self, transport: KisTransport, *, ids: TrIds, holiday_allowed: bool) -> None:
        self.transport = transport
        """The quote host's transport."""
        self.ids = ids
        self._holiday_allowed = holiday_allowed

    # Quotes ------------------------------------------------------------------------------------
    def current_price(self, code: str) -> Quote:
        """The current price of a 6-digit code; KisRejected for a code KIS does not know."""
        params = {"FID_COND_MRKT_DIV_CODE": "J", "FID_INPUT_ISCD": code}
        quote = Quote.from_api(
            code, self.transport.get(PRICE_PATH, self.ids.price, params).body["output"]
        )
        if quote.price == 0:
            # KIS answers an unknown code with a zero price instead of an error.
            raise KisRejected(f"price of {code}: unknown stock code", msg_cd="UNKNOWN_CODE")
        return quote

    # History (docs/ARCHITECTURE.md, 'History') -------------------------------------------------
    def daily_bars(self, code: str, start: date, end: date) -> list[DailyChartRow]:
        """Every session KIS has of ``code`` from ``start`` to ``end``, oldest first, in original
        prices (``FID_ORG_ADJ_PRC=1``, the prices minute bars and live orders use).

        Each answer holds the newest :data:`DAILY_CHART_ROWS` sessions of its window; the next
        window ends the day before the oldest row, until a short answer or ``start`` (the walk of
        OTA ``backtester/kis_backtest/providers/kis/data.py``, ``_get_daily_bars``). KisRejected
        (``UNKNOWN_CODE``) for a code KIS does not know.
        """
        found: dict[date, DailyChartRow] = {}
        window_end = end
        for _ in range(MAX_CHART_CALLS):
            params = {
                "FID_COND_MRKT_DIV_CODE": "J",
                "FID_INPUT_ISCD": code,
                "FID_INPUT_DATE_1": start.strftime("%Y%m%d"),
                "FID_INPUT_DATE_2": window_end.strftime("%Y%m%d"),
                "FID_PERIOD_DIV_CODE": "D",
                "FID_ORG_ADJ_PRC": "1",
            }
            body = self.transport.get(DAILY_CHART_PATH, self.ids.daily_chart, params).body
            rows = [DailyChartRow.from_api(row) for row in chart_rows(body)]
            _check_known(code, body, rows)
            fresh = [r for r in rows if start <= r.day <= window_end and r.day not in found]
            found.update((r.day, r) for r in fresh)
            if len(rows) < DAILY_CHART_ROWS or not fresh:
                return sorted(found.values(), key=lambda r: r.day)
            oldest = min(r.day for r in fresh)
            if oldest <= start:
                return sorted(found.values(), key=lambda r: r.day)
            window_end = oldest - timedelta(days=1)
        raise KisProtocolError(f"daily bars of {code}: more than {MAX_CHART_CALLS} answers")

    def minute_bars(self, code: str, day: date, first: time, last: time) -> list[MinuteChartRow]:
        """The minute bars of ``code`` on a past ``day`` from ``first`` to ``last`` (the
        session's open and close), oldest first; KIS keeps about a year of them.

        Each answer holds at most :data:`MINUTE_CHART_ROWS` minutes up to ``FID_INPUT_HOUR_1``;
        the next asks from the earliest minute of the previous answer, a minute seen twice
        counting once, until a short answer or ``first`` (OTA ``backtester/kis_backtest/
        providers/kis/data.py``, ``_get_minute_bars``). KisRejected (``UNKNOWN_CODE``) for a code
        KIS does not know.
        """
        params = {
            "FID_COND_MRKT_DIV_CODE": "J",
            "FID_INPUT_ISCD": code,
            "FID_INPUT_DATE_1": day.strftime("%Y%m%d"),
            "FID_PW_DATA_INCU_YN": "N",
            "FID_FAKE_TICK_INCU_YN": "",
        }
        return self._minute_walk(
            code,
            day,
            first,
            last,
            MINUTE_CHART_PATH,
            self.ids.minute_chart,
            params,
            MINUTE_CHART_ROWS,
        )

    def today_minute_bars(
        self, code: str, today: date, first: time, last: time
    ) -> list[MinuteChartRow]:
        """Today's minute bars of ``code`` from ``first`` up to ``last`` (now, or the close),
        oldest first, :data:`TODAY_MINUTE_CHART_ROWS` an answer, walked like
        :meth:`minute_bars`. The minute in progress is a partial bar."""
        params = {
            "FID_COND_MRKT_DIV_CODE": "J",
            "FID_INPUT_ISCD": code,
            "FID_PW_DATA_INCU_YN": "N",
            "FID_ETC_CLS_CODE": "",
        }
        return self._minute_walk(
            code,
            today,
            first,
            last,
            TODAY_MINUTE_CHART_PATH,
            self.ids.today_minute_chart,
            params,
            TODAY_MINUTE_CHART_ROWS,
        )

    def _minute_walk(
        self,
        code: str,
        day: date,
        first: time,
        last: time,
        path: str,
        tr_id: str,
        params: Mapping[str, str],
        page_rows: int,
    ) -> list[MinuteChartRow]:
        found: dict[time, MinuteChartRow] = {}
        cursor = last
        for _ in range(MAX_CHART_CALLS):
            query = {**params, "FID_INPUT_HOUR_1": cursor.strftime("%H%M%S")}
            body = self.transport.get(path, tr_id, query).body
            rows = [MinuteChartRow.from_api(row) for row in chart_rows(body)]
            _check_known(code, body, rows)
            own = [r for r in rows if r.day == day and first <= r.minute <= last]
            fresh = [r for r in own if r.minute not in found]
            found.update((r.minute, r) for r in fresh)
            if len(rows) < page_rows or not fresh:
                break
            cursor = min(r.minute for r in fresh)
            if cursor <= first:
                break
        else:
            raise KisProtocolError(f"minute bars of {code} on {day}: more than {MAX_CHART_CALLS}")
        return sorted(found.values(), key=lambda r: r.minute)

    # Calendar and keys -------------------------------------------------------------------------
    def market_days(self, start: date) -> list[MarketDay]:
        """KIS's calendar from ``start`` on; real host and simulator only, about 1 call a day."""
        if not self._holiday_allowed:
            raise KisRejected("the holiday check (CTCA0903R) is not available on the paper host")
        params = {"BASS_DT": start.strftime("%Y%m%d"), "CTX_AREA_NK": "", "CTX_AREA_FK": ""}
        days: list[MarketDay] = []
        for answer in self.transport.get_pages(HOLIDAY_PATH, self.ids.holiday, params):
            days.extend(MarketDay.from_api(row) for row in answer.body.get("output") or [])
        return days

    def approval_key(self) -> str:
        """The WebSocket approval key (of the quote host, whose stream the prices come on)."""
        return self.transport.approval_key()


class KisClient(KisQuotes):
    """Typed access to every KIS endpoint this system uses: the quotes of :class:`KisQuotes`
    and the account and its orders, sent through :attr:`orders`.

    In every mode but a dry run both are one transport to one host. In a dry run
    :func:`build_client` gives :attr:`orders` the local ledger's URL and nothing else.
    """

    def __init__(
        self,
        transport: KisTransport,
        *,
        account: str,
        ids: TrIds,
        legacy_orders: bool,
        use_hashkey: bool,
        holiday_allowed: bool,
        orders: KisTransport | None = None,
    ) -> None:
        super().__init__(transport, ids=ids, holiday_allowed=holiday_allowed)
        self.orders = orders or transport
        """The transport of account reads and orders (the quotes' own unless given)."""
        self._cano, self._product = account.split("-")
        self._legacy = legacy_orders
        self._use_hashkey = use_hashkey

    # Account -----------------------------------------------------------------------------------
    def balance(self) -> Balance:
        """Every holding over every page, and the account summary."""
        params = {
            **self._account(),
            "AFHR_FLPR_YN": "N",
            "OFL_YN": "",
            "INQR_DVSN": "02",
            "UNPR_DVSN": "01",
            "FUND_STTL_ICLD_YN": "N",
            "FNCG_AMT_AUTO_RDPT_YN": "N",
            "PRCS_DVSN": "00",
            "CTX_AREA_FK100": "",
            "CTX_AREA_NK100": "",
        }
        holdings: list[Holding] = []
        summary_row: Mapping[str, object] = {}
        pages = 0
        for answer in self.orders.get_pages(BALANCE_PATH, self.ids.balance, params):
            pages += 1
            holdings.extend(Holding.from_api(row) for row in answer.body.get("output1") or [])
            summaries = answer.body.get("output2") or []
            if summaries:
                summary_row = summaries[0]
        return Balance(tuple(holdings), AccountSummary.from_api(summary_row), pages)

    def buyable_cash(self, code: str, price: int | None = None) -> BuyableCash:
        """What can be bought of ``code`` without margin, at ``price`` or at market."""
        params = {
            **self._account(),
            "PDNO": code,
            "ORD_UNPR": str(price or 0),
            # Official advice: ask with the market-order type, limit ignores the margin rate.
            "ORD_DVSN": MARKET if price is None else LIMIT,
            "CMA_EVLU_AMT_ICLD_YN": "N",
            "OVRS_ICLD_YN": "N",
        }
        return BuyableCash.from_api(
            self.orders.get(BUYABLE_PATH, self.ids.buyable, params).body["output"]
        )

    # Orders ------------------------------------------------------------------------------------
    def buy(self, code: str, quantity: int, price: int | None = None) -> OrderAck:
        """A cash buy, market when ``price`` is None. Sent once; see :meth:`place`."""
        return self.place(OrderRequest(code, Side.BUY, quantity, price))

    def sell(self, code: str, quantity: int, price: int | None = None) -> OrderAck:
        """A cash sell, market when ``price`` is None. Sent once; see :meth:`place`."""
        return self.place(OrderRequest(code, Side.SELL, quantity, price))

    def place(self, order: OrderRequest) -> OrderAck:
        """Send a cash order exactly once.

        Raises KisRejected (final), KisTemporaryError (nothing happened: may retry) or
        KisOutcomeUnknown (the answer was lost: reconcile with :meth:`daily_executions`).
        """
        body = {
            **self._account_body(),
            "PDNO": order.code,
            "ORD_DVSN": MARKET if order.price is None else LIMIT,
            "ORD_QTY": str(order.quantity),
            "ORD_UNPR": str(order.price or 0),
        }
        if not self._legacy:
            body["EXCG_ID_DVSN_CD"] = EXCHANGE
            if order.side is Side.SELL:
                body["SLL_TYPE"] = "01"
        tr_id = self.ids.buy if order.side is Side.BUY else self.ids.sell
        answer = self._post_order(ORDER_PATH, tr_id, body, order.describe())
        return OrderAck.from_api(answer, order)

    def cancel(self, order: OrderAck, quantity: int | None = None) -> OrderAck:
        """Cancel what is left of ``order`` (all of it, or ``quantity`` shares)."""
        body = {
            **self._account_body(),
            "KRX_FWDG_ORD_ORGNO": order.branch_no,
            "ORGN_ODNO": order.order_no,
            "ORD_DVSN": LIMIT,
            "RVSE_CNCL_DVSN_CD": "02",
            "ORD_QTY": str(quantity or 0),
            "ORD_UNPR": "0",
            "QTY_ALL_ORD_YN": "N" if quantity else "Y",
        }
        if not self._legacy:
            body["EXCG_ID_DVSN_CD"] = EXCHANGE
        answer = self._post_order(CANCEL_PATH, self.ids.cancel, body, f"cancel {order.order_no}")
        return OrderAck.from_api(answer)

    def daily_executions(
        self,
        start: date,
        end: date | None = None,
        *,
        side: Side | None = None,
        code: str = "",
        filled_only: bool = False,
        order_no: str = "",
    ) -> list[Execution]:
        """Orders placed from ``start`` to ``end`` (default: that day), oldest first, all pages."""
        params = {
            **self._account(),
            "INQR_STRT_DT": start.strftime("%Y%m%d"),
            "INQR_END_DT": (end or start).strftime("%Y%m%d"),
            "SLL_BUY_DVSN_CD": side.value if side else "00",
            "INQR_DVSN": "01",
            "PDNO": code,
            "CCLD_DVSN": "01" if filled_only else "00",
            "ORD_GNO_BRNO": "",
            "ODNO": order_no,
            "INQR_DVSN_3": "00",
            "INQR_DVSN_1": "",
            "CTX_AREA_FK100": "",
            "CTX_AREA_NK100": "",
        }
        if not self._legacy:
            params["EXCG_ID_DVSN_CD"] = EXCHANGE
        rows: list[Execution] = []
        for answer in self.orders.get_pages(EXECUTIONS_PATH, self.ids.daily_executions, params):
            rows.extend(Execution.from_api(row) for row in answer.body.get("output1") or [])
        return rows

    # Order keys --------------------------------------------------------------------------------
    def hashkey(self, body: Mapping[str, str]) -> str:
        """KIS's hash of an order body (optional since 2025; off unless KIS_USE_HASHKEY), from
        the host the order goes to."""
        return self.orders.hashkey(HASHKEY_PATH, body)

    # Helpers -----------------------------------------------------------------------------------
    def _post_order(
        self, path: str, tr_id: str, body: dict[str, str], context: str
    ) -> Mapping[str, object]:
        headers = {"hashkey": self.hashkey(body)} if self._use_hashkey else {}
        answer = self.orders.post_order(path, tr_id, body, context, headers=headers)
        output = answer.body.get("output") or {}
        return output if isinstance(output, Mapping) else {}

    def _account(self) -> dict[str, str]:
        return {"CANO": self._cano, "ACNT_PRDT_CD": self._product}

    def _account_body(self) -> dict[str, str]:
        return self._account()


def _check_known(code: str, body: Mapping[str, object], rows: Sequence[object]) -> None:
    """KisRejected when a chart answer is KIS's for a code it does not list: no rows and a
    zero price in ``output1`` (as inquire-price answers an unknown code)."""
    header = body.get("output1")
    if rows or not isinstance(header, Mapping):
        return
    if ChartHeader.from_api(header).price == 0:
        raise KisRejected(f"chart of {code}: unknown stock code", msg_cd="UNKNOWN_CODE")


def build_client(
    settings: Settings, client: redis.Redis, clock: Clock, *, wait_timeout_seconds: float = 90.0
) -> KisClient:
    """A client for ``settings`` whose token and limiter are shared through ``client``.

    In a dry run (docs/ARCHITECTURE.md, 'Dry run') the quotes' transport is read-only (it
    refuses every tr_id but the quote host's, before sending) and the orders' transport is built
    from :attr:`Settings.order_base_url`, the local ledger, with the simulator's demo keys: no
    order, cancel, buyable-cash, balance or executions request has a way to the KIS host.
    """
    ids = tr_ids(settings.rules, settings.kis_order_tr_ids)
    quotes = _transport(
        settings,
        client,
        clock,
        env=settings.quote_env,
        base_url=settings.base_url,
        app_key=settings.app_key,
        app_secret=settings.app_secret,
        wait_timeout_seconds=wait_timeout_seconds,
        read_only=settings.dry_run,
    )
    orders = None
    if settings.dry_run:
        orders = _transport(
            settings,
            client,
            clock,
            env=settings.kis_env,
            base_url=settings.order_base_url,
            app_key=SIM_APP_KEY,
            app_secret=SIM_APP_SECRET,
            wait_timeout_seconds=wait_timeout_seconds,
            read_only=False,
        )
    return KisClient(
        quotes,
        account=settings.account,
        ids=ids,
        legacy_orders=settings.kis_order_tr_ids == "legacy",
        use_hashkey=settings.kis_use_hashkey,
        holiday_allowed=settings.quote_env != "paper",
        orders=orders,
    )


def build_quote_client(
    settings: Settings, client: redis.Redis, clock: Clock, *, wait_timeout_seconds: float = 90.0
) -> KisQuotes:
    """Quotes only, from the quote host of ``settings``, read-only, sharing the token and
    limiter of its app key: what a dry run's ledger reads its prices with."""
    transport = _transport(
        settings,
        client,
        clock,
        env=settings.quote_env,
        base_url=settings.base_url,
        app_key=settings.app_key,
        app_secret=settings.app_secret,
        wait_timeout_seconds=wait_timeout_seconds,
        read_only=True,
    )
    return KisQuotes(
        transport,
        ids=tr_ids(settings.rules, settings.kis_order_tr_ids),
        holiday_allowed=settings.quote_env != "paper",
    )


def _transport(
    settings: Settings,
    client: redis.Redis,
    clock: Clock,
    *,
    env: str,
    base_url: str,
    app_key: str,
    app_secret: str,
    wait_timeout_seconds: float,
    read_only: bool,
) -> KisTransport:
    """One host's transport: its limiter, approval limiter, token and outage key in Redis under
    ``env`` and the app key's id, shared with every process using the same key there."""
    keys = Keys(settings.redis_prefix)
    key_id = app_key_id(app_key)
    limiter = RateLimiter(
        client,
        keys.rate_window(env, key_id),
        keys.rate_waits(env, key_id),
        Window.for_rate(settings.rate_limit, settings.kis_rate_margin_seconds),
        answer_key=keys.rate_answer(env, key_id),
    )
    transport = KisTransport(
        base_url=base_url,
        app_key=app_key,
        app_secret=app_secret,
        tokens=None,
        limiter=limiter,
        timeout=(settings.kis_connect_timeout_seconds, settings.kis_read_timeout_seconds),
        approval_limiter=RateLimiter(
            client,
            keys.approval_window(env, key_id),
            keys.approval_waits(env, key_id),
            Window.for_rate(APPROVAL_KEYS_PER_SECOND, settings.kis_rate_margin_seconds),
        ),
        # Errors and outages under KIS_ENV: what this system's readers look at, whichever host.
        error_counter=(client, keys.kis_errors(settings.kis_env)),
        backoff_seconds=settings.kis_retry_backoff_seconds,
        reachability=KisReachability(client, keys.kis_outage(settings.kis_env)),
        allowed_tr_ids=QUOTE_HOST_TR_IDS if read_only else None,
    )
    transport.tokens = TokenCache(
        client,
        token_key=keys.token(env, key_id),
        guard_key=keys.token_issue_guard(env, key_id),
        issued_key=keys.token_issuances(env, key_id),
        clock=clock,
        issue=transport.issue_token,
        seal=TokenSeal(app_secret),
        refresh_before=timedelta(minutes=settings.kis_token_refresh_minutes),
        issue_interval_seconds=settings.kis_token_issue_interval_seconds,
        wait_timeout_seconds=wait_timeout_seconds,
        file=token_file(settings.data_dir, env, key_id),
    )
    return transport
