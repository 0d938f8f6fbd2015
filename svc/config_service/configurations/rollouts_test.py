import pytest

from config_service.configurations.rollouts import RolloutSpec, parse_rollout
from config_service.errors import InvalidValue


@pytest.mark.parametrize(
    ("value", "spec"),
    [
        ("10", RolloutSpec(10)),
        (" 0 ", RolloutSpec(0)),
        ("100", RolloutSpec(100)),
        ("10;step=20;every=300;max-failures=3", RolloutSpec(10, 20, 300, 3)),
        ("10; every=1;step=25", RolloutSpec(10, 25, 1)),
        ("10;max-failures=1;max-failures=2", RolloutSpec(10, max_failures=2)),  # the last
    ],
)
def test_a_config_rollout_item_is_parsed(value, spec):
    assert parse_rollout(value) == spec


@pytest.mark.parametrize(
    "value",
    ["", "x", "1e1", "10.0", "-0;step=1;every=1", "999999999999999999", "10;", "10;=1",
     "10;step=1", "10;every=1", "10;step=1;every=86401", "10;max-failures=-1", "10;a=1",
     "10;step=1;every=1;x", "0;max-failures=1", "10 ;step=1;every=1"],
)  # fmt: skip
def test_a_malformed_config_rollout_is_refused_on_its_header(value):
    with pytest.raises(InvalidValue) as refused:
        parse_rollout(value)
    assert refused.value.errors[0]["loc"] == ["header", "config-rollout"]


def test_a_spec_says_itself_as_the_header_would():
    assert RolloutSpec(10, 20, 300, 3).header() == "10;step=20;every=300;max-failures=3"
    assert parse_rollout(RolloutSpec(5, max_failures=2).header()) == RolloutSpec(5, max_failures=2)
