"""Floors for the watch benchmarks: apps that do nothing but hold requests until released.

GET /hold waits on one shared asyncio Future, then answers a ~1 KB JSON body made once (as
the service answers with bytes it already has); POST /release resolves that Future, freeing
every held request at once; GET /held says how many are held; GET /constant (FastAPI only)
answers that body at once, with no middleware: the ceiling of a GET from memory. `fastapi` is a minimal FastAPI
app, `asgi` the same in bare ASGI (what FastAPI itself costs). Served like the service:
uvicorn on `listening_socket`, access log off. Run as `python -m bench.floor` (FLOOR, PORT,
and FLOOR_BODY_BYTES to answer a larger body, as large as the representation it stands in for).
"""

import asyncio
import json
import os

import uvicorn
from fastapi import FastAPI, Response

from bench.data import CONFIG
from config_service.process.serving import listening_socket

BODY = json.dumps({"id": "0" * 26, "name": "floor", "comments": "", "config": CONFIG}).encode()
PADDING_MEMBER = len(', "padding": ""')


def padded(size: int) -> bytes:
    """BODY with a `padding` member, `size` bytes in all (BODY itself if it is that large)."""
    if size < len(BODY) + PADDING_MEMBER:
        return BODY
    content = json.loads(BODY) | {"padding": "x" * (size - len(BODY) - PADDING_MEMBER)}
    return json.dumps(content).encode()


class Gate:
    """One Future that every held request awaits; `release` resolves it and sets a new one."""

    def __init__(self):
        self._opened: asyncio.Future | None = None
        self.held = 0

    async def wait(self) -> None:
        if self._opened is None:
            self._opened = asyncio.get_running_loop().create_future()
        opened = self._opened
        self.held += 1
        try:
            # Awaited directly: uvicorn never cancels a request's task (a client hanging up
            # only marks it disconnected), which would cancel the Future for every waiter.
            await opened
        finally:
            self.held -= 1

    def release(self) -> None:
        if self._opened is not None:
            self._opened.set_result(None)
            self._opened = None


def create_fastapi_floor(body: bytes = BODY) -> FastAPI:
    app = FastAPI()
    gate = Gate()

    @app.get("/hold")
    async def hold() -> Response:
        await gate.wait()
        return Response(body, media_type="application/json")

    @app.post("/release")
    async def release() -> Response:
        gate.release()
        return Response(status_code=204)

    @app.get("/held")
    async def held() -> dict[str, int]:
        return {"held": gate.held}

    @app.get("/constant")
    async def constant() -> Response:
        """The least a FastAPI endpoint does: the read phase's ceiling for a GET."""
        return Response(body, media_type="application/json")

    return app


def create_asgi_floor(body: bytes = BODY):
    gate = Gate()

    async def app(scope, receive, send):
        if scope["type"] == "lifespan":  # nothing to set up or tear down
            await receive()  # lifespan.startup
            await send({"type": "lifespan.startup.complete"})
            await receive()  # lifespan.shutdown
            await send({"type": "lifespan.shutdown.complete"})
            return
        route = (scope["method"], scope["path"])
        status, answer = 404, b""
        if route == ("GET", "/hold"):
            await gate.wait()
            status, answer = 200, body
        elif route == ("POST", "/release"):
            gate.release()
            status = 204
        elif route == ("GET", "/held"):
            status, answer = 200, f'{{"held":{gate.held}}}'.encode()
        # Without content-length, uvicorn would send the body chunked.
        headers = [(b"content-length", str(len(answer)).encode())]
        if answer:
            headers.append((b"content-type", b"application/json"))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": answer})

    return app


FLOORS = {"fastapi": create_fastapi_floor, "asgi": create_asgi_floor}


def main() -> None:
    size = os.environ.get("FLOOR_BODY_BYTES")
    body = padded(int(size)) if size else BODY
    app = FLOORS[os.environ.get("FLOOR", "fastapi")](body)
    config = uvicorn.Config(app, access_log=False, log_level="warning")
    uvicorn.Server(config).run(sockets=[listening_socket("127.0.0.1", int(os.environ["PORT"]))])


if __name__ == "__main__":
    main()
