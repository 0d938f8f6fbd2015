"""What memory may answer when PostgreSQL or the listening connection is gone, end to end.

Nothing counts as current while the listening connection is down: reads go to PostgreSQL.
While PostgreSQL is unreachable, a GET that allows it (`Cache-Control: stale-if-error=N`) is
answered from the last version known current at most N seconds ago, with `Age`; anything
else is 503 with Retry-After. READ_CACHE_BYTES=0 keeps nothing.

Two 1-worker servers reach PostgreSQL through a ListenerProxy: F, with memory, and Z, with
READ_CACHE_BYTES=0. Whether memory answered is shown by stalling the proxy: a GET answered
then was answered from memory, since a read from PostgreSQL would hang.
"""

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from test.hostile_input_test import snapshot
from test.listener_proxy import ListenerProxy
from test.live_server import ServerProcess
from test.postgres import terminate_connections
from test.random_refs import random_name
from test.resources import API, create_configuration, put_version, set_version_in_sql, version
from test.waiting import until
from test.workers import TIMEOUT, running

LISTENER = "config-service-listener"  # the listening connection's application_name
LOST = "lost the connection listening for changes"  # listener.py's log messages
BACK = "listening for changes again"
LISTENING_AGAIN_WITHIN = 10  # seconds: the listener retries every second
STALLED_FOR = 0.5  # seconds a GET is given while PostgreSQL is stalled, when none should come


@pytest.fixture(scope="module")
def servers(database_url, listener_proxy) -> dict[str, ServerProcess]:
    dsn = listener_proxy.dsn(database_url)
    # No rollout steps: their queries would be answers the proxy holds and counts.
    timeouts = {
        "WORKERS": "1",
        "DB_CONNECT_TIMEOUT": "1",
        "DB_STATEMENT_TIMEOUT": "2",
        "ROLLOUT_STEPS": "false",
    }
    started = {
        "f": ServerProcess(dsn, **timeouts),
        "z": ServerProcess(dsn, READ_CACHE_BYTES="0", **timeouts),
    }
    with running(*started.values()):
        yield started


@pytest.fixture(autouse=True)
def mended(servers, listener_proxy) -> Iterator[None]:
    """After each test: PostgreSQL reachable again and every server listening again."""
    yield
    listener_proxy.restore()
    listener_proxy.release_answers()
    listener_proxy.release_notifications()
    listener_proxy.admit_listener()
    for server in servers.values():
        until(lambda: listening(server), LISTENING_AGAIN_WITHIN, "the listener back")


@pytest.fixture
def f(servers) -> ServerProcess:
    return servers["f"]


@pytest.fixture
def z(servers) -> ServerProcess:
    return servers["z"]


def new_configuration(server: ServerProcess) -> dict:
    with httpx.Client(base_url=server.url, timeout=TIMEOUT) as http:
        return create_configuration(http)


def logged(server: ServerProcess, message: str) -> int:
    return server.read_output().count(message)


def listening(server: ServerProcess) -> bool:
    """Every loss of the listening connection was followed by listening again."""
    output = server.read_output()
    return output.count(BACK) == output.count(LOST)


def get(server: ServerProcess, path: str, cache_control: str | None = None) -> httpx.Response:
    headers = {"Cache-Control": cache_control} if cache_control else {}
    return httpx.get(server.url + path, headers=headers, timeout=TIMEOUT)


def answered_while_stalled(
    server: ServerProcess, listener_proxy: ListenerProxy, path: str, seconds: float = STALLED_FOR
) -> httpx.Response | None:
    """GET `path` while PostgreSQL is stalled: only memory can answer, within `seconds`."""
    listener_proxy.stall()
    try:
        return httpx.get(server.url + path, timeout=seconds)
    except httpx.TimeoutException:
        return None
    finally:
        listener_proxy.restore()


def assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert int(response.headers["retry-after"]) > 0


def kill_listeners(
    servers: dict[str, ServerProcess], listener_proxy: ListenerProxy, database_url: str
):
    """Kill every server's listening connection in PostgreSQL and keep it from coming back (the
    proxy refuses it until `admit_listener`); wait until each server has noticed."""
    lost = {name: logged(server, LOST) for name, server in servers.items()}
    listener_proxy.refuse_listener()
    # At least theirs: the suite's in-process app (fixture `client`) may listen there too.
    assert terminate_connections(database_url, LISTENER) >= len(servers)
    for name, server in servers.items():
        until(lambda: logged(server, LOST) > lost[name], TIMEOUT, f"{name} noticing")


def test_memory_answers_nothing_while_the_listener_is_down_and_serves_again_after(
    f, servers, listener_proxy, database_url
):
    """With its listener killed, a worker answers what PostgreSQL has, a change made in SQL
    meanwhile included (no notification could tell it), and nothing from memory, until the
    listener is back (bounded wait). Then memory answers again, even with PostgreSQL stalled."""
    configuration = new_configuration(f)
    path = configuration["path"]
    assert version(get(f, path)) == 0
    stalled = answered_while_stalled(f, listener_proxy, path, TIMEOUT)
    assert stalled is not None and version(stalled) == 0  # memory answers

    back = logged(f, BACK)
    kill_listeners(servers, listener_proxy, database_url)
    set_version_in_sql(database_url, configuration, 1)  # unheard of: no listener

    assert version(get(f, path)) == 1  # from PostgreSQL: memory held 0 as current before
    assert answered_while_stalled(f, listener_proxy, path) is None  # nothing from memory now

    listener_proxy.admit_listener()
    until(lambda: logged(f, BACK) > back, LISTENING_AGAIN_WITHIN, "F listening again")
    assert version(get(f, path)) == 1
    stalled = answered_while_stalled(f, listener_proxy, path, TIMEOUT)
    assert stalled is not None and version(stalled) == 1  # memory answers again


