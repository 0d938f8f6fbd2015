"""A PostgreSQL that accepts bytes but never answers (a frozen server, a half-dead proxy).

Every request that needs it answers 503 within DB_STATEMENT_TIMEOUT + 1 s (the call watchdog,
call_deadlines.py, and the listener's probe), one from memory still answers, and once the
stall ends the service serves again by itself, with no write applied twice.
"""

import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from config_service.main import create_app
from conftest import make_settings
from test.live_server import LiveServer
from test.postgres import rows
from test.random_refs import random_name
from test.prometheus import at, read_samples
from test.resources import API, create_configuration, put_version, version
from test.waiting import until

STATEMENT_TIMEOUT = 2
BOUND = STATEMENT_TIMEOUT + 1  # the promise (README, Outages)
NOISE = 1.0  # this machine is shared: slack for scheduling, not for the mechanism
CONCURRENT = 16


@pytest.fixture
def server(proxy, database_url):
    settings = make_settings(
        proxy.dsn(database_url),
        db_pool_size=2,
        db_connect_timeout=1,
        db_statement_timeout=STATEMENT_TIMEOUT,
    )
    with LiveServer(create_app(settings)) as live:
        yield live


def memory_hits(http: httpx.Client) -> float:
    samples = read_samples(http.get("/metrics").content)
    return at(samples, "config_service_read_model_hits_total") or 0


def rows_named(database_url: str, names: list[str]) -> dict[str, int]:
    found = rows(
        database_url,
        "SELECT name, count(*) FROM applications WHERE name = ANY(%s) GROUP BY name",
        (names,),
    )
    return {row["name"]: row["count"] for row in found}


def test_a_stalled_database_is_answered_503_in_bounded_time_and_recovered_from(
    server, proxy, database_url
):
    http = httpx.Client(base_url=server.url, timeout=BOUND + 10)
    configuration = create_configuration(http)
    path = configuration["path"]
    # In memory once a GET is answered from it (the POST's own notification may have stopped
    # the first read from being kept).
    until(lambda: version(http.get(path)) == 0 and memory_hits(http) > 0, 5, "a read from memory")
    posted: dict[str, httpx.Response] = {}

    def post() -> httpx.Response:
        name = random_name("frozen")
        posted[name] = response = http.post(f"{API}/applications", json={"name": name})
        return response

    calls = [
        lambda: http.get(path, headers={"cache-control": "no-cache"}),
        post,
        lambda: put_version(http, configuration, 1),
        lambda: http.get("/health/ready"),
    ]

    def timed(call) -> tuple[httpx.Response, float]:
        started = time.monotonic()
        response = call()
        return response, time.monotonic() - started

    proxy.stall()
    from_memory, seconds = timed(lambda: http.get(path))
    assert (from_memory.status_code, version(from_memory)) == (200, 0)
    with ThreadPoolExecutor(CONCURRENT) as threads:
        answered = list(threads.map(timed, [calls[n % len(calls)] for n in range(2 * CONCURRENT)]))
    for response, seconds in answered:
        assert response.status_code == 503, response.text
        assert int(response.headers["retry-after"]) > 0
        assert seconds <= BOUND + NOISE, f"{response.request.url} took {seconds:.2f} s"
    # Listening is lost too now (the probe): a copy from memory answers when allowed to.
    stale = http.get(path, headers={"cache-control": "stale-if-error=60"})
    assert (stale.status_code, version(stale)) == (200, 0)

    proxy.restore()
    thawed = time.monotonic()
    assert _first(lambda: post().status_code == 201), "no write succeeded after the stall"
    assert _first(lambda: http.get(path, headers={"cache-control": "no-cache"}).is_success)
    assert time.monotonic() - thawed <= 2 + NOISE
    assert put_version(http, configuration, 2).status_code == 200
    assert http.get("/health/ready").status_code == 200

    counts = rows_named(database_url, list(posted))
    for name, response in posted.items():
        if response.status_code == 201:
            assert counts.get(name) == 1
        elif "COMMIT" in response.json()["detail"]:
            assert counts.get(name, 0) <= 1  # unknown outcome: applied once or not at all
        else:
            assert name not in counts  # answered 503 before anything could commit


def _first(call, seconds: float = 2 + NOISE) -> bool:
    """Whether `call` returns True within `seconds` (tried every 20 ms)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if call():
            return True
        time.sleep(0.02)
    return False
