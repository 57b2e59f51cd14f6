"""Tests of the KIS simulator, over real HTTP against ``python -m services.kis_sim``."""
