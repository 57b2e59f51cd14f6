"""Files on the data volume, written whole or not at all.

See docs/ARCHITECTURE.md, 'Data directory'. A reader (another process, or this one after a
crash) sees the old content or the new one, never half of it: the content goes to a temporary
file in the same folder, which then replaces the target in one rename.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_atomically(path: Path, content: bytes, *, private: bool = False) -> None:
    """Replace ``path`` with ``content`` in one rename; ``private``: readable by its owner only
    (mode 0600, its folder 0700 when this call makes it)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700 if private else 0o777)
    handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    tmp = Path(name)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(content)
            out.flush()
            os.fsync(out.fileno())
        if not private:
            tmp.chmod(0o644)
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def read_text_or_none(path: Path) -> str | None:
    """The file's text, or None when it is not there or cannot be read."""
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
