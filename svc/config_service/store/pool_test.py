import inspect
import uuid

import psycopg2
import psycopg2.pool
import pytest

from config_service.store.database import connect_kwargs
from config_service.store.pool import ConnectionPool, connect_timeout
from config_service.telemetry.ignored import ignored_metrics
from conftest import make_settings
from test.postgres import value


class InUse:
    """Stands in for the gauge of connections in use: keeps what it was set to."""

    def __init__(self):
        self.values: list[float] = []

    def set(self, *labels: str, value: float) -> None:
        self.values.append(value)


def test_the_psycopg2_privates_the_pool_leans_on_are_as_it_expects(database_url):
    """What ConnectionPool overrides and reads of psycopg2's pool (its docstring lists it),
    as psycopg2-binary 2.9.10 has it: an upgrade that moves any of it fails here first."""
    parameters = lambda method: list(inspect.signature(method).parameters)  # noqa: E731
    base = psycopg2.pool.AbstractConnectionPool
    assert parameters(base._getconn) == ["self", "key"]
    assert parameters(base._putconn) == ["self", "conn", "key", "close"]
    assert parameters(base._getkey) == ["self"]
    pool = psycopg2.pool.ThreadedConnectionPool(0, 1, database_url, connect_timeout=5)
    assert (pool._pool, pool._used, pool._rused) == ([], {}, {})
    assert (pool._args, pool._kwargs) == ((database_url,), {"connect_timeout": 5})
    with pool._lock:  # the lock getconn and putconn hold around _getconn and _putconn
        pass
    pool.closeall()


def test_getconn_and_putconn_go_through_the_overrides_and_the_gauge_follows(database_url):
    in_use = InUse()
    pool = ConnectionPool(2, in_use=in_use, **connect_kwargs(make_settings(database_url)))
    made = pool.getconn()  # made here, outside the lock
    pool.putconn(made)  # psycopg2's putconn calls our _putconn
    again = pool.getconn()  # the idle one, through psycopg2's getconn and our _getconn
    pool.putconn(again)
    pool.closeall()
    assert again is made
    assert in_use.values == [1, 0, 1, 0]


def test_discard_idle_closes_only_idle_connections(database_url):
    settings = make_settings(database_url, db_pool_size=2)
    pool = ConnectionPool(2, in_use=ignored_metrics().db_in_use, **connect_kwargs(settings))
    in_use = pool.getconn()
    pool.discard_idle()
    assert in_use.closed == 0
    assert pool.getconn().closed == 0  # a fresh one, created on demand
    pool.closeall()


def test_a_pool_opens_without_connecting_and_connects_within_the_timeout_asked(proxy, database_url):
    settings = make_settings(proxy.dsn(database_url), db_pool_size=1)
    proxy.refuse()
    pool = ConnectionPool(1, in_use=ignored_metrics().db_in_use, **connect_kwargs(settings))
    with pytest.raises(psycopg2.OperationalError):
        pool.getconn(connect_timeout=2)
    proxy.restore()
    assert pool.getconn(connect_timeout=2).closed == 0
    assert not pool.has_idle()
    pool.closeall()


def test_a_pool_fills_to_its_size_and_stops_quietly_when_the_server_is_away(proxy, database_url):
    settings = make_settings(proxy.dsn(database_url), db_pool_size=3)
    name = f"pool-test-{uuid.uuid4().hex[:8]}"
    parameters = {**connect_kwargs(settings), "application_name": name}
    pool = ConnectionPool(3, in_use=ignored_metrics().db_in_use, **parameters)
    in_use = pool.getconn(connect_timeout=2)
    pool.fill()
    opened = value(
        database_url, "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", (name,)
    )
    assert opened == 3 and in_use.closed == 0
    pool.discard_idle()
    proxy.refuse()
    pool.fill()  # no error: nothing reachable
    assert not pool.has_idle()
    pool.closeall()


@pytest.mark.parametrize(("seconds", "whole"), [(0.2, 1), (2.4, 2), (2.6, 3)])
def test_the_connect_timeout_is_whole_seconds_at_least_one(seconds, whole):
    settings = make_settings("postgresql://unused/x", db_connect_timeout=seconds)
    assert connect_timeout(settings) == whole
    assert connect_kwargs(settings)["connect_timeout"] == whole
