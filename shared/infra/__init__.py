"""Plumbing with no trading knowledge: settings, credentials, the clock, logs, Redis clients,
keys."""
