import asyncio
import inspect
import sys
from dataclasses import dataclass

import pytest

from config_service import main
from config_service.access.scope import EVERYTHING
from config_service.access.tokens import Caller
from config_service.bus import MessageBus, NeedsTransaction
from config_service.messages import Command, Delivery, Get, Query
from config_service.read_model.model import ReadModel
from config_service.reads import Read
from config_service.representation import Representation
from config_service.telemetry.ignored import ignored_metrics


class RecordingDatabase:
    """Stands in for Database only to observe which transaction kind the bus asks for."""

    def __init__(self):
        self.calls = []

    async def read(self, work, message, delivery):
        self.calls.append(("read", work, message))
        return work(None, message, delivery)

    async def write(self, work, message, delivery):
        self.calls.append(("write", work, message))
        return work(None, message, delivery)

    async def write_idempotent(self, work, message, delivery):
        self.calls.append(("write_idempotent", work, message))
        return work(None, message, delivery)

    async def rehearse(self, work, message, delivery):
        self.calls.append(("rehearse", work, message))
        return work(None, message, delivery)


@dataclass(frozen=True)
class Shout(Command[str]):
    text: str

    def touches(self) -> tuple[str, ...]:
        return (f"thing:{self.text}",)


@dataclass(frozen=True)
class Repeat(Shout):
    """A shout that has the effect of one even when sent twice."""

    def idempotent(self) -> bool:
        return True


@dataclass(frozen=True)
class Whisper(Query[str]):
    text: str


@dataclass(frozen=True, slots=True)
class GetThing(Get):
    kind = "thing"


def shout(cursor, message: Shout, delivery: Delivery) -> str:
    if delivery.caller.name is not None:  # what a change record would store
        return f"{message.text.upper()} by {delivery.caller.name} in {delivery.request_id}"
    return message.text.upper()


def whisper(cursor, message: Whisper, delivery: Delivery) -> str:
    return message.text.lower()


def get_thing(cursor, query: GetThing, delivery: Delivery) -> Representation:
    return Representation(query.id, b'{"thing": 1}')


def new_bus(database, more_commands=None) -> tuple[MessageBus, ReadModel]:
    read_model = ReadModel(
        max_bytes=1 << 20, max_wait=5, max_waiters=10, retry_after=1, metrics=ignored_metrics()
    )
    read_model.listening_started()
    bus = MessageBus(
        database,
        read_model,
        commands={Shout: shout, Repeat: shout, **(more_commands or {})},
        queries={Whisper: whisper, GetThing: get_thing},
    )
    return bus, read_model


def test_commands_run_in_a_write_transaction_and_queries_do_not():
    database = RecordingDatabase()
    bus, _ = new_bus(database)

    async def scenario():
        return await bus.dispatch(Shout("a")), await bus.dispatch(Whisper("B"))

    assert asyncio.run(scenario()) == ("A", "b")
    assert database.calls == [("write", shout, Shout("a")), ("read", whisper, Whisper("B"))]


def test_an_idempotent_command_runs_as_an_idempotent_write():
    database = RecordingDatabase()
    bus, read_model = new_bus(database)
    assert asyncio.run(bus.dispatch(Repeat("a"))) == "A"
    assert database.calls == [("write_idempotent", shout, Repeat("a"))]


def test_a_dry_run_is_rehearsed_and_touches_nothing_in_memory():
    database = RecordingDatabase()
    bus, read_model = new_bus(database)

    async def scenario() -> int:
        await bus.dispatch(GetThing("x"))
        await bus.dispatch(Shout("x"), Delivery(dry_run=True))  # would touch thing:x
        await bus.dispatch(GetThing("x"))
        return len([call for call in database.calls if call[0] == "read"])

    assert asyncio.run(scenario()) == 1  # still answered from memory
    assert ("rehearse", shout, Shout("x")) in database.calls


