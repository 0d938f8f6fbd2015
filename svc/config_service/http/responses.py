"""Conditional reads and response shaping: what a GET asks (If-None-Match, Cache-Control,
Prefer, Accept-Encoding), and how representations and reads become responses."""

import asyncio
import re
from collections.abc import Callable, Mapping
from functools import lru_cache

from fastapi import Request
from starlette.responses import Response
from starlette.types import Scope

from config_service.access.tokens import caller_of
from config_service.bus import MessageBus
from config_service.errors import InvalidValue
from config_service.http.request_ids import request_id_of
from config_service.messages import Delivery, Get
from config_service.reads import Held, Read, ReadConditions
from config_service.representation import Representation, check_entity_tags

JSON = "application/json"
# What the request log says of a held GET whose client went away (nginx's "client closed").
CLIENT_CLOSED_REQUEST = 499

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


@lru_cache(maxsize=64)  # clients send a few values, again and again: a lookup, not a parse
def _accepts_gzip(accept_encoding: str | None) -> bool:
    """Whether Accept-Encoding allows gzip (RFC 9110 12.5.3): named (or x-gzip), or `*`, and
    not with q=0."""
    if accept_encoding is None:
        return False
    weights: dict[str, bool] = {}
    for member in accept_encoding.split(","):
        coding, _, parameters = member.partition(";")
        name, _, value = parameters.partition("=")
        weight = value.strip()  # qvalue: 0 to 1, up to three decimals; only 0 refuses
        refused = name.strip().lower() == "q" and weight[:1] == "0" and not weight.strip("0.")
        weights.setdefault(coding.strip().lower(), not refused)
    gzip = weights.get("gzip", weights.get("x-gzip"))
    return weights.get("*", False) if gzip is None else gzip


# The request headers a GET's answer depends on, as the server gives them (lower case).
CONDITION_HEADERS = frozenset(
    {
        b"if-none-match",
        b"cache-control",
        b"prefer",
        b"accept-encoding",
        b"config-client",
        b"config-rejected",
    }
)
# Config-Client: 1-128 visible ASCII characters (docs/rollouts.md).
CLIENT_ID = re.compile(r"[\x21-\x7e]{1,128}")


def check_client_id(value: str) -> str:
    """A Config-Client header's value, or a 422 on it."""
    if not CLIENT_ID.fullmatch(value):
        raise InvalidValue(
            "Config-Client names the client: 1 to 128 visible ASCII characters, no spaces.",
            loc=("header", "config-client"),
        )
    return value


def read_conditions(scope: Scope) -> ReadConditions:
    """What a GET asks of its answer; an unparsable directive is ignored (RFC 9111, RFC 7240),
    an If-None-Match without entity-tags is a 422 (it could never match).

    Read from the raw headers directly, in one pass, rather than as FastAPI header parameters
    or through Starlette's Headers: those cost more than the rest of a read from memory (they
    are documented by READ_PARAMETERS instead). Several headers of one name count as one,
    comma-joined (RFC 9110 5.3).
    """
    found: dict[bytes, str] = {}
    for name, value in scope["headers"]:
        if name in CONDITION_HEADERS:
            text = value.decode("latin-1")
            found[name] = f"{found[name]}, {text}" if name in found else text
    if_none_match = found.get(b"if-none-match")
    if if_none_match is not None:
        check_entity_tags("If-None-Match", if_none_match)
    accepts_gzip = _accepts_gzip(found.get(b"accept-encoding"))
    client = found.get(b"config-client")
    if client is not None:
        check_client_id(client)
    cache_control, prefer = found.get(b"cache-control"), found.get(b"prefer")
    rejected = found.get(b"config-rejected")
    if cache_control is None and prefer is None:
        return ReadConditions(
            if_none_match=if_none_match,
            accepts_gzip=accepts_gzip,
            client=client,
            rejected=rejected,
        )
    cache = _directives(cache_control or "")
    return ReadConditions(
        if_none_match=if_none_match,
        no_cache="no-cache" in cache or _seconds(cache.get("max-age")) == 0,
        stale_if_error=_seconds(cache.get("stale-if-error")),
        wait=_seconds(_directives(prefer or "").get("wait")) or 0,
        accepts_gzip=accepts_gzip,
        client=client,
        rejected=rejected,
    )


