"""Write side of configurations: command messages and their handlers.

Each handler runs inside one transaction (the bus opens it). The database's constraints
decide uniqueness and whether the application exists, so concurrent writers cannot race.
PostgreSQL records each change's revision in the same transaction, and applies REVISIONS_KEEP
(store/migrations/functions/record_configuration_revision.sql). The SQL of a write is a
function, planned once per connection, not per call, and told who writes: each is read in one
file, store/migrations/functions/configuration_*.sql.

A POST, and a PUT without If-Match, is one call that has the effect of one even when sent
twice (`idempotent`), so it runs in autocommit: one round trip (configuration_create.sql says
how). A PUT with If-Match first locks and reads the configuration, to compare the ETag here,
in a transaction. Either way the call says what the service checked against schemas, and
PostgreSQL writes only when that is what the write requires (schemas.py,
configuration_put_checked.sql).
"""

from collections.abc import Callable
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
from config_service.configurations.schema_links import SchemaLink
from config_service.configurations.schemas import SchemaBook, check, refused_link
from config_service.errors import (
    Conflict,
    DomainError,
    InvalidValue,
    configuration_name_taken,
)
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
    # The schema it follows, from a `describedby` link (None: none).
    schema_link: SchemaLink | None = None
    # Chosen once per request, so that sent again it finds itself created.
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
    # A `describedby` link: follow this schema, or none (SchemaLink(None)); None keeps it.
    schema_link: SchemaLink | None = None

    def touched(self, result: Written) -> tuple[str, ...]:
        return keys.configuration_updated(self.id, result.application_id)

    def idempotent(self) -> bool:
        return self.if_match is None  # with If-Match, a read and a check come first


# The write functions (store/migrations/functions/), which keep their plans and say what each
# does. The trigger applies REVISIONS_KEEP, as the database holds it, to every writer
# (store/retention.py).
CREATE = """
    SELECT id, body, revision, application_name, described_by, required, refused
    FROM configuration_create_checked(
        %(checked)s, %(schema_id)s, %(pinned)s,
        %(id)s, %(application_id)s, %(name)s, %(comments)s, %(config)s,
        %(changed_by)s, %(request_id)s, %(everything)s, %(exact)s::text[], %(prefixes)s::text[])
"""
LOCK = """
    SELECT application_id, application_name, body, described_by, candidate_revision
    FROM configuration_lock(%(id)s, %(changed_by)s, %(request_id)s)
    CROSS JOIN configuration_described_by(%(id)s) AS described_by
    LEFT JOIN configuration_candidate(%(id)s) ON true
"""
PUT = """
    SELECT id, body, revision, application_name, application_id, recorded, removed,
           described_by, required, refused
    FROM configuration_put_checked(
        %(checked)s, %(relink)s, %(schema_id)s, %(pinned)s,
        %(id)s, %(name)s, %(comments)s, %(config)s, %(application_id)s,
        %(changed_by)s, %(request_id)s,
        %(everything)s, %(exact)s::text[], %(prefixes)s::text[])
"""
# A write sent again with what PostgreSQL said it requires (schemas.py): more rounds than this
# mean schemas keep changing under it.
MAX_CHECK_ROUNDS = 4


def checked_write(
    cursor: Cursor,
    book: SchemaBook | None,
    configuration_id: str,
    config: dict[str, Any],
    write: Callable[[str], dict | None],
) -> dict | None:
    """Send `write(checked)` until PostgreSQL takes what was checked; its row, or None.

    Without a book (a handler called directly), nothing is remembered between writes."""
    book = book or SchemaBook()
    # What its last write had to check is most likely what this one has to: checked first, it
    # saves a round trip. If the body fails it, the schema may have changed since: PostgreSQL
    # says what is required now.
    checked = book.claim(configuration_id)
    if checked:
        try:
            check(cursor, book, configuration_id, config, checked)
        except DomainError:
            checked = ""
    for _ in range(MAX_CHECK_ROUNDS):
        row = write(checked)
        if row is None or (row["required"] is None and row["refused"] is None):
            book.remember(configuration_id, checked)
            return row
        if row["refused"] is not None:
            raise refused_link(row["refused"])
        checked = check(cursor, book, configuration_id, config, row["required"])
    raise Conflict(
        "The schemas of this configuration kept changing while it was checked; send it again."
    )


