"""ReadCache on its own: plain async loaders and a fake clock stand in for PostgreSQL and time.

The read model's behaviour through ReadModel is in read_model_test.py; these check the
cache's own bookkeeping: sizes, currency and which reads are kept.
"""

import asyncio

import pytest

from config_service.errors import DatabaseUnavailable
from config_service.read_model.cache import COMPRESS_OFF_LOOP_BYTES, ENTRY_OVERHEAD, ReadCache
from config_service.reads import ReadConditions
from config_service.representation import GZIP_MIN_BYTES, Representation
from config_service.telemetry.ignored import ignored_metrics

PLAIN = ReadConditions()


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Loads:
    """Loaders that count their calls; `gate`, when set, holds each read open until set."""

    def __init__(self):
        self.calls = 0
        self.gate: asyncio.Event | None = None

    def of(self, body: bytes):
        async def load() -> Representation:
            self.calls += 1
            if self.gate is not None:
                await self.gate.wait()
            return Representation("id", body)

        return load


async def unavailable() -> Representation:
    raise DatabaseUnavailable("down", reason="unreachable", retry_after=1)


def new_cache(max_bytes: int = 1 << 20, clock=None) -> ReadCache:
    cache = ReadCache(max_bytes=max_bytes, metrics=ignored_metrics(), clock=clock or Clock())
    cache.listening_started()
    return cache


async def until(condition) -> None:
    """Let other tasks run until `condition()` holds; bounded, so a hang fails."""
    async with asyncio.timeout(5):
        while not condition():
            await asyncio.sleep(0)


def test_size_counts_bodies_and_overhead_and_an_oversized_body_is_not_kept():
    loads = Loads()
    cache = new_cache(max_bytes=2 * (10 + ENTRY_OVERHEAD))

    async def scenario():
        await cache.read("k:a", PLAIN, loads.of(b"a" * 10))
        await cache.read("k:b", PLAIN, loads.of(b"b" * 10))
        assert cache.size == (2, 2 * (10 + ENTRY_OVERHEAD))
        await cache.read("k:huge", PLAIN, loads.of(b"h" * (3 * ENTRY_OVERHEAD)))
        assert cache.size == (2, 2 * (10 + ENTRY_OVERHEAD))  # too big: the others stay
        await cache.read("k:a", PLAIN, loads.of(b"a" * 10))
        await cache.read("k:b", PLAIN, loads.of(b"b" * 10))

    asyncio.run(scenario())
    assert loads.calls == 3
    assert cache.keys() == {"k:a", "k:b"}


@pytest.mark.parametrize("size", [GZIP_MIN_BYTES, COMPRESS_OFF_LOOP_BYTES])
def test_a_large_body_is_gzipped_as_it_is_kept_and_counted_with_it(size):
    """Compressed once per version, not per request: every later read answers those bytes."""
    body = b'{"k":"' + b"x" * (size - 8) + b'"}'
    cache = new_cache()

    async def scenario():
        first = await cache.read("k:a", PLAIN, Loads().of(body))
        assert first.representation._gzipped is first.representation.gzipped  # made already
        again = await cache.read("k:a", PLAIN, Loads().of(b"{}"))
        assert again.representation is first.representation
        return first.representation.gzipped

    gzipped = asyncio.run(scenario())
    assert gzipped is not None and len(gzipped) < len(body)
    assert cache.size == (1, len(body) + len(gzipped) + ENTRY_OVERHEAD)


def test_lru_evicts_by_bytes_the_least_recently_read():
    loads = Loads()
    cache = new_cache(max_bytes=3 * (10 + ENTRY_OVERHEAD))

    async def scenario():
        for key in ("k:a", "k:b"):
            await cache.read(key, PLAIN, loads.of(b"x" * 10))
        await cache.read("k:a", PLAIN, loads.of(b"x" * 10))  # a now most recent
        # One body worth two small entries: b must go, a stays.
        await cache.read("k:c", PLAIN, loads.of(b"x" * (20 + ENTRY_OVERHEAD)))

    asyncio.run(scenario())
    assert cache.keys() == {"k:a", "k:c"}
    assert cache.size == (2, 3 * (10 + ENTRY_OVERHEAD))


