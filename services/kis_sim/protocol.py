"""KIS's wire shapes: a request as the simulator sees it, replies, envelopes and field access."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field

from services.kis_sim import codes

JSON_TYPE = "application/json; charset=UTF-8"
"""Content type of every JSON reply (KIS sends UTF-8 JSON)."""
RAW_HEADERS_ENVIRON_KEY = "kis_sim.raw_headers"
"""WSGI environ key holding the request headers as received, underscores included."""
DROPPED_ENVIRON_KEY = "kis_sim.dropped"
"""WSGI environ key set when a ``drop_response`` fault closed the connection unanswered."""


class KisError(Exception):
    """A rejection in KIS's ``rt_cd``/``msg_cd``/``msg1`` envelope."""

    def __init__(self, msg_cd: str, msg1: str, status: int = 200) -> None:
        super().__init__(f"{msg_cd} {msg1}")
        self.msg_cd = msg_cd
        self.msg1 = msg1
        self.status = status

    @classmethod
    def of(cls, code: tuple[str, str], status: int = 200) -> KisError:
        """From a ``(msg_cd, msg1)`` pair of :mod:`codes`."""
        return cls(code[0], code[1], status)


class OAuthError(Exception):
    """A rejection in the token endpoints' ``error_code``/``error_description`` envelope."""

    def __init__(self, code: tuple[str, str], status: int = 403) -> None:
        super().__init__(f"{code[0]} {code[1]}")
        self.error_code, self.description = code
        self.status = status


@dataclass(frozen=True)
class KisRequest:
    """One HTTP request in the KIS dialect; ``headers`` has lower-case names."""

    method: str
    path: str
    headers: Mapping[str, str]
    query: Mapping[str, str]
    body: bytes
    arrival_monotonic: float
    """time.monotonic() when handling started (what the rate limit counts)."""

    def header(self, name: str) -> str:
        """A header's value, stripped, or ``""``."""
        return self.headers.get(name.lower(), "").strip()

    def json_body(self) -> dict[str, object]:
        """The body as a JSON object, or :class:`KisError` (OPSQ2002)."""
        try:
            data = json.loads(self.body or b"{}")
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise KisError(codes.FIELD_INVALID, "요청 본문이 JSON 이 아닙니다.", 500) from None
        if not isinstance(data, dict):
            raise KisError(codes.FIELD_INVALID, "요청 본문은 JSON 객체여야 합니다.", 500)
        return data


@dataclass
class Reply:
    """What goes back on the wire; ``drop`` closes the connection instead of answering."""

    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = JSON_TYPE
    drop: bool = False


def dumps(payload: object) -> bytes:
    """JSON as KIS writes it: UTF-8, Korean unescaped."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def json_reply(status: int, payload: object) -> Reply:
    """A plain JSON reply (token endpoints, admin)."""
    return Reply(status, dumps(payload))


def kis_headers(tr_id: str, tr_cont: str = "") -> dict[str, str]:
    """The response headers every /uapi reply carries."""
    return {"tr_id": tr_id, "tr_cont": tr_cont, "gt_uid": uuid.uuid4().hex}


def kis_ok(payload: Mapping[str, object], tr_id: str, tr_cont: str = "") -> Reply:
    """A success envelope around ``payload`` (``output``/``output1``/... keys)."""
    body = {"rt_cd": "0", "msg_cd": codes.SUCCESS[0], "msg1": codes.SUCCESS[1], **payload}
    return Reply(200, dumps(body), kis_headers(tr_id, tr_cont))


def kis_error(error: KisError, tr_id: str) -> Reply:
    """A rejection envelope."""
    body = {"rt_cd": "1", "msg_cd": error.msg_cd, "msg1": error.msg1}
    return Reply(error.status, dumps(body), kis_headers(tr_id))


def oauth_error(error: OAuthError) -> Reply:
    """The token endpoints' own error envelope."""
    payload = {"error_description": error.description, "error_code": error.error_code}
    return json_reply(error.status, payload)


class Params:
    """Request fields by their UPPER-CASE KIS names; missing or non-string fields are errors.

    Names match whatever their case: KIS takes ``ctx_area_nk100`` for ``CTX_AREA_NK100`` (the
    python-kis client pages every balance and execution list with lower-case names).
    """

    def __init__(self, values: Mapping[str, object]) -> None:
        self._values = {name.upper(): value for name, value in values.items()}

    def required(self, name: str) -> str:
        """A field that must be present (it may be blank); OPSQ2001 names it when missing."""
        if name not in self._values:
            raise KisError(codes.FIELD_MISSING, f"필수 입력값이 없습니다: {name}", 500)
        return self._text(name)

    def optional(self, name: str) -> str:
        """A field that may be absent (``""`` then)."""
        return self._text(name) if name in self._values else ""

    def _text(self, name: str) -> str:
        value = self._values[name]
        if not isinstance(value, str):
            # KIS wants every value as a string ("1", not 1): say so instead of guessing.
            raise KisError(codes.FIELD_INVALID, f"{name} 값은 문자열이어야 합니다.", 500)
        return value.strip()


def invalid(name: str, why: str) -> KisError:
    """OPSQ2002 naming a malformed field."""
    return KisError(codes.FIELD_INVALID, f"입력값이 올바르지 않습니다: {name} ({why})", 500)
