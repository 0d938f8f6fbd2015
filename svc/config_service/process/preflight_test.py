import os

import psycopg2
import pytest

from config_service.process import SERVER_LOGGER
from config_service.process.preflight import Prepared, connection_budget_problem, prepare
from config_service.store.migrations import apply_migrations
from conftest import make_settings
from test import postgres
from test.postgres import value

UNREACHABLE = "postgresql://postgres@127.0.0.1:9/none"


def table_exists(dsn: str, table: str) -> bool:
    return value(dsn, "SELECT to_regclass(%s) IS NOT NULL", (table,))


def test_prepare_migrates_an_existing_empty_database_without_creating_it(empty_database, caplog):
    caplog.set_level("INFO", logger=SERVER_LOGGER)
    assert not table_exists(empty_database, "applications")
    assert prepare(make_settings(empty_database, workers=1)) == Prepared(None, migrated=True)
    assert table_exists(empty_database, "applications")
    assert table_exists(empty_database, "configurations")
    said = [record.getMessage() for record in caplog.records]
    assert not any(line.startswith("created the database") for line in said)
    assert "applied migration 0001_create_applications" in said


def test_prepare_gives_the_reason_when_an_applied_migration_changed(empty_database):
    apply_migrations(empty_database)
    connection = psycopg2.connect(empty_database)
    try:
        with connection.cursor() as cursor:
            cursor.execute("UPDATE migrations SET checksum = repeat('0', 64) WHERE version = 1")
        connection.commit()
    finally:
        connection.close()
    prepared = prepare(make_settings(empty_database, workers=1))
    assert not prepared.migrated
    assert "0001_create_applications changed after it was applied" in prepared.problem


def test_too_many_workers_for_postgres_are_named_with_the_arithmetic(database_url):
    assert connection_budget_problem(make_settings(database_url, workers=1)) is None
    problem = connection_budget_problem(make_settings(database_url, workers=50, db_pool_size=4))
    assert problem.startswith("WORKERS x (DB_POOL_SIZE + 1) = 50 x 5 = 250 connections")
    assert "lower one of them" in problem


def test_with_a_listen_url_of_its_own_only_the_listeners_count(database_url):
    # DATABASE_URL another string than DATABASE_LISTEN_URL: a pooler, whose connections
    # PostgreSQL does not see; 50 workers x 5 would not fit, 50 listeners do.
    pooler = f"{database_url}?application_name=pooler"
    settings = make_settings(pooler, database_listen_url=database_url, workers=50)
    assert settings.listens_elsewhere
    assert connection_budget_problem(settings) is None


def test_an_unreachable_postgres_is_an_error_to_the_budget_and_a_logged_reason_to_prepare(caplog):
    """The service starts all the same, and its workers are told to migrate themselves."""
    with pytest.raises(psycopg2.OperationalError):
        connection_budget_problem(make_settings(UNREACHABLE, workers=1))
    caplog.set_level("WARNING", logger=SERVER_LOGGER)
    assert prepare(make_settings(UNREACHABLE, workers=1)) == Prepared(None, migrated=False)
    [warning] = [record.getMessage() for record in caplog.records]
    assert warning.startswith("cannot reach PostgreSQL at DATABASE_URL")
    assert "starting anyway, not ready until it answers" in warning
    assert "Connection refused" in warning  # libpq's own words, so the operator sees why
    assert "make db-up" in warning


def test_prepare_creates_the_database_once_and_says_so(database_url, caplog):
    caplog.set_level("INFO", logger=SERVER_LOGGER)
    name = f"config_service_test_prepare_{os.getpid()}"
    dsn = postgres.dsn_for(name)
    try:
        assert prepare(make_settings(dsn, workers=1)).migrated
        assert prepare(make_settings(dsn, workers=1)).migrated
    finally:
        postgres.drop_database(dsn)
    said = [record.getMessage() for record in caplog.records]
    assert said.count(f"created the database {name} (DATABASE_URL)") == 1
    assert said.count("applied migration 0001_create_applications") == 1
