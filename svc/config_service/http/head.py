"""HEAD wherever GET: routed as a GET, answered with its status and headers but no body.

RFC 9110 (9.3.2) asks it of a general-purpose server; FastAPI routes HEAD nowhere by itself.
"""

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class HeadMiddleware:
    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def send_without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}  # Content-Length still says the GET's size
            await send(message)

        as_get = {**scope, "method": "GET"}  # a copy: the server and the log still see HEAD
        try:
            await self.app(as_get, receive, send_without_body)
        finally:
            if "route" in as_get:
                scope["route"] = as_get["route"]  # so the request log names the route
