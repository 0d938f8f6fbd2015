"""Read side of configurations: query messages and their handlers, one SQL statement each.

PostgreSQL renders the JSON (`row_to_json`): the stored jsonb goes out as text, never parsed.
"""

from dataclasses import dataclass

from config_service import keys
from config_service.bus import HandlerTable
from config_service.database import Cursor
from config_service.errors import NotFound
from config_service.messages import Get
from config_service.representation import Representation

SELECT_CONFIGURATION = """
    SELECT configuration.id, row_to_json(configuration)::text AS body
    FROM (
        SELECT id, application_id, name, comments, config
        FROM configurations
        WHERE id = %(id)s
    ) configuration
"""


@dataclass(frozen=True, slots=True)
class GetConfiguration(Get):
    kind = keys.CONFIGURATION


def no_configuration(configuration_id: str) -> NotFound:
    return NotFound(f"No configuration has id {configuration_id}.")


def find_configuration(cursor: Cursor, configuration_id: str) -> Representation | None:
    """The configuration's representation, or None; also used by commands to answer."""
    cursor.execute(SELECT_CONFIGURATION, {"id": configuration_id})
    row = cursor.fetchone()
    return Representation.from_row(row) if row else None


def get_configuration(cursor: Cursor, query: GetConfiguration) -> Representation:
    """One configuration."""
    representation = find_configuration(cursor, query.id)
    if representation is None:
        raise no_configuration(query.id)
    return representation


QUERY_HANDLERS: HandlerTable = {GetConfiguration: get_configuration}
