"""Typed KIS answers: frozen dataclasses built by ``from_api``; money in won, rates in Decimal."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from shared.infra.clock import KST

Row = Mapping[str, Any]


class Side(StrEnum):
    """Order side; the value is KIS's ``sll_buy_dvsn_cd``."""

    SELL = "01"
    BUY = "02"

    @property
    def label(self) -> str:
        """``buy`` or ``sell``."""
        return self.name.lower()


def won(value: Any) -> int:
    """KIS's string amount (``"70000"``, ``"70000.0000"``, ``""``) as int won."""
    return int(dec(value))


def dec(value: Any) -> Decimal:
    """KIS's string number as Decimal; blank is zero."""
    text = str(value).strip() if value is not None else ""
    if not text:
        return Decimal(0)
    try:
        return Decimal(text)
    except InvalidOperation as e:
        raise ValueError(f"not a number: {text!r}") from e


def yes(value: Any) -> bool:
    """KIS's ``Y``/``N`` flag."""
    return str(value).strip().upper() == "Y"


def ymd(value: str) -> date:
    """``YYYYMMDD`` as a date."""
    return datetime.strptime(value, "%Y%m%d").date()


ORDER_NO_DIGITS = 10
"""KIS order numbers are kept as 10 digits, zero-padded, the way its order answers write them."""


def order_number(value: Any) -> str:
    """A KIS order number (``ODNO``, ``odno``, ``ORGN_ODNO``, the fill notice's ``ODER_NO``) in
    the one spelling the system keeps: 10 digits, zero-padded (``117057`` -> ``0000117057``).

    Blank or all zeros means no order ("" : an original order's ``orgn_odno``); anything that
    is not digits is kept as sent, trimmed. See docs/ARCHITECTURE.md, 'KIS rules we rely on'.
    """
    text = str(value).strip() if value is not None else ""
    if not text.isdigit():
        return text
    return text.zfill(ORDER_NO_DIGITS) if text.strip("0") else ""


def hhmmss(value: str) -> time:
    """KIS's ``HHMMSS`` time of day (``stck_cntg_hour``)."""
    return datetime.strptime(value.strip(), "%H%M%S").time()


def broker_time_kst(day: date, hhmmss: str) -> datetime | None:
    """KIS's ``HHMMSS`` time (``ord_tmd``) on ``day``, in KST; None when unreadable."""
    try:
        moment = datetime.strptime(hhmmss.strip(), "%H%M%S").time()
    except ValueError:
        return None
    return datetime.combine(day, moment, KST)


@dataclass(frozen=True)
class AccessToken:
    """An access token and the moment it expires, as KIS says it (KST: the system clock in a
    simulated run, the simulator's)."""

    value: str
    expires_kst: datetime

    @classmethod
    def from_api(cls, body: Row) -> AccessToken:
        expires = datetime.strptime(body["access_token_token_expired"], "%Y-%m-%d %H:%M:%S")
        return cls(value=str(body["access_token"]), expires_kst=expires.replace(tzinfo=KST))

    def __repr__(self) -> str:
        return f"AccessToken(value='***', expires_kst={self.expires_kst.isoformat()})"


@dataclass(frozen=True)
class Quote:
    """Current price of one stock (FHKST01010100)."""

    code: str
    price: int
    change: int
    change_rate: Decimal
    volume: int
    open: int
    high: int
    low: int
    base_price: int
    upper_limit: int
    lower_limit: int
    tick: int
    halted: bool
    vi: bool = False
    """A volatility interruption holds the code now (``vi_cls_code`` ``Y``): a single-price
    auction of about 2 minutes, orders taken, nothing filled (docs/ARCHITECTURE.md, 'Auctions
    and volatility interruptions')."""

    @classmethod
    def from_api(cls, code: str, out: Row) -> Quote:
        return cls(
            code=code,
            price=won(out["stck_prpr"]),
            change=won(out.get("prdy_vrss")),
            change_rate=dec(out.get("prdy_ctrt")),
            volume=won(out.get("acml_vol")),
            open=won(out.get("stck_oprc")),
            high=won(out.get("stck_hgpr")),
            low=won(out.get("stck_lwpr")),
            base_price=won(out.get("stck_sdpr")),
            upper_limit=won(out.get("stck_mxpr")),
            lower_limit=won(out.get("stck_llam")),
            tick=won(out.get("aspr_unit")),
            halted=yes(out.get("temp_stop_yn")),
            vi=yes(out.get("vi_cls_code")),
        )


