"""A worker never answers the old version after its own write: it drops what the write touched
before answering, without waiting for the notification PostgreSQL sends every worker.

A 1-worker server behind a ListenerProxy whose notifications are held back for the whole test:
any old answer would come from that worker's memory, nothing else.
"""

import httpx
import pytest

from test.live_server import ServerProcess
from test.resources import create_application, create_configuration, put_version, version
from test.workers import TIMEOUT

PAIRS = 1000  # write-then-read pairs


@pytest.fixture(scope="module")
def worker(database_url, listener_proxy):
    """A keep-alive client of a 1-worker server whose notifications are held back."""
    with ServerProcess(listener_proxy.dsn(database_url), WORKERS="1") as server:
        assert listener_proxy.listening_connections == 1
        listener_proxy.hold_notifications()
        with httpx.Client(base_url=server.url, timeout=TIMEOUT) as http:
            yield http


def test_a_worker_never_answers_the_old_version_after_its_own_put(worker):
    """1,000 times: PUT a new version of a configuration, then GET it through the same worker."""
    configuration = create_configuration(worker)
    assert version(worker.get(configuration["path"])) == 0  # in memory from here on

    old = 0
    for new in range(1, PAIRS + 1):
        assert put_version(worker, configuration, new).status_code == 200
        old += version(worker.get(configuration["path"])) != new

    assert old == 0


def test_a_worker_answers_its_new_configuration_in_the_application_at_once(worker):
    """Creating a configuration changes its application's representation: the worker that
    created it answers the new one (its configuration_ids and ETag) right away."""
    application = create_application(worker)
    before = worker.get(application["path"])
    assert before.json()["configuration_ids"] == []

    created = [create_configuration(worker, application)["id"] for _ in range(3)]
    after = worker.get(application["path"])

    assert after.json()["configuration_ids"] == sorted(created)
    assert after.headers["etag"] != before.headers["etag"]
