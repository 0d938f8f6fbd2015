"""Following a whole application, one scripted answer per request, on a stand-in service
(every wait bounded)."""

import httpx
import pytest

from config_service_client import follower as following
from config_service_client.application import ApplicationFollower
from config_service_client.backoff import Backoff
from config_service_client.cache import DiskCache
from config_service_client.follower import Target

TIMEOUT = 5  # seconds; the script ends in a 404, so a follow that does not end fails here
APPLICATION = {"id": "A1", "name": "shop", "comments": "", "configuration_ids": ["C1", "C2"]}


def item(id: str, name: str, config: dict) -> dict:
    return {"id": id, "application_id": "A1", "name": name, "comments": "", "config": config}


def whole(etag: str, **configs: dict) -> httpx.Response:
    items = [item(f"C{n}", name, config) for n, (name, config) in enumerate(configs.items())]
    return httpx.Response(200, json=APPLICATION | {"configurations": items}, headers={"ETag": etag})


@pytest.fixture
def script(monkeypatch):
    """Answers to the reads of the application whole, in order (a 404 once they run out), and
    every request made; the lookup of the name `shop` finds A1."""
    answers: list[httpx.Response] = []
    requests: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        if request.url.path == "/api/v1/applications":
            found = [APPLICATION] if request.url.params["name"] == "shop" else []
            return httpx.Response(200, json=found)
        if answers:
            return answers.pop(0)
        return httpx.Response(404, json={"detail": "no such application"})

    def connect(base_url, token, timeout):
        transport = httpx.MockTransport(answer)
        return httpx.Client(base_url=base_url + "/api/v1", transport=transport, timeout=TIMEOUT)

    monkeypatch.setattr(following, "connect", connect)
    return answers, requests


def followed(name: str = "shop", cache: DiskCache | None = None) -> ApplicationFollower:
    return ApplicationFollower(
        "http://service",
        Target(f"application:{name}", None, name),
        token=None,
        cache=cache,
        wait=30,
        stale_if_error=300,
        backoff=Backoff(base=0.001, cap=0.001),
    )


def run_to_the_end(follower: ApplicationFollower) -> None:
    follower.start()
    follower.join(TIMEOUT)
    assert not follower._thread.is_alive(), "the follow did not end"


def test_it_finds_the_application_once_then_holds_one_read_of_it_whole_at_a_time(script, tmp_path):
    answers, requests = script
    answers += [
        whole('"e1"', db={"pool": 5}, flags={"dark": False}),
        httpx.Response(304, headers={"Preference-Applied": "wait=30"}),
        whole('"e2"', db={"pool": 5}, flags={"dark": True}, limits={}),
    ]
    cache = DiskCache(tmp_path, "application:shop")
    follower = followed(cache=cache)
    changes = []
    follower.on_change(changes.append)

    run_to_the_end(follower)

    assert changes == [
        {"db": {"pool": 5}, "flags": {"dark": False}},
        {"db": {"pool": 5}, "flags": {"dark": True}, "limits": {}},
    ]
    assert (follower.id, follower.etag, follower.revision) == ("A1", '"e2"', None)
    assert follower.error is not None and follower.error.status == 404
    lookup, first, *held = requests
    assert (lookup.url.path, lookup.url.params["name"]) == ("/api/v1/applications", "shop")
    for request in (first, *held):
        assert request.url.path == "/api/v1/applications/A1"
        assert request.url.params["include"] == "configurations"
    assert "If-None-Match" not in first.headers
    assert [r.headers["If-None-Match"] for r in held] == ['"e1"', '"e1"', '"e2"']
    assert {r.headers["Prefer"] for r in held} == {"wait=30"}
    # The disk cache holds the whole application, in one file.
    cached = cache.read()
    assert (cached.id, cached.etag, cached.config) == ("A1", '"e2"', changes[-1])


def test_it_starts_from_the_whole_application_in_its_cache(script, tmp_path):
    cache = DiskCache(tmp_path, "application:shop")
    first = followed(cache=cache)
    script[0].append(whole('"e1"', db={"pool": 5}))
    run_to_the_end(first)

    later = followed(cache=cache)  # the service now answers 404 at once: it ends, but started
    run_to_the_end(later)

    assert later.config == {"db": {"pool": 5}} and later.cache_age is not None


def test_an_unknown_application_ends_the_follow_naming_it(script):
    follower = followed("nope")
    run_to_the_end(follower)
    assert follower.error.status == 404 and "no application named 'nope'" in str(follower.error)
    assert [request.url.path for request in script[1]] == ["/api/v1/applications"]
