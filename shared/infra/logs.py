"""Logging for every service: one stderr handler, KST timestamps, secrets replaced by ``***``."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable
from datetime import datetime
from typing import TextIO
from urllib.parse import urlsplit

from shared.infra.clock import KST

REDACTED = "***"
"""What a secret is replaced with."""
MIN_SECRET_LENGTH = 4
"""Shorter values are not redacted: they would blank out ordinary words and numbers."""
LOG_FORMAT = "%(asctime)s %(levelname)s service={service} %(name)s: %(message)s"
"""Line format; ``{service}`` is filled in by :func:`setup_logging`."""

SECRET_FIELDS = re.compile(
    r"(?i)(?<![A-Za-z0-9_])"
    r"(cano|appkey|appsecret|secretkey|app_?key|app_?secret|access_token|approval_key|"
    r"authorization|kis_account|status_api_token|discord_webhook_url)"
    r"([\"']?\s*[:=]\s*[\"']?(?:bearer\s+)?)"
    # The value: not a placeholder (<TOKEN>, $TOKEN) and not the word Bearer itself.
    r"((?!bearer\b)[^\s\"'&,;}\])<>`$][^\s\"'&,;}\])<>`]*)"
)
"""A secret by the name of its field, whatever its value: ``CANO=73519024`` in a query string,
``"appkey": "..."`` in JSON or a dict's repr, ``authorization: Bearer ...`` in headers. KIS's
own field names (``CANO``, ``appkey``, ``appsecret``, ``access_token``, ``approval_key``) cover
what an HTTP library prints at DEBUG."""
WEBHOOK_PATH = re.compile(r"/api/(?:v[0-9]+/)?webhooks/[^\s\"'<>()\[\]]+", re.IGNORECASE)
"""Any webhook's ``/api/webhooks/<id>/<token>`` path, configured or not: it is a credential."""

_HANDLER_MARK = "_kat_setup_logging"
_TRACEBACK_FORMATTER = logging.Formatter()


class RedactingFilter(logging.Filter):
    """Replaces each secret in a record's message, arguments, traceback and stack with ``***``.

    Attach it to a handler: it rewrites the record itself (message rendered, ``args`` dropped,
    traceback rendered into ``exc_text``), so whatever formats the record afterwards has nothing
    left to leak. A URL secret's path is redacted too, because HTTP libraries log the path alone
    (``POST /api/webhooks/<id>/<token>``). Beyond the configured values, every value of a
    secret-named field (:data:`SECRET_FIELDS`) and every webhook path is redacted, so a secret
    in a form nobody configured (the access token, a query string) is caught by its name.
    See docs/ARCHITECTURE.md, 'Secrets'.
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        variants: set[str] = set()
        for secret in secrets:
            if len(secret) < MIN_SECRET_LENGTH:
                continue
            variants.add(secret)
            if secret.startswith(("http://", "https://")):
                path = urlsplit(secret).path.rstrip("/")
                if len(path.strip("/")) >= MIN_SECRET_LENGTH:
                    variants.add(path)
        # Longest first, so a secret that contains another is replaced whole.
        ordered = sorted(variants, key=len, reverse=True)
        self._pattern = re.compile("|".join(map(re.escape, ordered))) if ordered else None

    def redact(self, text: str) -> str:
        """``text`` with every secret replaced by ``***``."""
        if self._pattern is not None:
            text = self._pattern.sub(REDACTED, text)
        text = SECRET_FIELDS.sub(_redact_field, text)
        return WEBHOOK_PATH.sub("/api/webhooks/" + REDACTED, text)

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact ``record`` in place; never drops it."""
        try:
            message = record.getMessage()
        except Exception:
            # Logging's own error report would print the raw arguments; print them redacted.
            message = f"{record.msg} (bad logging arguments: {record.args!r})"
        record.msg = self.redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = _TRACEBACK_FORMATTER.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


def _redact_field(match: re.Match[str]) -> str:
    return f"{match.group(1)}{match.group(2)}{REDACTED}"


class KstFormatter(logging.Formatter):
    """Timestamps as ISO 8601 in KST with milliseconds, whatever the machine's TZ."""

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        """``record.created`` in KST (``datefmt`` is ignored)."""
        return datetime.fromtimestamp(record.created, KST).isoformat(timespec="milliseconds")


class _StderrHandler(logging.StreamHandler[TextIO]):
    # Looks sys.stderr up at every write, so a later redirect (pytest's capture, a daemon
    # wrapper) is followed instead of writing to a stream that was swapped out.
    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, value: TextIO) -> None:
        pass


def setup_logging(service: str, level: str = "INFO", secrets: Iterable[str] = ()) -> None:
    """Send the root logger to stderr with ``service=<service>`` on every line, secrets redacted.

    Calling it again replaces the handler it installed (new level, new secrets) instead of
    adding a second one; handlers installed by anything else are left alone.
    """
    root = logging.getLogger()
    for existing in list(root.handlers):
        if getattr(existing, _HANDLER_MARK, False):
            root.removeHandler(existing)
            existing.close()
    handler = _StderrHandler()
    setattr(handler, _HANDLER_MARK, True)
    handler.setFormatter(KstFormatter(LOG_FORMAT.format(service=service.replace("%", "%%"))))
    handler.addFilter(RedactingFilter(secrets))
    root.addHandler(handler)
    root.setLevel(level.upper())
