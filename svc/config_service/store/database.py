"""PostgreSQL access: a connection pool and exactly as many threads as it has connections.

Handlers are plain synchronous functions of a cursor; `Database.read` and `Database.write`
carry one to a worker thread, give it a connection and the right kind of transaction, and
bring the result back: one thread hop per request. Nothing here relies on session state, so
DATABASE_URL may name PgBouncer in transaction mode (see `TimedCursor`).
"""

import asyncio
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from functools import partial
from typing import Concatenate

import psycopg2
import psycopg2.errors
import psycopg2.extensions
import psycopg2.extras

from config_service.errors import DATABASE_NO_ANSWER, DatabaseUnavailable, InvalidValue
from config_service.settings import Settings
from config_service.store.deadlines import GRACE, CallWatchdog

# connect_kwargs and TimedCursor are imported from here by other modules.
from config_service.store.pool import (  # noqa: F401
    SHORTEST_CONNECT,
    ConnectionPool,
    TimedCursor,
    connect_kwargs,
    timed_cursor,
)
from config_service.telemetry.catalogue import ServiceMetrics

log = logging.getLogger(__name__)


# Every cursor of the service returns rows as dicts.
type Cursor = psycopg2.extras.RealDictCursor


LOST_IN_COMMIT = (
    "The database connection was lost during COMMIT: the write may or may not have been"
    " applied. Read the resource again before retrying (with If-Match)."
)


class _LostResendable(Exception):
    """The connection died where sending the call again cannot apply anything twice: before
    COMMIT was sent (nothing was applied), or in autocommit (a read, or an idempotent write)."""


