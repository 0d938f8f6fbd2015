import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from conftest import make_settings
from config_service import server
from config_service.server import connection_budget_problem, listening_socket, prepare
from config_service.settings import SVC_DIR, get_settings
from test import postgres
from test.proxy import TcpProxy



def test_accepted_connections_inherit_tcp_nodelay():
    listener = listening_socket("127.0.0.1", 0)
    client = socket.create_connection(listener.getsockname())
    accepted, _ = listener.accept()
    try:
        assert listener.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
        assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
    finally:
        for sock in (accepted, client, listener):
            sock.close()


def test_the_connection_budget_is_checked_against_postgres(database_url):
    assert connection_budget_problem(make_settings(database_url, workers=1)) is None
    problem = connection_budget_problem(make_settings(database_url, workers=64, db_pool_size=200))
    assert "WORKERS x (DB_POOL_SIZE + 1) = 64 x 201 = 12864" in problem


def test_prepare_creates_and_migrates_the_database(database_url, caplog):
    caplog.set_level("INFO", logger="config_service.server")
    name = f"config_service_test_prepare_{os.getpid()}"
    dsn = urlsplit(database_url)._replace(path=f"/{name}").geturl()
    try:
        assert prepare(make_settings(dsn, workers=1)) is None
        assert prepare(make_settings(dsn, workers=1)) is None
    finally:
        postgres.drop_database(dsn)
    said = [record.getMessage() for record in caplog.records]
    assert said.count("created the database DATABASE_URL names") == 1
    assert said.count("applied migration 0001_create_applications") == 1


def test_prepare_explains_an_unreachable_database():
    reason = prepare(make_settings("postgresql://postgres@127.0.0.1:9/none", workers=1))
    assert reason.startswith("cannot reach PostgreSQL at DATABASE_URL")


def test_main_names_an_invalid_setting(monkeypatch, capsys):
    monkeypatch.setenv("PORT", "eighty")
    get_settings.cache_clear()
    try:
        assert server.main() == 2
    finally:
        get_settings.cache_clear()
    assert "invalid setting PORT" in capsys.readouterr().err


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(database_url: str, **environment: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "PORT": str(port),
        "DB_POOL_SIZE": "2",
        "LOG_FORMAT": "json",
        "LOG_LEVEL": "info",
        **environment,
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "config_service.server"],
        cwd=SVC_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(f"{base_url}/health/ready", timeout=1).status_code == 200:
                return process, base_url
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    pytest.fail(f"the server did not become ready:\n{process.communicate()[0]}")


def test_sigterm_finishes_in_flight_requests_then_exits_cleanly(database_url):
    target = urlsplit(database_url)
    with TcpProxy(target.hostname, target.port or 5432) as proxy:
        through_proxy = target._replace(netloc=f"postgres:postgres@{proxy.url_netloc}").geturl()
        process, base_url = start_server(through_proxy, WORKERS="1")
        proxy.stall()  # the next request waits on the database: it is in flight
        in_flight = {}
        request = threading.Thread(
            target=lambda: in_flight.update(
                response=httpx.get(f"{base_url}/api/v1/applications", timeout=30)
            )
        )
        request.start()
        time.sleep(0.5)
        process.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        proxy.restore()
        request.join(timeout=30)
        output = process.communicate(timeout=30)[0]

    assert in_flight["response"].status_code == 200
    assert process.returncode == 0
    assert "database connections closed" in output


def worker_pids(supervisor: subprocess.Popen) -> set[int]:
    children = Path(f"/proc/{supervisor.pid}/task/{supervisor.pid}/children").read_text().split()
    workers = set()
    for pid in map(int, children):
        if "spawn_main" in Path(f"/proc/{pid}/cmdline").read_text():
            workers.add(pid)
    return workers


def test_several_workers_serve_restart_when_killed_and_stop_together(database_url):
    process, base_url = start_server(database_url, WORKERS="2")
    try:
        first_workers = worker_pids(process)
        assert len(first_workers) == 2
        os.kill(min(first_workers), signal.SIGKILL)
        deadline = time.monotonic() + 30
        while len(worker_pids(process) - {min(first_workers)}) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        statuses = {httpx.get(f"{base_url}/health/live").status_code for _ in range(20)}
    finally:
        process.send_signal(signal.SIGTERM)
        output = process.communicate(timeout=30)[0]
    assert statuses == {200}
    assert "exited with code -9; restarting it" in output
    assert process.returncode == 0


def test_a_second_instance_on_the_same_port_is_refused(database_url):
    process, base_url = start_server(database_url, WORKERS="2")
    port = base_url.rsplit(":", 1)[1]
    try:
        for workers in ("2", "1"):
            second = subprocess.run(
                [sys.executable, "-m", "config_service.server"],
                cwd=SVC_DIR,
                env={**os.environ, "DATABASE_URL": database_url, "PORT": port, "WORKERS": workers},
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert second.returncode == 1
            assert f"cannot listen on 127.0.0.1:{port}: Address already in use" in second.stderr
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=30)
