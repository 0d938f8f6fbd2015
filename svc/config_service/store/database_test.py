import asyncio

import psycopg2
import psycopg2.extensions
import pytest

from config_service.errors import DatabaseUnavailable, InvalidValue
from config_service.store.database import (
    Database,
    build_database,
    open_database,
)
from config_service.telemetry.catalogue import service_registry
from conftest import make_settings
from test import postgres
from test.prometheus import at, read_samples
from test.random_refs import random_name
from test.waiting import until

SCRATCH = """
    CREATE TABLE IF NOT EXISTS scratch (name text PRIMARY KEY);
    CREATE TABLE IF NOT EXISTS doomed (name text);
    CREATE OR REPLACE FUNCTION terminate_own_backend() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN PERFORM pg_terminate_backend(pg_backend_pid()); RETURN NULL; END $$;
    DROP TRIGGER IF EXISTS terminate_at_commit ON doomed;
    -- A deferred trigger runs at COMMIT: the connection dies while committing.
    CREATE CONSTRAINT TRIGGER terminate_at_commit AFTER INSERT ON doomed
        DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION terminate_own_backend();
"""


@pytest.fixture(scope="module")
def scratch_tables(database_url):
    connection = psycopg2.connect(database_url)
    with connection, connection.cursor() as cursor:
        cursor.execute(SCRATCH)
    connection.close()


@pytest.fixture
def settings_for_db(database_url):
    return make_settings(database_url, db_pool_size=2, db_statement_timeout=0.5, retry_after=3)


class Metrics:
    """The service's metrics, kept in this process's memory, and read back as a scrape would."""

    def __init__(self):
        registry, self.families = service_registry({})
        self.store = registry.open(None, slot=0, version="test")

    def value(self, name: str, **labels: str) -> float | None:
        return at(read_samples(self.store.render()), name, **labels)


def new_database(settings, metrics: Metrics) -> Database:
    return build_database(settings, metrics.families)


@pytest.fixture
def metrics() -> Metrics:
    return Metrics()


@pytest.fixture
def database(settings_for_db, scratch_tables, metrics):
    database = new_database(settings_for_db, metrics)
    yield database
    database.close()


def run(database: Database, work, *args, write: bool = False, idempotent: bool = False):
    if idempotent:
        return asyncio.run(database.write_idempotent(work, *args))
    return asyncio.run((database.write if write else database.read)(work, *args))


def scratch_names(database: Database) -> list[str]:
    def select(cursor):
        cursor.execute("SELECT name FROM scratch")
        return [row["name"] for row in cursor.fetchall()]

    return run(database, select)


def insert(cursor, name):
    cursor.execute("INSERT INTO scratch (name) VALUES (%s)", (name,))


def test_connections_carry_the_timeouts_from_settings(database):
    def server_settings(cursor):
        cursor.execute(
            "SELECT current_setting('statement_timeout') AS statement_timeout,"
            " current_setting('application_name') AS application_name"
        )
        return dict(cursor.fetchone()), cursor.connection.get_dsn_parameters()

    seen, parameters = run(database, server_settings)
    assert seen == {"statement_timeout": "500ms", "application_name": "config-service"}
    assert parameters["tcp_user_timeout"] == "3500"  # connect 3 s + statement 0.5 s
    assert parameters["keepalives"] == "1"


def test_queries_run_in_autocommit_and_commands_in_a_transaction(database):
    def autocommit(cursor):
        return cursor.connection.autocommit

    assert run(database, autocommit) is True
    assert run(database, autocommit, write=True) is False
    assert run(database, autocommit, idempotent=True) is True  # one statement, its own


def test_a_write_is_committed(database):
    name = random_name()
    run(database, insert, name, write=True)
    assert name in scratch_names(database)


