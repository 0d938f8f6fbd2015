"""The rollout schedule with 3 instances of 2 workers each (PgBouncer in front, as
test/fleet.py runs them): every step is taken exactly once, none skipped, in history and in
the logs; and stopping every instance mid-rollout, then starting them again, continues where
it was (docs/rollouts.md)."""

import json
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from test.fleet import Fleet
from test.random_refs import random_name
from test.waiting import until
from test.workers import TIMEOUT


@pytest.fixture
def database_url(migrated_database):
    """A database of this module's tests' own: the session's apps run the rollout schedule on
    the run's database, and the fleet's steps are taken by its instances alone."""
    return migrated_database


def steps_logged(fleet: Fleet, configuration_id: str) -> list[int]:
    """The percentages any instance logged stepping this configuration to, sorted: a step
    taken twice shows twice, a skipped one not at all."""
    taken = []
    for server in fleet.servers:
        for line in server.read_output().splitlines():
            if '"rollout step"' in line:
                fields = json.loads(line)
                if fields["configuration_id"] == configuration_id:
                    taken.append(fields["rollout"])
    return sorted(taken)


# Seconds a worker's batched log lines may take to reach its file, on a busy machine.
LOGGED_WITHIN = 20


def logged_at_least(fleet: Fleet, configuration_id: str, count: int) -> list[int]:
    """The steps logged, once at least `count` are (a worker writes its log lines in batches,
    so the last may land a moment after the step), and a moment later, for any extra."""
    until(
        lambda: len(steps_logged(fleet, configuration_id)) >= count,
        LOGGED_WITHIN,
        f"{count} steps logged",
    )
    time.sleep(0.5)
    return steps_logged(fleet, configuration_id)


def rollout_header(url: str) -> str | None:
    return httpx.get(url, timeout=TIMEOUT).headers.get("config-rollout")


def until_promoted(url: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while rollout_header(url) is not None:
        assert time.monotonic() < deadline, f"not promoted within {seconds} s"
        time.sleep(0.2)


def test_three_instances_take_each_step_once_and_continue_after_all_stop(database_url):
    with Fleet(database_url) as fleet:
        api = f"{fleet.servers[0].url}/api/v1"
        application = httpx.post(f"{api}/applications", json={"name": random_name()}).json()
        body = {"application_id": application["id"], "name": random_name(), "config": {"v": 0}}
        created = httpx.post(f"{api}/configurations", json=body).json()
        url = f"{api}/configurations/{created['id']}"
        candidate = {"name": body["name"], "config": {"v": 1}}
        put = httpx.put(url, json=candidate, headers={"Config-Rollout": "10;step=25;every=1"})
        assert put.status_code == 200, put.text
        until_promoted(url, 15)
        assert logged_at_least(fleet, created["id"], 4) == [35, 60, 85, 100]

        # Every instance stops mid-rollout; started again, the schedule goes on.
        candidate = {"name": body["name"], "config": {"v": 2}}
        put = httpx.put(url, json=candidate, headers={"Config-Rollout": "10;step=30;every=2"})
        assert put.status_code == 200, put.text
        deadline = time.monotonic() + 10
        while rollout_header(url) != "40;revision=3":
            assert time.monotonic() < deadline, rollout_header(url)
            time.sleep(0.1)
        for server in fleet.servers:
            server.stop()
        time.sleep(3)  # the next step falls due while no instance runs
        with ThreadPoolExecutor(len(fleet.servers)) as pool:
            list(pool.map(lambda server: server.start().wait_until_ready(), fleet.servers))
        until_promoted(url, 20)
        history = httpx.get(url, params={"history": ""}, timeout=TIMEOUT).json()
        assert history[0]["revision"] == 3
        assert history[0]["rollout"]["state"] == "promoted"
        logged = logged_at_least(fleet, created["id"], 7)
        assert logged == [35, 40, 60, 70, 85, 100, 100], logged
