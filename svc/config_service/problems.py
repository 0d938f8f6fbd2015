"""Errors as RFC 9457 problem+json: the one table from error to status, the rendering, and
the OpenAPI description of each problem an operation can answer with."""

import json
from collections.abc import Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.routing import Match
from starlette.types import Scope

from config_service.errors import (
    AlreadyExists,
    DatabaseUnavailable,
    DomainError,
    Gone,
    InvalidValue,
    NotFound,
    PreconditionFailed,
)
from config_service.metrics import ServiceMetrics
from config_service.request_log import request_id_of

PROBLEM_JSON = "application/problem+json"

# Domain error -> (status, title). Every error a handler raises is listed here, once.
STATUS_OF: dict[type[DomainError], tuple[int, str]] = {
    NotFound: (404, "Not found"),
    Gone: (410, "Gone"),
    AlreadyExists: (409, "Already exists"),
    PreconditionFailed: (412, "Precondition failed"),
    InvalidValue: (422, "Invalid value"),
    DatabaseUnavailable: (503, "Service unavailable"),
}


def varies(scope: Scope) -> dict[str, str]:
    """`Vary: Prefer` for a response to a GET (or HEAD) that carried Prefer, whatever it says:
    another Prefer could have been answered otherwise (held, RFC 7240)."""
    headers = scope.get("headers", ())
    if scope.get("method") in ("GET", "HEAD") and any(name == b"prefer" for name, _ in headers):
        return {"Vary": "Prefer"}
    return {}


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
        errors, headers = (), None
        if isinstance(exc, InvalidValue):
            errors = [{"loc": list(exc.loc), "msg": exc.detail}]
        if isinstance(exc, DatabaseUnavailable):
            headers = {"Retry-After": str(exc.retry_after)}
            metrics.db_unavailable.inc(exc.reason)
        return problem(
            request.scope, status, exc.detail, title=title, errors=errors, headers=headers
        )

    return domain_error


async def _request_validation_error(request: Request, exc: RequestValidationError) -> Response:
    errors = [{"loc": list(error["loc"]), "msg": error["msg"]} for error in exc.errors()]
    detail = "The request does not match the schema; see errors."
    return problem(request.scope, 422, detail, title="Invalid request", errors=errors)


async def _http_error(request: Request, exc: HTTPException) -> Response:
    headers = exc.headers
    if exc.status_code == 405:
        headers = {**(headers or {}), "Allow": ", ".join(allowed_methods(request))}
    return problem(request.scope, exc.status_code, str(exc.detail), headers=headers)


def allowed_methods(request: Request) -> list[str]:
    """Every method some route serves at this path (Starlette's 405 names only the first)."""
    methods = set()
    for route in request.app.router.routes:
        match, _ = route.matches(request.scope)
        if match is not Match.NONE:
            methods |= getattr(route, "methods", None) or set()
    if "GET" in methods:
        methods.add("HEAD")  # HEAD is answered wherever GET is (head.py)
    return sorted(methods)


def install_problem_handlers(app: FastAPI, metrics: ServiceMetrics) -> None:
    """Every error a client can cause becomes problem+json; this is the one table of how."""
    app.add_exception_handler(DomainError, _domain_error_handler(metrics))
    app.add_exception_handler(RequestValidationError, _request_validation_error)
    app.add_exception_handler(HTTPException, _http_error)


# --- OpenAPI -------------------------------------------------------------------------------


class ProblemDetail(BaseModel):
    """One thing wrong with the request: where (`loc`) and what (`msg`)."""

    loc: list[str | int] = Field(examples=[["body", "name"]])
    msg: str = Field(examples=["String should have at least 1 character"])


class Problem(BaseModel):
    """An error response, RFC 9457 problem+json."""

    type: str = Field(default="about:blank", examples=["about:blank"])
    title: str = Field(examples=["Not found"])
    status: int = Field(examples=[404])
    detail: str = Field(examples=["No configuration has id 01JDQ30A4B5C6D7E8F9G0H1J2K."])
    instance: str | None = Field(default=None, description="The request's path.")
    request_id: str | None = Field(default=None, description="Also in X-Request-ID and the log.")
    errors: list[ProblemDetail] | None = Field(
        default=None, description="Present on 422: each field that is wrong."
    )


# status -> (when it happens, title, an example detail)
PROBLEMS: dict[int, tuple[str, str, str]] = {
    400: (
        "The body cannot be decoded (invalid UTF-8, nesting past the parser's limit, an "
        "integer of over 4,300 digits).",
        "Bad Request",
        "There was an error parsing the body",
    ),
    401: (
        "No valid bearer token was given.",
        "Unauthorized",
        "Send a valid token as `Authorization: Bearer <token>`.",
    ),
    403: ("The token may read but not write.", "Forbidden", "This token may read but not write."),
    404: (
        "No resource has this id.",
        "Not found",
        "No configuration has id 01JDQ30A4B5C6D7E8F9G0H1J2K.",
    ),
    409: (
        "The name is already taken.",
        "Already exists",
        "An application named 'billing' already exists.",
    ),
    410: (
        "The revision was removed by retention (REVISIONS_KEEP).",
        "Gone",
        "Revision 1 of configuration 01JDQ30A4B5C6D7E8F9G0H1J2K was removed: only the newest "
        "REVISIONS_KEEP revisions are kept.",
    ),
    412: (
        "If-Match names an older version.",
        "Precondition failed",
        "The resource changed since the version named in If-Match; GET it again and reapply "
        "your change.",
    ),
    413: (
        "The body is larger than MAX_BODY_BYTES.",
        "Content Too Large",
        "The body may be at most 1048576 bytes.",
    ),
    415: (
        "The body is not application/json.",
        "Unsupported Media Type",
        "Send the body as JSON with `Content-Type: application/json`.",
    ),
    422: (
        "The request is invalid; `errors` says where.",
        "Invalid request",
        "The request does not match the schema; see errors.",
    ),
    503: (
        "The database is unreachable; retry after Retry-After seconds.",
        "Service unavailable",
        "The database cannot be reached.",
    ),
}


def problem_example(status: int) -> dict[str, Any]:
    _, title, detail = PROBLEMS[status]
    example: dict[str, Any] = {
        "type": "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": "/api/v1/configurations/01JDQ30A4B5C6D7E8F9G0H1J2K",
        "request_id": "01JDQ31B7RZ5N2W9E4T8Y6U3P0",
    }
    if status == 422:
        example["errors"] = [{"loc": ["body", "name"], "msg": "Field required"}]
    return example


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for the problems an operation can answer with, each its own example.

    The Problem schema itself is added to the document's components by `openapi.py`.
    """
    return {
        status: {
            "description": PROBLEMS[status][0],
            "content": {
                PROBLEM_JSON: {
                    "schema": {"$ref": "#/components/schemas/Problem"},
                    "example": problem_example(status),
                }
            },
        }
        for status in sorted(set(statuses))
    }


# What every read and every write may answer, besides its own outcomes.
READ_PROBLEMS = (401, 422, 503)
WRITE_PROBLEMS = (400, 401, 403, 413, 415, 422, 503)
