"""Watches (long polls) end to end: `GET /api/v1/{configurations,applications}/{id}` with
If-None-Match and `Prefer: wait=N`, against the real server process and PostgreSQL.

Held requests run in threads, each bounded by its own timeout, while the test changes things
through another connection. "At once" is told from "held" by margins far wider than the
machine's noise: a held request lasts at least 90% of its applied wait (MAX_WAIT seconds on
the shared server), an answer at once comes in well under a second.
"""

import math
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import wait as wait_for
from dataclasses import dataclass

import httpx
import psycopg2
import pytest

from test.live_server import ServerProcess
from test.postgres import terminate_connections
from test.prometheus import at, read_samples
from test.random_refs import MISSING_ID, random_name
from test.waiting import until
from test.watching import (
    GatedProxy,
    answer,
    assert_held,
    get,
    logged,
    logged_request,
    sessions_waiting_on_a_lock,
    set_config,
    watch,
)

CONFIGURATIONS = "/api/v1/configurations"
APPLICATIONS = "/api/v1/applications"
READ_TOKEN = "watch-test-reader"
WRITE_TOKEN = "watch-test-writer"
MAX_WAIT = 3  # MAX_WAIT_SECONDS of the shared server
AT_ONCE = 1.0  # seconds: an answer "at once"; a held one takes at least 0.9 * MAX_WAIT
LOST_WITHIN = 2.0  # the contract: held requests are answered this soon after listening is lost
MARGIN = 1.5  # added to contract timings, for a loaded machine
# Every answer to a GET of these servers (they have tokens), held or not, 200, 304 or problem.
VARY = "Accept-Encoding, Prefer, Config-Client, Authorization"


@dataclass(frozen=True)
class Resource:
    path: str
    etag: str
    body: bytes

    @classmethod
    def of(cls, collection: str, created: httpx.Response) -> "Resource":
        return cls(f"{collection}/{created.json()['id']}", created.headers["etag"], created.content)

    @property
    def id(self) -> str:
        return self.path.rsplit("/", 1)[1]


class Api:
    """Plain (not held) requests to a server, with a write token when it has tokens."""

    def __init__(self, server: ServerProcess, token: str | None = None):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.http = httpx.Client(base_url=server.url, headers=headers, timeout=10)

    def read(self, path: str) -> Resource:
        response = self.http.get(path)
        assert response.status_code == 200, response.text
        return Resource(path, response.headers["etag"], response.content)

    def new_application(self) -> Resource:
        response = self.http.post(APPLICATIONS, json={"name": random_name("watched-app")})
        assert response.status_code == 201, response.text
        return Resource.of(APPLICATIONS, response)

    def new_configuration(self, application: Resource | None = None, config=None) -> Resource:
        application = application or self.new_application()
        response = self.http.post(
            CONFIGURATIONS,
            json={
                "application_id": application.id,
                "name": random_name("watched-cfg"),
                "config": {"v": 0} if config is None else config,
            },
        )
        assert response.status_code == 201, response.text
        return Resource.of(CONFIGURATIONS, response)

    def put_config(self, configuration: Resource, config) -> httpx.Response:
        name = self.http.get(configuration.path).json()["name"]
        return self.http.put(configuration.path, json={"name": name, "config": config})


@pytest.fixture(scope="module")
def server(database_url):
    """The shared server: one worker, short waits, and tokens (every watch sends the read one)."""
    with ServerProcess(
        database_url,
        WORKERS="1",
        MAX_WAIT_SECONDS=str(MAX_WAIT),
        API_READ_TOKENS=READ_TOKEN,
        API_WRITE_TOKENS=WRITE_TOKEN,
    ) as running:
        yield running


@pytest.fixture(scope="module")
def api(server) -> Api:
    api = Api(server, WRITE_TOKEN)
    yield api
    api.http.close()


