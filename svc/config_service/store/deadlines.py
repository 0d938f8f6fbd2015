"""A deadline for every database call, kept by one thread per pool instead of a timer per call.

PostgreSQL enforces the statement timeout itself, so it cannot help when the server never
answers (a frozen process, a stuck volume, a half-dead proxy): the kernel keeps such a
connection open, and the call that waits on it, for as long as it likes. Here a call registers
its connection and deadline in a dict when it starts and removes them when it ends (two dict
operations on the database thread, nothing on the event loop); one watchdog thread looks at
that dict every TICK seconds and shuts down the socket of every call past its deadline.
psycopg2 then raises OperationalError in the stuck thread, which answers 503 and discards the
connection. (A timer per call, tried before, cost more in garbage collections: see
docs/performance.md.)
"""

import logging
import os
import socket
import threading
import time

import psycopg2.extensions

log = logging.getLogger(__name__)

# How often the watchdog looks: the most a call overruns its deadline.
TICK = 0.1
# What a call gets beyond DB_STATEMENT_TIMEOUT: PostgreSQL's own timeout answers first, when
# PostgreSQL answers at all.
GRACE = 0.5

type Connection = psycopg2.extensions.connection


def shut_down(connection: Connection) -> None:
    """End the connection's socket at once: a thread blocked on it gets an error now."""
    try:
        duplicate = socket.socket(fileno=os.dup(connection.fileno()))
    except (psycopg2.Error, OSError):
        return  # already closed
    try:
        duplicate.shutdown(socket.SHUT_RDWR)  # acts on the socket, not on this descriptor
    except OSError:
        pass  # not connected any more
    finally:
        duplicate.close()


class CallWatchdog:
    """Shuts down the connections of calls still running past their deadline."""

    def __init__(self, *, tick: float = TICK):
        self._tick = tick
        # connection -> deadline (time.monotonic()), for every call in progress; written by the
        # database threads, read by the watchdog (single dict operations, atomic in CPython).
        self.calls: dict[Connection, float] = {}
        self._expired: set[Connection] = set()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="database-watchdog", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=5)

    def expired(self, connection: Connection) -> bool:
        """Whether the watchdog shut this connection down (and forget that it did)."""
        if connection in self._expired:
            self._expired.discard(connection)
            return True
        return False

    def _watch(self) -> None:
        while not self._stopping.wait(self._tick):
            try:
                calls = self.calls.copy()
            except RuntimeError:  # changed size while copied (a thread switch): next tick
                continue
            now = time.monotonic()
            for connection, deadline in calls.items():
                if deadline <= now and self.calls.get(connection) == deadline:
                    self._expired.add(connection)
                    log.warning("a database call is past its deadline: closing its connection")
                    shut_down(connection)
