"""Optional bearer tokens for /api/ and /metrics: read tokens may GET, write tokens anything."""

import hmac

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from config_service.problems import problem

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
GUARDED_PREFIXES = ("/api/", "/metrics")
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="config-service"'}


def _known(token: bytes, tokens: tuple[bytes, ...]) -> bool:
    # compare_digest takes as long for a near miss as for a far one: no timing oracle.
    return any(hmac.compare_digest(token, known) for known in tokens)


def _bearer_token(scope: Scope) -> bytes | None:
    # Latin-1 round-trips the header's raw bytes, so a non-ASCII token simply matches nothing.
    scheme, _, token = Headers(scope=scope).get("authorization", "").partition(" ")
    token = token.strip()
    return token.encode("latin-1") if scheme.lower() == "bearer" and token else None


class BearerTokenMiddleware:
    """Installed only when tokens are configured; health checks and docs stay open."""

    def __init__(self, app: ASGIApp, *, read_tokens: frozenset[str], write_tokens: frozenset[str]):
        self.app = app
        self.write_tokens = tuple(token.encode() for token in write_tokens)
        self.any_tokens = self.write_tokens + tuple(token.encode() for token in read_tokens)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(GUARDED_PREFIXES):
            token = _bearer_token(scope)
            if token is None or not _known(token, self.any_tokens):
                detail = "Send a valid token as `Authorization: Bearer <token>`."
                await problem(scope, 401, detail, headers=CHALLENGE)(scope, receive, send)
                return
            if scope["method"] not in READ_METHODS and not _known(token, self.write_tokens):
                detail = "This token may read but not write."
                await problem(scope, 403, detail)(scope, receive, send)
                return
        await self.app(scope, receive, send)
