from dataclasses import replace

import pytest

from config_service.configurations.history import GetRevision, ListRevisions, RevisionPage
from config_service.configurations.versions import (
    IMMUTABLE,
    AskedHistory,
    AskedRevision,
    asked_version,
    current_headers,
    history_link,
    old_revision_headers,
    version_read,
)
from config_service.errors import InvalidValue
from config_service.reads import Read, ReadConditions
from config_service.representation import Representation, Rollout

PATH = "/api/v1/configurations/ID"


@pytest.mark.parametrize(
    ("query", "asked"),
    [
        (b"", None),
        (b"revision=3", AskedRevision(3)),
        (b"revision=9999999999", AskedRevision(9999999999)),
        (b"history", AskedHistory()),
        (b"history=", AskedHistory()),
        (b"history&limit=1000&before=7", AskedHistory(1000, 7)),
        (b"limit=5&history", AskedHistory(5)),
    ],
)
def test_what_the_query_asks_for(query, asked):
    assert asked_version(query) == asked


@pytest.mark.parametrize(
    ("query", "loc"),
    [
        (b"revision=0", "revision"),
        (b"revision=-1", "revision"),
        (b"revision=abc", "revision"),
        (b"revision=", "revision"),
        (b"revision=%C2%B2", "revision"),  # "²", a digit to str.isdigit()
        (b"revision=12345678901", "revision"),
        (b"revision=1&history", "history"),
        (b"limit=5", "limit"),
        (b"history=yes", "history"),
        (b"history&limit=0", "limit"),
        (b"history&limit=1001", "limit"),
        (b"history&before=x", "before"),
    ],
)
def test_a_bad_version_query_is_invalid_on_its_parameter(query, loc):
    with pytest.raises(InvalidValue) as caught:
        asked_version(query)
    assert caught.value.loc == ("query", loc)


def test_a_current_configuration_links_its_history_and_predecessor():
    first = Representation("ID", b"{}", revision=1)
    assert current_headers(first, PATH) == {
        "Revision": "1",
        "Link": f'<{PATH}?history>; rel="version-history"',
    }
    fifth = Representation("ID", b"{}", revision=5)
    assert current_headers(fifth, PATH)["Link"] == (
        f'<{PATH}?history>; rel="version-history", <{PATH}?revision=4>; rel="predecessor-version"'
    )
    assert current_headers(Representation("ID", b"{}"), PATH) == {}


def test_an_old_revision_is_immutable_and_named():
    headers = old_revision_headers(Representation("ID", b"{}", revision=2), PATH)
    assert (headers["Revision"], headers["Cache-Control"]) == ("2", IMMUTABLE)
    assert f'<{PATH}?revision=1>; rel="predecessor-version"' in headers["Link"]


def test_the_next_page_of_history():
    assert history_link(PATH, 10, 4) == f'<{PATH}?history&limit=10&before=4>; rel="next"'


@pytest.mark.parametrize(
    ("revision", "keep", "from_memory"),
    [(10, 5, True), (6, 5, True), (5, 5, False), (1, 0, True), (11, 5, False)],
)
def test_a_revision_is_read_from_memory_only_while_retention_certainly_keeps_it(
    revision, keep, from_memory
):
    current = Representation("ID", b"{}", revision=10)
    asked = ReadConditions(if_none_match='"x"', wait=30)
    version = version_read(AskedRevision(revision), current, asked, PATH, keep)
    assert version.query == GetRevision("ID", revision)
    # Never held (a revision never changes); If-None-Match still answers 304.
    assert version.conditions == replace(asked, wait=0, no_cache=not from_memory)
    old = Read(Representation("ID", b"{}", revision=revision), not_modified=False)
    assert version.headers_of(old)["Cache-Control"] == IMMUTABLE


def test_a_running_candidate_counts_as_the_newest_revision():
    candidate = Representation("ID", b"{}", revision=11)
    current = Representation("ID", b"{}", revision=10, rollout=Rollout(10, 11, candidate))
    version = version_read(AskedRevision(11), current, ReadConditions(), PATH, 5)
    assert not version.conditions.no_cache


def test_a_history_page_links_the_next_one_while_more_remain():
    current = Representation("ID", b"{}", revision=9)
    version = version_read(AskedHistory(2, 8), current, ReadConditions(wait=5), PATH, 0)
    assert (version.query, version.conditions.wait) == (ListRevisions("ID", 2, 8), 0)
    listed = Representation("ID", b"[]")
    more = RevisionPage(listed, not_modified=False, next_before=6)
    assert version.headers_of(more) == {"Link": history_link(PATH, 2, 6)}
    assert version.headers_of(RevisionPage(listed, not_modified=False)) == {}