@pytest.fixture(scope="module")
def second_server(database_url):
    """Another server process on the same database: changes made through it come from
    "another worker". Its MAX_WAITERS is 2, for the test of what happens past that."""
    with ServerProcess(
        database_url,
        WORKERS="1",
        MAX_WAITERS="2",
        MAX_WAIT_SECONDS="10",
        API_READ_TOKENS=READ_TOKEN,
        API_WRITE_TOKENS=WRITE_TOKEN,
    ) as running:
        yield running


@pytest.fixture
def threads():
    with ThreadPoolExecutor(max_workers=8, thread_name_prefix="watch") as pool:
        yield pool


def hold(threads: ThreadPoolExecutor, server: ServerProcess, resource: Resource, wait: int):
    """Watch `resource` at the ETag we know, `Prefer: wait=N`, from a thread of its own.
    (With the read token: servers started without tokens ignore it.)"""
    return watch(threads, server.url, resource.path, resource.etag, wait, token=READ_TOKEN)


def assert_applied(answered, wait: int, max_wait: int = MAX_WAIT) -> None:
    """Preference-Applied names the applied wait, min(wait, MAX_WAIT_SECONDS) less 0-10%,
    rounded up: for 3 s that is always 3, for 20 s it may be 19 or 20."""
    applied = min(wait, max_wait)
    possible = {f"wait={seconds}" for seconds in range(math.floor(0.9 * applied) + 1, applied + 1)}
    assert answered.headers.get("preference-applied") in possible, dict(answered.headers)


def assert_not_held(answered) -> None:
    assert answered.seconds < AT_ONCE, f"took {answered.seconds:.2f}s: held, not answered at once"
    assert "preference-applied" not in answered.headers


# --- hold, then change --------------------------------------------------------------------


def test_a_held_get_answers_200_as_soon_as_a_direct_sql_update_commits(
    server, api, database_url, threads
):
    """Contract: held until the representation changes -> 200 with the new representation and
    its ETag as soon as the change has committed (and not before); a change through another
    connection (direct SQL) wakes it; held responses carry Preference-Applied and Vary (Prefer
    among others); the request log says `held: changed`."""
    configuration = api.new_configuration(config={"v": 0})
    held = hold(threads, server, configuration, MAX_WAIT)
    assert_held(held)

    connection = psycopg2.connect(database_url)
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE configurations SET config = '{\"v\": 1}' WHERE id = %s", (configuration.id,)
            )
        assert_held(held)  # updated but not committed: nothing has changed yet
        connection.commit()
        committed = time.monotonic()
    finally:
        connection.close()

    answered = answer(held, within=MAX_WAIT + MARGIN)
    now = api.read(configuration.path)
    assert answered.status == 200, answered.response.text
    assert answered.response.json()["config"] == {"v": 1}
    assert answered.response.content == now.body
    assert answered.headers["etag"] == now.etag != configuration.etag
    assert_applied(answered, MAX_WAIT)
    assert answered.headers["vary"] == VARY
    assert answered.answered - committed < MARGIN, "not answered as soon as the change committed"
    line = logged_request(server, answered.request_id)
    assert (line["status"], line["held"]) == (200, "changed")
    assert line["held_ms"] < answered.seconds * 1000


def test_a_put_through_another_server_process_wakes_a_held_get(server, second_server, api, threads):
    """Contract: a change through another worker (a PUT through a second server process on
    the same database) wakes the held GET with the PUT's representation and ETag."""
    configuration = api.new_configuration(config={"v": 0})
    held = hold(threads, server, configuration, MAX_WAIT)
    assert_held(held)

    put = Api(second_server, WRITE_TOKEN).put_config(configuration, {"v": "from another process"})
    assert put.status_code == 200, put.text

    answered = answer(held, within=MAX_WAIT + MARGIN)
    assert answered.status == 200, answered.response.text
    assert answered.response.content == put.content
    assert answered.headers["etag"] == put.headers["etag"] != configuration.etag
    assert_applied(answered, MAX_WAIT)
    assert logged_request(server, answered.request_id)["held"] == "changed"


