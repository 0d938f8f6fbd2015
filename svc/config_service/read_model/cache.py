"""The read model's memory: representations by key, least recently used first, each known
current or not, and the reads from PostgreSQL in flight.

What is "current" has one rule. PostgreSQL triggers NOTIFY every committed change and the
read model passes each on to `written`, as the bus does for its own commits before it
answers; a read that raced with a change of its key is not kept; and nothing counts as
current while the listening connection is down (`listening_lost`), since changes could go
unnoticed. Each listening session is an epoch: a read begun in an older one is not kept.

A representation outlives its currency: a copy known current N seconds ago may still answer a
request that allows it (`Cache-Control: stale-if-error=N`) while PostgreSQL is unreachable.
"""

import asyncio
from collections import OrderedDict
from collections.abc import Callable

from config_service.errors import DatabaseUnavailable
from config_service.reads import Load, Read, ReadConditions
from config_service.representation import Representation, none_match
from config_service.telemetry.catalogue import ServiceMetrics

# What a kept representation costs beyond its body: key, entry and representation objects,
# the LRU's node. Measured roughly with tracemalloc; it only has to keep the bound honest.
ENTRY_OVERHEAD = 400
# A kept representation is gzip-encoded as it is kept (once per version: every request for it
# then sends those bytes), and counted with it. From this size on that takes long enough
# (~0.4 ms at 64 KiB, ~15 ms at 1 MB) to be done off the event loop; zlib lets go of the GIL.
COMPRESS_OFF_LOOP_BYTES = 64 * 1024


class _Entry:
    __slots__ = ("representation", "size", "current", "known_current_at")

    def __init__(self, representation: Representation, size: int):
        self.representation = representation
        self.size = size
        self.current = True
        self.known_current_at = 0.0  # set when it stops being current


class _Flight:
    """One read of a key from PostgreSQL, shared by every request that needs it meanwhile."""

    __slots__ = ("epoch", "superseded", "task")

    def __init__(self, epoch: int):
        self.epoch = epoch  # the listening session it started in; -1 when not listening
        self.superseded = False  # a change of its key arrived while it was in flight
        self.task: asyncio.Task[Representation]


class ReadCache:
    def __init__(self, *, max_bytes: int, metrics: ServiceMetrics, clock: Callable[[], float]):
        self._metrics = metrics
        self._max_bytes = max_bytes
        self._clock = clock
        self._entries: OrderedDict[str, _Entry] = OrderedDict()  # least recently used first
        self._bytes = 0
        self._flights: dict[str, _Flight] = {}
        self.listening = False
        self._epoch = 0

    @property
    def size(self) -> tuple[int, int]:
        """(entries, bytes) kept in memory."""
        return len(self._entries), self._bytes

    def keys(self) -> set[str]:
        """Every key kept or being read."""
        return {*self._entries, *self._flights}

    def written(self, key: str) -> None:
        """`key` changed: stop serving it as current, and never keep a read begun before."""
        entry = self._entries.get(key)
        if entry is not None and entry.current:
            entry.current = False
            entry.known_current_at = self._clock()
        flight = self._flights.pop(key, None)
        if flight is not None:
            flight.superseded = True  # it may have read the old version: answer, but never keep

    def listening_started(self) -> None:
        self.listening = True
        self._epoch += 1

    def listening_lost(self) -> None:
        self.listening = False
        self._epoch += 1
        now = self._clock()
        for entry in self._entries.values():
            if entry.current:
                entry.current = False
                entry.known_current_at = now

    async def read(self, key: str, conditions: ReadConditions, load: Load) -> Read:
        """From memory when current, else with `load`; stale when allowed and PostgreSQL is down."""
        entry = None if conditions.no_cache else self._entries.get(key)
        age = None
        if entry is not None and entry.current:
            self._entries.move_to_end(key)
            self._metrics.read_hits.inc()
            representation = entry.representation
        else:
            self._metrics.read_misses.inc()
            # With memory off, every GET reads for itself, as with no-cache: a read already in
            # flight may have begun before a change that this GET comes after.
            fresh = conditions.no_cache or self._max_bytes == 0
            try:
                representation = await self.load(key, load, fresh=fresh)
            except DatabaseUnavailable:
                stale = self._stale(key, conditions.stale_if_error)
                if stale is None:
                    raise
                representation, age = stale
        # The client's view: the candidate of a running rollout for its cohort.
        representation = representation.for_client(conditions.client)
        not_modified = not none_match(conditions.if_none_match, representation.etag)
        return Read(representation, not_modified, age)

    async def load(self, key: str, load: Load, *, fresh: bool) -> Representation:
        """Read `key` from PostgreSQL, joining a read already in flight unless `fresh`."""
        if fresh and self._max_bytes == 0:
            self._metrics.read_loads.inc()
            return await load()  # nothing will be kept, and nobody may join it: just read
        flight = None if fresh else self._flights.get(key)
        if flight is None:
            flight = _Flight(self._epoch if self.listening else -1)
            previous = self._flights.get(key)
            if previous is not None:
                previous.superseded = True  # the newer read answers for the key from now on
            self._flights[key] = flight
            flight.task = asyncio.ensure_future(self._fly(key, flight, load))
        # Shielded: a request that goes away must not cancel a read others are waiting for.
        return await asyncio.shield(flight.task)

    async def _fly(self, key: str, flight: _Flight, load: Load) -> Representation:
        self._metrics.read_loads.inc()
        try:
            representation = await load()
            if len(representation.body) >= COMPRESS_OFF_LOOP_BYTES:
                await asyncio.to_thread(lambda: representation.gzipped)
        finally:
            if self._flights.get(key) is flight:
                del self._flights[key]
        if not flight.superseded and flight.epoch == self._epoch and self.listening:
            self._keep(key, representation)
        return representation

    def _keep(self, key: str, representation: Representation) -> None:
        previous = self._entries.pop(key, None)  # older, whether or not this one fits
        if previous is not None:
            self._bytes -= previous.size
        if len(representation.body) + ENTRY_OVERHEAD > self._max_bytes:
            return  # also READ_CACHE_BYTES=0: nothing is kept (nor compressed for it)
        size = len(representation.body) + len(representation.gzipped or b"") + ENTRY_OVERHEAD
        rollout = representation.rollout
        if rollout is not None and rollout.candidate is not None:  # kept beside it (rollouts)
            size += len(rollout.candidate.body) + ENTRY_OVERHEAD
        for item in representation.item_rollouts:  # a view's items' versions, both kept
            size += len(item.current) + len(item.candidate)
        if size > self._max_bytes:
            return
        self._entries[key] = _Entry(representation, size)
        self._bytes += size
        while self._bytes > self._max_bytes:
            _, evicted = self._entries.popitem(last=False)
            self._bytes -= evicted.size
        self._metrics.read_bytes.set(value=self._bytes)
        self._metrics.read_entries.set(value=len(self._entries))

    def _stale(self, key: str, max_age: int | None) -> tuple[Representation, int] | None:
        """The last representation known, if known current at most `max_age` seconds ago."""
        entry = self._entries.get(key) if max_age is not None else None
        if entry is None:
            return None
        age = 0.0 if entry.current else self._clock() - entry.known_current_at
        return (entry.representation, int(age)) if age <= max_age else None
