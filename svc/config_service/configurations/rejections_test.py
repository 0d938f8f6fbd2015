import pytest

from config_service.configurations.rejections import HEADER_LOC, parse_rejected
from config_service.errors import InvalidValue


def test_a_report_names_a_positive_revision_and_needs_a_client():
    assert parse_rejected(" 13 ", "runtime-1") == 13


@pytest.mark.parametrize(
    "value, client", [("0", "c"), ("-1", "c"), ("13a", "c"), ("99999999999", "c"), ("13", None)]
)
def test_a_malformed_or_anonymous_report_is_422_on_its_header(value, client):
    with pytest.raises(InvalidValue) as refused:
        parse_rejected(value, client)
    assert refused.value.loc == HEADER_LOC
