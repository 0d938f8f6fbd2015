"""What the routers depend on and check: the app-scoped objects, reached only through the
functions below (never through `request.app.state` elsewhere), created in main.py.

Plain functions of the request, not FastAPI `Depends`: FastAPI solves a dependency anew on
every request (a measurable part of a GET from memory: docs/performance.md), for objects that
are the same for every request of the app. Parameters the client sends stay declared (below).
"""

import inspect
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Header, Path, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import TypeAdapter, ValidationError

from config_service.bus import MessageBus
from config_service.errors import InvalidValue, TooLarge
from config_service.fields import ULID_JSON_SCHEMA, Ulid, check_json_document
from config_service.representation import check_entity_tags
from config_service.settings import Settings
from config_service.telemetry.catalogue import ServiceMetrics


def bus_of(request: Request) -> MessageBus:
    """The app's bus."""
    return request.app.state.bus


def settings_of(request: Request) -> Settings:
    """The settings the app was made with (a process may hold apps of different settings)."""
    return request.app.state.settings


def metrics_of(request: Request) -> ServiceMetrics:
    """The families the app records into (for what only a router sees, e.g. revisions)."""
    return request.app.state.metrics


def dry_run_of(request: Request) -> bool:
    """`?dry_run` (or `=true`): the write is tried and answered, and nothing is committed. The
    request log says so."""
    value = request.query_params.get("dry_run")
    if value is None or value.lower() in ("false", "0"):
        return False
    if value.lower() not in ("", "true", "1"):
        raise InvalidValue("dry_run takes no value: ?dry_run.", loc=("query", "dry_run"))
    request.state.dry_run = True
    return True


def check_body_id(body_id: str | None, path_id: str) -> None:
    """A GET's body sent back names its resource: it must be the one in the path."""
    if body_id not in (None, path_id):
        raise InvalidValue(f"id must be {path_id}, the id in the path.", loc=("body", "id"))


def check_config_depth(config: dict[str, Any], settings: Settings) -> None:
    """MAX_JSON_DEPTH, with the app's settings in hand: 422 on `config` as if from the schema."""
    try:
        check_json_document(config, max_depth=settings.max_json_depth)
    except ValueError as error:
        loc = ("body", "config")
        raise RequestValidationError(
            [{"type": "value_error", "loc": loc, "msg": f"Value error, {error}", "input": config}]
        ) from None


def check_representation_size(size: int, settings: Settings) -> None:
    """What a write stores must come back in a GET whose body can be PUT back: its
    representation within MAX_BODY_BYTES too (PostgreSQL adds spaces, spells numbers out)."""
    if size > settings.max_body_bytes:
        raise TooLarge(
            f"Stored, this would be {size} bytes as a GET answers it (PostgreSQL writes "
            '", " and ": " between members and numbers in full, 1e300 in 301 digits), over '
            f"MAX_BODY_BYTES ({settings.max_body_bytes}); a GET's body must fit in a PUT."
        )


class PathId:
    """A resource's `{id}` path parameter, documented with an example id. Routes FastAPI
    solves anyway (a PUT's body) declare it (`declared`); the GETs runtimes call most read it
    with `of` and add `openapi` to their parameters, since FastAPI's solving of that one
    parameter costs a part of a GET from memory (docs/performance.md). Either way a bad id is the
    same 422 on ("path", "id")."""

    _ULID = TypeAdapter(Ulid)

    def __init__(self, resource: str, example: str):
        description = f"The {resource}'s id."
        examples = {resource: {"value": example}}
        self.declared: Any = Annotated[
            Ulid, Path(description=description, openapi_examples=examples)
        ]
        self.openapi = {
            "name": "id",
            "in": "path",
            "required": True,
            "schema": {**ULID_JSON_SCHEMA, "title": "Id"},
            "description": description,
            "examples": examples,
        }

    def of(self, request: Request) -> str:
        """The id in the request's path, canonical (upper case)."""
        value = request.path_params["id"]
        try:
            return self._ULID.validate_python(value)
        except ValidationError as error:
            errors = [{**e, "loc": ("path", "id", *e["loc"])} for e in error.errors()]
            raise RequestValidationError(errors) from None


def if_match_header(resource: str) -> Any:
    """The optional If-Match header of a resource's PUT."""
    description = f"Apply only if the {resource}'s ETag is still this one."
    return Annotated[str | None, Header(alias="If-Match", description=description)]


def check_if_match(if_match: str | None) -> None:
    """If-Match, when sent, holds entity-tags: 422 on the header otherwise, before any write."""
    if if_match is not None:
        check_entity_tags("If-Match", if_match)


class RequestRoute(APIRoute):
    """The route class of the resource routers: an endpoint that takes the Request alone (it
    reads what it needs itself, as the GETs by id do with PathId.of) is called directly. For
    it, FastAPI's request handler would solve no parameters, yet make a Response for
    dependencies to set headers on and open two exit stacks: a part of a GET from memory
    (docs/performance.md). Other endpoints keep that handler. Either way the OpenAPI document
    is the same: it is made from the route's declaration, not from its handler.

    Leans on FastAPI's internals (checked against fastapi 0.116.1, the pinned version): the
    fields of a route's `Dependant` read below, and `get_route_handler`; dependencies_test.py
    fails if a field is renamed or a kind of parameter is added that this does not look at."""

    def get_route_handler(self) -> Callable[[Request], Awaitable[Response]]:
        if not _takes_the_request_alone(self):
            return super().get_route_handler()
        endpoint = self.endpoint

        async def answer(request: Request) -> Response:
            response = await endpoint(request)
            if not isinstance(response, Response):  # what FastAPI would serialise instead
                raise TypeError(f"{endpoint.__name__} must return a Response")
            return response

        return answer


def _takes_the_request_alone(route: APIRoute) -> bool:
    dependant = route.dependant
    return (
        inspect.iscoroutinefunction(route.endpoint)
        and route.body_field is None
        and dependant.request_param_name is not None
        and not dependant.dependencies
        and not any(
            (
                dependant.path_params,
                dependant.query_params,
                dependant.header_params,
                dependant.cookie_params,
                dependant.body_params,
                dependant.security_requirements,
                dependant.response_param_name,
                dependant.background_tasks_param_name,
                dependant.http_connection_param_name,
                dependant.websocket_param_name,
                dependant.security_scopes_param_name,
            )
        )
    )