@pytest.mark.parametrize(
    ("how", "kept"),
    [({"write": True}, False), ({"idempotent": True}, True)],
    ids=["in a transaction: rolled back entirely", "idempotent: committed by its statement"],
)
def test_a_write_whose_handler_fails_after_its_statement(database, how, kept):
    name = random_name()

    def insert_then_fail(cursor):
        insert(cursor, name)
        raise RuntimeError("handler failed")

    with pytest.raises(RuntimeError):
        run(database, insert_then_fail, **how)
    assert (name in scratch_names(database)) is kept
    assert run(database, lambda cursor: cursor.connection.info.transaction_status) == 0


def test_a_rehearsal_answers_what_the_write_would_and_keeps_nothing(database):
    name = random_name()

    def insert_and_count(cursor):
        insert(cursor, name)
        cursor.execute("SELECT count(*) AS n FROM scratch WHERE name = %s", (name,))
        return cursor.fetchone()["n"], cursor.connection.autocommit

    assert asyncio.run(database.rehearse(insert_and_count)) == (1, False)
    assert name not in scratch_names(database)


def test_a_value_postgres_cannot_store_is_invalid_value(database):
    def store_nul(cursor):
        cursor.execute("SELECT 'a\\u0000b'::jsonb")

    with pytest.raises(InvalidValue):
        run(database, store_nul, write=True)


def test_a_slow_statement_is_cut_by_the_statement_timeout(database):
    with pytest.raises(DatabaseUnavailable, match="in time") as caught:
        run(database, lambda cursor: cursor.execute("SELECT pg_sleep(5)"))
    assert (caught.value.reason, caught.value.retry_after) == ("statement_timeout", 3)


def test_connections_killed_while_idle_are_replaced_transparently(database, database_url):
    run(database, insert, random_name(), write=True)  # the pool's connection is open
    assert postgres.terminate_connections(database_url, "config-service") >= 1

    name = random_name()
    run(database, insert, name, write=True)

    assert scratch_names(database).count(name) == 1


def test_a_connection_lost_before_commit_is_retried_once_and_applies_nothing(database, metrics):
    attempts = []

    def insert_then_lose_connection(cursor):
        attempts.append(1)
        insert(cursor, name)
        cursor.execute("SELECT pg_terminate_backend(pg_backend_pid())")

    name = random_name()
    with pytest.raises(DatabaseUnavailable, match="lost"):
        run(database, insert_then_lose_connection, write=True)
    assert len(attempts) == 2
    assert name not in scratch_names(database)
    assert metrics.value("config_service_db_transactions_retried_total") == 1


def test_an_idempotent_write_whose_connection_is_lost_is_sent_again_once(database, metrics):
    attempts = []

    def insert_then_lose_connection(cursor):
        attempts.append(1)
        # Committed as the statement ends; sent twice, it has the effect of once.
        cursor.execute("INSERT INTO scratch (name) VALUES (%s) ON CONFLICT DO NOTHING", (name,))
        cursor.execute("SELECT pg_terminate_backend(pg_backend_pid())")  # its answer is lost

    name = random_name()
    with pytest.raises(DatabaseUnavailable, match="lost") as caught:
        run(database, insert_then_lose_connection, idempotent=True)
    assert (caught.value.reason, len(attempts)) == ("unreachable", 2)
    assert scratch_names(database).count(name) == 1
    assert metrics.value("config_service_db_transactions_retried_total") == 1


def test_a_connection_lost_while_committing_is_never_retried(database):
    attempts = []

    def insert_doomed(cursor):
        attempts.append(1)
        cursor.execute("INSERT INTO doomed (name) VALUES ('x')")

    with pytest.raises(DatabaseUnavailable, match="lost") as caught:
        run(database, insert_doomed, write=True)
    assert len(attempts) == 1
    assert caught.value.reason == "lost_during_commit"
    assert run(database, lambda cursor: cursor.execute("SELECT 1") or "alive") == "alive"


def test_an_unreachable_server_is_unavailable_not_an_error(proxy, database_url, metrics):
    settings = make_settings(proxy.dsn(database_url), db_pool_size=1, db_connect_timeout=1)
    database = new_database(settings, metrics)
    proxy.refuse()  # the server went away: its connection died, and no new one is accepted
    try:
        with pytest.raises(DatabaseUnavailable, match="cannot be reached") as caught:
            run(database, lambda cursor: cursor.execute("SELECT 1"))
        assert caught.value.reason == "unreachable"
    finally:
        database.close()


