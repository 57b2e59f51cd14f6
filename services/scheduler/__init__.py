"""The scheduler service: the one process that decides what to trade, and when (DESIGN §3)."""
