import asyncio
import dataclasses
import inspect

import pytest

from config_service.applications import commands as application_commands
from config_service.applications import queries as application_queries
from config_service.bus import COMMAND_HANDLERS, QUERY_HANDLERS, MessageBus
from config_service.configurations import commands as configuration_commands
from config_service.configurations import queries as configuration_queries


class RecordingDatabase:
    """Stands in for Database.run only to observe which transaction kind the bus asks for."""

    def __init__(self):
        self.calls = []

    async def run(self, work, *args, write):
        self.calls.append((work, args, write))
        return "result"


@dataclasses.dataclass(frozen=True)
class Shout:
    text: str


@dataclasses.dataclass(frozen=True)
class Whisper:
    text: str


def shout(cursor, message):
    return message.text.upper()


def whisper(cursor, message):
    return message.text.lower()


def test_commands_run_in_a_write_transaction_and_queries_do_not():
    database = RecordingDatabase()
    bus = MessageBus(database, commands={Shout: shout}, queries={Whisper: whisper})

    assert asyncio.run(bus.dispatch(Shout("a"))) == "result"
    asyncio.run(bus.dispatch(Whisper("b")))

    assert database.calls == [(shout, (Shout("a"),), True), (whisper, (Whisper("b"),), False)]


def test_after_a_command_the_bus_says_so_and_after_a_query_it_does_not():
    commands_done = []
    bus = MessageBus(
        RecordingDatabase(),
        commands={Shout: shout},
        queries={Whisper: whisper},
        after_command=lambda: commands_done.append(1),
    )
    asyncio.run(bus.dispatch(Whisper("b")))
    assert commands_done == []
    asyncio.run(bus.dispatch(Shout("a")))
    assert commands_done == [1]


def test_an_unregistered_message_is_a_programming_error():
    bus = MessageBus(RecordingDatabase(), commands={}, queries={})
    with pytest.raises(LookupError, match="Shout"):
        asyncio.run(bus.dispatch(Shout("a")))


def messages_in(*modules) -> set[type]:
    return {
        value
        for module in modules
        for value in vars(module).values()
        if inspect.isclass(value)
        and dataclasses.is_dataclass(value)
        and value.__module__ == module.__name__
        and value.__name__[0].isupper()
        and not value.__name__.endswith("Page")
    }


def test_every_message_has_exactly_one_handler():
    commands = messages_in(application_commands, configuration_commands)
    queries = messages_in(application_queries, configuration_queries)
    assert set(COMMAND_HANDLERS) == commands
    assert set(QUERY_HANDLERS) == queries
    assert not commands & queries
