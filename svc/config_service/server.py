"""`make run`: check settings, create and migrate the database, then serve with uvicorn.

Run as `python -m config_service.server`.
"""

import logging
import signal
import socket
import sys

import psycopg2
import uvicorn
from pydantic import ValidationError
from uvicorn.supervisors import Multiprocess

from config_service.logs import configure_logging, logging_config
from config_service.migrations import MigrationError, apply_migrations, ensure_database
from config_service.settings import Settings, get_settings

log = logging.getLogger(__name__)

APP = "config_service.main:create_app"


def listening_socket(host: str, port: int) -> socket.socket:
    """A bound, listening TCP socket with TCP_NODELAY set.

    Linux hands TCP_NODELAY down to every accepted connection. Plain uvicorn with several
    workers does not set it on accepted sockets, and keep-alive responses then wait on
    delayed ACKs (Nagle's algorithm); setting it here fixes that for any number of workers.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def connection_budget_problem(settings: Settings) -> str | None:
    """Why WORKERS x DB_POOL_SIZE connections would not fit in PostgreSQL, or None."""
    wanted = settings.workers * settings.db_pool_size
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
            f"WORKERS x DB_POOL_SIZE = {settings.workers} x {settings.db_pool_size} = {wanted}"
            f" connections, but PostgreSQL allows {available}; lower one of them"
        )
    return None


def serve(settings: Settings) -> None:
    """Serve until SIGTERM/SIGINT: stop accepting, finish in-flight requests, close the pool."""
    config = uvicorn.Config(
        APP,
        factory=True,
        workers=settings.workers,
        access_log=False,  # the service's own request log replaces it
        log_config=logging_config(settings),  # applied in every worker process
        timeout_graceful_shutdown=settings.shutdown_timeout,
    )
    sock = listening_socket(settings.host, settings.port)
    # uvicorn shuts down gracefully on these, then raises the signal again to die by it.
    # By then everything is closed: let the process exit 0, as process managers expect.
    for stop_signal in (signal.SIGTERM, signal.SIGINT):
        signal.signal(stop_signal, lambda *_: None)
    log.info(f"serving on http://{settings.host}:{settings.port} with {settings.workers} worker(s)")
    if settings.workers > 1:
        Multiprocess(config, sockets=[sock]).run()
    else:
        uvicorn.Server(config).run(sockets=[sock])


def prepare(settings: Settings) -> str | None:
    """Create and migrate the database; why the service cannot start, or None."""
    try:
        ensure_database(settings.dsn)
        apply_migrations(settings.dsn)
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
    serve(settings)
    return 0


if __name__ == "__main__":
    sys.exit(main())
