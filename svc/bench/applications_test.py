import asyncio

import httpx
import pytest
from config_service.main import create_app
from config_service.store.migrations import apply_migrations
from conftest import make_settings
from test.live_server import LiveServer

from bench import applications, report, watch
from bench.report import Measurements


class Recording:
    """Stands in for run.Bench: keeps what would be measured, runs no wrk."""

    def __init__(self):
        self.measured = Measurements()
        self.runs: list[tuple[str, str, str]] = []

    def measure(self, name, url, make_script):
        self.runs.append((name, url, make_script()))


@pytest.fixture
def service(empty_database):
    """The service, in a thread, on a database of its own (the seeded names are fixed)."""
    apply_migrations(empty_database)
    with LiveServer(create_app(make_settings(empty_database))) as server:
        server.port = int(server.url.rsplit(":", 1)[1])
        yield server


def test_applications_of_10_small_configurations_read_whole_are_about_4_kb(service, monkeypatch):
    monkeypatch.setattr(applications, "APPLICATIONS", 2)
    bench = Recording()

    seeded = applications.read_rounds(bench, ["/api/v1/configurations/X"], service, 2)

    assert 3_600 <= seeded.body_bytes <= 4_400
    assert [name for name, _, _ in bench.runs] == [
        report.BESIDE_WHOLE,
        report.GET_APPLICATION_WHOLE,
    ] * 2
    assert all(f'"{path}"' in bench.runs[1][2] for path in seeded.paths)
    assert all(path.endswith("?include=configurations") for path in seeded.paths)


def test_one_put_of_a_configuration_wakes_every_watch_of_its_application(service, monkeypatch):
    monkeypatch.setattr(applications, "APPLICATIONS", 1)
    with httpx.Client(base_url=service.url) as http:
        seeded = applications.seed_applications(http)
    path = f"/api/v1/configurations/{seeded.configuration['id']}"

    result = asyncio.run(
        watch.service_round(
            service.port, path, seeded.configuration, lambda: 0, count=200, watched=seeded.paths[0]
        )
    )

    assert (result.held, result.errors, result.stale, result.db_reads) == (200, 0, 0, 1)
