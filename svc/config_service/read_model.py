"""The read model: each worker answers GETs by id from memory while it knows them current.

Runtimes mostly read, and mostly the same representations. A worker keeps the bytes and ETag
of what it has read and answers the next GET of that id from memory. What is "current" has one
rule. PostgreSQL triggers NOTIFY every committed change (migration 0004) and the listener
(listener.py) passes each on to `changed`; the bus reports its own commits (`written`) before
it answers; a read that raced with a change of its key is not kept; and nothing counts as
current while the listening connection is down (`listening_lost`), since changes could go
unnoticed.

A representation outlives its currency: a copy known current N seconds ago may still answer a
request that allows it (`Cache-Control: stale-if-error=N`) while PostgreSQL is unreachable.

Watches live here too: GETs with If-None-Match and `Prefer: wait`, held until the
representation changes. However many wait on a key, a change costs one read.
"""

import asyncio
import logging
import math
import random
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Literal

from config_service.errors import DatabaseUnavailable, DomainError
from config_service.metrics import ServiceMetrics
from config_service.representation import Representation, none_match

if TYPE_CHECKING:
    from config_service.messages import Get

log = logging.getLogger(__name__)

# What a kept representation costs beyond its body: key, entry and representation objects,
# the LRU's node. Measured roughly with tracemalloc; it only has to keep the bound honest.
ENTRY_OVERHEAD = 400
# When listening is lost, every held request is answered within this many seconds.
LOST_REREAD_SECONDS = 2.0
# A held request whose wait ends while a change of its key is being read waits this long more
# for that read, so it answers the change rather than 304 against the version it had.
REREAD_WAIT_SECONDS = 2.0
# Held requests that started together end up to this fraction early, so they spread out.
WAIT_JITTER = 0.1
# The key of a notification that any representation may have changed (a TRUNCATE, 0005).
EVERYTHING = "*"

type Load = Callable[[], Awaitable[Representation]]
type Outcome = Literal["changed", "timeout", "shed", "lost", "shutdown", "gone"]


def key_of(kind: str, resource_id: str) -> str:
    """How a representation is named in memory and in change notifications."""
    return f"{kind}:{resource_id}"


@dataclass(frozen=True, slots=True)
class ReadConditions:
    """What a GET asks of its answer (If-None-Match, Cache-Control and Prefer, parsed)."""

    if_none_match: str | None = None
    no_cache: bool = False  # read PostgreSQL, not memory
    stale_if_error: int | None = None  # seconds a stale copy may answer while PostgreSQL is down
    wait: int = 0  # seconds to hold the request until the representation changes


@dataclass(frozen=True, slots=True)
class Held:
    """How a held GET ended, after how long, and the wait it was given (Preference-Applied)."""

    outcome: Outcome
    seconds: float
    waited: int


@dataclass(frozen=True, slots=True)
class Read:
    """A GET's answer: the representation, and what the response must say about it."""

    representation: Representation
    not_modified: bool  # If-None-Match names it: 304
    age: int | None = None  # answered stale (stale-if-error): seconds since last known current
    held: Held | None = None
    error: DomainError | None = None  # a held request whose re-read failed answers with this


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


class _Watch:
    """The requests held on one key, each with the If-None-Match it was sent with."""

    __slots__ = ("load", "waiters")

    def __init__(self, load: Load):
        self.load = load
        self.waiters: dict[asyncio.Future, str] = {}


def _settle(future: asyncio.Future, result: tuple) -> None:
    if not future.done():
        future.set_result(result)


