"""The messages routers hand to the bus (a command changes state, a query reads it), and the
Delivery that travels beside each one.

Marker base classes, so the bus (and the tests) tell them apart by type, not by name. The
type parameter is what dispatching the message returns: it documents what a router gets back,
and a type checker could check it (none runs in this project's build). Messages are small immutable values: what only this one request
carries (parsed headers, the client's connection) travels beside them, in a Delivery.
"""

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ClassVar

from config_service.access.tokens import ANONYMOUS, Caller
from config_service.keys import key_of
from config_service.reads import Held, Read, ReadConditions


class Message[R]:
    __slots__ = ()


class Command[R](Message[R]):
    """Changes state, in one write transaction."""

    __slots__ = ()

    def touches(self) -> tuple[str, ...]:
        """The read-model keys of the representations this command may change (keys.py)."""
        return ()

    def touched(self, result: R) -> tuple[str, ...]:
        """The keys it changed, once committed: touches(), unless only its result can tell
        (a configuration's PUT learns its application from PostgreSQL)."""
        return self.touches()

    def idempotent(self) -> bool:
        """Whether its handler writes with one statement that has the effect of one even when
        sent twice. The bus then runs it in autocommit (Database.write_idempotent)."""
        return False


class Query[R](Message[R]):
    """Reads state, in one statement."""

    __slots__ = ()


@dataclass(frozen=True, slots=True)
class Get(Query[Read]):
    """One representation by id, answered by the read model: from memory while it is current."""

    id: str
    kind: ClassVar[str]  # the resource, as named in change notifications (keys.py)

    @property
    def key(self) -> str:
        return key_of(self.kind, self.id)


def _ignore_held(held: Held) -> None:
    pass


@dataclass(frozen=True, slots=True)
class Delivery:
    """What travels with one message besides it: the transport's state for this request,
    and who sent it (its token's Caller: scope for the read model and the handlers, the name
    for change records; `caller.name` is None without tokens) with the request id."""

    conditions: ReadConditions = ReadConditions()  # of a Get: what its answer must satisfy
    # Done when the client has gone away: a held read then ends at once (outcome "gone").
    client_gone: asyncio.Future | None = field(default=None, compare=False)
    # Told how a held read ended, whether it then answers or raises (for the request log).
    on_held: Callable[[Held], None] = field(default=_ignore_held, compare=False)
    caller: Caller = ANONYMOUS
    request_id: str | None = None
    # A command's whole write, answered as it would be, then rolled back (?dry_run).
    dry_run: bool = False


NO_DELIVERY = Delivery()
