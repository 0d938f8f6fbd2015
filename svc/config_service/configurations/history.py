"""Read side of revisions: one revision of a configuration, and its history a page at a time.

One statement each, which also tells an unknown configuration (404) from a revision that
never existed (404) and one that retention removed (410). A revision's bytes are exactly
what GET returned while it was current (migration 0007), so its ETag is the one it had.
"""

import json
from dataclasses import dataclass
from datetime import UTC, datetime

from config_service.bus import HandlerTable
from config_service.configurations.queries import no_configuration
from config_service.configurations.schema_links import described_by_path
from config_service.errors import NotFound, revision_removed
from config_service.keys import key_of
from config_service.messages import NO_DELIVERY, Delivery, Get, Query
from config_service.reads import Read
from config_service.representation import Representation, etag_of, none_match
from config_service.store.database import Cursor

SELECT_REVISION = """
    SELECT configuration.id, revision.body, revision.described_by,
           (SELECT max(revision) FROM configuration_revisions
            WHERE configuration_id = configuration.id) AS latest,
           a.name AS application_name
    FROM configurations configuration
    JOIN applications a ON a.id = configuration.application_id
    LEFT JOIN configuration_revisions revision
           ON revision.configuration_id = configuration.id
          AND revision.revision = %(revision)s
    WHERE configuration.id = %(id)s
"""

# One more than asked for, to know whether another page follows.
SELECT_HISTORY = """
    SELECT configuration.id, page.revision, page.changed_at, page.changed_by, page.request_id,
           page.body, page.described_by,
           rollout.state AS rollout_state, rollout.percent AS rollout_percent,
           rollout.ended_at AS rollout_ended_at, rollout.ended_by AS rollout_ended_by,
           (SELECT count(*) FROM configuration_rollout_rejections rejection
            WHERE rejection.configuration_id = rollout.configuration_id
              AND rejection.revision = rollout.revision) AS rollout_rejections,
           ARRAY(SELECT rejection.client FROM configuration_rollout_rejections rejection
                 WHERE rejection.configuration_id = rollout.configuration_id
                   AND rejection.revision = rollout.revision
                 ORDER BY rejection.rejected_at, rejection.client
                 LIMIT 5) AS rollout_rejected_by
    FROM configurations configuration
    LEFT JOIN LATERAL (
        SELECT revision, changed_at, changed_by, request_id, body, described_by
        FROM configuration_revisions
        WHERE configuration_id = configuration.id
          AND revision < %(before)s
        ORDER BY revision DESC
        LIMIT %(limit)s + 1
    ) page ON true
    LEFT JOIN configuration_rollouts rollout
           ON rollout.configuration_id = configuration.id AND rollout.revision = page.revision
    WHERE configuration.id = %(id)s
    ORDER BY page.revision DESC
"""

# Revision numbers are PostgreSQL integers: beyond this none exists (and the query must not
# be sent a number it cannot compare).
MAX_REVISION = 2**31 - 1


@dataclass(frozen=True, slots=True)
class GetRevision(Get):
    """One revision of a configuration: immutable, so it may be answered from memory."""

    revision: int
    kind = "configuration-revision"

    @property
    def key(self) -> str:
        return key_of(self.kind, f"{self.id}/{self.revision}")


@dataclass(frozen=True, slots=True)
class RevisionPage(Read):
    """A page of the history as a GET answers it (the JSON list, with its ETag), and the
    `before` of the next page while more remain."""

    next_before: int | None = None


@dataclass(frozen=True, slots=True)
class ListRevisions(Query[RevisionPage]):
    id: str
    limit: int
    before: int | None = None


def get_revision(
    cursor: Cursor, query: GetRevision, delivery: Delivery = NO_DELIVERY
) -> Representation:
    """One revision's representation, as GET returned it while it was current."""
    cursor.execute(SELECT_REVISION, {"id": query.id, "revision": min(query.revision, MAX_REVISION)})
    row = cursor.fetchone()
    if row is None:
        raise no_configuration(query.id)
    if row["body"] is not None:
        body = row["body"].encode()
        return Representation(
            query.id,
            body,
            row["application_name"],
            revision=query.revision,
            described_by=row["described_by"],
        )
    if row["latest"] is not None and query.revision <= row["latest"]:
        raise revision_removed(query.id, query.revision)
    raise NotFound(f"Configuration {query.id} has no revision {query.revision}.")


def list_revisions(
    cursor: Cursor, query: ListRevisions, delivery: Delivery = NO_DELIVERY
) -> RevisionPage:
    """A page of the configuration's revisions, newest first, before a revision number."""
    before = MAX_REVISION if query.before is None else min(query.before, MAX_REVISION)
    cursor.execute(SELECT_HISTORY, {"id": query.id, "limit": query.limit, "before": before})
    rows = cursor.fetchall()
    if not rows:
        raise no_configuration(query.id)
    revisions = [row for row in rows if row["revision"] is not None]
    page = revisions[: query.limit]
    body = json.dumps([_entry(row) for row in page], separators=(",", ":")).encode()
    listed = Representation(query.id, body)
    more = len(revisions) > query.limit
    return RevisionPage(
        listed,
        not_modified=not none_match(delivery.conditions.if_none_match, listed.etag),
        next_before=page[-1]["revision"] if more else None,
    )


def _time(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _rollout(row: dict) -> dict | None:
    """A candidate's rollout as the history tells it (docs/rollouts.md); None for others."""
    if row["rollout_state"] is None:
        return None
    return {
        "state": row["rollout_state"],
        "percent": row["rollout_percent"],
        "ended_at": _time(row["rollout_ended_at"]),
        "ended_by": row["rollout_ended_by"],
        "rejections": row["rollout_rejections"],
        # A few of the clients that rejected it, first first (an automatic abort names them).
        "rejected_by": row["rollout_rejected_by"],
    }


def _entry(row: dict) -> dict:
    return {
        "revision": row["revision"],
        "changed_at": _time(row["changed_at"]),
        "changed_by": row["changed_by"],
        "request_id": row["request_id"],
        "etag": etag_of(row["body"].encode(), row["described_by"]),
        # The schema it was made under: an attachment changed alone is a revision of its own.
        "describedby": described_by_path(row["described_by"]),
        # A candidate's: how its rollout runs or ended.
        "rollout": _rollout(row),
    }


QUERY_HANDLERS: HandlerTable = {GetRevision: get_revision, ListRevisions: list_revisions}
