"""The read side: each worker's memory of representations, the watches held on them, and the
connection that LISTENs for committed changes (memory-first reads, kept current by NOTIFY).

It may import the shared vocabulary, `access`, `telemetry` and the store; never the HTTP
edge, the resources or the process.
"""
