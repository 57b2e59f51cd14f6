"""The app as a WSGI entry point, ``services.api.wsgi:app``, for any WSGI server."""

from __future__ import annotations

from services.api.app import create_app
from shared.infra.logs import setup_logging
from shared.infra.settings import load_settings

_settings = load_settings()
setup_logging("api", _settings.log_level, _settings.secret_values())
app = create_app(_settings)
