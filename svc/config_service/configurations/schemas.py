"""Checking a configuration's write against schemas, in the write's own transaction.

The write functions of PostgreSQL say what a write must have checked before they let it
commit (store/migrations/functions/configuration_checks.sql): `{schema_id}@{revision}` when the configuration follows a schema (its body
must satisfy that revision), and `+followers` when other configurations follow it (its body
must be a supported schema that each unpinned follower still satisfies). A write sends what it
checked; when that is not what PostgreSQL requires, nothing is written, the answer says what
is, and the service checks that and sends the write again. So a write that needs no check,
most of them, is still one statement, and a write validated against a schema this worker has
compiled before is one statement too (the claim and the validator are remembered).

Checking followers reads them all: that runs in a transaction (the bus gives one to a command
that raises NeedsTransaction), where the schema stays locked until the write commits.
"""

import json
from collections import OrderedDict
from threading import Lock

from config_service.bus import NeedsTransaction
from config_service.configurations.schema_links import LOC
from config_service.errors import Conflict, InvalidValue
from config_service.json_schema.validator import (
    UnsupportedSchema,
    Validator,
    Violation,
    compile_schema,
)
from config_service.store.database import Cursor

# Violations listed in one 422, and followers named in one 409: enough to act on, bounded.
MAX_VIOLATIONS = 50
MAX_BROKEN_FOLLOWERS = 20
# Schemas compiled and claims remembered per worker: a schema's compiled form is small, and
# forgetting one only costs one more round trip and a compilation.
MAX_VALIDATORS = 256
MAX_CLAIMS = 10_000

SELECT_SCHEMA_REVISION = """
    SELECT body FROM configuration_revisions
    WHERE configuration_id = %(id)s AND revision = %(revision)s
"""
SELECT_UNPINNED_FOLLOWERS = """
    SELECT follower.id, follower.config
    FROM configuration_schemas link
    JOIN configurations follower ON follower.id = link.configuration_id
    WHERE link.schema_id = %(id)s AND link.schema_revision IS NULL
    ORDER BY follower.id
"""


class _Bounded[V](OrderedDict[str, V]):
    """A dict that forgets its oldest entries past `limit`."""

    def __init__(self, limit: int):
        super().__init__()
        self.limit = limit
        self.lock = Lock()

    def put(self, key: str, value: V) -> None:
        with self.lock:
            self[key] = value
            self.move_to_end(key)
            while len(self) > self.limit:
                self.popitem(last=False)


class SchemaBook:
    """A worker's memory of compiled schemas (by `{id}@{revision}`: a revision never changes)
    and of what each configuration's last write had to check."""

    def __init__(self) -> None:
        self._validators: _Bounded[Validator] = _Bounded(MAX_VALIDATORS)
        self._claims: _Bounded[str] = _Bounded(MAX_CLAIMS)

    def claim(self, configuration_id: str) -> str:
        """What the configuration's writes had to check last time ('' until known)."""
        return self._claims.get(configuration_id, "")

    def remember(self, configuration_id: str, checked: str) -> None:
        if self._claims.get(configuration_id, "") != checked:
            self._claims.put(configuration_id, checked)

    def validator(self, cursor: Cursor, schema_at: str) -> Validator:
        """The compiled schema `{id}@{revision}`, read from its revision the first time."""
        validator = self._validators.get(schema_at)
        if validator is None:
            schema_id, _, revision = schema_at.partition("@")
            cursor.execute(SELECT_SCHEMA_REVISION, {"id": schema_id, "revision": int(revision)})
            row = cursor.fetchone()
            try:
                validator = compile_schema(json.loads(row["body"])["config"])
            except UnsupportedSchema as unsupported:
                raise InvalidValue(
                    f"Configuration {schema_id} (revision {revision}) is not a JSON Schema "
                    "this service supports (docs/schemas.md).",
                    loc=LOC,
                    errors=_schema_errors(unsupported, LOC),
                ) from None
            self._validators.put(schema_at, validator)
        return validator


def check(
    cursor: Cursor, book: SchemaBook, configuration_id: str, config: dict, required: str
) -> str:
    """Check `config` as PostgreSQL `required` (see above); return the claim to send with it.

    422 when the body does not satisfy its schema, or is not a supported schema while others
    follow it; 409 when an unpinned follower would no longer satisfy it."""
    schema_at, _, followers = required.partition("+")
    if schema_at:
        violations = book.validator(cursor, schema_at).validate(config, MAX_VIOLATIONS)
        if violations:
            raise InvalidValue(
                f"config does not satisfy its schema, configuration {schema_at.replace('@', ' revision ')}.",
                loc=("body", "config"),
                errors=[
                    _violation_error(("body", "config"), violation) for violation in violations
                ],
            )
    if followers:
        _check_followers(cursor, configuration_id, config)
    return required


def _check_followers(cursor: Cursor, schema_id: str, config: dict) -> None:
    if cursor.connection.autocommit:
        raise NeedsTransaction()  # followers are read under the schema's lock, until commit
    try:
        validator = compile_schema(config)
    except UnsupportedSchema as unsupported:
        raise InvalidValue(
            "Other configurations follow this one: its config must be a JSON Schema this "
            "service supports (docs/schemas.md).",
            loc=("body", "config"),
            errors=_schema_errors(unsupported, ("body", "config")),
        ) from None
    cursor.execute(SELECT_UNPINNED_FOLLOWERS, {"id": schema_id})
    broken = []
    for follower in cursor:
        violations = validator.validate(follower["config"], 1)
        if violations:
            error = _violation_error(("configurations", follower["id"], "config"), violations[0])
            broken.append(error)
            if len(broken) == MAX_BROKEN_FOLLOWERS:
                break
    if broken:
        ids = ", ".join(error["loc"][1] for error in broken)
        raise Conflict(
            f"Configurations following this schema would no longer satisfy it: {ids}. Fix them "
            "first, or pin them to the current revision (docs/schemas.md).",
            errors=broken,
        )


def _violation_error(loc: tuple, violation: Violation) -> dict:
    return {"loc": [*loc, *violation.path], "msg": violation.message, "keyword": violation.keyword}


def _schema_errors(unsupported: UnsupportedSchema, loc: tuple) -> list[dict]:
    return [_violation_error(loc, problem) for problem in unsupported.problems[:MAX_VIOLATIONS]]


def refused_link(reason: str) -> InvalidValue:
    """The 422 of a describedby link PostgreSQL refused ('missing', 'self' or 'loop')."""
    detail = {
        "missing": "The describedby link names no configuration this token can read (or no "
        "such revision of it).",
        "self": "A configuration cannot be its own schema.",
        "loop": "The describedby link would make a loop: that schema is described, directly "
        "or not, by this configuration.",
    }[reason]
    return InvalidValue(detail, loc=LOC)
