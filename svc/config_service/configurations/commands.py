"""Write side of configurations: command messages and their handlers.

Each handler runs inside one transaction (the bus opens it). The database's constraints
decide uniqueness and whether the application exists, so concurrent writers cannot race.
"""

from dataclasses import dataclass
from typing import Any

import psycopg2.errors
from psycopg2.extras import Json
from ulid import ULID

from config_service.bus import HandlerTable
from config_service import keys
from config_service.configurations.queries import find_configuration, no_configuration
from config_service.database import Cursor
from config_service.access.scope import SCOPE_CONDITION
from config_service.errors import AlreadyExists, InvalidValue
from config_service.messages import NO_DELIVERY, Command, Delivery
from config_service.representation import Representation


@dataclass(frozen=True, slots=True)
class CreateConfiguration(Command[Representation]):
    application_id: str
    name: str
    comments: str
    config: dict[str, Any]

    def touches(self) -> tuple[str, ...]:
        return keys.configuration_created(self.application_id)


@dataclass(frozen=True, slots=True)
class UpdateConfiguration(Command[Representation]):
    id: str
    name: str
    comments: str
    config: dict[str, Any]
    if_match: str | None = None
    # A GET's body sent back names the application; it must be the one the configuration has.
    application_id: str | None = None

    def touches(self) -> tuple[str, ...]:
        return keys.configuration_updated(self.id)


def _name_taken(name: str) -> AlreadyExists:
    return AlreadyExists(f"This application already has a configuration named {name!r}.")


# Inserted only into an application in the caller's scope. FOR SHARE locks it and rechecks
# its name once a concurrent rename commits, so the name that decided is the one kept.
INSERT_CONFIGURATION = f"""
    INSERT INTO configurations (id, application_id, name, comments, config)
    SELECT %(id)s, a.id, %(name)s, %(comments)s, %(config)s
    FROM applications a
    WHERE a.id = %(application_id)s AND {SCOPE_CONDITION}
    FOR SHARE OF a
"""


def create_configuration(
    cursor: Cursor, command: CreateConfiguration, delivery: Delivery = NO_DELIVERY
) -> Representation:
    """Insert a new configuration into an existing application of the caller's scope."""
    configuration_id = str(ULID())
    try:
        cursor.execute(
            INSERT_CONFIGURATION,
            {
                "id": configuration_id,
                "application_id": command.application_id,
                "name": command.name,
                "comments": command.comments,
                "config": Json(command.config),
                **delivery.caller.scope.sql_parameters(),
            },
        )
    except psycopg2.errors.UniqueViolation as error:
        raise _name_taken(command.name) from error
    if cursor.rowcount == 0:  # no such application, or out of scope: the same answer
        raise InvalidValue(
            f"No application has id {command.application_id}.", loc=("body", "application_id")
        )
    return find_configuration(cursor, configuration_id)


def update_configuration(
    cursor: Cursor, command: UpdateConfiguration, delivery: Delivery = NO_DELIVERY
) -> Representation:
    """Replace a configuration's name, comments and config, if If-Match names its version;
    its application must be in the caller's scope."""
    # The row lock makes a concurrent editor wait here, then see this edit's result; the lock
    # on its application holds the name that decides scope until this transaction ends.
    cursor.execute(
        """
        SELECT c.application_id, a.name AS application_name
        FROM configurations c JOIN applications a ON a.id = c.application_id
        WHERE c.id = %(id)s
        FOR UPDATE OF c FOR SHARE OF a
        """,
        {"id": command.id},
    )
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
        find_configuration(cursor, command.id).check_if_match(command.if_match)
    try:
        cursor.execute(
            """
            UPDATE configurations
            SET name = %(name)s, comments = %(comments)s, config = %(config)s
            WHERE id = %(id)s
            """,
            {
                "id": command.id,
                "name": command.name,
                "comments": command.comments,
                "config": Json(command.config),
            },
        )
    except psycopg2.errors.UniqueViolation as error:
        raise _name_taken(command.name) from error
    return find_configuration(cursor, command.id)


COMMAND_HANDLERS: HandlerTable = {
    CreateConfiguration: create_configuration,
    UpdateConfiguration: update_configuration,
}
