"""Every ``msg_cd`` the simulator answers with, where each comes from, and its message.

KIS codes (EGW00201/EGW00133: official open-trading-api README; the others: public client
logs and code, see the module README): ``MCA00000``, ``EGW00103``/``EGW00105`` (bad app
key/secret),
``EGW00121`` (invalid token), ``EGW00123`` (expired token), ``EGW00133`` (token issuance more than
once a minute), ``EGW00201`` (rate limit), ``40580000`` (paper, market closed), ``40910000``
(paper, cash short), ``APBK0918``/``APBK0919`` (real, outside hours / not a trading day),
``APBK0656`` "해당종목정보가 없습니다." (order for a code KIS does not list; python-kis maps the
code to not-found, ``pykis/api/account/order.py``, and third-party clients match that msg1),
``EGW00002`` (gateway server error, the ``http_500_after`` fault; see :mod:`faults`).

``OPSQ2001`` is KIS's own input-error code (python-kis #81: real KIS answered ``MSG_CD:
OPSQ2001`` "ERROR : INPUT INVALID_CHECK_INQR_DVSN" with rt_cd "2"); the simulator uses it for
missing fields with rt_cd "1" and its own message. The other ``OPSQ`` codes below are ours.

Observed but not used: ``APBK0952`` "주문가능금액을 초과 했습니다" (real rules, cash short; one
third-party test fixture) would replace SIM00007, which the project's tests pin; see README.

Chosen by the simulator where KIS's own code is unknown (a client should classify them by
``rt_cd`` and the message, as it must for real KIS):

========  ===  =======================================================================
msg_cd    HTTP meaning
========  ===  =======================================================================
OPSQ0001  500  tr_id missing or not served on this path
OPSQ0002  500  tr_id of the other environment (the observed "모의투자 TR 이 아닙니다.")
OPSQ2001  500  required field missing (msg1 names it; KIS's code, see above)
OPSQ2002  500  field malformed, or bad paging context (msg1 names it)
40570000  200  paper rules, before the open ("모의투자 장시작전 입니다.", observed without code)
SIM00001  200  ORD_DVSN other than 00 (limit) / 01 (market)
SIM00002  200  EXCG_ID_DVSN_CD other than KRX
SIM00003  200  ORD_QTY not a positive whole number
SIM00004  200  limit price not positive, not on the tick, or outside the daily limits
SIM00005  200  PDNO not a 6-digit code
SIM00006  200  sell quantity above the orderable quantity
SIM00007  200  real rules, cash short (paper uses 40910000)
SIM00008  200  ``hashkey`` header does not match the body
SIM00009  200  ORGN_ODNO unknown in this account
SIM00010  200  nothing left to revise or cancel (filled, cancelled or lapsed)
SIM00012  200  revise or cancel quantity above the remaining quantity
SIM00013  200  SLL_TYPE other than 01
SIM00014  200  KRX_FWDG_ORD_ORGNO differs from the original order's
SIM00101  403  token/approval request whose grant_type is not client_credentials
SIM00404  404  no such endpoint
SIM00405  405  method not allowed on this endpoint
SIM00500  500  the simulator failed (a bug: see its log)
========  ===  =======================================================================
"""

from __future__ import annotations

SUCCESS = ("MCA00000", "정상처리 되었습니다.")

APP_KEY_INVALID = ("EGW00103", "유효하지 않은 AppKey입니다.")
APP_SECRET_INVALID = ("EGW00105", "유효하지 않은 AppSecret입니다.")
TOKEN_INVALID = ("EGW00121", "유효하지 않은 token 입니다.")
TOKEN_EXPIRED = ("EGW00123", "기간이 만료된 token 입니다.")
TOKEN_THROTTLED = ("EGW00133", "접근토큰 발급 잠시 후 다시 시도하세요(1분당 1회)")
RATE_LIMITED = ("EGW00201", "초당 거래건수를 초과하였습니다.")

TR_UNKNOWN = "OPSQ0001"
TR_OTHER_ENV = "OPSQ0002"
TR_NOT_PAPER = "모의투자 TR 이 아닙니다."
TR_NOT_REAL = "실전투자 TR 이 아닙니다."
FIELD_MISSING = "OPSQ2001"
FIELD_INVALID = "OPSQ2002"

PAPER_PRE_OPEN = ("40570000", "모의투자 장시작전 입니다.")
PAPER_CLOSED = ("40580000", "모의투자 장종료 입니다.")
REAL_NOT_TRADING_DAY = ("APBK0919", "장운영일자가 주문일과 상이합니다")
REAL_OUTSIDE_HOURS = ("APBK0918", "장운영시간이 아닙니다.(주문불가)")
CODE_UNLISTED = ("APBK0656", "해당종목정보가 없습니다.")
PAPER_CASH_SHORT = ("40910000", "모의투자 주문가능금액을 초과했습니다.")
# msg1 as KIS real words it (third-party fixtures of APBK0952); the code stays ours (module doc).
REAL_CASH_SHORT = ("SIM00007", "주문가능금액을 초과 했습니다")
PAPER_QTY_SHORT = ("SIM00006", "모의투자 주문가능수량을 초과했습니다.")
REAL_QTY_SHORT = ("SIM00006", "주문가능수량을 초과했습니다.")

ORDER_TYPE_UNSUPPORTED = "SIM00001"
EXCHANGE_UNSUPPORTED = "SIM00002"
QTY_INVALID = "SIM00003"
PRICE_INVALID = "SIM00004"
CODE_INVALID = "SIM00005"
HASHKEY_MISMATCH = "SIM00008"
ORDER_NOT_FOUND = "SIM00009"
NOTHING_TO_CANCEL = "SIM00010"
CANCEL_QTY_EXCEEDED = "SIM00012"
SELL_TYPE_UNSUPPORTED = "SIM00013"
ORG_NO_MISMATCH = "SIM00014"
GRANT_INVALID = ("SIM00101", "grant_type 은 client_credentials 이어야 합니다.")
NOT_FOUND = "SIM00404"
METHOD_NOT_ALLOWED = "SIM00405"
INTERNAL = "SIM00500"
