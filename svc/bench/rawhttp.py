"""A bare asyncio HTTP/1.1 client: one request per connection, written by hand.

Made for holding 10,000 requests at once from one process: a Protocol per connection and a
buffer, no streams, no client library. It records when each answer's last byte arrived, so
times measured with it are the same for the service and for the floors. Requests carry
`Connection: close`, and the connection is closed on the server's FIN, so the server closes
first and its side, not ours, keeps TIME_WAIT.
"""

import asyncio
import resource
import time
from dataclasses import dataclass

HOST = "127.0.0.1"
NO_BODY_STATUSES = {204, 304}


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]  # names in lower case
    body: bytes
    received: float  # time.perf_counter() when its last byte arrived


def request_bytes(
    method: str, path: str, headers: dict[str, str] | None = None, body: bytes = b""
) -> bytes:
    """An HTTP/1.1 request that asks the server to close the connection after answering."""
    lines = [f"{method} {path} HTTP/1.1", f"Host: {HOST}", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    if body or method in ("POST", "PUT"):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def _dechunk(data: bytes) -> bytes | None:
    """The body of a chunked message, or None while its last chunk has not arrived."""
    body, position = bytearray(), 0
    while True:
        end_of_size = data.find(b"\r\n", position)
        if end_of_size < 0:
            return None
        size = int(data[position:end_of_size].split(b";")[0], 16)
        start = end_of_size + 2
        if size == 0:
            return bytes(body) if data.find(b"\r\n", start) >= 0 else None
        if len(data) < start + size + 2:
            return None
        body += data[start : start + size]
        position = start + size + 2


def parse_answer(data: bytes, received: float, closed: bool = False) -> Answer | None:
    """The response in `data`, or None while it is incomplete.

    Bodies are framed by Content-Length or chunked encoding; failing both, by the connection
    closing (`closed`).
    """
    head_end = data.find(b"\r\n\r\n")
    if head_end < 0:
        return None
    status_line, *header_lines = data[:head_end].decode("latin-1").split("\r\n")
    status = int(status_line.split(" ", 2)[1])
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    rest = data[head_end + 4 :]
    if status in NO_BODY_STATUSES:
        body = b""
    elif "content-length" in headers:
        length = int(headers["content-length"])
        if len(rest) < length:
            return None
        body = rest[:length]
    elif headers.get("transfer-encoding", "").lower() == "chunked":
        body = _dechunk(rest)
        if body is None:
            return None
    elif closed:
        body = rest
    else:
        return None
    return Answer(status, headers, body, received)


class _Exchange(asyncio.Protocol):
    """Writes one request on connecting; resolves `answer` with the response."""

    def __init__(self, request: bytes, answer: asyncio.Future):
        self._request = request
        self._answer = answer
        self._data = bytearray()
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:
        self._transport = transport
        # Giving up on an answer (cancelling it) hangs up, so the server stops holding it.
        self._answer.add_done_callback(lambda answer: answer.cancelled() and transport.close())
        transport.write(self._request)

    def data_received(self, data: bytes) -> None:
        received = time.perf_counter()
        self._data += data
        if not self._answer.done():
            answer = parse_answer(bytes(self._data), received)
            if answer is not None:
                # Not closed here: the server closes first (Connection: close), and closing
                # on its FIN keeps TIME_WAIT on its side. Closing now would race that FIN and
                # leave thousands of TIME_WAIT sockets here, which slow down every connect().
                self._answer.set_result(answer)

    def connection_lost(self, error: Exception | None) -> None:
        if self._answer.done():
            return
        answer = parse_answer(bytes(self._data), time.perf_counter(), closed=True)
        if answer is not None:
            self._answer.set_result(answer)
        else:
            self._answer.set_exception(error or ConnectionError("closed before an answer"))


async def send(port: int, request: bytes) -> asyncio.Future:
    """Connect and write `request`; the returned Future resolves with the Answer.

    Returns once the request is written, not answered: a held request stays pending.
    Cancelling the Future closes the connection.
    """
    loop = asyncio.get_running_loop()
    answer = loop.create_future()
    try:
        await loop.create_connection(lambda: _Exchange(request, answer), HOST, port)
    except OSError as error:
        answer.set_exception(error)
    return answer


async def fetch(port: int, request: bytes, timeout: float = 30) -> Answer:
    """Send `request` and wait for its answer."""
    return await asyncio.wait_for(await send(port, request), timeout)


async def send_many(
    port: int, request: bytes, count: int, at_once: int = 256
) -> list[asyncio.Future]:
    """`count` connections each sending `request`; at most `at_once` connecting at a time,
    so that the server's accept backlog never overflows (a dropped SYN costs a 1 s retry)."""
    gate = asyncio.Semaphore(at_once)

    async def one() -> asyncio.Future:
        async with gate:
            return await send(port, request)

    return list(await asyncio.gather(*(one() for _ in range(count))))


def raise_open_files_limit() -> int:
    """Raise this process's RLIMIT_NOFILE to its hard limit; returns the new soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        # Some systems refuse "infinity" as a soft limit; a million is plenty.
        wanted = 1_048_576 if hard == resource.RLIM_INFINITY else hard
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
        soft = wanted
    return soft
