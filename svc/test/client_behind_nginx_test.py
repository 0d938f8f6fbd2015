"""The runtime client through a caching nginx in front of the service (test/nginx.py), with
and without the recipe of docs/operations.md (`proxy_set_header If-None-Match ...`).

Without it nginx replaces the client's If-None-Match with its own, so every held GET is
answered 200 at once with the ETag the client already holds: a follower that took that for
an answer would ask again at once, hundreds of times a second.
"""

import json
import logging
import random
import time

import httpx
import pytest

from config_service_client import ConfigClient
from config_service_client.backoff import Backoff
from test.live_server import ServerProcess
from test.nginx import Nginx
from test.prometheus import held_requests
from test.resources import create_configuration, put_version
from test.waiting import until
from test.workers import TIMEOUT

MAX_WAIT = 2  # MAX_WAIT_SECONDS: held requests end in 304s within the test's time
WINDOW = 3  # seconds over which a follower's requests are counted


@pytest.fixture(scope="module")
def server(database_url):
    with ServerProcess(database_url, WORKERS="1", MAX_WAIT_SECONDS=str(MAX_WAIT)) as running:
        yield running


@pytest.fixture
def http(server):
    with httpx.Client(base_url=server.url, timeout=TIMEOUT) as client:
        yield client


def upstream_port(server: ServerProcess) -> int:
    return int(server.url.rpartition(":")[2])


def answered(nginx: Nginx, status: int, configuration: dict) -> int:
    """How many GETs of the configuration nginx answered with `status`."""
    return sum(
        f'"GET {configuration["path"]} ' in line and f'" {status} ' in line
        for line in nginx.access_log()
    )


def test_without_the_recipe_the_follower_backs_off_says_why_and_still_gets_changes(
    server, http, caplog
):
    configuration = create_configuration(http)
    caplog.set_level(logging.INFO, logger="config_service_client")
    backoff = Backoff(base=0.25, cap=1, rng=random.Random(32))  # short, for the test's window
    with Nginx(upstream_port(server)) as nginx:
        follower = ConfigClient(nginx.url).follow(configuration["id"], backoff=backoff)
        with follower:
            assert follower.wait(TIMEOUT) == {"v": 0}
            before = answered(nginx, 200, configuration)
            time.sleep(WINDOW)
            requests = answered(nginx, 200, configuration) - before
            assert put_version(http, configuration, 1).status_code == 200
            until(lambda: follower.config == {"v": 1}, TIMEOUT, "the change, late but there")
    # Asking again at once would be hundreds a second; backed off, at most a few (the delays
    # are drawn below 0.25, 0.5, then 1 s).
    assert 1 <= requests <= 4 * WINDOW, requests
    warned = [r.getMessage() for r in caplog.records if "dropped the condition" in r.getMessage()]
    assert len(warned) == 1 and "proxy_set_header If-None-Match" in warned[0]


def test_with_the_recipe_held_requests_end_in_304_and_a_change_wakes_the_follower(server, http):
    configuration = create_configuration(http)
    backoff = Backoff()
    with Nginx(upstream_port(server), pass_if_none_match=True) as nginx:
        with ConfigClient(nginx.url).follow(configuration["id"], backoff=backoff) as follower:
            assert follower.wait(TIMEOUT) == {"v": 0}
            until(lambda: answered(nginx, 304, configuration) >= 1, MAX_WAIT * 3, "a 304")
            metrics = f"{server.url}/metrics"
            until(lambda: held_requests(http.get(metrics).content) == 1, TIMEOUT, "a held GET")
            assert put_version(http, configuration, 1).status_code == 200
            until(lambda: follower.config == {"v": 1}, MAX_WAIT, "the change")
            assert backoff.failures == 0 and follower.problem is None
    # Woken by the change itself, not by asking again after a wait: the service says so.
    holds = [json.loads(line) for line in server.read_output().splitlines() if '"held"' in line]
    assert "changed" in {hold["held"] for hold in holds}, holds