def test_an_application_watch_wakes_when_a_configuration_is_created_in_it(server, api, threads):
    """Contract: an application's representation lists its configuration ids, so a watch on
    it wakes (200) when a configuration is created in it."""
    application = api.new_application()
    held = hold(threads, server, application, MAX_WAIT)
    assert_held(held)

    configuration = api.new_configuration(application)

    answered = answer(held, within=MAX_WAIT + MARGIN)
    assert answered.status == 200, answered.response.text
    assert answered.response.json()["configuration_ids"] == [configuration.id]
    assert answered.headers["etag"] == api.read(application.path).etag != application.etag
    assert_applied(answered, MAX_WAIT)
    assert logged_request(server, answered.request_id)["held"] == "changed"


def test_a_configuration_edit_leaves_its_application_watchers_held(server, api, threads):
    """Contract: a change to one of its configurations' config does not change the
    application's representation, so its watchers stay held (here: until the wait ends, 304),
    while the configuration's own watcher wakes."""
    application = api.new_application()
    configuration = api.new_configuration(application, config={"v": 0})
    application = api.read(application.path)
    wait = 2
    on_application = hold(threads, server, application, wait)
    on_configuration = hold(threads, server, configuration, wait)
    assert_held(on_application, on_configuration)

    assert api.put_config(configuration, {"v": 1}).status_code == 200

    woken = answer(on_configuration, within=wait + MARGIN)
    assert (woken.status, woken.response.json()["config"]) == (200, {"v": 1})
    still = answer(on_application, within=wait + MARGIN)
    assert still.status == 304
    assert still.headers["etag"] == application.etag == api.read(application.path).etag
    assert still.seconds >= 0.9 * wait - 0.05, "the application's watcher was not held to the end"
    assert logged_request(server, still.request_id)["held"] == "timeout"


# --- the wait ends ---------------------------------------------------------------------------


def test_a_wait_that_runs_out_answers_304_with_the_applied_wait(server, api, threads):
    """Contract: wait over -> 304 with the unchanged ETag. Applied wait = min(N,
    MAX_WAIT_SECONDS), shortened by 0-10%; Preference-Applied names it rounded up; Vary
    names Prefer; the request log says `held: timeout` with held_ms."""
    configuration = api.new_configuration()
    longer = hold(threads, server, configuration, 600)
    shorter = hold(threads, server, configuration, 1)

    for held, applied in ((longer, MAX_WAIT), (shorter, 1)):
        answered = answer(held, within=applied + MARGIN)
        assert (answered.status, answered.response.content) == (304, b"")
        assert answered.headers["etag"] == configuration.etag
        assert_applied(answered, applied)
        assert answered.headers["vary"] == VARY
        assert 0.9 * applied - 0.05 <= answered.seconds < applied + MARGIN
        line = logged_request(server, answered.request_id)
        assert (line["status"], line["held"]) == (304, "timeout")
        assert 0.9 * applied * 1000 - 50 <= line["held_ms"] <= applied * 1000 + MARGIN * 1000


def test_a_wait_too_long_for_an_int_is_held_not_a_server_error(server, api, database_url, threads):
    """Contract: `Prefer: wait=N` (whole seconds) applies min(N, MAX_WAIT_SECONDS). An N of
    5,000 digits is still a number of seconds (more than Python's int() parses): the GET is
    held for MAX_WAIT_SECONDS like any long wait, and never fails."""
    configuration = api.new_configuration()
    held = threads.submit(
        get,
        server.url,
        configuration.path,
        etag=configuration.etag,
        prefer="wait=" + "9" * 5000,
        token=READ_TOKEN,
    )
    assert_held(held)
    set_config(database_url, configuration.id, '{"v": "woken"}')
    answered = answer(held, within=MAX_WAIT + MARGIN)
    assert answered.status == 200, answered.response.text
    assert_applied(answered, MAX_WAIT)


