"""The listener against the real PostgreSQL: what commits reach it, and losing it."""

import asyncio

import psycopg2
from ulid import ULID

from config_service.read_model.listener import open_listener
from config_service.telemetry.ignored import ignored_metrics
from conftest import make_settings
from test import postgres
from test.postgres import execute
from test.random_refs import random_name


class Recorder:
    """Stands in for the read model: records what the listener tells it."""

    def __init__(self):
        self.events: list[str] = []

    def changed(self, key: str) -> None:
        self.events.append(key)

    def listening_started(self) -> None:
        self.events.append("started")

    def listening_lost(self) -> None:
        self.events.append("lost")


async def until_recorded(recorder: Recorder, event: str, times: int = 1) -> None:
    async with asyncio.timeout(5):
        while recorder.events.count(event) < times:
            await asyncio.sleep(0.01)


def test_every_commit_is_heard_by_its_keys_and_a_rollback_is_not(database_url, application_id):
    recorder = Recorder()
    configuration_id = str(ULID())

    async def scenario():
        async with open_listener(make_settings(database_url), recorder, ignored_metrics()):
            execute(
                database_url,
                "UPDATE applications SET comments = 'x' WHERE id = %s",
                (application_id,),
            )
            execute(
                database_url,
                "INSERT INTO configurations (id, application_id, name) VALUES (%s, %s, %s)",
                (configuration_id, application_id, random_name()),
            )
            connection = psycopg2.connect(database_url)
            with connection.cursor() as cursor:  # rolled back: nothing to hear
                cursor.execute(
                    "UPDATE applications SET comments = 'y' WHERE id = %s", (application_id,)
                )
            connection.rollback()
            connection.close()
            await until_recorded(recorder, f"configuration:{configuration_id}")
            execute(database_url, "DELETE FROM configurations WHERE id = %s", (configuration_id,))
            await asyncio.sleep(0.2)

    asyncio.run(scenario())
    assert recorder.events == [
        "started",
        f"application:{application_id}",
        f"configuration:{configuration_id}",
        f"application:{application_id}",
        f"configuration:{configuration_id}",
        f"application:{application_id}",
    ]


def test_a_lost_connection_is_reported_at_once_and_listening_resumes(database_url, application_id):
    recorder = Recorder()

    async def scenario():
        async with open_listener(make_settings(database_url), recorder, ignored_metrics()):
            await asyncio.to_thread(
                postgres.terminate_connections, database_url, "config-service-listener"
            )
            await until_recorded(recorder, "lost")
            await until_recorded(recorder, "started", times=2)  # reconnected
            execute(
                database_url, "UPDATE applications SET name = name WHERE id = %s", (application_id,)
            )
            await until_recorded(recorder, f"application:{application_id}")

    asyncio.run(scenario())


def test_a_database_down_at_start_is_retried_in_the_background(proxy, database_url):
    recorder = Recorder()
    proxy.refuse()

    async def scenario():
        settings = make_settings(proxy.dsn(database_url), db_connect_timeout=1)
        async with open_listener(settings, recorder, ignored_metrics()):
            assert recorder.events == []  # started anyway, not listening
            proxy.restore()
            await until_recorded(recorder, "started")

    asyncio.run(scenario())


def test_a_server_that_stops_answering_is_found_by_the_probe_and_counts_as_lost(
    proxy, database_url
):
    recorder = Recorder()

    async def scenario():
        settings = make_settings(proxy.dsn(database_url), db_statement_timeout=0.5)
        async with open_listener(settings, recorder, ignored_metrics()):
            await until_recorded(recorder, "started")
            await asyncio.sleep(1.5)  # probes answered meanwhile: still listening
            assert recorder.events == ["started"]
            proxy.stall()  # the connection stays open; nothing comes back
            await until_recorded(recorder, "lost")
            proxy.restore()
            await until_recorded(recorder, "started", times=2)

    asyncio.run(scenario())


def test_it_listens_on_database_listen_url_not_the_pooled_road(database_url, application_id):
    recorder = Recorder()
    nowhere = "postgresql://postgres@127.0.0.1:9/nowhere"  # the pooled road, unreachable

    async def scenario():
        settings = make_settings(nowhere, database_listen_url=database_url)
        async with open_listener(settings, recorder, ignored_metrics()):
            await until_recorded(recorder, "started")
            execute(
                database_url, "UPDATE applications SET name = name WHERE id = %s", (application_id,)
            )
            await until_recorded(recorder, f"application:{application_id}")

    asyncio.run(scenario())
