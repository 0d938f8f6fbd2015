"""Watch (long-poll) benchmarks: held GETs against floors, propagation, capacity, fan-out.

A watch is `GET /api/v1/configurations/{id}` with `If-None-Match: <current ETag>` and
`Prefer: wait=N`: held until the configuration changes (200, new body) or N seconds pass
(304). Everything here speaks through `rawhttp`, so the floors and the service are timed by
the same client. Memory per held request is the server's RSS growth while they are held,
divided by their number, each round in a fresh process (a process that already held 10,000
keeps that memory, and the next round would look free).
"""

import asyncio
import json
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import replace

from bench import metrics, rawhttp
from bench.floor import BODY
from bench.report import HeldRound, Propagation
from bench.rawhttp import Answer, request_bytes

HELD = 10_000
PROPAGATION_ROUNDS = 200
WAIT_SECONDS = 55  # the longest a held GET may wait (MAX_WAIT_SECONDS); outlasts two wrk runs
HOLD_TIMEOUT = 60  # seconds for 10,000 requests to be seen held
ANSWER_TIMEOUT = 30  # seconds for all of them to be answered after the release
PROPAGATION_TIMEOUT = 1.0  # a held GET not answered this long after the PUT missed it
WARM_UP_HELD = 100  # a small round first, so that code loaded late is not counted as memory

Release = Callable[[], Awaitable[tuple[float, Callable[[Answer], bool]]]]


async def until(check: Callable[[], Awaitable[bool]], timeout: float, interval: float) -> bool:
    """Poll `check` until it is true (True) or `timeout` seconds pass (False)."""
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(interval)
    return True


async def floor_held(port: int) -> int:
    return json.loads((await rawhttp.fetch(port, request_bytes("GET", "/held"))).body)["held"]


async def service_metrics(port: int) -> dict[str, float] | None:
    answer = await rawhttp.fetch(port, request_bytes("GET", "/metrics"))
    return metrics.parse(answer.body.decode()) if answer.status == 200 else None


async def service_held(port: int) -> int:
    """The held-requests gauge of the service on `port`; -1 when it has none."""
    values = await service_metrics(port)
    return int(values[metrics.HELD]) if values and metrics.HELD in values else -1


async def hold_and_release(
    port: int,
    request: bytes,
    count: int,
    held_now: Callable[[], Awaitable[int]],
    resident_kb: Callable[[], int],
    release: Release,
    while_held: Callable[[], Awaitable[object]] | None = None,
) -> HeldRound:
    """Hold `count` copies of `request`, then release them all with one trigger.

    `release` sends the trigger and returns when it was sent and how to tell an answer
    carrying the released version; the answers are timed from that moment.
    """
    before_kb = resident_kb()
    answers = await rawhttp.send_many(port, request, count)

    async def all_held() -> bool:
        return await held_now() + sum(answer.done() for answer in answers) >= count

    await until(all_held, HOLD_TIMEOUT, 0.1)
    held = await held_now()
    held_kb = resident_kb()
    if while_held is not None:
        await while_held()
    # Only what is still held is released; any other answer counts as an error.
    late = [answer for answer in answers if not answer.done()]
    sent, is_released_version = await release()
    if late:
        _, never = await asyncio.wait(late, timeout=ANSWER_TIMEOUT)
        for answer in never:
            answer.cancel()
    answered = [a.result() for a in late if not a.cancelled() and a.exception() is None]
    good = [answer for answer in answered if answer.status == 200]
    return HeldRound(
        wanted=count,
        held=held,
        errors=count - len(good),
        kb_per_held=(held_kb - before_kb) / max(1, held),
        answer_all_ms=(max((a.received for a in answered), default=sent) - sent) * 1000,
        stale=sum(not is_released_version(answer) for answer in good),
    )


# --- floors --------------------------------------------------------------------------------


def floor_release(port: int, body: bytes = BODY) -> Release:
    async def release() -> tuple[float, Callable[[Answer], bool]]:
        sent = time.perf_counter()
        await rawhttp.fetch(port, request_bytes("POST", "/release"))
        return sent, lambda answer: answer.body == body

    return release


async def floor_round(
    port: int, resident_kb: Callable[[], int], count: int = HELD, body: bytes = BODY
) -> HeldRound:
    """Hold `count` GET /hold on a floor app and release them, after a small warm-up round.
    `body`: what the floor answers (started with FLOOR_BODY_BYTES, bench.floor.padded)."""
    hold = request_bytes("GET", "/hold")
    release = floor_release(port, body)
    held = lambda: floor_held(port)  # noqa: E731
    await hold_and_release(port, hold, WARM_UP_HELD, held, resident_kb, release)
    return await hold_and_release(port, hold, count, held, resident_kb, release)


# --- the service ---------------------------------------------------------------------------


def watch_request(path: str, etag: str, wait: int = WAIT_SECONDS) -> bytes:
    return request_bytes("GET", path, {"If-None-Match": etag, "Prefer": f"wait={wait}"})


