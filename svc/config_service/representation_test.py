import gzip
import os

import pytest

from config_service.errors import InvalidValue, PreconditionFailed
from config_service.representation import (
    GZIP_MIN_BYTES,
    STALE_IF_MATCH,
    WEAK_IF_MATCH,
    Representation,
    Rollout,
    check_entity_tags,
    etag_of,
    in_cohort,
    gzip_of,
    none_match,
)


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
    with pytest.raises(PreconditionFailed) as stale:
        representation.check_if_match('"x"')
    assert stale.value.detail == STALE_IF_MATCH
    # A weak tag can never match: saying "it changed" would send the client round again.
    for weak in (f"W/{representation.etag}", f'"x", W/{representation.etag}'):
        with pytest.raises(PreconditionFailed) as refused:
            representation.check_if_match(weak)
        assert refused.value.detail == WEAK_IF_MATCH


@pytest.mark.parametrize(
    "value", ['"abc"', 'W/"abc"', "*", ' "a", W/"b" ', '"a",\t"b"', '""', '"é"']
)
def test_entity_tags_are_quoted_and_listed_with_commas(value):
    check_entity_tags("If-Match", value)


@pytest.mark.parametrize(
    "value", ["abc", "W/abc", '"a" "b"', "", '"a', 'W/ "a"', '"a\x01"', '"a",', "*, *", "x" * 200]
)
def test_anything_else_is_refused_naming_the_form_expected(value):
    with pytest.raises(InvalidValue) as refused:
        check_entity_tags("If-None-Match", value)
    assert refused.value.loc == ("header", "If-None-Match")
    assert 'double quotes included (e.g. If-None-Match: "' in refused.value.detail
    assert len(refused.value.detail) < 300  # a long value is shown cut


def test_checking_a_hostile_header_takes_linear_time():
    check_entity_tags("If-Match", '"a", ' * 50_000 + '"b"')  # a catastrophic pattern would hang
    with pytest.raises(InvalidValue):
        check_entity_tags("If-Match", '"a",' * 50_000 + "x")


def json_of_size(size: int) -> bytes:
    """A JSON object of exactly `size` bytes, as compressible as configurations are."""
    body = b'{"k":"' + b"x" * size + b'"}'
    return body[: size - 2] + b'"}'


def test_a_large_body_is_gzipped_once_and_a_small_one_never():
    large = Representation("ID", json_of_size(GZIP_MIN_BYTES))
    encoded = large.gzipped
    assert encoded is not None and gzip.decompress(encoded) == large.body
    assert large.gzipped is encoded  # kept: made once per representation
    assert Representation("ID", json_of_size(GZIP_MIN_BYTES - 1)).gzipped is None


def test_gzip_bytes_are_the_same_wherever_made_and_only_sent_when_smaller():
    body = json_of_size(4096)
    assert gzip_of(body) == gzip_of(bytes(body))  # no time in the header: the same on every worker
    assert gzip.decompress(gzip_of(body)) == body
    incompressible = os.urandom(4096)
    assert gzip_of(incompressible) is None


def test_the_gzip_bytes_change_neither_the_etag_nor_equality():
    body = json_of_size(4096)
    compressed, plain = Representation("ID", body), Representation("ID", body)
    assert compressed.gzipped is not None
    assert compressed == plain and compressed.etag == plain.etag


def test_cohorts_are_fair_and_grow_by_adding_clients():
    """Over 10,000 ids the share in a cohort is its percentage within 1.5 points, and a
    client in the 10% cohort is in the 50% cohort (the hash never reshuffles)."""
    clients = [f"client-{number}" for number in range(10_000)]
    at_ten = {name for name in clients if in_cohort("01HCONFIGURATION", name, 10)}
    at_fifty = {name for name in clients if in_cohort("01HCONFIGURATION", name, 50)}
    assert abs(len(at_ten) / 100 - 10) <= 1.5
    assert abs(len(at_fifty) / 100 - 50) <= 1.5
    assert at_ten < at_fifty
    assert not any(in_cohort("01HCONFIGURATION", name, 0) for name in clients[:100])
    assert all(in_cohort("01HCONFIGURATION", name, 100) for name in clients[:100])


def test_each_configuration_picks_its_own_cohort():
    clients = [f"client-{number}" for number in range(1000)]
    first = {name for name in clients if in_cohort("01HFIRST", name, 50)}
    second = {name for name in clients if in_cohort("01HSECOND", name, 50)}
    assert first != second


def test_a_client_is_served_its_view_of_a_rollout():
    candidate = Representation("c", b'{"v":2}', revision=2, rollout=Rollout(50, 2))
    current = Representation("c", b'{"v":1}', revision=1, rollout=Rollout(50, 2, candidate))
    inside = next(f"k{n}" for n in range(100) if in_cohort("c", f"k{n}", 50))
    outside = next(f"k{n}" for n in range(100) if not in_cohort("c", f"k{n}", 50))
    assert current.for_client(inside) is candidate
    assert current.for_client(outside) is current
    assert current.for_client(None) is current
    plain = Representation("c", b"{}", revision=1)
    assert plain.for_client(inside) is plain


def test_a_view_serves_each_client_its_cohorts_candidate_items():
    from config_service.representation import ItemRollout

    current, candidate = b'{"id":"c","config":{"v":1}}', b'{"id":"c","config":{"v":2}}'
    view = Representation(
        "a",
        b'{"id":"a","configurations":[' + current + b',{"id":"d","config":{"v":1}}]}',
        "app",
        item_rollouts=(ItemRollout("c", 50, current, candidate),),
    )
    inside = next(f"k{n}" for n in range(100) if in_cohort("c", f"k{n}", 50))
    outside = next(f"k{n}" for n in range(100) if not in_cohort("c", f"k{n}", 50))
    seen = view.for_client(inside)
    assert seen.body == view.body.replace(current, candidate)
    assert seen.etag != view.etag and seen.application_name == "app"
    assert view.for_client(outside) is view and view.for_client(None) is view
