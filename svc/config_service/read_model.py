"""Revalidations (GET with If-None-Match) answered from memory, without asking PostgreSQL.

Runtimes poll their configuration with If-None-Match. Each worker remembers the ETag of
what it has served, so a poll naming the current ETag is answered 304 at once. Triggers
(migration 0003) NOTIFY every commit's changed ids; each worker LISTENs on a connection of
its own and forgets those ETags. A worker forgets everything after its own writes, and
remembers nothing while its listening connection is down, so a 304 from memory can lag a
commit made through another worker only by the time its notification takes to arrive.
"""

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import psycopg2
import psycopg2.extensions
from fastapi import Request, Response

from config_service.bus import MessageBus
from config_service.database import connect_kwargs
from config_service.representation import none_match, not_modified, read_response
from config_service.settings import Settings

log = logging.getLogger(__name__)

CHANNEL = "representation_changed"
MAX_REMEMBERED = 100_000  # ids; about 10 MB. Past that, start over.
RECONNECT_DELAY = 1.0


class KnownEtags:
    """The ETags of current representations, as far as this worker knows."""

    def __init__(self, connect: Callable[[], psycopg2.extensions.connection]):
        self._connect = connect
        self._etags: dict[str, str] = {}
        # Bumped whenever anything is forgotten: a read that started before then may have
        # seen the old version, so its ETag must not be remembered (see `remember`).
        self.generation = 0
        self._connection: psycopg2.extensions.connection | None = None
        self._fd = -1  # the connection's socket; fileno() fails once psycopg2 saw it close
        self._reconnecting: asyncio.Task | None = None

    @property
    def listening(self) -> bool:
        return self._connection is not None

    def current(self, resource_id: str) -> str | None:
        return self._etags.get(resource_id)

    def remember(self, resource_id: str, etag: str, generation: int) -> None:
        """Remember an ETag read from the database, if nothing was forgotten since the read."""
        if self.listening and generation == self.generation:
            if len(self._etags) >= MAX_REMEMBERED:
                self._etags.clear()
            self._etags[resource_id] = etag

    def forget(self, resource_id: str) -> None:
        self._etags.pop(resource_id, None)
        self.generation += 1

    def forget_all(self) -> None:
        self._etags.clear()
        self.generation += 1

    async def listen(self) -> None:
        """Open the listening connection; until it is open nothing is remembered."""
        connection = await asyncio.to_thread(self._connect_and_listen)
        self._fd = connection.fileno()
        asyncio.get_running_loop().add_reader(self._fd, self._on_notifications)
        self.forget_all()  # whatever changed while nobody listened
        self._connection = connection

    def _connect_and_listen(self) -> psycopg2.extensions.connection:
        connection = self._connect()
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute(f"LISTEN {CHANNEL}")
        return connection

    def _on_notifications(self) -> None:
        try:
            self._connection.poll()
        except psycopg2.Error:
            self._lost()
            return
        for notification in self._connection.notifies:
            self.forget(notification.payload)
        self._connection.notifies.clear()

    def _lost(self) -> None:
        log.warning("lost the connection listening for changes; revalidating from the database")
        self._stop_listening()
        self.forget_all()
        self._reconnecting = asyncio.get_running_loop().create_task(self._reconnect())

    async def _reconnect(self) -> None:
        while True:
            await asyncio.sleep(RECONNECT_DELAY)
            try:
                await self.listen()
            except psycopg2.Error:
                continue
            log.info("listening for changes again")
            return

    def _stop_listening(self) -> None:
        if self._connection is not None:
            asyncio.get_running_loop().remove_reader(self._fd)
            self._connection.close()
            self._connection = None

    async def close(self) -> None:
        if self._reconnecting is not None:
            self._reconnecting.cancel()
        self._stop_listening()


@asynccontextmanager
async def open_known_etags(settings: Settings) -> AsyncIterator[KnownEtags]:
    """KnownEtags listening for changes for the lifetime of the block."""
    parameters = {**connect_kwargs(settings), "application_name": "config-service-listener"}
    known_etags = KnownEtags(lambda: psycopg2.connect(**parameters))
    await known_etags.listen()
    try:
        yield known_etags
    finally:
        await known_etags.close()


async def revalidated_read(request: Request, bus: MessageBus, query: Any) -> Response:
    """Dispatch a Get… query, or answer 304 from memory when If-None-Match is current."""
    known_etags: KnownEtags = request.app.state.known_etags
    if_none_match = request.headers.get("if-none-match")
    etag = known_etags.current(query.id)
    if if_none_match is not None and etag is not None and not none_match(if_none_match, etag):
        return not_modified(etag)
    generation = known_etags.generation
    representation = await bus.dispatch(query)
    known_etags.remember(query.id, representation.etag, generation)
    return read_response(request, representation)
