"""The connection that LISTENs for committed changes and passes them to the read model.

Triggers (migrations 0003 to 0005) NOTIFY `representation_changed` with the key of every
representation a commit changed, one made by hand in psql included ('*' after a TRUNCATE).
Each worker listens on a connection of its own, outside the pool, watched by the event loop
(no thread). It goes to DATABASE_LISTEN_URL: a LISTEN is session state, which a pooler in
transaction mode cannot carry. When it is lost the read model is told at once, and the
listener reconnects every second until it can.

A server that stops answering (frozen) does not close the connection, and a connection that
only receives would never notice: every PROBE_INTERVAL seconds the listener runs `SELECT 1` on
it, and one unanswered within DB_STATEMENT_TIMEOUT + GRACE counts as a lost connection.
"""

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import psycopg2
import psycopg2.extensions

from config_service.read_model.model import ReadModel
from config_service.settings import Settings
from config_service.store.database import connect_kwargs
from config_service.store.deadlines import GRACE, shut_down
from config_service.telemetry.catalogue import ServiceMetrics

log = logging.getLogger(__name__)

CHANNEL = "representation_changed"
RECONNECT_DELAY = 1.0
PROBE_INTERVAL = 1.0

type Connection = psycopg2.extensions.connection


class Listener:
    def __init__(
        self,
        connect: Callable[[], Connection],
        read_model: ReadModel,
        metrics: ServiceMetrics,
        *,
        probe_deadline: float,
        probe_interval: float = PROBE_INTERVAL,
    ):
        self._connect = connect
        self._read_model = read_model
        self._metrics = metrics
        self._probe_deadline = probe_deadline
        self._probe_interval = probe_interval
        self._connection: Connection | None = None
        self._fd = -1  # the connection's socket; fileno() fails once psycopg2 saw it close
        self._reconnecting: asyncio.Task | None = None
        self._probing: asyncio.Task | None = None
        self._probe: asyncio.Future | None = None  # the SELECT 1 running in a thread

    async def start(self) -> None:
        """Listen now, or keep trying in the background (reads go to PostgreSQL meanwhile)."""
        try:
            await self._listen()
        except psycopg2.Error as error:
            log.warning(f"cannot listen for changes yet ({str(error).strip()}); retrying")
            self._reconnect_soon()

    async def _listen(self) -> None:
        connection = await asyncio.to_thread(self._connect_and_listen)
        self._fd = connection.fileno()
        asyncio.get_running_loop().add_reader(self._fd, self._on_readable)
        self._connection = connection
        self._read_model.listening_started()
        self._metrics.listener_connected.set(value=1)
        if self._probing is None:
            self._probing = asyncio.get_running_loop().create_task(self._probe_forever())

    def _connect_and_listen(self) -> Connection:
        connection = self._connect()
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute(f"LISTEN {CHANNEL}")
        return connection

    def _on_readable(self) -> None:
        assert self._connection is not None
        try:
            self._connection.poll()
        except psycopg2.Error:
            self._lost()
            return
        self._deliver()

    def _deliver(self) -> None:
        assert self._connection is not None
        for notification in self._connection.notifies:
            self._read_model.changed(notification.payload)
        self._metrics.notifications.inc(amount=len(self._connection.notifies))
        self._connection.notifies.clear()

    def _lost(self) -> None:
        log.warning("lost the connection listening for changes; reading from PostgreSQL")
        self._stop_listening()
        self._read_model.listening_lost()
        self._metrics.listener_connected.set(value=0)
        self._reconnect_soon()

    async def _probe_forever(self) -> None:
        while True:
            await asyncio.sleep(self._probe_interval)
            if self._connection is not None and not await self._answers():
                log.warning("the connection listening for changes did not answer a probe")
                self._lost()

    async def _answers(self) -> bool:
        """Whether the listening connection answers `SELECT 1` within the probe's deadline.

        The event loop stops watching the socket meanwhile, so only the probe's thread uses
        the connection; notifications that arrive during the probe are delivered after it.
        """
        connection = self._connection
        assert connection is not None
        loop = asyncio.get_running_loop()
        loop.remove_reader(self._fd)
        self._probe = loop.run_in_executor(None, _select_one, connection)
        try:
            async with asyncio.timeout(self._probe_deadline):
                await asyncio.shield(self._probe)
        except TimeoutError:
            shut_down(connection)  # the probe's thread gets an error now, and ends
            await asyncio.gather(self._probe, return_exceptions=True)
            return False
        except psycopg2.Error:
            return False
        finally:
            self._probe = None
        loop.add_reader(self._fd, self._on_readable)
        self._deliver()
        return True

    def _reconnect_soon(self) -> None:
        self._reconnecting = asyncio.get_running_loop().create_task(self._reconnect())

    async def _reconnect(self) -> None:
        while True:
            await asyncio.sleep(RECONNECT_DELAY)
            try:
                await self._listen()
            except psycopg2.Error:
                continue
            self._metrics.listener_reconnects.inc()
            log.info("listening for changes again")
            return

    def _stop_listening(self) -> None:
        if self._connection is not None:
            asyncio.get_running_loop().remove_reader(self._fd)
            self._connection.close()
            self._connection = None

    async def close(self) -> None:
        for task in (self._reconnecting, self._probing):
            if task is not None:
                task.cancel()
        if self._probe is not None and self._connection is not None:
            shut_down(self._connection)  # close() would wait for the probe's thread
            await asyncio.gather(self._probe, return_exceptions=True)
        self._stop_listening()


def _select_one(connection: Connection) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


@asynccontextmanager
async def open_listener(
    settings: Settings, read_model: ReadModel, metrics: ServiceMetrics
) -> AsyncIterator[Listener]:
    """A Listener feeding `read_model` for the lifetime of the block."""
    parameters = {
        **connect_kwargs(settings),
        "dsn": settings.listen_dsn,
        "application_name": "config-service-listener",
        # It only ever receives, so nothing else would notice a peer gone silent (a network
        # black hole): probe after 5 s of quiet, give up after 3 unanswered probes a second apart.
        "keepalives_idle": 5,
        "keepalives_interval": 1,
        "keepalives_count": 3,
    }
    listener = Listener(
        lambda: psycopg2.connect(**parameters),
        read_model,
        metrics,
        probe_deadline=settings.db_statement_timeout + GRACE,
    )
    await listener.start()
    try:
        yield listener
    finally:
        await listener.close()
