"""Concurrent writers of one configuration: each committed change is exactly one revision,
numbered without gaps or duplicates (migration 0007: the UPDATE's row lock serialises them),
by handlers on connections of their own and by a real server with WORKERS=2."""

import json
import threading

import httpx
import psycopg2
import psycopg2.extras
import pytest

from config_service.configurations.commands import UpdateConfiguration, update_configuration

from test.concurrency import send_together
from test.live_server import ServerProcess
from test.resources import create_configuration
from test.revisions import by, create, current, new_application, revisions
from test.workers import running

WRITERS = 20


@pytest.fixture
def application_id(database_url) -> str:
    return new_application(database_url)


def through_the_api(cursor, configuration_id: str, n: int) -> None:
    command = UpdateConfiguration(id=configuration_id, name="cfg", comments="", config={"n": n})
    update_configuration(cursor, command, by(f"req-{n}"), revisions_keep=0)


def by_hand(cursor, configuration_id: str, n: int) -> None:
    """A plain UPDATE, as in psql: no SELECT … FOR UPDATE before it."""
    cursor.execute(
        "UPDATE configurations SET config = %s WHERE id = %s",
        (json.dumps({"n": n}), configuration_id),
    )


@pytest.mark.parametrize("write", [through_the_api, by_hand])
def test_writers_released_together_each_record_one_contiguous_revision(
    database_url, application_id, write
):
    configuration_id = create(database_url, application_id).representation.id
    start = threading.Barrier(WRITERS, timeout=30)
    acknowledged: list[int] = []
    failures: list[BaseException] = []

    def writer(n: int) -> None:
        connection = psycopg2.connect(database_url, cursor_factory=psycopg2.extras.RealDictCursor)
        try:
            with connection.cursor() as cursor:
                start.wait()
                write(cursor, configuration_id, n)
            connection.commit()
            acknowledged.append(n)
        except Exception as error:  # noqa: BLE001 (asserted below: a thread's would be lost)
            failures.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(1, WRITERS + 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    assert failures == []

    recorded = revisions(database_url, configuration_id)
    assert [r["revision"] for r in recorded] == list(range(1, WRITERS + 2))
    configs = [json.loads(r["body"])["config"].get("n") for r in recorded[1:]]
    assert sorted(configs) == sorted(acknowledged) == list(range(1, WRITERS + 1))
    now = current(database_url, configuration_id)
    assert (now.revision, now.body) == (WRITERS + 1, recorded[-1]["body"].encode())


def test_20_puts_sent_together_through_2_workers_each_become_one_revision(database_url):
    server = ServerProcess(database_url, WORKERS="2")
    with running(server):
        http = httpx.Client(base_url=server.url, timeout=30)
        configuration = create_configuration(http)
        puts = [
            ("PUT", configuration["path"], {"json": {"name": "c", "config": {"n": n}}})
            for n in range(1, WRITERS + 1)
        ]
        answers = send_together(server.url, puts)
        current_get = http.get(configuration["path"], headers={"Cache-Control": "no-cache"})

    assert [answer.status_code for answer in answers] == [200] * WRITERS
    recorded = revisions(database_url, configuration["id"])
    assert [r["revision"] for r in recorded] == list(range(1, WRITERS + 2))
    by_config = {json.loads(r["body"])["config"].get("n"): r for r in recorded[1:]}
    assert sorted(by_config) == list(range(1, WRITERS + 1))
    for answer in answers:  # each acknowledged PUT is exactly the revision it named
        n = json.loads(answer.content)["config"]["n"]
        assert by_config[n]["revision"] == int(answer.headers["revision"])
        assert by_config[n]["body"].encode() == answer.content
    assert current_get.content == recorded[-1]["body"].encode()
    assert current_get.headers["revision"] == str(WRITERS + 1)
