"""The read model's rules, on the event loop with loaders standing in for PostgreSQL.

What is under test is memory, ordering and waiting, not SQL: each loader is an async function
that counts its calls and can be held open, so a read can race with a change. The same rules
against the real PostgreSQL and real workers are in test/read_consistency_test.py and
test/watch_test.py.
"""

import asyncio
import time

import pytest

from config_service import keys
from config_service.access.scope import ApplicationScope
from config_service.access.tokens import ANONYMOUS, Caller
from config_service.errors import DatabaseUnavailable, NotFound
from config_service.messages import Delivery
from config_service.read_model.cache import ENTRY_OVERHEAD
from config_service.read_model.model import ReadModel
from config_service.reads import Held, ReadConditions
from config_service.representation import Representation
from config_service.telemetry.ignored import ignored_metrics


class Store:
    """What the loaders read: a version per id; reads can be held open with `gate`."""

    def __init__(self):
        self.versions: dict[str, int] = {}
        self.names: dict[str, str] = {}  # the application name that decides scope
        self.reads = 0
        self.gate: asyncio.Event | None = None
        self.down = False

    def load(self, thing_id: str):
        async def load() -> Representation:
            self.reads += 1
            version = self.versions.get(thing_id, 0)  # what the SELECT saw, at its start
            if self.gate is not None:
                await self.gate.wait()
            if self.down:
                raise DatabaseUnavailable("down", reason="unreachable", retry_after=1)
            name = self.names.get(thing_id, "team-a")
            return Representation(thing_id, b'{"v": %d}' % version + b" " * 100, name)

        return load


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def new_model(clock=None, **overrides) -> ReadModel:
    options = {
        "max_bytes": 1 << 20,
        "max_wait": 10,
        "max_waiters": 100,
        "retry_after": 3,
        "metrics": ignored_metrics(),
    }
    model = ReadModel(**{**options, **overrides}, clock=clock or Clock())
    model.listening_started()
    return model


def get(
    model: ReadModel, store: Store, thing_id: str, on_held=None, caller=ANONYMOUS, **conditions
):
    ignore = on_held or (lambda held: None)
    delivery = Delivery(ReadConditions(**conditions), on_held=ignore, caller=caller)
    return model.read(f"thing:{thing_id}", delivery, store.load(thing_id))


def body_version(read) -> int:
    return int(read.representation.body.split()[1].rstrip(b"}"))


def run(scenario):
    return asyncio.run(scenario())


async def started(store: Store, reads: int = 1) -> None:
    """Until `reads` loads have begun (each runs in a task of its own)."""
    while store.reads < reads:
        await asyncio.sleep(0)


def test_a_representation_read_once_is_answered_from_memory():
    store, model = Store(), new_model()

    async def scenario():
        first = await get(model, store, "a")
        second = await get(model, store, "a")
        return first, second

    first, second = run(scenario)
    assert store.reads == 1
    assert second.representation == first.representation and not second.not_modified


def test_if_none_match_naming_the_current_etag_is_not_modified():
    store, model = Store(), new_model()

    async def scenario():
        etag = (await get(model, store, "a")).representation.etag
        return await get(model, store, "a", if_none_match=etag)

    assert run(scenario).not_modified


def test_a_change_drops_only_its_key():
    store, model = Store(), new_model()

    async def scenario():
        await get(model, store, "a")
        await get(model, store, "b")
        store.versions["a"] = 1
        model.changed("thing:a")
        return await get(model, store, "a"), await get(model, store, "b")

    a, b = run(scenario)
    assert (body_version(a), body_version(b)) == (1, 0)
    assert store.reads == 3  # a twice, b once: b stayed in memory


def test_a_change_of_everything_drops_every_key():
    store, model = Store(), new_model()

    async def scenario():
        for thing_id in ("a", "b"):
            await get(model, store, thing_id)
        model.changed("*")  # a TRUNCATE
        for thing_id in ("a", "b"):
            await get(model, store, thing_id)

    run(scenario)
    assert store.reads == 4


