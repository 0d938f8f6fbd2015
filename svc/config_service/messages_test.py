import asyncio
from dataclasses import dataclass

from config_service.messages import Command, Get
from config_service.read_model import ReadConditions


@dataclass(frozen=True, slots=True)
class GetThing(Get):
    kind = "thing"


@dataclass(frozen=True, slots=True)
class DoNothing(Command[None]):
    pass


def test_a_get_is_named_by_its_kind_and_id_and_compared_without_its_client():
    query = GetThing("ID", conditions=ReadConditions(wait=5))
    assert query.key == "thing:ID"
    loop = asyncio.new_event_loop()
    try:
        gone = loop.create_future()
        assert GetThing("ID", conditions=ReadConditions(wait=5), client_gone=gone) == query
    finally:
        loop.close()


def test_a_command_touches_nothing_unless_it_says_so():
    assert DoNothing().touches() == ()
