import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time

import httpx
import pytest

from config_service.process import SERVER_LOGGER, server
from config_service.process.serving import listening_socket
from config_service.settings import SVC_DIR, get_settings
from conftest import make_settings
from test.live_server import ServerProcess
from test.waiting import until


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


def test_main_names_an_invalid_setting(monkeypatch, capsys):
    monkeypatch.setenv("PORT", "eighty")
    get_settings.cache_clear()
    try:
        assert server.main() == 2
    finally:
        get_settings.cache_clear()
    assert "invalid setting PORT" in capsys.readouterr().err


@pytest.mark.parametrize(("reachable", "workers_migrate"), [(True, False), (False, True)])
def test_workers_migrate_only_when_preflight_could_not(
    database_url, monkeypatch, reachable, workers_migrate
):
    dsn = database_url if reachable else "postgresql://postgres@127.0.0.1:9/none"
    served = []
    monkeypatch.setattr(server, "get_settings", lambda: make_settings(dsn, workers=1))
    monkeypatch.setattr(server, "configure_logging", lambda settings: None)
    monkeypatch.setattr(server, "raise_open_files_limit", lambda settings: None)
    monkeypatch.setattr(server, "serve", lambda settings, *, migrate: served.append(migrate))

    assert server.main() == 0
    assert served == [workers_migrate]


def test_sigterm_finishes_in_flight_requests_then_exits_cleanly(proxy, database_url):
    with ServerProcess(proxy.dsn(database_url), WORKERS="1") as server:
        proxy.stall()  # the next request waits on the database: it is in flight
        in_flight = {}
        request = threading.Thread(
            target=lambda: in_flight.update(
                response=httpx.get(f"{server.url}/api/v1/applications", timeout=30)
            )
        )
        request.start()
        time.sleep(0.5)
        server.process.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        proxy.restore()
        request.join(timeout=30)
        exit_code = server.stop()

    assert in_flight["response"].status_code == 200
    assert exit_code == 0
    assert "database connections closed" in server.output


def test_ctrl_c_ends_a_worker_with_status_0_not_a_keyboardinterrupt(database_url):
    # Ctrl-C reaches every process of the terminal's job; uvicorn re-raises the SIGINT once it
    # has shut down, which used to end each worker in a KeyboardInterrupt traceback (status 1).
    with ServerProcess(database_url, WORKERS="2") as server:
        os.kill(min(server.worker_pids()), signal.SIGINT)
        until(lambda: "exited with code" in server.read_output(), 20, "the worker's exit")
        output = server.read_output()
    assert "exited with code 0" in output
    assert "Traceback" not in output and "KeyboardInterrupt" not in output


def test_several_workers_serve_restart_when_killed_and_stop_together(database_url):
    with ServerProcess(database_url, WORKERS="2") as server:
        first_workers = server.worker_pids()
        assert len(first_workers) == 2
        os.kill(min(first_workers), signal.SIGKILL)
        until(lambda: server.workers_started() == 3, seconds=60)  # its replacement serves
        statuses = {httpx.get(f"{server.url}/health/live").status_code for _ in range(20)}
        exit_code = server.stop()
    assert statuses == {200}
    assert (
        "exited with code -9 after" in server.output and "restarting it in 0.2 s" in server.output
    )
    assert exit_code == 0


def test_a_second_instance_on_the_same_port_is_refused_before_saying_it_serves(database_url):
    with ServerProcess(database_url, WORKERS="2") as server:
        for workers in ("2", "1"):
            second = subprocess.run(
                [sys.executable, "-m", "config_service.process.server"],
                cwd=SVC_DIR,
                env={**server.environment, "WORKERS": workers, "LOG_FORMAT": "text"},
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert second.returncode == 1
            assert (
                f"cannot listen on 127.0.0.1:{server.port}: Address already in use" in second.stderr
            )
            assert "serving on" not in second.stderr


def test_the_server_logs_under_its_module_name(database_url):
    with ServerProcess(database_url, WORKERS="1") as server:
        pass
    loggers = {json.loads(line)["logger"] for line in server.output.splitlines() if line[:1] == "{"}
    assert SERVER_LOGGER in loggers
    assert "__main__" not in loggers