# --- answered at once ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def versions(api) -> dict[str, str]:
    """Paths and ETags: a configuration and its application, each with a superseded ETag."""
    application = api.new_application()
    configuration = api.new_configuration(application, config={"v": 0})
    assert api.put_config(configuration, {"v": 1}).status_code == 200
    return {
        "configuration": configuration.path,
        "configuration old": configuration.etag,
        "configuration current": api.read(configuration.path).etag,
        "application": application.path,
        "application old": application.etag,
        "application current": api.read(application.path).etag,
    }


WAIT = f"wait={MAX_WAIT}"


@pytest.mark.parametrize(
    ("resource", "etag", "prefer", "status"),
    [
        pytest.param("configuration", "current", None, 304, id="no Prefer"),
        pytest.param("configuration", "current", "wait=0", 304, id="wait=0"),
        pytest.param("configuration", None, WAIT, 200, id="no If-None-Match"),
        pytest.param("configuration", "old", WAIT, 200, id="configuration, ETag not current"),
        pytest.param("application", "old", WAIT, 200, id="application, ETag not current"),
        pytest.param("application", "current", None, 304, id="application, no Prefer"),
    ],
)
def test_a_get_that_is_not_to_be_held_is_answered_at_once(
    server, versions, resource, etag, prefer, status
):
    """Contract: answered at once, as without Prefer: no Prefer, wait=0, no If-None-Match, an
    ETag that is not current (-> 200 with the current version). The same Vary as any answer of
    that URL; no Preference-Applied (nothing was held)."""
    path = versions[resource]
    sent_etag = versions[f"{resource} {etag}"] if etag else None
    answered = get(server.url, path, etag=sent_etag, prefer=prefer, token=READ_TOKEN)

    assert answered.status == status, answered.response.text
    assert answered.headers["etag"] == versions[f"{resource} current"]
    assert_not_held(answered)
    assert answered.headers["vary"] == VARY  # Prefer or not: one URL, one Vary
    assert "held" not in logged_request(server, answered.request_id)


@pytest.mark.parametrize(
    ("path", "status"),
    [
        pytest.param(f"{CONFIGURATIONS}/{MISSING_ID}", 404, id="unknown configuration id"),
        pytest.param(f"{APPLICATIONS}/{MISSING_ID}", 404, id="unknown application id"),
        pytest.param(f"{CONFIGURATIONS}/not-a-ulid", 422, id="malformed configuration id"),
        pytest.param(f"{APPLICATIONS}/not-a-ulid", 422, id="malformed application id"),
    ],
)
def test_a_watch_on_no_resource_is_answered_at_once(server, versions, path, status):
    """Contract: unknown id (404) and malformed id (422) are answered at once, Prefer or not."""
    etag = versions["configuration current"]
    answered = get(server.url, path, etag=etag, prefer=WAIT, token=READ_TOKEN)
    assert answered.status == status, answered.response.text
    assert answered.headers["content-type"] == "application/problem+json"
    assert_not_held(answered)


@pytest.mark.parametrize(
    "prefer",
    [
        "wait=soon",
        "wait=2.5",
        "wait=-1",
        "wait",
        "wait=",
        "wait=1e3",
        pytest.param(b"wait=\xb2", id="wait=\u00b2 (latin-1 superscript two)"),
        pytest.param(b"wait=\xb9", id="wait=\u00b9 (latin-1 superscript one)"),
    ],
)
def test_a_malformed_prefer_value_is_ignored(server, versions, prefer):
    """Contract: a malformed `Prefer` value is ignored -> answered at once (304 to a current
    ETag), as without a wait."""
    answered = get(
        server.url,
        versions["configuration"],
        etag=versions["configuration current"],
        prefer=prefer,
        token=READ_TOKEN,
    )
    assert answered.status == 304, answered.response.text
    assert answered.headers["etag"] == versions["configuration current"]
    assert_not_held(answered)
    assert answered.headers["vary"] == VARY