@dataclass(frozen=True)
class Holding:
    """One row of the balance (``output1``): a position in the account."""

    code: str
    name: str
    quantity: int
    orderable_quantity: int
    average_price: Decimal
    purchase_amount: int
    current_price: int
    evaluation_amount: int
    profit_amount: int
    profit_rate: Decimal

    @classmethod
    def from_api(cls, row: Row) -> Holding:
        return cls(
            code=str(row["pdno"]),
            name=str(row.get("prdt_name", "")),
            quantity=won(row["hldg_qty"]),
            orderable_quantity=won(row.get("ord_psbl_qty")),
            average_price=dec(row.get("pchs_avg_pric")),
            purchase_amount=won(row.get("pchs_amt")),
            current_price=won(row.get("prpr")),
            evaluation_amount=won(row.get("evlu_amt")),
            profit_amount=won(row.get("evlu_pfls_amt")),
            profit_rate=dec(row.get("evlu_pfls_rt")),
        )


@dataclass(frozen=True)
class AccountSummary:
    """The balance's summary row (``output2[0]``)."""

    deposit: int
    next_day_cash: int
    settlement_cash: int
    securities_value: int
    total_value: int
    purchase_total: int
    profit_total: int

    @classmethod
    def from_api(cls, row: Row) -> AccountSummary:
        return cls(
            deposit=won(row.get("dnca_tot_amt")),
            next_day_cash=won(row.get("nxdy_excc_amt")),
            settlement_cash=won(row.get("prvs_rcdl_excc_amt")),
            securities_value=won(row.get("scts_evlu_amt")),
            total_value=won(row.get("tot_evlu_amt")),
            purchase_total=won(row.get("pchs_amt_smtl_amt")),
            profit_total=won(row.get("evlu_pfls_smtl_amt")),
        )


@dataclass(frozen=True)
class Balance:
    """Every holding (all pages) and the account summary."""

    holdings: tuple[Holding, ...]
    summary: AccountSummary
    pages: int

    def held(self) -> dict[str, Holding]:
        """Holdings with a quantity above zero (sold rows stay listed until D+2), by code."""
        return {h.code: h for h in self.holdings if h.quantity > 0}


@dataclass(frozen=True)
class BuyableCash:
    """What can be bought now (TTTC8908R), without margin unless named ``max_``."""

    orderable_cash: int
    buy_amount: int
    buy_quantity: int
    max_buy_amount: int
    max_buy_quantity: int

    @classmethod
    def from_api(cls, out: Row) -> BuyableCash:
        return cls(
            orderable_cash=won(out.get("ord_psbl_cash")),
            buy_amount=won(out.get("nrcvb_buy_amt")),
            buy_quantity=won(out.get("nrcvb_buy_qty")),
            max_buy_amount=won(out.get("max_buy_amt")),
            max_buy_quantity=won(out.get("max_buy_qty")),
        )


@dataclass(frozen=True)
class OrderRequest:
    """A cash order as we send it. ``price`` None means a market order."""

    code: str
    side: Side
    quantity: int
    price: int | None = None

    def __post_init__(self) -> None:
        if len(self.code) != 6 or not self.code.isdigit():
            raise ValueError(f"stock code must be 6 digits, got {self.code!r}")
        if self.quantity <= 0:
            raise ValueError(f"order quantity must be positive, got {self.quantity}")
        if self.price is not None and self.price <= 0:
            raise ValueError(f"limit price must be positive, got {self.price}")

    def describe(self) -> str:
        """``buy 005930 x10 @market`` — what error messages and logs say about the order."""
        at = "market" if self.price is None else f"{self.price}"
        return f"{self.side.label} {self.code} x{self.quantity} @{at}"


@dataclass(frozen=True)
class OrderAck:
    """KIS accepted an order (or a cancel): keep both numbers, the cancel needs the branch.

    ``order_no`` is in :func:`order_number`'s spelling.
    """

    order_no: str
    branch_no: str
    order_time: str
    request: OrderRequest | None = None

    @classmethod
    def from_api(cls, out: Row, request: OrderRequest | None = None) -> OrderAck:
        # order-cash answers in upper case, order-rvsecncl in lower case.
        def pick(name: str) -> str:
            return str(out.get(name.upper(), out.get(name.lower(), "")))

        return cls(
            order_no=order_number(pick("odno")),
            branch_no=pick("krx_fwdg_ord_orgno"),
            order_time=pick("ord_tmd"),
            request=request,
        )