def test_a_change_of_an_application_drops_and_wakes_its_view_with_its_configurations():
    """keys.views_of: no trigger names `application+configurations:A`; the notification of
    `application:A` (or this worker's own write of it) stands for it."""
    store, model = Store(), new_model()
    view = keys.application_configurations("A")

    def read_view(**conditions):
        delivery = Delivery(ReadConditions(**conditions))
        return model.read(view, delivery, store.load("A"))

    async def scenario():
        etag = (await read_view()).representation.etag
        await read_view()  # from memory
        store.versions["A"] = 1
        model.written(keys.application("A"))
        after_write = await read_view()
        waiters = [
            asyncio.ensure_future(read_view(if_none_match=after_write.representation.etag, wait=5))
            for _ in range(3)
        ]
        await asyncio.sleep(0.01)
        reads = store.reads
        store.versions["A"] = 2
        model.changed(keys.configuration("C"))  # a configuration's own key alone: not the view
        await asyncio.sleep(0.01)
        assert not any(waiter.done() for waiter in waiters)
        model.changed(keys.application("A"))
        woken = await asyncio.gather(*waiters)
        return etag, after_write, woken, store.reads - reads

    etag, after_write, woken, reads_for_the_wake = run(scenario)
    assert body_version(after_write) == 1 and after_write.representation.etag != etag
    assert {(body_version(read), read.held.outcome) for read in woken} == {(2, "changed")}
    assert reads_for_the_wake == 1
    assert store.reads == 3  # the first read, the one after the write, the wake's


def test_with_memory_off_every_get_reads_for_itself():
    store, model = Store(), new_model(max_bytes=0)

    async def scenario():
        store.gate = asyncio.Event()
        first = asyncio.ensure_future(get(model, store, "a"))
        await started(store)
        second = asyncio.ensure_future(get(model, store, "a"))  # came after: no sharing
        await started(store, reads=2)
        store.gate.set()
        await asyncio.gather(first, second)

    run(scenario)
    assert store.reads == 2


def test_no_cache_reads_postgresql_and_keeps_the_result():
    store, model = Store(), new_model()

    async def scenario():
        await get(model, store, "a")
        store.versions["a"] = 1  # changed without a notification (yet)
        fresh = await get(model, store, "a", no_cache=True)
        return fresh, await get(model, store, "a")

    fresh, after = run(scenario)
    assert body_version(fresh) == body_version(after) == 1
    assert store.reads == 2


def test_a_read_that_raced_with_a_change_is_answered_but_not_kept():
    store, model = Store(), new_model()

    async def scenario():
        store.gate = asyncio.Event()
        racing = asyncio.ensure_future(get(model, store, "a"))
        await started(store)  # the read has begun: it saw version 0
        store.versions["a"] = 1
        model.changed("thing:a")  # the change's notification arrives while it is in flight
        store.gate.set()
        old = await racing
        return old, await get(model, store, "a")

    old, next_read = run(scenario)
    assert (body_version(old), body_version(next_read)) == (0, 1)
    assert store.reads == 2


def test_concurrent_misses_share_one_read():
    store, model = Store(), new_model()

    async def scenario():
        store.gate = asyncio.Event()
        reads = [asyncio.ensure_future(get(model, store, "a")) for _ in range(50)]
        await started(store)
        await asyncio.sleep(0.01)  # every request is waiting now
        store.gate.set()
        return await asyncio.gather(*reads)

    reads = run(scenario)
    assert store.reads == 1
    assert len({read.representation for read in reads}) == 1


def test_nothing_is_current_while_not_listening_and_nothing_read_then_is_kept():
    store, model = Store(), new_model()

    async def scenario():
        await get(model, store, "a")
        model.listening_lost()
        await get(model, store, "a")  # from PostgreSQL
        await get(model, store, "a")  # again: nothing was kept meanwhile
        model.listening_started()
        await get(model, store, "a")
        await get(model, store, "a")  # memory again

    run(scenario)
    assert store.reads == 4


def test_a_read_started_before_listening_resumed_is_not_kept():
    store, model = Store(), new_model()

    async def scenario():
        model.listening_lost()
        store.gate = asyncio.Event()
        unheard = asyncio.ensure_future(get(model, store, "a"))
        await started(store)
        model.listening_started()  # a change may have landed before anyone listened
        store.gate.set()
        await unheard
        store.gate = None
        await get(model, store, "a")

    run(scenario)
    assert store.reads == 2


def test_memory_is_bounded_and_least_recently_used_goes_first():
    store = Store()
    entry = len(b'{"v": 0}' + b" " * 100) + ENTRY_OVERHEAD  # what each representation costs
    model = new_model(max_bytes=3 * entry)

    async def scenario():
        for thing_id in ("a", "b", "c"):
            await get(model, store, thing_id)
        await get(model, store, "a")  # a is now the most recently used
        await get(model, store, "d")  # evicts b
        reads = store.reads
        await get(model, store, "a")
        await get(model, store, "c")
        assert store.reads == reads  # a and c from memory
        await get(model, store, "b")
        assert store.reads == reads + 1

    run(scenario)
    entries, size = model.size
    assert size <= 3 * entry and entries == 3


