import pytest

from config_service.errors import PreconditionFailed
from config_service.representation import Representation, etag_of, none_match


def test_etags_are_strong_and_follow_the_bytes():
    assert etag_of(b'{"a":1}') == etag_of(b'{"a":1}')
    assert etag_of(b'{"a":1}') != etag_of(b'{"a":2}')
    assert etag_of(b"x").startswith('"') and not etag_of(b"x").startswith("W/")


def test_from_row_encodes_the_body_once():
    row = {"id": "ID", "body": '{"name":"ü"}', "application_name": "billing"}
    representation = Representation.from_row(row)
    assert representation.body == '{"name":"ü"}'.encode()
    assert representation.etag == etag_of(representation.body)
    assert representation.revision is None
    assert representation.application_name == "billing"


def test_a_revision_number_travels_with_the_bytes_but_the_etag_is_theirs_alone():
    row = {"id": "ID", "body": "{}", "application_name": "billing", "revision": 7}
    revised = Representation.from_row(row)
    assert revised.revision == 7
    assert revised.etag == Representation("ID", b"{}").etag


def test_the_application_name_is_not_part_of_the_etag():
    assert Representation("ID", b"{}", "a").etag == Representation("ID", b"{}", "b").etag


def test_if_none_match_is_compared_weakly_and_may_list_several():
    etag = Representation("ID", b"{}").etag
    for header in (etag, f'"a", {etag}', f"W/{etag}", "*"):
        assert not none_match(header, etag)
    assert none_match('"other"', etag)
    assert none_match(None, etag)


def test_if_match_is_compared_strongly():
    representation = Representation("ID", b"{}")
    representation.check_if_match("*")
    representation.check_if_match(f'"x", {representation.etag}')
    for stale in ('"x"', f"W/{representation.etag}"):
        with pytest.raises(PreconditionFailed):
            representation.check_if_match(stale)
