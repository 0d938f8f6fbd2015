"""The faults phase: the service behind a TCP proxy that stalls, as a frozen PostgreSQL would.

While the proxy accepts bytes and forwards nothing, REQUESTS requests that need PostgreSQL
(GET with no-cache, POST, PUT, /health/ready), CONCURRENT at a time, must each be answered
503 within DB_STATEMENT_TIMEOUT + 1 s; then, from the end of the stall, how long until a
write and a fresh read succeed again. The shared PostgreSQL server is never stopped or frozen
itself (other clients use it): only this service's road to it is.
"""

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench import servers
from test.proxy import TcpProxy

REQUESTS = 200
CONCURRENT = 16
STATEMENT_TIMEOUT = 2  # seconds: short, so 200 requests take ~30 s, not ~70 s
RECOVERY_LIMIT = 30.0  # seconds the bench waits for recovery before calling it failed


@dataclass(frozen=True)
class Frozen:
    """What the service answered while PostgreSQL was stalled, and how it came back."""

    statement_timeout: float
    seconds: tuple[float, ...]  # each request's time to its answer
    statuses: dict[int, int]  # status -> how many
    from_memory: int  # status of a GET that memory may answer, during the stall
    recovery_seconds: float | None  # from the stall's end to a write and a read succeeding

    @property
    def slowest(self) -> float:
        return max(self.seconds)


def frozen_round(dsn: str, log_dir: Path, configuration: dict) -> Frozen:
    """One stall of the road to PostgreSQL, under load, and the recovery after it."""
    with TcpProxy.in_front_of(dsn) as proxy:
        with servers.service(
            "service-frozen",
            proxy.dsn(dsn),
            log_dir,
            db_statement_timeout=STATEMENT_TIMEOUT,
            db_connect_timeout=1,
        ) as service:
            http = httpx.Client(base_url=service.url, timeout=STATEMENT_TIMEOUT + 30)
            with http:
                return stall_and_thaw(http, proxy, configuration, STATEMENT_TIMEOUT)


def stall_and_thaw(
    http: httpx.Client,
    proxy: TcpProxy,
    configuration: dict,
    statement_timeout: float,
    requests: int = REQUESTS,
) -> Frozen:
    """Stall `proxy` under `requests` requests to the service `http` talks to, then thaw."""
    path = f"/api/v1/configurations/{configuration['id']}"
    for _ in range(3):  # in memory by now (a read racing a notification of its key is not kept)
        http.get(path)
        time.sleep(0.1)
    calls = _calls(http, path, configuration)
    proxy.stall()
    from_memory = http.get(path).status_code
    with ThreadPoolExecutor(CONCURRENT) as threads:
        answered = list(threads.map(_timed, [calls[n % len(calls)] for n in range(requests)]))
    proxy.restore()
    thawed = time.monotonic()
    recovery = None
    while time.monotonic() - thawed < RECOVERY_LIMIT:
        if calls[1]().status_code == 201 and calls[0]().status_code == 200:
            recovery = time.monotonic() - thawed
            break
        time.sleep(0.02)
    statuses: dict[int, int] = {}
    for status, _ in answered:
        statuses[status] = statuses.get(status, 0) + 1
    return Frozen(
        statement_timeout,
        tuple(seconds for _, seconds in answered),
        statuses,
        from_memory,
        recovery,
    )


def _calls(
    http: httpx.Client, path: str, configuration: dict
) -> list[Callable[[], httpx.Response]]:
    names = iter(range(1_000_000))
    body = {"name": configuration["name"], "config": configuration["config"]}
    return [
        lambda: http.get(path, headers={"cache-control": "no-cache"}),
        lambda: http.post(
            "/api/v1/applications", json={"name": f"frozen-{time.time_ns()}-{next(names)}"}
        ),
        lambda: http.put(path, json=body),
        lambda: http.get("/health/ready"),
    ]


def _timed(call: Callable[[], httpx.Response]) -> tuple[int, float]:
    started = time.monotonic()
    try:
        status = call().status_code
    except httpx.TransportError:
        status = 0  # no answer at all
    return status, time.monotonic() - started
