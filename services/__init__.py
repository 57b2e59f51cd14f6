"""One package per process: each has a small __main__ that loads settings and runs its loop."""
