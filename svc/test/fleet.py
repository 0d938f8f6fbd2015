"""A fleet on one PostgreSQL: PgBouncer in transaction mode, several instances of the service.

Every instance's pooled connections (DATABASE_URL) go through the one PgBouncer, each
worker's listener (DATABASE_LISTEN_URL) straight to PostgreSQL. Used by test/fleet_test.py
and by `python -m bench.fleet`.
"""

import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass

import httpx

from config_service.settings import Settings
from test.live_server import ServerProcess
from test.pgbouncer import PgBouncer
from test.postgres import value
from test.prometheus import read_samples
from test.waiting import until
from test.workers import Worker, one_connection_per_worker, running

DEFAULT_POOL_SIZE = Settings.model_fields["db_pool_size"].default
WATCH_SECONDS = 5  # a watch not woken this long after the PUT missed it


def postgres_connections(fleet: "Fleet") -> int:
    """The backends PostgreSQL has for the fleet's database, this query's own left out."""
    return value(
        fleet.database_url,
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE datname = current_database() AND pid <> pg_backend_pid()",
    )


class Fleet:
    """PgBouncer plus `instances` servers of `workers` workers each, all started together."""

    def __init__(
        self,
        database_url: str,
        *,
        instances: int = 3,
        workers: int = 2,
        pool_size: int = DEFAULT_POOL_SIZE,
        default_pool_size: int = 4,
        **environment: str,
    ):
        self.database_url = database_url
        self.workers_per_instance = workers
        self.pool_size = pool_size
        clients = instances * workers * pool_size
        self.pgbouncer = PgBouncer(
            database_url, default_pool_size=default_pool_size, max_client_conn=clients + 8
        )
        self.servers = [
            ServerProcess(
                self.pgbouncer.dsn(database_url),
                DATABASE_LISTEN_URL=database_url,
                WORKERS=str(workers),
                DB_POOL_SIZE=str(pool_size),
                LOG_LEVEL="info",
                **environment,
            )
            for _ in range(instances)
        ]
        self._stack = ExitStack()
        self.workers: list[tuple[int, Worker]] = []  # (instance, a connection to one worker)

    def __enter__(self) -> "Fleet":
        try:
            self._stack.enter_context(self.pgbouncer)
            self._stack.enter_context(running(*self.servers))
            for number, server in enumerate(self.servers):
                found = self._stack.enter_context(one_connection_per_worker(server))
                self.workers += [(number, worker) for worker in found.values()]
        except BaseException:
            self._stack.close()
            raise
        return self

    def __exit__(self, *exc_info) -> None:
        self._stack.close()

    @property
    def budget(self) -> int:
        """The README's formula: one listener per worker, plus PgBouncer's server pool."""
        listeners = len(self.servers) * self.workers_per_instance
        return listeners + self.pgbouncer.default_pool_size

    @property
    def without_pgbouncer(self) -> int:
        """What the same fleet opens at PostgreSQL without PgBouncer, at today's defaults."""
        return len(self.servers) * self.workers_per_instance * (8 + 1)

    def metric(self, instance: int, name: str) -> float:
        """The sum of a family's samples over one instance's workers."""
        text = httpx.get(f"{self.servers[instance].url}/metrics", timeout=5).content
        return sum(value for (sample, _), value in read_samples(text).items() if sample == name)


@dataclass(frozen=True)
class Round:
    """One PUT through one instance, and when each held watch elsewhere answered."""

    writer: int  # instance
    seconds: list[float]  # per watch: PUT sent -> watch answered
    statuses: list[int]
    bodies_match: bool  # the watch answers and a plain GET after them show the new value


def create_configuration(worker: Worker) -> tuple[str, str]:
    """A new application with one configuration; its id and ETag."""
    name = f"fleet-{time.monotonic_ns()}"
    application = worker.post("/api/v1/applications", json={"name": name}).json()
    created = worker.post(
        "/api/v1/configurations",
        json={"application_id": application["id"], "name": "c", "config": {"round": -1}},
    )
    assert created.status_code == 201, created.text
    return created.json()["id"], created.headers["ETag"]


def held(fleet: Fleet, instances: set[int], count: int) -> bool:
    total = 0.0
    for instance in instances:
        total += fleet.metric(instance, "config_service_watch_held_requests")
    return total >= count


def watch_round(fleet: Fleet, pool: ThreadPoolExecutor, number: int, target: tuple[str, str]):
    """PUT through worker `number % len` and time the held watches of the other instances."""
    configuration_id, etag = target
    path = f"/api/v1/configurations/{configuration_id}"
    writer_instance, writer = fleet.workers[number % len(fleet.workers)]
    watchers = [worker for instance, worker in fleet.workers if instance != writer_instance]
    headers = {"If-None-Match": etag, "Prefer": f"wait={WATCH_SECONDS}"}
    watches = [pool.submit(_timed_get, worker, path, headers) for worker in watchers]
    others = {instance for instance, _ in fleet.workers if instance != writer_instance}
    until(lambda: held(fleet, others, len(watchers)), 5, "the watches held")
    sent = time.monotonic()
    put = writer.put(path, json={"name": "c", "config": {"round": number}})
    assert put.status_code == 200, put.text
    answers = [watch.result(timeout=WATCH_SECONDS + 5) for watch in watches]
    after = [worker.get(path).json()["config"] for worker in watchers]
    bodies = [response.json()["config"] for response, _ in answers if response.status_code == 200]
    round_ = Round(
        writer=writer_instance,
        seconds=[answered - sent for _, answered in answers],
        statuses=[response.status_code for response, _ in answers],
        bodies_match=bodies + after == [{"round": number}] * (len(bodies) + len(after)),
    )
    return round_, (configuration_id, put.headers["ETag"])


def _timed_get(worker: Worker, path: str, headers: dict) -> tuple[httpx.Response, float]:
    response = worker.get(path, headers=headers, timeout=WATCH_SECONDS + 5)
    return response, time.monotonic()


def watch_rounds(fleet: Fleet, rounds: int) -> list[Round]:
    """`rounds` PUTs, each through the next worker, each timed at the other instances' watches."""
    target = create_configuration(fleet.workers[0][1])
    results = []
    with ThreadPoolExecutor(len(fleet.workers)) as pool:
        for number in range(rounds):
            result, target = watch_round(fleet, pool, number, target)
            results.append(result)
    return results


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]
