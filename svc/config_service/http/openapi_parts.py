"""OpenAPI snippets the routers declare their operations with: header parameters and
response headers, and the problems an operation can answer with (in the handlers' words).
The whole document is assembled by http/openapi.py."""

from http import HTTPStatus
from typing import Any

from pydantic import BaseModel, Field
from pydantic.json_schema import SkipJsonSchema

from config_service.errors import application_name_taken, missing, revision_removed
from config_service.fields import CONFIGURATION_ID_EXAMPLE
from config_service.http.json_bodies import NOT_JSON, too_large
from config_service.http.problems import (
    INVALID_REQUEST,
    PROBLEM_JSON,
    SCHEMA_MISMATCH,
    STATUS_OF,
)
from config_service.representation import STALE_IF_MATCH


def header_parameter(name: str, description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "header",
        "required": False,
        "description": description,
        "schema": {"type": "string"},
    }


# The headers read_conditions reads, as OpenAPI parameters (`openapi_extra` of a GET by id).
READ_PARAMETERS = {
    "parameters": [
        header_parameter(
            "If-None-Match",
            "ETags you hold: 304 when one is current (with `Prefer: wait`, a watch).",
        ),
        header_parameter(
            "Cache-Control",
            "`no-cache` (or `max-age=0`): read PostgreSQL, not memory. `stale-if-error=N`: "
            "while PostgreSQL is unreachable, accept the last version known current at most "
            "N seconds ago (with `Age`) instead of 503.",
        ),
        header_parameter(
            "Prefer",
            "`wait=N` with a current If-None-Match: hold the request until the representation "
            "changes (200) or N seconds pass (304), at most MAX_WAIT_SECONDS.",
        ),
    ]
}


def header(description: str, **schema: Any) -> dict[str, Any]:
    return {"description": description, "schema": {"type": "string", **schema}}


ETAG = header(
    "Strong validator of this version, whichever Content-Encoding carries it.",
    example='"5d0c3f0b8a1e4f6b"',
)
CACHE_CONTROL = header(
    "`no-cache`: keep it, but revalidate with If-None-Match (an old revision: "
    "`max-age=86400, immutable`). With tokens, `private` comes first: no shared cache keeps it."
)
WRITTEN_HEADERS = {"ETag": ETAG, "Cache-Control": CACHE_CONTROL}
READ_HEADERS = {
    "ETag": ETAG,
    "Cache-Control": CACHE_CONTROL,
    "Age": header("Seconds since an answer from `stale-if-error` was last known current."),
    "Preference-Applied": header("`wait=N`: the request was held up to N seconds."),
    "Vary": header(
        "`Accept-Encoding, Prefer, Config-Client` on every answer (with tokens, `, Authorization` "
        "too)."
    ),
    "Content-Encoding": header(
        "`gzip` when the body is 1 KiB or more and Accept-Encoding allows it; the ETag is the "
        "same either way."
    ),
}


BODY_ONLY = "Content-Encoding"  # a 304 has no content to encode


def read_responses(
    resource: str, more_headers: dict[str, Any] | None = None, model: Any = None
) -> dict[int | str, dict[str, Any]]:
    """OpenAPI responses of a GET by id: 200 and 304, with their headers (and a resource's);
    `model`: what the 200 may be, when not the route's response_model (e.g. a union)."""
    headers = {**READ_HEADERS, **(more_headers or {})}
    ok: dict[str, Any] = {"description": f"The {resource}.", "headers": headers}
    if model is not None:
        ok["model"] = model
    return {
        200: ok,
        304: {
            "description": "Not modified: the ETag in If-None-Match is current (at once, or "
            "when a `Prefer: wait` ran out). No body.",
            "headers": {name: value for name, value in headers.items() if name != BODY_ONLY},
        },
    }


