"""Recording revisions: who writes a configuration, and how many revisions it keeps.

PostgreSQL records each revision itself (the trigger of migration 0007), in the writing
transaction, whoever writes. The service tells it who writes, through two transaction-local
settings, and how many revisions a configuration keeps (REVISIONS_KEEP): the write functions
of migrations 0009 and 0010 set the one and trim to the other, in the same transaction.
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
    application_id: str = ""  # of the configuration: what a PUT touched besides it (keys.py)


def author_parameters(delivery: Delivery) -> dict[str, str | None]:
    """Who sends the command, as the write functions take it (None sets '', read as unset)."""
    return {"changed_by": delivery.caller.name, "request_id": delivery.request_id}
