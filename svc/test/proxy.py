"""A TCP proxy in front of PostgreSQL that tests can break: cut, refuse, stall, restore.

It runs its own asyncio loop in a thread; the methods are called from test code.
"""

import asyncio
import threading
from urllib.parse import urlsplit


class TcpProxy:
    def __init__(self, target_host: str, target_port: int):
        self.target = (target_host, target_port)
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._flowing = asyncio.Event()

    @classmethod
    def in_front_of(cls, dsn: str) -> "TcpProxy":
        """A proxy to the server `dsn` names; use `proxy.dsn(dsn)` to connect through it."""
        target = urlsplit(dsn)
        return cls(target.hostname, target.port or 5432)

    def __enter__(self) -> "TcpProxy":
        self._thread.start()
        self._call(self._listen())
        self._loop.call_soon_threadsafe(self._flowing.set)
        return self

    def __exit__(self, *exc_info) -> None:
        self._call(self._close(stop_listening=True))
        self._call(self._cancel_pipes())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        self._loop.close()

    def dsn(self, dsn: str) -> str:
        """The same database as `dsn`, reached through this proxy."""
        parts = urlsplit(dsn)
        credentials = parts.netloc.rpartition("@")[0]
        netloc = f"{credentials}@127.0.0.1:{self.port}" if credentials else f"127.0.0.1:{self.port}"
        return parts._replace(netloc=netloc).geturl()

    def cut(self) -> None:
        """Drop every open connection, as a database restart does; new ones still get through."""
        self._call(self._close(stop_listening=False))

    def refuse(self) -> None:
        """Drop every connection and refuse new ones, as a database that is down does."""
        self._call(self._close(stop_listening=True))

    def stall(self) -> None:
        """Keep connections open but forward nothing, as a hung network does."""
        self._loop.call_soon_threadsafe(self._flowing.clear)

    def restore(self) -> None:
        """Accept and forward again."""
        if self._server is None:
            self._call(self._listen())
        self._loop.call_soon_threadsafe(self._flowing.set)

    def _call(self, coroutine):
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=10)

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(
            self._handle, "127.0.0.1", self.port, reuse_address=True
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def _close(self, *, stop_listening: bool) -> None:
        if stop_listening and self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    async def _cancel_pipes(self) -> None:
        others = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        for task in others:
            task.cancel()
        await asyncio.gather(*others, return_exceptions=True)

    async def _handle(self, client_reader, client_writer) -> None:
        try:
            server_reader, server_writer = await asyncio.open_connection(*self.target)
        except OSError:
            client_writer.transport.abort()
            return
        self._writers |= {client_writer, server_writer}
        try:
            await asyncio.gather(
                self._pipe(self._from_client(client_reader, client_writer), server_writer),
                self._pipe(self._from_server(server_reader, client_writer), client_writer),
            )
        finally:
            self._ended(client_writer)

    # What a proxy that watches or holds back what passes overrides (test/listener_proxy.py):
    # the reader each way, given the client's writer to tell connections apart.
    def _from_client(self, reader, client_writer):
        return reader

    def _from_server(self, reader, client_writer):
        return reader

    def _ended(self, client_writer) -> None:
        """The connection of `client_writer` is over."""

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                await self._flowing.wait()
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            self._writers.discard(writer)
            writer.transport.abort()
