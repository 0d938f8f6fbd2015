"""The soak phase: mixed load with watches held on two workers, through four database faults.

A 2-worker service talks to PostgreSQL through a TCP proxy. Writers PUT increasing versions and
POST new applications, readers GET (from memory and with no-cache), watchers hold GETs with
`Prefer: wait`. Meanwhile, one after the other: PostgreSQL stopped (the proxy refuses), frozen
(the proxy stalls), its backends killed and its listening connections killed
(pg_terminate_backend on this service's connections only: the shared server is never touched).
Afterwards: no acknowledged write lost, no 5xx but 503, no held request past its wait plus the
bounds, and the recovery time after each fault. Run alone: `python -m bench.soak`.
"""

import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg2

from bench import servers
from test.postgres import terminate_connections
from test.proxy import TcpProxy

STATEMENT_TIMEOUT = 2
WAIT = 3  # seconds a watcher asks to be held
CALL_BOUND = STATEMENT_TIMEOUT + 1  # the promise for a request that needs PostgreSQL
# A held GET: its first read, its wait, and the read that a change at its end may need.
HELD_BOUND = WAIT + 2 * CALL_BOUND
SLACK = 1.0  # this machine is shared
CONFIGURATIONS = 4
WATCHERS = 16  # each with its own connection: the kernel spreads them over both workers
STEADY_SECONDS = 2.0
FAULT_SECONDS = 3.0
RECOVERY_LIMIT = 30.0


@dataclass
class Answer:
    kind: str  # "read", "write", "post", "held"
    status: int  # 0: no answer (the connection failed)
    seconds: float


@dataclass
class Soak:
    answers: list[Answer] = field(default_factory=list)
    recovery: dict[str, float | None] = field(default_factory=dict)  # fault -> seconds
    lost_writes: list[str] = field(default_factory=list)

    @property
    def bad_statuses(self) -> int:
        """Answers that are neither a success nor 503 (a 5xx, or no answer at all)."""
        return sum(
            1 for a in self.answers if a.status == 0 or (a.status >= 500 and a.status != 503)
        )

    @property
    def overdue(self) -> int:
        """Answers past their bound (held GETs: their wait plus the bounds)."""
        return sum(1 for a in self.answers if a.seconds > bound_of(a.kind) + SLACK)

    def count(self, kind: str, status: int | None = None) -> int:
        return sum(1 for a in self.answers if a.kind == kind and status in (None, a.status))


def bound_of(kind: str) -> float:
    return HELD_BOUND if kind == "held" else CALL_BOUND


class _Load:
    """The threads that load the service until `stop` is set, each recording its answers."""

    def __init__(self, url: str, configurations: list[dict], soak: Soak):
        self.url = url
        self.configurations = configurations
        self.soak = soak
        self.stop = threading.Event()
        self.acknowledged: dict[str, int] = {}  # configuration id -> highest version answered 200
        self.attempted: dict[str, int] = {}  # configuration id -> highest version sent
        self.posted: list[str] = []  # names answered 201
        self._lock = threading.Lock()
        self._threads = [
            *(threading.Thread(target=self._write, args=(c,)) for c in configurations),
            threading.Thread(target=self._post),
            threading.Thread(target=self._read, args=(False,)),
            threading.Thread(target=self._read, args=(True,)),
            *(
                threading.Thread(
                    target=self._watch, args=(configurations[n % len(configurations)],)
                )
                for n in range(WATCHERS)
            ),
        ]

    def __enter__(self) -> "_Load":
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop.set()
        for thread in self._threads:
            thread.join(timeout=HELD_BOUND + 30)

    def _call(self, http: httpx.Client, kind: str, request: Callable[[], httpx.Response]):
        started = time.monotonic()
        try:
            response = request()
        except httpx.TransportError:
            response = None
        answer = Answer(kind, response.status_code if response else 0, time.monotonic() - started)
        with self._lock:
            self.soak.answers.append(answer)
        if response is not None and response.status_code == 503:
            self.stop.wait(0.1)  # as a client honouring Retry-After would, only sooner
        return response

    def _client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=HELD_BOUND + 10)

    def _write(self, configuration: dict) -> None:
        path = f"/api/v1/configurations/{configuration['id']}"
        version = 0
        with self._client() as http:
            while not self.stop.is_set():
                version += 1
                self.attempted[configuration["id"]] = version
                body = {"name": configuration["name"], "config": {"v": version}}
                response = self._call(http, "write", lambda: http.put(path, json=body))
                if response is not None and response.status_code == 200:
                    self.acknowledged[configuration["id"]] = version
                self.stop.wait(0.02)

    def _post(self) -> None:
        number = 0
        with self._client() as http:
            while not self.stop.is_set():
                number += 1
                name = f"soak-{time.time_ns()}-{number}"
                body = {"name": name}
                response = self._call(
                    http, "post", lambda: http.post("/api/v1/applications", json=body)
                )
                if response is not None and response.status_code == 201:
                    self.posted.append(name)
                self.stop.wait(0.05)

    def _read(self, fresh: bool) -> None:
        headers = {"cache-control": "no-cache"} if fresh else {}
        with self._client() as http:
            while not self.stop.is_set():
                for configuration in self.configurations:
                    path = f"/api/v1/configurations/{configuration['id']}"
                    self._call(http, "read", lambda: http.get(path, headers=headers))
                self.stop.wait(0.02)

    def _watch(self, configuration: dict) -> None:
        path = f"/api/v1/configurations/{configuration['id']}"
        etag = '"none"'
        with self._client() as http:
            while not self.stop.is_set():
                headers = {"if-none-match": etag, "prefer": f"wait={WAIT}"}
                response = self._call(http, "held", lambda: http.get(path, headers=headers))
                if response is not None and response.status_code == 200:
                    etag = response.headers["etag"]


