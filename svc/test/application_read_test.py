"""An application read whole, `GET /applications/{id}?include=configurations`, end to end: a
server with WORKERS=2 on the run's PostgreSQL, read through each worker (fresh connections, or
one kept-alive connection pinned to each), changed through the API and in SQL."""

import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor

import httpx
import psycopg2
import pytest
from ulid import ULID

from test.live_server import ServerProcess
from test.prometheus import held_requests
from test.postgres import execute
from test.resources import API, create_application, create_configuration, put_version
from test.waiting import until
from test.workers import TIMEOUT, Worker, each_worker_answers, one_connection_per_worker, running

INCLUDE = "?include=configurations"
NO_CACHE = {"Cache-Control": "no-cache"}
NOTIFIED_WITHIN = 5  # seconds a change may take to reach every worker
WAIT = 3  # seconds a watch is held (under the pinned connections' 5 s timeout)
TRANSACTIONS = 60  # two-configuration transactions the readers poll through


@pytest.fixture(scope="module")
def server(database_url) -> Iterator[ServerProcess]:
    supervisor = ServerProcess(database_url, WORKERS="2")
    with running(supervisor):
        yield supervisor


@pytest.fixture
def workers(server) -> Iterator[list[Worker]]:
    """A kept-alive connection to each of the two workers."""
    with one_connection_per_worker(server) as found:
        assert len(found) == 2
        yield list(found.values())


@pytest.fixture
def api(server) -> Iterator[httpx.Client]:
    """Writes, on connections of their own (either worker)."""
    with httpx.Client(base_url=server.url, timeout=TIMEOUT) as http:
        yield http


def whole(application: dict) -> str:
    return application["path"] + INCLUDE


def embeds_each_get(worker: Worker, answer: httpx.Response) -> bool:
    """Whether `answer` is the application's GET with each configuration's GET (read through
    the same worker, just after) embedded byte for byte, in configuration_ids order."""
    plain = worker.get(f"{API}/applications/{answer.json()['id']}")
    items = [
        worker.get(f"{API}/configurations/{configuration_id}").content
        for configuration_id in plain.json()["configuration_ids"]
    ]
    return answer.content == plain.content[:-1] + b',"configurations":[' + b",".join(items) + b"]}"


# --- what it answers ------------------------------------------------------------------------


@pytest.mark.parametrize("count", [0, 1, 7])
def test_each_embedded_item_is_its_configurations_get_byte_for_byte(server, workers, api, count):
    application = create_application(api)
    configurations = [create_configuration(api, application) for _ in range(count)]
    for configuration in configurations[:2]:  # versions apart from their first
        ok(put_version(api, configuration, 5))
    created = [configuration["id"] for configuration in configurations]

    answers = each_worker_answers(server, whole(application))  # fresh connections

    assert len(answers) == 2
    for worker in workers:
        for headers in ({}, {}, NO_CACHE):  # a read, the same from memory, one from PostgreSQL
            answer = worker.get(whole(application), headers=headers)
            assert answer.status_code == 200, answer.text
            assert embeds_each_get(worker, answer)
            assert [item["id"] for item in answer.json()["configurations"]] == sorted(created)
            assert answer.content == answers[worker.pid].content


def etags(workers: list[Worker], path: str) -> set[str]:
    return {worker.get(path).headers["etag"] for worker in workers}


def marker_seen(workers: list[Worker], api: httpx.Client) -> None:
    """Once this returns, each worker has had every notification committed before it (one
    session's notifications arrive in commit order): a change to a marker application shows."""
    marker = create_application(api)
    etag = etags(workers, marker["path"]).pop()
    api.put(marker["path"], json={"name": marker["name"], "comments": "marked"})
    until(lambda: etag not in etags(workers, marker["path"]), NOTIFIED_WITHIN, "the marker")


def ok(response: httpx.Response) -> None:
    assert response.status_code in (200, 201), response.text


