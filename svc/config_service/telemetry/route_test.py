import resource
import time

import pytest
from fastapi.testclient import TestClient

from config_service.main import create_app
from conftest import make_settings
from test.prometheus import at, parse, read_samples
from test.random_refs import random_name

FAMILIES = {
    "config_service_http_requests_total",
    "config_service_http_request_duration_seconds",
    "config_service_http_requests_in_flight",
    "config_service_read_model_hits_total",
    "config_service_read_model_misses_total",
    "config_service_read_model_loads_total",
    "config_service_read_model_bytes",
    "config_service_read_model_entries",
    "config_service_not_modified_total",
    "config_service_change_notifications_total",
    "config_service_listener_connected",
    "config_service_listener_reconnects_total",
    "config_service_watch_held_requests",
    "config_service_watch_ended_total",
    "config_service_db_pool_connections_in_use",
    "config_service_db_pool_connections",
    "config_service_db_unavailable_total",
    "config_service_db_transactions_retried_total",
    "config_service_configuration_revisions_recorded_total",
    "config_service_configuration_revisions_removed_total",
    "config_service_rollout_changes_total",
    "config_service_rollout_aborts_total",
    "config_service_rollouts_running",
    "config_service_rollout_steps_total",
    "config_service_rollout_rejections_total",
    "process_cpu_seconds_total",
    "process_virtual_memory_bytes",
    "process_resident_memory_bytes",
    "process_start_time_seconds",
    "process_open_fds",
    "process_max_fds",
    "config_service_build_info",
}


@pytest.fixture(scope="module")
def metered(database_url):
    with TestClient(create_app(make_settings(database_url, db_pool_size=3))) as client:
        yield client


def test_the_scrape_parses_strictly_and_has_every_family(metered):
    response = metered.get("/metrics")
    assert response.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    assert set(parse(response.text)) == FAMILIES


def test_reads_writes_and_revalidations_are_counted(metered):
    application = metered.post("/api/v1/applications", json={"name": random_name()})
    path = application.headers["location"]
    before = read_samples(metered.get("/metrics").content)
    metered.get(path)
    metered.get(path)  # from memory
    metered.get(path, headers={"If-None-Match": application.headers["etag"]})
    after = read_samples(metered.get("/metrics").content)

    def grew(name: str, **labels: str) -> float:
        return (at(after, name, **labels) or 0) - (at(before, name, **labels) or 0)

    route = {"route": "/api/v1/applications/{id}", "method": "GET"}
    assert grew("config_service_http_requests_total", **route, status="2xx") == 2
    assert grew("config_service_http_requests_total", **route, status="3xx") == 1
    assert grew("config_service_not_modified_total") == 1
    assert grew("config_service_read_model_misses_total") == 1
    assert grew("config_service_read_model_hits_total") == 2
    count = "config_service_http_request_duration_seconds_count"
    assert grew(count, **route) == 3
    assert grew(count, route="/api/v1/applications/{id}", method="PUT") == 0
    assert at(after, "config_service_db_pool_connections") == 3
    assert at(after, "config_service_build_info", version=metered.app.version) == 1


def test_metrics_need_a_read_token_when_tokens_are_set(database_url):
    settings = make_settings(
        database_url, api_read_tokens=frozenset({"r"}), api_write_tokens=frozenset({"w"})
    )
    with TestClient(create_app(settings)) as client:
        assert client.get("/metrics").status_code == 401
        assert client.get("/metrics", headers={"Authorization": "Bearer x"}).status_code == 401
        assert client.post("/metrics", headers={"Authorization": "Bearer r"}).status_code == 403
        assert client.get("/metrics", headers={"Authorization": "Bearer r"}).status_code == 200


def test_without_metrics_there_is_no_endpoint(database_url):
    with TestClient(create_app(make_settings(database_url, metrics_enabled=False))) as client:
        assert client.get("/metrics").status_code == 404
        assert client.get("/health/live").status_code == 200


def test_process_metrics_mean_what_the_client_libraries_mean(metered):
    """Stock dashboards read these names as every Prometheus client library writes them."""
    samples = read_samples(metered.get("/metrics").content)

    def of(name: str) -> float:
        value = at(samples, name, worker="0")
        assert value is not None, name
        return value

    resident, virtual = of("process_resident_memory_bytes"), of("process_virtual_memory_bytes")
    assert 10 * 2**20 < resident < virtual  # a Python process with FastAPI loaded
    assert 0 < of("process_cpu_seconds_total") <= time.process_time() + 1
    assert 0 < of("process_open_fds") <= of("process_max_fds")
    assert of("process_max_fds") == resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    assert time.time() - 3600 < of("process_start_time_seconds") <= time.time()
