"""`make run`: check settings, create and migrate the database, then serve with uvicorn.

Run as `python -m config_service.server`. With WORKERS > 1 this process supervises that
many server processes, each accepting on its own SO_REUSEPORT socket (see `supervise`).
"""

import logging
import multiprocessing
import signal
import socket
import sys
import time

import psycopg2
import uvicorn
from pydantic import ValidationError

from config_service.logs import configure_logging, logging_config
from config_service.migrations import MigrationError, apply_migrations, ensure_database
from config_service.settings import Settings, get_settings

log = logging.getLogger(__name__)

APP = "config_service.main:create_app"


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


def _uvicorn_config(settings: Settings) -> uvicorn.Config:
    return uvicorn.Config(
        APP,
        factory=True,
        access_log=False,  # the service's own request log replaces it
        log_config=logging_config(settings),
        timeout_graceful_shutdown=settings.shutdown_timeout,
    )


def run_worker() -> None:
    """One server process of several: its own SO_REUSEPORT socket, uvicorn serving the app."""
    settings = get_settings()  # read again: a spawned process inherits the environment only
    sock = listening_socket(settings.host, settings.port, reuse_port=True)
    uvicorn.Server(_uvicorn_config(settings)).run(sockets=[sock])


def supervise(settings: Settings) -> None:
    """Run WORKERS server processes until SIGTERM/SIGINT; restart any that dies.

    Each worker accepts on its own SO_REUSEPORT socket, so the kernel spreads connections
    evenly. (uvicorn's --workers shares one socket, and asyncio accepts every pending
    connection at once: a burst of keep-alive connections lands on a single worker.)
    """
    # Workers share the port through SO_REUSEPORT, which would also let a second instance
    # of the service join in silently: check first that nothing holds the port.
    listening_socket(settings.host, settings.port, listen=False).close()
    spawn = multiprocessing.get_context("spawn")
    stop_signals = []  # a list, not a threading.Event: signal handlers must not take locks
    for stop_signal in (signal.SIGTERM, signal.SIGINT):
        signal.signal(stop_signal, lambda number, _: stop_signals.append(number))

    def start() -> multiprocessing.Process:
        worker = spawn.Process(target=run_worker, name="config-service-worker")
        worker.start()
        return worker

    workers = [start() for _ in range(settings.workers)]
    while not stop_signals:
        time.sleep(0.2)
        for index, worker in enumerate(workers):
            if not worker.is_alive() and not stop_signals:
                log.warning(
                    f"worker {worker.pid} exited with code {worker.exitcode}; restarting it"
                )
                workers[index] = start()
    for worker in workers:
        worker.terminate()  # SIGTERM: each finishes its in-flight requests, then exits
    for worker in workers:
        worker.join(settings.shutdown_timeout + 5)
        if worker.is_alive():
            worker.kill()


def serve(settings: Settings) -> None:
    """Serve until SIGTERM/SIGINT: stop accepting, finish in-flight requests, close the pool."""
    log.info(f"serving on http://{settings.host}:{settings.port} with {settings.workers} worker(s)")
    if settings.workers > 1:
        supervise(settings)
        return
    sock = listening_socket(settings.host, settings.port)
    # uvicorn shuts down gracefully on these, then raises the signal again to die by it.
    # By then everything is closed: let the process exit 0, as process managers expect.
    for stop_signal in (signal.SIGTERM, signal.SIGINT):
        signal.signal(stop_signal, lambda *_: None)
    uvicorn.Server(_uvicorn_config(settings)).run(sockets=[sock])


def prepare(settings: Settings) -> str | None:
    """Create and migrate the database; why the service cannot start, or None."""
    try:
        if ensure_database(settings.dsn):
            log.info("created the database DATABASE_URL names")
        for migration in apply_migrations(settings.dsn):
            log.info(f"applied migration {migration.version:04d}_{migration.name}")
        return connection_budget_problem(settings)
    except psycopg2.OperationalError as error:
        return (
            f"cannot reach PostgreSQL at DATABASE_URL ({str(error).strip()}); "
            "start it with `make db-up` or point DATABASE_URL at a running server"
        )
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