def test_tokens_are_enforced_on_held_gets(server, api, database_url, threads):
    """Contract: tokens are enforced on held GETs: 401 at once without a valid token, even
    with If-None-Match and Prefer; a read token is held like any other watch."""
    configuration = api.new_configuration()
    for token in (None, "not-a-token"):
        refused = get(
            server.url, configuration.path, etag=configuration.etag, prefer=WAIT, token=token
        )
        assert refused.status == 401, refused.response.text
        assert refused.headers["www-authenticate"].startswith("Bearer")
        assert_not_held(refused)

    held = hold(threads, server, configuration, MAX_WAIT)
    assert_held(held)
    set_config(database_url, configuration.id, '{"v": "read token woken"}')
    answered = answer(held, within=MAX_WAIT + MARGIN)
    assert answered.status == 200
    assert_applied(answered, MAX_WAIT)


# --- MAX_WAITERS -------------------------------------------------------------------------------


def test_past_max_waiters_a_watch_is_answered_304_at_once_never_an_error(
    second_server, database_url, threads
):
    """Contract: at most MAX_WAITERS (here 2) held requests per worker; past that a request
    that would be held is answered 304 at once with `Preference-Applied: wait=0`, never an
    error (log: `held: shed`). Slots come back when held requests end."""
    server, api = second_server, Api(second_server, WRITE_TOKEN)
    configuration = api.new_configuration(config={"v": 0})
    held = [hold(threads, server, configuration, 10) for _ in range(2)]
    assert_held(*held)

    shed = get(
        server.url, configuration.path, etag=configuration.etag, prefer="wait=10", token=READ_TOKEN
    )
    assert (shed.status, shed.response.content) == (304, b"")
    assert shed.seconds < AT_ONCE
    assert shed.headers["etag"] == configuration.etag
    assert shed.headers["preference-applied"] == "wait=0"
    assert shed.headers["vary"] == VARY
    line = logged_request(server, shed.request_id)
    assert (line["status"], line["held"], line["held_ms"]) == (304, "shed", 0)

    set_config(database_url, configuration.id, '{"v": 1}')
    assert [answer(each, within=MARGIN + 2).status for each in held] == [200, 200]

    current = api.read(configuration.path)
    again = hold(threads, server, current, 10)
    assert_held(again)  # a slot is free again
    set_config(database_url, configuration.id, '{"v": 2}')
    woken = answer(again, within=MARGIN + 2)
    assert woken.status == 200
    assert_applied(woken, 10, max_wait=10)


def test_held_watches_are_counted_as_held_not_in_flight(second_server, database_url, threads):
    """In-flight requests measure load: the watches a fleet of runtimes holds are counted by
    their own gauge instead (before: 2 held made 3 in flight, the scrape included)."""
    server, api = second_server, Api(second_server, WRITE_TOKEN)
    configuration = api.new_configuration(config={"v": 0})
    held = [hold(threads, server, configuration, 10) for _ in range(2)]
    assert_held(*held)

    samples = read_samples(api.http.get("/metrics").content)  # the write token's scope is "*"
    assert at(samples, "config_service_watch_held_requests") == 2
    assert at(samples, "config_service_http_requests_in_flight") == 1  # this scrape

    set_config(database_url, configuration.id, '{"v": 1}')
    assert [answer(each, within=MARGIN + 2).status for each in held] == [200, 200]

    def settled() -> bool:  # the request log counts a request out just after its answer
        samples = read_samples(api.http.get("/metrics").content)
        held_now = at(samples, "config_service_watch_held_requests")
        return (held_now, at(samples, "config_service_http_requests_in_flight")) == (0, 1)

    until(settled, message="the answered watches still count")