def put_application(api: httpx.Client, application: dict, **body) -> None:
    ok(api.put(application["path"], json={"name": application["name"], **body}))


def sql(statement: str):
    """A change made in SQL, as psql would, to the configuration `conf`."""
    return lambda api, app, conf, dsn: execute(dsn, statement, (conf["id"],))


# Each change of what the answer holds; `conf` is one of the application's two configurations.
CHANGES = {
    "configuration PUT": lambda api, app, conf, _: ok(put_version(api, conf, 1)),
    "configuration renamed": lambda api, app, conf, _: ok(
        api.put(conf["path"], json={"name": "renamed", "config": {"v": 0}})
    ),
    "configuration created": lambda api, app, conf, _: create_configuration(api, app),
    "configuration changed in SQL": sql(
        "UPDATE configurations SET config = '{\"v\": 9}' WHERE id = %s"
    ),
    "configuration deleted in SQL": sql("DELETE FROM configurations WHERE id = %s"),
    "application comments PUT": lambda api, app, conf, _: put_application(api, app, comments="n"),
    "application renamed": lambda api, app, conf, _: put_application(
        api, app, name=f"renamed-{ULID()}"
    ),
}


def attach_schema(api: httpx.Client, app: dict, conf: dict, _) -> None:
    """Attach a schema (a configuration of another application) to `conf`: its own ETag
    changes, its bytes do not, and the application's answer embeds no headers."""
    schema = create_configuration(api)
    ok(api.put(schema["path"], json={"name": schema["name"], "config": {"type": "object"}}))
    before = api.get(conf["path"]).headers["etag"]
    link = {"Link": f'<{schema["path"]}>; rel="describedby"'}
    ok(api.put(conf["path"], json={"name": conf["name"], "config": {"v": 0}}, headers=link))
    assert api.get(conf["path"]).headers["etag"] != before


# What leaves it as it was: a PUT of the same body, and another application's changes.
NO_CHANGES = {
    "a schema attached to one of its configurations": attach_schema,
    "configuration PUT of the same body": lambda api, app, conf, _: ok(put_version(api, conf, 0)),
    "application PUT of the same body": lambda api, app, conf, _: put_application(api, app),
    "another application's configuration PUT": lambda api, app, conf, _: ok(
        put_version(api, create_configuration(api), 1)
    ),
    "another application renamed": lambda api, app, conf, _: put_application(
        api, create_application(api), name=f"renamed-{ULID()}"
    ),
}


@pytest.mark.parametrize("change", [*CHANGES, *NO_CHANGES])
def test_the_etag_changes_with_anything_in_the_answer_and_nothing_else(
    workers, api, database_url, change
):
    application = create_application(api)
    configuration = create_configuration(api, application)
    create_configuration(api, application)
    before = etags(workers, whole(application))  # and now in memory on both workers
    assert len(before) == 1

    (CHANGES | NO_CHANGES)[change](api, application, configuration, database_url)

    fresh = workers[0].get(whole(application), headers=NO_CACHE).headers["etag"]
    if change in CHANGES:
        assert fresh not in before
        until(lambda: etags(workers, whole(application)) == {fresh}, NOTIFIED_WITHIN)
    else:
        marker_seen(workers, api)
        assert etags(workers, whole(application)) == before == {fresh}


def versions(answer: httpx.Response) -> tuple[int, ...]:
    assert answer.status_code == 200, answer.text
    return tuple(item["config"]["v"] for item in answer.json()["configurations"])


