"""The backtest: past sessions replayed with the rules, the order method and the money rules
that trade live. See docs/ARCHITECTURE.md, 'Backtest'.

Read in this order: :mod:`.driver` (the session loop), :mod:`.walk` (one code through one
session, the live rules at each point), :mod:`.candidates` (the numpy search for the bars the
rules may act on), :mod:`.fill_model` and :mod:`.account` (what a decision fills at, through
live's order method into the broker's ledger), :mod:`.results` (what a run produces).
"""
