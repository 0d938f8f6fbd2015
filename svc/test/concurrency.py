"""Several calls at the same moment: one thread each, released together."""

import threading
from collections.abc import Callable
from functools import partial

import httpx

JOIN_SECONDS = 60  # the longest the calls of one `together` may take, all told


def together[T](calls: list[Callable[[Callable[[], None]], T]]) -> list[T]:
    """Run each call in a thread of its own; their results, in order. Each is given `start`,
    to call once it is ready (its connection open): all go on from there at the same moment.
    A call that raises fails the test with its error, as does one that never ends."""
    results: list = [None] * len(calls)
    failures: list[BaseException] = []
    barrier = threading.Barrier(len(calls), timeout=30)

    def run(index: int) -> None:
        try:
            results[index] = calls[index](barrier.wait)
        except BaseException as error:  # noqa: BLE001 - raised below, in the test's thread
            failures.append(error)

    threads = [threading.Thread(target=run, args=(index,)) for index in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=JOIN_SECONDS)
    assert not any(thread.is_alive() for thread in threads), "a call never ended"
    if failures:
        raise failures[0]
    return results


def send_together(base_url: str, requests: list[tuple[str, str, dict]]) -> list[httpx.Response]:
    """Each request is (method, path, httpx keyword arguments), on a connection of its own;
    responses come back in order."""

    def send(method: str, path: str, options: dict, start) -> httpx.Response:
        with httpx.Client(base_url=base_url, timeout=30) as http:
            start()
            return http.request(method, path, **options)

    return together([partial(send, *request) for request in requests])
