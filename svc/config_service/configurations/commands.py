"""Write side of configurations: command messages and their handlers.

Each handler runs inside one transaction (the bus opens it). The database's constraints
decide uniqueness and whether the application exists, so concurrent writers cannot race.
PostgreSQL records each change's revision in the same transaction (migration 0007). The SQL
of a write is a function (migrations 0009 and 0010: planned once per connection, not per
call), told who writes and how many revisions to keep.

A POST, and a PUT without If-Match, is one call that has the effect of one even when sent
twice (`idempotent`), so it runs in autocommit: one round trip (0010 says how). A PUT with
If-Match first locks and reads the configuration, to compare the ETag here, in a transaction.
"""

from dataclasses import dataclass, field
from functools import partial
from typing import Any

import psycopg2.errors
from psycopg2.extras import Json
from ulid import ULID

from config_service import keys
from config_service.bus import HandlerTable
from config_service.configurations.queries import no_configuration
from config_service.configurations.revisions import Written, author_parameters
from config_service.errors import InvalidValue, configuration_name_taken
from config_service.messages import NO_DELIVERY, Command, Delivery
from config_service.representation import Representation
from config_service.store.database import Cursor


def _new_id() -> str:
    return str(ULID())


@dataclass(frozen=True, slots=True)
class CreateConfiguration(Command[Written]):
    application_id: str
    name: str
    comments: str
    config: dict[str, Any]
    # Chosen once per request, so that sent again it finds itself created (0010).
    id: str = field(default_factory=_new_id)

    def touches(self) -> tuple[str, ...]:
        return keys.configuration_created(self.application_id)

    def idempotent(self) -> bool:
        return True


@dataclass(frozen=True, slots=True)
class UpdateConfiguration(Command[Written]):
    id: str
    name: str
    comments: str
    config: dict[str, Any]
    if_match: str | None = None
    # A GET's body sent back names the application; it must be the one the configuration has.
    application_id: str | None = None

    def touched(self, result: Written) -> tuple[str, ...]:
        return keys.configuration_updated(self.id, result.application_id)

    def idempotent(self) -> bool:
        return self.if_match is None  # with If-Match, a read and a check come first


# The write functions of migrations 0009 and 0010, which keep their plans and say what each does.
CREATE = """
    SELECT id, body, revision, application_name
    FROM configuration_create(%(id)s, %(application_id)s, %(name)s, %(comments)s, %(config)s,
                              %(changed_by)s, %(request_id)s,
                              %(everything)s, %(exact)s::text[], %(prefixes)s::text[])
"""
LOCK = """
    SELECT application_id, application_name, body
    FROM configuration_lock(%(id)s, %(changed_by)s, %(request_id)s)
"""
PUT = """
    SELECT id, body, revision, application_name, application_id, recorded, removed
    FROM configuration_put(%(id)s, %(name)s, %(comments)s, %(config)s, %(application_id)s,
                           %(keep)s, %(changed_by)s, %(request_id)s,
                           %(everything)s, %(exact)s::text[], %(prefixes)s::text[])
"""


def create_configuration(
    cursor: Cursor, command: CreateConfiguration, delivery: Delivery = NO_DELIVERY
) -> Written:
    """Insert a new configuration into an existing application of the caller's scope: its
    revision 1."""
    try:
        cursor.execute(
            CREATE,
            {
                "id": command.id,
                "application_id": command.application_id,
                "name": command.name,
                "comments": command.comments,
                "config": Json(command.config),
                **author_parameters(delivery),
                **delivery.caller.scope.sql_parameters(),
            },
        )
    except psycopg2.errors.UniqueViolation as error:
        raise configuration_name_taken(command.name) from error
    row = cursor.fetchone()
    if row is None:  # no such application, or out of scope: the same answer
        raise InvalidValue(
            f"No application has id {command.application_id}.", loc=("body", "application_id")
        )
    return Written(
        Representation.from_row(row), recorded=True, application_id=command.application_id
    )


def update_configuration(
    cursor: Cursor,
    command: UpdateConfiguration,
    delivery: Delivery = NO_DELIVERY,
    *,
    revisions_keep: int,
) -> Written:
    """Replace a configuration's name, comments and config, if If-Match names its version
    and its application is in the caller's scope; keep its newest `revisions_keep` revisions
    (0: all)."""
    if command.if_match is not None:
        _check_if_match(cursor, command, delivery)
    try:
        cursor.execute(
            PUT,
            {
                "id": command.id,
                "name": command.name,
                "comments": command.comments,
                "config": Json(command.config),
                "application_id": command.application_id,
                "keep": revisions_keep,
                **author_parameters(delivery),
                **delivery.caller.scope.sql_parameters(),
            },
        )
    except psycopg2.errors.UniqueViolation as error:
        raise configuration_name_taken(command.name) from error
    written = cursor.fetchone()
    if written is None:  # no such configuration, or out of scope: the same answer
        raise no_configuration(command.id)
    if written["body"] is None:  # the body named another application: nothing was written
        raise _stays_in(written["application_id"])
    return Written(
        Representation.from_row(written),
        recorded=written["recorded"],
        removed=written["removed"],
        application_id=written["application_id"],
    )


def _check_if_match(cursor: Cursor, command: UpdateConfiguration, delivery: Delivery) -> None:
    """Lock the configuration and compare If-Match with its ETag, before anything is written
    (404 and 422 first, as the write itself would answer them)."""
    cursor.execute(LOCK, {"id": command.id, **author_parameters(delivery)})
    row = cursor.fetchone()
    if row is None or not delivery.caller.scope.allows(row["application_name"]):
        raise no_configuration(command.id)  # out of scope: as missing, before If-Match too
    if command.application_id not in (None, row["application_id"]):
        raise _stays_in(row["application_id"])
    Representation(command.id, row["body"].encode()).check_if_match(command.if_match)


def _stays_in(application_id: str) -> InvalidValue:
    return InvalidValue(
        "A configuration cannot move to another application: application_id must be "
        f"{application_id}.",
        loc=("body", "application_id"),
    )


def command_handlers(revisions_keep: int) -> HandlerTable:
    """The handler table, with REVISIONS_KEEP."""
    return {
        CreateConfiguration: create_configuration,
        UpdateConfiguration: partial(update_configuration, revisions_keep=revisions_keep),
    }
