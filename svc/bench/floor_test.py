import asyncio
import json

import pytest
from fastapi.testclient import TestClient

from bench import rawhttp
from bench.floor import BODY, FLOORS, padded
from test.live_server import LiveServer


async def hold_then_release(port: int, count: int):
    held = await rawhttp.send_many(port, rawhttp.request_bytes("GET", "/hold"), count)
    try:
        for _ in range(500):
            answer = await rawhttp.fetch(port, rawhttp.request_bytes("GET", "/held"))
            if json.loads(answer.body) == {"held": count}:
                break
            await asyncio.sleep(0.01)
        else:
            raise AssertionError(f"never saw {count} held: {answer.body!r}")
        assert not any(future.done() for future in held)
    finally:  # release them whatever happened, or the server's shutdown would wait forever
        released = await rawhttp.fetch(port, rawhttp.request_bytes("POST", "/release"))
    answers = await asyncio.gather(*held)
    after = await rawhttp.fetch(port, rawhttp.request_bytes("GET", "/held"))
    return released, answers, after


@pytest.mark.parametrize("kind", sorted(FLOORS))
def test_a_floor_holds_requests_until_released(kind):
    with LiveServer(FLOORS[kind]()) as server:
        port = int(server.url.rsplit(":", 1)[1])
        released, answers, after = asyncio.run(hold_then_release(port, 50))

    assert released.status == 204
    assert {(a.status, a.body) for a in answers} == {(200, BODY)}
    assert json.loads(after.body) == {"held": 0}


def test_the_floor_answers_like_a_configuration():
    with TestClient(FLOORS["fastapi"]()) as client:
        assert client.post("/release").status_code == 204  # nothing held: nothing to do
        assert client.get("/held").json() == {"held": 0}
    assert 1000 < len(BODY) < 1500


@pytest.mark.parametrize("kind", sorted(FLOORS))
def test_a_floor_may_answer_a_body_as_large_as_what_it_stands_in_for(kind):
    body = padded(4343)
    assert len(body) == 4343 and json.loads(body)["config"] == json.loads(BODY)["config"]
    assert padded(10) == BODY
    with LiveServer(FLOORS[kind](body)) as server:
        port = int(server.url.rsplit(":", 1)[1])
        _, answers, _ = asyncio.run(hold_then_release(port, 5))
    assert {a.body for a in answers} == {body}
