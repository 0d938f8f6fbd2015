"""The process: `make run`'s entry point, preflight, sockets and uvicorn, the supervisor of
several workers and its restart backoff.

The top of the house: it may import anything, and nothing imports it.
"""

# The name `make run`'s own lines are logged under, whichever module of the process writes
# them (server.py runs as __main__, so its __name__ would not do).
SERVER_LOGGER = "config_service.process.server"
