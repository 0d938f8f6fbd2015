"""The nginx harness itself: it proxies, caches what the service lets it, and says so."""

import httpx

from config_service.main import create_app
from conftest import make_settings
from test.live_server import LiveServer
from test.nginx import Nginx
from test.random_refs import random_name


def test_nginx_proxies_to_the_service_and_reports_its_cache_status(database_url):
    with LiveServer(create_app(make_settings(database_url))) as server:
        upstream_port = int(server.url.rpartition(":")[2])
        with Nginx(upstream_port) as nginx, httpx.Client(base_url=nginx.url, timeout=5) as http:
            before = nginx.access_log_lines()  # the start-up probe's GET /health/live
            created = http.post("/api/v1/applications", json={"name": random_name("nginx")})
            assert created.status_code == 201
            first = http.get(f"/api/v1/applications/{created.json()['id']}")
            assert first.status_code == 200
            assert first.json() == created.json()
            assert first.headers["x-cache-status"] in {"MISS", "EXPIRED", "BYPASS"}
            assert nginx.access_log_lines() == before + 2
