import psycopg2
import pytest

from config_service.store.database import connect_kwargs
from config_service.store.pool import ConnectionPool
from config_service.telemetry.ignored import ignored_metrics
from conftest import make_settings


@pytest.fixture
def metrics():
    class Families:
        families = ignored_metrics()

    return Families()


def test_discard_idle_closes_only_idle_connections(database_url, metrics):
    settings = make_settings(database_url, db_pool_size=2)
    pool = ConnectionPool(2, in_use=metrics.families.db_in_use, **connect_kwargs(settings))
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
    pool = ConnectionPool(3, in_use=ignored_metrics().db_in_use, **connect_kwargs(settings))
    in_use = pool.getconn(connect_timeout=2)
    pool.fill()
    assert len(pool._pool) == 2 and in_use.closed == 0
    pool.discard_idle()
    proxy.refuse()
    pool.fill()  # no error: nothing reachable
    assert not pool.has_idle()
    pool.closeall()