def faults(proxy: TcpProxy, dsn: str) -> list[tuple[str, Callable[[], None], Callable[[], None]]]:
    """(name, start, end) of each fault, in the order the soak applies them."""

    def nothing() -> None:
        pass

    return [
        ("PostgreSQL stopped", proxy.refuse, proxy.restore),
        ("PostgreSQL frozen", proxy.stall, proxy.restore),
        ("backends killed", lambda: terminate_connections(dsn, "config-service"), nothing),
        (
            "listener killed",
            lambda: terminate_connections(dsn, "config-service-listener"),
            nothing,
        ),
    ]


def run_soak(dsn: str, log_dir: Path, configurations: list[dict]) -> Soak:
    """The whole soak on the database `dsn` names, whose `configurations` it may change."""
    soak = Soak()
    with TcpProxy.in_front_of(dsn) as proxy:
        with servers.service(
            "service-soak",
            proxy.dsn(dsn),
            log_dir,
            workers=2,
            db_statement_timeout=STATEMENT_TIMEOUT,
            db_connect_timeout=1,
            db_pool_size=4,
        ) as service:
            probe = configurations[0]
            load = _Load(service.url, configurations[1:], soak)
            with load, httpx.Client(base_url=service.url, timeout=CALL_BOUND + 10) as http:
                for name, start, end in faults(proxy, dsn):
                    time.sleep(STEADY_SECONDS)
                    start()
                    if name.startswith("PostgreSQL"):
                        time.sleep(FAULT_SECONDS)
                    end()
                    soak.recovery[name] = _recovery(http, probe)
                    print(f"  soak: {name}, recovered in {soak.recovery[name]} s", flush=True)
                time.sleep(STEADY_SECONDS)
    soak.lost_writes = lost_writes(dsn, load.acknowledged, load.attempted, load.posted)
    return soak


def _recovery(http: httpx.Client, configuration: dict) -> float | None:
    """Seconds until a PUT and a fresh GET both succeed again, or None past the limit."""
    path = f"/api/v1/configurations/{configuration['id']}"
    body = {"name": configuration["name"], "config": configuration["config"]}
    started = time.monotonic()
    while time.monotonic() - started < RECOVERY_LIMIT:
        try:
            written = http.put(path, json=body).status_code == 200
            read = written and http.get(path, headers={"cache-control": "no-cache"}).is_success
        except httpx.TransportError:
            read = False
        if read:
            return round(time.monotonic() - started, 2)
        time.sleep(0.02)
    return None


def lost_writes(
    dsn: str, acknowledged: dict[str, int], attempted: dict[str, int], posted: list[str]
) -> list[str]:
    """What was answered 200/201 but is not in PostgreSQL (or is there twice)."""
    connection = psycopg2.connect(dsn)
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT id, (config->>'v')::int FROM configurations WHERE id = ANY(%s)",
                (list(acknowledged),),
            )
            stored = dict(cursor.fetchall())
            cursor.execute(
                "SELECT name, count(*) FROM applications WHERE name = ANY(%s) GROUP BY name",
                (posted,),
            )
            created = dict(cursor.fetchall())
    finally:
        connection.close()
    lost = [
        f"configuration {id_}: v{version} acknowledged, v{stored.get(id_)} stored"
        for id_, version in acknowledged.items()
        if not (version <= (stored.get(id_) or 0) <= attempted[id_])
    ]
    lost += [
        f"application {name}: {created.get(name, 0)} rows"
        for name in posted
        if created.get(name) != 1
    ]
    return lost


def main() -> int:
    """The soak alone, on a fresh bench database."""
    from bench.data import bench_database, seed
    from config_service.settings import get_settings

    with bench_database(get_settings().dsn) as dsn, servers.service("service", dsn, Path(".")) as s:
        with httpx.Client(base_url=s.url, timeout=30) as http:
            seeded = seed(http, applications=1, configurations=CONFIGURATIONS + 1)
        soak = run_soak(dsn, Path("."), seeded.configurations)
    print(summary(soak))
    return 0 if soak.bad_statuses == soak.overdue == len(soak.lost_writes) == 0 else 1


def summary(soak: Soak) -> str:
    recovery = ", ".join(f"{name} {seconds} s" for name, seconds in soak.recovery.items())
    return (
        f"{len(soak.answers)} answers ({soak.count('held')} held, "
        f"{sum(1 for a in soak.answers if a.status == 503)} × 503); {soak.bad_statuses} other "
        f"5xx or failed; {soak.overdue} past their bound; {len(soak.lost_writes)} writes lost; "
        f"recovery: {recovery}"
    )


if __name__ == "__main__":
    sys.exit(main())
