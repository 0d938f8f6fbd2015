"""A TcpProxy that tells the service's listening connection from its pool, by application_name.

Besides breaking every connection (cut, refuse, stall), it can hold back what PostgreSQL sends
the listening connection, its change notifications, while that connection stays up (the
notification lag, made as long as a test needs); refuse listening connections while the
pool's still get through (PostgreSQL up, listener down); and hold back what PostgreSQL answers
the pool (a read that PostgreSQL has made, still on its way). Give the service
`proxy.dsn(...)`: it turns TLS off, so the startup message that names the application is
readable.
"""

import asyncio
from urllib.parse import urlsplit

from test.proxy import TcpProxy

LISTENER = b"config-service-listener"  # the listener's application_name (listener.py)
STARTUP_BYTES = 4096  # the startup message comes first, after the 8-byte SSLRequest


class ListenerProxy(TcpProxy):
    def __init__(self, target_host: str, target_port: int):
        super().__init__(target_host, target_port)
        self._notifying = asyncio.Event()
        self._notifying.set()
        self._answering = asyncio.Event()
        self._answering.set()
        self.answers_held = 0  # what PostgreSQL sent the pool and was held back, so far
        self._refusing_listener = False
        self._listeners: set[asyncio.StreamWriter] = set()
        self.listening_connections = 0  # listening connections seen so far, refused ones too

    def dsn(self, dsn: str) -> str:
        """The same database as `dsn`, through this proxy, without TLS."""
        proxied = urlsplit(super().dsn(dsn))
        query = "&".join(filter(None, [proxied.query, "sslmode=disable"]))
        return proxied._replace(query=query).geturl()

    def hold_notifications(self) -> None:
        """Deliver nothing more to listening connections until `release_notifications`."""
        self._call(_switch(self._notifying, False))

    def release_notifications(self) -> None:
        self._call(_switch(self._notifying, True))

    def hold_answers(self) -> None:
        """Deliver nothing more to the pool's connections until `release_answers`."""
        self._call(_switch(self._answering, False))

    def release_answers(self) -> None:
        self._call(_switch(self._answering, True))

    def refuse_listener(self) -> None:
        """Drop listening connections as soon as they say who they are; the pool's still pass.
        Open ones are left alone (kill them in PostgreSQL, as a restart of its backend would)."""
        self._refusing_listener = True

    def admit_listener(self) -> None:
        self._refusing_listener = False

    def _from_client(self, reader, client_writer):
        return _Sniffing(self, reader, client_writer)

    def _from_server(self, reader, client_writer):
        return _Held(self, reader, client_writer)

    def _ended(self, client_writer) -> None:
        self._listeners.discard(client_writer)

    def _identified(self, client_writer: asyncio.StreamWriter) -> bool:
        """A listening connection said who it is: False when it must be dropped."""
        self.listening_connections += 1
        if self._refusing_listener:
            return False
        self._listeners.add(client_writer)
        return True


async def _switch(event: asyncio.Event, on: bool) -> None:
    """Set or clear `event` in the proxy's loop; called through `_call`, so done on return."""
    if on:
        event.set()
    else:
        event.clear()


class _Sniffing:
    """The client's side of a connection, read until its startup message has been seen."""

    def __init__(self, proxy: ListenerProxy, reader, client_writer):
        self._proxy, self._reader, self._client_writer = proxy, reader, client_writer
        self._start = b""  # the first bytes, until the listener's name is found in them or not

    async def read(self, size: int) -> bytes:
        data = await self._reader.read(size)
        if self._start is not None:
            self._start += data
            if LISTENER in self._start:
                self._start = None
                if not self._proxy._identified(self._client_writer):
                    self._client_writer.transport.abort()
                    return b""  # ends this pipe, which closes PostgreSQL's side too
            elif len(self._start) > STARTUP_BYTES:
                self._start = None
        return data


class _Held:
    """PostgreSQL's side of a connection: held back while notifications are, for a listening
    connection, or answers are, for the others."""

    def __init__(self, proxy: ListenerProxy, reader, client_writer):
        self._proxy, self._reader, self._client_writer = proxy, reader, client_writer

    async def read(self, size: int) -> bytes:
        data = await self._reader.read(size)
        if self._client_writer in self._proxy._listeners:
            await self._proxy._notifying.wait()
        elif data and not self._proxy._answering.is_set():
            self._proxy.answers_held += 1
            await self._proxy._answering.wait()
        return data
