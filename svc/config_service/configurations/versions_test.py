import pytest

from config_service.configurations.versions import (
    IMMUTABLE,
    AskedHistory,
    AskedRevision,
    asked_version,
    current_headers,
    history_link,
    old_revision_headers,
)
from config_service.errors import InvalidValue
from config_service.representation import Representation

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
