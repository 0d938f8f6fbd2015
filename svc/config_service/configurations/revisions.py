"""Recording revisions: who writes a configuration, and what a write did to its revisions.

PostgreSQL records each revision itself, in the writing transaction, whoever writes, and
deletes those past REVISIONS_KEEP, which the database holds (the trigger function's one file:
store/migrations/functions/record_configuration_revision.sql; the number: store/retention.py).
The service tells it who writes, through two transaction-local settings that the write
functions set (set_configuration_author.sql).
"""

from dataclasses import dataclass

from config_service.messages import Delivery
from config_service.representation import Representation


@dataclass(frozen=True, slots=True)
class Written:
    """A configuration command's result: the representation, and what became of revisions."""

    representation: Representation
    recorded: bool  # False for a PUT that changed nothing
    removed: int = 0  # revisions the trigger deleted by retention
    application_id: str = ""  # of the configuration: what a PUT touched besides it (keys.py)
    # What a PUT with Config-Rollout did: started, changed, replaced, promoted or aborted.
    rollout: str | None = None


def author_parameters(delivery: Delivery) -> dict[str, str | None]:
    """Who sends the command, as the write functions take it (None sets '', read as unset)."""
    return {"changed_by": delivery.caller.name, "request_id": delivery.request_id}
