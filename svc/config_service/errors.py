"""Domain errors and their one mapping to RFC 9457 problem+json responses."""

import json
from collections.abc import Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from pydantic import BaseModel, ConfigDict, Field
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


class ProblemDetail(BaseModel):
    """One thing wrong with the request: where (`loc`) and what (`msg`)."""

    loc: list[str | int] = Field(examples=[["body", "name"]])
    msg: str = Field(examples=["String should have at least 1 character"])


class Problem(BaseModel):
    """An error response, RFC 9457 problem+json."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "type": "about:blank",
                    "title": "Invalid request",
                    "status": 422,
                    "detail": "The request does not match the schema; see errors.",
                    "instance": "/api/v1/applications",
                    "request_id": "01JDQ30A4B5C6D7E8F9G0H1J2K",
                    "errors": [{"loc": ["body", "name"], "msg": "Field required"}],
                }
            ]
        }
    )

    type: str = Field(default="about:blank", examples=["about:blank"])
    title: str = Field(examples=["Not found"])
    status: int = Field(examples=[404])
    detail: str = Field(examples=["No application has id 01JDQ2ZK3M8N7V6W5X4Y3Z2A1B."])
    instance: str | None = Field(
        default=None, examples=["/api/v1/applications/01JDQ2ZK3M8N7V6W5X4Y3Z2A1B"]
    )
    request_id: str | None = Field(default=None, examples=["01JDQ30A4B5C6D7E8F9G0H1J2K"])
    errors: list[ProblemDetail] | None = Field(
        default=None, description="Present on 422: each field that is wrong."
    )


PROBLEM_DESCRIPTIONS = {
    401: "No valid bearer token was given.",
    403: "The token may read but not write.",
    404: "No resource has this id.",
    409: "The name is already taken.",
    412: "If-Match names an older version.",
    413: "The body is larger than MAX_BODY_BYTES.",
    415: "The body is not application/json.",
    422: "The request is invalid; `errors` says where.",
    503: "The database is unreachable; retry after Retry-After seconds.",
}


# What every read and every write may answer, besides its own outcomes.
READ_PROBLEMS = (401, 422, 503)
WRITE_PROBLEMS = (401, 403, 413, 415, 422, 503)


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for the problems an operation can answer with.

    The Problem schema itself is added to the document's components by `openapi.py`.
    """
    schema = {"$ref": "#/components/schemas/Problem"}
    return {
        status: {
            "description": PROBLEM_DESCRIPTIONS[status],
            "content": {PROBLEM_JSON: {"schema": schema}},
        }
        for status in sorted(set(statuses))
    }


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
