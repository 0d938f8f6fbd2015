"""Unique names, so tests sharing the run's database never collide; an id nothing has."""

import uuid

# A well-formed ULID that no application or configuration has.
MISSING_ID = "01ARZ3NDEKTSV4RRFFQ69G5FAV"


def random_name(prefix: str = "name") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"
