"""PgBouncer in transaction mode in front of the test PostgreSQL: its own process and ini file.

Debian's `pgbouncer` package provides the binary (`.ci/run` installs it); the system service
is never used. PgBouncer refuses to run as root, so as root it is told to switch to the
`postgres` user. `stop` and `start` again on the same port simulate a restart.
"""

import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

import psycopg2
import pytest

from test.live_server import free_port

BINARY = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
HOW_TO_INSTALL = (
    "the fleet tests need PgBouncer, and {binary} is missing: install it with\n"
    "  apt-get update && apt-get install -y pgbouncer   (Debian/Ubuntu; .ci/run does this)\n"
    "or brew install pgbouncer (macOS)"
)
INI = """\
[databases]
* = host={host} port={port} user={user}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {listen_port}
unix_socket_dir =
logfile =
pidfile =
auth_type = any
pool_mode = transaction
max_client_conn = {max_client_conn}
default_pool_size = {default_pool_size}
min_pool_size = {default_pool_size}
reserve_pool_size = 0
server_login_retry = 1
"""


class PgBouncer:
    """One PgBouncer process for the server `dsn` names; `dsn(...)` routes a DSN through it."""

    def __init__(self, dsn: str, *, default_pool_size: int, max_client_conn: int):
        if not Path(BINARY).exists():
            pytest.fail(HOW_TO_INSTALL.format(binary=BINARY))
        target = urlsplit(dsn)
        self.default_pool_size = default_pool_size
        self.port = free_port()
        self._directory = Path(tempfile.mkdtemp(prefix="pgbouncer-"))
        self._directory.chmod(0o755)  # readable by the postgres user it switches to
        self._ini = self._directory / "pgbouncer.ini"
        self._ini.write_text(
            INI.format(
                host=target.hostname,
                port=target.port or 5432,
                user=target.username or "postgres",
                listen_port=self.port,
                max_client_conn=max_client_conn,
                default_pool_size=default_pool_size,
            )
        )
        self._ini.chmod(0o644)
        self._log = open(self._directory / "pgbouncer.log", "a")
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> "PgBouncer":
        self.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()
        self._log.close()
        shutil.rmtree(self._directory, ignore_errors=True)

    def dsn(self, dsn: str) -> str:
        """The same database as `dsn`, reached through this PgBouncer."""
        parts = urlsplit(dsn)
        credentials = parts.netloc.rpartition("@")[0]
        netloc = f"{credentials}@127.0.0.1:{self.port}" if credentials else f"127.0.0.1:{self.port}"
        return parts._replace(netloc=netloc).geturl()

    def start(self, seconds: float = 10) -> None:
        """Start the process and wait (bounded) until it accepts connections."""
        as_user = ["-u", "postgres"] if os.geteuid() == 0 else []
        self.process = subprocess.Popen(
            [BINARY, *as_user, str(self._ini)], stdout=self._log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                # The admin console answers without touching PostgreSQL.
                psycopg2.connect(
                    host="127.0.0.1", port=self.port, dbname="pgbouncer", user="pgbouncer"
                ).close()
                return
            except psycopg2.OperationalError as error:
                if "not allowed" in str(error) or "no such" in str(error):
                    return  # it answered: listening
            time.sleep(0.05)
        self.stop()
        pytest.fail(f"PgBouncer did not start:\n{self.read_log()}")

    def stop(self) -> None:
        """SIGTERM: an immediate shutdown that drops every client, as a crash does."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def read_log(self) -> str:
        return (self._directory / "pgbouncer.log").read_text()
