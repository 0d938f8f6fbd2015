"""Write side of configurations: command messages and their handlers.

Each handler runs inside one transaction (the bus opens it). The database's constraints
decide uniqueness and whether the application exists, so concurrent writers cannot race.
PostgreSQL records each change's revision in the same transaction (migration 0007); the
handlers say who writes and trim old revisions (revisions.py). Statements that follow each
other unconditionally go in one round trip.
"""

from dataclasses import dataclass
from functools import partial
from typing import Any

import psycopg2.errors
from psycopg2.extras import Json
from ulid import ULID

from config_service import keys
from config_service.bus import HandlerTable
from config_service.configurations.queries import SELECT_CONFIGURATION, no_configuration
from config_service.configurations.revisions import (
    SET_AUTHOR,
    TRIM_AND_SELECT,
    Written,
    author_parameters,
)
from config_service.database import Cursor
from config_service.access.scope import SCOPE_CONDITION
from config_service.errors import AlreadyExists, InvalidValue
from config_service.messages import NO_DELIVERY, Command, Delivery
from config_service.representation import Representation


@dataclass(frozen=True, slots=True)
class CreateConfiguration(Command[Written]):
    application_id: str
    name: str
    comments: str
    config: dict[str, Any]

    def touches(self) -> tuple[str, ...]:
        return keys.configuration_created(self.application_id)


@dataclass(frozen=True, slots=True)
class UpdateConfiguration(Command[Written]):
    id: str
    name: str
    comments: str
    config: dict[str, Any]
    if_match: str | None = None
    # A GET's body sent back names the application; it must be the one the configuration has.
    application_id: str | None = None

    def touches(self) -> tuple[str, ...]:
        return keys.configuration_updated(self.id)


# Inserted only into an application in the caller's scope. FOR SHARE locks it and rechecks
# its name once a concurrent rename commits, so the name that decided is the one kept.
INSERT_CONFIGURATION = (
    SET_AUTHOR
    + f"""
    INSERT INTO configurations (id, application_id, name, comments, config)
    SELECT %(id)s, a.id, %(name)s, %(comments)s, %(config)s
    FROM applications a
    WHERE a.id = %(application_id)s AND {SCOPE_CONDITION}
    FOR SHARE OF a;
"""
    + SELECT_CONFIGURATION
)

# The row lock makes a concurrent editor wait here, then see this edit's result; the lock on
# its application holds the name that decides scope until this transaction ends. The body is
# what If-Match is checked against, the revision tells whether this PUT records one.
LOCK_CONFIGURATION = (
    SET_AUTHOR
    + """
    SELECT configuration.application_id, application.name AS application_name,
           configuration_representation(configuration) AS body,
           (SELECT max(revision) FROM configuration_revisions
            WHERE configuration_id = configuration.id) AS revision
    FROM configurations configuration
    JOIN applications application ON application.id = configuration.application_id
    WHERE configuration.id = %(id)s
    FOR UPDATE OF configuration FOR SHARE OF application
"""
)

# A PUT that changes nothing updates nothing: no revision, no change notification, same ETag.
# (config compared as text, as it is rendered: jsonb calls 1 and 1.0 equal.)
UPDATE_CONFIGURATION = (
    """
    UPDATE configurations
    SET name = %(name)s, comments = %(comments)s, config = %(config)s
    WHERE id = %(id)s
      AND (name, comments, config::text)
          IS DISTINCT FROM (%(name)s, %(comments)s, %(config)s::jsonb::text);
"""
    + TRIM_AND_SELECT
)


def _name_taken(name: str) -> AlreadyExists:
    return AlreadyExists(f"This application already has a configuration named {name!r}.")


def create_configuration(
    cursor: Cursor, command: CreateConfiguration, delivery: Delivery = NO_DELIVERY
) -> Written:
    """Insert a new configuration into an existing application of the caller's scope: its
    revision 1."""
    try:
        cursor.execute(
            INSERT_CONFIGURATION,
            {
                "id": str(ULID()),
                "application_id": command.application_id,
                "name": command.name,
                "comments": command.comments,
                "config": Json(command.config),
                **author_parameters(delivery),
                **delivery.caller.scope.sql_parameters(),
            },
        )
    except psycopg2.errors.UniqueViolation as error:
        raise _name_taken(command.name) from error
    row = cursor.fetchone()
    if row is None:  # no such application, or out of scope: the same answer
        raise InvalidValue(
            f"No application has id {command.application_id}.", loc=("body", "application_id")
        )
    return Written(Representation.from_row(row), recorded=True)


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
    cursor.execute(LOCK_CONFIGURATION, {"id": command.id, **author_parameters(delivery)})
    row = cursor.fetchone()
    if row is None or not delivery.caller.scope.allows(row["application_name"]):
        raise no_configuration(command.id)  # out of scope: as missing, before If-Match too
    if command.application_id not in (None, row["application_id"]):
        raise InvalidValue(
            "A configuration cannot move to another application: application_id must be "
            f"{row['application_id']}.",
            loc=("body", "application_id"),
        )
    if command.if_match is not None:
        Representation(command.id, row["body"].encode()).check_if_match(command.if_match)
    try:
        cursor.execute(
            UPDATE_CONFIGURATION,
            {
                "id": command.id,
                "name": command.name,
                "comments": command.comments,
                "config": Json(command.config),
                "keep": revisions_keep,
            },
        )
    except psycopg2.errors.UniqueViolation as error:
        raise _name_taken(command.name) from error
    written = cursor.fetchone()
    return Written(
        Representation.from_row(written),
        recorded=written["revision"] != row["revision"],
        removed=written["removed"],
    )


def command_handlers(revisions_keep: int) -> HandlerTable:
    """The handler table, with REVISIONS_KEEP."""
    return {
        CreateConfiguration: create_configuration,
        UpdateConfiguration: partial(update_configuration, revisions_keep=revisions_keep),
    }
