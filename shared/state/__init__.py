"""Records the processes share in Redis, each changed atomically through its own module."""
