"""The read model: each worker answers GETs by id from memory while it knows them current.

Runtimes mostly read, and mostly the same representations. The bus hands each Get here with
its Delivery; the listener (read_model/listener.py) reports PostgreSQL's change notifications
(`changed`) and whether it is listening; the bus reports its own commits (`written`) before
it answers. The memory and its currency rules are read_model/cache.py, held requests read_model/watches.py.
A key changed stands for the views of it too (keys.views_of: an application's key, for the
application with its configurations), which no trigger names.
"""

import time
from collections.abc import Callable

from config_service.access.visibility import check_visible
from config_service.keys import EVERYTHING, views_of
from config_service.messages import Delivery
from config_service.read_model.cache import ReadCache
from config_service.read_model.watches import Watches
from config_service.reads import Load, Read
from config_service.telemetry.catalogue import ServiceMetrics


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
        self._cache = ReadCache(max_bytes=max_bytes, metrics=metrics, clock=clock)
        self._watches = Watches(
            self._cache,
            max_wait=max_wait,
            max_waiters=max_waiters,
            retry_after=retry_after,
            metrics=metrics,
            clock=clock,
        )

    @property
    def size(self) -> tuple[int, int]:
        """(entries, bytes) kept in memory."""
        return self._cache.size

    @property
    def held(self) -> int:
        return self._watches.held

    @property
    def listening(self) -> bool:
        return self._cache.listening

    async def read(self, key: str, delivery: Delivery, load: Load) -> Read:
        """Answer a read of `key` from memory when current, else with `load` (PostgreSQL)."""
        conditions = delivery.conditions
        if conditions.wait > 0 and conditions.if_none_match is not None:
            read = await self._watches.watch(key, delivery, load)
        else:
            read = await self._cache.read(key, conditions, load)
        # After the read, from memory or not, and before If-None-Match's 304: out of scope
        # is the 404 of a missing id. (Watches check before holding and when they wake.)
        check_visible(key, read.representation, delivery.caller)
        return read

    def changed(self, key: str) -> None:
        """PostgreSQL says the representation named `key` changed (or may have): stop serving
        it as current, and read it once for the requests watching it."""
        if key == EVERYTHING:
            for each in self._cache.keys() | self._watches.keys():
                self.changed(each)
            return
        for each in (key, *views_of(key)):
            self._cache.written(each)
            self._watches.wake(each, "changed")

    def written(self, key: str) -> None:
        """This worker committed a change of `key`: stop serving it as current before answering.
        (Its watches wait for PostgreSQL's notification of that commit: one read, not two.)"""
        for each in (key, *views_of(key)):
            self._cache.written(each)

    def listening_started(self) -> None:
        """Changes are being heard (again): from now on, what is read may be kept as current."""
        self._cache.listening_started()

    def listening_lost(self) -> None:
        """Changes can no longer be heard: nothing in memory is current any more."""
        self._cache.listening_lost()
        self._watches.lose_all()

    def end_watches(self) -> None:
        """Shutting down: answer every held request now (304) and hold no more."""
        self._watches.end()

    async def close(self) -> None:
        await self._watches.close()
