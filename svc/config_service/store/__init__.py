"""The store: PostgreSQL calls, the connection pool, call deadlines, migrations with their SQL
(versioned files, and one file per SQL function: migration_files.py), REVISIONS_KEEP as the
database holds it, and the readiness of the database.

It may import the shared vocabulary and `telemetry`; nothing above it.
"""
