"""The common packages every service builds on, in layers; a layer imports only those below it.

Top to bottom (docs/ARCHITECTURE.md, 'Start here'; enforced by ``.importlinter``):

- :mod:`shared.state`: records the processes share in Redis and change atomically (orders,
  positions, picks, control flags, money limits, flatten).
- :mod:`shared.messaging`: the contracts between processes: notification events and the RQ
  queues, with their codecs and the outage-proof worker.
- :mod:`shared.trading`: the trading domain as pure data and functions (rules, the order model,
  ticks, the KRX calendar, costs, picks, realised trades).
- :mod:`shared.kis`: the KIS Open API client (REST and WebSocket), its limiter and token.
- :mod:`shared.infra`: plumbing with no trading knowledge (settings, credentials, the clock, logs,
  Redis clients and key names).
"""
