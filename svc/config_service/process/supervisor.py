"""With WORKERS > 1: run that many server processes, each on its own SO_REUSEPORT socket,
and restart any that dies, after a wait that grows while it keeps dying (process/restart_backoff.py)."""

import logging
import multiprocessing
import os
import shutil
import signal
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from config_service.process import SERVER_LOGGER
from config_service.process.restart_backoff import Restart, RestartBackoff
from config_service.process.serving import listening_socket, run_worker
from config_service.settings import Settings

log = logging.getLogger(SERVER_LOGGER)


def supervise(settings: Settings, *, migrate: bool, on_listening: Callable[[], None]) -> None:
    """Run WORKERS server processes until SIGTERM/SIGINT; restart any that dies.

    Each worker accepts on its own SO_REUSEPORT socket, so the kernel spreads connections
    evenly. (uvicorn's --workers shares one socket, and asyncio accepts every pending
    connection at once: a burst of keep-alive connections lands on a single worker.)
    Workers keep their metrics in files of one directory, so any of them can answer a scrape
    for all (telemetry/store.py); a restarted worker keeps its number, and its predecessor's file.
    With `migrate`, each worker migrates the database itself (preflight could not).
    """
    metrics_directory = Path(tempfile.mkdtemp(prefix="config-service-metrics-"))
    try:
        _supervise(settings, on_listening, metrics_directory, migrate)
    finally:
        shutil.rmtree(metrics_directory, ignore_errors=True)


def _supervise(
    settings: Settings, on_listening: Callable[[], None], metrics_directory: Path, migrate: bool
) -> None:
    # Workers share the port through SO_REUSEPORT, which would also let a second instance
    # of the service join in silently: check first that nothing holds the port.
    listening_socket(settings.host, settings.port, listen=False).close()
    on_listening()
    spawn = multiprocessing.get_context("spawn")
    stop_signals = []  # a list, not a threading.Event: signal handlers must not take locks
    for stop_signal in (signal.SIGTERM, signal.SIGINT):
        signal.signal(stop_signal, lambda number, _: stop_signals.append(number))
    reloads = []  # SIGHUPs to pass on to every worker: each rereads API_TOKENS_FILE
    signal.signal(signal.SIGHUP, lambda number, _: reloads.append(number))

    def start(number: int) -> multiprocessing.Process:
        worker = spawn.Process(
            target=run_worker,
            args=(metrics_directory, number, migrate),
            name="config-service-worker",
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
        while reloads:
            reloads.pop()
            for worker in workers:
                if worker.pid is not None and worker.is_alive():
                    os.kill(worker.pid, signal.SIGHUP)
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
