"""Errors as RFC 9457 problem+json: the one table from error to status, the rendering, and
the OpenAPI description of each problem an operation can answer with."""

import json
from collections.abc import Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.routing import Match
from starlette.types import Scope

from config_service.errors import (
    AlreadyExists,
    Conflict,
    DatabaseUnavailable,
    DomainError,
    Gone,
    InvalidValue,
    NotFound,
    OutOfScope,
    PreconditionFailed,
    TooLarge,
)
from config_service.http.dependencies import settings_of
from config_service.http.request_ids import request_id_of
from config_service.http.responses import varies
from config_service.telemetry.catalogue import ServiceMetrics

PROBLEM_JSON = "application/problem+json"
INVALID_REQUEST = "Invalid request"
SCHEMA_MISMATCH = "The request does not match the schema; see errors."

# Domain error -> (status, title). Every error a handler raises is listed here, once.
STATUS_OF: dict[type[DomainError], tuple[int, str]] = {
    NotFound: (404, "Not found"),
    OutOfScope: (403, "Forbidden"),
    Gone: (410, "Gone"),
    AlreadyExists: (409, "Already exists"),
    Conflict: (409, "Conflict"),
    PreconditionFailed: (412, "Precondition failed"),
    TooLarge: (413, "Content Too Large"),  # HTTPStatus(413).phrase, as the body-size 413 says
    InvalidValue: (422, "Invalid value"),
    DatabaseUnavailable: (503, "Service unavailable"),
}


def problem(
    scope: Scope,
    status: int,
    detail: str,
    *,
    title: str | None = None,
    errors: Sequence[dict[str, Any]] = (),
    headers: dict[str, str] | None = None,
) -> Response:
    """A problem+json response naming the request it answers."""
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "instance": scope.get("path"),
        "request_id": request_id_of(scope),
    }
    if errors:
        body["errors"] = list(errors)
    return Response(
        json.dumps(body).encode(),
        status_code=status,
        headers={**(headers or {}), **varies(scope)},
        media_type=PROBLEM_JSON,
    )


def _domain_error_handler(metrics: ServiceMetrics):
    async def domain_error(request: Request, exc: DomainError) -> Response:
        status, title = STATUS_OF[type(exc)]
        headers = None
        if isinstance(exc, DatabaseUnavailable):
            headers = {"Retry-After": str(exc.retry_after)}
            metrics.db_unavailable.inc(exc.reason)
        return problem(
            request.scope, status, exc.detail, title=title, errors=exc.errors, headers=headers
        )

    return domain_error


async def _request_validation_error(request: Request, exc: RequestValidationError) -> Response:
    errors = [_validation_error(error, exc.body) for error in exc.errors()]
    return problem(request.scope, 422, SCHEMA_MISMATCH, title=INVALID_REQUEST, errors=errors)


def _validation_error(error: dict[str, Any], body: Any) -> dict[str, Any]:
    if error["type"] == "json_invalid" and isinstance(body, str):
        # FastAPI says "JSON decode error" at a character offset: say what, at which line and
        # column, as json.JSONDecodeError does.
        position = error["loc"][-1]
        reason = json.JSONDecodeError(
            error.get("ctx", {}).get("error", "Invalid JSON"), body, position
        )
        return {"loc": ["body"], "msg": f"Invalid JSON: {reason}"}
    return {"loc": list(error["loc"]), "msg": error["msg"]}


async def _http_error(request: Request, exc: HTTPException) -> Response:
    headers, detail = exc.headers, str(exc.detail)
    if exc.status_code == 400 and detail == UNDECODABLE_BODY:
        detail = _why_undecodable(request, exc.__cause__) or detail
    if exc.status_code == 405:
        headers = {**(headers or {}), "Allow": ", ".join(allowed_methods(request))}
    if exc.status_code == 404 and _served_without_trailing_slash(request):
        path = request.scope["path"].rstrip("/")
        detail = f"No such path; {path} (without the trailing slash) is served."
    return problem(request.scope, exc.status_code, detail, headers=headers)


# FastAPI 0.116.1 (fastapi/routing.py) answers any error but a JSON syntax error met while
# parsing a body with these words, the error itself chained as the cause (`raise ... from`);
# problems_test.py fails if either changes.
UNDECODABLE_BODY = "There was an error parsing the body"


def _why_undecodable(request: Request, cause: BaseException | None) -> str | None:
    """Name what made a body undecodable, for the causes a client can meet."""
    if isinstance(cause, RecursionError):
        depth = settings_of(request).max_json_depth
        return (
            "The JSON body is nested too deeply to be parsed: config may nest objects and "
            f"arrays at most {depth} deep (MAX_JSON_DEPTH)."
        )
    if isinstance(cause, UnicodeDecodeError):
        return (
            f"The body is not UTF-8 (byte 0x{cause.object[cause.start]:02x} at offset "
            f"{cause.start}): send JSON encoded as UTF-8."
        )
    if isinstance(cause, ValueError) and "integer string conversion" in str(cause):
        return "A number in the body has more than 4,300 digits (the most an integer may have)."
    return None


def _served_without_trailing_slash(request: Request) -> bool:
    path = request.scope["path"]
    if path == "/" or not path.endswith("/"):
        return False
    scope = {**request.scope, "path": path.rstrip("/")}
    return any(route.matches(scope)[0] is not Match.NONE for route in request.app.router.routes)


def allowed_methods(request: Request) -> list[str]:
    """Every method some route serves at this path (Starlette's 405 names only the first)."""
    methods = set()
    for route in request.app.router.routes:
        match, _ = route.matches(request.scope)
        if match is not Match.NONE:
            methods |= getattr(route, "methods", None) or set()
    if "GET" in methods:
        methods.add("HEAD")  # HEAD is answered wherever GET is (http/head.py)
    return sorted(methods)


def install_problem_handlers(app: FastAPI, metrics: ServiceMetrics) -> None:
    """Every error a client can cause becomes problem+json; this is the one table of how."""
    app.add_exception_handler(DomainError, _domain_error_handler(metrics))
    app.add_exception_handler(RequestValidationError, _request_validation_error)
    app.add_exception_handler(HTTPException, _http_error)