# --- responses -----------------------------------------------------------------------------


# What a GET's answer under /api/ may depend on besides its URL, on every answer alike (200,
# 304 and problems), so that a cache keys one URL's answers one way: Accept-Encoding (gzip)
# and Prefer (a watch is held), and Config-Client (a rollout's cohort is served its candidate:
# docs/rollouts.md). With tokens, http/bearer.py adds Authorization. If-None-Match and
# Cache-Control are conditions of the request, answered by 304 or freshness, not variants.
READ_VARY = "Accept-Encoding, Prefer, Config-Client"


def varies(scope: Scope) -> dict[str, str]:
    """The Vary of an answer to a GET (or HEAD) under /api/; none for other requests."""
    if scope.get("method") in ("GET", "HEAD") and scope.get("path", "").startswith("/api/"):
        return {"Vary": READ_VARY}
    return {}


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


def no_headers(read: Read) -> Mapping[str, str]:
    return {}


# What a resource adds to every response carrying one of its reads, e.g. a header naming its
# version or a link to the next page: given to answer_get by the resource's router.
type HeadersOf = Callable[[Read], Mapping[str, str]]


def read_response(
    read: Read, conditions: ReadConditions, headers_of: HeadersOf = no_headers
) -> Response:
    """A GET's answer: 200 with the body (gzip-encoded when large and accepted: the same
    ETag), or 304 without it; says how it was answered."""
    if read.held is not None and read.held.outcome == "gone":
        return Response(status_code=CLIENT_CLOSED_REQUEST)  # nobody reads it; it is logged
    representation = read.representation
    headers = {
        "ETag": representation.etag,
        "Cache-Control": "no-cache",
        "Vary": READ_VARY,
        **headers_of(read),
    }
    if read.age is not None:
        headers["Age"] = str(read.age)
    if read.held is not None:
        headers["Preference-Applied"] = f"wait={read.held.waited}"
    if read.not_modified:
        return Response(status_code=304, headers=headers)
    if conditions.accepts_gzip and (gzipped := representation.gzipped) is not None:
        headers["Content-Encoding"] = "gzip"
        return Response(gzipped, media_type=JSON, headers=headers)
    return Response(representation.body, media_type=JSON, headers=headers)


def delivery_of(
    request: Request, conditions: ReadConditions = ReadConditions(), **transport: object
) -> Delivery:
    """What travels beside a message of this request: who sent it (the Caller the token
    identified, http/bearer.py) and the request id, with whatever else it needs."""
    scope = request.scope
    return Delivery(
        conditions, caller=caller_of(scope), request_id=request_id_of(scope), **transport
    )


async def answer_get(
    bus: MessageBus,
    request: Request,
    query: Get,
    headers_of: HeadersOf = no_headers,
    conditions: ReadConditions | None = None,
) -> Response:
    """Dispatch a Get with the request's read conditions beside it (read here unless the
    route read them already), and shape its response.

    A GET that may be held (Prefer: wait) ends as soon as its client disconnects, so that a
    runtime that restarts or times out first does not keep a MAX_WAITERS place for nothing.
    """
    if conditions is None:
        conditions = read_conditions(request.scope)
    if not conditions.wait:
        read = await bus.dispatch(query, delivery_of(request, conditions))
        return read_response(read, conditions, headers_of)

    def log_held(held: Held) -> None:
        request.state.held = held  # for the request log, also when the read then fails

    client_gone = asyncio.ensure_future(_disconnected(request))
    try:
        delivery = delivery_of(request, conditions, client_gone=client_gone, on_held=log_held)
        read = await bus.dispatch(query, delivery)
    finally:
        client_gone.cancel()
    return read_response(read, conditions, headers_of)


async def _disconnected(request: Request) -> None:
    """Return when the client disconnects (a GET has no body: nothing else is received)."""
    while (await request.receive())["type"] != "http.disconnect":
        pass
