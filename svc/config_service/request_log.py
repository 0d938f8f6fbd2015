"""Request ids and the request log: one line per request, and one traceback per failure."""

import logging
import random
import re
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send
from ulid import base32

from config_service.errors import problem

log = logging.getLogger("config_service.requests")

# Short and printable, so a caller's id is safe to echo in headers and logs.
ACCEPTABLE_REQUEST_ID = re.compile(rb"[\x21-\x7e]{1,128}")


def _new_request_id() -> str:
    """A ULID: time-ordered, so ids sort like the log.

    Built from random.getrandbits rather than os.urandom: an id needs no cryptographic
    randomness, and a system call here would hand the GIL to the database threads.
    """
    milliseconds = time.time_ns() // 1_000_000
    return base32.encode((milliseconds << 80 | random.getrandbits(80)).to_bytes(16))


def _incoming_request_id(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"x-request-id" and ACCEPTABLE_REQUEST_ID.fullmatch(value):
            return value.decode()
    return None


class RequestLogMiddleware:
    """Gives each request an id (the caller's X-Request-ID or a new ULID), echoes it, logs it."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = _incoming_request_id(scope) or _new_request_id()
        scope.setdefault("state", {})["request_id"] = request_id
        status = 0

        async def send_with_request_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_request_id)
        except Exception:
            # Logged once here, and not re-raised, so the server does not log it again.
            log.exception("unhandled error", extra={"fields": {"request_id": request_id}})
            if not status:
                await problem(scope, 500, "An unexpected error occurred; it has been logged.")(
                    scope, receive, send_with_request_id
                )
        finally:
            if log.isEnabledFor(logging.INFO):
                _log_request(scope, status, started, request_id)


def _log_request(scope: Scope, status: int, started: float, request_id: str) -> None:
    route = scope.get("route")  # FastAPI's matched route: log its template, not the raw path
    log.info(
        "request",
        extra={
            "fields": {
                "method": scope["method"],
                "path": route.path if route else scope["path"][:200],
                "status": status,
                "duration_ms": round((time.perf_counter() - started) * 1000, 3),
                "request_id": request_id,
                "client": scope["client"][0] if scope.get("client") else None,
            }
        },
    )
