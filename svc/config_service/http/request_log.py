"""The request log and the HTTP metrics: one line per request (and one
traceback per failure), one count and one duration per request."""

import logging
import time
from typing import ClassVar

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from config_service.http.problems import problem
from config_service.http.request_ids import assign_request_id, incoming_request_id
from config_service.telemetry.catalogue import ServiceMetrics, http_labels
from config_service.telemetry.logs import records_differ_by_more_than_time

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
        request_id = assign_request_id(scope, incoming_request_id(scope))
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
        methods = route.methods if route else ()
        path = route.path if route else None
        labels = http_labels(path, methods, scope["method"], status)
        self.metrics.http_requests.inc(*labels)
        if status == 304:
            self.metrics.not_modified.inc()
        if "held" not in scope["state"]:  # a watch's wait is not latency: see watch metrics
            self.metrics.http_duration.observe(labels[0], labels[1], value=seconds)


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
    caller = scope["state"].get("caller")  # the token's name (http/bearer.py), never its secret
    if caller is not None:
        fields["token"] = caller.name
    # A held GET (Prefer: wait) says how its wait ended: changed, timeout, shed, lost, shutdown
    # or gone.
    held = scope["state"].get("held")
    if held is not None:
        fields["held"] = held.outcome
        fields["held_ms"] = round(held.seconds * 1000, 1)
    revision = scope["state"].get("revision")  # a configuration's, after a write
    if revision is not None:
        fields["revision"] = revision
    rollout = scope["state"].get("rollout")  # Config-Rollout's percentage, on a PUT
    if rollout is not None:
        fields["rollout"] = rollout
    if scope["state"].get("dry_run"):  # ?dry_run: answered, nothing committed
        fields["dry_run"] = True
    if records_differ_by_more_than_time():
        log.log(level, "request", extra={"fields": fields})
    else:
        log.handle(RequestRecord(level, fields))


class RequestRecord(logging.LogRecord):
    """A request's line: to the request logger's filters and handlers (and pytest's caplog)
    a LogRecord like any other, made for less. LogRecord.__init__ works out for every record
    what, as configure_logging sets logging up, is the same for every request line of a level
    (logger, level name, message, no source, thread, process or task; what that costs: see
    docs/performance.md). Here those come from one record made the usual way, and only the
    time is new.

    Leans on LogRecord's internals (its attributes, and how __init__ sets the time), as in
    CPython 3.13; request_log_test.py compares it with Logger.log's record and fails if they
    change."""

    _usual: ClassVar[dict[int, dict[str, object]]] = {}  # by level: a usual record's attributes

    def __init__(self, level: int, fields: dict[str, object]) -> None:
        usual = self._usual.get(level)
        if usual is None:  # as Logger.log makes it, for a line whose source is not looked up
            source = ("(unknown file)", 0, "request", (), None, "(unknown function)")
            made = log.makeRecord(log.name, level, *source)
            usual = self._usual[level] = vars(made)
        self.__dict__.update(usual)
        now = time.time_ns()  # the time as LogRecord.__init__ keeps it
        self.created = now / 1e9
        self.msecs = (now % 1_000_000_000) // 1_000_000 + 0.0
        if self.msecs == 999.0 and int(self.created) != now // 1_000_000_000:
            self.msecs = 0.0  # the float seconds rounded up to the next second
        self.relativeCreated = usual["relativeCreated"] + (now / 1e6 - usual["created"] * 1e3)
        self.fields = fields