def put_request(path: str, configuration: dict, comments: str) -> bytes:
    body = {"name": configuration["name"], "comments": comments, "config": configuration["config"]}
    headers = {"Content-Type": "application/json"}
    return request_bytes("PUT", path, headers, json.dumps(body).encode())


async def current_etag(port: int, path: str) -> str:
    answer = await rawhttp.fetch(port, request_bytes("GET", path))
    if answer.status != 200:
        raise RuntimeError(f"GET {path} answered {answer.status}")
    return answer.headers["etag"]


async def why_not_watching(port: int, path: str) -> str | None:
    """None when the service holds a watch and counts held requests; else why it does not."""
    etag = await current_etag(port, path)
    started = time.perf_counter()
    answer = await rawhttp.fetch(port, watch_request(path, etag, wait=1), timeout=10)
    took_ms = (time.perf_counter() - started) * 1000
    if "preference-applied" not in answer.headers:
        return (
            f"the service does not hold watches (Prefer: wait=1 with the current ETag: "
            f"{answer.status} after {took_ms:.0f} ms, no Preference-Applied)"
        )
    if await service_held(port) < 0:
        return f"GET /metrics has no {metrics.HELD}"
    return None


def service_release(
    port: int, path: str, configuration: dict, loads: list[float], *, embedded: bool = False
) -> Release:
    """PUT a new version through `port`; `loads` gets the read model's reads seen before it.
    `embedded`: the watches are of a representation that embeds the configuration (its
    application's), so an answer shows the new version by the PUT's comments, not its ETag."""

    async def release() -> tuple[float, Callable[[Answer], bool]]:
        values = await service_metrics(port)
        loads.append(values.get(metrics.LOADS, -1) if values else -1)
        comments = uuid.uuid4().hex
        sent = time.perf_counter()
        put = await rawhttp.fetch(port, put_request(path, configuration, comments))
        if put.status != 200:
            raise RuntimeError(f"PUT {path} answered {put.status}: {put.body[:200]!r}")
        if embedded:
            return sent, lambda answer: f'"comments":"{comments}"'.encode() in answer.body
        new_etag = put.headers["etag"]
        return sent, lambda answer: answer.headers.get("etag") == new_etag

    return release


async def service_round(
    port: int,
    path: str,
    configuration: dict,
    resident_kb: Callable[[], int],
    while_held: Callable[[], Awaitable[object]] | None = None,
    count: int = HELD,
    *,
    watched: str | None = None,
) -> HeldRound:
    """Hold `count` watches of one configuration (or of `watched`, its application read with
    its configurations), then wake them all with one PUT of the configuration.

    Also counts the database reads the wake cost: the read model's reads from PostgreSQL from
    before the PUT to after the last answer (None when the service does not count them).
    """
    loads: list[float] = []
    watched = watched or path
    release = service_release(port, path, configuration, loads, embedded=watched != path)
    held = lambda: service_held(port)  # noqa: E731
    warm_up = watch_request(watched, await current_etag(port, watched))
    await hold_and_release(port, warm_up, WARM_UP_HELD, held, resident_kb, release)
    watch = watch_request(watched, await current_etag(port, watched))
    result = await hold_and_release(port, watch, count, held, resident_kb, release, while_held)
    after = await service_metrics(port)
    reads = None
    if after and metrics.LOADS in after and loads[-1] >= 0:
        reads = int(after[metrics.LOADS] - loads[-1])
    return replace(result, db_reads=reads)


async def propagation(
    a_port: int,
    b_port: int,
    path: str,
    configuration: dict,
    rounds: int = PROPAGATION_ROUNDS,
    timeout: float = PROPAGATION_TIMEOUT,
) -> Propagation:
    """Rounds of: hold a watch on B, PUT through A, time from the PUT's answer to the watch's.

    A watch answered with a 304, an older version, or not within `timeout` seconds of the
    PUT missed the change. Stops early after 5 misses: the rest would miss too.
    """
    delays, missed, errors = [], 0, 0
    etag = await current_etag(b_port, path)
    for number in range(rounds):
        if missed >= 5:
            break
        watch = await rawhttp.send(b_port, watch_request(path, etag, wait=30))

        async def held() -> bool:
            return watch.done() or await service_held(b_port) != 0  # -1: no gauge to wait on

        await until(held, timeout=2, interval=0.002)
        put = await rawhttp.fetch(a_port, put_request(path, configuration, f"round {number}"))
        if put.status != 200:
            errors += 1
            watch.cancel()
            continue
        etag = put.headers["etag"]
        try:
            answer = await asyncio.wait_for(watch, timeout)
        except TimeoutError:
            missed += 1
            continue
        except OSError:
            errors += 1
            continue
        if answer.status == 200 and answer.headers.get("etag") == etag:
            delays.append((answer.received - put.received) * 1000)
        else:
            missed += 1
    return Propagation(tuple(delays), missed, errors)