def test_a_two_configuration_transaction_is_never_seen_half_applied(
    server, workers, api, database_url
):
    """Readers poll both workers (from memory, and from PostgreSQL with no-cache) while psql
    commits TRANSACTIONS transactions, each changing both configurations to the same version
    with a pause between the two UPDATEs. Every answer has both at one version."""
    application = create_application(api)
    path = whole(application)
    ids = [create_configuration(api, application)["id"] for _ in range(2)]
    stop = threading.Event()

    def poll(worker: Worker) -> list[tuple[int, ...]]:
        seen = []
        while not stop.is_set():
            seen.append(versions(worker.get(path)))
            seen.append(versions(worker.get(path, headers=NO_CACHE)))
        return seen

    connection = psycopg2.connect(database_url)
    try:
        with ThreadPoolExecutor(len(workers)) as pool:
            readers = [pool.submit(poll, worker) for worker in workers]
            try:
                for version in range(1, TRANSACTIONS + 1):
                    with connection, connection.cursor() as cursor:
                        for number, configuration_id in enumerate(ids):
                            cursor.execute(
                                "UPDATE configurations SET config = jsonb_build_object('v', %s)"
                                " WHERE id = %s",
                                (version, configuration_id),
                            )
                            if number == 0:
                                time.sleep(0.01)  # half applied, uncommitted, for a while
            finally:
                stop.set()
            seen = [reader.result(timeout=TIMEOUT) for reader in readers]
    finally:
        connection.close()
    final = (TRANSACTIONS, TRANSACTIONS)
    until(lambda: {versions(w.get(path)) for w in workers} == {final}, NOTIFIED_WITHIN)

    for answers in seen:
        assert all(len(set(pair)) == 1 for pair in answers), sorted(set(answers))
        assert len(set(answers)) > TRANSACTIONS // 4, "the reader did not read during the writes"


# --- watched ------------------------------------------------------------------------------------


def hold_on_each(
    pool: ThreadPoolExecutor, workers: list[Worker], api: httpx.Client, path: str
) -> list[Future]:
    """A watch held on each worker, on its pinned connection; returns once all are held."""
    etag = workers[0].get(path).headers["etag"]
    headers = {"If-None-Match": etag, "Prefer": f"wait={WAIT}"}
    held = [pool.submit(worker.get, path, headers=headers) for worker in workers]
    until(
        lambda: held_requests(api.get("/metrics").content) == len(workers),
        TIMEOUT,
        "a watch held on each worker",
    )
    return held


@pytest.mark.parametrize(
    "change",
    [
        "configuration PUT",
        "configuration created",
        "application renamed",
        "configuration changed in SQL",
    ],
)
def test_a_held_watch_on_the_application_wakes_on_any_change_in_it_on_each_worker(
    workers, api, database_url, change
):
    application = create_application(api)
    configuration = create_configuration(api, application)
    path = whole(application)
    with ThreadPoolExecutor(len(workers)) as pool:
        held = hold_on_each(pool, workers, api, path)
        changed = time.monotonic()

        CHANGES[change](api, application, configuration, database_url)

        answers = [watch.result(timeout=TIMEOUT) for watch in held]
    current = api.get(path, headers=NO_CACHE)
    for answer in answers:
        assert answer.status_code == 200, answer.text
        assert (answer.content, answer.headers["etag"]) == (
            current.content,
            current.headers["etag"],
        )
        assert answer.headers["preference-applied"] == f"wait={WAIT}"
    assert time.monotonic() - changed < WAIT * 0.9, "not woken by the change"


def test_a_held_watch_on_the_application_sleeps_through_another_applications_change(workers, api):
    application = create_application(api)
    create_configuration(api, application)
    other = create_configuration(api)
    path = whole(application)
    etag = api.get(path).headers["etag"]
    with ThreadPoolExecutor(len(workers)) as pool:
        held = hold_on_each(pool, workers, api, path)
        started = time.monotonic()
        assert put_version(api, other, 1).status_code == 200
        answers = [watch.result(timeout=TIMEOUT) for watch in held]
    assert [(answer.status_code, answer.headers["etag"]) for answer in answers] == [(304, etag)] * 2
    assert time.monotonic() - started >= 0.9 * WAIT - 0.05, "answered before its wait ended"
