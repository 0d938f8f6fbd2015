"""Request bodies of /api/ writes: JSON only (415), no larger than MAX_BODY_BYTES (413), and
`config` no deeper than MAX_JSON_DEPTH (422, checked by the configuration router).

Size and type are decided before FastAPI parses anything: a body over the limit is never read
past the limit, and a non-JSON body never reaches a parser. A request no route serves is left
to routing, so that a method a path does not serve is 405 (and an unknown path 404), not 415.
"""

from starlette.datastructures import Headers
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from config_service.http.problems import problem

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH"})
NOT_JSON = "Send the body as JSON with `Content-Type: application/json`."


def too_large(max_body_bytes: int) -> str:
    return f"The body may be at most {max_body_bytes} bytes."


def _is_json(content_type: str) -> bool:
    media_type = content_type.split(";")[0].strip().lower()
    return media_type == "application/json" or (
        media_type.startswith("application/") and media_type.endswith("+json")
    )


class JsonBodyMiddleware:
    def __init__(self, app: ASGIApp, *, routes: list[BaseRoute], max_body_bytes: int):
        self.app = app
        self.routes = routes  # the app's, read when a request comes: complete by then
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] not in WRITE_METHODS
            or not any(route.matches(scope)[0] is Match.FULL for route in self.routes)
        ):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        if not _is_json(headers.get("content-type", "")):
            await problem(scope, 415, NOT_JSON)(scope, receive, send)
            return
        declared = headers.get("content-length", "0")
        if declared.isdigit() and int(declared) > self.max_body_bytes:
            await self._too_large(scope, receive, send)
            return
        body = bytearray()
        more_body = True
        while more_body:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            more_body = message.get("more_body", False)
            if len(body) > self.max_body_bytes:  # a chunked body that never declared its size
                await self._too_large(scope, receive, send)
                return
        await self.app(scope, _replay(bytes(body), receive), send)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        detail = too_large(self.max_body_bytes)
        await problem(scope, 413, detail, headers={"Connection": "close"})(scope, receive, send)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A receive that hands the app the body already read, then defers to the real one."""
    delivered = False

    async def replayed() -> Message:
        nonlocal delivered
        if delivered:
            return await receive()
        delivered = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replayed
