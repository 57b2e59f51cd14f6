"""The system as the user runs it: ``docker compose`` on a real Docker engine."""
