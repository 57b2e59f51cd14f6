"""The operator CLI (``kat``): picks, orders, positions, pause/resume/halt."""