def test_a_written_key_stops_being_current_but_the_entry_remains():
    loads = Loads()
    cache = new_cache()

    async def scenario():
        await cache.read("k:a", PLAIN, loads.of(b"old"))
        cache.written("k:a")
        assert "k:a" in cache.keys()  # still there, for stale-if-error
        read = await cache.read("k:a", PLAIN, loads.of(b"new"))
        again = await cache.read("k:a", PLAIN, loads.of(b"other"))
        return read, again

    read, again = asyncio.run(scenario())
    assert read.representation.body == again.representation.body == b"new"
    assert loads.calls == 2


def test_a_read_in_flight_superseded_by_a_change_is_answered_but_not_kept():
    loads = Loads()
    cache = new_cache()

    async def scenario():
        loads.gate = asyncio.Event()
        racing = asyncio.ensure_future(cache.read("k:a", PLAIN, loads.of(b"old")))
        await until(lambda: loads.calls == 1)
        cache.written("k:a")
        loads.gate.set()
        old = await racing
        assert cache.size == (0, 0)
        loads.gate = None
        return old, await cache.read("k:a", PLAIN, loads.of(b"new"))

    old, new = asyncio.run(scenario())
    assert (old.representation.body, new.representation.body) == (b"old", b"new")
    assert loads.calls == 2


def test_a_fresh_load_supersedes_the_one_in_flight_and_only_it_is_kept():
    loads = Loads()
    cache = new_cache()

    async def scenario():
        loads.gate = asyncio.Event()
        older = asyncio.ensure_future(cache.load("k:a", loads.of(b"older"), fresh=False))
        await until(lambda: loads.calls == 1)
        newer = asyncio.ensure_future(cache.load("k:a", loads.of(b"newer"), fresh=True))
        await until(lambda: loads.calls == 2)
        loads.gate.set()
        await asyncio.gather(older, newer)
        loads.gate = None
        return await cache.read("k:a", PLAIN, loads.of(b"unused"))

    read = asyncio.run(scenario())
    assert read.representation.body == b"newer" and loads.calls == 2


def test_a_stale_copy_answers_only_within_its_max_age():
    loads, clock = Loads(), Clock()
    cache = new_cache(clock=clock)

    async def scenario():
        await cache.read("k:a", PLAIN, loads.of(b"kept"))
        current = await cache.read(
            "k:a", ReadConditions(no_cache=True, stale_if_error=0), unavailable
        )
        cache.written("k:a")
        clock.now += 10
        stale = await cache.read("k:a", ReadConditions(stale_if_error=10), unavailable)
        with pytest.raises(DatabaseUnavailable):
            await cache.read("k:a", ReadConditions(stale_if_error=9), unavailable)
        return current, stale

    current, stale = asyncio.run(scenario())
    assert (current.representation.body, current.age) == (b"kept", 0)
    assert (stale.representation.body, stale.age) == (b"kept", 10)


def test_a_rollouts_candidate_is_counted_and_each_client_gets_its_view():
    asyncio.run(_candidate_scenario())


async def _candidate_scenario() -> None:
    from config_service.representation import Rollout, in_cohort

    candidate = Representation("c", b"x" * 7, revision=2, rollout=Rollout(50, 2))
    current = Representation("c", b"y" * 10, revision=1, rollout=Rollout(50, 2, candidate))

    async def load() -> Representation:
        return current

    cache = new_cache()
    inside = next(f"k{n}" for n in range(100) if in_cohort("c", f"k{n}", 50))
    outside = next(f"k{n}" for n in range(100) if not in_cohort("c", f"k{n}", 50))
    assert (await cache.read("c", ReadConditions(client=inside), load)).representation is candidate
    assert cache.size == (1, 10 + 7 + 2 * ENTRY_OVERHEAD)
    from_memory = await cache.read("c", ReadConditions(client=outside), load)
    assert from_memory.representation is current
    etag = candidate.etag
    assert (
        await cache.read("c", ReadConditions(if_none_match=etag, client=inside), load)
    ).not_modified


def test_a_views_running_rollouts_are_counted_with_it():
    from config_service.representation import ItemRollout

    item = ItemRollout("c", 50, current=b"a" * 30, candidate=b"b" * 40)
    view = Representation("app", b"[" + b"a" * 30 + b"]", item_rollouts=(item,))

    async def load() -> Representation:
        return view

    cache = new_cache()
    asyncio.run(cache.read("app", ReadConditions(), load))
    assert cache.size == (1, 32 + 30 + 40 + ENTRY_OVERHEAD)
