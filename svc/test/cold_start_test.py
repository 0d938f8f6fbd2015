"""A start while PostgreSQL is unreachable: the service serves 503 (not ready), then migrates
and serves by itself as soon as PostgreSQL answers; two workers, each migration applied once."""

import time
import uuid

import httpx

from config_service.store.migration_files import discover
from test import postgres
from test.live_server import ServerProcess
from test.postgres import rows
from test.proxy import TcpProxy
from test.random_refs import random_name
from test.waiting import until

API = "/api/v1/applications"


def migrations_recorded(dsn: str) -> list[tuple[int | None, str]]:
    found = rows(dsn, "SELECT version, name FROM migrations ORDER BY applied_at")
    return [(row["version"], row["name"]) for row in found]


def test_started_without_postgresql_it_is_live_not_ready_then_serves_once_it_answers():
    name = f"config_service_test_cold_{uuid.uuid4().hex[:12]}"
    dsn = postgres.dsn_for(name)  # does not exist yet: the service creates it
    with TcpProxy.in_front_of(postgres.ADMIN_DSN) as proxy:
        proxy.refuse()  # its port is known, and nothing listens on it
        server = ServerProcess(proxy.dsn(dsn), WORKERS="2", DB_CONNECT_TIMEOUT="1")
        try:
            server.start()
            until(lambda: _status(server, "/health/live") == 200, 30, message="not live")
            until(lambda: server.workers_started() == 2, 30, message="workers missing")
            ready = httpx.get(f"{server.url}/health/ready", timeout=5)
            assert ready.status_code == 503
            assert "PostgreSQL has not answered" in ready.json()["detail"]
            refused = httpx.post(f"{server.url}{API}", json={"name": random_name()}, timeout=5)
            assert refused.status_code == 503
            assert int(refused.headers["retry-after"]) > 0

            proxy.restore()
            reachable_at = time.monotonic()
            first_write = _first_write(server)
            seconds = time.monotonic() - reachable_at
            assert first_write.status_code == 201, first_write.text
            print(f"first write {seconds:.2f} s after PostgreSQL became reachable")
            assert seconds < 10  # the target (≤ 2 s) is for an unloaded machine: see README
            until(lambda: _status(server, "/health/ready") == 200, 10, message="not ready")

            assert migrations_recorded(dsn) == [(m.version, m.name) for m in discover()]
            output = server.read_output()
            assert output.count("applied migration 0001_create_applications") == 1
            assert output.count("PostgreSQL cannot be reached") == 2  # once per worker
            assert output.count("the database is migrated, serving") <= 2
            assert "Traceback" not in output
        finally:
            server.stop()
            postgres.drop_database(dsn)


def _status(server: ServerProcess, path: str) -> int | None:
    try:
        return httpx.get(f"{server.url}{path}", timeout=2).status_code
    except httpx.TransportError:
        return None


def _first_write(server: ServerProcess) -> httpx.Response:
    """POST until one is not 503, for at most 10 s."""
    deadline = time.monotonic() + 10
    while True:
        response = httpx.post(f"{server.url}{API}", json={"name": random_name()}, timeout=5)
        if response.status_code != 503 or time.monotonic() > deadline:
            return response
        time.sleep(0.02)
