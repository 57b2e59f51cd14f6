"""Discord's message limits, enforced by splitting into more parts, never by cutting.

Every text of a payload that is too long is split (on a line boundary when there is one, else
after a space) so that joining the parts gives the original text back; a one-line part (title,
author, field name) that overflows carries its rest into the text that follows it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

Payload = dict[str, Any]
"""One Discord webhook request body: ``{"content": ..., "embeds": [...]}``."""

CONTENT_MAX = 2000
"""Characters of a message's content."""
EMBEDS_PER_MESSAGE = 10
"""Embeds in one message."""
TITLE_MAX = 256
"""Characters of an embed title."""
DESCRIPTION_MAX = 4096
"""Characters of an embed description."""
FIELDS_PER_EMBED = 25
"""Fields in one embed."""
FIELD_NAME_MAX = 256
"""Characters of a field name."""
FIELD_VALUE_MAX = 1024
"""Characters of a field value."""
FOOTER_MAX = 2048
"""Characters of an embed footer."""
AUTHOR_MAX = 256
"""Characters of an embed author name."""
EMBEDS_TOTAL_MAX = 6000
"""Characters of all embeds of one message together (titles, descriptions, fields, footers...)."""
BLANK = "\u200b"
"""Discord refuses an empty field name or value; a zero-width space shows as nothing."""

_TEXT_KEYS = frozenset({"title", "description", "fields", "footer", "author"})
_CONTINUATION_KEYS = ("color",)


def split_text(text: str, limit: int) -> list[str]:
    """Parts of at most ``limit`` characters that join back into ``text`` exactly."""
    if limit < 1:
        raise ValueError("limit must be positive")
    parts: list[str] = []
    rest = text
    while len(rest) > limit:
        window = rest[:limit]
        # A cut after a newline keeps lines whole; after a space keeps words whole.
        cut = window.rfind("\n") + 1 or window.rfind(" ") + 1 or limit
        parts.append(rest[:cut])
        rest = rest[cut:]
    parts.append(rest)
    return parts


def embed_size(embed: Mapping[str, Any]) -> int:
    """Characters Discord counts towards the 6,000 of a message for one embed."""
    size = len(embed.get("title") or "") + len(embed.get("description") or "")
    size += sum(len(f.get("name") or "") + len(f.get("value") or "") for f in _fields(embed))
    size += len((embed.get("footer") or {}).get("text") or "")
    size += len((embed.get("author") or {}).get("name") or "")
    return size


def fit(payload: Mapping[str, Any]) -> list[Payload]:
    """``payload`` as one or more payloads within every Discord limit, in reading order."""
    extra = {k: v for k, v in payload.items() if k not in ("content", "embeds")}
    content = str(payload.get("content") or "")
    messages: list[Payload] = [
        {**extra, "content": part} for part in split_text(content, CONTENT_MAX) if content
    ]
    groups: list[list[Payload]] = []
    for embed in (e for given in payload.get("embeds") or [] for e in fit_embed(given)):
        size = embed_size(embed)
        last = groups[-1] if groups else None
        if (
            last is None
            or len(last) >= EMBEDS_PER_MESSAGE
            or sum(map(embed_size, last)) + size > EMBEDS_TOTAL_MAX
        ):
            groups.append([embed])
        else:
            last.append(embed)
    if groups and messages:
        # The embeds follow the text they belong to, in its last part.
        messages[-1]["embeds"] = groups.pop(0)
    messages += [{**extra, "embeds": group} for group in groups]
    return messages


def fit_embed(embed: Mapping[str, Any]) -> list[Payload]:
    """One embed as one or more embeds, each within the per-embed limits and 6,000 characters."""
    title, title_rest = _head(str(embed.get("title") or ""), TITLE_MAX)
    author = dict(embed.get("author") or {})
    author_name, author_rest = _head(str(author.get("name") or ""), AUTHOR_MAX)
    description = author_rest + title_rest + str(embed.get("description") or "")
    footer = dict(embed.get("footer") or {})
    footer_text = str(footer.get("text") or "")

    first: Payload = {k: v for k, v in embed.items() if k not in _TEXT_KEYS}
    if title:
        first["title"] = title
    if author_name:
        first["author"] = {**author, "name": author_name}
    parts = [first]

    def continuation() -> Payload:
        part: Payload = {k: embed[k] for k in _CONTINUATION_KEYS if k in embed}
        if title:
            suffix = f" ({len(parts) + 1})"
            part["title"] = title[: TITLE_MAX - len(suffix)] + suffix
        parts.append(part)
        return part

    for i, chunk in enumerate(split_text(description, DESCRIPTION_MAX) if description else []):
        (first if i == 0 else continuation())["description"] = chunk
    for field in (f for given in _fields(embed) for f in fit_field(given)):
        part = parts[-1]
        if (
            len(part.get("fields", ())) >= FIELDS_PER_EMBED
            or embed_size(part) + embed_size({"fields": [field]}) > EMBEDS_TOTAL_MAX
        ):
            part = continuation()
        part.setdefault("fields", []).append(field)
    for chunk in split_text(footer_text, FOOTER_MAX) if footer_text else []:
        part = parts[-1]
        if "footer" in part or embed_size(part) + len(chunk) > EMBEDS_TOTAL_MAX:
            part = continuation()
        part["footer"] = {**footer, "text": chunk}
    return parts


def fit_field(field: Mapping[str, Any]) -> list[Payload]:
    """One field as one or more fields within the name and value limits (names numbered)."""
    name, name_rest = _head(str(field.get("name") or ""), FIELD_NAME_MAX)
    value = name_rest + str(field.get("value") or "")
    chunks = split_text(value, FIELD_VALUE_MAX)
    extra = {k: v for k, v in field.items() if k not in ("name", "value")}
    fields = []
    for i, chunk in enumerate(chunks, start=1):
        label = name
        suffix = f" ({i}/{len(chunks)})"
        if len(chunks) > 1 and len(name) + len(suffix) <= FIELD_NAME_MAX:
            label = name + suffix
        fields.append({"name": label or BLANK, "value": chunk or BLANK, **extra})
    return fields


def _head(text: str, limit: int) -> tuple[str, str]:
    """The part of a one-line text that fits, and the rest that must go elsewhere."""
    if len(text) <= limit:
        return text, ""
    first = split_text(text, limit)[0]
    return first, text[len(first) :]


def _fields(embed: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return list(embed.get("fields") or [])
