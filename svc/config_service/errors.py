"""What can go wrong, in the service's own terms: plain exceptions raised by handlers.

Each is rendered as problem+json by `problems.py`, the one place that maps them to HTTP.
"""

from collections.abc import Sequence
from typing import Literal


class DomainError(Exception):
    """An outcome a handler reports instead of a result."""

    def __init__(self, detail: str):
        super().__init__(detail)
        self.detail = detail


class NotFound(DomainError):
    """No resource has the id asked for."""


class AlreadyExists(DomainError):
    """A name is taken (a unique constraint said so)."""


class PreconditionFailed(DomainError):
    """If-Match names a version that is no longer current."""


class InvalidValue(DomainError):
    """A value that passed the schema but cannot be stored or is not allowed here."""

    def __init__(self, detail: str, *, loc: Sequence[str | int] = ("body",)):
        super().__init__(detail)
        self.loc = tuple(loc)


UnavailableReason = Literal[
    "unreachable", "statement_timeout", "lost_during_commit", "pool_exhausted"
]


class DatabaseUnavailable(DomainError):
    """PostgreSQL cannot answer now; the client should retry after a while."""

    def __init__(self, detail: str, *, reason: UnavailableReason, retry_after: int):
        super().__init__(detail)
        self.reason = reason
        self.retry_after = retry_after
