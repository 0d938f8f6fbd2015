"""The watchdog against real connections: it cuts only calls past their deadline."""

import time

import psycopg2
import pytest

from config_service.store.deadlines import CallWatchdog, shut_down


@pytest.fixture
def watchdog():
    running = CallWatchdog(tick=0.02)
    running.start()
    yield running
    running.stop()


def test_a_call_past_its_deadline_gets_an_error_at_once(watchdog, proxy, database_url):
    connection = psycopg2.connect(proxy.dsn(database_url))
    proxy.stall()
    watchdog.calls[connection] = time.monotonic() + 0.2
    started = time.monotonic()
    with pytest.raises(psycopg2.OperationalError):
        connection.cursor().execute("SELECT 1")  # would wait for as long as the kernel lets it
    assert time.monotonic() - started < 5
    assert watchdog.expired(connection) and not watchdog.expired(connection)  # told once
    connection.close()


def test_a_call_within_its_deadline_is_left_alone(watchdog, database_url):
    connection = psycopg2.connect(database_url)
    watchdog.calls[connection] = time.monotonic() + 30
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_sleep(0.1), 1")
        assert cursor.fetchone()[1] == 1
    del watchdog.calls[connection]
    assert not watchdog.expired(connection)
    connection.close()


def test_shutting_down_a_closed_connection_does_nothing(database_url):
    connection = psycopg2.connect(database_url)
    connection.close()
    shut_down(connection)  # no error
