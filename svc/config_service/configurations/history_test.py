import json
from datetime import datetime

import pytest

from config_service.configurations.history import (
    GetRevision,
    ListRevisions,
    get_revision,
    list_revisions,
)
from config_service.errors import Gone, NotFound
from config_service.representation import etag_of
from test.random_refs import MISSING_ID
from test.resources import insert_application
from test.revisions import by, committed, create, keeping, put, revisions


@pytest.fixture
def configuration_id(database_url) -> str:
    """A configuration with revisions 1 (by "ci") to 5, all kept."""
    created = create(database_url, insert_application(database_url), author=by("r1", "ci"))
    for n in range(2, 6):
        put(database_url, created.representation.id, {"v": n}, by(f"r{n}"))
    return created.representation.id


def read(database_url, handler, query):
    return committed(database_url, lambda cursor: handler(cursor, query))


def test_a_revision_is_its_stored_bytes_with_their_etag(database_url, configuration_id):
    stored = revisions(database_url, configuration_id)
    third = read(database_url, get_revision, GetRevision(configuration_id, revision=3))
    assert (third.body, third.revision) == (stored[2]["body"].encode(), 3)
    assert third.etag == etag_of(stored[2]["body"].encode())
    assert json.loads(third.body)["config"] == {"v": 3}


@pytest.mark.parametrize("revision", [6, 2**31, 10**30])
def test_a_revision_that_never_existed_is_not_found(database_url, configuration_id, revision):
    with pytest.raises(NotFound, match="no revision"):
        read(database_url, get_revision, GetRevision(configuration_id, revision=revision))


def test_a_revision_removed_by_retention_is_gone(database_url, configuration_id):
    with keeping(database_url, 2):
        put(database_url, configuration_id, {"v": "six"})
    with pytest.raises(Gone):
        read(database_url, get_revision, GetRevision(configuration_id, revision=4))
    assert read(database_url, get_revision, GetRevision(configuration_id, revision=5)).revision == 5


def test_revisions_and_history_of_an_unknown_configuration_are_not_found(database_url):
    with pytest.raises(NotFound, match="No configuration"):
        read(database_url, get_revision, GetRevision(MISSING_ID, revision=1))
    with pytest.raises(NotFound, match="No configuration"):
        read(database_url, list_revisions, ListRevisions(MISSING_ID, limit=10))


def test_history_is_newest_first_and_paged_by_before(database_url, configuration_id):
    first = read(database_url, list_revisions, ListRevisions(configuration_id, limit=2))
    entries = json.loads(first.representation.body)
    assert [e["revision"] for e in entries] == [5, 4] and first.next_before == 4
    assert set(entries[0]) == {
        "revision",
        "changed_at",
        "changed_by",
        "request_id",
        "etag",
        "describedby",
        "rollout",
    }
    assert entries[0]["request_id"] == "r5" and entries[0]["changed_by"] is None
    assert entries[0]["changed_at"].endswith("Z")
    assert datetime.fromisoformat(entries[0]["changed_at"]).utcoffset().total_seconds() == 0

    second = read(database_url, list_revisions, ListRevisions(configuration_id, 2, before=4))
    assert [e["revision"] for e in json.loads(second.representation.body)] == [3, 2]
    last = read(database_url, list_revisions, ListRevisions(configuration_id, 2, before=2))
    [oldest] = json.loads(last.representation.body)
    assert (oldest["revision"], oldest["changed_by"], last.next_before) == (1, "ci", None)
    stored = revisions(database_url, configuration_id)
    assert oldest["etag"] == etag_of(stored[0]["body"].encode())


def test_history_before_the_first_revision_or_far_beyond_the_last(database_url, configuration_id):
    empty = read(database_url, list_revisions, ListRevisions(configuration_id, 10, before=1))
    assert (empty.representation.body, empty.next_before) == (b"[]", None)
    everything = read(database_url, list_revisions, ListRevisions(configuration_id, 5, 10**30))
    assert len(json.loads(everything.representation.body)) == 5 and everything.next_before is None
