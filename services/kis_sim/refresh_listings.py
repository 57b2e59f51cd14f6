"""``python -m services.kis_sim.refresh_listings``: set the listings' price levels from recent
closes, from the history store or a CSV (services/kis_sim/README.md, 'Listings').

    python -m services.kis_sim.refresh_listings --history          # the bar store's last closes
    python -m services.kis_sim.refresh_listings --csv closes.csv   # columns code,close[,date]

It rewrites ``--out`` (default: ``SIM_LISTINGS``, else the bundled ``listings.json``); names and
markets stay, codes the source lacks keep their level and are named on stderr.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import sys
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from pathlib import Path

from services.kis_sim.listings import (
    BUNDLED_LISTINGS,
    Listings,
    ListingsError,
    load_listings,
    save_listings,
)
from shared.history.store import BarStore, StoreError, store_path
from shared.infra.clock import KST
from shared.infra.settings import ConfigError, load_settings

HISTORY_LOOKBACK_DAYS = 30
"""Calendar days back from today in which the history store's last close is looked for."""


def levels_from_csv(text: str) -> tuple[dict[str, int], str]:
    """code -> close from a CSV with a ``code,close`` header (an optional ``date`` column gives
    the as-of day: the latest one); :class:`ListingsError` names the bad line."""
    reader = csv.DictReader(io.StringIO(text))
    fields = set(reader.fieldnames or ())
    if not {"code", "close"} <= fields:
        raise ListingsError("the CSV needs a header with code and close columns")
    levels: dict[str, int] = {}
    days: list[str] = []
    for line, row in enumerate(reader, start=2):
        code, close = (row.get("code") or "").strip(), (row.get("close") or "").strip()
        try:
            levels[code.zfill(6)] = int(close.replace(",", ""))
        except ValueError:
            raise ListingsError(f"line {line}: close must be whole won, got {close!r}") from None
        if row.get("date"):
            days.append(str(row["date"]).strip())
    return levels, max(days, default="")


def levels_from_history(
    store: BarStore, codes: Sequence[str], today: date
) -> tuple[dict[str, int], str]:
    """code -> the last stored daily close within :data:`HISTORY_LOOKBACK_DAYS` of ``today``,
    and the latest day used."""
    series = store.daily_bars(codes, today - timedelta(days=HISTORY_LOOKBACK_DAYS), today)
    levels: dict[str, int] = {}
    latest = ""
    for code, bars in series.items():
        if len(bars.close) == 0:
            continue
        levels[code] = int(bars.close[-1])
        latest = max(latest, str(bars.day[-1]))
    return levels, latest


def refreshed(listings: Listings, levels: Mapping[str, int], as_of: str, source: str) -> Listings:
    """``listings`` with the levels of the codes it holds (others in ``levels`` are ignored)."""
    known = {code: level for code, level in levels.items() if code in listings.by_code}
    return listings.with_levels(known, as_of or listings.as_of, source)


def main(argv: list[str] | None = None) -> int:
    """Exit 0 when the file was rewritten, 2 on bad input."""
    parser = argparse.ArgumentParser(prog="python -m services.kis_sim.refresh_listings")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--csv", type=Path, help="a CSV with code,close[,date] columns")
    source.add_argument("--history", action="store_true", help="the history store's last closes")
    parser.add_argument("--store", type=Path, help="the bar store (default: under DATA_DIR)")
    parser.add_argument("--out", type=Path, help="the listings file to rewrite")
    args = parser.parse_args(argv)
    out = args.out or Path(os.environ.get("SIM_LISTINGS", "").strip() or BUNDLED_LISTINGS)
    try:
        listings = load_listings(out)
        if args.csv is not None:
            levels, as_of = levels_from_csv(args.csv.read_text(encoding="utf-8"))
            origin = f"closes from {args.csv.name}"
        else:
            path = args.store or store_path(load_settings(os.environ).data_dir)
            with BarStore.open(path, read_only=True) as store:
                levels, as_of = levels_from_history(
                    store, list(listings.by_code), datetime.now(KST).date()
                )
            origin = "last daily closes in the history store"
        updated = refreshed(listings, levels, as_of, f"{origin} (refresh_listings)")
    except (OSError, ListingsError, ConfigError, StoreError) as e:
        print(f"refresh_listings: {e}", file=sys.stderr)
        return 2
    missing = sorted(set(listings.by_code) - set(levels))
    save_listings(updated, out)
    print(f"{len(listings.by_code) - len(missing)} level(s) set in {out} (as of {updated.as_of})")
    if missing:
        print(f"kept the old level of {', '.join(missing)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
