"""REVISIONS_KEEP as the database holds it: the revision trigger applies it to every change,
whoever writes (migration 0013 says why a table; functions/record_configuration_revision.sql
how it trims).

Written when the service migrates (store/migrations.py `migrate`: `make run`, `make migrate`,
or a worker that migrates once PostgreSQL answers), so that the number is this deploy's before
anything is served. Instances that share a database share the number, as they share its
migrations: the last one to migrate decides, and says so when it changes the number.
"""

import psycopg2


def record_revisions_keep(dsn: str, keep: int) -> int | None:
    """Make `keep` the database's REVISIONS_KEEP; the number it replaced, or None if the same."""
    connection = psycopg2.connect(dsn)
    try:
        with connection, connection.cursor() as cursor:  # one transaction, committed on leaving
            cursor.execute("SELECT keep FROM revision_retention FOR UPDATE")
            (before,) = cursor.fetchone()
            if before == keep:
                return None
            cursor.execute("UPDATE revision_retention SET keep = %s, set_at = now()", (keep,))
            return before
    finally:
        connection.close()
