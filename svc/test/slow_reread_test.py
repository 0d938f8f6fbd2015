"""A watch whose wait ends while the re-read of a change is still on its way answers that
change (200, the new version), not 304 against the version it already had."""

import time
from concurrent.futures import ThreadPoolExecutor

import httpx

from config_service.main import create_app
from conftest import make_settings
from test.live_server import LiveServer
from test.resources import create_configuration, set_version_in_sql, version
from test.waiting import until
from test.watching import assert_held, watch

WAIT = 2  # seconds the watch asks to be held


def test_a_wait_that_ends_during_the_re_read_of_a_change_answers_the_change(
    listener_proxy, database_url
):
    # No rollout steps: their queries would be answers the proxy holds and counts.
    settings = make_settings(listener_proxy.dsn(database_url), db_pool_size=2, rollout_steps=False)
    with (
        LiveServer(create_app(settings)) as server,
        httpx.Client(base_url=server.url, timeout=30) as http,
        ThreadPoolExecutor(1) as threads,
    ):
        configuration = create_configuration(http)
        current = http.get(configuration["path"])
        held = watch(threads, server.url, configuration["path"], current.headers["etag"], WAIT)
        assert_held(held)
        listener_proxy.hold_answers()  # PostgreSQL's answers to the pool come late: a slow database
        set_version_in_sql(database_url, configuration, 1)  # heard at once: a re-read starts
        until(lambda: listener_proxy.answers_held >= 1, 5, "the re-read reaching PostgreSQL")
        time.sleep(WAIT + 0.4)  # the watch's wait is over, its re-read still on its way
        listener_proxy.release_answers()
        answer = held.result(timeout=30)
    assert answer.status == 200, answer.headers
    assert version(answer.response) == 1
