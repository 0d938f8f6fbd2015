"""Before serving: the database created and migrated, and the workers' connections known
to fit in PostgreSQL.

Migrating here, once, is what lets the workers skip it: when it succeeds, every worker starts
on a database that is this build's (`Prepared.migrated`). When PostgreSQL cannot be reached,
the service starts all the same, and each worker migrates once it answers
(store/readiness.py), under the migrations' lock.
"""

import logging
from dataclasses import dataclass

import psycopg2

from config_service.process import SERVER_LOGGER
from config_service.settings import Settings
from config_service.store.migration_files import MigrationError
from config_service.store.migrations import migrate, migration_dsn

log = logging.getLogger(SERVER_LOGGER)


@dataclass(frozen=True)
class Prepared:
    problem: str | None  # why the service cannot start
    migrated: bool  # the database is this build's: the workers need not migrate


def connection_budget_problem(settings: Settings) -> str | None:
    """Why the workers' connections would not fit in PostgreSQL, or None.

    Each worker holds DB_POOL_SIZE pooled connections and one listening for changes; with a
    DATABASE_LISTEN_URL of its own (DATABASE_URL a pooler), PostgreSQL sees the listeners only.
    """
    pooled = 0 if settings.listens_elsewhere else settings.db_pool_size
    wanted = settings.workers * (pooled + 1)
    connection = psycopg2.connect(migration_dsn(settings))
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


def prepare(settings: Settings) -> Prepared:
    """Create and migrate the database, check the connection budget.

    An unreachable PostgreSQL is no reason not to start: the workers start degraded and
    migrate once it answers (store/readiness.py).
    """
    try:
        migrated = migrate(settings)
        for level, line in migrated.lines():
            log.log(level, line)
        return Prepared(connection_budget_problem(settings), migrated=True)
    except psycopg2.OperationalError as error:
        log.warning(
            f"cannot reach PostgreSQL at DATABASE_URL ({str(error).strip()}); starting anyway,"
            " not ready until it answers (start it with `make db-up`, or point DATABASE_URL at"
            " a running server)"
        )
        return Prepared(None, migrated=False)
    except MigrationError as error:
        return Prepared(str(error), migrated=False)
