"""Concurrent writers of one configuration: each committed change is exactly one revision,
numbered without gaps or duplicates (migration 0007: the UPDATE's row lock serialises them)."""

import json
import threading

import psycopg2
import psycopg2.extras
import pytest

from config_service.configurations.commands import UpdateConfiguration, update_configuration

from test.revisions import by, create, current, new_application, revisions

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
