"""Watches end to end: GETs held in threads, the server's request log, changes made in SQL,
and a proxy that can refuse new connections while it keeps forwarding the open ones."""

import json
import time
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_for
from dataclasses import dataclass

import httpx

from test.postgres import execute, value
from test.proxy import TcpProxy
from test.waiting import until

# Bounds every HTTP exchange of a test, held ones included: no test can hang on a request.
HTTP_TIMEOUT = 30.0


@dataclass(frozen=True)
class Answer:
    """A response and when it came, measured in the thread that sent the request."""

    response: httpx.Response
    sent: float  # time.monotonic()
    answered: float
    request_id: str

    @property
    def status(self) -> int:
        return self.response.status_code

    @property
    def headers(self) -> httpx.Headers:
        return self.response.headers

    @property
    def seconds(self) -> float:
        return self.answered - self.sent


def get(
    base_url: str,
    path: str,
    *,
    etag: str | None = None,
    prefer: str | bytes | None = None,
    token: str | None = None,
    timeout: float = HTTP_TIMEOUT,
) -> Answer:
    """GET `path`, with If-None-Match, Prefer and a bearer token when given."""
    request_id = f"watch-{uuid.uuid4().hex}"
    headers: dict[str, str | bytes] = {"X-Request-ID": request_id}
    if etag is not None:
        headers["If-None-Match"] = etag
    if prefer is not None:
        headers["Prefer"] = prefer
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    with httpx.Client(base_url=base_url, timeout=timeout) as http:
        sent = time.monotonic()
        response = http.get(path, headers=headers)
        return Answer(response, sent, time.monotonic(), request_id)


def watch(
    threads: ThreadPoolExecutor, base_url: str, path: str, etag: str, wait: int, **options
) -> Future[Answer]:
    """Send `If-None-Match: etag` with `Prefer: wait=N` from a thread of its own."""
    return threads.submit(get, base_url, path, etag=etag, prefer=f"wait={wait}", **options)


def assert_held(*watches: Future[Answer], seconds: float = 0.5) -> None:
    """Each request is still unanswered after `seconds`: the server holds it. (A GET that is
    not held is answered in milliseconds; this is also what lets a test change things only
    once the server is known to hold the request.)"""
    done, _ = wait_for(watches, timeout=seconds)
    answered = [(future.result().status, dict(future.result().headers)) for future in done]
    assert not done, f"answered instead of held: {answered}"


def answer(watch: Future[Answer], within: float) -> Answer:
    """The held request's answer; fails if none comes within `within` seconds."""
    return watch.result(timeout=within)


# --- the server's request log ------------------------------------------------------------


def log_lines(output: str) -> list[dict]:
    """The JSON lines of a server's log (LOG_FORMAT=json); anything else is skipped."""
    lines = []
    for text in output.splitlines():
        try:
            line = json.loads(text)
        except ValueError:
            continue
        if isinstance(line, dict):
            lines.append(line)
    return lines


def request_lines(output: str, request_id: str) -> list[dict]:
    return [
        line
        for line in log_lines(output)
        if line.get("message") == "request" and line.get("request_id") == request_id
    ]


def logged_request(server, request_id: str) -> dict:
    """The one request-log line of `request_id` (written just after the response is sent)."""
    lines = until(
        lambda: request_lines(server.read_output(), request_id),
        message=f"no request log line for {request_id}",
    )
    assert len(lines) == 1, lines
    return lines[0]


def logged(server, message: str) -> bool:
    lines = log_lines(server.read_output())
    return any(line.get("message", "").startswith(message) for line in lines)


# --- PostgreSQL, directly ---------------------------------------------------------------


def set_config(dsn: str, configuration_id: str, config: str, *, silently: bool = False) -> None:
    """UPDATE a configuration's config (JSON text) by hand, as psql would."""
    rows = execute(
        dsn,
        "UPDATE configurations SET config = %s::jsonb WHERE id = %s",
        (config, configuration_id),
        silently=silently,
    )
    assert rows == 1


def sessions_waiting_on_a_lock(dsn: str, application_name: str) -> int:
    return value(
        dsn,
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
        " AND application_name = %s AND wait_event_type = 'Lock'",
        (application_name,),
    )


class GatedProxy(TcpProxy):
    """TcpProxy that can also refuse new connections while the open ones keep working."""

    def refuse_new(self) -> None:
        """Stop accepting (a reconnecting client is refused); open connections still forward."""

        async def stop_accepting() -> None:
            if self._server is not None:
                self._server.close()  # closes the listening socket only
                self._server = None

        self._call(stop_accepting())
