"""The follow loop, one scripted answer per request, on a stand-in service (every wait bounded)."""

import httpx
import pytest

from config_service_client import follower as following
from config_service_client.backoff import Backoff
from config_service_client.follower import Follower, Target
from config_service_client.service import FatalError

ID = "01ARZ3NDEKTSV4RRFFQ69G5FAV"
TIMEOUT = 5  # seconds; the script ends in a 404, so a follow that does not end fails here


def version(config: dict, etag: str, revision: str) -> httpx.Response:
    body = {"id": ID, "application_id": "A", "name": "c", "comments": "", "config": config}
    return httpx.Response(200, json=body, headers={"ETag": etag, "Revision": revision})


def not_modified(applied: str | None) -> httpx.Response:
    return httpx.Response(304, headers={"Preference-Applied": applied} if applied else {})


GONE = httpx.Response(404, json={"status": 404, "detail": "no such configuration"})


@pytest.fixture
def script(monkeypatch):
    """Answers in order (a 404 once they run out); the requests that got them."""
    answers: list[httpx.Response] = []
    requests: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return answers.pop(0) if answers else GONE

    def connect(base_url, token, timeout):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        transport = httpx.MockTransport(answer)
        return httpx.Client(
            base_url=base_url + "/api/v1", headers=headers, transport=transport, timeout=TIMEOUT
        )

    monkeypatch.setattr(following, "connect", connect)
    return answers, requests


def followed(backoff: Backoff | None = None) -> Follower:
    return Follower(
        "http://service",
        Target(f"id:{ID}", ID),
        token="t",
        cache=None,
        wait=30,
        stale_if_error=300,
        backoff=backoff or Backoff(base=0.001, cap=0.001),
    )


def run_to_the_end(follower: Follower) -> None:
    follower.start()
    follower.join(TIMEOUT)
    assert not follower._thread.is_alive(), "the follow did not end"


def test_a_first_200_sets_config_etag_and_revision_then_it_asks_with_the_etag(script):
    answers, requests = script
    answers.append(version({"a": 1}, '"e1"', "3"))
    follower = followed()
    changes = []
    follower.on_change(changes.append)
    run_to_the_end(follower)
    assert (follower.config, follower.etag, follower.revision) == ({"a": 1}, '"e1"', 3)
    assert changes == [{"a": 1}] and follower.staleness is not None
    first, second = requests
    assert "If-None-Match" not in first.headers and first.headers["Authorization"] == "Bearer t"
    assert second.headers["If-None-Match"] == '"e1"' and second.headers["Prefer"] == "wait=30"
    assert second.headers["Cache-Control"] == "stale-if-error=300"


def test_a_304_the_service_did_not_hold_backs_off_a_held_one_does_not(script):
    answers, requests = script
    answers += [version({"a": 1}, '"e1"', "1"), not_modified("wait=0"), not_modified(None)]
    backoff = Backoff(base=0.001, cap=0.001)
    run_to_the_end(followed(backoff))
    assert backoff.failures == 2  # wait=0, and a 304 without Preference-Applied
    answers += [version({"a": 1}, '"e1"', "1"), not_modified("wait=0"), not_modified("wait=30")]
    backoff = Backoff(base=0.001, cap=0.001)
    follower = followed(backoff)
    run_to_the_end(follower)
    assert backoff.failures == 0 and follower.problem is None
    assert follower.config == {"a": 1}  # a 304 keeps the version held


def test_a_404_ends_the_follow_with_the_error(script):
    _, requests = script
    follower = followed()
    ended = []
    follower.on_error(ended.append)
    follower.start()
    with pytest.raises(FatalError, match="404 no such configuration") as raised:
        follower.wait(TIMEOUT)
    follower.join(TIMEOUT)
    assert raised.value.status == 404 and ended == [raised.value] and follower.error is raised.value
    assert follower.config is None and len(requests) == 1


def test_a_transient_error_is_retried_and_the_problem_cleared_once_past(script):
    answers, requests = script
    answers += [httpx.Response(503, json={"detail": "busy"}), version({"a": 2}, '"e2"', "2")]
    follower = followed()
    follower.start()
    assert follower.wait(TIMEOUT) == {"a": 2}
    follower.join(TIMEOUT)
    assert follower.problem is None and len(requests) == 3


def test_wait_without_a_version_times_out_saying_why():
    follower = followed()  # never started: nothing can arrive
    follower.problem = "cannot reach the service"
    with pytest.raises(TimeoutError, match="cannot reach the service"):
        follower.wait(0.01)
