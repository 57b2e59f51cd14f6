"""The simulator's WebSocket messages in KIS's layout: data frames, answers, PINGPONG.

Field orders follow KIS's own samples (koreainvestment/open-trading-api,
``examples_llm/domestic_stock/ccnl_krx`` and ``ccnl_notice``); see services/kis_sim/README.md,
'WebSocket'. Fill notices are encrypted with AES-256-CBC under the key and iv the subscribe
answer gave (base64 of the PKCS7-padded UTF-8 text).
"""

from __future__ import annotations

import base64
import json
import secrets
import string
from collections.abc import Sequence
from datetime import datetime

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from services.kis_sim.desk import ORG_NO
from services.kis_sim.market import Quote
from shared.broker.orders import Fill, Order
from shared.infra.clock import KST

PRICE_TR_ID = "H0STCNT0"
FILL_TR_IDS = frozenset({"H0STCNI0", "H0STCNI9"})
"""Fill notices: real and paper ids, both accepted whatever the rules."""
PINGPONG = "PINGPONG"
PRICE_FIELDS = 46
FILL_FIELDS = 26

SUBSCRIBED = ("OPSP0000", "SUBSCRIBE SUCCESS")
UNSUBSCRIBED = ("OPSP0001", "UNSUBSCRIBE SUCCESS")
ALREADY_SUBSCRIBED = ("OPSP0002", "ALREADY IN SUBSCRIBE")
NOT_SUBSCRIBED = ("OPSP0003", "UNSUBSCRIBE ERROR(not found!)")
MAX_SUBSCRIBE_OVER = ("OPSP0008", "MAX SUBSCRIBE OVER")
APP_KEY_IN_USE = ("OPSP8996", "ALREADY IN USE appkey")
# The simulator's own codes (KIS's are not in the sources we have).
APPROVAL_UNKNOWN = ("SIM00201", "invalid approval : NOT FOUND")
TR_ID_UNKNOWN = ("SIM00202", "invalid tr_id")
BAD_REQUEST = ("SIM00203", "JSON PARSING ERROR")


def new_key_iv() -> tuple[str, str]:
    """A 32-character AES-256 key and a 16-character iv, letters only (as KIS's look)."""
    letters = string.ascii_letters
    key = "".join(secrets.choice(letters) for _ in range(32))
    iv = "".join(secrets.choice(letters) for _ in range(16))
    return key, iv


def encrypt(plain: str, key: str, iv: str) -> str:
    """base64(AES-256-CBC(PKCS7(plain))) with the UTF-8 bytes of ``key`` and ``iv``."""
    padder = padding.PKCS7(128).padder()
    padded = padder.update(plain.encode()) + padder.finalize()
    encryptor = Cipher(algorithms.AES(key.encode()), modes.CBC(iv.encode())).encryptor()
    return base64.b64encode(encryptor.update(padded) + encryptor.finalize()).decode("ascii")


def answer(
    tr_id: str,
    tr_key: str,
    code: tuple[str, str],
    *,
    ok: bool,
    encrypt_flag: bool = False,
    key_iv: tuple[str, str] | None = None,
    rt_cd: str | None = None,
) -> str:
    """The JSON answer to a (un)subscribe request."""
    body: dict[str, object] = {"rt_cd": rt_cd or ("0" if ok else "1"), "msg_cd": code[0]}
    body["msg1"] = code[1]
    if key_iv is not None:
        body["output"] = {"iv": key_iv[1], "key": key_iv[0]}
    header = {"tr_id": tr_id, "tr_key": tr_key, "encrypt": "Y" if encrypt_flag else "N"}
    return json.dumps({"header": header, "body": body})


def pingpong(now: datetime) -> str:
    """KIS's keep-alive: a header with the time, no body."""
    stamp = now.astimezone(KST).strftime("%Y%m%d%H%M%S")
    return json.dumps({"header": {"tr_id": PINGPONG, "datetime": stamp}})


