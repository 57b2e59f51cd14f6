"""``kat backtest --replay``: from the command line's values to the sessions replayed and
compared (the CLI only parses). See docs/ARCHITECTURE.md, 'Backtest', 'Replay'."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from shared.backtest.command import BacktestRequest, bar_source, config_of, picks_of
from shared.backtest.config import DEFAULT_REPLAY_SPEED
from shared.backtest.market_data import BacktestInputError
from shared.infra.settings import Settings
from shared.replay.compare import Agreement
from shared.replay.driver import days_to_replay, replay
from shared.trading.picks import parse_session_date

REPLAYS = "replays"
"""Under DATA_DIR: a folder per replay run, a folder per session (its processes' logs)."""
MAX_PARALLEL = 4


@dataclass(frozen=True)
class ReplayRequest:
    """``--replay`` as given: the backtest's options, which sessions, how fast, how many at once."""

    backtest: BacktestRequest
    sample: int | None = None
    sessions: str | None = None
    speed: float = DEFAULT_REPLAY_SPEED
    parallel: int = 1


def agreement_line(agreements: Sequence[Agreement]) -> str:
    agreeing = sum(a.agrees for a in agreements)
    return f"replay agrees {agreeing}/{len(agreements)} sessions"


def run_replay(
    request: ReplayRequest,
    settings: Settings,
    now: datetime,
    on_done: Callable[[Agreement], None] | None = None,
) -> tuple[list[Agreement], Path]:
    """Replay the chosen sessions; their agreements and the folder of their logs."""
    if request.speed <= 0:
        raise BacktestInputError(f"--replay-speed must be above 0, got {request.speed:g}")
    if request.sample is not None and request.sample < 1:
        raise BacktestInputError(f"--sample must be 1 or more, got {request.sample}")
    if not 1 <= request.parallel <= MAX_PARALLEL:
        raise BacktestInputError(f"--parallel must be 1 to {MAX_PARALLEL}")
    config = config_of(request.backtest, settings)
    picks = picks_of(request.backtest, config)
    named = _named(request.sessions)
    days = days_to_replay(config, picks, request.sample, named)
    folder = request.backtest.out or settings.data_dir / REPLAYS / now.strftime("%Y%m%d-%H%M%S")
    folder.mkdir(parents=True, exist_ok=True)
    with bar_source(request.backtest, settings) as bars:
        agreements = replay(
            config,
            picks,
            bars,
            days,
            folder,
            request.speed,
            request.parallel,
            settings.buy_limit_wait_seconds,
            on_done,
        )
    (folder / "replay.json").write_text(
        json.dumps(
            {
                "speed": request.speed,
                "sessions": [
                    {"session": a.session.isoformat(), "agrees": a.agrees, "lines": a.lines()}
                    for a in agreements
                ],
                "summary": agreement_line(agreements),
            },
            ensure_ascii=False,
            indent=1,
        ),
        encoding="utf-8",
    )
    return agreements, folder


def _named(text: str | None) -> list[date]:
    if not text:
        return []
    try:
        return [parse_session_date(part.strip()) for part in text.split(",") if part.strip()]
    except ValueError as e:
        raise BacktestInputError(f"--sessions: {e}") from None
