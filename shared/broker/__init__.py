"""The broker's account model: KIS's money rules in one place, pure and in memory.

Orderable cash counts every trade at once, the settled deposit moves at D+N on KRX sessions,
fees and tax are cut below one won, and a buy reserves quantity x limit price plus its fee.
The simulator serves its accounts from this ledger; the backtest (:mod:`shared.backtest`) keeps
its account in it. See docs/ARCHITECTURE.md, 'Settlement (D+2)' and 'Backtest'.
"""
