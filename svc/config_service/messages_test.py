import asyncio
from dataclasses import dataclass

from config_service.messages import Command, Delivery, Get
from config_service.reads import ReadConditions


@dataclass(frozen=True, slots=True)
class GetThing(Get):
    kind = "thing"


@dataclass(frozen=True, slots=True)
class DoNothing(Command[None]):
    pass


def test_a_get_is_named_by_its_kind_and_id():
    assert GetThing("ID").key == "thing:ID"
    assert GetThing("ID") == GetThing("ID") and hash(GetThing("ID")) == hash(GetThing("ID"))


def test_a_delivery_is_compared_without_its_client():
    delivery = Delivery(ReadConditions(wait=5))
    loop = asyncio.new_event_loop()
    try:
        gone = loop.create_future()
        assert Delivery(ReadConditions(wait=5), client_gone=gone) == delivery
    finally:
        loop.close()


def test_a_command_touches_nothing_unless_it_says_so():
    assert DoNothing().touches() == ()


@dataclass(frozen=True, slots=True)
class Touch(Command[str]):
    def touches(self) -> tuple[str, ...]:
        return ("thing:1",)


def test_what_a_command_touched_is_what_it_touches_unless_it_says_otherwise():
    assert Touch().touched("any result") == ("thing:1",)
    assert DoNothing().touched(None) == ()
