"""Domain errors and their one mapping to RFC 9457 problem+json responses."""

import json
from collections.abc import Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.types import Scope

PROBLEM_JSON = "application/problem+json"


class DomainError(Exception):
    """An outcome a handler reports instead of a result; the class decides the HTTP status."""

    status: int = 400
    title: str = "Bad request"
    errors: Sequence[dict[str, Any]] = ()
    headers: dict[str, str] = {}

    def __init__(self, detail: str):
        super().__init__(detail)
        self.detail = detail


class NotFound(DomainError):
    status, title = 404, "Not found"


class AlreadyExists(DomainError):
    status, title = 409, "Already exists"


class PreconditionFailed(DomainError):
    status, title = 412, "Precondition failed"


class InvalidValue(DomainError):
    """A value that passed the schema but cannot be stored, or refers to something missing."""

    status, title = 422, "Invalid value"

    def __init__(self, detail: str, *, loc: Sequence[str | int] = ("body",)):
        super().__init__(detail)
        self.errors = [{"loc": list(loc), "msg": detail}]


class DatabaseUnavailable(DomainError):
    status, title = 503, "Service unavailable"

    def __init__(self, detail: str, *, retry_after: int):
        super().__init__(detail)
        self.headers = {"Retry-After": str(retry_after)}


def request_id_of(scope: Scope) -> str | None:
    """The request id the request-log middleware gave this request, if it ran."""
    return scope.get("state", {}).get("request_id")


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
        json.dumps(body).encode(), status_code=status, headers=headers, media_type=PROBLEM_JSON
    )


def _validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    return [{"loc": list(error["loc"]), "msg": error["msg"]} for error in exc.errors()]


async def _domain_error(request: Request, exc: DomainError) -> Response:
    return problem(
        request.scope,
        exc.status,
        exc.detail,
        title=exc.title,
        errors=exc.errors,
        headers=exc.headers,
    )


async def _request_validation_error(request: Request, exc: RequestValidationError) -> Response:
    return problem(
        request.scope,
        422,
        "The request does not match the schema; see errors.",
        title="Invalid request",
        errors=_validation_errors(exc),
    )


async def _http_error(request: Request, exc: HTTPException) -> Response:
    return problem(request.scope, exc.status_code, str(exc.detail), headers=exc.headers)


def install_error_handlers(app: FastAPI) -> None:
    """Every error a client can cause becomes problem+json; this is the one table that says how."""
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(RequestValidationError, _request_validation_error)
    app.add_exception_handler(HTTPException, _http_error)
