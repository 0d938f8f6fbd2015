import gzip

import pytest

from config_service.errors import InvalidValue
from config_service.http.dependencies import check_body_id
from config_service.http.responses import read_conditions, read_response
from config_service.reads import Read, ReadConditions
from config_service.representation import Representation


def conditions(*pairs: tuple[str, str]) -> ReadConditions:
    return read_conditions({"headers": [(k.encode(), v.encode("latin-1")) for k, v in pairs]})


def test_without_cache_control_or_prefer_only_if_none_match_counts():
    assert conditions(("if-none-match", '"a"')) == ReadConditions(if_none_match='"a"')


@pytest.mark.parametrize(
    ("pairs", "expected"),
    [
        ([("cache-control", "no-cache")], ReadConditions(no_cache=True)),
        ([("cache-control", "max-age=0")], ReadConditions(no_cache=True)),
        (
            [("cache-control", "max-age=00, stale-if-error=30")],
            ReadConditions(no_cache=True, stale_if_error=30),
        ),
        ([("cache-control", 'stale-if-error="60"')], ReadConditions(stale_if_error=60)),
        ([("prefer", "respond-async, wait=10; x=y")], ReadConditions(wait=10)),
        ([("prefer", "respond-async"), ("prefer", "wait=10")], ReadConditions(wait=10)),
        ([("prefer", "wait=10"), ("prefer", "wait=20")], ReadConditions(wait=10)),
        ([("prefer", "wait=" + "9" * 5000)], ReadConditions(wait=2**31)),
        ([("prefer", "wait=²")], ReadConditions()),
        ([("prefer", "wait=1.5")], ReadConditions()),
        ([("prefer", "wait")], ReadConditions()),
        (
            [("if-none-match", '"a"'), ("if-none-match", '"b"')],
            ReadConditions(if_none_match='"a", "b"'),
        ),
    ],
)
def test_request_directives_are_read_as_the_rfcs_say_and_odd_ones_ignored(pairs, expected):
    assert conditions(*pairs) == expected


def test_a_huge_hostile_header_is_read_in_linear_time():
    """16 KiB, what the server accepts: a backtracking pattern took seconds on 4 KiB of it."""
    hostile = "a" * 16_000 + "!"
    assert conditions(("prefer", hostile), ("cache-control", hostile)) == ReadConditions()
    assert conditions(("accept-encoding", ";q=0," * 2_700)) == ReadConditions()


@pytest.mark.parametrize(
    ("accept_encoding", "gzip"),
    [
        ("gzip", True),
        ("gzip, deflate, br, zstd", True),  # httpx, browsers
        ("GZIP;q=0.5", True),
        ("x-gzip", True),
        ("*", True),
        ("deflate, *;q=0.1", True),
        ("gzip;q=0", False),
        ("gzip; q=0.000, *", False),  # named: its own weight, not the wildcard's
        ("*;q=0", False),
        ("identity", False),
        ("br, deflate", False),
        ("", False),
    ],
)
def test_gzip_is_sent_only_where_accept_encoding_allows_it(accept_encoding, gzip):
    assert conditions(("accept-encoding", accept_encoding)).accepts_gzip is gzip


def test_without_accept_encoding_nothing_is_compressed():
    assert conditions(("prefer", "wait=1")).accepts_gzip is False


def test_a_large_body_goes_gzip_to_who_accepts_it_with_the_same_etag_and_vary():
    body = b'{"k":"' + b"x" * 4000 + b'"}'
    read = Read(Representation("ID", body), not_modified=False)
    plain = read_response(read, ReadConditions())
    compressed = read_response(read, ReadConditions(accepts_gzip=True))
    assert plain.body == body and "content-encoding" not in plain.headers
    assert gzip.decompress(compressed.body) == body
    assert compressed.headers["content-encoding"] == "gzip"
    assert compressed.headers["content-length"] == str(len(compressed.body))
    for response in (plain, compressed):
        assert response.headers["etag"] == read.representation.etag
        assert response.headers["vary"] == "Accept-Encoding, Prefer, Config-Client"
    small = read_response(Read(Representation("ID", b"{}"), False), ReadConditions(True))
    assert small.body == b"{}" and "content-encoding" not in small.headers
    unchanged = read_response(Read(read.representation, True), ReadConditions(accepts_gzip=True))
    assert (unchanged.status_code, unchanged.body) == (304, b"")
    assert "content-encoding" not in unchanged.headers


def test_a_body_sent_back_must_name_the_resource_in_the_path():
    check_body_id(None, "A")
    check_body_id("A", "A")
    with pytest.raises(InvalidValue) as caught:
        check_body_id("B", "A")
    assert caught.value.loc == ("body", "id")