class ReadModel:
    def __init__(
        self,
        *,
        max_bytes: int,
        max_wait: int,
        max_waiters: int,
        retry_after: int,
        metrics: ServiceMetrics,
        clock: Callable[[], float] = time.monotonic,
    ):
        self._metrics = metrics
        self._max_bytes = max_bytes
        self._max_wait = max_wait
        self._max_waiters = max_waiters
        self._retry_after = retry_after
        self._clock = clock
        self._entries: OrderedDict[str, _Entry] = OrderedDict()  # least recently used first
        self._bytes = 0
        self._flights: dict[str, _Flight] = {}
        self._watches: dict[str, _Watch] = {}
        self._rereads: dict[str, asyncio.Task] = {}  # key -> the read of a change for its watches
        self._held = 0
        self._background: set[asyncio.Task] = set()
        self.listening = False
        self._epoch = 0
        self._closing = False

    @property
    def size(self) -> tuple[int, int]:
        """(entries, bytes) kept in memory."""
        return len(self._entries), self._bytes

    @property
    def held(self) -> int:
        return self._held

    # --- what the listener and the bus report ---------------------------------------------

    def changed(self, key: str) -> None:
        """PostgreSQL says the representation named `key` changed (or may have): stop serving
        it as current, and read it once for the requests watching it."""
        if key == EVERYTHING:
            for each in {*self._entries, *self._flights, *self._watches}:
                self.changed(each)
            return
        self.written(key)
        if key in self._watches:
            self._wake(key, "changed")

    def written(self, key: str) -> None:
        """This worker committed a change of `key`: stop serving it as current before answering.
        (Its watches wait for PostgreSQL's notification of that commit: one read, not two.)"""
        entry = self._entries.get(key)
        if entry is not None and entry.current:
            entry.current = False
            entry.known_current_at = self._clock()
        flight = self._flights.pop(key, None)
        if flight is not None:
            flight.superseded = True  # it may have read the old version: answer, but never keep

    def listening_started(self) -> None:
        """Changes are being heard (again): from now on, what is read may be kept as current."""
        self.listening = True
        self._epoch += 1

    def listening_lost(self) -> None:
        """Changes can no longer be heard: nothing in memory is current any more."""
        self.listening = False
        self._epoch += 1
        now = self._clock()
        for entry in self._entries.values():
            if entry.current:
                entry.current = False
                entry.known_current_at = now
        for key in list(self._watches):
            self._wake(key, "lost")  # nothing would end these waits now: answer them

    def end_watches(self) -> None:
        """Shutting down: answer every held request now (304) and hold no more."""
        self._closing = True
        for watch in self._watches.values():
            for future in watch.waiters:
                _settle(future, ("shutdown", None))

    async def close(self) -> None:
        for task in list(self._background):
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)

    # --- reads ---------------------------------------------------------------------------

    async def read(self, query: "Get", load: Load) -> Read:
        """Answer a Get query from memory when current, else with `load` (PostgreSQL)."""
        conditions = query.conditions
        if conditions.wait > 0 and conditions.if_none_match is not None:
            return await self._watch(query, load)
        return await self._read(query, load)

    async def _read(self, query: "Get", load: Load) -> Read:
        conditions = query.conditions
        key = query.key
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
                representation = await self._load(key, load, fresh=fresh)
            except DatabaseUnavailable:
                stale = self._stale(key, conditions.stale_if_error)
                if stale is None:
                    raise
                representation, age = stale
        not_modified = not none_match(conditions.if_none_match, representation.etag)
        return Read(representation, not_modified, age)

    async def _load(self, key: str, load: Load, *, fresh: bool) -> Representation:
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
        size = len(representation.body) + ENTRY_OVERHEAD
        if size > self._max_bytes:
            return  # also READ_CACHE_BYTES=0: nothing is kept
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

    # --- watches -------------------------------------------------------------------------

    async def _watch(self, query: "Get", load: Load) -> Read:
        # Not held when nothing would end the wait (shutting down, or changes unheard), or
        # when this worker holds all it may: answered at once, with wait=0 to say so, so that
        # runtimes wait a little before they ask again rather than at once.
        if self._closing or not self.listening or self._held >= self._max_waiters:
            read = await self._read(query, load)
            if not read.not_modified:
                return read
            self._metrics.watch_ended.inc("shed")
            return replace(read, held=Held("shed", 0.0, waited=0))
        key, if_none_match = query.key, query.conditions.if_none_match
        watch = self._watches.get(key)
        if watch is None:
            watch = self._watches[key] = _Watch(load)
        # Registered before reading, so a change that lands during the read still wakes it.
        future = asyncio.get_running_loop().create_future()
        watch.waiters[future] = if_none_match
        self._held += 1
        self._metrics.watch_held.add(amount=1)
        try:
            read = await self._read(query, load)
            if not read.not_modified or read.age is not None:
                return read  # already different (or PostgreSQL is down): answer at once
            return await self._hold(key, future, read, query.conditions, query.client_gone)
        finally:
            self._held -= 1
            self._metrics.watch_held.add(amount=-1)
            watch.waiters.pop(future, None)  # unless an answer removed it already
            if not watch.waiters and self._watches.get(key) is watch:
                del self._watches[key]

    async def _hold(
        self,
        key: str,
        future: asyncio.Future,
        read: Read,
        conditions: ReadConditions,
        client_gone: asyncio.Future | None,
    ) -> Read:
        delay = min(conditions.wait, self._max_wait) * (1 - WAIT_JITTER * random.random())
        timer = asyncio.get_running_loop().call_later(delay, _settle, future, ("timeout", None))
        if client_gone is not None:  # nobody to answer: give the place back now
            client_gone.add_done_callback(lambda _: _settle(future, ("gone", None)))
        started = self._clock()
        try:
            outcome, result = await future
        finally:
            timer.cancel()
        rereading = self._rereads.get(key)
        if outcome == "timeout" and rereading is not None:
            # A change was heard and is being read: answer it, not the version known before.
            try:
                reread = await asyncio.wait_for(asyncio.shield(rereading), REREAD_WAIT_SECONDS)
            except TimeoutError:
                reread = None
            if isinstance(reread, Representation):
                outcome, result = "changed", reread
        held = Held(outcome, self._clock() - started, waited=math.ceil(delay))
        self._metrics.watch_ended.inc(outcome)
        if isinstance(result, DomainError):
            return replace(read, held=held, error=result)
        if result is None or not none_match(conditions.if_none_match, result.etag):
            return replace(read, held=held)  # unchanged: 304
        return Read(result, not_modified=False, held=held)

    def _wake(self, key: str, outcome: Outcome) -> None:
        task = asyncio.get_running_loop().create_task(self._reread(key, outcome))
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        if outcome == "changed":
            self._rereads[key] = task
            task.add_done_callback(lambda _: self._forget_reread(key, task))

    def _forget_reread(self, key: str, task: asyncio.Task) -> None:
        if self._rereads.get(key) is task:
            del self._rereads[key]

    async def _reread(self, key: str, outcome: Outcome) -> "Representation | DomainError | None":
        """Read `key` once for everyone watching it; answer those whose version it is not."""
        watch = self._watches.get(key)
        if watch is None:
            return None
        result: Representation | DomainError
        try:
            # After a change, a read already in flight started after it (changed() dropped
            # older ones): share it. After losing the listener, read afresh, within a bound.
            if outcome == "lost":
                reading = self._load(key, watch.load, fresh=True)
                result = await asyncio.wait_for(reading, LOST_REREAD_SECONDS)
            else:
                result = await self._load(key, watch.load, fresh=False)
        except TimeoutError:
            result = DatabaseUnavailable(
                "The database did not answer in time.",
                reason="unreachable",
                retry_after=self._retry_after,
            )
        except DomainError as error:  # unreachable, or gone (deleted by hand)
            result = error
        except Exception:  # e.g. the pool closing at shutdown: still, nobody is left waiting
            log.exception(f"reading {key} for its watches failed")
            result = DatabaseUnavailable(
                "The database could not be read.", reason="unreachable", retry_after=self._retry_after
            )
        self._answer(key, watch, outcome, result)
        return result

    def _answer(
        self, key: str, watch: _Watch, outcome: Outcome, result: Representation | DomainError
    ) -> None:
        """Answer the watches of `key` that `result` ends (after a change: those whose version
        it is not), and forget them, so that a later change need not read for them."""
        ends: dict[str, bool] = {}  # by If-None-Match: thousands of watches send the same one
        for future, if_none_match in list(watch.waiters.items()):
            if if_none_match not in ends:
                ends[if_none_match] = (
                    outcome != "changed"
                    or isinstance(result, DomainError)
                    or none_match(if_none_match, result.etag)
                )
            if ends[if_none_match]:
                _settle(future, (outcome, result))
                del watch.waiters[future]
        if not watch.waiters and self._watches.get(key) is watch:
            del self._watches[key]
