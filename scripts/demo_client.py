"""Demo: the KIS client and the simulator working together (``make demo``).

Start the system first (``make run`` or ``docker compose up``), then run this in another terminal.
It uses the same settings as every service (``KIS_ENV=sim`` by default, so no account is needed):

1. quotes two stocks,
2. reads the balance (every page) and the buyable cash,
3. places a market buy of one share and reads it back from the daily executions,
4. shows what the rate limiter and the token cache did.

Outside KRX hours the simulator refuses orders exactly as KIS does; the demo then shows that
rejection instead of a fill. Try ``CLOCK_START=2026-03-03T10:00:00+09:00`` on both ``make run``
and ``make demo`` to be inside a session.
"""

from __future__ import annotations

import sys

import redis

from shared.infra.clock import build_clock
from shared.infra.redis_keys import Keys, app_key_id
from shared.infra.settings import ConfigError, load_settings
from shared.kis import KisError, KisMarketClosed
from shared.kis.client import build_client

CODES = ("005930", "000660")
"""Samsung Electronics and SK hynix: any 6-digit code has a price in the simulator."""


def main() -> int:
    try:
        settings = load_settings()
    except ConfigError as e:
        print(f"configuration error: {e}", file=sys.stderr)
        return 2
    connection = redis.Redis.from_url(settings.redis_url)
    try:
        connection.ping()
    except redis.RedisError:
        print(
            f"no Redis at {settings.redis_url}: start the system first (make run)", file=sys.stderr
        )
        return 1
    clock = build_clock(settings, connection)
    client = build_client(settings, connection, clock)
    print(f"{settings.kis_env} mode, {settings.base_url}, account {settings.masked_account}")
    print(f"clock: {clock.now():%Y-%m-%d %H:%M:%S %Z}")
    try:
        for code in CODES:
            quote = client.current_price(code)
            print(f"  {code}: {quote.price:,} won ({quote.change_rate:+}%), tick {quote.tick}")
        balance = client.balance()
        print(
            f"cash {balance.summary.deposit:,} won, {len(balance.held())} holdings "
            f"({balance.pages} page(s))"
        )
        buyable = client.buyable_cash(CODES[0])
        print(f"buyable {CODES[0]}: {buyable.buy_quantity} shares for {buyable.buy_amount:,} won")
        try:
            ack = client.buy(CODES[0], 1)
        except KisMarketClosed as e:
            print(f"buy refused, the market is closed: {e.msg1} ({e.msg_cd})")
        else:
            print(f"bought 1 x {CODES[0]}: order {ack.order_no} at {ack.order_time}")
            for row in client.daily_executions(clock.now().date(), code=CODES[0]):
                print(
                    f"  execution {row.order_no}: {row.side.label} {row.filled_quantity}/"
                    f"{row.order_quantity} at {row.average_fill_price}"
                )
    except KisError as e:
        print(f"KIS error: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    keys = Keys(settings.redis_prefix)
    key_id = app_key_id(settings.app_key)
    issued = connection.get(keys.token_issuances(settings.kis_env, key_id))
    waits = connection.get(keys.rate_waits(settings.kis_env, key_id))
    print(
        f"tokens issued so far: {int(issued or 0)}; limiter waits: {int(waits or 0)} "
        f"(limit {settings.rate_limit:g}/s)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
