"""plan and execute on a directory tree, against a stand-in that records every write."""

import json

import httpx
import pytest

from config_service_client import apply as applying
from config_service_client.directory import read_directory


class Service:
    """One application `shop` with `prod` ({"a": 1}, comments "keep") at ETag "e1"."""

    def __init__(self):
        self.configurations = {
            "C1": {"id": "C1", "application_id": "A1", "name": "prod", "comments": "keep"}
            | {"config": {"a": 1}}
        }
        self.etag = '"e1"'
        self.writes: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.method != "GET":
            self.writes.append(request)
            if request.headers.get("If-Match") != self.etag:
                return httpx.Response(412, json={"detail": "stale"})
            body = self.configurations["C1"] | json.loads(request.content)
            return httpx.Response(200, json=body, headers={"ETag": '"e2"'})
        if request.url.path == "/api/v1/applications":
            if request.url.params["name"] != "shop":
                return httpx.Response(200, json=[])
            application = {"id": "A1", "name": "shop", "configuration_ids": ["C1"]}
            return httpx.Response(200, json=[application])
        body = self.configurations[request.url.path.rsplit("/", 1)[-1]]
        return httpx.Response(200, json=body, headers={"ETag": self.etag})


@pytest.fixture
def service():
    return Service()


@pytest.fixture
def http(service):
    transport = httpx.MockTransport(service)
    with httpx.Client(base_url="http://s/api/v1", transport=transport, timeout=5) as client:
        yield client


def directory(tmp_path, config: dict, comments: str | None = None):
    (tmp_path / "shop").mkdir()
    (tmp_path / "shop" / "prod.json").write_text(json.dumps(config))
    if comments is not None:
        (tmp_path / "shop" / "prod.comments.txt").write_text(comments + "\n")
    return read_directory(tmp_path)


def test_an_unchanged_directory_plans_nothing_and_sends_no_write(service, http, tmp_path):
    planned = applying.plan(http, directory(tmp_path, {"a": 1}))
    assert (planned.changes, planned.unchanged, planned.drift) == ([], 1, [])
    applying.execute(http, planned, print)
    assert service.writes == []


def test_a_changed_config_is_put_with_if_match_of_the_read(service, http, tmp_path):
    planned = applying.plan(http, directory(tmp_path, {"a": 2}))
    assert len(planned.changes) == 1 and planned.unchanged == 0
    assert str(planned.changes[0]).startswith("update shop/prod")
    reported = []
    applying.execute(http, planned, reported.append)
    [put] = service.writes
    assert (put.method, put.url.path) == ("PUT", "/api/v1/configurations/C1")
    assert put.headers["If-Match"] == '"e1"'
    # comments the directory does not manage are sent back as they were
    assert json.loads(put.content) == {"name": "prod", "comments": "keep", "config": {"a": 2}}
    assert reported == [str(planned.changes[0])]


def test_managed_comments_are_compared_too(http, tmp_path):
    planned = applying.plan(http, directory(tmp_path, {"a": 1}, comments="new"))
    [change] = planned.changes
    assert [d.path for d in change.differences] == ["comments"]


def test_a_change_made_after_the_read_stops_with_412(service, http, tmp_path):
    planned = applying.plan(http, directory(tmp_path, {"a": 2}))
    service.etag = '"someone-else"'
    with pytest.raises(applying.Stopped, match="nothing was overwritten") as raised:
        applying.execute(http, planned, print)
    assert raised.value.status == 412


def test_an_application_missing_on_the_service_is_to_be_created(service, http, tmp_path):
    (tmp_path / "new").mkdir()
    (tmp_path / "new" / "c.json").write_text("{}")
    planned = applying.plan(http, read_directory(tmp_path))
    assert planned.application_ids == {"new": None}
    assert str(planned.changes[0]) == "create new/c"
    assert planned.drift == [] and service.writes == []