def data_frame(
    tr_id: str, records: Sequence[Sequence[str]], *, encrypted_with: tuple[str, str] | None = None
) -> str:
    """``flag|tr_id|count|payload``: the records' fields joined by ``^`` one after the other."""
    payload = "^".join(field for record in records for field in record)
    if encrypted_with is not None:
        payload = encrypt(payload, *encrypted_with)
    flag = "1" if encrypted_with is not None else "0"
    return f"{flag}|{tr_id}|{len(records):03d}|{payload}"


def price_record(quote: Quote, moment: datetime, volume: int = 1) -> list[str]:
    """One H0STCNT0 record (46 fields) for ``quote`` at ``moment``, a trade of ``volume``
    shares."""
    local = moment.astimezone(KST)
    change = quote.price - quote.base
    sign = quote.sign
    rate = f"{change * 100 / quote.base:.2f}" if quote.base else "0.00"
    record = [""] * PRICE_FIELDS
    record[0:15] = [
        quote.code,  # MKSC_SHRN_ISCD
        local.strftime("%H%M%S"),  # STCK_CNTG_HOUR
        str(quote.price),  # STCK_PRPR
        sign,  # PRDY_VRSS_SIGN
        str(change),  # PRDY_VRSS
        rate,  # PRDY_CTRT
        str(quote.price),  # WGHN_AVRG_STCK_PRC
        str(quote.open),  # STCK_OPRC
        str(quote.high),  # STCK_HGPR
        str(quote.low),  # STCK_LWPR
        str(quote.price + quote.tick),  # ASKP1
        str(quote.price),  # BIDP1
        str(volume),  # CNTG_VOL
        str(quote.volume),  # ACML_VOL
        str(quote.volume * quote.price),  # ACML_TR_PBMN
    ]
    for index in range(15, PRICE_FIELDS):
        record[index] = "0"
    record[21] = "1"  # CCLD_DVSN: 매수
    record[33] = local.strftime("%Y%m%d")  # BSOP_DATE
    record[34] = "20"  # NEW_MKOP_CLS_CODE: 장중
    record[35] = "N"  # TRHT_YN: not halted
    record[43] = "0"  # HOUR_CLS_CODE
    return record


def fill_record(order: Order, fill: Fill | None, hts_id: str, moment: datetime) -> list[str]:
    """One fill-notice record (26 fields): a fill (CNTG_YN 2) or, without ``fill``, the order's
    acknowledgement (CNTG_YN 1, carrying the order's quantity and price)."""
    moment_kst = (fill.filled_kst if fill is not None else moment).astimezone(KST)
    qty = fill.qty if fill is not None else order.qty
    price = fill.price if fill is not None else order.price
    return [
        hts_id,  # CUST_ID
        order.account.replace("-", ""),  # ACNT_NO
        order.odno,  # ODER_NO
        order.origin,  # OODER_NO
        "01" if order.side == "sell" else "02",  # SELN_BYOV_CLS
        "2"
        if order.is_cancel
        else "1"
        if order.revision
        else "0",  # RCTF_CLS: 0 new, 1 revise, 2 cancel
        order.division,  # ODER_KIND
        "0",  # ODER_COND
        order.code,  # STCK_SHRN_ISCD
        str(qty),  # CNTG_QTY
        str(price),  # CNTG_UNPR
        moment_kst.strftime("%H%M%S"),  # STCK_CNTG_HOUR
        "0",  # RFUS_YN
        "2" if fill is not None else "1",  # CNTG_YN
        "2" if fill is not None else "1",  # ACPT_YN
        ORG_NO,  # BRNC_NO
        str(order.qty),  # ODER_QTY
        "SIM",  # ACNT_NAME
        "",  # ORD_COND_PRC
        "1",  # ORD_EXG_GB: KRX
        "N",  # POPUP_YN
        "",  # FILLER
        "10",  # CRDT_CLS: cash
        "",  # CRDT_LOAN_DATE
        order.name,  # CNTG_ISNM40
        str(order.price),  # ODER_PRC
    ]
