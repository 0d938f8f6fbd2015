"""A configuration's versions on the wire (RFC 5829): the query parameters that ask for an old
revision or the history, and the headers that name revisions and link them."""

import re
from dataclasses import dataclass

from starlette.datastructures import QueryParams

from config_service.errors import InvalidValue
from config_service.representation import Representation

# A year: the longest max-age RFC 9111 suggests; a revision never changes.
IMMUTABLE = "max-age=31536000, immutable"
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
# Positive decimal integers, ASCII only (str.isdigit() takes "²"); at most 10 digits, so that
# int() stays cheap. A number past the largest revision simply names none.
POSITIVE = re.compile(r"[1-9][0-9]{0,9}")


@dataclass(frozen=True, slots=True)
class AskedRevision:
    revision: int


@dataclass(frozen=True, slots=True)
class AskedHistory:
    limit: int = DEFAULT_LIMIT
    before: int | None = None


def _positive(params: QueryParams, name: str) -> int:
    value = params[name]
    if not POSITIVE.fullmatch(value):
        raise InvalidValue(f"{name} must be a positive integer.", loc=("query", name))
    return int(value)


def asked_version(query_string: bytes) -> AskedRevision | AskedHistory | None:
    """What `?revision=N` or `?history[&limit=&before=]` asks for; None for neither.

    (The middleware has refused unknown parameters already; these are checked here.)
    """
    if not query_string:
        return None
    params = QueryParams(query_string)
    if "revision" in params:
        stray = [name for name in params if name != "revision"]
        if stray:
            raise InvalidValue(
                "revision names one revision: it takes no other parameter.", loc=("query", stray[0])
            )
        return AskedRevision(_positive(params, "revision"))
    if "history" not in params:
        stray = next(iter(params))
        raise InvalidValue(f"{stray} is a parameter of ?history only.", loc=("query", stray))
    if params["history"] != "":
        raise InvalidValue("history takes no value: ?history.", loc=("query", "history"))
    limit = _positive(params, "limit") if "limit" in params else DEFAULT_LIMIT
    if limit > MAX_LIMIT:
        raise InvalidValue(f"limit must be at most {MAX_LIMIT}.", loc=("query", "limit"))
    before = _positive(params, "before") if "before" in params else None
    return AskedHistory(limit, before)


def _link(path: str, query: str, relation: str) -> str:
    return f'<{path}?{query}>; rel="{relation}"'


def _links(path: str, revision: int) -> str:
    links = [_link(path, "history", "version-history")]
    if revision > 1:
        links.append(_link(path, f"revision={revision - 1}", "predecessor-version"))
    return ", ".join(links)


def revision_header(representation: Representation) -> dict[str, str]:
    """`Revision: n` for a response carrying a configuration (none if it has no revision)."""
    if representation.revision is None:
        return {}
    return {"Revision": str(representation.revision)}


def current_headers(representation: Representation, path: str) -> dict[str, str]:
    """A current GET's: its revision, and links to its history and predecessor."""
    if representation.revision is None:
        return {}
    return {
        "Revision": str(representation.revision),
        "Link": _links(path, representation.revision),
    }


def old_revision_headers(representation: Representation, path: str) -> dict[str, str]:
    """A `?revision=N` answer's: it never changes, and links like a current one."""
    return {**current_headers(representation, path), "Cache-Control": IMMUTABLE}


def history_link(path: str, limit: int, before: int) -> str:
    return _link(path, f"history&limit={limit}&before={before}", "next")
