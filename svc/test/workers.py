"""Server processes for end-to-end tests: started side by side, and which worker answered.

Responses do not say which worker process answered them. The kernel does: the worker holding
the server's end of the connection (found through /proc while the connection is still open).
"""

import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from test.live_server import ServerProcess
from test.waiting import until

TIMEOUT = 5  # seconds any single request may take
WORKERS_START_WITHIN = 30  # seconds a supervisor's workers may take to serve, on a busy machine


@contextmanager
def running(*servers: ServerProcess) -> Iterator[None]:
    """Start the servers side by side (each takes a second or more); stop them all after.
    A supervisor's (WORKERS > 1) workers all serve before this returns."""
    with ThreadPoolExecutor(len(servers)) as pool:
        starts = [pool.submit(server.__enter__) for server in servers]
    try:
        for start in starts:
            start.result()
        for server in servers:
            if server.worker_pids():
                each_worker_answers(server, "/health/live", WORKERS_START_WITHIN)
        yield
    finally:
        for server in servers:
            if server.process is not None:
                server.stop()


def client_port(response: httpx.Response) -> int:
    return response.extensions["network_stream"].get_extra_info("client_addr")[1]


def answering_worker(server: ServerProcess, response: httpx.Response) -> int:
    """The pid of the worker process holding the server's end of `response`'s connection
    (still open): that socket's inode, from /proc/net/tcp, among the workers' files."""
    ports = (server.port, client_port(response))
    inodes = {
        fields[9]
        for fields in map(str.split, Path("/proc/net/tcp").read_text().splitlines()[1:])
        if (int(fields[1].split(":")[1], 16), int(fields[2].split(":")[1], 16)) == ports
    }
    assert len(inodes) == 1, f"no single server socket for the connection {ports}"
    socket = f"socket:[{inodes.pop()}]"
    for pid in server.worker_pids():
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                if os.readlink(fd) == socket:
                    return pid
            except FileNotFoundError:
                continue
    pytest.fail(f"no worker of the server holds the connection {ports}")


def each_worker_answers(
    server: ServerProcess, path: str, seconds: float = TIMEOUT
) -> dict[int, httpx.Response]:
    """GET `path` on fresh connections until every worker has answered; each one's last answer."""
    answers: dict[int, httpx.Response] = {}

    def ask() -> bool:
        try:
            with httpx.Client(base_url=server.url, timeout=TIMEOUT) as http:
                response = http.get(path)
                answers[answering_worker(server, response)] = response
        except httpx.TransportError:
            pass  # a worker still starting
        return answers.keys() == server.worker_pids()

    until(ask, seconds, f"an answer from every worker to GET {path}")
    return answers


class Worker:
    """A keep-alive connection to one worker process, checked to be the same one every time."""

    def __init__(self, server: ServerProcess):
        self.http = httpx.Client(base_url=server.url, timeout=TIMEOUT)
        response = self.http.get("/health/live")
        self.port = client_port(response)
        self.pid = answering_worker(server, response)

    def request(self, method: str, path: str, **options) -> httpx.Response:
        response = self.http.request(method, path, **options)
        assert client_port(response) == self.port, "the connection to the worker was replaced"
        return response

    def get(self, path: str, **options) -> httpx.Response:
        return self.request("GET", path, **options)

    def put(self, path: str, **options) -> httpx.Response:
        return self.request("PUT", path, **options)

    def post(self, path: str, **options) -> httpx.Response:
        return self.request("POST", path, **options)


@contextmanager
def one_connection_per_worker(server: ServerProcess) -> Iterator[dict[int, Worker]]:
    """A Worker for each of a supervisor's workers, by pid (the kernel spreads connections)."""
    found: dict[int, Worker] = {}

    def connect() -> bool:
        worker = Worker(server)
        if worker.pid in found:
            worker.http.close()
        else:
            found[worker.pid] = worker
        return found.keys() == server.worker_pids()

    try:
        until(connect, TIMEOUT, "a connection to each worker")
        yield found
    finally:
        for worker in found.values():
            worker.http.close()
