"""Read side of configurations: query messages and their handlers, one SQL statement each.

PostgreSQL renders the JSON (configuration_representation(), migration 0007, which records
revisions with the same function): the stored jsonb goes out as text, never parsed.
"""

from dataclasses import dataclass

from config_service import keys
from config_service.bus import HandlerTable
from config_service.errors import NotFound, missing
from config_service.messages import NO_DELIVERY, Delivery, Get
from config_service.representation import Representation
from config_service.store.database import Cursor

# The representation, its revision number, its application's name (which decides scope) and
# its schema link in one statement, so they always agree; a function, so that its plan is kept
# (0008, 0011).
# While a rollout runs, its candidate comes with it (configuration_candidate.sql): the read
# model serves it to the candidate's cohort (representation.py, Representation.for_client).
SELECT_CONFIGURATION = """
    SELECT id, body, revision, application_name, described_by,
           candidate_revision, candidate_percent, candidate_body, candidate_described_by
    FROM configuration_read_described(%(id)s)
    LEFT JOIN configuration_candidate(%(id)s) ON true
"""


@dataclass(frozen=True, slots=True)
class GetConfiguration(Get):
    kind = keys.CONFIGURATION


def no_configuration(configuration_id: str) -> NotFound:
    return missing(keys.CONFIGURATION, configuration_id)  # out of scope answers the same


def find_configuration(cursor: Cursor, configuration_id: str) -> Representation | None:
    """The configuration's representation, or None; also used by commands to answer."""
    cursor.execute(SELECT_CONFIGURATION, {"id": configuration_id})
    row = cursor.fetchone()
    return Representation.from_row(row) if row else None


def get_configuration(
    cursor: Cursor, query: GetConfiguration, delivery: Delivery = NO_DELIVERY
) -> Representation:
    """One configuration (the read model checks its scope)."""
    representation = find_configuration(cursor, query.id)
    if representation is None:
        raise no_configuration(query.id)
    return representation


QUERY_HANDLERS: HandlerTable = {GetConfiguration: get_configuration}
