"""`config-service history` and `rollback` against a real server with revisions."""

import httpx
import pytest
from config_service_client import ConfigClient
from config_service_client.cli import main

from test.random_refs import random_name
from test.workers import TIMEOUT


@pytest.fixture(scope="module")
def server(one_worker_server):
    return one_worker_server


def configuration_with_three_revisions(server) -> tuple[str, str]:
    """A configuration at revision 3 ({"v": 3}), made as 1, 2, 3; (target, id)."""
    api = f"{server.url}/api/v1"
    application = random_name("app")
    created = httpx.post(f"{api}/applications", json={"name": application}, timeout=TIMEOUT)
    body = {"application_id": created.json()["id"], "name": "production", "config": {"v": 1}}
    configuration = httpx.post(f"{api}/configurations", json=body, timeout=TIMEOUT).json()
    for version in (2, 3):
        httpx.put(
            f"{api}/configurations/{configuration['id']}",
            json={**body, "config": {"v": version}},
            timeout=TIMEOUT,
        ).raise_for_status()
    return f"{application}/production", configuration["id"]


def test_history_lists_every_revision_newest_first(server, capsys):
    target, _ = configuration_with_three_revisions(server)
    assert main(["--url", server.url, "history", target]) == 0
    header, *rows = capsys.readouterr().out.splitlines()
    assert header.split("\t") == ["revision", "changed_at", "changed_by", "request_id", "etag"]
    assert [row.split("\t")[0] for row in rows] == ["3", "2", "1"]


def test_rollback_puts_an_old_revision_back_as_a_new_one(server, capsys):
    target, configuration_id = configuration_with_three_revisions(server)
    assert main(["--url", server.url, "rollback", target, "--to", "1"]) == 0
    assert "now revision 4" in capsys.readouterr().out
    current = httpx.get(f"{server.url}/api/v1/configurations/{configuration_id}", timeout=TIMEOUT)
    assert current.json()["config"] == {"v": 1} and current.headers["Revision"] == "4"
    follower = ConfigClient(server.url).follow(configuration_id)
    follower.start()
    try:
        assert follower.wait(timeout=TIMEOUT) == {"v": 1}
        assert follower.revision == 4
    finally:
        follower.stop()


def test_rollback_to_a_revision_that_never_existed_fails_and_changes_nothing(server, capsys):
    target, configuration_id = configuration_with_three_revisions(server)
    assert main(["--url", server.url, "rollback", target, "--to", "9"]) == 1
    assert capsys.readouterr().err.strip()  # the service's problem detail, one line
    current = httpx.get(f"{server.url}/api/v1/configurations/{configuration_id}", timeout=TIMEOUT)
    assert current.headers["Revision"] == "3"


def test_rollback_to_the_current_revision_says_there_is_nothing_to_do(server, capsys):
    target, configuration_id = configuration_with_three_revisions(server)
    assert main(["--url", server.url, "rollback", target, "--to", "3"]) == 0
    assert capsys.readouterr().out == f"{target}: revision 3 is the current one; nothing to do\n"
    current = httpx.get(f"{server.url}/api/v1/configurations/{configuration_id}", timeout=TIMEOUT)
    assert current.headers["Revision"] == "3"
