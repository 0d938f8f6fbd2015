"""PostgreSQL access: a connection pool and exactly as many threads as it has connections.

Handlers are plain synchronous functions of a cursor; `Database.read` and `Database.write`
carry one to a worker thread, give it a connection and the right kind of transaction, and
bring the result back: one thread hop per request.
"""

import asyncio
import logging
import threading
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import Any, Concatenate

import psycopg2
import psycopg2.errors
import psycopg2.extensions
import psycopg2.extras
import psycopg2.pool

from config_service.errors import DatabaseUnavailable, InvalidValue, UnavailableReason
from config_service.telemetry.catalogue import ServiceMetrics
from config_service.telemetry.families import Gauge
from config_service.settings import Settings

log = logging.getLogger(__name__)

# Every cursor of the service returns rows as dicts.
type Cursor = psycopg2.extras.RealDictCursor


class ConnectionPool(psycopg2.pool.ThreadedConnectionPool):
    """psycopg2's thread-safe pool, plus a way to drop idle connections that died together,
    and a gauge of the connections in use (set under the pool's own lock, so exact)."""

    def __init__(self, size: int, *, in_use: Gauge, **connect_kwargs: Any):
        self._in_use = in_use
        # minconn = maxconn: psycopg2's pool closes returned connections beyond minconn.
        super().__init__(size, size, **connect_kwargs)

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


class _LostBeforeCommit(Exception):
    """The connection died before COMMIT was sent, so the server applied nothing."""


class Database:
    """Runs handler functions on pooled connections in worker threads."""

    def __init__(
        self,
        pool: ConnectionPool,
        executor: ThreadPoolExecutor,
        *,
        retry_after: int,
        metrics: ServiceMetrics,
    ):
        self._pool = pool
        self._executor = executor
        self._retry_after = retry_after
        self._metrics = metrics
        self._counting = threading.Lock()  # retries are counted by database threads only

    async def read[**P, T](
        self, work: Callable[Concatenate[Cursor, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Run `work(cursor, ...)` in autocommit mode: one round trip for one statement."""
        return await self._run(lambda cursor: work(cursor, *args, **kwargs), write=False)

    async def write[**P, T](
        self, work: Callable[Concatenate[Cursor, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Run `work(cursor, ...)` in a transaction, committed when it returns."""
        return await self._run(lambda cursor: work(cursor, *args, **kwargs), write=True)

    async def _run[T](self, work: Callable[[Cursor], T], *, write: bool) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._run_with_one_retry, work, write)

    def _run_with_one_retry[T](self, work: Callable[[Cursor], T], write: bool) -> T:
        try:
            return self._run_on_a_connection(work, write)
        except _LostBeforeCommit:
            # Typically a connection that died idle across a server restart. Nothing was
            # committed, so one more try on a fresh connection cannot apply a write twice.
            self._pool.discard_idle()
            with self._counting:
                self._metrics.db_retries.inc()
            try:
                return self._run_on_a_connection(work, write)
            except _LostBeforeCommit as lost:
                raise self._unavailable("The database connection was lost.") from lost

    def _run_on_a_connection[T](self, work: Callable[[Cursor], T], write: bool) -> T:
        try:
            connection = self._pool.getconn()
        except psycopg2.OperationalError as error:
            raise self._unavailable("The database cannot be reached.") from error
        committing = False
        try:
            # Reads run in autocommit: one round trip instead of BEGIN, SELECT, ROLLBACK.
            connection.autocommit = not write
            with connection.cursor() as cursor:
                result = work(cursor)
            if write:
                committing = True
                connection.commit()
            return result
        except (psycopg2.OperationalError, psycopg2.InterfaceError) as error:
            if not connection.closed:
                if isinstance(error, psycopg2.errors.QueryCanceled):
                    detail = "The database did not answer in time."
                    raise self._unavailable(detail, "statement_timeout") from error
                raise
            if committing:
                # The COMMIT may or may not have been applied; retrying could apply it twice.
                detail = "The database connection was lost."
                raise self._unavailable(detail, "lost_during_commit") from error
            raise _LostBeforeCommit() from error
        except (psycopg2.DataError, psycopg2.errors.CheckViolation) as error:
            raise InvalidValue(f"A value cannot be stored: {error.pgerror or error}") from error
        finally:
            self._return(connection)

    def _return(self, connection: psycopg2.extensions.connection) -> None:
        # putconn would roll back too, but let a failing rollback escape with the connection.
        if not connection.closed and connection.info.transaction_status not in (
            psycopg2.extensions.TRANSACTION_STATUS_IDLE,
            psycopg2.extensions.TRANSACTION_STATUS_UNKNOWN,
        ):
            try:
                connection.rollback()
            except psycopg2.Error:
                connection.close()
        self._pool.putconn(connection, close=bool(connection.closed))

    def _unavailable(
        self, detail: str, reason: UnavailableReason = "unreachable"
    ) -> DatabaseUnavailable:
        return DatabaseUnavailable(detail, reason=reason, retry_after=self._retry_after)

    def close(self) -> None:
        """Wait for running work, then close every connection."""
        self._executor.shutdown(wait=True)
        self._pool.closeall()


def connect_kwargs(settings: Settings) -> dict[str, Any]:
    """Connection parameters that bound waits on the database.

    The statement timeout is enforced by the server; when the network drops packets instead,
    the kernel gives up on a connection whose data goes unacknowledged for the connect plus
    statement timeouts (tcp_user_timeout), and keepalives find idle connections that died.
    """
    statement_timeout_ms = int(settings.db_statement_timeout * 1000)
    return {
        "dsn": settings.dsn,
        "connect_timeout": max(1, round(settings.db_connect_timeout)),
        "options": f"-c statement_timeout={statement_timeout_ms}",
        "tcp_user_timeout": int(
            (settings.db_connect_timeout + settings.db_statement_timeout) * 1000
        ),
        "keepalives": 1,
        "keepalives_idle": 30,
        "keepalives_interval": 5,
        "keepalives_count": 3,
        "application_name": "config-service",
        "cursor_factory": psycopg2.extras.RealDictCursor,
    }


@asynccontextmanager
async def open_database(settings: Settings, metrics: ServiceMetrics) -> AsyncIterator[Database]:
    """A Database for the lifetime of the block; its connections are closed on exit."""
    size = settings.db_pool_size
    pool = ConnectionPool(size, in_use=metrics.db_in_use, **connect_kwargs(settings))
    metrics.db_pool_size.set(value=size)
    executor = ThreadPoolExecutor(max_workers=size, thread_name_prefix="database")
    database = Database(pool, executor, retry_after=settings.retry_after, metrics=metrics)
    try:
        yield database
    finally:
        database.close()
        log.info("database connections closed")
