"""history and rollback, on a stand-in that follows the revisions contract (issue 17) exactly.

The service has no revisions yet; end-to-end tests follow once it has.
"""

import json

import httpx
import pytest

from config_service_client import cli, revisions
from config_service_client.service import ServiceError

ID = "01ARZ3NDEKTSV4RRFFQ69G5FAV"
PATH = f"/api/v1/configurations/{ID}"


def entry(revision: int) -> dict:
    return {
        "revision": revision,
        "changed_at": f"2025-01-0{revision}T00:00:00Z",
        "changed_by": None if revision == 1 else "ci",
        "request_id": f"r{revision}",
        "etag": f'"e{revision}"',
    }


class Revisions:
    """A configuration at revision 3 with its history, as the contract describes it."""

    def __init__(self):
        self.current = 3
        self.bodies = {
            n: {
                "id": ID,
                "application_id": "A",
                "name": "c",
                "comments": f"c{n}",
                "config": {"v": n},
            }
            for n in (1, 2, 3)
        }
        self.puts: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        query = request.url.query.decode()
        application = {"id": "A", "name": "app", "configuration_ids": [ID]}
        if request.url.path == "/api/v1/applications":
            return httpx.Response(200, json=[application])
        if request.url.path == "/api/v1/applications/A":  # read whole: finds the name's id
            items = [self.bodies[self.current]]
            return httpx.Response(200, json=application | {"configurations": items})
        if request.method == "PUT":
            self.puts.append(request)
            if request.headers["If-Match"] != f'"e{self.current}"':
                return httpx.Response(412, json={"status": 412, "detail": "stale"})
            body = {**self.bodies[1], **json.loads(request.content)}
            if body != self.bodies[self.current]:  # a PUT that changes nothing records nothing
                self.current += 1
                self.bodies[self.current] = body
            return httpx.Response(
                200,
                json=self.bodies[self.current],
                headers={"ETag": f'"e{self.current}"', "Revision": str(self.current)},
            )
        if query.startswith("history"):
            params = dict(request.url.params)
            before = int(params.get("before", self.current + 1))
            limit = int(params["limit"])
            numbers = [n for n in range(before - 1, 0, -1)][:limit]
            headers = {}
            if numbers and numbers[-1] > 1:
                headers["Link"] = f'<{PATH}?history&limit={limit}&before={numbers[-1]}>; rel="next"'
            return httpx.Response(200, json=[entry(n) for n in numbers], headers=headers)
        number = int(request.url.params.get("revision", self.current))
        return httpx.Response(
            200, json=self.bodies[number], headers={"ETag": f'"e{number}"', "Revision": str(number)}
        )


@pytest.fixture
def service():
    return Revisions()


def connected(service):
    return httpx.Client(base_url="http://service/api/v1", transport=httpx.MockTransport(service))


def test_history_follows_next_links_newest_first_up_to_the_limit(service):
    with connected(service) as http:
        assert [e["revision"] for e in revisions.history(http, ID, 10)] == [3, 2, 1]
        assert [e["revision"] for e in revisions.history(http, ID, 2)] == [3, 2]


def test_rollback_puts_the_old_revision_back_with_if_match_of_the_current(service):
    with connected(service) as http:
        current = http.get(f"/configurations/{ID}")
        response = revisions.rollback(http, current, 1)
    assert response.headers["Revision"] == "4"
    assert json.loads(service.puts[0].content) == {
        "name": "c",
        "comments": "c1",
        "config": {"v": 1},
    }
    assert service.puts[0].headers["If-Match"] == '"e3"'


def test_a_stale_rollback_stops_without_overwriting(service):
    with connected(service) as http:
        current = http.get(f"/configurations/{ID}")
        service.current = 4  # someone changed it meanwhile
        with pytest.raises(ServiceError, match="changed while rolling back") as raised:
            revisions.rollback(http, current, 1)
    assert raised.value.status == 412


def test_the_cli_prints_history_and_rolls_back(service, monkeypatch, capsys):
    monkeypatch.setattr(cli, "connect", lambda url, token: connected(service))
    assert cli.main(["history", "app/c", "--url", "http://service", "--limit", "2"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "revision\tchanged_at\tchanged_by\trequest_id\tetag",
        '3\t2025-01-03T00:00:00Z\tci\tr3\t"e3"',
        '2\t2025-01-02T00:00:00Z\tci\tr2\t"e2"',
    ]
    assert cli.main(["--url", "http://service", "rollback", "app/c", "--to", "2"]) == 0
    assert capsys.readouterr().out == "app/c: revision 2 put back, now revision 4\n"


def test_rolling_back_to_the_current_revision_or_its_twin_says_nothing_changed(
    service, monkeypatch, capsys
):
    monkeypatch.setattr(cli, "connect", lambda url, token: connected(service))
    assert cli.main(["--url", "http://service", "rollback", "app/c", "--to", "3"]) == 0
    assert capsys.readouterr().out == "app/c: revision 3 is the current one; nothing to do\n"
    assert service.puts == []
    service.bodies[2] = service.bodies[3]  # revision 2 held what 3 holds
    assert cli.main(["--url", "http://service", "rollback", "app/c", "--to", "2"]) == 0
    assert capsys.readouterr().out == (
        "app/c: revision 3, the current one, holds what 2 did; nothing changed\n"
    )


def test_usage_errors_exit_2(monkeypatch, capsys):
    monkeypatch.delenv("CONFIG_SERVICE_URL", raising=False)
    for arguments in (
        ["get", "app/c"],
        ["--url", "u", "history", "nothing"],
        ["rollback", "a/c", "--to", "0"],
    ):
        with pytest.raises(SystemExit) as exited:
            cli.main(arguments)
        assert exited.value.code == 2
