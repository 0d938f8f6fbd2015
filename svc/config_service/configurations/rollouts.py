"""Staged rollouts on the write side: the `Config-Rollout` header of a PUT, and the command
that starts, changes, replaces, promotes or aborts a candidate (docs/rollouts.md).

PostgreSQL decides what a rollout PUT does, in one function under the configuration's lock
(store/migrations/functions/configuration_rollout_put.sql); the service checks If-Match first
(against the candidate's ETag while one runs) and the body against its schema, as for any
write (commands.checked_write).
"""

import re
from dataclasses import dataclass
from functools import partial
from typing import Any

import psycopg2.errors
from psycopg2.extras import Json

from config_service import keys
from config_service.bus import HandlerTable
from config_service.configurations.commands import (
    LOCK,
    SCHEMAS,
    checked_write,
    crossed,
    stays_in,
)
from config_service.configurations.queries import no_configuration
from config_service.configurations.revisions import Written, author_parameters
from config_service.configurations.schemas import SchemaBook
from config_service.errors import Conflict, InvalidValue, configuration_name_taken
from config_service.messages import NO_DELIVERY, Command, Delivery
from config_service.representation import Representation
from config_service.store.database import Cursor

HEADER_LOC = ("header", "config-rollout")
# RFC 9651 sf-integer: at most 15 digits.
INTEGER = re.compile(r"-?[0-9]{1,15}")
# RFC 9651 key: lower-case letters, digits, `_-.*`, starting with a letter or `*`.
KEY = re.compile(r"[a-z*][a-z0-9_.*-]*")
# Each parameter's range; step and every come together.
RANGES = {"step": (1, 100), "every": (1, 86_400), "max-failures": (1, 2**31 - 1)}


@dataclass(frozen=True, slots=True)
class RolloutSpec:
    """A `Config-Rollout` header: the percentage and, maybe, schedule and failure limit."""

    percent: int
    step: int | None = None
    every: int | None = None
    max_failures: int | None = None

    def header(self) -> str:
        parts = [str(self.percent)]
        if self.step is not None:
            parts.append(f"step={self.step};every={self.every}")
        if self.max_failures is not None:
            parts.append(f"max-failures={self.max_failures}")
        return ";".join(parts)


def _refuse(message: str) -> InvalidValue:
    return InvalidValue(f"Config-Rollout: {message} (docs/rollouts.md).", loc=HEADER_LOC)


def parse_rollout(value: str) -> RolloutSpec:
    """An RFC 9651 Item: an integer 0-100 with optional `step`, `every`, `max-failures`
    integer parameters (the last of a repeated one counts, as RFC 9651 says); else 422."""
    item, *members = value.strip(" ").split(";")
    if not INTEGER.fullmatch(item):
        raise _refuse(f"a percentage, an integer 0 to 100, comes first; got {value[:80]!r}")
    percent = int(item)
    if not 0 <= percent <= 100:
        raise _refuse(f"the percentage must be 0 to 100, not {percent}")
    found: dict[str, int] = {}
    for member in members:
        name, equals, number = member.lstrip(" ").partition("=")
        if not KEY.fullmatch(name) or name not in RANGES:
            raise _refuse(f"unknown parameter {name[:40]!r}: step, every and max-failures only")
        if not equals or not INTEGER.fullmatch(number):
            raise _refuse(f"{name} takes an integer: {name}=N")
        low, high = RANGES[name]
        if not low <= int(number) <= high:
            raise _refuse(f"{name} must be {low} to {high}, not {number}")
        found[name] = int(number)
    if ("step" in found) != ("every" in found):
        raise _refuse("step and every come together: step=S;every=SECONDS")
    if found and percent in (0, 100):
        raise _refuse("0 (abort) and 100 (promote) take no parameters")
    return RolloutSpec(percent, found.get("step"), found.get("every"), found.get("max-failures"))


@dataclass(frozen=True, slots=True)
class RollOutConfiguration(Command[Written]):
    """A PUT with Config-Rollout: the body becomes, stays or ends as a candidate."""

    id: str
    name: str
    comments: str
    config: dict[str, Any]
    rollout: RolloutSpec
    if_match: str | None = None
    application_id: str | None = None

    def touched(self, result: Written) -> tuple[str, ...]:
        """Who is served what changes on its URL and in its application's view (its rollout's
        trigger names both, as a promotion's row change does)."""
        return keys.configuration_updated(self.id, result.application_id)


