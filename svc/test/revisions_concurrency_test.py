"""Concurrent writers of one configuration: each committed change is exactly one revision,
numbered without gaps or duplicates, and REVISIONS_KEEP holds whoever writes (the UPDATE's row
lock serialises them: store/migrations/functions/record_configuration_revision.sql), by
handlers on connections of their own and by a real server with WORKERS=2 beside psql."""

import json
from functools import partial

import httpx
import psycopg2
import psycopg2.extras
import pytest

from config_service.configurations.commands import UpdateConfiguration, update_configuration

from test.concurrency import send_together, together
from test.live_server import ServerProcess
from test.resources import create_configuration, put_version, set_version_in_sql
from test.revisions import by, create, current, keeping, revisions
from test.workers import running

WRITERS = 20
KEEP = 5  # REVISIONS_KEEP, where retention is raced


def through_the_api(cursor, configuration_id: str, n: int) -> None:
    command = UpdateConfiguration(id=configuration_id, name="cfg", comments="", config={"n": n})
    update_configuration(cursor, command, by(f"req-{n}"))


def by_hand(cursor, configuration_id: str, n: int) -> None:
    """A plain UPDATE, as in psql: no SELECT … FOR UPDATE before it."""
    cursor.execute(
        "UPDATE configurations SET config = %s WHERE id = %s",
        (json.dumps({"n": n}), configuration_id),
    )


def committed_together(database_url: str, writes: list) -> None:
    """Run each write(cursor) on a connection of its own, released together, each committed."""

    def commit(write, start) -> None:
        connection = psycopg2.connect(database_url, cursor_factory=psycopg2.extras.RealDictCursor)
        try:
            with connection.cursor() as cursor:
                start()
                write(cursor)
            connection.commit()
        finally:
            connection.close()

    together([partial(commit, write) for write in writes])


@pytest.mark.parametrize("write", [through_the_api, by_hand])
def test_writers_released_together_each_record_one_contiguous_revision(
    database_url, application_id, write
):
    configuration_id = create(database_url, application_id).representation.id
    writes = [partial(write, configuration_id=configuration_id, n=n) for n in range(1, WRITERS + 1)]
    committed_together(database_url, writes)

    recorded = revisions(database_url, configuration_id)
    assert [r["revision"] for r in recorded] == list(range(1, WRITERS + 2))
    configs = [json.loads(r["body"])["config"].get("n") for r in recorded[1:]]
    assert sorted(configs) == list(range(1, WRITERS + 1))
    now = current(database_url, configuration_id)
    assert (now.revision, now.body) == (WRITERS + 1, recorded[-1]["body"].encode())


def test_handlers_and_psql_racing_keep_exactly_the_newest_revisions_keep(
    database_url, application_id
):
    configuration_id = create(database_url, application_id).representation.id
    writes = [
        partial(through_the_api if n % 2 else by_hand, configuration_id=configuration_id, n=n)
        for n in range(1, WRITERS + 1)
    ]
    with keeping(database_url, KEEP):
        committed_together(database_url, writes)

    recorded = revisions(database_url, configuration_id)
    assert [r["revision"] for r in recorded] == list(range(WRITERS + 2 - KEEP, WRITERS + 2))
    assert current(database_url, configuration_id).body == recorded[-1]["body"].encode()


def test_api_puts_and_psql_updates_racing_leave_the_newest_revisions_keep_in_history(
    empty_database,
):
    """Ten PUTs through a real server with WORKERS=2 (which records REVISIONS_KEEP as it
    starts) and five psql UPDATEs, released together, each on a fresh connection; then psql
    alone. Before retention moved into the trigger this left more than five."""
    server = ServerProcess(empty_database, WORKERS="2", REVISIONS_KEEP=str(KEEP))
    with running(server), httpx.Client(base_url=server.url, timeout=30) as http:
        configuration = create_configuration(http)

        def api_put(n: int, start) -> int:
            with httpx.Client(base_url=server.url, timeout=30) as own:
                start()
                return put_version(own, configuration, n).status_code

        def psql_update(n: int, start) -> None:
            start()
            set_version_in_sql(empty_database, configuration, 100 + n)

        statuses = together(
            [partial(api_put, n) for n in range(1, 11)]
            + [partial(psql_update, n) for n in range(5)]
        )
        assert statuses[:10] == [200] * 10
        raced = http.get(f"{configuration['path']}?history").json()
        for n in range(3):
            set_version_in_sql(empty_database, configuration, 200 + n)
        after = http.get(f"{configuration['path']}?history").json()
        now = http.get(configuration["path"], headers={"Cache-Control": "no-cache"})

    assert [entry["revision"] for entry in raced] == [16, 15, 14, 13, 12]
    assert [entry["revision"] for entry in after] == [19, 18, 17, 16, 15]
    assert (now.headers["revision"], now.headers["etag"]) == ("19", after[0]["etag"])


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
