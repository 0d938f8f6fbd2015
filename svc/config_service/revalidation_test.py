import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import psycopg2
import pytest
from fastapi.testclient import TestClient

from conftest import make_settings
from config_service.main import create_app
from config_service.revalidation import KnownEtags
from test import postgres
from test.proxy import TcpProxy
from test.random_refs import random_name


def until(condition, seconds: float = 5.0):
    """Poll `condition` until it returns something truthy; fail after `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if result := condition():
            return result
        time.sleep(0.01)
    pytest.fail(f"not true within {seconds}s")


@pytest.fixture(scope="module")
def writer(settings):
    """One worker, used to write."""
    with TestClient(create_app(settings)) as client:
        yield client


@pytest.fixture(scope="module")
def proxy(database_url):
    target = urlsplit(database_url)
    with TcpProxy(target.hostname, target.port or 5432) as running:
        yield running


@pytest.fixture(scope="module")
def reader(proxy, database_url):
    """Another worker, reading through a proxy the tests can stall."""
    through_proxy = urlsplit(database_url)._replace(netloc=f"postgres:postgres@{proxy.url_netloc}")
    with TestClient(create_app(make_settings(through_proxy.geturl()))) as client:
        yield client


@pytest.fixture
def configuration(writer) -> dict:
    application = writer.post("/api/v1/applications", json={"name": random_name()}).json()
    response = writer.post(
        "/api/v1/configurations",
        json={"application_id": application["id"], "name": random_name(), "config": {"v": 1}},
    )
    return {
        "path": response.headers["location"].removeprefix("http://testserver"),
        **response.json(),
    }


def revalidate(client, path: str, etag: str):
    return client.get(path, headers={"If-None-Match": etag})


def test_a_known_current_etag_is_answered_without_the_database(reader, proxy, configuration):
    etag = reader.get(configuration["path"]).headers["etag"]
    proxy.stall()  # the database no longer answers this worker
    with ThreadPoolExecutor(max_workers=1) as background:
        pending = background.submit(revalidate, reader, configuration["path"], etag)
        try:
            response = pending.result(timeout=5)  # a database round trip would hang here
        finally:
            proxy.restore()
    assert (response.status_code, response.headers["etag"]) == (304, etag)


def test_a_commit_through_another_worker_is_seen_within_moments(writer, reader, configuration):
    old_etag = reader.get(configuration["path"]).headers["etag"]
    assert revalidate(reader, configuration["path"], old_etag).status_code == 304

    writer.put(configuration["path"], json={"name": configuration["name"], "config": {"v": 2}})

    changed = until(lambda: revalidate(reader, configuration["path"], old_etag).status_code == 200)
    assert changed
    assert reader.get(configuration["path"]).json()["config"] == {"v": 2}


def test_a_change_made_by_hand_in_sql_is_seen_too(reader, configuration, database_url):
    old_etag = reader.get(configuration["path"]).headers["etag"]
    connection = psycopg2.connect(database_url)
    with connection, connection.cursor() as cursor:
        cursor.execute(
            "UPDATE configurations SET comments = 'by hand' WHERE id = %s", (configuration["id"],)
        )
    connection.close()

    until(lambda: revalidate(reader, configuration["path"], old_etag).status_code == 200)


def test_adding_a_configuration_changes_its_applications_etag_everywhere(
    writer, reader, configuration
):
    path = f"/api/v1/applications/{configuration['application_id']}"
    old_etag = reader.get(path).headers["etag"]
    writer.post(
        "/api/v1/configurations",
        json={
            "application_id": configuration["application_id"],
            "name": random_name(),
            "config": {},
        },
    )
    until(lambda: revalidate(reader, path, old_etag).status_code == 200)


def test_a_worker_forgets_everything_after_its_own_write(writer, configuration):
    known: KnownEtags = writer.app.state.known_etags
    writer.get(configuration["path"])
    assert known.current(configuration["id"]) is not None

    writer.post("/api/v1/applications", json={"name": random_name()})

    assert known.current(configuration["id"]) is None


def test_without_its_listening_connection_a_worker_remembers_nothing_until_it_is_back(
    reader, configuration, database_url
):
    known: KnownEtags = reader.app.state.known_etags
    etag = reader.get(configuration["path"]).headers["etag"]
    assert postgres.terminate_connections(database_url, "config-service-listener") >= 1

    until(lambda: not known.listening)
    assert known.current(configuration["id"]) is None
    assert revalidate(reader, configuration["path"], etag).status_code == 304  # from the database
    until(lambda: known.listening)
    reader.get(configuration["path"])
    assert known.current(configuration["id"]) == etag


def test_an_etag_read_before_a_change_is_not_remembered():
    known = KnownEtags(connect=None)
    known._connection = object()  # as if listening
    generation = known.generation
    known.forget("A")  # a change arrived while the read was in flight
    known.remember("A", '"old"', generation)
    assert known.current("A") is None
    known.remember("A", '"new"', known.generation)
    assert known.current("A") == '"new"'
