"""`python -m bench.fleet`: the fleet's numbers, for the README's production section.

- pool: pooled connections in use per worker (the db_pool_connections_in_use gauge, sampled)
  under a PUT-heavy and a miss-heavy (READ_CACHE_BYTES=0) load on one instance, WORKERS=2;
- propagation: 3 instances x 2 workers through PgBouncer, a PUT through one instance timed
  at the held watches of the other two (p50/p99 over the rounds);
- notifications: changes per second committed in PostgreSQL that reach each of 6 listeners
  (separate processes, LISTEN as the workers do) with p99 <= 100 ms, at rising rates.
"""

import argparse
import multiprocessing
import select
import threading
import time
import uuid
from dataclasses import dataclass

import httpx
import psycopg2

from config_service.read_model.listener import CHANNEL
from config_service.store.migrations import apply_migrations
from test import postgres
from test.fleet import Fleet, percentile, watch_rounds
from test.live_server import ServerProcess
from test.prometheus import read_samples

IN_USE = "config_service_db_pool_connections_in_use"
NOTIFICATION_TARGET = 0.100  # seconds, p99, at every listener
LISTENERS = 6
WRITERS = 8  # connections committing changes side by side
END = "bench:end"


@dataclass(frozen=True)
class Occupancy:
    load: str
    requests_per_second: float
    mean_in_use: float  # per worker
    p99_in_use: float
    most_in_use: float


def pool_occupancy(
    database_url: str, load: str, *, clients: int = 16, seconds: float = 5.0, pool: int = 8
) -> Occupancy:
    """Drive one instance (WORKERS=2, DB_POOL_SIZE=`pool`) and sample its pools' use."""
    environment = {"WORKERS": "2", "DB_POOL_SIZE": str(pool)}  # info: readiness reads the log
    if load == "miss":
        environment["READ_CACHE_BYTES"] = "0"
    with ServerProcess(database_url, **environment) as server:
        http = httpx.Client(base_url=server.url, timeout=10)
        name = f"bench-{time.monotonic_ns()}"
        application = http.post("/api/v1/applications", json={"name": name}).json()
        ids = [
            http.post(
                "/api/v1/configurations",
                json={"application_id": application["id"], "name": f"c{n}", "config": {}},
            ).json()["id"]
            for n in range(clients)
        ]
        stop = threading.Event()
        done = [0] * clients

        def drive(number: int) -> None:
            path = f"/api/v1/configurations/{ids[number]}"
            with httpx.Client(base_url=server.url, timeout=10) as client:
                while not stop.is_set():
                    if load == "put":
                        client.put(path, json={"name": f"c{number}", "config": {"n": done[number]}})
                    else:
                        client.get(path)
                    done[number] += 1

        threads = [threading.Thread(target=drive, args=(n,)) for n in range(clients)]
        for thread in threads:
            thread.start()
        samples = []
        started = time.monotonic()
        while time.monotonic() - started < seconds:
            samples.append(_scrape(http, IN_USE) / 2)  # the gauge sums both workers
            time.sleep(0.02)
        stop.set()
        for thread in threads:
            thread.join(timeout=15)
        elapsed = time.monotonic() - started
        http.close()
    return Occupancy(
        load,
        sum(done) / elapsed,
        sum(samples) / len(samples),
        percentile(samples, 0.99),
        max(samples),
    )


def _scrape(http: httpx.Client, name: str) -> float:
    samples = read_samples(http.get("/metrics").content)
    return sum(value for (sample, _), value in samples.items() if sample == name)


def propagation(database_url: str, rounds: int = 100) -> tuple[float, float]:
    """p50 and p99 seconds from a PUT to the other instances' held watches answering."""
    with Fleet(database_url) as fleet:
        results = watch_rounds(fleet, rounds)
    seconds = [value for result in results for value in result.seconds]
    return percentile(seconds, 0.5), percentile(seconds, 0.99)


@dataclass(frozen=True)
class NotificationStep:
    asked: int  # changes per second
    committed: float  # changes per second achieved
    p50: float  # seconds, COMMIT sent -> received, over every listener
    p99: float
    complete: bool  # every change reached every listener


def _listen(dsn: str, ready, results) -> None:
    """One listener process: when each configuration's change came, until the end marker."""
    connection = psycopg2.connect(dsn)
    connection.autocommit = True
    connection.cursor().execute(f"LISTEN {CHANNEL}")
    ready.release()
    seen: dict[str, float] = {}
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if not select.select([connection], [], [], 1.0)[0]:
            continue
        connection.poll()
        now = time.monotonic()  # CLOCK_MONOTONIC: the same clock in every process
        payloads = [notification.payload for notification in connection.notifies]
        connection.notifies.clear()
        for payload in payloads:
            if payload.startswith("configuration:"):
                seen.setdefault(payload, now)
        if END in payloads:
            break
    connection.close()
    results.put(seen)


