"""Tests of the repository tooling: compose file, Dockerfile, scripts, .env.example."""
