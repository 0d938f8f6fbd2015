"""Sockets and serving: a listening socket per process, uvicorn serving the app on it, and
room in the open-files limit for every held request."""

import logging
import resource
import signal
import socket
from collections.abc import Callable
from pathlib import Path

import uvicorn

from config_service.main import create_app
from config_service.process import SERVER_LOGGER
from config_service.settings import Settings, get_settings
from config_service.telemetry.logs import logging_config, skip_what_no_line_shows

log = logging.getLogger(SERVER_LOGGER)

# Open files a worker needs besides one per held request: connections, pool, listener, logs.
FILES_BESIDES_WAITERS = 1024


def listening_socket(
    host: str, port: int, *, reuse_port: bool = False, listen: bool = True
) -> socket.socket:
    """A bound TCP socket with TCP_NODELAY set, listening unless told not to.

    Linux hands TCP_NODELAY down to every accepted connection. Plain uvicorn with several
    workers does not set it on accepted sockets, and keep-alive responses then wait on
    delayed ACKs (Nagle's algorithm); setting it here fixes that for any number of workers.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
    if listen:
        sock.listen(2048)
    return sock


class Server(uvicorn.Server):
    """uvicorn's server, which answers held requests (watches) as soon as shutdown begins:
    otherwise each would keep the process up for the rest of its wait."""

    def __init__(self, config: uvicorn.Config, *, before_shutdown: Callable[[], None]):
        super().__init__(config)
        self._before_shutdown = before_shutdown

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        self._before_shutdown()
        await super().shutdown(sockets)


def serve_app(
    settings: Settings,
    sock: socket.socket,
    metrics_directory: Path | None = None,
    worker: int = 0,
    *,
    migrate: bool,
) -> None:
    """Serve the app on `sock` until SIGTERM/SIGINT, in this process; with `migrate`, the app
    migrates the database first (or once PostgreSQL answers)."""
    skip_what_no_line_shows()  # uvicorn configures logging itself, from logging_config()
    app = create_app(settings, metrics_directory=metrics_directory, worker=worker, migrate=migrate)
    config = uvicorn.Config(
        app,
        access_log=False,  # the service's own request log replaces it
        server_header=False,  # no need to tell every client which server software this is
        log_config=logging_config(settings),
        timeout_graceful_shutdown=settings.shutdown_timeout,
        forwarded_allow_ips=settings.forwarded_allow_ips,
    )
    # uvicorn shuts down gracefully on these, then raises the signal again to die by it (a
    # worker by KeyboardInterrupt, after Ctrl-C). By then everything is closed: let the process
    # exit 0, as process managers (and make) expect.
    for stop_signal in (signal.SIGTERM, signal.SIGINT):
        signal.signal(stop_signal, lambda *_: None)
    Server(config, before_shutdown=app.state.read_model.end_watches).run(sockets=[sock])


def run_worker(metrics_directory: Path, worker: int, migrate: bool) -> None:
    """One server process of several: its own SO_REUSEPORT socket, uvicorn serving the app."""
    # Until the app handles SIGHUP (access/reload.py), one passed on must not end the worker.
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    settings = get_settings()  # read again: a spawned process inherits the environment only
    sock = listening_socket(settings.host, settings.port, reuse_port=True)
    serve_app(settings, sock, metrics_directory, worker, migrate=migrate)


def raise_open_files_limit(settings: Settings) -> None:
    """Make room for MAX_WAITERS held requests: each is a socket, so an open file."""
    needed = settings.max_waiters + FILES_BESIDES_WAITERS
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= needed:
        return
    wanted = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
    resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    if wanted < needed:
        log.warning(
            f"open files limited to {wanted} (hard limit), below the {needed} that "
            f"MAX_WAITERS={settings.max_waiters} needs; raise the hard limit or lower MAX_WAITERS"
        )
    else:
        log.info(f"raised the open files limit from {soft} to {wanted} for MAX_WAITERS")
