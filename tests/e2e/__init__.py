"""End-to-end tests: simulator, scheduler and executor as real processes on one Redis."""
