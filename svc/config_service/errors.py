"""What can go wrong, in the service's own terms: plain exceptions raised by handlers.

Each is rendered as problem+json by `http/problems.py`, the one place that maps them to HTTP.
"""

from collections.abc import Sequence
from typing import Any, Literal


class DomainError(Exception):
    """An outcome a handler reports instead of a result; `errors` says where, one item each
    (`{"loc": [...], "msg": ...}` and maybe more members), for the problem's `errors`."""

    def __init__(self, detail: str, *, errors: Sequence[dict[str, Any]] = ()):
        super().__init__(detail)
        self.detail = detail
        self.errors = tuple(errors)


class NotFound(DomainError):
    """No resource has the id asked for."""


class Gone(DomainError):
    """The resource asked for existed and was removed for good (a revision past retention)."""


class OutOfScope(DomainError):
    """The caller's token may not touch an application of this name (its scope)."""


class AlreadyExists(DomainError):
    """A name is taken (a unique constraint said so)."""


class Conflict(DomainError):
    """The write cannot be applied in the resource's current state (e.g. a schema change that
    configurations following it would not satisfy)."""


class PreconditionFailed(DomainError):
    """If-Match names a version that is no longer current."""


class TooLarge(DomainError):
    """What would be stored is larger than the service answers or accepts (MAX_BODY_BYTES)."""


class InvalidValue(DomainError):
    """A value that passed the schema but cannot be stored or is not allowed here."""

    def __init__(
        self,
        detail: str,
        *,
        loc: Sequence[str | int] = ("body",),
        errors: Sequence[dict[str, Any]] = (),
    ):
        super().__init__(detail, errors=errors or [{"loc": list(loc), "msg": detail}])
        self.loc = tuple(loc)


# The words of the domain errors raised in more than one place (and shown in the OpenAPI
# examples, so the documentation quotes what the service says).
def missing(kind: str, resource_id: str) -> NotFound:
    """The 404 of an id that does not exist; an id out of the caller's scope gets the same."""
    return NotFound(f"No {kind} has id {resource_id}.")


def application_name_taken(name: str) -> AlreadyExists:
    return AlreadyExists(f"An application named {name!r} already exists.")


def configuration_name_taken(name: str) -> AlreadyExists:
    return AlreadyExists(f"This application already has a configuration named {name!r}.")


def revision_removed(configuration_id: str, revision: int) -> Gone:
    return Gone(
        f"Revision {revision} of configuration {configuration_id} was removed: only the "
        "newest REVISIONS_KEEP revisions are kept."
    )


# What a call that got no answer within its deadline says (store/database.py, read_model/watches.py).
DATABASE_NO_ANSWER = "The database did not answer in time."

UnavailableReason = Literal[
    "unreachable", "statement_timeout", "lost_during_commit", "pool_exhausted"
]


class DatabaseUnavailable(DomainError):
    """PostgreSQL cannot answer now; the client should retry after a while."""

    def __init__(self, detail: str, *, reason: UnavailableReason = "unreachable", retry_after: int):
        super().__init__(detail)
        self.reason = reason
        self.retry_after = retry_after
