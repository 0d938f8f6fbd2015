"""The store: PostgreSQL calls, the connection pool, call deadlines, migrations with their SQL,
and the readiness of the database.

It may import the shared vocabulary and `telemetry`; nothing above it.
"""
