"""Migrating when PostgreSQL answers: now, later, or never for a changed migration."""

import asyncio
import logging
import uuid

import pytest

from config_service.errors import DatabaseUnavailable
from config_service.store.database import build_database
from config_service.store.migration_files import discover
from config_service.store.migrations import apply_migrations, migration_dsn
from config_service.store.readiness import NOT_REACHED, schema_ready
from config_service.telemetry.ignored import ignored_metrics
from conftest import make_settings
from test import postgres
from test.migration_files import files_of, write_files
from test.proxy import TcpProxy


def select_one(cursor):
    cursor.execute("SELECT 1 AS one")
    return cursor.fetchone()["one"]


async def until_ready(database, seconds: float = 10):
    async with asyncio.timeout(seconds):
        while database.not_ready is not None:
            await asyncio.sleep(0.02)


def test_unreachable_at_start_it_answers_unavailable_then_migrates_once_reachable(caplog):
    caplog.set_level(logging.INFO, logger="config_service.store.readiness")
    dsn = postgres.dsn_for(f"config_service_test_schema_{uuid.uuid4().hex[:12]}")

    async def scenario(proxy: TcpProxy):
        settings = make_settings(proxy.dsn(dsn), db_connect_timeout=1)
        database = build_database(settings, ignored_metrics())
        try:
            async with schema_ready(settings, database):
                with pytest.raises(DatabaseUnavailable, match="has not answered"):
                    await database.read(select_one)
                proxy.restore()
                await until_ready(database)
                return await database.read(select_one)
        finally:
            database.close()

    with TcpProxy.in_front_of(postgres.ADMIN_DSN) as proxy:
        proxy.refuse()
        try:
            assert asyncio.run(scenario(proxy)) == 1
        finally:
            postgres.drop_database(dsn)
    said = [record.getMessage() for record in caplog.records]
    assert len([line for line in said if line.startswith("PostgreSQL cannot be reached")]) == 1
    assert said.count("PostgreSQL answers: the database is migrated, serving") == 1
    assert said.count("applied migration 0001_create_applications") == 1
    assert NOT_REACHED.startswith("PostgreSQL has not answered")


def test_reachable_at_start_it_is_ready_before_the_block_begins(database_url):
    async def scenario():
        settings = make_settings(database_url)
        database = build_database(settings, ignored_metrics())
        try:
            async with schema_ready(settings, database):
                return database.not_ready
        finally:
            database.close()

    assert asyncio.run(scenario()) is None


def test_a_changed_migration_keeps_it_unavailable_and_says_why(empty_database, tmp_path):
    [(name, text)] = files_of(discover()[:1]).items()
    apply_migrations(empty_database, write_files(tmp_path, {name: text + "\n-- edited"}))

    async def scenario():
        settings = make_settings(empty_database)
        database = build_database(settings, ignored_metrics())
        try:
            async with schema_ready(settings, database):
                with pytest.raises(DatabaseUnavailable, match="changed after it was applied"):
                    await database.read(select_one)
        finally:
            database.close()

    asyncio.run(scenario())


def test_the_migration_dsn_bounds_connecting():
    dsn = migration_dsn(make_settings("postgresql://postgres@db:5432/x", db_connect_timeout=2.4))
    assert "connect_timeout=2" in dsn and "dbname=x" in dsn
