"""Write side of applications: command messages and their handlers.

Each handler runs inside one transaction (the bus opens it). Uniqueness is left to the
database's constraint, so concurrent writers cannot both win a name.
"""

from dataclasses import dataclass

import psycopg2.errors
from ulid import ULID

from config_service import keys
from config_service.applications.queries import find_application, no_application
from config_service.bus import HandlerTable
from config_service.database import Cursor
from config_service.errors import AlreadyExists
from config_service.messages import Command
from config_service.representation import Representation


@dataclass(frozen=True, slots=True)
class CreateApplication(Command[Representation]):
    name: str
    comments: str


@dataclass(frozen=True, slots=True)
class UpdateApplication(Command[Representation]):
    id: str
    name: str
    comments: str
    if_match: str | None = None

    def touches(self) -> tuple[str, ...]:
        return keys.application_updated(self.id)


def name_taken(name: str) -> AlreadyExists:
    return AlreadyExists(f"An application named {name!r} already exists.")


def create_application(cursor: Cursor, command: CreateApplication) -> Representation:
    """Insert a new application with a fresh id."""
    application_id = str(ULID())
    try:
        cursor.execute(
            "INSERT INTO applications (id, name, comments) VALUES (%(id)s, %(name)s, %(comments)s)",
            {"id": application_id, "name": command.name, "comments": command.comments},
        )
    except psycopg2.errors.UniqueViolation as error:
        raise name_taken(command.name) from error
    return find_application(cursor, application_id)


def update_application(cursor: Cursor, command: UpdateApplication) -> Representation:
    """Replace an application's name and comments, if it is still the version If-Match names."""
    # The row lock makes a concurrent editor wait here, then see this edit's result.
    cursor.execute("SELECT id FROM applications WHERE id = %(id)s FOR UPDATE", {"id": command.id})
    if cursor.fetchone() is None:
        raise no_application(command.id)
    if command.if_match is not None:
        find_application(cursor, command.id).check_if_match(command.if_match)
    try:
        cursor.execute(
            "UPDATE applications SET name = %(name)s, comments = %(comments)s WHERE id = %(id)s",
            {"id": command.id, "name": command.name, "comments": command.comments},
        )
    except psycopg2.errors.UniqueViolation as error:
        raise name_taken(command.name) from error
    return find_application(cursor, command.id)


COMMAND_HANDLERS: HandlerTable = {
    CreateApplication: create_application,
    UpdateApplication: update_application,
}
