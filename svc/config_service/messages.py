"""The messages routers hand to the bus: a command changes state, a query reads it.

Marker base classes, so the bus (and the tests) tell them apart by type, not by name. The
type parameter is what dispatching the message returns, so a router's use of the result is
checked by a type checker.
"""

import asyncio
from dataclasses import dataclass, field
from typing import ClassVar

from config_service.read_model import Read, ReadConditions, key_of


class Message[R]:
    __slots__ = ()


class Command[R](Message[R]):
    """Changes state, in one write transaction."""

    __slots__ = ()

    def touches(self) -> tuple[str, ...]:
        """The read-model keys of the representations this command may change."""
        return ()


class Query[R](Message[R]):
    """Reads state, in one statement."""

    __slots__ = ()


@dataclass(frozen=True, slots=True)
class Get(Query[Read]):
    """One representation by id, answered by the read model: from memory while it is current."""

    id: str
    conditions: ReadConditions = field(default=ReadConditions(), kw_only=True)
    # Done when the client has gone away: a held read then ends at once (outcome "gone").
    client_gone: asyncio.Future | None = field(default=None, kw_only=True, compare=False)
    kind: ClassVar[str]  # the resource, as named in change notifications

    @property
    def key(self) -> str:
        return key_of(self.kind, self.id)