def test_connections_in_use_are_counted_exactly(database, metrics):
    def in_use_now(cursor) -> float | None:
        return metrics.value("config_service_db_pool_connections_in_use")

    assert run(database, in_use_now) == 1
    assert metrics.value("config_service_db_pool_connections_in_use") == 0


def test_open_database_closes_every_connection_on_exit(empty_database):
    def connections() -> int:
        connection = psycopg2.connect(empty_database)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND application_name = 'config-service'"
            )
            count = cursor.fetchone()[0]
        connection.close()
        return count

    async def use():
        settings = make_settings(empty_database, db_pool_size=2)
        async with open_database(settings, Metrics().families) as database:
            await database.read(lambda cursor: cursor.execute("SELECT 1"))
            return connections()

    assert asyncio.run(use()) in (1, 2)  # opened empty, filled in the background
    until(lambda: connections() == 0, message="pooled connections left open")


def test_a_call_that_gets_no_answer_ends_at_its_deadline_and_its_connection_is_discarded(
    proxy, database_url, scratch_tables, metrics
):
    settings = make_settings(proxy.dsn(database_url), db_pool_size=1, db_statement_timeout=0.5)
    database = new_database(settings, metrics)
    name = random_name()
    try:
        run(database, lambda cursor: cursor.execute("SELECT 1"))  # a pooled connection now
        proxy.stall()  # accepts bytes, answers nothing, as a frozen server does
        with pytest.raises(DatabaseUnavailable, match="in time") as caught:
            run(database, insert, name, write=True)
        assert caught.value.reason == "statement_timeout"
        proxy.restore()
        assert run(database, lambda cursor: cursor.execute("SELECT 1") or "answered") == (
            "answered"  # on a new connection: the stuck one was closed, never reused
        )
        assert name not in scratch_names(database)  # nothing was committed, nor retried
    finally:
        database.close()


@pytest.mark.parametrize("mode", ["transaction", "autocommit"])
def test_a_write_whose_commit_gets_no_answer_is_reported_unknown_and_not_retried(
    proxy, database_url, scratch_tables, metrics, mode
):
    """In a transaction, the COMMIT after the INSERT gets no answer; in autocommit (an
    idempotent write), the INSERT itself, which commits as it ends: either may or may not have
    been applied, so neither is sent again."""
    settings = make_settings(proxy.dsn(database_url), db_pool_size=1, db_statement_timeout=0.5)
    database = new_database(settings, metrics)
    attempts = []

    def write_then_stall(cursor):
        attempts.append(1)
        if mode == "autocommit":
            proxy.stall()  # sent, and no answer comes
        insert(cursor, random_name())
        if mode == "transaction":
            proxy.stall()  # the COMMIT that follows gets no answer

    try:
        run(database, lambda cursor: cursor.execute("SELECT 1"))  # a pooled connection now
        with pytest.raises(DatabaseUnavailable, match="COMMIT") as caught:
            run(database, write_then_stall, write=True, idempotent=mode == "autocommit")
        assert (caught.value.reason, len(attempts)) == ("lost_during_commit", 1)
    finally:
        proxy.restore()
        database.close()


def test_a_call_is_bounded_from_being_asked_for_its_wait_for_a_connection_included(
    database_url, scratch_tables, metrics
):
    settings = make_settings(
        database_url, db_pool_size=1, db_statement_timeout=0.5, db_pool_queue=8, db_pool_wait=5
    )
    database = new_database(settings, metrics)
    ran = []

    async def calls():
        def sleep(cursor):
            cursor.execute("SELECT pg_sleep(0.4)")

        # One thread, 1 s (0.5 s + GRACE) per call from being asked: the third sleeper starts
        # at 0.8 s and is cut at 1 s by the watchdog; the last call comes too late to start.
        late = database.read(lambda cursor: ran.append(1))
        return await asyncio.gather(
            *(database.read(sleep) for _ in range(3)), late, return_exceptions=True
        )

    try:
        *slow, late = asyncio.run(calls())
        assert slow[:2] == [None, None]
        assert isinstance(slow[2], DatabaseUnavailable)
        assert isinstance(late, DatabaseUnavailable) and ran == []
        assert late.reason == "statement_timeout"
    finally:
        database.close()


