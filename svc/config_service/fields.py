"""Field types shared by the resources' request and response models.

Everything a client sends is checked here against what PostgreSQL can store, so a bad value
is a 422 naming the field, never a 500 from the database.
"""

import math
import re
from functools import lru_cache
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    WithJsonSchema,
)
from pydantic_extra_types.ulid import ULID

# PostgreSQL text cannot hold NUL; psycopg2 cannot encode a lone UTF-16 surrogate.
UNSTORABLE_CHARACTER = re.compile("[\x00\ud800-\udfff]")

ULID_JSON_SCHEMA = {
    "type": "string",
    "pattern": "^[0-7][0-9A-HJKMNP-TV-Za-hjkmnp-tv-z]{25}$",
    "minLength": 26,
    "maxLength": 26,
    "description": "A ULID: 26 Crockford base32 characters, case-insensitive.",
}


_ULID = TypeAdapter(ULID)


@lru_cache(maxsize=4096)  # runtimes read the same ids again and again
def canonical_ulid(value: str) -> str:
    """ULIDs are case-insensitive: accept any case, answer with the canonical upper case."""
    if len(value) != 26:
        raise ValueError("must be a ULID of 26 characters")
    return str(_ULID.validate_python(value.upper()))


# Text on the wire and in the database; checked by pydantic-extra-types' ULID. (FastAPI takes
# only plain types as path parameters, so the annotated type is str.)
Ulid = Annotated[str, AfterValidator(canonical_ulid), WithJsonSchema(ULID_JSON_SCHEMA)]
# The same, for fields a client may send back but never changes (OpenAPI `readOnly`).
ReadOnlyUlid = Annotated[
    str, AfterValidator(canonical_ulid), WithJsonSchema({**ULID_JSON_SCHEMA, "readOnly": True})
]


def _storable_text(value: str) -> str:
    if UNSTORABLE_CHARACTER.search(value):
        raise ValueError("must not contain NUL characters or unpaired surrogates")
    return value


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank")
    return value


# What _not_blank and _storable_text check, for the OpenAPI document (ECMA-262 patterns; a
# lone surrogate cannot be written in JSON Schema). Documented, not validated by pattern, so
# the error messages stay the validators' own.
NAME_PATTERN = r"^[^\u0000]*[^\s\u0000][^\u0000]*$"
NO_NUL_PATTERN = r"^[^\u0000]*$"

Name = Annotated[
    str,
    Field(
        min_length=1,
        max_length=256,
        examples=["billing-service"],
        json_schema_extra={"pattern": NAME_PATTERN},
    ),
    AfterValidator(_not_blank),
    AfterValidator(_storable_text),
]
Comments = Annotated[
    str,
    Field(
        description="Free text, up to 1024 characters.",
        max_length=1024,
        examples=["Owned by the payments team."],
        json_schema_extra={"pattern": NO_NUL_PATTERN},
    ),
    AfterValidator(_storable_text),
]


def check_json_document(value: Any, *, max_depth: int | None = None) -> None:
    """Raise ValueError unless PostgreSQL's jsonb can store `value` exactly as given, nested
    at most `max_depth` deep (None: as deep as the JSON parser allowed)."""
    pending = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, dict | list):
            if max_depth is not None and depth > max_depth:
                raise ValueError(f"must not nest objects and arrays deeper than {max_depth}")
            children = item.items() if isinstance(item, dict) else enumerate(item)
            for key, child in children:
                if isinstance(key, str):
                    _storable_text(key)
                pending.append((child, depth + 1))
        elif isinstance(item, str):
            _storable_text(item)
        elif isinstance(item, float) and not math.isfinite(item):
            raise ValueError("numbers must be finite (no NaN or Infinity)")


def _storable_document(value: dict[str, Any]) -> dict[str, Any]:
    # The app's MAX_JSON_DEPTH is checked by the router, with the settings in hand
    # (dependencies.check_config_depth): a validator is handed nothing but the value.
    check_json_document(value)
    return value


ConfigDocument = Annotated[
    dict[str, Any],
    AfterValidator(_storable_document),
    Field(
        description="Any JSON object: the configuration's name/value pairs.",
        examples=[{"feature_flags": {"dark_mode": True}, "timeout_ms": 2500}],
    ),
]


class Strict(BaseModel):
    """Unknown fields are refused, so that a typo in a request body surfaces as 422."""

    model_config = ConfigDict(extra="forbid")


# Examples, distinct per resource so a reader of the docs can tell the ids apart.
APPLICATION_ID_EXAMPLE = "01JDQ2ZK3M8N7V6W5X4Y3Z2A1B"
CONFIGURATION_ID_EXAMPLE = "01JDQ30A4B5C6D7E8F9G0H1J2K"
