"""The runtime client in a rollout, against a real server: it names itself with Config-Client,
and a version its callback refuses is kept out and reported, which can abort the rollout."""

import httpx
import pytest
from config_service_client import ConfigClient
from config_service_client.backoff import Backoff

from config_service.representation import in_cohort
from test.resources import create_configuration
from test.waiting import until
from test.workers import TIMEOUT


@pytest.fixture(scope="module")
def server(one_worker_server):
    return one_worker_server


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


def test_the_cli_starts_changes_shows_and_promotes_a_rollout(server, tmp_path, capsys):
    from config_service_client.cli import main

    with httpx.Client(base_url=server.url, timeout=TIMEOUT) as http:
        application = http.post("/api/v1/applications", json={"name": f"cli-{tmp_path.name}"})
        configuration = create_configuration(http, {"id": application.json()["id"]})
        target = f"{application.json()['name']}/{configuration['name']}"
        candidate = tmp_path / "candidate.json"
        candidate.write_text('{"v": 1}')
        url = ["--url", server.url]
        assert main(["rollout", target, "--percent", "10", "--file", str(candidate), *url]) == 0
        assert "revision 2 served to 10% of clients" in capsys.readouterr().out
        assert main(["rollout", target, "--percent", "40", "--max-failures", "2", *url]) == 0
        assert "revision 2 served to 40%" in capsys.readouterr().out
        assert main(["rollout", target, *url]) == 0
        assert "40%" in capsys.readouterr().out
        assert main(["rollout", target, "--promote", *url]) == 0
        assert "no rollout running; revision 2 is current" in capsys.readouterr().out
        assert http.get(configuration["path"]).json()["config"] == {"v": 1}
        assert main(["rollout", target, "--abort", *url]) == 1  # none runs
        assert "no rollout is running" in capsys.readouterr().err


def test_apply_with_rollout_makes_each_changed_configuration_a_candidate(server, tmp_path, capsys):
    import json

    from config_service_client.cli import main

    application = f"apply-{tmp_path.name}"[:60]
    (tmp_path / application).mkdir()
    file = tmp_path / application / "db.json"
    url = ["--url", server.url]

    def apply(config, *options):
        file.write_text(json.dumps(config))
        return main(["apply", str(tmp_path), *options, *url])

    assert apply({"pool": 1}) == 0  # created: a first version is no candidate
    assert apply({"pool": 2}, "--rollout", "20") == 0
    with httpx.Client(base_url=f"{server.url}/api/v1", timeout=TIMEOUT) as http:
        found = http.get("/applications", params={"name": application}).json()[0]
        whole = http.get(f"/applications/{found['id']}", params={"include": "configurations"})
        path = f"/configurations/{whole.json()['configurations'][0]['id']}"
        answered = http.get(path)
        assert answered.json()["config"] == {"pool": 1}
        assert answered.headers["config-rollout"] == "20;revision=2"
        assert apply({"pool": 3}, "--rollout", "30") == 0  # replaces the running candidate
        assert http.get(path).headers["config-rollout"] == "30;revision=3"
        history = http.get(path, params={"history": ""}).json()
        assert [entry["rollout"] and entry["rollout"]["state"] for entry in history] == [
            "running", "replaced", None
        ]  # fmt: skip
