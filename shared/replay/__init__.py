"""The backtest's replay driver: sampled sessions played by the whole system (every service a
process, Redis, the simulator replaying the stored bars) on a fast clock, and its orders compared
with the fast driver's. The one part of the backtest that opens the network: a layer above
``shared/backtest/`` (docs/ARCHITECTURE.md, 'Backtest', 'Replay')."""
