"""The pool of a worker's PostgreSQL connections (psycopg2's, opened empty, connecting outside
its lock), and how each connection is made: its parameters and its cursor."""

from typing import Any

import psycopg2
import psycopg2.extensions
import psycopg2.extras
import psycopg2.pool

from config_service.settings import Settings
from config_service.telemetry.families import Gauge

# libpq waits at least 2 s for a connection whatever connect_timeout says (1 means 2).
SHORTEST_CONNECT = 2


class ConnectionPool(psycopg2.pool.ThreadedConnectionPool):
    """psycopg2's thread-safe pool, plus a way to drop idle connections that died together,
    and a gauge of the connections in use (set under the pool's own lock, so exact).

    Opened empty: connections are made when first needed, so the service starts while
    PostgreSQL is unreachable. They are made outside the pool's lock, so threads connecting
    to an unresponsive server do not queue behind each other, each with a timeout it chooses.

    Leans on psycopg2's private pool API, as in psycopg2-binary 2.9.10 (pinned in uv.lock):
    overrides `_getconn`/`_putconn`, which getconn/putconn call under `_lock`, and reads
    `_pool`, `_used`, `_rused`, `_getkey`, `_args`, `_kwargs`; pool_test.py fails if they change.
    """

    def __init__(self, size: int, *, in_use: Gauge, **connect_kwargs: Any):
        self._in_use = in_use
        self._connecting = 0
        super().__init__(0, size, **connect_kwargs)  # 0: connect nothing now
        # minconn = maxconn: psycopg2's pool closes returned connections beyond minconn.
        self.minconn = size

    def getconn(
        self, key: Any = None, *, connect_timeout: int | None = None
    ) -> psycopg2.extensions.connection:
        """An idle connection, or a new one made within `connect_timeout` seconds."""
        with self._lock:
            if self._pool or len(self._used) + self._connecting >= self.maxconn:
                return self._getconn(key)
            self._connecting += 1
        try:
            timeout = {} if connect_timeout is None else {"connect_timeout": connect_timeout}
            connection = psycopg2.connect(*self._args, **{**self._kwargs, **timeout})
        finally:
            with self._lock:
                self._connecting -= 1
        with self._lock:
            key = self._getkey()
            self._used[key] = connection
            self._rused[id(connection)] = key
            self._in_use.set(value=len(self._used))
        return connection

    def has_idle(self) -> bool:
        return bool(self._pool)

    def fill(self) -> None:
        """Open connections until the pool has all it may (stopping at the first failure), so
        that the ones a burst needs exist before it comes, as a pool opened full would have."""
        while True:
            with self._lock:
                if (
                    self.closed
                    or len(self._pool) + len(self._used) + self._connecting >= self.maxconn
                ):
                    return
                self._connecting += 1
            try:
                connection = psycopg2.connect(*self._args, **self._kwargs)
            except psycopg2.Error:
                return  # unreachable: connections are made when needed instead
            finally:
                with self._lock:
                    self._connecting -= 1
            with self._lock:
                if not self.closed:
                    self._pool.append(connection)
                    continue
            connection.close()
            return

    def _getconn(self, key: Any = None) -> psycopg2.extensions.connection:
        connection = super()._getconn(key)
        self._in_use.set(value=len(self._used))
        return connection

    def _putconn(self, connection: Any, key: Any = None, close: bool = False) -> None:
        super()._putconn(connection, key, close)
        self._in_use.set(value=len(self._used))

    def discard_idle(self) -> None:
        """Close every idle connection: when one is found dead the server restarted, so are they."""
        with self._lock:
            idle, self._pool = self._pool, []
        for connection in idle:
            connection.close()


class TimedCursor(psycopg2.extras.RealDictCursor):
    """Rows as dicts; every statement carries its own statement timeout.

    `SET LOCAL statement_timeout = N; <statement>` in one query string: PostgreSQL runs the
    two in one implicit transaction (no warning) and times the statement with N; the setting
    ends with that transaction, so a pooler may hand the connection to anyone next. Same round
    trip, a little more text per statement (see docs/performance.md); a session setting
    (`options=-c ...`) is refused by PgBouncer and would leak to other clients of a pooled
    server connection.
    """

    set_timeout = "SET LOCAL statement_timeout = 0; "

    def execute(self, query: Any, vars: Any = None) -> None:
        if not isinstance(query, str | bytes):
            query = query.as_string(self.connection)  # a psycopg2.sql composition
        if isinstance(query, bytes):
            query = query.decode()
        return super().execute(self.set_timeout + query, vars)


def timed_cursor(statement_timeout: float) -> type[TimedCursor]:
    """A TimedCursor class for this many seconds (whole milliseconds, at least 1)."""
    milliseconds = max(1, int(statement_timeout * 1000))
    setting = f"SET LOCAL statement_timeout = {milliseconds}; "
    return type("TimedCursor", (TimedCursor,), {"set_timeout": setting})


def connect_timeout(settings: Settings) -> int:
    """DB_CONNECT_TIMEOUT as libpq takes it: whole seconds, at least 1."""
    return max(1, round(settings.db_connect_timeout))


def connect_kwargs(settings: Settings) -> dict[str, Any]:
    """Connection parameters for the pooled road (DATABASE_URL) that bound waits on it.

    The statement timeout is enforced by the server (TimedCursor); when the network drops
    packets instead,
    the kernel gives up on a connection whose data goes unacknowledged for the connect plus
    statement timeouts (tcp_user_timeout), and keepalives find idle connections that died.
    """
    # No startup `options`: PgBouncer refuses them, and they would be session state.
    return {
        "dsn": settings.dsn,
        "connect_timeout": connect_timeout(settings),
        "tcp_user_timeout": int(
            (settings.db_connect_timeout + settings.db_statement_timeout) * 1000
        ),
        "keepalives": 1,
        "keepalives_idle": 30,
        "keepalives_interval": 5,
        "keepalives_count": 3,
        "application_name": "config-service",
        "cursor_factory": timed_cursor(settings.db_statement_timeout),
    }