class ProblemDetail(BaseModel):
    """One thing wrong with the request: where (`loc`) and what (`msg`)."""

    loc: list[str | int] = Field(examples=[["body", "name"]])
    msg: str = Field(examples=["String should have at least 1 character"])
    keyword: str | None = Field(
        default=None,
        description="For a config that does not satisfy its JSON Schema: the failing keyword.",
        examples=["minimum"],
    )


class Problem(BaseModel):
    """An error response, RFC 9457 problem+json, as http/problems.py renders it: every member
    always, but `errors`, which only a 422 has (absent otherwise, never null)."""

    type: str = Field(examples=["about:blank"], description="Always `about:blank`.")
    title: str = Field(examples=["Not found"])
    status: int = Field(examples=[404])
    detail: str = Field(examples=["No configuration has id 01JDQ30A4B5C6D7E8F9G0H1J2K."])
    instance: str = Field(description="The request's path.")
    request_id: str = Field(description="Also in X-Request-ID and the log.")
    errors: list[ProblemDetail] | SkipJsonSchema[None] = Field(
        default=None, description="Only on 422: each thing that is wrong."
    )


# Titles as the handlers write them (http/problems.py); the 422 shown is the schema's.
TITLES = {status: title for status, title in STATUS_OF.values()} | {422: INVALID_REQUEST}

# status -> (when it happens, an example detail, in the words the service uses)
PROBLEMS: dict[int, tuple[str, str]] = {
    400: (
        "The body cannot be decoded (invalid UTF-8, nesting past the parser's limit, an "
        "integer of over 4,300 digits).",
        "There was an error parsing the body",  # FastAPI's words
    ),
    # http/bearer.py's words (its owner rewrites token authentication).
    401: (
        "No valid bearer token was given.",
        "Send a valid token as `Authorization: Bearer <token>`.",
    ),
    403: (
        "The token may read but not write, or not an application of this name (its scope).",
        "This token may read but not write.",
    ),
    404: ("No resource has this id.", missing("configuration", CONFIGURATION_ID_EXAMPLE).detail),
    409: ("The name is already taken.", application_name_taken("billing").detail),
    410: (
        "The revision was removed by retention (REVISIONS_KEEP).",
        revision_removed(CONFIGURATION_ID_EXAMPLE, 1).detail,
    ),
    412: ("If-Match names an older version.", STALE_IF_MATCH),
    413: ("The body is larger than MAX_BODY_BYTES.", too_large(1048576)),
    415: ("The body is not application/json.", NOT_JSON),
    422: ("The request is invalid; `errors` says where.", SCHEMA_MISMATCH),
    503: (
        "The database is unreachable; retry after Retry-After seconds.",
        "The database cannot be reached.",  # store/database.py's words
    ),
}


def title_of(status: int) -> str:
    return TITLES.get(status) or HTTPStatus(status).phrase


def problem_example(status: int) -> dict[str, Any]:
    detail = PROBLEMS[status][1]
    example: dict[str, Any] = {
        "type": "about:blank",
        "title": title_of(status),
        "status": status,
        "detail": detail,
        "instance": f"/api/v1/configurations/{CONFIGURATION_ID_EXAMPLE}",
        "request_id": "01JDQ31B7RZ5N2W9E4T8Y6U3P0",
    }
    if status == 422:
        example["errors"] = [{"loc": ["body", "name"], "msg": "Field required"}]
    return example


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for the problems an operation can answer with, each its own example.

    The Problem schema itself is added to the document's components by `http/openapi.py`.
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
# Of every POST and PUT: try the write, commit nothing.
DRY_RUN_PARAMETER = {
    "name": "dry_run",
    "in": "query",
    "required": False,
    "description": "Run the whole write (every check, the answer it would get) in a "
    "transaction that is rolled back: nothing is stored, recorded or announced. No value.",
    "schema": {"type": "string", "enum": ["", "true", "false"]},
    "allowEmptyValue": True,
}

READ_PROBLEMS = (401, 422, 503)
WRITE_PROBLEMS = (400, 401, 403, 413, 415, 422, 503)