def crossed() -> Conflict:
    """Two writes attaching schemas to each other at once wait for each other: PostgreSQL
    ends one of them (nothing of it is written), which may simply be sent again."""
    return Conflict("This write crossed another one changing schemas at once; send it again.")


def _link_parameters(link: SchemaLink | None) -> dict[str, Any]:
    if link is None:
        return {"relink": False, "schema_id": None, "pinned": None}
    return {"relink": True, "schema_id": link.schema_id, "pinned": link.pinned}


def create_configuration(
    cursor: Cursor,
    command: CreateConfiguration,
    delivery: Delivery = NO_DELIVERY,
    *,
    book: SchemaBook | None = None,
) -> Written:
    """Insert a new configuration into an existing application of the caller's scope: its
    revision 1, attached to its schema, if any, whose rules it satisfies."""
    parameters = {
        "id": command.id,
        "application_id": command.application_id,
        "name": command.name,
        "comments": command.comments,
        "config": Json(command.config),
        **_link_parameters(command.schema_link),
        **author_parameters(delivery),
        **delivery.caller.scope.sql_parameters(),
    }

    def create(checked: str) -> dict | None:
        try:
            cursor.execute(CREATE, {**parameters, "checked": checked})
        except psycopg2.errors.UniqueViolation as error:
            raise configuration_name_taken(command.name) from error
        except psycopg2.errors.DeadlockDetected as error:
            raise crossed() from error
        return cursor.fetchone()

    row = checked_write(cursor, book, command.id, command.config, create)
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
    book: SchemaBook | None = None,
) -> Written:
    """Replace a configuration's name, comments and config (and its schema, when a link is
    sent), if If-Match names its version, its application is in the caller's scope and its
    schemas are satisfied."""
    if command.if_match is not None:
        _check_if_match(cursor, command, delivery)
    parameters = {
        "id": command.id,
        "name": command.name,
        "comments": command.comments,
        "config": Json(command.config),
        "application_id": command.application_id,
        **_link_parameters(command.schema_link),
        **author_parameters(delivery),
        **delivery.caller.scope.sql_parameters(),
    }

    def put(checked: str) -> dict | None:
        try:
            cursor.execute(PUT, {**parameters, "checked": checked})
        except psycopg2.errors.UniqueViolation as error:
            raise configuration_name_taken(command.name) from error
        except psycopg2.errors.DeadlockDetected as error:
            raise crossed() from error
        except psycopg2.errors.ObjectNotInPrerequisiteState as error:
            raise rollout_running(command.id) from error  # configuration_put_checked.sql
        return cursor.fetchone()

    written = checked_write(cursor, book, command.id, command.config, put)
    if written is None:  # no such configuration, or out of scope: the same answer
        raise no_configuration(command.id)
    if written["body"] is None:  # the body named another application: nothing was written
        raise stays_in(written["application_id"])
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
    if row["candidate_revision"] is not None:
        raise rollout_running(command.id, row["candidate_revision"])  # whatever If-Match says
    if command.application_id not in (None, row["application_id"]):
        raise stays_in(row["application_id"])
    current = Representation(command.id, row["body"].encode(), described_by=row["described_by"])
    current.check_if_match(command.if_match)


def rollout_running(configuration_id: str, candidate: int | None = None) -> Conflict:
    """A PUT without Config-Rollout while a candidate runs: say how to end the rollout."""
    named = f" (revision {candidate})" if candidate is not None else ""
    return Conflict(
        f"A rollout of configuration {configuration_id} is running{named}: change it only with "
        "Config-Rollout, sent with the candidate's body: `Config-Rollout: 100` promotes it, "
        "`Config-Rollout: 0` aborts it, another percentage changes its share "
        "(docs/rollouts.md)."
    )


def stays_in(application_id: str) -> InvalidValue:
    return InvalidValue(
        "A configuration cannot move to another application: application_id must be "
        f"{application_id}.",
        loc=("body", "application_id"),
    )


# This process's memory of compiled schemas and of what each configuration's writes must check:
# a schema revision never changes, and PostgreSQL confirms every claim, so apps of one process
# may share it.
SCHEMAS = SchemaBook()
COMMAND_HANDLERS: HandlerTable = {
    CreateConfiguration: partial(create_configuration, book=SCHEMAS),
    UpdateConfiguration: partial(update_configuration, book=SCHEMAS),
}
