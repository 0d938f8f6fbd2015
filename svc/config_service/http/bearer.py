"""Who is calling: the bearer token of every /api/ and /metrics request, checked against the
tokens in force, and the Caller it identifies left in the ASGI scope for what follows.

401 without a token, with an unknown one or an expired one; 403 for a read token writing and
for /metrics without a global token. Scope (which applications) is decided further in, where
the application's name is known. Health checks and docs stay open.

Every answer to a guarded request depends on its token (scope decides 200 or 404), so every
one is marked `Cache-Control: private` (and `Vary: Authorization`) here, whatever shaped it:
no shared cache may then serve it to another caller, and no route can forget to say so.
"""

from datetime import UTC, datetime

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from config_service.access.reload import TokenSource
from config_service.http.problems import problem

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
GUARDED_PREFIXES = ("/api/", "/metrics")
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="config-service"'}
INVALID = "Send a valid token as `Authorization: Bearer <token>`."
EXPIRED = "This token has expired; ask for a new one."
READ_ONLY = "This token may read but not write."
NOT_GLOBAL = '/metrics needs a token whose applications are "*".'


def _bearer_token(scope: Scope) -> bytes | None:
    # Latin-1 round-trips the header's raw bytes, so a non-ASCII token simply matches nothing.
    scheme, _, token = Headers(scope=scope).get("authorization", "").partition(" ")
    token = token.strip()
    return token.encode("latin-1") if scheme.lower() == "bearer" and token else None


def private(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """A response's raw headers (lower-case names, as Starlette writes them) with `private`
    first in Cache-Control and Authorization last in Vary, each added if absent."""
    marked, cache_control, vary = [], False, False
    for name, value in headers:
        if name == b"cache-control":
            value, cache_control = b"private, " + value, True
        elif name == b"vary":
            value, vary = value + b", Authorization", True
        marked.append((name, value))
    if not cache_control:
        marked.append((b"cache-control", b"private"))
    if not vary:
        marked.append((b"vary", b"Authorization"))
    return marked


class AccessMiddleware:
    """Installed only when tokens are configured (API_TOKENS_FILE or API_*_TOKENS)."""

    def __init__(self, app: ASGIApp, *, tokens: TokenSource):
        self.app = app
        self.tokens = tokens

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(GUARDED_PREFIXES):
            await self._guarded(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    async def _guarded(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_private(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = private(message["headers"])
            await send(message)

        secret = _bearer_token(scope)
        token = None if secret is None else self.tokens.table.find(secret)
        refusal = None
        # The clock is read only for tokens that can expire: most requests skip it.
        if token is None or (token.expires and token.expired(datetime.now(UTC))):
            refusal = 401, INVALID if token is None else EXPIRED, CHALLENGE
        else:
            scope.setdefault("state", {})["caller"] = token.caller  # logged by name
            if scope["method"] not in READ_METHODS and not token.caller.may_write:
                refusal = 403, READ_ONLY, None
            elif scope["path"].startswith("/metrics") and not token.caller.scope.everything:
                refusal = 403, NOT_GLOBAL, None
        if refusal is not None:
            status, detail, headers = refusal
            await problem(scope, status, detail, headers=headers)(scope, receive, send_private)
            return
        await self.app(scope, receive, send_private)
