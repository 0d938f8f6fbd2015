"""The `describedby` link (RFC 8288; JSON Schema 2020-12 core 9.5.1) that attaches a
configuration to its schema: read from a write's `Link` request header, written on every
response carrying the configuration.

On the wire the target is the schema's path, `/api/v1/configurations/{id}`, or an absolute URL
with that path, optionally `?revision=N` to pin one revision; `<>` detaches. Stored (and
recorded in revisions) as `{id}` or `{id}?revision=N`, the path's prefix being the service's.
"""

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from config_service.errors import InvalidValue
from config_service.fields import canonical_ulid
from config_service.keys import CONFIGURATIONS_PATH

LOC = ("header", "link")
RELATION = "describedby"
# One link-value: `<target>` then `;`-separated parameters (RFC 8288 3). Targets hold no `>`.
LINK_VALUE = re.compile(r"\s*<([^>]*)>\s*((?:;[^,;]*)*)\s*(?:,|$)")
PARAMETER = re.compile(r';\s*([A-Za-z0-9!#$%&\'*+.^_`|~-]+)\s*(?:=\s*("[^"]*"|[^;,\s]*))?\s*')
REVISION = re.compile(r"revision=([1-9][0-9]{0,9})")


@dataclass(frozen=True, slots=True)
class SchemaLink:
    """What a write asks of the attachment: the schema to follow (None: none), maybe pinned."""

    schema_id: str | None
    pinned: int | None = None


DETACH = SchemaLink(None)


def link_values(header: str) -> list[tuple[str, set[str]]]:
    """`<a>; rel="x y", <b>; rel=z` -> [("a", {"x", "y"}), ("b", {"z"})]; 422 if malformed."""
    values, position = [], 0
    while position < len(header.rstrip()):
        match = LINK_VALUE.match(header, position)
        if match is None:
            raise InvalidValue('Link must be `<target>; rel="describedby"` (RFC 8288).', loc=LOC)
        target, parameters = match.groups()
        relations = set()
        for name, value in PARAMETER.findall(parameters):
            if name.lower() == "rel":
                relations |= set(value.strip('"').lower().split())
        values.append((target, relations))
        position = match.end()
    return values


def requested_link(header: str | None) -> SchemaLink | None:
    """The `describedby` link a write sends (None when it sends none: keep the attachment)."""
    if header is None:
        return None
    targets = [target for target, relations in link_values(header) if RELATION in relations]
    if not targets:
        return None
    if len(targets) > 1:
        raise InvalidValue("Send at most one describedby link.", loc=LOC)
    if targets[0] == "":
        return DETACH
    target = urlsplit(targets[0])
    prefix, _, schema_id = target.path.rpartition("/")
    if prefix != CONFIGURATIONS_PATH or target.fragment:
        raise InvalidValue(
            f"A describedby link names a configuration: <{CONFIGURATIONS_PATH}/{{id}}>, "
            "optionally with ?revision=N.",
            loc=LOC,
        )
    pinned = None
    if target.query:
        revision = REVISION.fullmatch(target.query)
        if revision is None:
            raise InvalidValue("A describedby link takes only ?revision=N (N ≥ 1).", loc=LOC)
        pinned = int(revision.group(1))
    try:
        return SchemaLink(canonical_ulid(schema_id), pinned)
    except ValueError:
        raise InvalidValue(f"{schema_id!r} is not a configuration id (a ULID).", loc=LOC) from None


def described_by_link(described_by: str) -> str:
    """The response's link-value for a stored attachment `{id}[?revision=N]`."""
    return f'<{CONFIGURATIONS_PATH}/{described_by}>; rel="{RELATION}"'


def described_by_path(described_by: str | None) -> str | None:
    """The path of a stored attachment, as ?history shows it (None: none)."""
    return None if described_by is None else f"{CONFIGURATIONS_PATH}/{described_by}"
