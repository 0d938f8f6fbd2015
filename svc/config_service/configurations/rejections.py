"""`Config-Rejected`: a runtime says it could not apply a candidate, on its next GET or HEAD
of the configuration; enough distinct clients abort the rollout (docs/rollouts.md).

The report rides on a read, and needs what the read needs: the caller's scope (PostgreSQL
checks it again, configuration_rollout_reject.sql). It counts only for the running
candidate, from a client of its cohort (checked here, with the hash the read model serves
by), once per client.
"""

import re
from dataclasses import dataclass, replace

from config_service import keys
from config_service.bus import HandlerTable
from config_service.errors import InvalidValue
from config_service.messages import NO_DELIVERY, Command, Delivery
from config_service.representation import Representation, in_cohort
from config_service.store.database import Cursor

HEADER_LOC = ("header", "config-rejected")
REVISION = re.compile(r"[1-9][0-9]{0,9}")
MAX_REVISION = 2**31 - 1


def parse_rejected(value: str, client: str | None) -> int:
    """The revision a `Config-Rejected` header names; 422 when malformed or anonymous."""
    value = value.strip(" \t")
    if not REVISION.fullmatch(value) or int(value) > MAX_REVISION:
        raise InvalidValue(
            "Config-Rejected names the revision the client could not apply: a positive "
            "integer, e.g. Config-Rejected: 13.",
            loc=HEADER_LOC,
        )
    if client is None:
        raise InvalidValue(
            "Config-Rejected needs Config-Client: reports are counted per client.",
            loc=HEADER_LOC,
        )
    return int(value)


@dataclass(frozen=True, slots=True)
class Rejection:
    """What a report did: whether it counted, whether it aborted the rollout."""

    counted: bool
    aborted: bool
    rejections: int
    application_id: str = ""  # when it aborted: whose view of its configurations changed


@dataclass(frozen=True, slots=True)
class RejectCandidate(Command[Rejection]):
    id: str
    revision: int
    client: str

    def touched(self, result: Rejection) -> tuple[str, ...]:
        """An abort changes what its URL and its application's view serve; a report alone,
        nothing anyone reads."""
        if not result.aborted:
            return ()
        return keys.configuration_updated(self.id, result.application_id)

    def idempotent(self) -> bool:
        return True  # one statement; a client counts once


REJECT = """
    SELECT counted, aborted, rejections
    FROM configuration_rollout_reject(
        %(id)s, %(revision)s, %(client)s, %(everything)s, %(exact)s::text[], %(prefixes)s::text[])
"""


def reject_candidate(
    cursor: Cursor, command: RejectCandidate, delivery: Delivery = NO_DELIVERY
) -> Rejection:
    """Count the client's report against the running candidate; abort at max-failures."""
    parameters = {
        "id": command.id,
        "revision": command.revision,
        "client": command.client,
        **delivery.caller.scope.sql_parameters(),
    }
    cursor.execute(REJECT, parameters)
    row = cursor.fetchone()
    rejection = Rejection(row["counted"], row["aborted"], row["rejections"])
    if not rejection.aborted:
        return rejection
    cursor.execute(APPLICATION_OF, {"id": command.id})
    return replace(rejection, application_id=cursor.fetchone()["application_id"])


APPLICATION_OF = "SELECT application_id FROM configurations WHERE id = %(id)s"


def counts(current: Representation, revision: int, client: str) -> bool:
    """Whether a report may count: `revision` is the running candidate, and `client` is in
    its cohort (anything else is ignored, without a write)."""
    rollout = current.rollout
    return (
        rollout is not None
        and rollout.revision == revision
        and in_cohort(current.id, client, rollout.percent)
    )


COMMAND_HANDLERS: HandlerTable = {RejectCandidate: reject_candidate}
