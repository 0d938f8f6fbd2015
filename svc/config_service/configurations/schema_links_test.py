import pytest

from config_service.configurations.schema_links import (
    DETACH,
    SchemaLink,
    described_by_link,
    described_by_path,
    link_values,
    requested_link,
)
from config_service.errors import InvalidValue
from config_service.fields import CONFIGURATION_ID_EXAMPLE

ID = CONFIGURATION_ID_EXAMPLE


@pytest.mark.parametrize(
    "header, expected",
    [
        (None, None),
        (f'<https://x/api/v1/configurations/{ID}>; rel="next"', None),  # another relation
        (f'</api/v1/configurations/{ID}>; rel="describedby"', SchemaLink(ID)),
        (f"</api/v1/configurations/{ID.lower()}>; rel=describedby", SchemaLink(ID)),
        (
            f'<http://h:1/api/v1/configurations/{ID}?revision=3>; rel="describedby"',
            SchemaLink(ID, 3),
        ),
        (
            f'</a>; rel="next", </api/v1/configurations/{ID}>; REL="alternate DescribedBy"',
            SchemaLink(ID),
        ),
        ('<>; rel="describedby"', DETACH),
    ],
)
def test_the_describedby_link_of_a_request(header, expected):
    assert requested_link(header) == expected


@pytest.mark.parametrize(
    "header",
    [
        "/api/v1/configurations/x",  # no <>
        f'</api/v1/applications/{ID}>; rel="describedby"',
        f'</api/v1/configurations/{ID}#frag>; rel="describedby"',
        f'</api/v1/configurations/{ID}?revision=0>; rel="describedby"',
        f'</api/v1/configurations/{ID}?history>; rel="describedby"',
        '</api/v1/configurations/not-a-ulid>; rel="describedby"',
        f'</api/v1/configurations/{ID}>; rel="describedby", <>; rel="describedby"',
    ],
)
def test_a_malformed_or_foreign_link_is_422_on_the_header(header):
    with pytest.raises(InvalidValue) as refused:
        requested_link(header)
    assert refused.value.loc == ("header", "link")


def test_link_values_split_targets_and_relations():
    assert link_values('<a>; rel="x y"; title="t", <b>;rel=z') == [("a", {"x", "y"}), ("b", {"z"})]


def test_a_stored_attachment_is_written_back_as_a_link_and_a_path():
    assert described_by_link(f"{ID}?revision=2") == (
        f'</api/v1/configurations/{ID}?revision=2>; rel="describedby"'
    )
    assert described_by_path(ID) == f"/api/v1/configurations/{ID}"
    assert described_by_path(None) is None
