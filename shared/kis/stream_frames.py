"""The KIS WebSocket's messages, parsed: pure functions, no I/O.

See docs/ARCHITECTURE.md, 'The price and fill stream'.

Two kinds of text message arrive:

- data frames ``<flag>|<tr_id>|<count>|<payload>``: ``flag`` ``0`` plain, ``1`` encrypted
  (base64 AES, :mod:`shared.kis.stream_crypto`); the payload's fields are ``^``-separated and
  ``count`` records are concatenated. Fields are read by index, so records that grew extra
  trailing fields (KIS went from 23 to 26 fill-notice fields in 2025) still parse.
- JSON control messages: subscribe/unsubscribe answers (with ``output.key``/``output.iv``),
  errors such as ``OPSP0008`` (too many registrations), and ``PINGPONG``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from typing import Literal

from shared.kis.models import order_number

PRICE_TR_ID = "H0STCNT0"
"""국내주식 실시간체결가 (KRX): the same id on paper and real."""
FILL_TR_IDS: dict[str, str] = {"real": "H0STCNI0", "paper": "H0STCNI9"}
"""국내주식 실시간체결통보, by whose rules apply."""
PINGPONG = "PINGPONG"
"""``header.tr_id`` of the server's keep-alive, answered by echoing it."""

PRICE_FIELDS = 46
"""Fields of one H0STCNT0 record in KIS's current layout (fewer than this is refused only when
the ones read are missing)."""
FILL_FIELDS = 26
"""Fields of one fill-notice record in KIS's current layout."""

# H0STCNT0 field indexes (OTA examples_llm/domestic_stock/ccnl_krx/ccnl_krx.py).
PRICE_CODE, PRICE_TIME, PRICE_PRICE = 0, 1, 2
# Fill-notice field indexes (OTA examples_llm/domestic_stock/ccnl_notice/ccnl_notice.py).
FILL_ORDER_NO, FILL_ORIGINAL_NO, FILL_SIDE = 2, 3, 4
FILL_CODE, FILL_QTY, FILL_PRICE, FILL_TIME = 8, 9, 10, 11
FILL_REFUSED, FILL_KIND, FILL_ACCEPT, FILL_BRANCH, FILL_ORDER_QTY = 12, 13, 14, 15, 16
FILL_NAME, FILL_ORDER_PRICE = 24, 25
FILL_NEEDED = FILL_ORDER_QTY + 1
"""Fields a fill record must have for us to use it (the rest are optional)."""

SUBSCRIBED = "OPSP0000"
UNSUBSCRIBED = "OPSP0001"
ALREADY_SUBSCRIBED = "OPSP0002"
NOT_SUBSCRIBED = "OPSP0003"
MAX_SUBSCRIBE_OVER = "OPSP0008"
APP_KEY_IN_USE = "OPSP8996"


class FrameError(ValueError):
    """A message that does not parse; the text says why (never the payload of a fill)."""


@dataclass(frozen=True)
class DataFrame:
    """A ``|``-framed data message, its payload still as sent (maybe encrypted)."""

    encrypted: bool
    tr_id: str
    count: int
    payload: str


@dataclass(frozen=True)
class Control:
    """A JSON control message: an answer to a (un)subscribe, an error, or PINGPONG."""

    tr_id: str
    tr_key: str
    encrypted: bool
    ok: bool
    msg_cd: str
    msg1: str
    key: str | None
    iv: str | None

    @property
    def is_pingpong(self) -> bool:
        """The server's keep-alive."""
        return self.tr_id == PINGPONG


@dataclass(frozen=True)
class PriceTick:
    """One trade price of one code, as the stream delivered it."""

    code: str
    price: int
    hhmmss: str
    received_epoch: float
    """Unix time the frame arrived here (wall clock, for latency)."""


@dataclass(frozen=True)
class FillNotice:
    """One record of the fill notice (체결통보): a fill (``filled``) or an order acknowledgement.

    On an acknowledgement (``filled`` False) KIS puts the order's quantity and price in the
    fill fields; only ``filled`` notices carry executed shares. Order numbers are in
    :func:`shared.kis.models.order_number`'s spelling.
    """

    order_no: str
    code: str
    side: Literal["buy", "sell"]
    quantity: int
    """Shares executed by this fill (the order quantity on an acknowledgement)."""
    price: int
    """Price of this fill in won (the order price on an acknowledgement)."""
    filled: bool
    hhmmss: str
    original_order_no: str = ""
    refused: bool = False
    accept_kind: str = ""
    """ACPT_YN: ``1`` received, ``2`` confirmed, ``3`` cancelled (IOC/FOK)."""
    branch_no: str = ""
    order_quantity: int = 0
    received_epoch: float = 0.0


Message = DataFrame | Control


def fill_notice_payload(notice: FillNotice) -> dict[str, object]:
    """The notice as JSON-safe values (a queued job's argument)."""
    return asdict(notice)


def fill_notice_from_payload(payload: Mapping[str, object]) -> FillNotice:
    """The notice back from :func:`fill_notice_payload`; FrameError naming a bad field."""
    names = {f.name for f in fields(FillNotice)}
    unknown = set(payload) - set(names)
    if unknown:
        raise FrameError(f"fill notice: unknown fields {sorted(unknown)}")
    values = dict(payload)
    for name in ("order_no", "original_order_no"):
        # A notice queued before order numbers had one spelling comes back in today's.
        if isinstance(values.get(name), str):
            values[name] = order_number(values[name])
    for name in ("order_no", "code", "hhmmss"):
        if not isinstance(values.get(name), str) or not values[name]:
            raise FrameError(f"fill notice: {name} must be a non-empty string")
    if values.get("side") not in ("buy", "sell"):
        raise FrameError("fill notice: side must be buy or sell")
    for name in ("quantity", "price"):
        value = values.get(name)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise FrameError(f"fill notice: {name} must be a whole number >= 0")
    return FillNotice(**values)  # type: ignore[arg-type]


