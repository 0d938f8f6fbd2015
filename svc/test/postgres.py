"""Throwaway PostgreSQL databases for the test run, on the server TEST_DATABASE_URL names, and
statements run on a database as psql runs them."""

import os
import uuid
from urllib.parse import urlsplit

import psycopg2
import psycopg2.extensions
import psycopg2.extras
from psycopg2 import sql

ADMIN_DSN = os.environ.get(
    "TEST_DATABASE_URL", "postgresql://postgres:postgres@127.0.0.1:5432/postgres"
)

HOW_TO_START = (
    "The tests need a PostgreSQL server; none answers at {dsn} ({error}).\n"
    "Start one with `make db-up` (Docker), or point TEST_DATABASE_URL at a reachable server,\n"
    "e.g. TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres make test"
)


def unreachable_reason() -> str | None:
    """Why the test server cannot be used, or None when it can."""
    try:
        psycopg2.connect(ADMIN_DSN, connect_timeout=3).close()
    except psycopg2.OperationalError as error:
        return HOW_TO_START.format(dsn=ADMIN_DSN, error=str(error).strip())
    return None


def execute(
    dsn: str,
    statement: str | sql.Composable,
    parameters: dict | tuple | None = None,
    *,
    silently: bool = False,
) -> int:
    """Run one statement on a connection of its own, committed as psql commits it (autocommit:
    CREATE DATABASE too); the rows it touched. `silently`: with triggers off
    (session_replication_role = replica), so the change sends no NOTIFY."""
    if silently:  # in the statement's own transaction: `SET LOCAL …; statement`
        statement = sql.SQL("SET LOCAL session_replication_role = replica; {}").format(
            statement if isinstance(statement, sql.Composable) else sql.SQL(statement)
        )
    return _run(dsn, statement, parameters, lambda cursor: cursor.rowcount)


def rows(dsn: str, statement: str, parameters: dict | tuple | None = None) -> list[dict]:
    """What one query returns, each row a dict, on a connection of its own."""
    return _run(dsn, statement, parameters, lambda cursor: cursor.fetchall())


def value(dsn: str, statement: str, parameters: dict | tuple | None = None):
    """The one value a query returns (its first row's first column)."""
    return _run(dsn, statement, parameters, lambda cursor: next(iter(cursor.fetchone().values())))


def _run(dsn, statement, parameters, result):
    connection = psycopg2.connect(dsn, cursor_factory=psycopg2.extras.RealDictCursor)
    try:
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute(statement, parameters)
            return result(cursor)
    finally:
        connection.close()


def create_database(prefix: str = "config_service_test") -> str:
    """Create an empty database with a unique name; returns its DSN."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    execute(ADMIN_DSN, sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return dsn_for(name)


def dsn_for(name: str) -> str:
    """The DSN of database `name` on the test server."""
    return urlsplit(ADMIN_DSN)._replace(path=f"/{name}").geturl()


def database_exists(name: str) -> bool:
    """Whether the test server has a database of this name."""
    return value(ADMIN_DSN, "SELECT EXISTS (SELECT FROM pg_database WHERE datname = %s)", (name,))


def drop_database(dsn: str) -> None:
    """Drop the database `dsn` names, closing whatever still uses it."""
    name = psycopg2.extensions.parse_dsn(dsn)["dbname"]
    execute(
        ADMIN_DSN, sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
    )


def terminate_connections(dsn: str, application_name: str) -> int:
    """Kill the server side of every connection to `dsn`'s database with this application name,
    as a server restart would; returns how many."""
    return value(
        dsn,
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
        " WHERE datname = current_database() AND application_name = %s",
        (application_name,),
    )
