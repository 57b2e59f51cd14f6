"""Where a backtest's files go: ``DATA_DIR/backtests/<run id>/`` and the names inside.

See docs/ARCHITECTURE.md, 'Backtest'. ``kat backtest`` writes them, the status API reads them
(read only); both take the names from here.
"""

from __future__ import annotations

BACKTESTS = "backtests"
"""Reports go to ``DATA_DIR/backtests/<run id>/``."""
REPORT_JSON = "report.json"
"""A run's whole result and its figures (``metrics``)."""
REPORT_HTML = "report.html"
"""The page a trader reads, beside it."""
SWEEP_JSON = "sweep.json"
"""A sweep's ranking, every point's figures in-sample and out-of-sample."""
SWEEP_HTML = "sweep.html"
"""The sweep's page, beside it."""
