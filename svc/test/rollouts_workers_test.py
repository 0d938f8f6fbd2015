"""Rollouts with WORKERS=2 and a fresh connection per request: every worker serves each
client the same view, from memory and from PostgreSQL, and a held GET with Config-Client
wakes exactly when that client's view changes (docs/rollouts.md)."""

from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from config_service.representation import in_cohort
from test.random_refs import random_name
from test.waiting import until
from test.workers import TIMEOUT

CLIENTS = [f"fleet-{number}" for number in range(60)]
HELD_SECONDS = 3


@pytest.fixture(scope="module")
def server(two_worker_server):
    return two_worker_server


@pytest.fixture
def configuration(server):
    api = f"{server.url}/api/v1"
    application = httpx.post(f"{api}/applications", json={"name": random_name("app")}).json()
    body = {"application_id": application["id"], "name": random_name("cfg"), "config": {"v": 0}}
    created = httpx.post(f"{api}/configurations", json=body).json()
    return {**created, "url": f"{api}/configurations/{created['id']}"}


def put(configuration, version, rollout):
    body = {"name": configuration["name"], "config": {"v": version}}
    answer = httpx.put(configuration["url"], json=body, headers={"Config-Rollout": rollout})
    assert answer.status_code == 200, answer.text
    return answer


def view(configuration, client, **headers) -> int:
    answer = httpx.get(  # a connection of its own: either worker answers
        configuration["url"], headers={"Config-Client": client, **headers}, timeout=TIMEOUT
    )
    assert answer.status_code == 200, answer.text
    return answer.json()["config"]["v"]


def expect(configuration, percent, candidate, current):
    for client in CLIENTS:
        wanted = candidate if in_cohort(configuration["id"], client, percent) else current
        for headers in ({}, {"Cache-Control": "no-cache"}):
            assert view(configuration, client, **headers) == wanted, (client, headers)


def test_every_worker_serves_each_client_its_view(configuration):
    expect(configuration, 0, 1, 0)
    put(configuration, 1, "30")
    expect(configuration, 30, 1, 0)
    put(configuration, 1, "60")
    expect(configuration, 60, 1, 0)
    put(configuration, 2, "60")  # replaced
    expect(configuration, 60, 2, 0)
    put(configuration, 2, "100")
    expect(configuration, 100, 2, 0)


def held_get(configuration, client, etag):
    """A GET held until `client`'s view changes, or HELD_SECONDS: (status, version)."""
    headers = {"Config-Client": client, "If-None-Match": etag, "Prefer": f"wait={HELD_SECONDS}"}
    answer = httpx.get(configuration["url"], headers=headers, timeout=HELD_SECONDS + TIMEOUT)
    return answer.status_code, (answer.json()["config"]["v"] if answer.status_code == 200 else None)


def test_a_held_get_wakes_only_when_its_clients_view_changes(server, configuration):
    inside = next(c for c in CLIENTS if in_cohort(configuration["id"], c, 20))
    outside = next(c for c in CLIENTS if not in_cohort(configuration["id"], c, 90))
    etag = httpx.get(configuration["url"]).headers["etag"]
    with ThreadPoolExecutor(2) as pool:
        held = {client: pool.submit(held_get, configuration, client, etag)
                for client in (inside, outside)}  # fmt: skip
        wait_until_held(server, 2)
        put(configuration, 1, "20")  # the candidate starts: only the cohort wakes
        assert held[inside].result() == (200, 1)
        assert held[outside].result() == (304, None)


def test_an_abort_wakes_the_cohort_and_a_promotion_those_outside(server, configuration):
    started = put(configuration, 1, "20")
    inside = next(c for c in CLIENTS if in_cohort(configuration["id"], c, 20))
    outside = next(c for c in CLIENTS if not in_cohort(configuration["id"], c, 20))
    current = httpx.get(configuration["url"]).headers["etag"]
    with ThreadPoolExecutor(2) as pool:
        held = {
            inside: pool.submit(held_get, configuration, inside, started.headers["etag"]),
            outside: pool.submit(held_get, configuration, outside, current),
        }
        wait_until_held(server, 2)
        put(configuration, 1, "100")  # promoted: the cohort already holds it
        assert held[outside].result() == (200, 1)
        assert held[inside].result() == (304, None)
    restarted = put(configuration, 2, "20")
    with ThreadPoolExecutor(1) as pool:
        woken = pool.submit(held_get, configuration, inside, restarted.headers["etag"])
        wait_until_held(server, 1)
        put(configuration, 2, "0")  # aborted: the cohort goes back to the current version
        assert woken.result() == (200, 1)


def wait_until_held(server, count: int) -> None:
    """Until `count` GETs are held across the workers (bounded)."""

    def held() -> bool:
        text = httpx.get(f"{server.url}/metrics", timeout=TIMEOUT).text
        return sum(_held_values(text)) >= count

    until(held, seconds=TIMEOUT, message=f"{count} GETs held")


def _held_values(text: str):
    for line in text.splitlines():
        if line.startswith("config_service_watch_held_requests") and not line.startswith("#"):
            yield float(line.rsplit(" ", 1)[1])


def test_a_step_up_wakes_only_the_clients_it_brings_in(server, configuration):
    started = put(configuration, 1, "10")
    current = httpx.get(configuration["url"]).headers["etag"]
    brought_in = next(
        c for c in CLIENTS
        if in_cohort(configuration["id"], c, 30) and not in_cohort(configuration["id"], c, 10)
    )  # fmt: skip
    left_out = next(c for c in CLIENTS if not in_cohort(configuration["id"], c, 30))
    already_in = next(c for c in CLIENTS if in_cohort(configuration["id"], c, 10))
    with ThreadPoolExecutor(3) as pool:
        held = {
            brought_in: pool.submit(held_get, configuration, brought_in, current),
            left_out: pool.submit(held_get, configuration, left_out, current),
            already_in: pool.submit(held_get, configuration, already_in, started.headers["etag"]),
        }
        wait_until_held(server, 3)
        put(configuration, 1, "30")
        assert held[brought_in].result() == (200, 1)
        assert held[left_out].result() == (304, None)
        assert held[already_in].result() == (304, None)


def test_a_held_read_of_the_whole_application_follows_its_clients_cohorts(server, configuration):
    whole = f"{server.url}/api/v1/applications/{configuration['application_id']}"
    params = {"include": "configurations"}
    inside = next(c for c in CLIENTS if in_cohort(configuration["id"], c, 40))
    outside = next(c for c in CLIENTS if not in_cohort(configuration["id"], c, 40))
    etag = httpx.get(whole, params=params).headers["etag"]

    def held(client):
        headers = {"Config-Client": client, "If-None-Match": etag, "Prefer": f"wait={HELD_SECONDS}"}
        answer = httpx.get(whole, params=params, headers=headers, timeout=HELD_SECONDS + TIMEOUT)
        if answer.status_code != 200:
            return answer.status_code, None
        return 200, [item["config"]["v"] for item in answer.json()["configurations"]]

    with ThreadPoolExecutor(2) as pool:
        answers = {client: pool.submit(held, client) for client in (inside, outside)}
        wait_until_held(server, 2)
        put(configuration, 1, "40")
        assert answers[inside].result() == (200, [1])
        assert answers[outside].result() == (304, None)
