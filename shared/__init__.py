"""Common packages shared by every service: settings, clock, calendar, Redis keys, KIS client."""
