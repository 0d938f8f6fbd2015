import pytest

from config_service.errors import InvalidValue
from config_service.http.dependencies import check_body_id
from config_service.http.responses import read_conditions
from config_service.reads import ReadConditions


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


def test_a_body_sent_back_must_name_the_resource_in_the_path():
    check_body_id(None, "A")
    check_body_id("A", "A")
    with pytest.raises(InvalidValue) as caught:
        check_body_id("B", "A")
    assert caught.value.loc == ("body", "id")
