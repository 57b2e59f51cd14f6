"""The status API and status page: read Redis, show the system; control behind a bearer token."""