def test_an_idempotent_command_that_needs_a_transaction_runs_again_in_one():
    database = RecordingDatabase()

    def needs_more(cursor, message, delivery):
        if database.calls[-1][0] == "write_idempotent":
            raise NeedsTransaction()
        return "done"

    read_model = ReadModel(
        max_bytes=1 << 20, max_wait=5, max_waiters=10, retry_after=1, metrics=ignored_metrics()
    )
    bus = MessageBus(database, read_model, commands={Repeat: needs_more}, queries={})
    assert asyncio.run(bus.dispatch(Repeat("a"))) == "done"
    assert [call[0] for call in database.calls] == ["write_idempotent", "write"]


def test_get_queries_are_answered_from_memory_once_read_until_a_command_touches_them():
    database = RecordingDatabase()
    bus, read_model = new_bus(database)

    async def scenario() -> list[Read]:
        reads = [await bus.dispatch(GetThing("x")), await bus.dispatch(GetThing("x"))]
        await bus.dispatch(Shout("x"))  # touches thing:x
        reads.append(await bus.dispatch(GetThing("x")))
        return reads

    reads = asyncio.run(scenario())
    assert [read.representation.body for read in reads] == [b'{"thing": 1}'] * 3
    database_reads = [call for call in database.calls if call[0] == "read"]
    assert len(database_reads) == 2  # the second GET came from memory, the third did not


@dataclass(frozen=True)
class Point(Command[str]):
    """Learns what it touched from its result, as a configuration's PUT learns its application."""

    text: str

    def touched(self, result: str) -> tuple[str, ...]:
        return (f"thing:{result}",)


def test_a_command_that_learns_what_it_touched_from_its_result_drops_that():
    database = RecordingDatabase()
    bus, read_model = new_bus(database, {Point: lambda cursor, message, delivery: "y"})

    async def scenario() -> None:
        await bus.dispatch(GetThing("y"))
        await bus.dispatch(Point("x"))  # its result says: thing:y
        await bus.dispatch(GetThing("y"))

    asyncio.run(scenario())
    assert len([call for call in database.calls if call[0] == "read"]) == 2


def test_an_unregistered_message_is_a_programming_error():
    bus, _ = new_bus(RecordingDatabase())
    with pytest.raises(LookupError, match="Unknown"):

        @dataclass(frozen=True)
        class Unknown(Query[None]):
            pass

        asyncio.run(bus.dispatch(Unknown()))


def test_tables_take_only_their_kind_of_message():
    with pytest.raises(TypeError, match="Whisper is no Command"):
        MessageBus(RecordingDatabase(), None, commands={Whisper: whisper}, queries={})


def messages_in(base: type) -> set[type]:
    """Every message class the service's modules define deriving from `base`."""
    found, pending = set(), [base]
    while pending:
        for subclass in pending.pop().__subclasses__():
            pending.append(subclass)
            module = sys.modules[subclass.__module__]
            # dataclass(slots=True) replaces a class: count the one its module holds.
            if (
                not module.__name__.endswith("_test")
                and vars(module).get(subclass.__name__) is subclass
            ):
                found.add(subclass)
    return found - {Get}


def test_every_message_of_the_service_has_exactly_one_handler():
    assert set(main.COMMAND_HANDLERS) == messages_in(Command)
    assert set(main.QUERY_HANDLERS) == messages_in(Query)
    for handler in (*main.COMMAND_HANDLERS.values(), *main.QUERY_HANDLERS.values()):
        assert list(inspect.signature(handler).parameters)[0] == "cursor"


def test_command_handlers_get_the_callers_name_and_the_request_id_beside_the_command():
    bus, _ = new_bus(RecordingDatabase())
    caller = Caller("ci-payments", "write", EVERYTHING)

    async def scenario():
        return await bus.dispatch(Shout("a"), Delivery(caller=caller, request_id="r1"))

    assert asyncio.run(scenario()) == "A by ci-payments in r1"
