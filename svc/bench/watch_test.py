import asyncio
import json

import pytest
from fastapi import FastAPI, Request, Response
from fastapi.responses import PlainTextResponse

from bench import metrics, watch
from bench.floor import BODY, FLOORS, padded
from test.live_server import LiveServer

PATH = "/api/v1/configurations/01JDQ2ZK3M8N7V6W5X4Y3Z2A1B"
CONFIGURATION = {"name": "c", "config": {"k": 1}}


def fake_service(holds: bool = True, gauge: bool = True) -> FastAPI:
    """The watch contract in miniature: held GETs, PUTs that wake them, /metrics."""
    app = FastAPI()
    state = {"version": 0, "held": 0, "loads": 0, "changed": None}

    def etag() -> str:
        return f'"v{state["version"]}"'

    def current() -> Response:
        body = json.dumps({"version": state["version"], **CONFIGURATION})
        return Response(body, media_type="application/json", headers={"ETag": etag()})

    def changed() -> asyncio.Event:
        state["changed"] = state["changed"] or asyncio.Event()
        return state["changed"]

    @app.get(PATH)
    async def get(request: Request) -> Response:
        prefer = request.headers.get("prefer")
        if request.headers.get("if-none-match") != etag():
            return current()
        if not (holds and prefer):
            return Response(status_code=304, headers={"ETag": etag()})
        wait = int(prefer.removeprefix("wait="))
        deadline = asyncio.get_running_loop().time() + wait
        event = changed()
        state["held"] += 1
        try:
            while not event.is_set():
                gone = await request.is_disconnected()
                if gone or asyncio.get_running_loop().time() > deadline:
                    return Response(status_code=304, headers={"Preference-Applied": f"wait={wait}"})
                try:
                    await asyncio.wait_for(event.wait(), 0.02)
                except TimeoutError:
                    pass
        finally:
            state["held"] -= 1
        return current()

    @app.put(PATH)
    async def put() -> Response:
        state["version"] += 1
        state["loads"] += 1  # the one read that wakes every watcher
        changed().set()
        state["changed"] = None
        return current()

    @app.get("/metrics")
    async def metrics_text() -> PlainTextResponse:
        lines = [f"{metrics.LOADS} {state['loads']}", f"{metrics.HITS} 0"]
        if gauge:
            lines.append(f"{metrics.HELD} {state['held']}")
        return PlainTextResponse("\n".join(lines) + "\n")

    return app


def port_of(server: LiveServer) -> int:
    return int(server.url.rsplit(":", 1)[1])


class Rss:
    """A stand-in for a server's resident memory: grows 5 KiB per call."""

    def __init__(self):
        self.kb = 100_000

    def __call__(self) -> int:
        self.kb += 5
        return self.kb


@pytest.mark.parametrize("kind", sorted(FLOORS))
@pytest.mark.parametrize("body", [BODY, padded(4000)], ids=["1 KB", "4 KB"])
def test_a_floor_round_holds_everything_then_times_the_release(kind, body):
    with LiveServer(FLOORS[kind](body)) as server:
        result = asyncio.run(watch.floor_round(port_of(server), Rss(), count=200, body=body))
    assert (result.wanted, result.held, result.errors, result.stale) == (200, 200, 0, 0)
    assert result.kb_per_held == 5 / 200
    assert result.answer_all_ms > 0


def test_a_service_round_wakes_every_watch_with_one_read():
    wrk_ran_while_held = []

    async def during(port):
        wrk_ran_while_held.append(await watch.service_held(port))

    with LiveServer(fake_service()) as server:
        port = port_of(server)
        result = asyncio.run(
            watch.service_round(port, PATH, CONFIGURATION, Rss(), lambda: during(port), count=300)
        )
    assert (result.held, result.errors, result.stale, result.db_reads) == (300, 0, 0, 1)
    assert wrk_ran_while_held == [300]


def test_watches_answered_at_once_are_errors_not_held():
    with LiveServer(fake_service(holds=False)) as server:
        port = port_of(server)
        result = asyncio.run(watch.service_round(port, PATH, CONFIGURATION, Rss(), count=50))
    assert (result.held, result.errors) == (0, 50)


def test_why_not_watching_says_what_is_missing():
    with LiveServer(fake_service()) as server:
        assert asyncio.run(watch.why_not_watching(port_of(server), PATH)) is None
    with LiveServer(fake_service(holds=False)) as server:
        reason = asyncio.run(watch.why_not_watching(port_of(server), PATH))
        assert "does not hold watches" in reason
    with LiveServer(fake_service(gauge=False)) as server:
        reason = asyncio.run(watch.why_not_watching(port_of(server), PATH))
        assert reason == f"GET /metrics has no {metrics.HELD}"


def test_propagation_times_each_change():
    with LiveServer(fake_service()) as server:
        port = port_of(server)
        result = asyncio.run(watch.propagation(port, port, PATH, CONFIGURATION, rounds=30))
    assert (len(result.delays_ms), result.missed, result.errors) == (30, 0, 0)


def test_a_change_that_never_arrives_is_missed_and_stops_the_rounds():
    # Two separate services: a PUT on A never reaches a watch on B.
    with LiveServer(fake_service()) as a, LiveServer(fake_service()) as b:
        result = asyncio.run(
            watch.propagation(port_of(a), port_of(b), PATH, CONFIGURATION, 30, timeout=0.05)
        )

        async def held_after() -> int:
            # The service sees a hung-up watch at its next disconnect check: allow it a while.
            deadline = asyncio.get_running_loop().time() + 5
            while (held := await watch.service_held(port_of(b))) and (
                asyncio.get_running_loop().time() < deadline
            ):
                await asyncio.sleep(0.02)
            return held

        still_held = asyncio.run(held_after())
    assert (result.delays_ms, result.missed) == ((), 5)
    assert still_held == 0, "missed watches are hung up"