def sleeper(seconds: float):
    def sleep(cursor):
        cursor.execute("SELECT pg_sleep(%s)", (seconds,))
        return "slept"

    return sleep


@pytest.fixture
def one_thread_one_queued(database_url, metrics):
    """A database whose one thread may have one call waiting for it."""
    settings = make_settings(database_url, db_pool_size=1, db_pool_queue=1, db_pool_wait=5)
    database = new_database(settings, metrics)
    yield database
    database.close()


def test_past_db_pool_queue_a_call_is_refused_at_once_and_the_count_comes_back(
    one_thread_one_queued,
):
    database = one_thread_one_queued
    ran = []

    async def calls():
        running = asyncio.ensure_future(database.read(sleeper(0.3)))
        queued = asyncio.ensure_future(database.read(sleeper(0)))
        await asyncio.sleep(0)  # both asked for: one runs, one waits for the one thread
        with pytest.raises(DatabaseUnavailable) as refused:
            await database.read(lambda cursor: ran.append(1))
        assert refused.value.reason == "pool_exhausted"
        assert await asyncio.gather(running, queued) == ["slept", "slept"]
        return await database.read(sleeper(0))  # counted down: room again

    assert asyncio.run(calls()) == "slept"
    assert ran == []


def test_a_call_that_waited_past_db_pool_wait_is_refused_when_a_thread_takes_it(
    database_url, metrics
):
    settings = make_settings(
        database_url, db_pool_size=1, db_pool_queue=8, db_pool_wait=0.1, db_statement_timeout=2
    )
    database = new_database(settings, metrics)
    ran = []

    async def calls():
        return await asyncio.gather(
            database.read(sleeper(0.4)),
            database.read(lambda cursor: ran.append(1)),  # waits 0.4 s for the thread
            return_exceptions=True,
        )

    try:
        slept, late = asyncio.run(calls())
        assert slept == "slept"
        assert isinstance(late, DatabaseUnavailable) and late.reason == "pool_exhausted"
        assert ran == []  # refused without running
    finally:
        database.close()


def test_a_call_cancelled_while_it_waits_for_a_thread_never_runs_and_is_counted_down(
    one_thread_one_queued,
):
    database = one_thread_one_queued
    ran = []

    async def calls():
        running = asyncio.ensure_future(database.read(sleeper(0.3)))
        queued = asyncio.ensure_future(database.read(lambda cursor: ran.append(1)))
        await asyncio.sleep(0)
        queued.cancel()  # its client went away
        await asyncio.sleep(0)
        # Its place in the queue is free again at once, before the running call ends.
        then = asyncio.ensure_future(database.read(lambda cursor: "ran after"))
        assert await running == "slept"
        return await then

    assert asyncio.run(calls()) == "ran after"
    assert ran == []


def test_a_database_opens_without_connecting(metrics):
    settings = make_settings("postgresql://postgres@127.0.0.1:9/none", db_pool_size=2)
    database = new_database(settings, metrics)  # nothing listens there: no error yet
    try:
        with pytest.raises(DatabaseUnavailable, match="cannot be reached"):
            run(database, lambda cursor: cursor.execute("SELECT 1"))
    finally:
        database.close()


def test_a_database_not_ready_answers_unavailable_without_a_connection(database, metrics):
    database.not_ready = "Not migrated yet."
    with pytest.raises(DatabaseUnavailable, match="Not migrated yet"):
        run(database, lambda cursor: cursor.execute("SELECT 1"))
    assert metrics.value("config_service_db_pool_connections_in_use") in (None, 0)
