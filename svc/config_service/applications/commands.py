"""Write side of applications: command messages and their handlers.

Each handler runs inside one transaction (the bus opens it). Uniqueness is left to the
database's constraint, so concurrent writers cannot both win a name.
"""

from dataclasses import dataclass

import psycopg2.errors
from ulid import ULID

from config_service import keys
from config_service.access.visibility import check_may_name
from config_service.applications.queries import find_application, no_application
from config_service.bus import HandlerTable
from config_service.errors import application_name_taken
from config_service.messages import NO_DELIVERY, Command, Delivery
from config_service.representation import Representation
from config_service.store.database import Cursor


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


def create_application(
    cursor: Cursor, command: CreateApplication, delivery: Delivery = NO_DELIVERY
) -> Representation:
    """Insert a new application with a fresh id, named within the caller's scope."""
    check_may_name(delivery.caller, command.name)  # before the INSERT: 403 whether taken or not
    application_id = str(ULID())
    try:
        cursor.execute(
            "INSERT INTO applications (id, name, comments) VALUES (%(id)s, %(name)s, %(comments)s)",
            {"id": application_id, "name": command.name, "comments": command.comments},
        )
    except psycopg2.errors.UniqueViolation as error:
        raise application_name_taken(command.name) from error
    return find_application(cursor, application_id)


def update_application(
    cursor: Cursor, command: UpdateApplication, delivery: Delivery = NO_DELIVERY
) -> Representation:
    """Replace an application's name and comments, if it is still the version If-Match names.
    Both its current name and the new one must be in the caller's scope."""
    # The row lock makes a concurrent editor wait here, then see this edit's result; the name
    # it reads is the one that decides scope until this transaction ends.
    cursor.execute("SELECT name FROM applications WHERE id = %(id)s FOR UPDATE", {"id": command.id})
    row = cursor.fetchone()
    if row is None or not delivery.caller.scope.allows(row["name"]):
        raise no_application(command.id)  # out of scope: as missing, before If-Match too
    check_may_name(delivery.caller, command.name)
    if command.if_match is not None:
        find_application(cursor, command.id).check_if_match(command.if_match)
    try:
        cursor.execute(
            "UPDATE applications SET name = %(name)s, comments = %(comments)s WHERE id = %(id)s",
            {"id": command.id, "name": command.name, "comments": command.comments},
        )
    except psycopg2.errors.UniqueViolation as error:
        raise application_name_taken(command.name) from error
    return find_application(cursor, command.id)


COMMAND_HANDLERS: HandlerTable = {
    CreateApplication: create_application,
    UpdateApplication: update_application,
}
