"""A web page as a PNG, drawn by headless Chromium (Debian's ``chromium`` package).

Used by the scripts that keep the documentation's pictures current (scripts/status_screens.py,
benchmarks/track_record.py; docs/screens/).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path


def page_screenshot(url: str, path: Path, window: str, timeout: float = 120) -> bool:
    """Write the page at ``url`` to ``path`` at ``window`` (``"1280,1900"``); False when no
    Chromium is on PATH."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="kat-screenshot-") as profile:
        subprocess.run(
            [
                chromium,
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
                f"--user-data-dir={profile}",
                f"--window-size={window}",
                f"--screenshot={path}",
                url,
            ],
            check=True,
            capture_output=True,
            timeout=timeout,
        )
    return True