def test_zero_bytes_keeps_nothing():
    store, model = Store(), new_model(max_bytes=0)

    async def scenario():
        for _ in range(3):
            await get(model, store, "a")

    run(scenario)
    assert store.reads == 3 and model.size == (0, 0)


def test_stale_if_error_answers_the_last_known_version_with_its_age():
    store, clock = Store(), Clock()
    model = new_model(clock)

    async def scenario():
        await get(model, store, "a")
        model.listening_lost()  # PostgreSQL went away: the listener noticed first
        store.down = True
        clock.now += 5
        stale = await get(model, store, "a", stale_if_error=300)
        with pytest.raises(DatabaseUnavailable):
            await get(model, store, "a")  # without the directive
        with pytest.raises(DatabaseUnavailable):
            await get(model, store, "a", stale_if_error=4)  # known current 5 s ago
        with pytest.raises(DatabaseUnavailable):
            await get(model, store, "never-read", stale_if_error=300)
        return stale

    stale = run(scenario)
    assert (body_version(stale), stale.age) == (0, 5)


# --- watches ---------------------------------------------------------------------------------


def watch(model, store, thing_id, etag, wait=5, caller=ANONYMOUS):
    return get(model, store, thing_id, if_none_match=etag, wait=wait, caller=caller)


def test_a_watch_is_held_until_a_change_and_one_read_answers_every_waiter():
    store, model = Store(), new_model()

    async def scenario():
        etag = (await get(model, store, "a")).representation.etag
        waiters = [asyncio.ensure_future(watch(model, store, "a", etag)) for _ in range(20)]
        await asyncio.sleep(0.01)
        assert model.held == 20 and not any(w.done() for w in waiters)
        reads = store.reads
        store.versions["a"] = 1
        model.changed("thing:a")
        results = await asyncio.gather(*waiters)
        return results, store.reads - reads

    results, reads_for_the_wake = run(scenario)
    assert reads_for_the_wake == 1
    assert {(body_version(r), r.not_modified, r.held.outcome) for r in results} == {
        (1, False, "changed")
    }


def test_a_write_of_this_worker_leaves_waking_to_the_notification_that_follows():
    store, model = Store(), new_model()

    async def scenario():
        etag = (await get(model, store, "a")).representation.etag
        waiters = [asyncio.ensure_future(watch(model, store, "a", etag)) for _ in range(3)]
        await asyncio.sleep(0.01)
        reads = store.reads
        store.versions["a"] = 1
        model.written("thing:a")  # the bus, right after its commit
        await asyncio.sleep(0.01)
        assert store.reads == reads and not any(w.done() for w in waiters)
        assert body_version(await get(model, store, "a")) == 1  # but memory no longer serves it
        model.changed("thing:a")  # PostgreSQL's notification of that commit
        await asyncio.gather(*waiters)
        model.changed("thing:a")  # a late duplicate: nobody waits any more, nothing to read
        await asyncio.sleep(0.01)
        return store.reads - reads

    assert run(scenario) == 2  # the GET above, and one read for all three watches


def test_a_change_that_leaves_the_representation_equal_keeps_the_watch():
    store, model = Store(), new_model()

    async def scenario():
        etag = (await get(model, store, "a")).representation.etag
        waiter = asyncio.ensure_future(watch(model, store, "a", etag, wait=1))
        await asyncio.sleep(0.01)
        model.changed("thing:a")  # notified, but the version is the same
        await asyncio.sleep(0.05)
        assert not waiter.done()
        return await waiter

    read = run(scenario)
    assert (read.not_modified, read.held.outcome, read.held.waited) == (True, "timeout", 1)


def test_a_watch_on_an_old_etag_is_answered_at_once():
    store, model = Store(), new_model()

    async def scenario():
        return await watch(model, store, "a", '"old"')

    read = run(scenario)
    assert (read.not_modified, read.held) == (False, None)


def test_past_max_waiters_a_watch_is_shed_with_a_304():
    store, model = Store(), new_model(max_waiters=2)

    async def scenario():
        etag = (await get(model, store, "a")).representation.etag
        held = [asyncio.ensure_future(watch(model, store, "a", etag)) for _ in range(2)]
        await asyncio.sleep(0.01)
        shed = await watch(model, store, "a", etag)
        model.end_watches()
        await asyncio.gather(*held)
        return shed

    shed = run(scenario)
    assert (shed.not_modified, shed.held.outcome, shed.held.waited) == (True, "shed", 0)


