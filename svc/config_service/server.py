"""`make run`: check settings, create and migrate the database, then serve with uvicorn.

Run as `python -m config_service.server`. With WORKERS > 1 this process supervises that
many server processes, each accepting on its own SO_REUSEPORT socket (see `supervise`).
"""

import logging
import multiprocessing
import resource
import shutil
import signal
import socket
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import psycopg2
import psycopg2.extensions
import uvicorn
from pydantic import ValidationError

from config_service.logs import configure_logging, logging_config, skip_what_no_line_shows
from config_service.main import create_app
from config_service.migrations import MigrationError, apply_migrations, ensure_database
from config_service.restart_backoff import Restart, RestartBackoff
from config_service.schema import migration_dsn
from config_service.settings import Settings, get_settings

# Named, not __name__: run with `python -m`, this module is __main__.
log = logging.getLogger("config_service.server")

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


def connection_budget_problem(settings: Settings) -> str | None:
    """Why the workers' connections would not fit in PostgreSQL, or None.

    Each worker holds DB_POOL_SIZE pooled connections and one listening for changes.
    """
    wanted = settings.workers * (settings.db_pool_size + 1)
    connection = psycopg2.connect(settings.dsn, connect_timeout=5)
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT current_setting('max_connections')::int"
                " - current_setting('superuser_reserved_connections')::int"
            )
            available = cursor.fetchone()[0]
    finally:
        connection.close()
    if wanted > available:
        return (
            f"WORKERS x (DB_POOL_SIZE + 1) = {settings.workers} x {settings.db_pool_size + 1}"
            f" = {wanted}"
            f" connections, but PostgreSQL allows {available}; lower one of them"
        )
    return None


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
    settings: Settings, sock: socket.socket, metrics_directory: Path | None = None, worker: int = 0
) -> None:
    """Serve the app on `sock` until SIGTERM/SIGINT, in this process."""
    skip_what_no_line_shows()  # uvicorn configures logging itself, from logging_config()
    app = create_app(settings, metrics_directory=metrics_directory, worker=worker, migrate=True)
    config = uvicorn.Config(
        app,
        access_log=False,  # the service's own request log replaces it
        server_header=False,  # no need to tell every client which server software this is
        log_config=logging_config(settings),
        timeout_graceful_shutdown=settings.shutdown_timeout,
        forwarded_allow_ips=settings.forwarded_allow_ips,
    )
    Server(config, before_shutdown=app.state.read_model.end_watches).run(sockets=[sock])


def run_worker(metrics_directory: Path, worker: int) -> None:
    """One server process of several: its own SO_REUSEPORT socket, uvicorn serving the app."""
    settings = get_settings()  # read again: a spawned process inherits the environment only
    sock = listening_socket(settings.host, settings.port, reuse_port=True)
    serve_app(settings, sock, metrics_directory, worker)


def supervise(settings: Settings, *, on_listening: Callable[[], None]) -> None:
    """Run WORKERS server processes until SIGTERM/SIGINT; restart any that dies.

    Each worker accepts on its own SO_REUSEPORT socket, so the kernel spreads connections
    evenly. (uvicorn's --workers shares one socket, and asyncio accepts every pending
    connection at once: a burst of keep-alive connections lands on a single worker.)
    Workers keep their metrics in files of one directory, so any of them can answer a scrape
    for all (metrics.py); a restarted worker keeps its number, and its predecessor's file.
    """
    metrics_directory = Path(tempfile.mkdtemp(prefix="config-service-metrics-"))
    try:
        _supervise(settings, on_listening, metrics_directory)
    finally:
        shutil.rmtree(metrics_directory, ignore_errors=True)


