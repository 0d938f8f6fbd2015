"""The request log and the HTTP metrics: one line per request (and one
traceback per failure), one count and one duration per request."""

import logging
import time

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send


from config_service.problems import problem
from config_service.request_ids import assign_request_id
from config_service.telemetry.catalogue import HTTP_METHODS, UNMATCHED_ROUTE, ServiceMetrics

log = logging.getLogger("config_service.requests")

# Scraped every few seconds by machines: logged at debug, so it does not drown the requests
# that matter. (Health checks stay at info: an operator looks for them when a probe fails.)
QUIET_PATHS = frozenset({"/metrics"})


class RequestLogMiddleware:
    """Gives each request an id (the caller's X-Request-ID or a new ULID), echoes it, logs it,
    and counts it."""

    def __init__(self, app: ASGIApp, *, metrics: ServiceMetrics):
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = assign_request_id(scope, Headers(scope=scope).get("x-request-id"))
        status = 0
        self.metrics.http_in_flight.add(amount=1)

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
                detail = "An unexpected error occurred; it has been logged."
                await problem(scope, 500, detail)(scope, receive, send_with_request_id)
        finally:
            seconds = time.perf_counter() - started
            self.metrics.http_in_flight.add(amount=-1)
            if status:  # 0: the client left before anything was answered
                self._count(scope, status, seconds)
            level = logging.DEBUG if scope["path"] in QUIET_PATHS else logging.INFO
            if log.isEnabledFor(level):
                _log_request(level, scope, status, seconds, request_id)

    def _count(self, scope: Scope, status: int, seconds: float) -> None:
        route = scope.get("route")  # FastAPI's matched route: its template, not the raw path
        template = route.path if route else UNMATCHED_ROUTE
        method = scope["method"] if scope["method"] in HTTP_METHODS else "other"
        self.metrics.http_requests.inc(template, method, f"{status // 100}xx")
        if status == 304:
            self.metrics.not_modified.inc()
        if "held" not in scope["state"]:  # a watch's wait is not latency: see watch metrics
            self.metrics.http_duration.observe(template, value=seconds)


def _log_request(level: int, scope: Scope, status: int, seconds: float, request_id: str) -> None:
    route = scope.get("route")  # FastAPI's matched route: log its template, not the raw path
    fields = {
        "method": scope["method"],
        "path": route.path if route else scope["path"][:200],
        "status": status,
        "duration_ms": round(seconds * 1000, 3),
        "request_id": request_id,
        "client": scope["client"][0] if scope.get("client") else None,
    }
    # A held GET (Prefer: wait) says how its wait ended: changed, timeout, shed, lost, shutdown
    # or gone.
    held = scope["state"].get("held")
    if held is not None:
        fields["held"] = held.outcome
        fields["held_ms"] = round(held.seconds * 1000, 1)
    log.log(level, "request", extra={"fields": fields})
