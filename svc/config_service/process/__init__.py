"""The process: `make run`'s entry point, preflight, sockets and uvicorn, the supervisor of
several workers and its restart backoff.

The top of the house: it may import anything, and nothing imports it.
"""
