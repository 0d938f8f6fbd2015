"""nginx as a caching reverse proxy in front of a service under test: its own process, prefix
and configuration file.

Debian's `nginx-light` package provides the binary (`.ci/run` installs it); the system service
is never used. Each instance has a cache of its own (`proxy_cache`, revalidating with the
upstream as a common set-up does), answers `X-Cache-Status` (HIT, MISS, REVALIDATED, ...), and
passes the client's `If-None-Match` through only when `pass_if_none_match` is set: the
recipe in docs/operations.md that keeps watches working behind a cache.
"""

import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import httpx
import pytest

from test.live_server import free_port

BINARY = shutil.which("nginx") or "/usr/sbin/nginx"
HOW_TO_INSTALL = (
    "the proxy tests need nginx, and {binary} is missing: install it with\n"
    "  apt-get update && apt-get install -y nginx-light   (Debian/Ubuntu; .ci/run does this)"
)
CONFIG = """\
daemon off;
master_process off;
worker_processes 1;
pid {directory}/nginx.pid;
error_log {directory}/error.log warn;
{user}
events {{ worker_connections 1024; }}
http {{
    access_log {directory}/access.log;
    client_body_temp_path {directory}/body;
    proxy_temp_path {directory}/proxy;
    fastcgi_temp_path {directory}/fastcgi;
    uwsgi_temp_path {directory}/uwsgi;
    scgi_temp_path {directory}/scgi;
    proxy_cache_path {directory}/cache levels=1:2 keys_zone=service:1m max_size=64m inactive=10m;
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://127.0.0.1:{upstream_port};
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_read_timeout 120s;
            proxy_cache service;
            proxy_cache_revalidate on;
            add_header X-Cache-Status $upstream_cache_status always;
            {recipe}
        }}
    }}
}}
"""
# The recipe (docs/operations.md): a held GET's condition must reach the service.
RECIPE = "proxy_set_header If-None-Match $http_if_none_match;"


class Nginx:
    """One nginx process proxying 127.0.0.1:`port` to the service on `upstream_port`."""

    def __init__(self, upstream_port: int, *, pass_if_none_match: bool = False):
        if not Path(BINARY).exists():
            pytest.fail(HOW_TO_INSTALL.format(binary=BINARY))
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._directory = Path(tempfile.mkdtemp(prefix="nginx-"))
        self._directory.chmod(0o755)
        config = CONFIG.format(
            directory=self._directory,
            port=self.port,
            upstream_port=upstream_port,
            recipe=RECIPE if pass_if_none_match else "",
            user="user root;" if os.geteuid() == 0 else "",
        )
        self._config = self._directory / "nginx.conf"
        self._config.write_text(config)
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> "Nginx":
        self.process = subprocess.Popen(
            [BINARY, "-p", str(self._directory), "-c", str(self._config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                httpx.get(self.url + "/health/live", timeout=1)
                return self
            except httpx.TransportError:
                time.sleep(0.05)
        self.__exit__()
        pytest.fail(f"nginx did not start:\n{self.error_log()}")

    def __exit__(self, *exc_info) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGQUIT)  # graceful: let it close its files
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self._directory, ignore_errors=True)

    def error_log(self) -> str:
        path = self._directory / "error.log"
        return path.read_text() if path.exists() else ""

    def cached_responses(self) -> int:
        """How many responses nginx holds in its cache now (one file each)."""
        return sum(1 for path in (self._directory / "cache").rglob("*") if path.is_file())

    def access_log_lines(self) -> int:
        """How many requests nginx answered so far."""
        return len(self.access_log())

    def access_log(self) -> list[str]:
        """nginx's lines (its `combined` format: `... "GET /path HTTP/1.1" 304 0 ...`)."""
        path = self._directory / "access.log"
        return path.read_text().splitlines() if path.exists() else []
