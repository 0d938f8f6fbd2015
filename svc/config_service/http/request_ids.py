"""Request ids: the caller's X-Request-ID when it is safe to echo, else a new ULID.

Its own module so that both the request log, which assigns them, and problem responses,
which name them, can import it without importing each other.
"""

import random
import re
import time

from starlette.types import Scope
from ulid import base32

# Short and printable, so a caller's id is safe to echo in headers and logs.
ACCEPTABLE_REQUEST_ID = re.compile(r"[\x21-\x7e]{1,128}")


def request_id_of(scope: Scope) -> str | None:
    """The request id RequestLogMiddleware gave this request, if it ran."""
    return scope.get("state", {}).get("request_id")


def incoming_request_id(scope: Scope) -> str | None:
    """The request's first X-Request-ID, read from its raw headers (no Headers made for it)."""
    for name, value in scope["headers"]:
        if name == b"x-request-id":
            return value.decode("latin-1")
    return None


def assign_request_id(scope: Scope, incoming: str | None) -> str:
    """Give the request its id: `incoming` (X-Request-ID) if acceptable, else a new one."""
    if incoming is not None and ACCEPTABLE_REQUEST_ID.fullmatch(incoming):
        request_id = incoming
    else:
        request_id = new_request_id()
    scope.setdefault("state", {})["request_id"] = request_id
    return request_id


def new_request_id() -> str:
    """A ULID: time-ordered, so ids sort like the log.

    Built from random.getrandbits rather than os.urandom: an id needs no cryptographic
    randomness, and a system call here would hand the GIL to the database threads.
    """
    milliseconds = time.time_ns() // 1_000_000
    return base32.encode((milliseconds << 80 | random.getrandbits(80)).to_bytes(16))
