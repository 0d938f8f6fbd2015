"""Migrating the database: create it if missing, apply the migration files
(store/migration_files.py says which kinds there are), record REVISIONS_KEEP.

Run with `python -m config_service.store.migrations` (`make migrate`); `make run` does the same
before it serves (process/preflight.py), and a worker that started while PostgreSQL was
unreachable does it once PostgreSQL answers (store/readiness.py). Always on the direct road
(DATABASE_LISTEN_URL, which defaults to DATABASE_URL).

Safe to run from several processes at once, even through PgBouncer in transaction mode: each
file is applied in a transaction of its own that first takes a transaction-scoped advisory
lock, then looks at what is pending, so one process applies it while the others wait and then
find it done. Every file applied is recorded in the `migrations` table with its checksum.

A versioned file that was applied must never change: a changed checksum stops the run. A
repeatable file is applied whenever its text is one the database has not had yet, unless a
newer build migrated the database (it has versions this build lacks). So a body once replaced
is not applied again, nor any body of an older build: instances of the release before may
restart during a rolling upgrade, and must not put their bodies back (docs/operations.md). To
restore an old body, change its file (a comment will do).
"""

import logging
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

from config_service.settings import Settings, get_settings
from config_service.store.migration_files import (
    MIGRATIONS_DIR,
    Migration,
    MigrationError,
    discover,
)
from config_service.store.pool import connect_timeout
from config_service.store.retention import record_revisions_keep

# Any fixed number works; every instance of the service must use the same one.
ADVISORY_LOCK_KEY = 0x6366_6773_7663  # "cfgsvc"

# The table as the first release made it; migration 0011 lets it record repeatable files.
CREATE_MIGRATIONS_TABLE = """
    CREATE TABLE IF NOT EXISTS migrations (
        version     integer          PRIMARY KEY,
        name        text             NOT NULL,
        checksum    char(64)         NOT NULL,
        applied_at  timestamptz      NOT NULL,
        duration_ms double precision NOT NULL
    )
"""


@dataclass(frozen=True)
class Applied:
    """What the migrations table says was applied."""

    versions: dict[int, str]  # version -> checksum
    bodies: dict[str, list[str]]  # function -> the checksums of its bodies, oldest first

    def has(self, migration: Migration) -> bool:
        """Applied: a versioned file once, or a repeatable file's body at any time."""
        if migration.repeatable:
            return migration.checksum in self.bodies.get(migration.name, ())
        return migration.version in self.versions

    def newer_than(self, migrations: list[Migration]) -> bool:
        """Whether a newer build migrated the database: it has versions `migrations` lack."""
        return not set(self.versions) <= {m.version for m in migrations if not m.repeatable}

    def leaves_alone(self, migration: Migration, migrations: list[Migration]) -> bool:
        """A repeatable file of `migrations` whose body is not the database's, and is not to be:
        it was replaced since it was applied, or a newer build migrated the database."""
        if not migration.repeatable:
            return False
        bodies = self.bodies.get(migration.name, [])
        current = bool(bodies) and bodies[-1] == migration.checksum
        return not current and (self.has(migration) or self.newer_than(migrations))


def applied(cursor) -> Applied:
    """What was applied; nothing before the first run.

    `cursor` returns rows as dicts (RealDictCursor), as every cursor of this service does.
    """
    versions: dict[int, str] = {}
    bodies: dict[str, list[str]] = {}
    cursor.execute("SELECT to_regclass('migrations') IS NOT NULL AS present")
    if cursor.fetchone()["present"]:
        cursor.execute("SELECT version, name, checksum FROM migrations ORDER BY applied_at")
        for row in cursor.fetchall():
            if row["version"] is None:
                bodies.setdefault(row["name"], []).append(row["checksum"])
            else:
                versions[row["version"]] = row["checksum"]
    return Applied(versions, bodies)


def pending(cursor, migrations: list[Migration]) -> list[Migration]:
    """The migrations not yet applied, versioned first; raises when an applied versioned file
    has changed on disk."""
    done = applied(cursor)
    for migration in migrations:
        if not migration.repeatable and done.versions.get(migration.version) not in (
            None,
            migration.checksum,
        ):
            raise MigrationError(
                f"migration {migration.label} changed after it was applied;"
                " add a new migration instead of editing an applied one"
            )
    return [
        migration
        for migration in migrations
        if not done.has(migration) and not done.leaves_alone(migration, migrations)
    ]


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
            f"migration {migration.label} failed and was rolled back: {error}".strip()
        ) from error


def bodies_left_alone(dsn: str, directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """This build's repeatable files it leaves alone: a newer build's body is the database's."""
    connection = psycopg2.connect(dsn, cursor_factory=psycopg2.extras.RealDictCursor)
    try:
        connection.autocommit = True
        with connection.cursor() as cursor:
            done = applied(cursor)
    finally:
        connection.close()
    migrations = discover(directory)
    return [migration for migration in migrations if done.leaves_alone(migration, migrations)]


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


def migration_dsn(settings: Settings) -> str:
    """The direct road (DATABASE_LISTEN_URL, else DATABASE_URL: a pooler may not know the
    `postgres` database), with a bound on connecting (libpq waits forever by default)."""
    return psycopg2.extensions.make_dsn(
        settings.listen_dsn,
        connect_timeout=connect_timeout(settings),
        application_name="config-service-migrations",
    )


@dataclass(frozen=True)
class Migrated:
    """What migrating did, for the log (or the terminal)."""

    created: str | None  # the database's name, when it was created now
    road: str  # the setting that named it
    applied: list[Migration]
    left_alone: list[Migration]  # this build's bodies, where a newer build's are the database's
    revisions_keep_before: int | None  # when REVISIONS_KEEP changed
    revisions_keep: int

    def lines(self) -> list[tuple[int, str]]:
        """(logging level, line) pairs."""
        lines = []
        if self.created:
            lines.append((logging.INFO, f"created the database {self.created} ({self.road})"))
        lines += [
            (logging.INFO, f"applied migration {migration.label}") for migration in self.applied
        ]
        lines += [
            (
                logging.WARNING,
                f"left migration {migration.label} alone: a newer build's body is the"
                " database's (change the file to apply this one again)",
            )
            for migration in self.left_alone
        ]
        if self.revisions_keep_before is not None:
            lines.append(
                (
                    logging.INFO,
                    f"REVISIONS_KEEP is now {self.revisions_keep} for every writer of this"
                    f" database (it was {self.revisions_keep_before})",
                )
            )
        return lines


def migrate(settings: Settings) -> Migrated:
    """Create the database if missing, apply what is pending, record REVISIONS_KEEP."""
    dsn = migration_dsn(settings)
    created = ensure_database(dsn)
    applied_now = apply_migrations(dsn)
    return Migrated(
        created=psycopg2.extensions.parse_dsn(dsn)["dbname"] if created else None,
        road="DATABASE_LISTEN_URL" if settings.listens_elsewhere else "DATABASE_URL",
        applied=applied_now,
        left_alone=bodies_left_alone(dsn),
        revisions_keep_before=record_revisions_keep(dsn, settings.revisions_keep),
        revisions_keep=settings.revisions_keep,
    )


def main() -> int:
    """`make migrate`: migrate, and say what happened."""
    try:
        migrated = migrate(get_settings())
    except psycopg2.OperationalError as error:
        print(f"cannot reach PostgreSQL: {str(error).strip()}", file=sys.stderr)
        return 1
    except MigrationError as error:
        print(f"migrations: {error}", file=sys.stderr)
        return 1
    for _, line in migrated.lines():
        print(line)
    if not migrated.applied:
        print("migrations: database is up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
