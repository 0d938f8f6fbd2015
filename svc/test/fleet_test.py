"""Three instances x two workers on one PostgreSQL, pooled through PgBouncer in transaction
mode, listening directly: coherent, within the connection budget, through a PgBouncer restart.

Started once for the module, on an empty database, all three together (so they race to
migrate it). `make test-fleet` runs only these.
"""

import re
import threading
import time
from dataclasses import dataclass

import httpx
import psycopg2
import pytest

from config_service.store.migration_files import discover
from test import postgres
from test.fleet import Fleet, create_configuration, postgres_connections, watch_rounds
from test.waiting import until

pytestmark = pytest.mark.fleet

GAP = 1.0  # seconds PgBouncer stays down
RECOVERY = 2.0  # seconds after it is back by which every request succeeds again
REQUEST_BOUND = 3.0  # seconds any request may take, in the gap included (no hangs)


@pytest.fixture(scope="module")
def fleet():
    database_url = postgres.create_database()
    try:
        with Fleet(database_url) as running:
            yield running
    finally:
        postgres.drop_database(database_url)


def test_three_instances_starting_together_apply_each_migration_once(fleet):
    logs = "".join(server.read_output() for server in fleet.servers)
    for migration in discover():
        name = f"applied migration {migration.label}"
        assert len(re.findall(rf"{name}\b", logs)) == 1, name
    connection = psycopg2.connect(fleet.database_url)
    with connection.cursor() as cursor:
        cursor.execute("SELECT version, name FROM migrations ORDER BY applied_at")
        assert cursor.fetchall() == [(m.version, m.name) for m in discover()]
    connection.close()


def test_every_worker_of_every_instance_reads_and_writes(fleet):
    configuration_id, _ = create_configuration(fleet.workers[0][1])
    path = f"/api/v1/configurations/{configuration_id}"
    for number, (_, writer) in enumerate(fleet.workers):
        put = writer.put(path, json={"name": "c", "config": {"by": number}})
        assert put.status_code == 200, put.text
        for _, reader in fleet.workers:
            # Through the other workers' memory (their listeners were told) or PostgreSQL.
            read = until(lambda: _showing(reader, path, {"by": number}), 5, "the new value")
            assert read.headers["ETag"] == put.headers["ETag"]


def _showing(reader, path: str, config: dict) -> httpx.Response | None:
    response = reader.get(path)
    return response if response.json()["config"] == config else None


def test_a_put_through_any_instance_wakes_watches_on_every_other_instance(fleet):
    rounds = watch_rounds(fleet, rounds=100)
    assert {result.writer for result in rounds} == {0, 1, 2}
    assert all(result.statuses == [200] * 4 for result in rounds)
    assert all(result.bodies_match for result in rounds)
    # Functional bound only; the p99 target is measured by `python -m bench.fleet`.
    assert max(seconds for result in rounds for seconds in result.seconds) < 2.0


def test_postgres_sees_the_budgeted_connections(fleet):
    listeners = "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
    listeners += " AND application_name = 'config-service-listener'"
    connection = psycopg2.connect(fleet.database_url)
    with connection.cursor() as cursor:
        cursor.execute(listeners)
        assert cursor.fetchone()[0] == 6  # one per worker, direct
    connection.close()
    # PgBouncer keeps min_pool_size = default_pool_size server connections once it has used them.
    until(lambda: postgres_connections(fleet) == fleet.budget, 10, "the budgeted connections")
    assert fleet.budget * 3 <= fleet.without_pgbouncer


@dataclass(frozen=True)
class Outcome:
    started: float
    ended: float
    status: int | None  # None: no HTTP answer at all
    configuration: str | None = None  # what a PUT wrote to, and its value
    written: int | None = None


def test_a_pgbouncer_restart_under_load_answers_503_then_recovers_losing_nothing(fleet):
    reconnects_before = [
        fleet.metric(n, "config_service_listener_reconnects_total") for n in range(3)
    ]
    outcomes: list[Outcome] = []
    stop = threading.Event()
    targets = [create_configuration(worker)[0] for _, worker in fleet.workers]

    def load(server_url: str, configuration_id: str) -> None:
        path = f"/api/v1/configurations/{configuration_id}"
        with httpx.Client(base_url=server_url, timeout=REQUEST_BOUND + 2) as http:
            value = 0
            while not stop.is_set():
                value += 1
                started = time.monotonic()
                try:
                    status = http.put(path, json={"name": "c", "config": {"v": value}}).status_code
                except httpx.TransportError:
                    status = None
                outcomes.append(Outcome(started, time.monotonic(), status, configuration_id, value))
                started = time.monotonic()
                try:
                    status = http.get("/api/v1/applications?limit=5").status_code  # PostgreSQL
                except httpx.TransportError:
                    status = None
                outcomes.append(Outcome(started, time.monotonic(), status))
                time.sleep(0.01)  # a modest load: this machine has two cores

    threads = [
        threading.Thread(target=load, args=(fleet.servers[n % 3].url, target))
        for n, target in enumerate(targets)
    ]
    for thread in threads:
        thread.start()
    try:
        time.sleep(1.0)
        down = time.monotonic()
        fleet.pgbouncer.stop()
        time.sleep(GAP)
        fleet.pgbouncer.start()
        back = time.monotonic()
        time.sleep(RECOVERY + 1.0)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=REQUEST_BOUND + 5)
    assert not any(thread.is_alive() for thread in threads), "a request hung"

    assert all(o.status is not None and o.ended - o.started < REQUEST_BOUND for o in outcomes)
    assert {o.status for o in outcomes} <= {200, 503}
    unavailable = [o for o in outcomes if o.status == 503]
    assert unavailable, "PgBouncer's gap went unnoticed"
    assert all(down <= o.ended and o.started <= back + RECOVERY for o in unavailable)
    assert any(o.status == 200 for o in outcomes if o.started > back + RECOVERY)

    connection = psycopg2.connect(fleet.database_url)
    with connection.cursor() as cursor:
        for configuration_id in targets:
            acknowledged = [
                o.written
                for o in outcomes
                if o.configuration == configuration_id and o.status == 200
            ]
            cursor.execute("SELECT config FROM configurations WHERE id = %s", (configuration_id,))
            # Each thread writes 1, 2, 3...: the last acknowledged value (or a later one, whose
            # COMMIT went through though its answer was lost) is what PostgreSQL holds.
            assert cursor.fetchone()[0]["v"] >= max(acknowledged)
    connection.close()

    for number in range(3):  # the listeners, being direct, never noticed
        assert (
            fleet.metric(number, "config_service_listener_reconnects_total")
            == (reconnects_before[number])
        )
        assert fleet.metric(number, "config_service_listener_connected") == 2
