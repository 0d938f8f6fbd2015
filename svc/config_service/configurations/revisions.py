"""Recording revisions: who writes a configuration, and how many revisions it keeps.

PostgreSQL records each revision itself (the trigger of migration 0007), in the writing
transaction, whoever writes. The service tells it who writes, through two transaction-local
settings, and trims a configuration's revisions to REVISIONS_KEEP in the same transaction.
"""

from dataclasses import dataclass

from config_service.messages import Delivery
from config_service.representation import Representation


@dataclass(frozen=True, slots=True)
class Written:
    """A configuration command's result: the representation, and what became of revisions."""

    representation: Representation
    recorded: bool  # False for a PUT that changed nothing
    removed: int = 0  # revisions deleted by retention


# Prefixed to a command's first statement (one round trip). Transaction-local (set_config's
# `true`): gone at COMMIT, so no later transaction on the connection, behind PgBouncer a
# stranger's, inherits them. Without an author both are '' and the trigger records the
# database role, as for a change made in psql.
SET_AUTHOR = """
    SELECT set_config('config_service.changed_by', %(changed_by)s, true),
           set_config('config_service.request_id', %(request_id)s, true);
"""

# The written configuration's representation and revision, once the revisions beyond the
# newest %(keep)s are deleted (none when it is 0). The current revision, the newest, is never
# among them. (The SELECT sees the revisions as before the DELETE: its max is not deleted.)
TRIM_AND_SELECT = """
    WITH removed AS (
        DELETE FROM configuration_revisions
        WHERE configuration_id = %(id)s
          AND %(keep)s > 0
          AND revision <= (SELECT max(revision) FROM configuration_revisions
                           WHERE configuration_id = %(id)s) - %(keep)s
        RETURNING 1
    )
    SELECT configuration.id,
           configuration_representation(configuration) AS body,
           (SELECT max(revision) FROM configuration_revisions
            WHERE configuration_id = configuration.id) AS revision,
           (SELECT count(*) FROM removed) AS removed,
           a.name AS application_name
    FROM configurations configuration
    JOIN applications a ON a.id = configuration.application_id
    WHERE configuration.id = %(id)s
"""


def author_parameters(delivery: Delivery) -> dict[str, str | None]:
    """SET_AUTHOR's parameters, from who sent the command (None sets '', read as unset)."""
    return {"changed_by": delivery.caller.name, "request_id": delivery.request_id}
