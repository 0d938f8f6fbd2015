"""A configuration's versions on the wire (RFC 5829): the query parameters that ask for an old
revision or the history, and the headers that name revisions and link them."""

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

from fastapi import Request
from starlette.datastructures import QueryParams

from config_service.configurations.history import GetRevision, ListRevisions, RevisionPage
from config_service.configurations.revisions import Written
from config_service.configurations.schema_links import described_by_link
from config_service.errors import InvalidValue
from config_service.http.openapi_parts import header
from config_service.reads import Read, ReadConditions
from config_service.representation import Representation
from config_service.telemetry.catalogue import ServiceMetrics

# A revision never changes, but it may go: retention removes it (410) and an operator may
# delete one that holds a secret committed by mistake. A day bounds how long a cache keeps
# serving it after that, at little cost (revisions are read for rollbacks and diffs, not by
# runtimes on every poll); docs/operations.md, Proxies and CDNs. With tokens, http/bearer.py
# adds `private`: only the caller's own cache may keep it.
REVISION_MAX_AGE = 86400
IMMUTABLE = f"max-age={REVISION_MAX_AGE}, immutable"
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


def _links(path: str, representation: Representation) -> str:
    revision = representation.revision
    links = [_link(path, "history", "version-history")]
    if revision > 1:
        links.append(_link(path, f"revision={revision - 1}", "predecessor-version"))
    if representation.described_by is not None:
        links.append(described_by_link(representation.described_by))
    return ", ".join(links)


def current_headers(representation: Representation, path: str) -> dict[str, str]:
    """A current representation's (GET, POST, PUT): its revision, and links to its history,
    its predecessor and its schema; while a rollout runs, its percentage and candidate."""
    if representation.revision is None:
        return {}
    headers = {
        "Revision": str(representation.revision),
        "Link": _links(path, representation),
    }
    rollout = representation.rollout
    if rollout is not None:
        headers["Config-Rollout"] = f"{rollout.percent};revision={rollout.revision}"
    return headers


def old_revision_headers(representation: Representation, path: str) -> dict[str, str]:
    """A `?revision=N` answer's: it never changes, and links like a current one."""
    return {**current_headers(representation, path), "Cache-Control": IMMUTABLE}


def history_link(path: str, limit: int, before: int) -> str:
    return _link(path, f"history&limit={limit}&before={before}", "next")


def resource_path(request: Request, configuration_id: str) -> str:
    """The configuration's path, with its id in canonical form (links are relative to it)."""
    return request.scope["path"].rpartition("/")[0] + "/" + configuration_id


def current_headers_at(path: str) -> Callable[[Read], dict[str, str]]:
    return lambda read: current_headers(read.representation, path)


# --- what ?revision=N and ?history read --------------------------------------------------


@dataclass(frozen=True, slots=True)
class VersionRead:
    """What a GET of a version asks the bus, how its answer is headed, and on what conditions:
    the router answers it as it answers a plain GET (http/responses.py, answer_get)."""

    query: GetRevision | ListRevisions
    headers_of: Callable[[Read], Mapping[str, str]]
    conditions: ReadConditions


def version_read(
    asked: AskedRevision | AskedHistory,
    current: Representation,
    conditions: ReadConditions,
    path: str,
    revisions_keep: int,
) -> VersionRead:
    """The read of an old revision, or of a page of the history, of the configuration whose
    `current` representation a plain GET just read (so whatever makes that a 404 makes these
    one too). Neither is held: a version never changes."""
    conditions = replace(conditions, wait=0)
    if isinstance(asked, AskedHistory):
        query = ListRevisions(current.id, asked.limit, asked.before)
        return VersionRead(query, lambda page: _next_page(page, path, asked.limit), conditions)
    revision = asked.revision
    # A revision among the newest REVISIONS_KEEP is certainly still kept: it may be answered
    # from memory (revisions never change). An older one may have been removed since it was
    # read, so PostgreSQL is asked; and so is one newer than the current (a rollout's
    # candidate, running or ended, or none: 404).
    newest = current.revision if current.rollout is None else current.rollout.revision
    recent = current.revision is None or (
        revision <= newest and (revisions_keep == 0 or revision > newest - revisions_keep)
    )
    conditions = replace(conditions, no_cache=conditions.no_cache or not recent)
    headers_of = lambda read: old_revision_headers(read.representation, path)  # noqa: E731
    return VersionRead(GetRevision(current.id, revision), headers_of, conditions)


def _next_page(page: Read, path: str, limit: int) -> dict[str, str]:
    next_before = page.next_before if isinstance(page, RevisionPage) else None
    return {} if next_before is None else {"Link": history_link(path, limit, next_before)}


# --- writes ----------------------------------------------------------------------------------


def count_revisions(
    request: Request, metrics: ServiceMetrics, written: Written, dry_run: bool = False
) -> Representation:
    """Count what a write did to revisions (a dry run did nothing), name its revision in the
    request log, and return its representation."""
    if written.recorded and not dry_run:
        metrics.revisions_recorded.inc()
    if written.removed and not dry_run:
        metrics.revisions_removed.inc(amount=written.removed)
    request.state.revision = written.representation.revision
    return written.representation


# --- OpenAPI -------------------------------------------------------------------------------


def _query_parameter(name: str, description: str, schema: dict, **more) -> dict:
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": schema, **more}  # fmt: skip


# Read by the route itself (asked_version), so a plain GET pays nothing for them.
VERSION_PARAMETERS = [
    _query_parameter(
        "revision",
        "That revision as it was: its bytes and ETag, immutable. 404 if it never existed, "
        "410 if retention (REVISIONS_KEEP) removed it.",
        {"type": "integer", "minimum": 1},
    ),
    _query_parameter(
        "history",
        "Instead of the configuration, a page of its revisions, newest first "
        "(`ConfigurationHistory`). Send it empty: `?history`.",
        {"type": "string", "maxLength": 0},
        allowEmptyValue=True,
    ),
    # No `default` in the schema: a generated client would send it on every call, and the
    # plain GET and `?revision=N` refuse it.
    _query_parameter(
        "limit",
        f"With `history`: revisions per page, 1–{MAX_LIMIT}; {DEFAULT_LIMIT} when not sent.",
        {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT},
    ),
    _query_parameter(
        "before",
        'With `history`: only revisions older than this one (from `Link: rel="next"`).',
        {"type": "integer", "minimum": 1},
    ),
]
VERSION_HEADERS = {
    "Revision": header(
        "The number of the revision this representation is (not on `?history`).", example="3"
    ),
    "Link": header(
        'RFC 5829: `<…?history>; rel="version-history"` and, past revision 1, '
        '`<…?revision=n-1>; rel="predecessor-version"`. On `?history`: '
        '`<…?history&limit=n&before=m>; rel="next"` while more remain.'
    ),
}