ROLLOUT_PUT = """
    SELECT id, body, revision, application_name, described_by, application_id,
           candidate_revision, candidate_percent, candidate_body, candidate_described_by,
           outcome, required, NULL AS refused, recorded, removed
    FROM configuration_rollout_put(
        %(checked)s, %(id)s, %(name)s, %(comments)s, %(config)s, %(application_id)s,
        %(percent)s, %(step)s, %(every)s, %(max_failures)s, %(changed_by)s, %(request_id)s,
        %(everything)s, %(exact)s::text[], %(prefixes)s::text[])
"""
# What keeps a rollout PUT from doing anything (configuration_rollout_put.sql's `outcome`).
REFUSALS = {
    "no-rollout": "No rollout of this configuration is running: Config-Rollout 0 (abort) and "
    "100 (promote) end one; start one with a percentage from 1 to 99.",
    "not-the-candidate": "Config-Rollout 0 (abort) and 100 (promote) are sent with the "
    "candidate's body, as a GET of ?revision={candidate} answers it.",
    "same-as-current": "This body is the current version: a candidate must differ from it.",
}


def roll_out_configuration(
    cursor: Cursor,
    command: RollOutConfiguration,
    delivery: Delivery = NO_DELIVERY,
    *,
    book: SchemaBook | None = None,
) -> Written:
    """Start, change, replace, promote or abort the configuration's rollout."""
    cursor.execute(LOCK, {"id": command.id, **author_parameters(delivery)})
    locked = cursor.fetchone()
    if locked is None or not delivery.caller.scope.allows(locked["application_name"]):
        raise no_configuration(command.id)  # out of scope: as missing, before If-Match too
    if command.application_id not in (None, locked["application_id"]):
        raise stays_in(locked["application_id"])
    if command.if_match is not None:
        _check_if_match(cursor, command, locked)
    spec = command.rollout
    parameters = {
        "id": command.id,
        "name": command.name,
        "comments": command.comments,
        "config": Json(command.config),
        "application_id": command.application_id,
        "percent": spec.percent,
        "step": spec.step,
        "every": spec.every,
        "max_failures": spec.max_failures,
        **author_parameters(delivery),
        **delivery.caller.scope.sql_parameters(),
    }

    def put(checked: str) -> dict | None:
        try:
            cursor.execute(ROLLOUT_PUT, {**parameters, "checked": checked})
        except psycopg2.errors.UniqueViolation as error:  # a name taken, when promoted
            raise configuration_name_taken(command.name) from error
        except psycopg2.errors.DeadlockDetected as error:  # schemas' turns (commands.crossed)
            raise crossed() from error
        row = cursor.fetchone()
        if row is not None and row["outcome"] != "required":
            return {**row, "required": None}
        return row

    row = checked_write(cursor, book, command.id, command.config, put)
    if row is None:
        raise no_configuration(command.id)
    outcome = row["outcome"]
    if outcome == "other-application":
        raise stays_in(row["application_id"])
    if outcome in REFUSALS:
        raise Conflict(REFUSALS[outcome].format(candidate=locked["candidate_revision"]))
    current = Representation.from_row(row)
    answered = current if current.rollout is None else current.rollout.candidate
    return Written(
        answered,
        recorded=row["recorded"],
        removed=row["removed"],
        application_id=row["application_id"],
        rollout=outcome,
    )


def _check_if_match(cursor: Cursor, command: RollOutConfiguration, locked: dict) -> None:
    """If-Match names the candidate's ETag while one runs, else the current one."""
    cursor.execute(CANDIDATE, {"id": command.id})
    candidate = cursor.fetchone()
    if candidate is not None:
        named = Representation(
            command.id, candidate["body"].encode(), described_by=candidate["described_by"]
        )
    else:
        named = Representation(
            command.id, locked["body"].encode(), described_by=locked["described_by"]
        )
    named.check_if_match(command.if_match)


CANDIDATE = """
    SELECT candidate_body AS body, candidate_described_by AS described_by
    FROM configuration_candidate(%(id)s)
"""

COMMAND_HANDLERS: HandlerTable = {
    RollOutConfiguration: partial(roll_out_configuration, book=SCHEMAS),
}
