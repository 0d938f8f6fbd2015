"""The follow loop, one scripted answer per request, on a stand-in service (every wait bounded)."""

import http.server
import logging
import threading

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
    """Answers in order (a 404 once they run out), each a Response or a function of the
    request; the requests that got them."""
    answers: list = []
    requests: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        next_answer = answers.pop(0) if answers else GONE
        return next_answer(request) if callable(next_answer) else next_answer

    def connect(base_url, token, timeout):
        # The real connect's client (its base URL and headers: the token's), on a stand-in.
        with real_connect(base_url, token, timeout) as real:
            headers, base = real.headers, real.base_url
        transport = httpx.MockTransport(answer)
        return httpx.Client(base_url=base, headers=headers, transport=transport, timeout=TIMEOUT)

    real_connect = following.connect
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


def warnings_of(caplog, text: str) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.levelno == logging.WARNING and text in r.getMessage()
    ]


def test_a_200_of_the_etag_sent_is_unchanged_backed_off_and_said_once_per_fix(script, caplog):
    answers, requests = script
    same = version({"a": 1}, '"e1"', "1")  # what a proxy that dropped If-None-Match answers
    answers += [version({"a": 1}, '"e1"', "1"), same, same, same]
    caplog.set_level(logging.DEBUG, logger="config_service_client")
    backoff = Backoff(base=0.001, cap=0.001)
    follower = followed(backoff)
    changes = []
    follower.on_change(changes.append)
    follower.start()
    follower.join(TIMEOUT)
    assert changes == [{"a": 1}] and follower.etag == '"e1"'
    assert backoff.failures == 3, "each such 200 waits like an error, or it would storm"
    (said,) = warnings_of(caplog, "dropped the condition")
    assert "proxy_set_header If-None-Match $http_if_none_match" in said
    assert all(r.headers["If-None-Match"] == '"e1"' for r in requests[1:])

    # A held 304 shows the path works again: a later loss is said again.
    answers += [version({"a": 1}, '"e1"', "1"), same, not_modified("wait=30"), same]
    caplog.clear()
    run_to_the_end(followed())
    assert len(warnings_of(caplog, "dropped the condition")) == 2


