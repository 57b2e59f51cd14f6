"""The executor: an RQ worker that places each order exactly once and follows it to its fills."""
