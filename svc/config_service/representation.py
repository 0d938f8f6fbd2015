"""Resource representations as the bytes PostgreSQL built, with their ETags.

Query handlers have PostgreSQL render a resource as JSON text (`row_to_json`), so a read
never parses or re-serialises the stored config. The ETag is a hash of those exact bytes:
whatever changes the representation (a configuration added to an application included)
changes the tag. A configuration's `describedby` link (its schema) is part of what it is: it is
hashed with the bytes, so attaching a schema changes the tag as a change of the body does
(and a configuration without one keeps the tag of its bytes alone).

A large body is also kept gzip-encoded, made once per representation (so once per version in
the read model's memory), for clients that accept it. Both encodings carry the one ETag: it
names the version, and the gzip bytes are a function of the identity bytes (see
docs/reading.md, Compression).
"""

import hashlib
import json
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from config_service.errors import InvalidValue, PreconditionFailed

STALE_IF_MATCH = "The resource changed since the version named in If-Match; GET it again and reapply your change."
WEAK_IF_MATCH = (
    'If-Match compares entity-tags strongly (RFC 9110 13.1.1): a weak one (W/"...") never '
    "matches, and this service's ETags are strong. Send the ETag exactly as a GET answered it "
    "(a proxy that compresses responses may have made it weak)."
)

# RFC 9110 8.8.3: entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE, etagc being any visible
# character but DQUOTE; If-Match and If-None-Match hold "*" or a comma-separated list of them.
_ENTITY_TAG = r'(?:W/)?"[^"\x00-\x20\x7f]*"'
_ENTITY_TAGS = re.compile(rf"[ \t]*(?:\*|{_ENTITY_TAG}(?:[ \t]*,[ \t]*{_ENTITY_TAG})*)[ \t]*")


def check_entity_tags(header: str, value: str) -> None:
    """Refuse (422 on the header) an If-Match/If-None-Match that holds no entity-tags: an
    unquoted ETag would otherwise never match, and a watch sent with one never be held."""
    if not _ENTITY_TAGS.fullmatch(value):
        shown = value if len(value) <= 80 else value[:80] + "..."
        raise InvalidValue(
            f'{header} must be "*" or entity-tags exactly as ETag gives them, double quotes '
            f'included (e.g. {header}: "8f14e45fceea167a5a36dedd4bea2543"); got {shown!r}.',
            loc=("header", header),
        )


def etag_of(body: bytes, described_by: str | None = None) -> str:
    """A strong ETag for these exact bytes (and the schema link, when there is one)."""
    digest = hashlib.blake2b(body, digest_size=16)
    if described_by is not None:
        digest.update(b"\n" + described_by.encode())
    return '"' + digest.hexdigest() + '"'


# Bodies from this size on are sent gzip-encoded to clients that accept it. Below it the whole
# answer (with its ~350 bytes of headers) fits one TCP segment (1448 bytes) either way, so
# compressing saves no packet; from it on, a JSON body shrinks 3x or more (docs/performance.md).
GZIP_MIN_BYTES = 1024
# zlib's default: made once per version, so worth its time: ~30% fewer bytes than level 1 for
# 1.7x its time (1 MB of JSON in 7-20 ms); level 9 gains 12% more for 6x (docs/performance.md).
GZIP_LEVEL = 6
_NOT_YET = object()


def gzip_of(body: bytes) -> bytes | None:
    """`body` gzip-encoded, or None when that is not worth sending: too small, or no smaller.
    (zlib writes the gzip header with no time in it: the same bytes on every worker.)"""
    if len(body) < GZIP_MIN_BYTES:
        return None
    encoded = zlib.compress(body, GZIP_LEVEL, wbits=31)  # wbits 16 + 15: gzip framing
    return encoded if len(encoded) < len(body) else None


# A float whose repr has an exponent (json.dumps writes repr): numeric spells it out.
_EXPONENT = re.compile(r"e[+-][0-9]")


def jsonb_text_size(value: Any) -> int:
    """Bytes of a parsed JSON `value` as PostgreSQL writes it out once stored as jsonb: ", "
    and ": " between members, and each number as numeric writes it (1e+300 in 301 digits,
    1.5e-07 as 0.00000015). Key order does not change the size; -0.0 (written 0.0) counts a
    byte more. configurations/router_test.py compares this with what PostgreSQL renders."""
    text = json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
    size = len(text.encode())
    if _EXPONENT.search(text):  # rare: only then walk the document for floats
        for number in _floats(value):
            written = repr(number)
            size += len(format(Decimal(written), "f")) - len(written)
    return size


def _floats(value: Any) -> Iterator[float]:
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, float):
            yield item
        elif isinstance(item, dict):
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)


def _listed_tags(header: str) -> list[str]:
    return [tag.strip() for tag in header.split(",")]


def none_match(if_none_match: str | None, etag: str) -> bool:
    """True unless If-None-Match names `etag` (weak comparison, RFC 9110 13.1.2)."""
    if if_none_match is None:
        return True
    tags = _listed_tags(if_none_match)
    return "*" not in tags and etag not in (tag.removeprefix("W/") for tag in tags)