@pytest.fixture
def fake_clock(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(following, "clock", lambda: now[0])
    return now


def test_staleness_is_zero_while_a_request_is_held_and_rises_past_its_wait(script, fake_clock):
    answers, _ = script
    holding, release = threading.Event(), threading.Event()

    def held_then_cut(request: httpx.Request) -> httpx.Response:
        request.extensions["trace"]("http11.receive_response_headers.started", {})
        holding.set()
        assert release.wait(TIMEOUT)
        raise httpx.ReadError("connection reset", request=request)

    answers += [version({"a": 1}, '"e1"', "1"), held_then_cut]
    follower = followed()  # wait=30
    follower.start()
    assert holding.wait(TIMEOUT)
    fake_clock[0] += 25  # still held, 25 s after the last answer
    assert follower.staleness == 0
    fake_clock[0] += 15  # held 40 s: 10 s past the 30 s the service could hold it
    assert follower.staleness == 10
    release.set()  # the connection breaks: it confirmed the version until 30 s in
    follower.join(TIMEOUT)
    fake_clock[0] += 10
    assert follower.staleness == 20


@pytest.mark.parametrize(
    ("answer", "staleness"),
    [
        (httpx.Response(503, json={"detail": "PostgreSQL is unreachable"}), 40),
        (httpx.Response(304, headers={"Age": "12", "Preference-Applied": "wait=30"}), 32),
    ],
    ids=["503", "304 with Age"],
)
def test_a_held_request_that_is_answered_leaves_it_to_the_answer(
    script, fake_clock, answer, staleness
):
    """The hold said "current" while it lasted; the answer says how current it really was."""
    answers, _ = script
    holding, release = threading.Event(), threading.Event()

    def held_then_answered(request: httpx.Request) -> httpx.Response:
        request.extensions["trace"]("http11.receive_response_headers.started", {})
        holding.set()
        assert release.wait(TIMEOUT)
        return answer

    answers += [version({"a": 1}, '"e1"', "1"), held_then_answered]
    follower = followed()
    follower.start()
    assert holding.wait(TIMEOUT)
    fake_clock[0] += 20
    assert follower.staleness == 0
    release.set()
    follower.join(TIMEOUT)
    fake_clock[0] += 20  # 40 s after the first answer; answered 20 s after it
    assert follower.staleness == staleness


def test_a_request_that_fails_before_it_is_held_confirms_nothing(script, fake_clock):
    answers, _ = script

    def refused(request: httpx.Request) -> httpx.Response:
        fake_clock[0] += 7
        raise httpx.ConnectError("refused", request=request)

    answers += [version({"a": 1}, '"e1"', "1"), refused]
    follower = followed()
    run_to_the_end(follower)
    assert follower.staleness == 7  # the 7 s spent failing to connect confirmed nothing


def test_after_failures_the_first_good_answer_is_logged_once(script, caplog):
    answers, _ = script
    busy = httpx.Response(503, json={"detail": "busy"})
    answers += [version({"a": 1}, '"e1"', "1"), busy, busy, not_modified("wait=30")]
    answers += [not_modified("wait=30")]
    caplog.set_level(logging.INFO, logger="config_service_client")
    run_to_the_end(followed())
    (recovered,) = [r for r in caplog.records if hasattr(r, "recovered_after")]
    assert "2 failed requests" in recovered.getMessage()
    assert "503 busy" in recovered.getMessage()


def test_as_a_context_manager_it_starts_and_stops(script):
    answers, _ = script
    answers.append(version({"a": 1}, '"e1"', "1"))
    with followed() as follower:
        assert follower.wait(TIMEOUT) == {"a": 1}
    follower.join(TIMEOUT)
    assert not follower._thread.is_alive()


def eventually(condition, seconds: float = TIMEOUT) -> bool:
    deadline = threading.Event()
    for _ in range(int(seconds / 0.01)):
        if condition():
            return True
        deadline.wait(0.01)
    return condition()


def test_over_a_real_connection_the_held_request_is_seen_as_held():
    """httpx's `trace` extension says when the request was sent, in every version allowed."""
    holding, release = threading.Event(), threading.Event()

    class HoldingService(http.server.BaseHTTPRequestHandler):
        """A first GET gets a version; one with If-None-Match is held until the test
        releases it, then ends the follow with a 404."""

        def do_GET(self) -> None:
            body = b'{"id": "%s", "config": {"a": 1}}' % ID.encode()
            if self.headers.get("If-None-Match"):
                holding.set()
                release.wait(TIMEOUT)
                self.send_response(404)
                body = b""
            else:
                self.send_response(200)
                self.send_header("ETag", '"e1"')
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *arguments) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), HoldingService)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    follower = Follower(
        f"http://127.0.0.1:{server.server_address[1]}",
        Target(f"id:{ID}", ID),
        token=None,
        cache=None,
        wait=30,
        stale_if_error=300,
        backoff=Backoff(base=0.001, cap=0.001),
    )
    try:
        follower.start()
        assert holding.wait(TIMEOUT)
        assert eventually(lambda: follower._held_since is not None), "not seen as held"
        assert follower.staleness == 0
    finally:
        release.set()
        follower.join(TIMEOUT)
        server.shutdown()
        server.server_close()
    assert isinstance(follower.error, FatalError) and follower._held_since is None


def test_a_version_a_callback_refuses_is_not_held_and_is_reported_once(script):
    """The runtime never switches to a version its own code refused: it keeps the one it had,
    tells the service (`Config-Rejected`) on its next request, and waits on the refused
    version's ETag, so the service wakes it only when this client's view changes again."""
    answers, requests = script
    answers += [
        version({"a": 1}, '"e1"', "1"),
        version({"a": 2}, '"e2"', "2"),  # refused
        not_modified("wait=30"),
        version({"a": 1}, '"e1"', "1"),  # the rollout aborted: back to the version held
        version({"a": 3}, '"e3"', "3"),  # accepted
    ]
    follower = Follower(
        "http://service", Target(f"id:{ID}", ID), token="t", cache=None, wait=30,
        stale_if_error=300, backoff=Backoff(base=0.001, cap=0.001), client_id="runtime-7",
    )  # fmt: skip
    offered = []

    @follower.on_change
    def apply(config):
        offered.append(config)
        if config == {"a": 2}:
            raise ValueError("pool_size too large for this host")

    run_to_the_end(follower)
    assert offered == [{"a": 1}, {"a": 2}, {"a": 3}]
    assert (follower.config, follower.revision) == ({"a": 3}, 3)
    assert all(request.headers["Config-Client"] == "runtime-7" for request in requests)
    reports = [request.headers.get("Config-Rejected") for request in requests]
    assert reports == [None, None, "2", None, None, None]
    waited_on = [request.headers.get("If-None-Match") for request in requests]
    assert waited_on == [None, '"e1"', '"e2"', '"e2"', '"e1"', '"e3"']
