"""The trading domain, pure: rules, the order model, ticks, the KRX calendar, costs, picks, trades.

No Redis and no network here: these modules take data and return decisions, so the engine, the
simulator and a backtest all call the same code.
"""
