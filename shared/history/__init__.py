"""KRX history: the bar store (DuckDB), fetching bars from KIS into it, importing them from CSV.

docs/ARCHITECTURE.md, 'History'. The backtest reads bars through :class:`store.BarStore` only.
"""
