"""Resource representations as the bytes PostgreSQL built, with their ETags.

Query handlers have PostgreSQL render a resource as JSON text (`row_to_json`), so a read
never parses or re-serialises the stored config. The ETag is a hash of those exact bytes:
whatever changes the representation (a configuration added to an application included)
changes the tag.
"""

import hashlib
from dataclasses import dataclass, field

from config_service.errors import PreconditionFailed

STALE_IF_MATCH = "The resource changed since the version named in If-Match; GET it again and reapply your change."


def etag_of(body: bytes) -> str:
    """A strong ETag for these exact bytes."""
    return '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'


def _listed_tags(header: str) -> list[str]:
    return [tag.strip() for tag in header.split(",")]


def none_match(if_none_match: str | None, etag: str) -> bool:
    """True unless If-None-Match names `etag` (weak comparison, RFC 9110 13.1.2)."""
    if if_none_match is None:
        return True
    tags = _listed_tags(if_none_match)
    return "*" not in tags and etag not in (tag.removeprefix("W/") for tag in tags)


@dataclass(frozen=True, slots=True)
class Representation:
    id: str
    body: bytes
    etag: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "etag", etag_of(self.body))

    @classmethod
    def from_row(cls, row: dict) -> "Representation":
        """From a row with `id` and `body` (the JSON text) columns."""
        return cls(row["id"], row["body"].encode())

    def check_if_match(self, if_match: str) -> None:
        """Raise PreconditionFailed unless If-Match names this version (strong comparison)."""
        tags = _listed_tags(if_match)
        if "*" not in tags and self.etag not in tags:
            raise PreconditionFailed(STALE_IF_MATCH)