# A client is in a rollout's cohort when the hash of (configuration, client) falls below the
# percentage, in hundredths: the same on every worker and instance (not Python's hash(), which
# is salted per process), and a configuration's cohort grows by adding clients, never
# swapping them (docs/rollouts.md).
COHORT_BUCKETS = 10_000


def in_cohort(configuration_id: str, client: str, percent: int) -> bool:
    """Whether `client` is served the candidate of `configuration_id` at `percent`."""
    digest = hashlib.blake2b(f"{configuration_id}\0{client}".encode(), digest_size=8).digest()
    return int.from_bytes(digest) % COHORT_BUCKETS < percent * (COHORT_BUCKETS // 100)


@dataclass(frozen=True, slots=True)
class Rollout:
    """A running rollout as a representation carries it: the candidate's revision and
    percentage, and (on the current version only) the candidate itself."""

    percent: int
    revision: int
    candidate: "Representation | None" = None


@dataclass(frozen=True, slots=True)
class ItemRollout:
    """A running rollout of one configuration embedded in a view (an application with its
    configurations): its item's bytes now, and as the candidate."""

    configuration_id: str
    percent: int
    current: bytes
    candidate: bytes


@dataclass(frozen=True, slots=True)
class Representation:
    id: str
    body: bytes
    # The name of the application it is (or belongs to): what decides a token's scope. Not in
    # the body nor the ETag; "" (no name) is in no scope but "*".
    application_name: str = ""
    # A configuration's revision number (applications have none); not part of the ETag.
    revision: int | None = field(default=None, kw_only=True)
    # A configuration's schema, as stored: `{id}` or `{id}?revision=N` (schema_links.py).
    described_by: str | None = field(default=None, kw_only=True)
    # While a rollout runs: its percentage and candidate (configurations/rollouts.py).
    rollout: Rollout | None = field(default=None, kw_only=True)
    # A view's embedded configurations whose rollouts run (applications/queries.py).
    item_rollouts: tuple[ItemRollout, ...] = field(default=(), kw_only=True)
    etag: str = field(init=False)
    _gzipped: object = field(default=_NOT_YET, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "etag", etag_of(self.body, self.described_by))

    @property
    def gzipped(self) -> bytes | None:
        """The body gzip-encoded (None: not worth it), made on first use and then kept."""
        encoded = self._gzipped
        if encoded is _NOT_YET:
            encoded = gzip_of(self.body)
            object.__setattr__(self, "_gzipped", encoded)
        return encoded  # type: ignore[return-value]

    @classmethod
    def from_row(cls, row: dict) -> "Representation":
        """From a row with `id`, `body` (the JSON text) and `application_name` columns, and
        maybe `revision`, `described_by` and a running candidate's `candidate_*`."""
        rollout = None
        if row.get("candidate_revision") is not None:
            percent, revision = row["candidate_percent"], row["candidate_revision"]
            candidate = cls(
                row["id"],
                row["candidate_body"].encode(),
                row["application_name"],
                revision=revision,
                described_by=row["candidate_described_by"],
                rollout=Rollout(percent, revision),
            )
            rollout = Rollout(percent, revision, candidate)
        items = tuple(
            ItemRollout(item["id"], item["percent"], item["current"].encode(),
                        item["candidate"].encode())
            for item in json.loads(row.get("item_rollouts") or "[]")
        )  # fmt: skip
        return cls(
            row["id"],
            row["body"].encode(),
            row["application_name"],
            revision=row.get("revision"),
            described_by=row.get("described_by"),
            rollout=rollout,
            item_rollouts=items,
        )

    def for_client(self, client: str | None) -> "Representation":
        """What `client` is served: the candidate when a rollout runs and it is in its cohort,
        else this (the current version). Without a rollout, this at once."""
        rollout = self.rollout
        if rollout is None or client is None or rollout.candidate is None:
            return self if not self.item_rollouts or client is None else self._view_for(client)
        return rollout.candidate if in_cohort(self.id, client, rollout.percent) else self

    def _view_for(self, client: str) -> "Representation":
        """A view with each embedded item whose cohort holds `client` as its candidate. Each
        item is its configuration's GET body, which starts with its own id, so its bytes
        occur once in the view's."""
        body = self.body
        for item in self.item_rollouts:
            if in_cohort(item.configuration_id, client, item.percent):
                body = body.replace(item.current, item.candidate, 1)
        if body is self.body:
            return self
        return Representation(self.id, body, self.application_name)

    def check_if_match(self, if_match: str) -> None:
        """Raise PreconditionFailed unless If-Match names this version (strong comparison)."""
        tags = _listed_tags(if_match)
        if "*" in tags or self.etag in tags:
            return
        weak = any(tag.startswith("W/") for tag in tags)
        raise PreconditionFailed(WEAK_IF_MATCH if weak else STALE_IF_MATCH)
