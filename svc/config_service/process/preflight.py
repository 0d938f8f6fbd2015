"""Before serving: the database created and migrated, and the workers' connections known
to fit in PostgreSQL."""

import logging

import psycopg2
import psycopg2.extensions

from config_service.settings import Settings
from config_service.store.migrations import MigrationError, apply_migrations, ensure_database
from config_service.store.readiness import migration_dsn

# The server's log, whichever of its modules writes (process/server.py, serving, preflight, supervisor).
log = logging.getLogger("config_service.process.server")


def connection_budget_problem(settings: Settings) -> str | None:
    """Why the workers' connections would not fit in PostgreSQL, or None.

    Each worker holds DB_POOL_SIZE pooled connections and one listening for changes; with a
    DATABASE_LISTEN_URL of its own (DATABASE_URL a pooler), PostgreSQL sees the listeners only.
    """
    pooled = 0 if settings.listens_elsewhere else settings.db_pool_size
    wanted = settings.workers * (pooled + 1)
    connection = psycopg2.connect(settings.listen_dsn, connect_timeout=5)
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT current_setting('max_connections')::int"
                " - current_setting('superuser_reserved_connections')::int"
            )
            available = cursor.fetchone()[0]
    finally:
        connection.close()
    if wanted > available and settings.listens_elsewhere:
        return (
            f"WORKERS = {settings.workers} connections listening at DATABASE_LISTEN_URL,"
            f" but PostgreSQL allows {available}; lower WORKERS"
        )
    if wanted > available:
        return (
            f"WORKERS x (DB_POOL_SIZE + 1) = {settings.workers} x {settings.db_pool_size + 1}"
            f" = {wanted}"
            f" connections, but PostgreSQL allows {available}; lower one of them"
        )
    return None


def prepare(settings: Settings) -> str | None:
    """Create and migrate the database; why the service cannot start, or None.

    An unreachable PostgreSQL is no reason: the workers start degraded and migrate once it
    answers (store/readiness.py).
    """
    # The direct road: a pooler may not know the `postgres` database, nor carry a session.
    # Connects bounded: a silent address must not hang start-up.
    dsn = migration_dsn(settings)
    try:
        if ensure_database(dsn):
            name = psycopg2.extensions.parse_dsn(settings.listen_dsn)["dbname"]
            road = "DATABASE_LISTEN_URL" if settings.listens_elsewhere else "DATABASE_URL"
            log.info(f"created the database {name} ({road})")
        for migration in apply_migrations(dsn):
            log.info(f"applied migration {migration.version:04d}_{migration.name}")
        return connection_budget_problem(settings)
    except psycopg2.OperationalError as error:
        log.warning(
            f"cannot reach PostgreSQL at DATABASE_URL ({str(error).strip()}); starting anyway,"
            " not ready until it answers (start it with `make db-up`, or point DATABASE_URL at"
            " a running server)"
        )
        return None
    except MigrationError as error:
        return str(error)
