"""Schema migrations: migrations/NNNN_name.sql, applied in order, once each, recorded in a table.

Run with `python -m config_service.store.migrations` (`make migrate`), on DATABASE_LISTEN_URL (the
direct road; it defaults to DATABASE_URL). Safe to run from several processes at once, even
through PgBouncer in transaction mode: each migration's transaction first takes a
transaction-scoped advisory lock, then looks at what is pending, so one applies it while the
others wait and then find it done. A file that was applied must never change; a changed
checksum stops the run.
"""

import hashlib
import re
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import psycopg2
import psycopg2.errors
import psycopg2.extensions
import psycopg2.extras
from psycopg2 import sql

from config_service.settings import get_settings

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
FILE_NAME = re.compile(r"^(?P<version>\d{4})_(?P<name>[a-z0-9_]+)\.sql$")
# Any fixed number works; every instance of the service must use the same one.
ADVISORY_LOCK_KEY = 0x6366_6773_7663  # "cfgsvc"

CREATE_MIGRATIONS_TABLE = """
    CREATE TABLE IF NOT EXISTS migrations (
        version     integer          PRIMARY KEY,
        name        text             NOT NULL,
        checksum    char(64)         NOT NULL,
        applied_at  timestamptz      NOT NULL,
        duration_ms double precision NOT NULL
    )
"""


class MigrationError(Exception):
    """The migrations on disk and in the database cannot be reconciled."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def discover(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """The migration files in version order; a misnamed or duplicate-version file is an error."""
    migrations: dict[int, Migration] = {}
    for path in sorted(directory.glob("*.sql")):
        match = FILE_NAME.match(path.name)
        if match is None:
            raise MigrationError(f"{path.name}: migration files are named NNNN_lower_snake.sql")
        version = int(match["version"])
        if version in migrations:
            raise MigrationError(f"{path.name}: version {version} is used twice")
        migrations[version] = Migration(version, match["name"], path.read_text(encoding="utf-8"))
    return [migrations[version] for version in sorted(migrations)]


def ensure_database(dsn: str) -> bool:
    """Create the database `dsn` names when it does not exist; True when it was created."""
    params = psycopg2.extensions.parse_dsn(dsn)
    name = params["dbname"]
    admin = psycopg2.connect(**{**params, "dbname": "postgres"})
    try:
        admin.autocommit = True
        with admin.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
            if cursor.fetchone():
                return False
            try:
                cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            except psycopg2.errors.DuplicateDatabase:
                return False  # another instance created it a moment ago
            return True
    finally:
        admin.close()


def applied_checksums(cursor) -> dict[int, str]:
    """Version -> checksum of every applied migration; empty before the first run.

    `cursor` returns rows as dicts (RealDictCursor), as every cursor of this service does.
    """
    cursor.execute("SELECT to_regclass('migrations') IS NOT NULL AS present")
    if not cursor.fetchone()["present"]:
        return {}
    cursor.execute("SELECT version, checksum FROM migrations")
    return {row["version"]: row["checksum"] for row in cursor.fetchall()}


def pending(cursor, migrations: list[Migration]) -> list[Migration]:
    """The migrations not yet applied; raises when an applied one has changed on disk."""
    applied = applied_checksums(cursor)
    for migration in migrations:
        if migration.version in applied and applied[migration.version] != migration.checksum:
            raise MigrationError(
                f"migration {migration.version:04d}_{migration.name} changed after it was applied;"
                " add a new migration instead of editing an applied one"
            )
    return [migration for migration in migrations if migration.version not in applied]


def apply_migrations(dsn: str, directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """Apply every pending migration, each in its own transaction; returns those applied now."""
    migrations = discover(directory)
    connection = psycopg2.connect(dsn, cursor_factory=psycopg2.extras.RealDictCursor)
    try:
        with connection.cursor() as cursor:
            applied_now = []
            while migration := _lock_and_find_next(cursor, migrations):
                _apply(connection, cursor, migration)  # commits: releases the lock
                applied_now.append(migration)
            connection.commit()
            return applied_now
    finally:
        connection.close()


def _lock_and_find_next(cursor, migrations: list[Migration]) -> Migration | None:
    """Begin a transaction holding the migration lock; the first pending migration, or None.

    A transaction-scoped lock, not a session one: a pooler in transaction mode may run each
    transaction on another server connection, and a session lock would stay on that one.
    """
    cursor.execute("SELECT pg_advisory_xact_lock(%s)", (ADVISORY_LOCK_KEY,))
    cursor.execute(CREATE_MIGRATIONS_TABLE)
    waiting = pending(cursor, migrations)
    return waiting[0] if waiting else None


def _apply(connection, cursor, migration: Migration) -> None:
    started = time.perf_counter()
    try:
        cursor.execute(migration.sql)
        cursor.execute(
            "INSERT INTO migrations (version, name, checksum, applied_at, duration_ms)"
            " VALUES (%s, %s, %s, %s, %s)",
            (
                migration.version,
                migration.name,
                migration.checksum,
                datetime.now(UTC),
                (time.perf_counter() - started) * 1000,
            ),
        )
        connection.commit()
    except psycopg2.Error as error:
        connection.rollback()
        raise MigrationError(
            f"migration {migration.version:04d}_{migration.name} failed and was rolled back: "
            f"{error}".strip()
        ) from error


def main() -> int:
    """Create the database if needed, apply what is pending, say what happened."""
    dsn = get_settings().listen_dsn
    try:
        if ensure_database(dsn):
            print(f"created database {psycopg2.extensions.parse_dsn(dsn)['dbname']}")
        applied = apply_migrations(dsn)
    except psycopg2.OperationalError as error:
        print(f"cannot reach PostgreSQL: {str(error).strip()}", file=sys.stderr)
        return 1
    except MigrationError as error:
        print(f"migrations: {error}", file=sys.stderr)
        return 1
    for migration in applied:
        print(f"applied migration {migration.version:04d}_{migration.name}")
    if not applied:
        print("migrations: database is up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