def test_a_watch_whose_client_has_gone_gives_its_place_back(second_server, database_url, threads):
    """Contract, as read here: at most MAX_WAITERS (here 2) *held* requests per worker, the
    rest shed. A request whose client has disconnected is held for no one: its place must
    come back at once, not stay taken for the rest of its wait while live watches are shed
    (304 wait=0). (The abandoned waits are 2 s, so places left taken free themselves soon.)"""
    server, api = second_server, Api(second_server, WRITE_TOKEN)
    configuration = api.new_configuration(config={"v": 0})

    def abandon() -> None:  # a client whose own timeout is shorter than its wait
        with pytest.raises(httpx.ReadTimeout):
            get(
                server.url,
                configuration.path,
                etag=configuration.etag,
                prefer="wait=2",
                token=READ_TOKEN,
                timeout=0.3,
            )

    for gave_up in [threads.submit(abandon) for _ in range(2)]:
        gave_up.result(timeout=5)

    def a_held_watch():
        probe = hold(threads, server, configuration, 10)
        done, _ = wait_for([probe], timeout=0.5)
        return None if done else probe  # answered at once: shed, the places are still taken

    # Within 1 s, well before the abandoned waits (at least 1.8 s) would end on their own.
    held = until(a_held_watch, seconds=1.0, message="the places of clients that left came back")
    set_config(database_url, configuration.id, '{"v": 1}')
    assert answer(held, within=MARGIN + 2).status == 200


# --- the listening connection is lost ----------------------------------------------------------


def test_losing_the_listener_answers_held_requests_within_2_seconds_and_holds_no_new_ones(
    empty_database, threads
):
    """Contract: when the worker's listening connection is lost, every held request is
    answered within 2 s, re-read from PostgreSQL: 200 if it changed (here, a change whose
    NOTIFY never came), 304 if not (log: `held: lost`). New watches are not held while
    nothing listens; once the listener is back, they are held and woken again.

    A proxy keeps the listener from reconnecting (it refuses new connections) while the
    pool's open connections keep working."""
    with (
        GatedProxy.in_front_of(empty_database) as proxy,
        ServerProcess(proxy.dsn(empty_database), WORKERS="1", MAX_WAIT_SECONDS="10") as server,
    ):
        api = Api(server)
        application = api.new_application()
        changed = api.new_configuration(application, config={"v": 0})
        unchanged = api.new_configuration(application, config={"v": 0})
        application = api.read(application.path)
        held = {
            resource: hold(threads, server, resource, 10)
            for resource in (changed, unchanged, application)
        }
        assert_held(*held.values())
        set_config(empty_database, changed.id, '{"v": "unnoticed"}', silently=True)
        assert_held(*held.values())  # no NOTIFY: nothing woke them

        proxy.refuse_new()
        assert terminate_connections(empty_database, "config-service-listener") == 1
        lost = time.monotonic()

        answers = {
            resource: answer(future, within=LOST_WITHIN + MARGIN)
            for resource, future in held.items()
        }
        for answered in answers.values():
            assert answered.answered - lost < LOST_WITHIN + MARGIN
            assert_applied(answered, 10, max_wait=10)
            assert logged_request(server, answered.request_id)["held"] == "lost"
        assert answers[changed].status == 200
        assert answers[changed].response.json()["config"] == {"v": "unnoticed"}
        assert answers[changed].headers["etag"] == api.read(changed.path).etag != changed.etag
        for resource in (unchanged, application):
            assert answers[resource].status == 304
            assert answers[resource].headers["etag"] == resource.etag

        # Nothing listens (the listener's reconnects are refused): a watch is answered at once,
        # with wait=0 so that runtimes do not ask again at once.
        assert logged(server, "lost the connection listening")
        not_held = get(server.url, unchanged.path, etag=unchanged.etag, prefer="wait=10")
        assert not_held.status == 304, not_held.response.text
        assert not_held.headers["etag"] == unchanged.etag
        assert not_held.seconds < AT_ONCE
        assert not_held.headers["preference-applied"] == "wait=0"
        assert logged_request(server, not_held.request_id)["held"] == "shed"

        proxy.restore()
        until(lambda: logged(server, "listening for changes again"), message="not listening again")
        held_again = hold(threads, server, unchanged, 10)
        assert_held(held_again)
        set_config(empty_database, unchanged.id, '{"v": "heard again"}')
        woken = answer(held_again, within=MARGIN + 2)
        assert woken.status == 200
        assert logged_request(server, woken.request_id)["held"] == "changed"


