"""The in-process message bus: routers hand it a command or a query, it runs the handler.

Generic: it knows messages only by their marker classes (messages.py) and is given its
handler tables, which each resource exports beside its handlers and main.py merges, so those
tables are everything the service can do. Commands run in a write transaction (an idempotent
one-statement command in autocommit, its own transaction) and, once committed, tell the read
model what they touched before anyone is answered. Get queries are answered by the read
model, which asks PostgreSQL only when memory will not do; other queries run in autocommit
mode (one round trip). A command delivered as a dry run (`?dry_run`) runs its whole write in
a transaction that is rolled back: nothing is committed, so nothing is announced either. The
bus keeps no per-request state.
"""

from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

from config_service.messages import NO_DELIVERY, Command, Delivery, Get, Message, Query
from config_service.read_model.model import ReadModel
from config_service.store.database import Cursor, Database

# Every handler takes the message's Delivery too (who sent it: scope and name), defaulted.
type Handler = Callable[[Cursor, Any, Delivery], Any]
type HandlerTable = Mapping[type[Message], Handler]


class NeedsTransaction(Exception):
    """Raised by a command's handler run in autocommit that finds its write needs more than one
    statement after all (a schema's followers to check): it is run again in a transaction."""


class MessageBus:
    def __init__(
        self,
        database: Database,
        read_model: ReadModel,
        *,
        commands: HandlerTable,
        queries: HandlerTable,
    ):
        _check_kinds(commands, Command)
        _check_kinds(queries, Query)
        self._database = database
        self._read_model = read_model
        self._commands = dict(commands)
        self._queries = dict(queries)

    async def dispatch[R](self, message: Message[R], delivery: Delivery = NO_DELIVERY) -> R:
        """Run the message's handler in the transaction its kind needs; return its result.

        `delivery` is what travels beside the message (a Get's read conditions, ...)."""
        if isinstance(message, Command):
            handler = self._handler(self._commands, message)
            database = self._database
            if delivery.dry_run:
                return await database.rehearse(handler, message, delivery)
            write = database.write_idempotent if message.idempotent() else database.write
            try:
                result = await write(handler, message, delivery)  # who sent it
            except NeedsTransaction:
                result = await database.write(handler, message, delivery)
            for key in message.touched(result):
                self._read_model.written(key)  # committed: this worker never answers the old one
            return result
        handler = self._handler(self._queries, message)
        if isinstance(message, Get):
            load = partial(self._database.read, handler, message, delivery)
            return await self._read_model.read(message.key, delivery, load)
        return await self._database.read(handler, message, delivery)

    @staticmethod
    def _handler(table: dict[type[Message], Handler], message: Message) -> Handler:
        try:
            return table[type(message)]
        except KeyError:
            raise LookupError(f"no handler is registered for {type(message).__name__}") from None


def _check_kinds(table: HandlerTable, kind: type[Message]) -> None:
    """A raised error, not an assert: `python -O` would drop an assert."""
    for message_type in table:
        if not issubclass(message_type, kind):
            raise TypeError(f"{message_type.__name__} is no {kind.__name__}")
