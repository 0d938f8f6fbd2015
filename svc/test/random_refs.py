"""Unique names, so tests sharing the run's database never collide."""

import uuid


def random_name(prefix: str = "name") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"
