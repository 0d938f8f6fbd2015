import asyncio
import threading

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse, StreamingResponse

from bench import rawhttp
from bench.servers import free_port
from test.live_server import LiveServer

HEAD = b'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nETag: "v1"\r\n\r\n'


def test_request_bytes_are_http_1_1_asking_to_close():
    request = rawhttp.request_bytes("PUT", "/x", {"Prefer": "wait=5"}, b"{}")
    head, body = request.split(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    assert lines[0] == "PUT /x HTTP/1.1"
    assert {"Connection: close", "Prefer: wait=5", "Content-Length: 2"} <= set(lines)
    assert body == b"{}"
    assert b"Content-Length" not in rawhttp.request_bytes("GET", "/x")


def test_an_answer_is_complete_once_its_body_is():
    assert rawhttp.parse_answer(HEAD[:-2], 1.0) is None
    assert rawhttp.parse_answer(HEAD + b"abc", 1.0) is None
    answer = rawhttp.parse_answer(HEAD + b"abcde", 2.5)
    assert answer == rawhttp.Answer(200, {"content-length": "5", "etag": '"v1"'}, b"abcde", 2.5)


def test_304_has_no_body_and_chunked_bodies_are_decoded():
    assert rawhttp.parse_answer(b"HTTP/1.1 304 Not Modified\r\n\r\n", 0).status == 304
    chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n"
    assert rawhttp.parse_answer(chunked, 0) is None
    assert rawhttp.parse_answer(chunked + b"0\r\n\r\n", 0).body == b"abcde"


def test_without_framing_the_body_ends_with_the_connection():
    unframed = b"HTTP/1.1 200 OK\r\n\r\nall of it"
    assert rawhttp.parse_answer(unframed, 0) is None
    assert rawhttp.parse_answer(unframed, 0, closed=True).body == b"all of it"


def echo_app() -> FastAPI:
    app = FastAPI()

    @app.put("/echo")
    async def echo(request: Request) -> PlainTextResponse:
        return PlainTextResponse(request.headers["x-tag"] + (await request.body()).decode())

    @app.get("/stream")
    async def stream() -> StreamingResponse:
        return StreamingResponse(iter([b"a", b"b"]))

    return app


def test_requests_and_answers_over_real_connections():
    async def exchanges(port):
        request = rawhttp.request_bytes("PUT", "/echo", {"X-Tag": "t:"}, b"body")
        answers = await asyncio.gather(*await rawhttp.send_many(port, request, 20, at_once=4))
        streamed = await rawhttp.fetch(port, rawhttp.request_bytes("GET", "/stream"))
        return answers, streamed

    with LiveServer(echo_app()) as server:
        answers, streamed = asyncio.run(exchanges(int(server.url.rsplit(":", 1)[1])))

    assert [(a.status, a.body) for a in answers] == [(200, b"t:body")] * 20
    assert streamed.body == b"ab"


def test_a_refused_connection_is_an_error_not_a_hang():
    async def refused():
        return await rawhttp.fetch(free_port(), rawhttp.request_bytes("GET", "/"))

    with pytest.raises(OSError):
        asyncio.run(refused())


def test_the_open_files_limit_goes_up_to_the_hard_limit():
    import resource

    assert rawhttp.raise_open_files_limit() == resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    assert hard == resource.RLIM_INFINITY or soft == hard


def test_cancelling_an_answer_hangs_up():
    app = FastAPI()
    hung_up = threading.Event()

    @app.get("/slow")
    async def slow(request: Request) -> PlainTextResponse:
        while not await request.is_disconnected():
            await asyncio.sleep(0.01)
        hung_up.set()
        return PlainTextResponse("late")

    async def cancel(port):
        answer = await rawhttp.send(port, rawhttp.request_bytes("GET", "/slow"))
        await asyncio.sleep(0.2)
        answer.cancel()

    with LiveServer(app) as server:
        asyncio.run(cancel(int(server.url.rsplit(":", 1)[1])))
        assert hung_up.wait(timeout=5)