# What is read: a new configuration, or its application read whole.
READS = {
    "configuration": lambda created: created["path"],
    "application read whole": lambda created: (
        f"{API}/applications/{created['application_id']}?include=configurations"
    ),
}


@pytest.mark.parametrize("reading", READS)
def test_while_postgresql_is_down_stale_if_error_answers_the_last_known_version(
    f, listener_proxy, reading
):
    """PostgreSQL down (the pool and the listener both lose it): a GET with
    `stale-if-error=300` is answered 200 with the body and ETag last known, and an Age no
    older than the read; without the directive, or for something never read, 503 with
    Retry-After; `stale-if-error=1` stops accepting it once it is over a second old."""
    known, never_read = (READS[reading](new_configuration(f)) for _ in range(2))
    # Last known current no earlier than this: the creation's own notification may come after
    # the read, and end its currency before the outage does.
    known_since = time.monotonic()
    read = get(f, known)
    assert read.status_code == 200

    lost = logged(f, LOST)
    listener_proxy.refuse()
    until(lambda: logged(f, LOST) > lost, TIMEOUT, "F noticing")

    stale = get(f, known, "stale-if-error=300")
    assert (stale.status_code, stale.content) == (200, read.content)
    assert stale.headers["etag"] == read.headers["etag"]
    assert 0 <= int(stale.headers["age"]) <= time.monotonic() - known_since
    assert get(f, known, "stale-if-error=1").status_code == 200  # not a second old
    assert_unavailable(get(f, known))
    assert_unavailable(get(f, never_read, "stale-if-error=300"))

    until(
        lambda: get(f, known, "stale-if-error=1").status_code == 503,
        TIMEOUT,
        "stale-if-error=1 refusing a copy over a second old",
    )
    assert time.monotonic() - known_since > 1
    older = get(f, known, "stale-if-error=300")
    assert (older.status_code, older.content) == (200, read.content)
    assert 1 <= int(older.headers["age"]) <= time.monotonic() - known_since


def test_while_postgresql_is_down_writes_answer_503_and_nothing_is_half_written(
    f, listener_proxy, database_url
):
    """Every write answers 503 with Retry-After while PostgreSQL is down; once it is back,
    the tables are exactly as before and writes succeed again."""
    configuration = new_configuration(f)
    application = f"{API}/applications/{configuration['application_id']}"
    new = {"application_id": configuration["application_id"], "name": random_name(), "config": {}}
    before = snapshot(database_url)

    listener_proxy.refuse()
    with httpx.Client(base_url=f.url, timeout=TIMEOUT) as http:
        for write in [
            lambda: http.post(f"{API}/applications", json={"name": random_name()}),
            lambda: http.put(application, json={"name": random_name()}),
            lambda: http.post(f"{API}/configurations", json=new),
            lambda: put_version(http, configuration, 1),
        ]:
            assert_unavailable(write())
        listener_proxy.restore()

        assert snapshot(database_url) == before
        until(lambda: put_version(http, configuration, 1).status_code == 200, TIMEOUT, "a write")
    assert version(get(f, configuration["path"])) == 1


def test_with_memory_off_every_get_reads_postgresql(z, servers, listener_proxy, database_url):
    """READ_CACHE_BYTES=0 keeps nothing: a GET is never answered while PostgreSQL is stalled,
    and a change made in SQL is answered at once, with notifications held back (memory would
    answer the old version) and with the listener killed."""
    configuration = new_configuration(z)
    path = configuration["path"]
    assert [version(get(z, path)) for _ in range(2)] == [0, 0]
    assert answered_while_stalled(z, listener_proxy, path) is None

    listener_proxy.hold_notifications()
    set_version_in_sql(database_url, configuration, 1)
    assert version(get(z, path)) == 1
    listener_proxy.release_notifications()

    kill_listeners(servers, listener_proxy, database_url)
    set_version_in_sql(database_url, configuration, 2)
    assert version(get(z, path)) == 2


def eventually(condition, seconds: float) -> bool:
    """Whether `condition()` comes true within `seconds` (polled; no failure if not)."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def test_with_memory_off_a_get_is_not_answered_by_a_read_begun_before_it(
    z, listener_proxy, database_url
):
    """READ_CACHE_BYTES=0: a GET sent after a change committed answers the change, even while
    an earlier GET of the same id, read before the change, is still on its way back."""
    configuration = new_configuration(z)
    path = configuration["path"]
    assert version(get(z, path)) == 0  # the pooled connection used next is a live one
    listener_proxy.hold_notifications()  # the worker cannot learn of the change but by reading it
    listener_proxy.hold_answers()
    with ThreadPoolExecutor(2) as pool:
        earlier = pool.submit(get, z, path)
        until(
            lambda: listener_proxy.answers_held == 1,
            TIMEOUT,
            "PostgreSQL answering the earlier GET",
        )
        set_version_in_sql(database_url, configuration, 1)
        later = pool.submit(get, z, path)
        # A GET that reads for itself sends its own query, whose answer is held back too;
        # one that joined the earlier read sends none: given a second to show which.
        eventually(lambda: listener_proxy.answers_held == 2, 1)
        listener_proxy.release_answers()

        assert version(earlier.result()) == 0
        assert version(later.result()) == 1  # fails: 0, the earlier GET's read
