"""Fixtures every test may use: a real PostgreSQL database for the run, settings, an app client."""

import psycopg2
import psycopg2.extras
import pytest
from fastapi.testclient import TestClient

from config_service.settings import Settings
from config_service.store.migrations import apply_migrations
from test import postgres
from test.listener_proxy import ListenerProxy
from test.live_server import ServerProcess
from test.proxy import TcpProxy
from test.resources import insert_application


def pytest_sessionstart(session):
    reason = postgres.unreachable_reason()
    if reason:
        pytest.exit(reason, returncode=3)


@pytest.fixture(scope="session")
def database_url():
    """A migrated database created for this test run and dropped after it."""
    dsn = postgres.create_database()
    apply_migrations(dsn)
    yield dsn
    postgres.drop_database(dsn)


@pytest.fixture
def empty_database():
    """A database with nothing in it, dropped after the test."""
    dsn = postgres.create_database()
    yield dsn
    postgres.drop_database(dsn)


@pytest.fixture
def migrated_database():
    """A migrated database of the test's own, dropped after it: for what the run's other apps
    must not touch (their rollout schedules step every due rollout of the run's database)."""
    dsn = postgres.create_database()
    apply_migrations(dsn)
    yield dsn
    postgres.drop_database(dsn)


@pytest.fixture(scope="module")
def one_worker_server(database_url):
    """The service as `make run` starts it, 1 worker, on the run's database: shared by the
    tests of one module (each module that asks gets its own)."""
    with ServerProcess(database_url, WORKERS="1") as running:
        yield running


@pytest.fixture(scope="module")
def two_worker_server(database_url):
    """The same with 2 workers: what tests of consistency and counting need."""
    with ServerProcess(database_url, WORKERS="2") as running:
        yield running


@pytest.fixture
def cursor(database_url):
    """A cursor on the run's database, in a transaction rolled back after the test."""
    connection = psycopg2.connect(database_url, cursor_factory=psycopg2.extras.RealDictCursor)
    try:
        with connection.cursor() as test_cursor:
            yield test_cursor
    finally:
        connection.rollback()
        connection.close()


@pytest.fixture
def application_id(database_url) -> str:
    """An application inserted in SQL into the run's database (a new one per test)."""
    return insert_application(database_url)


def make_settings(database_url: str, **overrides) -> Settings:
    """Settings for tests: only what is given here, never the developer's .env."""
    values = {
        "database_url": database_url,
        "db_pool_size": 4,
        "api_read_tokens": frozenset(),
        "api_write_tokens": frozenset(),
        "api_tokens_file": None,
        "log_level": "warning",
    }
    return Settings(_env_file=None, **{**values, **overrides})


@pytest.fixture(scope="session")
def settings(database_url) -> Settings:
    return make_settings(database_url)


@pytest.fixture(scope="session")
def client(settings):
    """The whole app, lifespan included, on the run's database."""
    from config_service.main import create_app

    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture
def proxy(database_url):
    """A TCP proxy in front of the run's database, for tests that break connections."""
    with TcpProxy.in_front_of(database_url) as running:
        yield running


@pytest.fixture
def proxied_client(proxy, database_url):
    """The whole app reaching the run's database through `proxy`, with short timeouts."""
    from config_service.main import create_app

    settings = make_settings(
        proxy.dsn(database_url), db_pool_size=2, db_connect_timeout=1, db_statement_timeout=2
    )
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def listener_proxy(database_url):
    """A proxy that tells the listening connection from the pool (test/listener_proxy.py),
    for a module's servers: give them `listener_proxy.dsn(database_url)`."""
    with ListenerProxy.in_front_of(database_url) as running:
        yield running
