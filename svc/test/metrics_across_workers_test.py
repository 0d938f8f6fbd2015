"""/metrics with several workers: any worker's scrape shows the whole service."""

import os
import signal

import httpx

from test.live_server import ServerProcess
from test.prometheus import at, per_worker, read_samples
from test.waiting import until

LIVE = {"route": "/health/live", "method": "GET", "status": "2xx"}
REQUESTS = "config_service_http_requests_total"
STARTED = "process_start_time_seconds"


def scrape(url: str) -> dict:
    """One scrape on a fresh connection, so that either worker may answer it."""
    response = httpx.get(f"{url}/metrics", headers={"Connection": "close"}, timeout=10)
    assert response.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    return read_samples(response.content)


def send(url: str, requests: int) -> None:
    for _ in range(requests):
        response = httpx.get(f"{url}/health/live", headers={"Connection": "close"}, timeout=10)
        assert response.status_code == 200


def test_every_scrape_counts_every_workers_requests_even_across_a_restart(database_url):
    """40 requests on fresh connections land on both workers (all on one: odds 2^-39), so a
    scrape that saw only its own worker would count about 20, not 40."""
    with ServerProcess(database_url, WORKERS="2") as server:
        send(server.url, 40)
        scrapes = [scrape(server.url) for _ in range(8)]
        assert {at(samples, REQUESTS, **LIVE) for samples in scrapes} == {40}
        assert set(per_worker(scrapes[-1], "config_service_listener_connected")) == {"0", "1"}

        killed = min(server.worker_pids())
        os.kill(killed, signal.SIGKILL)
        until(lambda: server.workers_started() == 3, seconds=60)  # its replacement serves
        assert len(per_worker(scrape(server.url), STARTED)) == 2
        send(server.url, 10)
        after = [scrape(server.url) for _ in range(8)]
        assert {at(samples, REQUESTS, **LIVE) for samples in after} == {50}
