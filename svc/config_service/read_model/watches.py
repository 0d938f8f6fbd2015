"""Watches: GETs with If-None-Match and `Prefer: wait`, held until the representation changes.

A held request costs a future, no thread and no connection. However many wait on a key, a
change costs one read (`wake`), which answers every waiter whose version it is not; the rest
wait on. Losing the listener or shutting down answers them all, since nothing would end
their waits.
"""

import asyncio
import logging
import math
import random
from collections.abc import Callable
from functools import partial

from config_service.access.scope import ApplicationScope
from config_service.access.visibility import check_visible
from config_service.errors import DATABASE_NO_ANSWER, DatabaseUnavailable, DomainError
from config_service.messages import Delivery
from config_service.read_model.cache import ReadCache
from config_service.reads import Held, Load, Outcome, Read
from config_service.representation import Representation, none_match
from config_service.telemetry.catalogue import ServiceMetrics

log = logging.getLogger(__name__)

# When listening is lost, every held request is answered within this many seconds.
LOST_REREAD_SECONDS = 2.0
# A held request whose wait ends while a change of its key is being read waits this long more
# for that read, so it answers the change rather than 304 against the version it had.
REREAD_WAIT_SECONDS = 2.0
# Held requests that started together end up to this fraction early, so they spread out.
WAIT_JITTER = 0.1

type Result = Representation | DomainError | None  # None: nothing was read (timeout, ...)


class _Watch:
    """The requests held on one key, each with the If-None-Match it was sent with, its
    caller's scope (a rename may move the representation out of it) and its Config-Client
    (which decides whether a rollout's candidate is its view)."""

    __slots__ = ("load", "waiters")

    def __init__(self, load: Load):
        self.load = load
        self.waiters: dict[
            asyncio.Future[tuple[Outcome, Result]], tuple[str, ApplicationScope, str | None]
        ] = {}


def _settle(future: asyncio.Future, outcome: Outcome, result: Result = None) -> None:
    if not future.done():
        future.set_result((outcome, result))