class Database:
    """Runs handler functions on pooled connections in worker threads.

    Every call ends within `call_seconds` of being asked for (DB_STATEMENT_TIMEOUT + GRACE),
    waiting for a thread included: past it, a call that got no answer raises
    DatabaseUnavailable and its connection is discarded (store/deadlines.py).
    """

    def __init__(
        self,
        pool: ConnectionPool,
        executor: ThreadPoolExecutor,
        *,
        retry_after: int,
        metrics: ServiceMetrics,
        call_seconds: float,
        connect_timeout: int,
        watchdog: CallWatchdog | None,
        size: int,
        queue: int,
        wait: float,
    ):
        self._pool = pool
        self._executor = executor
        # DatabaseUnavailable, telling clients to retry after RETRY_AFTER seconds.
        self._unavailable = partial(DatabaseUnavailable, retry_after=retry_after)
        self._metrics = metrics
        self._counting = threading.Lock()  # retries are counted by database threads only
        self._call_seconds = call_seconds
        self._connect_timeout = connect_timeout
        # Time a new connection needs, or the call does not start one (libpq's least wait).
        self._connect_needs = min(SHORTEST_CONNECT, call_seconds - GRACE)
        self._watchdog = watchdog
        # Why no call may run yet (the schema is not known to be current), or None.
        self.not_ready: str | None = None
        # At most `size` calls run (one per connection and thread), at most `queue` wait for
        # one, in the executor's own queue: past `queue`, 503 at once; a call that waited
        # longer than `wait` is answered 503 when a thread takes it, instead of running.
        # (An asyncio.Semaphore with wait_for in front of the executor did the same for a
        # task, a timer and a second wake-up of the loop per call: see docs/performance.md.)
        self._calls_allowed = size + queue
        self._calls = 0  # asked for and not yet done; under _counting_calls
        self._counting_calls = threading.Lock()
        self._wait = wait

    async def read[**P, T](
        self, work: Callable[Concatenate[Cursor, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Run `work(cursor, ...)` in autocommit mode: one round trip for one statement."""
        return await self._run(work, args, kwargs, write=False, autocommit=True)

    async def write_idempotent[**P, T](
        self, work: Callable[Concatenate[Cursor, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Run `work(cursor, ...)`, one statement that has the effect of one even when sent
        twice, in autocommit: PostgreSQL makes the statement a transaction of its own, one
        round trip instead of three (BEGIN, it, COMMIT). If its connection is lost, it is
        sent again on a new one, as a read is."""
        return await self._run(work, args, kwargs, write=True, autocommit=True)

    async def write[**P, T](
        self, work: Callable[Concatenate[Cursor, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Run `work(cursor, ...)` in a transaction, committed when it returns."""
        return await self._run(work, args, kwargs, write=True, autocommit=False)

    async def rehearse[**P, T](
        self, work: Callable[Concatenate[Cursor, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Run `work(cursor, ...)` in a transaction rolled back when it returns (?dry_run)."""
        return await self._run(work, args, kwargs, write=True, autocommit=False, commit=False)

    async def _run[T](
        self,
        work: Callable[..., T],
        args: tuple,
        kwargs: dict,
        *,
        write: bool,
        autocommit: bool,
        commit: bool = True,
    ) -> T:
        if self.not_ready is not None:
            raise self._unavailable(self.not_ready)
        with self._counting_calls:
            if self._calls >= self._calls_allowed:
                raise self._exhausted()
            self._calls += 1
        # The call's deadline counts from now: the wait for a connection is part of it.
        asked = time.monotonic()
        call = lambda cursor: work(cursor, *args, **kwargs)  # noqa: E731
        future = self._executor.submit(self._run_retried, call, write, autocommit, commit, asked)
        # Counted down in whichever thread ends it: done, failed, or cancelled before it ran.
        future.add_done_callback(self._call_done)
        return await asyncio.wrap_future(future)

    def _call_done(self, _: object) -> None:
        with self._counting_calls:
            self._calls -= 1

    def _exhausted(self) -> DatabaseUnavailable:
        detail = "Every database connection of this worker is busy."
        return self._unavailable(detail, reason="pool_exhausted")

    def _run_retried[T](
        self, work: Callable[[Cursor], T], write: bool, autocommit: bool, commit: bool, asked: float
    ) -> T:
        if time.monotonic() - asked > self._wait:
            raise self._exhausted()  # waited for a thread longer than DB_POOL_WAIT
        deadline = asked + self._call_seconds
        try:
            return self._run_on_a_connection(work, write, autocommit, commit, deadline)
        except _LostResendable:
            # Typically a connection that died idle across a server restart. One more try on
            # a fresh connection cannot apply a write twice (_LostResendable says why).
            self._pool.discard_idle()
            with self._counting:
                self._metrics.db_retries.inc()
            try:
                return self._run_on_a_connection(work, write, autocommit, commit, deadline)
            except _LostResendable as lost:
                raise self._unavailable("The database connection was lost.") from lost

    def _connection(self, deadline: float) -> psycopg2.extensions.connection:
        """A pooled connection, or a new one only when it can be made before `deadline`."""
        left = deadline - time.monotonic()
        if left <= 0 or (left < self._connect_needs and not self._pool.has_idle()):
            # Waited for a thread as long as a call may take: the database is not keeping up.
            raise self._unavailable(DATABASE_NO_ANSWER, reason="statement_timeout")
        try:
            return self._pool.getconn(
                connect_timeout=max(SHORTEST_CONNECT, min(self._connect_timeout, int(left)))
            )
        except psycopg2.OperationalError as error:
            raise self._unavailable("The database cannot be reached.") from error

    def _run_on_a_connection[T](
        self, work: Callable[[Cursor], T], write: bool, autocommit: bool, commit: bool, end: float
    ) -> T:
        connection = self._connection(end)
        watchdog = self._watchdog
        if watchdog is not None:
            watchdog.calls[connection] = end
        # A write in autocommit commits as its statement ends: from the start, like COMMIT.
        committing = write and autocommit
        try:
            # Reads run in autocommit: one round trip instead of BEGIN, SELECT, ROLLBACK.
            connection.autocommit = autocommit
            with connection.cursor() as cursor:
                result = work(cursor)
            if not autocommit and not commit:
                connection.rollback()  # a rehearsal: nothing it did is kept
            elif not autocommit:
                committing = True
                connection.commit()
            return result
        except (psycopg2.OperationalError, psycopg2.InterfaceError) as error:
            if watchdog is not None and watchdog.expired(connection):
                connection.close()  # no answer within the deadline: never reused
                if committing:
                    raise self._unavailable(LOST_IN_COMMIT, reason="lost_during_commit") from error
                raise self._unavailable(DATABASE_NO_ANSWER, reason="statement_timeout") from error
            if not connection.closed:
                if isinstance(error, psycopg2.errors.QueryCanceled):
                    raise self._unavailable(
                        DATABASE_NO_ANSWER, reason="statement_timeout"
                    ) from error
                raise
            if committing and not autocommit:
                # The COMMIT may or may not have been applied; retrying could apply it twice.
                raise self._unavailable(LOST_IN_COMMIT, reason="lost_during_commit") from error
            raise _LostResendable() from error
        except (psycopg2.DataError, psycopg2.errors.CheckViolation) as error:
            raise InvalidValue(f"A value cannot be stored: {error.pgerror or error}") from error
        finally:
            if watchdog is not None:
                watchdog.calls.pop(connection, None)
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

    def fill_pool(self) -> None:
        self._pool.fill()

    def close(self) -> None:
        """Wait for running work (each call is bounded), then close every connection."""
        self._executor.shutdown(wait=True)
        if self._watchdog is not None:
            self._watchdog.stop()
        self._pool.closeall()


def call_seconds(settings: Settings) -> float:
    """How long one database call may take, from being asked for to its answer."""
    return settings.db_statement_timeout + GRACE


def build_database(settings: Settings, metrics: ServiceMetrics) -> Database:
    """A Database as `settings` describe it, with no connection made yet."""
    size = settings.db_pool_size
    parameters = connect_kwargs(settings)
    pool = ConnectionPool(size, in_use=metrics.db_in_use, **parameters)
    metrics.db_pool_size.set(value=size)
    executor = ThreadPoolExecutor(max_workers=size, thread_name_prefix="database")
    watchdog = CallWatchdog() if settings.db_call_watchdog else None
    if watchdog is not None:
        watchdog.start()
    return Database(
        pool,
        executor,
        retry_after=settings.retry_after,
        metrics=metrics,
        call_seconds=call_seconds(settings),
        connect_timeout=parameters["connect_timeout"],
        watchdog=watchdog,
        size=size,
        queue=settings.db_pool_queue,
        wait=settings.db_pool_wait,
    )


@asynccontextmanager
async def open_database(settings: Settings, metrics: ServiceMetrics) -> AsyncIterator[Database]:
    """A Database for the lifetime of the block; its connections are closed on exit."""
    database = build_database(settings, metrics)
    # Open the pool's connections in the background: start-up does not wait for them, and
    # does not fail without them (PostgreSQL unreachable: they are made when needed).
    threading.Thread(target=database.fill_pool, name="database-fill", daemon=True).start()
    try:
        yield database
    finally:
        database.close()
        log.info("database connections closed")
