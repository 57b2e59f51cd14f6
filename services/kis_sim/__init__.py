"""The KIS simulator: KIS's REST dialect and rules for the endpoints we use (see its README)."""
