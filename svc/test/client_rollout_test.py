"""The runtime client in a rollout, against a real server: it names itself with Config-Client,
and a version its callback refuses is kept out and reported, which can abort the rollout."""

import httpx
import pytest

from config_service.representation import in_cohort
from config_service_client import ConfigClient
from config_service_client.backoff import Backoff
from test.live_server import ServerProcess
from test.resources import create_configuration
from test.waiting import until
from test.workers import TIMEOUT


@pytest.fixture(scope="module")
def server(database_url):
    with ServerProcess(database_url) as running_server:
        yield running_server


def test_a_refused_candidate_is_kept_out_reported_and_aborts_the_rollout(server, tmp_path):
    with httpx.Client(base_url=server.url, timeout=TIMEOUT) as http:
        configuration = create_configuration(http)
        inside = next(
            f"runtime-{n}"
            for n in range(1000)
            if in_cohort(configuration["id"], f"runtime-{n}", 50)
        )
        client = ConfigClient(server.url, cache_dir=tmp_path, wait=5, client_id=inside)
        follower = client.follow(configuration["id"], backoff=Backoff(base=0.05, cap=0.5))
        seen = []

        @follower.on_change
        def apply(config):
            seen.append(config)
            if config == {"v": 1}:
                raise ValueError("this runtime cannot apply v=1")

        with follower:
            assert follower.wait(TIMEOUT) == {"v": 0}
            body = {"name": configuration["name"], "config": {"v": 1}}
            started = http.put(
                configuration["path"], json=body, headers={"Config-Rollout": "50;max-failures=1"}
            )
            assert started.status_code == 200, started.text

            def aborted():
                history = http.get(configuration["path"], params={"history": ""}).json()
                return history[0]["rollout"]["state"] == "aborted" and history[0]["rollout"]

            rollout = until(aborted, TIMEOUT, "the rollout aborted by the client's report")
            assert rollout["ended_by"] == "automatic" and rollout["rejected_by"] == [inside]
            assert follower.config == {"v": 0} and follower.revision == 1
            assert seen == [{"v": 0}, {"v": 1}]
