"""Tests of the status API and status page."""
