"""The track record: ``GET /performance`` (figures) and ``GET /performance/trades.csv``.

See docs/ARCHITECTURE.md, 'Track record'. Both read the trade journal in ``DATA_DIR/journal``
(read only) for the sells' sessions ``from`` to ``to``. Every bad input is a clear answer: a
malformed or reversed range a 400 naming it; a range without trades, or after today, an empty
record with a note saying why; a journal line that does not read, skipped, named and counted.
"""

from __future__ import annotations

from flask import Response
from flask_openapi3 import APIBlueprint

from services.api import answers
from services.api.answers import answer
from services.api.context import ctx
from services.api.inputs import PerformanceQuery
from services.api.openapi import BAD_REQUEST, REDIS_DOWN, STATUS_TAG, text
from shared.state.journal import Journal
from shared.state.track_record import track_record
from shared.trading.performance import trades_csv

blueprint = APIBlueprint("performance", __name__, abp_tags=[STATUS_TAG])


@blueprint.get(
    "/performance",
    summary="The track record of closed trades: P&L by day, week, month; win rate, drawdown",
    responses={200: answers.Performance, 400: BAD_REQUEST, 503: REDIS_DOWN},
)
def performance_view(query: PerformanceQuery) -> Response:
    api = ctx()
    journal = Journal.of(api.settings)
    today = api.clock.now().date()
    return answer(answers.Performance, track_record(journal, query.start, query.end, today))


@blueprint.get(
    "/performance/trades.csv",
    summary="The closed trades of the range as CSV, one row each in the order sold",
    responses={200: text("The trades, a header row first", "text/csv"), 400: BAD_REQUEST},
)
def trades_csv_view(query: PerformanceQuery) -> Response:
    read = Journal.of(ctx().settings).read(query.start, query.end)
    response = Response(trades_csv(read.entries), mimetype="text/csv")
    response.headers["Content-Disposition"] = 'attachment; filename="trades.csv"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
