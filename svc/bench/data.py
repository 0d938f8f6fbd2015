"""The bench's own database, created for a run and dropped after it, and what goes in it."""

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import psycopg2
from psycopg2 import sql
from ulid import ULID

from config_service.store.migrations import apply_migrations
from test.postgres import execute

# BENCH_DATABASE in the environment names another, so that two checkouts benchmarking on one
# server at once do not drop each other's.
BENCH_DATABASE = os.environ.get("BENCH_DATABASE", "config_service_bench")

# About 1 KB of JSON, like a real configuration.
CONFIG = {
    "database": {"host": "db.internal", "port": 5432, "pool": {"min": 2, "max": 20}},
    "features": {f"flag_{n}": n % 2 == 0 for n in range(20)},
    "endpoints": [f"https://api-{n}.example.com/v1" for n in range(8)],
    "limits": {"requests_per_minute": 6000, "burst": 200, "timeout_ms": 2500},
    "description": "x" * 200,
}


def database_dsn(dsn: str, name: str) -> str:
    """The DSN of database `name` on the server `dsn` names."""
    return urlsplit(dsn)._replace(path=f"/{name}").geturl()


@contextmanager
def bench_database(dsn: str, name: str = BENCH_DATABASE) -> Iterator[str]:
    """A fresh, migrated database `name` on the server `dsn` names; dropped on leaving,
    failures and Ctrl-C included. Yields its DSN."""
    admin, identifier = database_dsn(dsn, "postgres"), sql.Identifier(name)
    execute(admin, sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(identifier))
    execute(admin, sql.SQL("CREATE DATABASE {}").format(identifier))
    try:
        bench_dsn = database_dsn(dsn, name)
        apply_migrations(bench_dsn)
        yield bench_dsn
    finally:
        # FORCE: a server that could not be stopped may still hold connections.
        execute(admin, sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(identifier))


@dataclass
class Seeded:
    application_ids: list[str] = field(default_factory=list)
    configurations: list[dict] = field(default_factory=list)
    etags: dict[str, str] = field(default_factory=dict)  # configuration path -> ETag


def seed(http, applications: int = 100, configurations: int = 10, config: dict = CONFIG) -> Seeded:
    """Create the data the read and write scenarios use, through the API itself."""
    seeded = Seeded()
    for a in range(applications):
        response = http.post("/api/v1/applications", json={"name": f"bench-app-{a}"})
        response.raise_for_status()
        application_id = response.json()["id"]
        seeded.application_ids.append(application_id)
        for c in range(configurations):
            body = {"application_id": application_id, "name": f"config-{c}", "config": config}
            response = http.post("/api/v1/configurations", json=body)
            response.raise_for_status()
            created = response.json()
            seeded.configurations.append(created)
            seeded.etags[f"/api/v1/configurations/{created['id']}"] = response.headers["etag"]
    return seeded


INSERT_MANY = """
    INSERT INTO configurations (id, application_id, name, comments, config)
    SELECT ids.id, %(application_id)s, %(prefix)s || ids.n, '', %(config)s::jsonb
    FROM unnest(%(ids)s::varchar[]) WITH ORDINALITY AS ids (id, n)
"""


def seed_many(dsn: str, count: int, name: str = "bench-churn", config: dict = CONFIG) -> list[str]:
    """`count` configurations in one new application, straight into the tables (100,000 in
    seconds, where the API would take minutes); returns their ids.

    Ids are ULIDs made here, as the service makes them, since it rejects any other id.
    """
    application_id = str(ULID())
    ids = [str(ULID()) for _ in range(count)]
    connection = psycopg2.connect(dsn)
    try:
        with connection, connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO applications (id, name) VALUES (%s, %s)", (application_id, name)
            )
            cursor.execute(
                INSERT_MANY,
                {
                    "application_id": application_id,
                    "prefix": f"{name}-",
                    "config": json.dumps(config),
                    "ids": ids,
                },
            )
    finally:
        connection.close()
    return ids
