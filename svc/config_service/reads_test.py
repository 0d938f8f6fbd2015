import dataclasses
from typing import get_args

import pytest

from config_service.reads import Held, Outcome, Read, ReadConditions
from config_service.representation import Representation


def test_read_conditions_default_to_a_plain_get():
    conditions = ReadConditions()
    assert (conditions.if_none_match, conditions.no_cache) == (None, False)
    assert (conditions.stale_if_error, conditions.wait) == (None, 0)


def test_a_read_is_fresh_and_not_held_unless_told():
    read = Read(Representation("a", b"{}"), not_modified=False)
    assert (read.age, read.held) == (None, None)


def test_values_are_frozen_and_compare_by_value():
    held = Held("timeout", 1.5, waited=2)
    assert held == Held("timeout", 1.5, waited=2) != Held("changed", 1.5, waited=2)
    with pytest.raises(dataclasses.FrozenInstanceError):
        held.outcome = "changed"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        ReadConditions().wait = 5  # type: ignore[misc]


def test_outcomes_are_the_ways_a_held_read_ends():
    assert set(get_args(Outcome.__value__)) == {
        "changed",
        "timeout",
        "shed",
        "lost",
        "shutdown",
        "gone",
    }