def notification_step(
    database_url: str, rate: int, seconds: float = 2.0, writers: int = WRITERS
) -> NotificationStep:
    """Commit `rate` changes per second for `seconds` (one configuration each, over `writers`
    connections, as instances of a fleet would) and time them at every listener."""
    ids = _fresh_configurations(database_url, int(rate * seconds))
    context = multiprocessing.get_context("spawn")  # fork in a threaded process can deadlock
    ready, results = context.Semaphore(0), context.Queue()
    listeners = [
        context.Process(target=_listen, args=(database_url, ready, results))
        for _ in range(LISTENERS)
    ]
    for listener in listeners:
        listener.start()
    for _ in listeners:
        ready.acquire(timeout=30)
    started = time.monotonic()
    committed: dict[str, float] = {}
    threads = [
        threading.Thread(
            target=_commit_paced,
            args=(database_url, ids[n::writers], rate / writers, started + seconds, committed),
        )
        for n in range(writers)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 30)
    elapsed = time.monotonic() - started
    _notify(database_url, END)  # committed after every change: delivered after them all
    received = [results.get(timeout=60) for _ in listeners]
    for listener in listeners:
        listener.join(timeout=10)
    latencies = [
        seen[key] - when for seen in received for key, when in committed.items() if key in seen
    ]
    return NotificationStep(
        rate,
        len(committed) / elapsed,
        percentile(latencies, 0.5) if latencies else float("inf"),
        percentile(latencies, 0.99) if latencies else float("inf"),
        all(seen.keys() == committed.keys() for seen in received),
    )


def _notify(database_url: str, payload: str) -> None:
    connection = psycopg2.connect(database_url)
    with connection, connection.cursor() as cursor:
        cursor.execute("SELECT pg_notify(%s, %s)", (CHANNEL, payload))
    connection.close()


def _fresh_configurations(database_url: str, count: int) -> list[str]:
    """`count` new configurations of a new application (ids made in SQL; nobody serves them)."""
    token = uuid.uuid4().hex
    connection = psycopg2.connect(database_url)
    with connection, connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO applications (id, name) VALUES (left(%(token)s, 26), %(token)s)",
            {"token": token},
        )
        cursor.execute(
            "INSERT INTO configurations (id, application_id, name)"
            " SELECT left(md5(%(token)s || n), 26), left(%(token)s, 26), 'c' || n"
            " FROM generate_series(1, %(count)s) AS n RETURNING id",
            {"token": token, "count": count},
        )
        ids = [row[0] for row in cursor.fetchall()]
    connection.close()
    return ids


def _commit_paced(
    database_url: str, ids: list[str], rate: float, deadline: float, committed: dict
) -> None:
    """One UPDATE per transaction, paced to `rate` per second until `deadline`; records
    key -> when its COMMIT was sent."""
    connection = psycopg2.connect(database_url)
    started = time.monotonic()
    with connection.cursor() as cursor:
        for number, configuration_id in enumerate(ids):
            now = time.monotonic()
            if now >= deadline:
                break
            if (pause := started + number / rate - now) > 0:
                time.sleep(pause)
            cursor.execute(
                "UPDATE configurations SET comments = 'n' WHERE id = %s", (configuration_id,)
            )
            committed[f"configuration:{configuration_id}"] = time.monotonic()
            connection.commit()
    connection.close()


def notification_throughput(database_url: str, rates: list[int], seconds: float = 2.0):
    """Steps at rising rates; stops after the first that misses the p99 target."""
    steps = []
    for rate in rates:
        step = notification_step(database_url, rate, seconds)
        steps.append(step)
        if not step.complete or step.p99 > NOTIFICATION_TARGET:
            break
    return steps


def main(argv: list[str] | None = None) -> int:  # pragma: no cover - the bench itself
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=5.0)
    arguments = parser.parse_args(argv)
    database_url = postgres.create_database("config_service_bench")
    try:
        apply_migrations(database_url)
        for load in ("put", "miss"):
            occupancy = pool_occupancy(database_url, load, seconds=arguments.seconds)
            print(
                f"pool, {load}-heavy, 16 clients: {occupancy.requests_per_second:.0f} req/s;"
                f" in use per worker: mean {occupancy.mean_in_use:.2f},"
                f" p99 {occupancy.p99_in_use:.1f}, max {occupancy.most_in_use:.1f} of 8"
            )
        fleet_database = postgres.create_database("config_service_bench")
        try:
            p50, p99 = propagation(fleet_database, arguments.rounds)
        finally:
            postgres.drop_database(fleet_database)
        print(
            f"propagation across instances ({arguments.rounds} rounds x 4 watches):"
            f" p50 {p50 * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms (target 50 ms)"
        )
        for step in notification_throughput(database_url, [250, 500, 1000, 2000, 4000]):
            print(
                f"notifications: asked {step.asked}/s, committed {step.committed:.0f}/s,"
                f" p99 {step.p99 * 1000:.1f} ms at {LISTENERS} listeners,"
                f" {'complete' if step.complete else 'INCOMPLETE'}"
            )
    finally:
        postgres.drop_database(database_url)
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
