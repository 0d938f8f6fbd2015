import json

import httpx

from bench.compression import GZIP, IDENTITY, large_config, wire_bytes
from config_service.main import create_app
from conftest import make_settings
from test.live_server import LiveServer
from test.random_refs import random_name


def test_the_large_configuration_is_as_large_as_asked_and_never_larger():
    for size in (1_000, 50_000, 1_000_000):
        encoded = json.dumps(large_config(size))
        assert size - 300 < len(encoded) <= size, size


def test_wire_bytes_count_the_answer_as_sent(database_url):
    config = large_config(50_000)
    with LiveServer(create_app(make_settings(database_url))) as server:
        with httpx.Client(base_url=server.url, timeout=10) as http:
            application = http.post("/api/v1/applications", json={"name": random_name("wire")})
            body = {"application_id": application.json()["id"], "name": "c", "config": config}
            created = http.post("/api/v1/configurations", json=body)
            path = f"/api/v1/configurations/{created.json()['id']}"
            plain_body = len(http.get(path, headers=IDENTITY).content)
        plain, plain_encoding = wire_bytes(server.url, path, IDENTITY)
        packed, packed_encoding = wire_bytes(server.url, path, GZIP)
    assert (plain_encoding, packed_encoding) == (None, "gzip")
    assert plain_body < plain < plain_body + 1000  # the body and some headers
    assert packed * 5 < plain
