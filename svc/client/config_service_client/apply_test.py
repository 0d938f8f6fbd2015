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
        self.reads: list[httpx.Request] = []
        self.changed_by_someone_after_a_read = False

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            self.reads.append(request)
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
        if request.url.path == "/api/v1/applications/A1":  # read whole
            assert request.url.params["include"] == "configurations"
            assert request.headers["Cache-Control"] == "no-cache"
            application = {"id": "A1", "name": "shop", "configuration_ids": ["C1"]}
            configurations = list(self.configurations.values())
            return httpx.Response(200, json=application | {"configurations": configurations})
        body = self.configurations[request.url.path.rsplit("/", 1)[-1]]
        etag = self.etag
        if self.changed_by_someone_after_a_read:
            self.etag = '"someone-else"'
        return httpx.Response(200, json=body, headers={"ETag": etag})


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
    # The application's name, then the application read whole: no read per configuration.
    assert [read.url.path for read in service.reads] == [
        "/api/v1/applications",
        "/api/v1/applications/A1",
    ]


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


def test_a_change_made_after_the_plan_read_stops_before_any_write(service, http, tmp_path):
    planned = applying.plan(http, directory(tmp_path, {"a": 2}))
    service.configurations["C1"] = service.configurations["C1"] | {"config": {"a": 3}}
    service.etag = '"someone-else"'
    with pytest.raises(applying.Stopped, match="nothing was overwritten") as raised:
        applying.execute(http, planned, print)
    assert raised.value.status == 412 and service.writes == []


def test_a_change_made_just_before_the_put_stops_with_412(service, http, tmp_path):
    planned = applying.plan(http, directory(tmp_path, {"a": 2}))
    service.changed_by_someone_after_a_read = True  # between the ETag's read and the PUT
    with pytest.raises(applying.Stopped, match="nothing was overwritten") as raised:
        applying.execute(http, planned, print)
    [put] = service.writes
    assert raised.value.status == 412 and put.headers["If-Match"] == '"e1"'


def test_an_application_missing_on_the_service_is_to_be_created(service, http, tmp_path):
    (tmp_path / "new").mkdir()
    (tmp_path / "new" / "c.json").write_text("{}")
    planned = applying.plan(http, read_directory(tmp_path))
    assert planned.application_ids == {"new": None}
    assert str(planned.changes[0]) == "create new/c"
    assert planned.drift == [] and service.writes == []