def test_losing_the_listener_answers_every_watch_with_a_fresh_read():
    store, model = Store(), new_model()

    async def scenario():
        etags = {t: (await get(model, store, t)).representation.etag for t in ("a", "b")}
        a = asyncio.ensure_future(watch(model, store, "a", etags["a"]))
        b = asyncio.ensure_future(watch(model, store, "b", etags["b"]))
        await asyncio.sleep(0.01)
        store.versions["b"] = 1  # changed while nobody could hear it
        model.listening_lost()
        return await a, await b, await watch(model, store, "a", etags["a"])

    a, b, not_held = run(scenario)
    assert (a.not_modified, a.held.outcome) == (True, "lost")
    assert (body_version(b), b.not_modified, b.held.outcome) == (1, False, "lost")
    # Nothing would end a wait now: answered at once, wait=0.
    assert (not_held.not_modified, not_held.held) == (True, Held("shed", 0.0, waited=0))


def test_losing_the_listener_with_postgresql_down_answers_with_its_error():
    store, model = Store(), new_model()

    async def scenario():
        etag = (await get(model, store, "a")).representation.etag
        waiters = [
            asyncio.ensure_future(get(model, store, "a", held.append, if_none_match=etag, wait=5))
            for _ in range(2)
        ]
        await asyncio.sleep(0.01)
        store.down = True
        model.listening_lost()
        return await asyncio.gather(*waiters, return_exceptions=True)

    held = []
    errors = run(scenario)
    # One read failed for both: each raises the error, and each is told how its wait ended.
    assert all(isinstance(error, DatabaseUnavailable) for error in errors)
    assert [each.outcome for each in held] == ["lost", "lost"]


def test_ending_watches_answers_them_unchanged_and_holds_no_more():
    store, model = Store(), new_model()

    async def scenario():
        etag = (await get(model, store, "a")).representation.etag
        waiter = asyncio.ensure_future(watch(model, store, "a", etag))
        await asyncio.sleep(0.01)
        model.end_watches()
        return await waiter, await watch(model, store, "a", etag)

    ended, after = run(scenario)
    assert (ended.not_modified, ended.held.outcome) == (True, "shutdown")
    assert (after.not_modified, after.held) == (True, Held("shed", 0.0, waited=0))


def test_the_wait_is_capped_and_jittered_down():
    store, model = Store(), new_model(time.monotonic, max_wait=1)

    async def scenario():
        etag = (await get(model, store, "a")).representation.etag
        return await asyncio.gather(*(watch(model, store, "a", etag, wait=60) for _ in range(5)))

    reads = run(scenario)
    assert {read.held.waited for read in reads} == {1}
    assert all(0.85 <= read.held.seconds <= 1.5 for read in reads)
    assert model.held == 0


TEAM_A = Caller("team-a", "read", ApplicationScope.of(["team-a*"]))


def test_out_of_scope_is_not_found_from_memory_and_from_postgresql_and_never_held():
    store, model = Store(), new_model()
    store.names["a"] = "team-b"

    async def scenario():
        etag = (await get(model, store, "a")).representation.etag  # now in memory
        reads = store.reads
        for conditions in ({}, {"no_cache": True}, {"if_none_match": "*"}):
            with pytest.raises(NotFound, match="No thing has id a."):
                await get(model, store, "a", caller=TEAM_A, **conditions)
        with pytest.raises(NotFound):
            await watch(model, store, "a", etag, caller=TEAM_A)
        assert model.held == 0
        return store.reads - reads

    assert run(scenario) == 1  # only no-cache read PostgreSQL


def test_a_rename_out_of_scope_ends_the_watches_it_leaves_and_keeps_the_others():
    store, model = Store(), new_model()

    async def scenario():
        etag = (await get(model, store, "a")).representation.etag
        scoped = asyncio.ensure_future(watch(model, store, "a", etag, caller=TEAM_A))
        unscoped = asyncio.ensure_future(watch(model, store, "a", etag, wait=1))
        await asyncio.sleep(0.01)
        assert model.held == 2
        store.names["a"] = "team-b"  # renamed: the same bytes, another application name
        model.changed("thing:a")
        with pytest.raises(NotFound):
            await asyncio.wait_for(scoped, 1)
        assert not unscoped.done()
        return await unscoped

    read = run(scenario)
    assert (read.not_modified, read.held.outcome) == (True, "timeout")
