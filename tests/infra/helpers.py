"""Shared bits of the infra tests: repository paths and the run_local script as a module."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent


def load_run_local() -> ModuleType:
    """``scripts/run_local.py`` imported as the module ``run_local`` (scripts/ is no package)."""
    if "run_local" in sys.modules:
        return sys.modules["run_local"]
    spec = importlib.util.spec_from_file_location("run_local", ROOT / "scripts" / "run_local.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["run_local"] = module  # dataclasses look their module up while the file runs
    spec.loader.exec_module(module)
    return module


def tool(name: str) -> str:
    """A binary installed into the same environment as this Python (dev dependencies)."""
    path = VENV_BIN / name
    assert path.exists(), f"{path} missing: run scripts/bootstrap.sh (dev dependencies)"
    return str(path)