def parse_message(text: str) -> Message:
    """A data frame or a control message; FrameError when it is neither."""
    if text[:1] in ("0", "1"):
        return parse_data_frame(text)
    if text[:1] == "{":
        return parse_control(text)
    raise FrameError(f"neither a data frame nor JSON (starts with {text[:1]!r})")


def parse_data_frame(text: str) -> DataFrame:
    """``flag|tr_id|count|payload`` (split at most three times: a payload may hold ``|``)."""
    parts = text.split("|", 3)
    if len(parts) != 4:
        raise FrameError(f"a data frame needs 4 '|'-separated parts, got {len(parts)}")
    flag, tr_id, count_text, payload = parts
    if not count_text.isdigit() or int(count_text) < 1:
        raise FrameError(f"{tr_id}: record count {count_text!r} is not a positive number")
    return DataFrame(flag == "1", tr_id, int(count_text), payload)


def parse_control(text: str) -> Control:
    """A JSON control message; FrameError when it has no ``header.tr_id``."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise FrameError(f"control message is not JSON: {e.msg}") from None
    header = data.get("header") if isinstance(data, dict) else None
    if not isinstance(header, dict) or not isinstance(header.get("tr_id"), str):
        raise FrameError("control message without header.tr_id")
    body = data.get("body")
    body = body if isinstance(body, dict) else {}
    output = body.get("output")
    output = output if isinstance(output, dict) else {}
    key, iv = output.get("key"), output.get("iv")
    return Control(
        tr_id=header["tr_id"],
        tr_key=str(header.get("tr_key") or ""),
        encrypted=header.get("encrypt") == "Y",
        ok=str(body.get("rt_cd", "")) == "0",
        msg_cd=str(body.get("msg_cd") or ""),
        msg1=str(body.get("msg1") or ""),
        key=key if isinstance(key, str) and key else None,
        iv=iv if isinstance(iv, str) and iv else None,
    )


def split_records(payload: str, count: int, needed: int) -> list[list[str]]:
    """The ``count`` records of a payload, each with at least ``needed`` fields.

    Every record of one frame has the same width, so the width is the field count divided by
    ``count``: whatever number of trailing fields KIS adds, the records split at the right place.
    """
    fields = payload.split("^")
    if len(fields) % count:
        raise FrameError(f"{len(fields)} fields do not split into {count} equal records")
    width = len(fields) // count
    if width < needed:
        raise FrameError(f"records of {width} fields, at least {needed} needed")
    return [fields[i * width : (i + 1) * width] for i in range(count)]


def price_ticks(frame: DataFrame, received_epoch: float) -> list[PriceTick]:
    """The ticks of a plain H0STCNT0 frame, in the order sent."""
    records = split_records(frame.payload, frame.count, PRICE_PRICE + 1)
    return [
        PriceTick(r[PRICE_CODE], _int(r[PRICE_PRICE], "STCK_PRPR"), r[PRICE_TIME], received_epoch)
        for r in records
    ]


def fill_notices(plain_payload: str, count: int, received_epoch: float) -> list[FillNotice]:
    """The notices of a decrypted fill-notice payload."""
    return [
        _fill_notice(record, received_epoch)
        for record in split_records(plain_payload, count, FILL_NEEDED)
    ]


def _fill_notice(r: Sequence[str], received_epoch: float) -> FillNotice:
    side_code = r[FILL_SIDE]
    if side_code not in ("01", "02"):
        raise FrameError(f"SELN_BYOV_CLS {side_code!r} is neither 01 (sell) nor 02 (buy)")
    return FillNotice(
        order_no=order_number(r[FILL_ORDER_NO]),
        code=r[FILL_CODE],
        side="sell" if side_code == "01" else "buy",
        quantity=_int(r[FILL_QTY], "CNTG_QTY"),
        price=_int(r[FILL_PRICE], "CNTG_UNPR"),
        filled=r[FILL_KIND] == "2",
        hhmmss=r[FILL_TIME],
        original_order_no=order_number(r[FILL_ORIGINAL_NO]),
        refused=r[FILL_REFUSED] == "1",
        accept_kind=r[FILL_ACCEPT],
        branch_no=r[FILL_BRANCH],
        order_quantity=_int(r[FILL_ORDER_QTY] or "0", "ODER_QTY"),
        received_epoch=received_epoch,
    )


def _int(text: str, name: str) -> int:
    try:
        return int(text.strip() or "0")
    except ValueError:
        raise FrameError(f"{name} {text[:20]!r} is not a whole number") from None


def subscribe_message(approval_key: str, tr_id: str, tr_key: str, *, register: bool) -> str:
    """The JSON text that registers (``tr_type`` 1) or releases (2) one ``tr_id``/``tr_key``."""
    return json.dumps(
        {
            "header": {
                "approval_key": approval_key,
                "custtype": "P",
                "tr_type": "1" if register else "2",
                "content-type": "utf-8",
            },
            "body": {"input": {"tr_id": tr_id, "tr_key": tr_key}},
        }
    )
