"""Watches on their own, over a ReadCache, with plain async loaders standing in for PostgreSQL.

read_model_test.py covers watches through ReadModel; these drive `wake` directly.
"""

import asyncio

from config_service.messages import Delivery
from config_service.read_model.cache import ReadCache
from config_service.read_model.watches import Watches
from config_service.reads import ReadConditions
from config_service.representation import Representation
from config_service.telemetry.ignored import ignored_metrics

KEY = "thing:a"


class Source:
    """A version per key; counts loads."""

    def __init__(self):
        self.version = 0
        self.loads = 0

    async def load(self) -> Representation:
        self.loads += 1
        return Representation("a", b'{"v": %d}' % self.version, "team-a")


def new_watches(listening: bool = True, max_waiters: int = 100) -> tuple[ReadCache, Watches]:
    metrics = ignored_metrics()
    cache = ReadCache(max_bytes=1 << 20, metrics=metrics, clock=lambda: 0.0)
    if listening:
        cache.listening_started()
    watches = Watches(
        cache,
        max_wait=30,
        max_waiters=max_waiters,
        retry_after=1,
        metrics=metrics,
        clock=lambda: 0.0,
    )
    return cache, watches


def delivery(etag: str, wait: int, on_held=lambda held: None, client_gone=None) -> Delivery:
    conditions = ReadConditions(if_none_match=etag, wait=wait)
    return Delivery(conditions, client_gone=client_gone, on_held=on_held)


async def until(condition) -> None:
    async with asyncio.timeout(5):
        while not condition():
            await asyncio.sleep(0)


def test_a_change_answers_every_held_request_with_one_load():
    source = Source()
    cache, watches = new_watches()

    async def scenario():
        etag = (await source.load()).etag
        waiters = [
            asyncio.ensure_future(watches.watch(KEY, delivery(etag, 20), source.load))
            for _ in range(5)
        ]
        await until(lambda: watches.held == 5)
        await asyncio.sleep(0)
        assert not any(waiter.done() for waiter in waiters)
        loads = source.loads
        source.version = 1
        cache.written(KEY)
        watches.wake(KEY, "changed")
        async with asyncio.timeout(5):
            reads = await asyncio.gather(*waiters)
        return reads, source.loads - loads

    reads, loads_for_the_change = asyncio.run(scenario())
    assert loads_for_the_change == 1
    assert {(r.representation.body, r.not_modified, r.held.outcome) for r in reads} == {
        (b'{"v": 1}', False, "changed")
    }
    assert watches.held == 0 and watches.keys() == set()


def test_a_timeout_answers_not_modified_with_the_timeout_outcome():
    source = Source()
    _, watches = new_watches()
    told = []

    async def scenario():
        etag = (await source.load()).etag
        async with asyncio.timeout(5):
            return await watches.watch(KEY, delivery(etag, 1, on_held=told.append), source.load)

    read = asyncio.run(scenario())
    assert read.not_modified and read.held.outcome == "timeout" and read.held.waited == 1
    assert told == [read.held]


def test_a_client_gone_ends_its_hold_at_once():
    source = Source()
    _, watches = new_watches()

    async def scenario():
        etag = (await source.load()).etag
        gone = asyncio.get_running_loop().create_future()
        held = asyncio.ensure_future(
            watches.watch(KEY, delivery(etag, 20, client_gone=gone), source.load)
        )
        await until(lambda: watches.held == 1)
        gone.set_result(None)
        async with asyncio.timeout(5):
            return await held

    assert asyncio.run(scenario()).held.outcome == "gone"


def test_when_not_listening_an_unchanged_watch_is_shed_with_wait_zero():
    source = Source()
    _, watches = new_watches(listening=False)

    async def scenario():
        etag = (await source.load()).etag
        async with asyncio.timeout(5):
            return await watches.watch(KEY, delivery(etag, 20), source.load)

    read = asyncio.run(scenario())
    assert read.not_modified and (read.held.outcome, read.held.waited) == ("shed", 0)
    assert watches.held == 0


def test_wake_of_an_unwatched_key_loads_nothing():
    source = Source()
    _, watches = new_watches()

    async def scenario():
        watches.wake(KEY, "changed")
        await asyncio.sleep(0)
        await watches.close()

    asyncio.run(scenario())
    assert source.loads == 0
