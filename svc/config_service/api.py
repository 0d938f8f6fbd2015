"""What the routers share: the app-scoped objects they depend on, the headers a GET may carry,
and how representations become responses.

App-scoped objects are created in main.py and reached only through the `Annotated`
dependencies below, never through `request.app.state` elsewhere.
"""

import asyncio
import copy
import re
from dataclasses import replace
from typing import Annotated, Any

from fastapi import Depends, Request
from starlette.datastructures import Headers
from starlette.responses import Response

from config_service.bus import MessageBus
from config_service.errors import InvalidValue
from config_service.messages import Get
from config_service.problems import varies
from config_service.metrics import Store
from config_service.read_model import Read, ReadConditions
from config_service.representation import Representation

JSON = "application/json"
# What the request log says of a held GET whose client went away (nginx's "client closed").
CLIENT_CLOSED_REQUEST = 499


async def get_bus(request: Request) -> MessageBus:
    """The app's bus. (Async on purpose: FastAPI runs a plain `def` dependency in a thread.)"""
    return request.app.state.bus


Bus = Annotated[MessageBus, Depends(get_bus)]


async def get_metrics_store(request: Request) -> Store:
    """Where this worker keeps its metrics, and whence a scrape reads every worker's."""
    return request.app.state.metrics_store


MetricsStore = Annotated[Store, Depends(get_metrics_store)]


# --- request headers of a GET --------------------------------------------------------------

# delta-seconds (RFC 9111 1.2.2, RFC 7240): ASCII digits only. str.isdigit() would also take
# "²" (a latin-1 header can carry it), which int() refuses, as it does past 4,300 digits.
DELTA_SECONDS = re.compile(r"[0-9]+")
MAX_DELTA_SECONDS = 2**31  # what a larger one counts as (RFC 9111 1.2.2)


def _directives(header: str) -> dict[str, str]:
    """`a, b=1; x=y` -> {"a": "", "b": "1"}: Cache-Control directives or Prefer preferences,
    lower-cased; parameters after `;` are dropped and the first occurrence wins. (Split, not
    matched with one pattern: a hostile header must cost linear time, not a stalled worker.)"""
    found: dict[str, str] = {}
    for member in header.split(","):
        name, _, value = member.partition(";")[0].partition("=")
        if name := name.strip().lower():
            found.setdefault(name, value.strip().strip('"'))
    return found


def _seconds(value: str | None) -> int | None:
    """delta-seconds as an int, at most 2**31; None when `value` is not one."""
    if value is None or not DELTA_SECONDS.fullmatch(value):
        return None
    digits = value.lstrip("0") or "0"
    return MAX_DELTA_SECONDS if len(digits) > 10 else min(int(digits), MAX_DELTA_SECONDS)


def read_conditions(headers: Headers) -> ReadConditions:
    """What a GET asks of its answer; an unparsable directive is ignored (RFC 9111, RFC 7240).

    Read from the headers directly rather than as FastAPI header parameters: those cost more
    than the rest of a read from memory (they are documented by READ_PARAMETERS instead).
    """
    if_none_match = _joined(headers, "if-none-match")
    cache_control, prefer = _joined(headers, "cache-control"), _joined(headers, "prefer")
    if cache_control is None and prefer is None:
        return ReadConditions(if_none_match=if_none_match)
    cache = _directives(cache_control or "")
    return ReadConditions(
        if_none_match=if_none_match,
        no_cache="no-cache" in cache or _seconds(cache.get("max-age")) == 0,
        stale_if_error=_seconds(cache.get("stale-if-error")),
        wait=_seconds(_directives(prefer or "").get("wait")) or 0,
    )


def _joined(headers: Headers, name: str) -> str | None:
    """A header's value; several of the same name count as one, comma-joined (RFC 9110 5.3)."""
    values = headers.getlist(name)
    return ", ".join(values) if values else None


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


# --- responses -----------------------------------------------------------------------------


def representation_response(
    representation: Representation, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    """A representation that clients may keep and must revalidate (ETag, no-cache)."""
    return Response(
        representation.body,
        status_code=status,
        media_type=JSON,
        headers={"ETag": representation.etag, "Cache-Control": "no-cache", **(headers or {})},
    )


def read_response(request: Request, read: Read) -> Response:
    """A GET's answer: 200 with the body, or 304 without it; says how it was answered."""
    if read.held is not None:
        request.state.held = read.held  # for the request log
    if read.error is not None:
        raise copy.copy(read.error)  # one error may end many held requests: each raises its own
    if read.held is not None and read.held.outcome == "gone":
        return Response(status_code=CLIENT_CLOSED_REQUEST)  # nobody reads it; it is logged
    headers = {"ETag": read.representation.etag, "Cache-Control": "no-cache", **varies(request.scope)}
    if read.age is not None:
        headers["Age"] = str(read.age)
    if read.held is not None:
        headers["Preference-Applied"] = f"wait={read.held.waited}"
    if read.not_modified:
        return Response(status_code=304, headers=headers)
    return Response(read.representation.body, media_type=JSON, headers=headers)


def check_body_id(body_id: str | None, path_id: str) -> None:
    """A GET's body sent back names its resource: it must be the one in the path."""
    if body_id not in (None, path_id):
        raise InvalidValue(f"id must be {path_id}, the id in the path.", loc=("body", "id"))


async def answer_get(bus: MessageBus, request: Request, query: Get) -> Response:
    """Dispatch a Get and shape its response.

    A GET that may be held (Prefer: wait) ends as soon as its client disconnects, so that a
    runtime that restarts or times out first does not keep a MAX_WAITERS place for nothing.
    """
    if not query.conditions.wait:
        return read_response(request, await bus.dispatch(query))
    client_gone = asyncio.ensure_future(_disconnected(request))
    try:
        read = await bus.dispatch(replace(query, client_gone=client_gone))
    finally:
        client_gone.cancel()
    return read_response(request, read)


async def _disconnected(request: Request) -> None:
    """Return when the client disconnects (a GET has no body: nothing else is received)."""
    while (await request.receive())["type"] != "http.disconnect":
        pass


# --- OpenAPI -------------------------------------------------------------------------------


def header(description: str, **schema: Any) -> dict[str, Any]:
    return {"description": description, "schema": {"type": "string", **schema}}


ETAG = header("Strong validator of this exact representation.", example='"5d0c3f0b8a1e4f6b"')
CACHE_CONTROL = header("Always `no-cache`: keep it, but revalidate with If-None-Match.")
READ_HEADERS = {
    "ETag": ETAG,
    "Cache-Control": CACHE_CONTROL,
    "Age": header("Seconds since an answer from `stale-if-error` was last known current."),
    "Preference-Applied": header("`wait=N`: the request was held up to N seconds."),
    "Vary": header("`Prefer`, when the request carried it."),
}


def read_responses(resource: str) -> dict[int | str, dict[str, Any]]:
    """OpenAPI responses of a GET by id: 200 and 304, with their headers."""
    return {
        200: {"description": f"The {resource}.", "headers": READ_HEADERS},
        304: {
            "description": "Not modified: the ETag in If-None-Match is current (at once, or "
            "when a `Prefer: wait` ran out). No body.",
            "headers": READ_HEADERS,
        },
    }