def _supervise(
    settings: Settings, on_listening: Callable[[], None], metrics_directory: Path
) -> None:
    # Workers share the port through SO_REUSEPORT, which would also let a second instance
    # of the service join in silently: check first that nothing holds the port.
    listening_socket(settings.host, settings.port, listen=False).close()
    on_listening()
    spawn = multiprocessing.get_context("spawn")
    stop_signals = []  # a list, not a threading.Event: signal handlers must not take locks
    for stop_signal in (signal.SIGTERM, signal.SIGINT):
        signal.signal(stop_signal, lambda number, _: stop_signals.append(number))

    def start(number: int) -> multiprocessing.Process:
        worker = spawn.Process(
            target=run_worker, args=(metrics_directory, number), name="config-service-worker"
        )
        worker.start()
        return worker

    workers = [start(number) for number in range(settings.workers)]
    started = [time.monotonic()] * settings.workers
    restart_at: list[float | None] = [None] * settings.workers
    backoffs = [RestartBackoff() for _ in workers]
    while not stop_signals:
        time.sleep(0.05)
        now = time.monotonic()
        for number, worker in enumerate(workers):
            if stop_signals or worker.is_alive():
                continue
            if restart_at[number] is None:
                restart = backoffs[number].died(lived=now - started[number])
                restart_at[number] = now + restart.delay
                if restart.announce:
                    log.warning(_restart_line(worker, now - started[number], restart))
            if now >= restart_at[number]:
                workers[number], started[number], restart_at[number] = start(number), now, None
    for worker in workers:
        worker.terminate()  # SIGTERM: each finishes its in-flight requests, then exits
    for worker in workers:
        worker.join(settings.shutdown_timeout + 5)
        if worker.is_alive():
            worker.kill()


def _restart_line(worker: multiprocessing.Process, lived: float, restart: Restart) -> str:
    line = (
        f"worker {worker.pid} exited with code {worker.exitcode} after {lived:.1f} s;"
        f" restarting it in {restart.delay:g} s"
    )
    if restart.at_cap:
        line += f" (and every {restart.delay:g} s while it keeps dying, without saying so again)"
    return line


def serve(settings: Settings) -> None:
    """Serve until SIGTERM/SIGINT: stop accepting, finish in-flight requests, close the pool."""
    serving = f"serving on http://{settings.host}:{settings.port} with {settings.workers} worker(s)"
    if settings.workers > 1:
        supervise(settings, on_listening=lambda: log.info(serving))
        return
    sock = listening_socket(settings.host, settings.port)
    log.info(serving)
    # uvicorn shuts down gracefully on these, then raises the signal again to die by it.
    # By then everything is closed: let the process exit 0, as process managers expect.
    for stop_signal in (signal.SIGTERM, signal.SIGINT):
        signal.signal(stop_signal, lambda *_: None)
    serve_app(settings, sock)


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


def prepare(settings: Settings) -> str | None:
    """Create and migrate the database; why the service cannot start, or None.

    An unreachable PostgreSQL is no reason: the workers start degraded and migrate once it
    answers (schema.py).
    """
    dsn = migration_dsn(settings)  # bounded connects: a silent address must not hang start-up
    try:
        if ensure_database(dsn):
            name = psycopg2.extensions.parse_dsn(settings.dsn)["dbname"]
            log.info(f"created the database {name} (DATABASE_URL)")
        for migration in apply_migrations(dsn):
            log.info(f"applied migration {migration.version:04d}_{migration.name}")
        return connection_budget_problem(settings)
    except psycopg2.OperationalError as error:
        log.warning(
            f"cannot reach PostgreSQL at DATABASE_URL ({str(error).strip()}); starting anyway,"
            " not ready until it answers (start it with `make db-up`, or point DATABASE_URL at"
            " a running server)"
        )
        return None
    except MigrationError as error:
        return str(error)


def main() -> int:
    try:
        settings = get_settings()
    except ValidationError as error:
        for problem in error.errors():
            name = str(problem["loc"][0]).upper() if problem["loc"] else "settings"
            print(f"invalid setting {name}: {problem['msg']}", file=sys.stderr)
        return 2
    configure_logging(settings)
    raise_open_files_limit(settings)  # before workers start: they inherit it
    reason = prepare(settings)
    if reason:
        print(f"config-service cannot start: {reason}", file=sys.stderr)
        return 1
    try:
        serve(settings)
    except OSError as error:
        print(
            f"config-service cannot listen on {settings.host}:{settings.port}: {error.strerror}",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
