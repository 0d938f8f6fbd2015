"""Unknown query parameters are refused (422), as unknown body fields are: a typo such as
`?nmae=billing` must not quietly answer as if it were absent (a list of every application).

Pure ASGI before routing, and nothing at all to do for a request without a query string:
the reads runtimes make never pay for it. (As a FastAPI dependency it cost every GET more
than a read from memory does.)
"""

from fastapi.dependencies.utils import get_flat_dependant
from fastapi.routing import APIRoute
from starlette.datastructures import QueryParams
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Receive, Scope, Send

from config_service.http.problems import INVALID_REQUEST, SCHEMA_MISMATCH, problem


class QueryParameterMiddleware:
    def __init__(self, app: ASGIApp, *, routes: list[BaseRoute], prefix: str):
        self.app = app
        self.routes = routes  # the app's, read when a request comes: complete by then
        self.prefix = prefix
        # A route's known names, by the route's id(): routes live as long as the app.
        self._known: dict[int, set[str]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["query_string"]
            and scope["path"].startswith(self.prefix)
        ):
            unknown = self._unknown(scope)
            if unknown:
                errors = [{"loc": ["query", name], "msg": "Unknown parameter"} for name in unknown]
                await problem(scope, 422, SCHEMA_MISMATCH, title=INVALID_REQUEST, errors=errors)(
                    scope, receive, send
                )
                return
        await self.app(scope, receive, send)

    def _unknown(self, scope: Scope) -> list[str]:
        for route in self.routes:
            if isinstance(route, APIRoute) and route.matches(scope)[0] is Match.FULL:
                known = self._known.get(id(route))
                if known is None:
                    flat = get_flat_dependant(route.dependant)
                    known = {parameter.alias for parameter in flat.query_params}
                    known |= _documented_query_parameters(route)
                    self._known[id(route)] = known
                return [name for name in QueryParams(scope["query_string"]) if name not in known]
        return []  # no route: 404 or 405 follows


def _documented_query_parameters(route: APIRoute) -> set[str]:
    """Those a route reads itself and documents in `openapi_extra` (so a GET without a query
    string pays nothing for them): e.g. a configuration's `revision` and `history`."""
    extra = route.openapi_extra or {}
    return {p["name"] for p in extra.get("parameters", ()) if p.get("in") == "query"}
