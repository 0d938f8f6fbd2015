"""Request ids and the request log: one line per request, and one traceback per failure."""

import logging
import random
import re
import time

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from ulid import base32

log = logging.getLogger("config_service.requests")

# Short and printable, so a caller's id is safe to echo in headers and logs.
ACCEPTABLE_REQUEST_ID = re.compile(r"[\x21-\x7e]{1,128}")
# Paths polled by machines: logged at debug, so they do not drown the requests that matter.
QUIET_PATHS = frozenset({"/metrics", "/health/live", "/health/ready"})


def request_id_of(scope: Scope) -> str | None:
    """The request id RequestLogMiddleware gave this request, if it ran."""
    return scope.get("state", {}).get("request_id")


def _new_request_id() -> str:
    """A ULID: time-ordered, so ids sort like the log.

    Built from random.getrandbits rather than os.urandom: an id needs no cryptographic
    randomness, and a system call here would hand the GIL to the database threads.
    """
    milliseconds = time.time_ns() // 1_000_000
    return base32.encode((milliseconds << 80 | random.getrandbits(80)).to_bytes(16))


class RequestLogMiddleware:
    """Gives each request an id (the caller's X-Request-ID or a new ULID), echoes it, logs it."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        incoming = Headers(scope=scope).get("x-request-id")
        if incoming is not None and ACCEPTABLE_REQUEST_ID.fullmatch(incoming):
            request_id = incoming
        else:
            request_id = _new_request_id()
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
                from config_service.problems import problem  # it imports request_id_of from here

                detail = "An unexpected error occurred; it has been logged."
                await problem(scope, 500, detail)(scope, receive, send_with_request_id)
        finally:
            level = logging.DEBUG if scope["path"] in QUIET_PATHS else logging.INFO
            if log.isEnabledFor(level):
                _log_request(level, scope, status, started, request_id)


def _log_request(level: int, scope: Scope, status: int, started: float, request_id: str) -> None:
    route = scope.get("route")  # FastAPI's matched route: log its template, not the raw path
    fields = {
        "method": scope["method"],
        "path": route.path if route else scope["path"][:200],
        "status": status,
        "duration_ms": round((time.perf_counter() - started) * 1000, 3),
        "request_id": request_id,
        "client": scope["client"][0] if scope.get("client") else None,
    }
    # A held GET (Prefer: wait) says how its wait ended: changed, timeout, shed, lost, shutdown.
    held = scope["state"].get("held")
    if held is not None:
        fields["held"] = held.outcome
        fields["held_ms"] = round(held.seconds * 1000, 1)
    log.log(level, "request", extra={"fields": fields})