def test_postgresql_unreachable_answers_held_requests_503_with_retry_after(
    proxy, database_url, threads
):
    """Contract: when the listening connection is lost because PostgreSQL is unreachable,
    every held request is answered within ~2 s with 503 and Retry-After (log: `held: lost`);
    the service recovers when PostgreSQL is back."""
    with ServerProcess(
        proxy.dsn(database_url), WORKERS="1", MAX_WAIT_SECONDS="10", DB_CONNECT_TIMEOUT="1"
    ) as server:
        api = Api(server)
        application = api.new_application()
        configuration = api.new_configuration(application)
        application = api.read(application.path)
        held = [hold(threads, server, resource, 10) for resource in (configuration, application)]
        assert_held(*held)

        proxy.refuse()
        refused = time.monotonic()

        for future in held:
            answered = answer(future, within=LOST_WITHIN + MARGIN)
            assert answered.status == 503, answered.response.text
            assert answered.answered - refused < LOST_WITHIN + MARGIN
            assert int(answered.headers["retry-after"]) > 0
            assert answered.headers["content-type"] == "application/problem+json"
            assert logged_request(server, answered.request_id)["held"] == "lost"

        proxy.restore()
        until(lambda: api.http.get(configuration.path).status_code == 200, seconds=10)


# --- shutdown ----------------------------------------------------------------------------------


def test_sigterm_answers_held_requests_304_and_exits_0_promptly(database_url, threads):
    """Contract: on SIGTERM held requests are answered 304 at once (`held: shutdown`) and the
    process exits (0) soon, not after the wait; an ordinary request in flight (a PUT waiting
    on a row lock) still finishes."""
    with ServerProcess(database_url, WORKERS="1", MAX_WAIT_SECONDS="10") as server:
        api = Api(server)
        application = api.new_application()
        watched = api.new_configuration(application)
        locked = api.new_configuration(application)
        application = api.read(application.path)
        held = [hold(threads, server, resource, 10) for resource in (watched, application)]
        assert_held(*held)

        lock = psycopg2.connect(database_url)
        try:
            with lock.cursor() as cursor:
                cursor.execute(
                    "SELECT 1 FROM configurations WHERE id = %s FOR UPDATE", (locked.id,)
                )
            in_flight = threads.submit(api.put_config, locked, {"v": "finished during shutdown"})
            until(lambda: sessions_waiting_on_a_lock(database_url, "config-service") == 1)

            server.process.send_signal(signal.SIGTERM)
            terminated = time.monotonic()
            for future in held:
                answered = answer(future, within=AT_ONCE + MARGIN)
                assert answered.status == 304
                assert answered.answered - terminated < AT_ONCE + MARGIN
                assert_applied(answered, 10, max_wait=10)
            assert not in_flight.done()  # still waiting on the lock, held requests answered
        finally:
            lock.rollback()
            lock.close()

        put = in_flight.result(timeout=10)
        assert put.status_code == 200, put.text
        assert server.stop(timeout=15) == 0
        assert time.monotonic() - terminated < 5, "the process waited for the held requests"
    for answered in (future.result() for future in held):
        line = logged_request(server, answered.request_id)
        assert (line["status"], line["held"]) == (304, "shutdown")
