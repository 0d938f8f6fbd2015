"""`make run`: check settings, create and migrate the database, then serve with uvicorn.

Run as `python -m config_service.process.server`. Preflight is process/preflight.py, sockets and uvicorn
process/serving.py; with WORKERS > 1 this process supervises that many server processes
(process/supervisor.py).
"""

import logging
import sys

from pydantic import ValidationError

from config_service.process import SERVER_LOGGER
from config_service.process.preflight import prepare
from config_service.process.serving import listening_socket, raise_open_files_limit, serve_app
from config_service.process.supervisor import supervise
from config_service.settings import Settings, get_settings
from config_service.telemetry.logs import configure_logging

log = logging.getLogger(SERVER_LOGGER)


def serve(settings: Settings, *, migrate: bool) -> None:
    """Serve until SIGTERM/SIGINT: stop accepting, finish in-flight requests, close the pool.
    With `migrate`, each worker migrates the database itself (preflight could not)."""
    serving = f"serving on http://{settings.host}:{settings.port} with {settings.workers} worker(s)"
    if settings.workers > 1:
        supervise(settings, migrate=migrate, on_listening=lambda: log.info(serving))
        return
    sock = listening_socket(settings.host, settings.port)
    log.info(serving)
    serve_app(settings, sock, migrate=migrate)


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
    prepared = prepare(settings)
    if prepared.problem:
        print(f"config-service cannot start: {prepared.problem}", file=sys.stderr)
        return 1
    try:
        serve(settings, migrate=not prepared.migrated)
    except OSError as error:
        print(
            f"config-service cannot listen on {settings.host}:{settings.port}: {error.strerror}",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
