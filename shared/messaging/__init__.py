"""The contracts between processes: typed notification events, the RQ queues and their worker."""
