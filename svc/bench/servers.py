"""Server processes for the bench: each on a free port, awaited, measured, and always stopped."""

import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from config_service.settings import SVC_DIR

PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>

# Whatever svc/.env or the shell says, the bench's requests carry no token, and its URLs
# name 127.0.0.1.
SERVICE_ENV = {
    "API_READ_TOKENS": "",
    "API_WRITE_TOKENS": "",
    "HOST": "127.0.0.1",
    "LOG_FORMAT": "json",
}


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on now: bind port 0, read what the kernel chose, close."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def _die_with_the_bench() -> None:
    # Runs in the child before exec: if the bench is killed outright (no `finally` runs),
    # the kernel still sends the server SIGTERM, so no server outlives a bench run.
    if sys.platform == "linux":
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class Server:
    """A server process started on `port`, logging to `log_path`; a context manager stops it."""

    def __init__(self, command: list[str], env: dict[str, str], port: int, log_path: Path):
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.log_path = log_path
        self._log = open(log_path, "w")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            command,
            cwd=SVC_DIR,
            env={**os.environ, **env},
            stdout=self._log,
            stderr=subprocess.STDOUT,
            preexec_fn=_die_with_the_bench,  # noqa: PLW1509 - only the main thread starts servers
        )

    def __enter__(self) -> "Server":
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def wait_until_answering(self, path: str, timeout: float = 60) -> "Server":
        """Return once GET `path` answers 2xx; raise if the process exits or never answers."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.process.args} exited; see {self.log_path}")
            try:
                if httpx.get(self.url + path, timeout=2).is_success:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{self.process.args} did not answer {path}; see {self.log_path}")

    def resident_kb(self) -> int:
        """The process's resident memory (VmRSS), in KiB."""
        status = Path(f"/proc/{self.process.pid}/status")
        if status.exists():
            line = next(li for li in status.read_text().splitlines() if li.startswith("VmRSS"))
            return int(line.split()[1])
        # Not Linux: ps reports RSS in KiB too.
        command = ["ps", "-o", "rss=", "-p", str(self.process.pid)]
        return int(subprocess.run(command, capture_output=True, text=True, check=True).stdout)

    def stop(self, timeout: float = 20) -> None:
        """SIGTERM, then SIGKILL if it has not exited within `timeout` seconds."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()


def start(
    name: str,
    command: list[str],
    env: dict[str, str],
    log_dir: Path,
    ready_path: str,
    port: int | None = None,
) -> Server:
    """A server on a free port (also given to it as PORT), once GET `ready_path` answers."""
    port = port or free_port()
    server = Server(command, {**env, "PORT": str(port)}, port, log_dir / f"{name}.log")
    try:
        return server.wait_until_answering(ready_path)
    except BaseException:
        server.stop()
        raise


def service(
    name: str, dsn: str, log_dir: Path, *, workers: int = 1, **settings: str | int
) -> Server:
    """The service (`python -m config_service.process.server`); `settings` become its environment."""
    env = {
        **SERVICE_ENV,
        "DATABASE_URL": dsn,
        "WORKERS": str(workers),
        "METRICS_ENABLED": "true",
        # Held watch requests would otherwise delay a stop by up to 30 s.
        "SHUTDOWN_TIMEOUT": "5",
        **{key.upper(): str(value) for key, value in settings.items()},
    }
    command = [sys.executable, "-m", "config_service.process.server"]
    return start(name, command, env, log_dir, "/health/ready")


def plain_uvicorn(name: str, dsn: str, log_dir: Path, *, workers: int) -> Server:
    """The service's app under `uvicorn --workers`, without the service's own supervisor."""
    port = free_port()
    command = [
        sys.executable, "-m", "uvicorn", "config_service.main:create_app", "--factory",
        "--port", str(port), "--workers", str(workers), "--no-access-log",
    ]  # fmt: skip
    env = {**SERVICE_ENV, "DATABASE_URL": dsn}
    return start(name, command, env, log_dir, "/health/ready", port)


def baseline(dsn: str, log_dir: Path, pool_size: int) -> Server:
    """bench.baseline: the least a FastAPI + psycopg2 service does to serve a row."""
    env = {"DATABASE_URL": dsn, "DB_POOL_SIZE": str(pool_size)}
    return start("baseline", [sys.executable, "-m", "bench.baseline"], env, log_dir, "/docs")


def floor(kind: str, log_dir: Path, body_bytes: int | None = None) -> Server:
    """bench.floor: an app that only holds requests; `kind` is "fastapi" or "asgi". Its answer
    is ~1 KB, or `body_bytes` (the size of the representation it is compared with)."""
    command = [sys.executable, "-m", "bench.floor"]
    if body_bytes is None:
        return start(f"floor-{kind}", command, {"FLOOR": kind}, log_dir, "/held")
    env = {"FLOOR": kind, "FLOOR_BODY_BYTES": str(body_bytes)}
    return start(f"floor-{kind}-{body_bytes}", command, env, log_dir, "/held")
