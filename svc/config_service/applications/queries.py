"""Read side of applications: query messages and their handlers, one SQL statement each.

PostgreSQL renders the JSON (`row_to_json`), so the bytes it returns are the response body.
"""

from dataclasses import dataclass

from config_service import keys
from config_service.access.scope import SCOPE_CONDITION
from config_service.bus import HandlerTable
from config_service.errors import NotFound, missing
from config_service.messages import NO_DELIVERY, Delivery, Get, Query
from config_service.representation import Representation
from config_service.store.database import Cursor

# The columns of an application's representation; `a` is the applications row. The ids come
# from the index on configurations (application_id, id). A constant fragment, never values.
APPLICATION_COLUMNS = """
    a.id,
    a.name,
    a.comments,
    COALESCE(
        (SELECT array_agg(c.id ORDER BY c.id) FROM configurations c WHERE c.application_id = a.id),
        '{}'
    ) AS configuration_ids
"""

SELECT_APPLICATION = f"""
    SELECT application.id, row_to_json(application)::text AS body,
           application.name AS application_name
    FROM (
        SELECT {APPLICATION_COLUMNS}
        FROM applications a
        WHERE a.id = %(id)s
    ) application
"""

# An application with its configurations (`?include=configurations`): the application's
# columns as above, then `configurations`, each one's representation exactly as its own GET
# renders it (configuration_representation, migration 0007), in id order like
# configuration_ids. One statement, so one snapshot: a transaction that changed two
# configurations is seen whole or not at all. The items are JSON text joined as they are, and
# row_to_json writes a `json` column verbatim, so each is byte for byte its GET's body. While
# rollouts run, ITEM_ROLLOUTS says which items a cohort sees as their candidates.
EMBEDDED_CONFIGURATIONS = """
    SELECT ('[' || string_agg(configuration_representation(c), ',' ORDER BY c.id) || ']')::json
    FROM configurations c
    WHERE c.application_id = a.id
"""

# The running rollouts of its configurations, beside it: the read model serves each client
# the view with its cohorts' candidates (representation.py, Representation.for_client).
ITEM_ROLLOUTS = """
    SELECT json_agg(json_build_object(
               'id', c.id, 'percent', rollout.percent,
               'current', configuration_representation(c), 'candidate', kept.body))::text
    FROM configurations c
    JOIN configuration_rollouts rollout
      ON rollout.configuration_id = c.id AND rollout.state = 'running'
    JOIN configuration_revisions kept
      ON kept.configuration_id = rollout.configuration_id AND kept.revision = rollout.revision
    WHERE c.application_id = application.id
"""

SELECT_APPLICATION_CONFIGURATIONS = f"""
    SELECT application.id, row_to_json(application)::text AS body,
           application.name AS application_name,
           ({ITEM_ROLLOUTS}) AS item_rollouts
    FROM (
        SELECT {APPLICATION_COLUMNS},
               COALESCE(({EMBEDDED_CONFIGURATIONS}), '[]') AS configurations
        FROM applications a
        WHERE a.id = %(id)s
    ) application
"""

# One page in id order, plus whether anything follows its last id.
SELECT_APPLICATION_PAGE = f"""
    WITH page AS (
        SELECT {APPLICATION_COLUMNS}
        FROM applications a
        WHERE a.id > %(after)s AND {SCOPE_CONDITION}
        ORDER BY a.id
        LIMIT %(limit)s
    )
    SELECT COALESCE(json_agg(page ORDER BY page.id), '[]')::text AS body,
           max(page.id) AS last_id,
           EXISTS (
               SELECT FROM applications a WHERE a.id > max(page.id) AND {SCOPE_CONDITION}
           ) AS more
    FROM page
"""

# The page holding the application of that name, if any: served by the unique index on name.
SELECT_APPLICATION_NAMED = f"""
    SELECT COALESCE(json_agg(application), '[]')::text AS body, NULL AS last_id, false AS more
    FROM (
        SELECT {APPLICATION_COLUMNS}
        FROM applications a
        WHERE a.name = %(name)s AND a.id > %(after)s AND {SCOPE_CONDITION}
    ) application
"""


@dataclass(frozen=True, slots=True)
class ApplicationPage:
    body: bytes
    next_after: str | None


@dataclass(frozen=True, slots=True)
class GetApplication(Get):
    kind = keys.APPLICATION


@dataclass(frozen=True, slots=True)
class GetApplicationConfigurations(Get):
    """An application with its configurations embedded: a view of it (keys.py), kept and
    watched like any representation. Kept once with its configurations' running rollouts;
    each client's view (Config-Client) is made from it (representation.py)."""

    kind = keys.APPLICATION_CONFIGURATIONS


@dataclass(frozen=True, slots=True)
class ListApplications(Query[ApplicationPage]):
    limit: int
    after: str | None = None
    name: str | None = None  # exact, case-sensitive: a page of 0 or 1


def no_application(application_id: str) -> NotFound:
    return missing(keys.APPLICATION, application_id)  # out of scope answers the same


def find_application(cursor: Cursor, application_id: str) -> Representation | None:
    """The application's representation, or None; also used by commands to answer."""
    cursor.execute(SELECT_APPLICATION, {"id": application_id})
    row = cursor.fetchone()
    return Representation.from_row(row) if row else None


def get_application(
    cursor: Cursor, query: GetApplication, delivery: Delivery = NO_DELIVERY
) -> Representation:
    """One application with its configuration ids (the read model checks its scope)."""
    representation = find_application(cursor, query.id)
    if representation is None:
        raise no_application(query.id)
    return representation


def get_application_configurations(
    cursor: Cursor, query: GetApplicationConfigurations, delivery: Delivery = NO_DELIVERY
) -> Representation:
    """One application with every configuration's representation (the read model checks its
    scope: the application's name decides it for all of them)."""
    cursor.execute(SELECT_APPLICATION_CONFIGURATIONS, {"id": query.id})
    row = cursor.fetchone()
    if row is None:
        raise no_application(query.id)
    return Representation.from_row(row)


def list_applications(
    cursor: Cursor, query: ListApplications, delivery: Delivery = NO_DELIVERY
) -> ApplicationPage:
    """A page of the caller's applications in id order, after the given id; or the one with
    that name. Filtered in SQL, so a page is full and `more` counts only what is in scope."""
    parameters = {
        "after": query.after or "",
        "limit": query.limit,
        "name": query.name,
        **delivery.caller.scope.sql_parameters(),
    }
    cursor.execute(
        SELECT_APPLICATION_PAGE if query.name is None else SELECT_APPLICATION_NAMED, parameters
    )
    row = cursor.fetchone()
    return ApplicationPage(row["body"].encode(), row["last_id"] if row["more"] else None)


QUERY_HANDLERS: HandlerTable = {
    GetApplication: get_application,
    GetApplicationConfigurations: get_application_configurations,
    ListApplications: list_applications,
}
