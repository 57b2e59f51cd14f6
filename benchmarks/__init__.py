"""Benchmarks: one command each, printing numbers (not timed tests)."""
