"""The scheduler service: the one process that decides what to trade, and when.

See docs/ARCHITECTURE.md, 'Processes'.
"""