@dataclass(frozen=True)
class Execution:
    """One order of the daily order/execution inquiry and how much of it filled.

    ``order_no`` and ``original_order_no`` (a cancel's or revision's original; "" for an original
    order) are in :func:`order_number`'s spelling.
    """

    order_date: date
    order_no: str
    original_order_no: str
    branch_no: str
    side: Side
    code: str
    name: str
    order_quantity: int
    order_price: int
    order_time: str
    filled_quantity: int
    average_fill_price: Decimal
    filled_amount: int
    remaining_quantity: int
    rejected_quantity: int
    cancelled: bool

    @property
    def placed_kst(self) -> datetime | None:
        """When KIS took the order (``ord_dt`` + ``ord_tmd``); None if unreadable."""
        return broker_time_kst(self.order_date, self.order_time)

    @classmethod
    def from_api(cls, row: Row) -> Execution:
        return cls(
            order_date=ymd(str(row["ord_dt"])),
            order_no=order_number(row["odno"]),
            original_order_no=order_number(row.get("orgn_odno", "")),
            branch_no=str(row.get("ord_gno_brno", "")),
            side=Side(str(row["sll_buy_dvsn_cd"])),
            code=str(row["pdno"]),
            name=str(row.get("prdt_name", "")),
            order_quantity=won(row.get("ord_qty")),
            order_price=won(row.get("ord_unpr")),
            order_time=str(row.get("ord_tmd", "")),
            filled_quantity=won(row.get("tot_ccld_qty")),
            average_fill_price=dec(row.get("avg_prvs")),
            filled_amount=won(row.get("tot_ccld_amt")),
            remaining_quantity=won(row.get("rmn_qty")),
            rejected_quantity=won(row.get("rjct_qty")),
            cancelled=yes(row.get("cncl_yn")),
        )


@dataclass(frozen=True)
class MarketDay:
    """One day of KIS's holiday calendar (CTCA0903R)."""

    day: date
    business_day: bool
    trading_day: bool
    market_open: bool
    settlement_day: bool

    @classmethod
    def from_api(cls, row: Row) -> MarketDay:
        return cls(
            day=ymd(str(row["bass_dt"])),
            business_day=yes(row.get("bzdy_yn")),
            trading_day=yes(row.get("tr_day_yn")),
            market_open=yes(row.get("opnd_yn")),
            settlement_day=yes(row.get("sttl_day_yn")),
        )


@dataclass(frozen=True)
class ChartHeader:
    """``output1`` of the chart endpoints: the code's name and price as of the answer."""

    name: str
    price: int
    previous_close: int

    @classmethod
    def from_api(cls, out: Row) -> ChartHeader:
        return cls(
            name=str(out.get("hts_kor_isnm", "")).strip(),
            price=won(out.get("stck_prpr")),
            previous_close=won(out.get("stck_prdy_clpr")),
        )


@dataclass(frozen=True)
class DailyChartRow:
    """One session of ``inquire-daily-itemchartprice`` (FHKST03010100) ``output2``, in won.

    Numbers are as KIS sent them, unchecked: a halted session may carry a volume of 0 and prices
    that are not a trade's. ``lock_code``, ``split_rate`` and ``modified`` are KIS's
    ``flng_cls_code`` (락 구분 코드: ex-rights, ex-dividend, split, ...), ``prtt_rate`` (분할 비율)
    and ``mod_yn`` (변경 여부), kept so a report can name a split (docs/ARCHITECTURE.md, 'History').
    """

    day: date
    open: int
    high: int
    low: int
    close: int
    volume: int
    amount: int
    lock_code: str
    split_rate: Decimal
    modified: bool

    @classmethod
    def from_api(cls, row: Row) -> DailyChartRow:
        return cls(
            day=ymd(str(row["stck_bsop_date"]).strip()),
            open=won(row.get("stck_oprc")),
            high=won(row.get("stck_hgpr")),
            low=won(row.get("stck_lwpr")),
            close=won(row.get("stck_clpr")),
            volume=won(row.get("acml_vol")),
            amount=won(row.get("acml_tr_pbmn")),
            lock_code=str(row.get("flng_cls_code", "")).strip(),
            split_rate=dec(row.get("prtt_rate")),
            modified=yes(row.get("mod_yn")),
        )


@dataclass(frozen=True)
class MinuteChartRow:
    """One minute of ``inquire-time-dailychartprice`` / ``inquire-time-itemchartprice``
    ``output2``: ``minute`` is ``stck_cntg_hour`` (the minute's start, KST), ``close`` is
    ``stck_prpr`` and ``volume`` is ``cntg_vol`` (that minute's shares). Unchecked, like
    :class:`DailyChartRow`."""

    day: date
    minute: time
    open: int
    high: int
    low: int
    close: int
    volume: int

    @classmethod
    def from_api(cls, row: Row) -> MinuteChartRow:
        return cls(
            day=ymd(str(row["stck_bsop_date"]).strip()),
            minute=hhmmss(str(row["stck_cntg_hour"])),
            open=won(row.get("stck_oprc")),
            high=won(row.get("stck_hgpr")),
            low=won(row.get("stck_lwpr")),
            close=won(row.get("stck_prpr")),
            volume=won(row.get("cntg_vol")),
        )


def chart_rows(body: Row) -> list[Row]:
    """``output2`` of a chart answer, rows without a date left out (a blank row is no data; the
    client never guesses a day for it)."""
    rows = body.get("output2") or []
    if not isinstance(rows, list):
        return []
    return [
        row
        for row in rows
        if isinstance(row, Mapping) and str(row.get("stck_bsop_date", "")).strip()
    ]
