"""The last line of defence: no secret, account number or webhook URL in any string of a payload."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from shared.infra.logs import REDACTED, RedactingFilter

ACCOUNT_SHAPE = re.compile(r"(?<!\d)\d{8}-?\d{2}(?!\d)")
"""Anything shaped like an account (``12345678-01``, ``1234567801``) not inside a longer number."""
WEBHOOK_URL = re.compile(
    r"(?:https?://[^\s/\"'<>]+|(?:[\w-]+\.)*discord(?:app)?\.com)"
    r"/api/(?:v\d+/)?webhooks/[^\s\"'<>()\[\]]*",
    re.IGNORECASE,
)
"""Any webhook URL (any Discord host, or any host's ``/api/webhooks/``), configured or not: it is
a credential to post in someone's channel."""
TOKEN_SEGMENT_MIN = 16
"""A path segment of a secret URL at least this long (a webhook token) is redacted on its own."""


class Scrubber:
    """Redacts the configured secrets and every account- or webhook-shaped text."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        values = set(secrets)
        for secret in list(values):
            if secret.startswith(("http://", "https://")):
                values.update(
                    part
                    for part in urlsplit(secret).path.split("/")
                    if len(part) >= TOKEN_SEGMENT_MIN
                )
        # The log filter already knows how to redact secrets and a URL's path: one implementation.
        self._secrets = RedactingFilter(values)

    def text(self, value: str) -> str:
        """``value`` with every secret replaced by ``***``."""
        value = self._secrets.redact(value)
        value = WEBHOOK_URL.sub(REDACTED, value)
        return ACCOUNT_SHAPE.sub(REDACTED, value)

    def payload(self, value: Any) -> Any:
        """A copy of ``value`` (JSON-like) with every string scrubbed; keys are left as they are."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {k: self.payload(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.payload(v) for v in value]
        return value
