"""Send several requests at the same moment, one thread and one connection each."""

import threading

import httpx


def send_together(base_url: str, requests: list[tuple[str, str, dict]]) -> list[httpx.Response]:
    """Each request is (method, path, httpx keyword arguments); responses come back in order."""
    responses: list[httpx.Response | None] = [None] * len(requests)
    start = threading.Barrier(len(requests))

    def send(index: int, method: str, path: str, options: dict) -> None:
        with httpx.Client(base_url=base_url, timeout=30) as http:
            start.wait()
            responses[index] = http.request(method, path, **options)

    threads = [
        threading.Thread(target=send, args=(index, *request))
        for index, request in enumerate(requests)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return responses
