"""Servers for tests that need real sockets: the app in a thread, or `make run`'s process."""

import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from config_service.process.serving import listening_socket
from config_service.settings import SVC_DIR


class LiveServer:
    """The app served by uvicorn on 127.0.0.1 in a thread of the test process."""

    def __init__(self, app: FastAPI):
        self._sock = listening_socket("127.0.0.1", 0)
        port = self._sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        config = uvicorn.Config(app, log_config=None, access_log=False, lifespan="on")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._sock]})

    def __enter__(self) -> "LiveServer":
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the live server did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc_info) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=30)
        self._sock.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ServerProcess:
    """`python -m config_service.process.server` (what `make run` starts) on a free port.

    Ready once /health/ready answers 200 and every worker has started (with several, the
    first one ready is not all of them); stopped with SIGTERM on exit, its output kept in
    `output`. Logs go to a file, not a pipe: a full pipe would block the server.
    """

    def __init__(self, database_url: str, **environment: str):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.environment = {
            **os.environ,
            "DATABASE_URL": database_url,
            "PORT": str(self.port),
            "DB_POOL_SIZE": "2",
            "LOG_FORMAT": "json",
            "LOG_LEVEL": "info",
            **environment,
        }
        self.output = ""
        self._log = tempfile.NamedTemporaryFile("w+", prefix="server-", suffix=".log")
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> "ServerProcess":
        self.start()
        return self.wait_until_ready()

    def start(self) -> "ServerProcess":
        """Start the process without waiting for it to be ready (stop it with `stop`)."""
        self.process = subprocess.Popen(
            [sys.executable, "-m", "config_service.process.server"],
            cwd=SVC_DIR,
            env=self.environment,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            # A process group of its own, with Ctrl-C's default action, as in a terminal (a
            # test run started in the background would otherwise hand down SIGINT ignored).
            start_new_session=True,
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )
        return self

    def wait_until_ready(self) -> "ServerProcess":
        workers = int(self.environment.get("WORKERS", "1"))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                ready = httpx.get(f"{self.url}/health/ready", timeout=1).status_code == 200
            except httpx.TransportError:
                ready = False
            if ready and self.workers_started() >= workers:
                return self
            time.sleep(0.1)
        self.process.kill()
        self.process.wait()
        pytest.fail(f"the server did not become ready:\n{self.read_output()}")

    def workers_started(self) -> int:
        """How many worker processes have started serving so far (restarted ones included)."""
        return self.read_output().count("Application startup complete")

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def stop(self, timeout: float = 30) -> int:
        """SIGTERM, then wait (bounded); returns the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.output = self.read_output()
        return self.process.returncode

    def read_output(self) -> str:
        return Path(self._log.name).read_text()

    def worker_pids(self) -> set[int]:
        """The worker processes of a supervisor (WORKERS > 1)."""
        pid = self.process.pid
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        return {
            child
            for child in map(int, children)
            if "spawn_main" in Path(f"/proc/{child}/cmdline").read_text()
        }
