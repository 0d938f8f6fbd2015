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
from config_service.errors import AlreadyExists, InvalidValue
from config_service.messages import Command
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


def create_configuration(cursor: Cursor, command: CreateConfiguration) -> Representation:
    """Insert a new configuration into an existing application."""
    configuration_id = str(ULID())
    try:
        cursor.execute(
            """
            INSERT INTO configurations (id, application_id, name, comments, config)
            VALUES (%(id)s, %(application_id)s, %(name)s, %(comments)s, %(config)s)
            """,
            {
                "id": configuration_id,
                "application_id": command.application_id,
                "name": command.name,
                "comments": command.comments,
                "config": Json(command.config),
            },
        )
    except psycopg2.errors.UniqueViolation as error:
        raise _name_taken(command.name) from error
    except psycopg2.errors.ForeignKeyViolation as error:
        raise InvalidValue(
            f"No application has id {command.application_id}.", loc=("body", "application_id")
        ) from error
    return find_configuration(cursor, configuration_id)


def update_configuration(cursor: Cursor, command: UpdateConfiguration) -> Representation:
    """Replace a configuration's name, comments and config, if If-Match names its version."""
    # The row lock makes a concurrent editor wait here, then see this edit's result.
    cursor.execute(
        "SELECT application_id FROM configurations WHERE id = %(id)s FOR UPDATE", {"id": command.id}
    )
    row = cursor.fetchone()
    if row is None:
        raise no_configuration(command.id)
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