class Watches:
    def __init__(
        self,
        cache: ReadCache,
        *,
        max_wait: int,
        max_waiters: int,
        retry_after: int,
        metrics: ServiceMetrics,
        clock: Callable[[], float],
    ):
        self._cache = cache
        self._max_wait = max_wait
        self._max_waiters = max_waiters
        # DatabaseUnavailable, telling clients to retry after RETRY_AFTER seconds.
        self._unavailable = partial(DatabaseUnavailable, retry_after=retry_after)
        self._metrics = metrics
        self._clock = clock
        self._watches: dict[str, _Watch] = {}
        self._background: set[asyncio.Task] = set()
        self._rereads: dict[str, asyncio.Task[Result]] = {}  # key -> the read of its change
        self.held = 0
        self._closing = False

    def keys(self) -> set[str]:
        return set(self._watches)

    async def watch(self, key: str, delivery: Delivery, load: Load) -> Read:
        """Answer at once if the representation differs from If-None-Match, else hold."""
        conditions = delivery.conditions
        # Not held when nothing would end the wait (shutting down, or changes unheard), or
        # when this worker holds all it may: answered at once, with wait=0 to say so, so that
        # runtimes wait a little before they ask again rather than at once.
        if self._closing or not self._cache.listening or self.held >= self._max_waiters:
            read = await self._cache.read(key, conditions, load)
            if not read.not_modified:
                return read
            self._metrics.watch_ended.inc("shed")
            held = Held("shed", 0.0, waited=0)
            delivery.on_held(held)
            return Read(read.representation, read.not_modified, read.age, held)
        watch = self._watches.get(key)
        if watch is None:
            watch = self._watches[key] = _Watch(load)
        # Registered before reading, so a change that lands during the read still wakes it.
        future = asyncio.get_running_loop().create_future()
        watch.waiters[future] = (
            conditions.if_none_match or "",
            delivery.caller.scope,
            conditions.client,
        )
        self.held += 1
        # Counted as held, not as in flight: in-flight requests measure load, and a fleet of
        # runtimes may hold thousands that cost nothing (the request log counted it in flight).
        self._metrics.watch_held.add(amount=1)
        self._metrics.http_in_flight.add(amount=-1)
        try:
            read = await self._cache.read(key, conditions, load)
            check_visible(key, read.representation, delivery.caller)  # out of scope: never held
            if not read.not_modified or read.age is not None:
                return read  # already different (or PostgreSQL is down): answer at once
            return await self._hold(key, future, read, delivery)
        finally:
            self.held -= 1
            self._metrics.watch_held.add(amount=-1)
            self._metrics.http_in_flight.add(amount=1)
            watch.waiters.pop(future, None)  # unless an answer removed it already
            if not watch.waiters and self._watches.get(key) is watch:
                del self._watches[key]

    async def _hold(self, key: str, future: asyncio.Future, read: Read, delivery: Delivery) -> Read:
        conditions = delivery.conditions
        delay = min(conditions.wait, self._max_wait) * (1 - WAIT_JITTER * random.random())
        timer = asyncio.get_running_loop().call_later(delay, _settle, future, "timeout")
        if delivery.client_gone is not None:  # nobody to answer: give the place back now
            delivery.client_gone.add_done_callback(lambda _: _settle(future, "gone"))
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
        delivery.on_held(held)
        if isinstance(result, DomainError):
            # One error ends many held requests: each raises it afresh, with a traceback of
            # its own, as awaiting one failed task from many places does.
            raise result.with_traceback(None)
        if result is not None:
            result = result.for_client(conditions.client)  # its view: maybe a candidate
        if result is None or not none_match(conditions.if_none_match, result.etag):
            # Unchanged: 304, unless the same bytes now belong to an application out of scope
            # (renamed): the read model's check then answers 404.
            current = read.representation if result is None else result
            return Read(current, read.not_modified, read.age, held)
        return Read(result, not_modified=False, held=held)

    def wake(self, key: str, outcome: Outcome) -> None:
        """Read `key` once, in the background, for every request held on it."""
        if key not in self._watches:
            return
        task = asyncio.get_running_loop().create_task(self._reread(key, outcome))
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        if outcome == "changed":
            self._rereads[key] = task
            task.add_done_callback(lambda _: self._forget_reread(key, task))

    def _forget_reread(self, key: str, task: asyncio.Task) -> None:
        if self._rereads.get(key) is task:
            del self._rereads[key]

    def lose_all(self) -> None:
        """Changes can no longer be heard: nothing would end these waits now, answer them."""
        for key in list(self._watches):
            self.wake(key, "lost")

    def end(self) -> None:
        """Shutting down: answer every held request now (304) and hold no more."""
        self._closing = True
        for watch in self._watches.values():
            for future in watch.waiters:
                _settle(future, "shutdown")

    async def close(self) -> None:
        for task in list(self._background):
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)

    async def _reread(self, key: str, outcome: Outcome) -> Result:
        """Read `key` once for everyone watching it; answer those whose version it is not."""
        watch = self._watches.get(key)
        if watch is None:
            return None
        result: Representation | DomainError
        try:
            # After a change, a read already in flight started after it (written() dropped
            # older ones): share it. After losing the listener, read afresh, within a bound.
            if outcome == "lost":
                reading = self._cache.load(key, watch.load, fresh=True)
                result = await asyncio.wait_for(reading, LOST_REREAD_SECONDS)
            else:
                result = await self._cache.load(key, watch.load, fresh=False)
        except TimeoutError:
            result = self._unavailable(DATABASE_NO_ANSWER)
        except DomainError as error:  # unreachable, or gone (deleted by hand)
            result = error
        except Exception:  # e.g. the pool closing at shutdown: still, nobody is left waiting
            log.exception(f"reading {key} for its watches failed")
            result = self._unavailable("The database could not be read.")
        self._answer(key, watch, outcome, result)
        return result

    def _answer(
        self, key: str, watch: _Watch, outcome: Outcome, result: Representation | DomainError
    ) -> None:
        """Answer the watches of `key` that `result` ends (after a change: those whose version
        it is not, or whose scope it has left), and forget them, so that a later change need
        not read for them."""
        # By If-None-Match, scope and client: thousands of watches send the same ones (and
        # without a rollout, any client's view is the current version: one comparison).
        ends: dict[tuple[str, ApplicationScope, str | None], bool] = {}
        for future, waiter in list(watch.waiters.items()):
            if waiter not in ends:
                if_none_match, scope, client = waiter
                ends[waiter] = (
                    outcome != "changed"
                    or isinstance(result, DomainError)
                    or none_match(if_none_match, result.for_client(client).etag)
                    or not scope.allows(result.application_name)
                )
            if ends[waiter]:
                _settle(future, outcome, result)
                del watch.waiters[future]
        if not watch.waiters and self._watches.get(key) is watch:
            del self._watches[key]
