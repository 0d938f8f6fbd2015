"""gzip end to end: a large configuration goes compressed to whoever accepts it, under the one
ETag its identity bytes have (conditional GETs, watches and If-Match work across encodings),
and the runtime client takes it so."""

import json

import httpx

from config_service.main import create_app
from config_service.representation import GZIP_MIN_BYTES
from config_service_client import ConfigClient
from conftest import make_settings
from test.live_server import LiveServer
from test.random_refs import random_name
from test.workers import TIMEOUT

API = "/api/v1/configurations"
GZIP = {"Accept-Encoding": "gzip"}
IDENTITY = {"Accept-Encoding": "identity"}
# ~300 KB of settings, as repetitive as real configurations are.
LARGE = {
    f"service-{n:05d}": {"host": f"svc-{n}.internal", "port": 8000 + n % 100, "retries": n % 4}
    for n in range(5000)
}


def new_configuration(http, config: dict) -> httpx.Response:
    application = http.post("/api/v1/applications", json={"name": random_name("gzip")})
    body = {"application_id": application.json()["id"], "name": "large", "config": config}
    created = http.post(API, json=body)
    assert created.status_code == 201, created.text
    return created


def test_a_large_configuration_goes_gzip_with_the_etag_of_its_identity_bytes(client):
    created = new_configuration(client, LARGE)
    path, etag = created.headers["location"], created.headers["etag"]

    plain = client.get(path, headers=IDENTITY)
    packed = client.get(path, headers=GZIP)
    assert "content-encoding" not in plain.headers
    assert packed.headers["content-encoding"] == "gzip"
    assert packed.content == plain.content and packed.json()["config"] == LARGE  # decoded
    assert int(packed.headers["content-length"]) * 5 < int(plain.headers["content-length"])
    assert packed.headers["etag"] == plain.headers["etag"] == etag
    assert packed.headers["vary"] == plain.headers["vary"] == "Accept-Encoding, Prefer, Config-Client"

    # The identity ETag a client holds still answers 304 to a gzip request, and the reverse.
    assert client.get(path, headers={**GZIP, "If-None-Match": etag}).status_code == 304
    assert client.get(path, headers={**IDENTITY, "If-None-Match": etag}).status_code == 304
    head = client.head(path, headers=GZIP)
    assert head.headers["content-length"] == packed.headers["content-length"]

    revision = client.get(f"{path}?revision=1", headers=GZIP)
    assert (revision.headers["content-encoding"], revision.headers["etag"]) == ("gzip", etag)

    edited = {**packed.json(), "comments": "edited after a gzip GET"}
    put = client.put(path, json=edited, headers={"If-Match": packed.headers["etag"]})
    assert put.status_code == 200, put.text


def test_a_small_body_goes_as_it_is_even_to_who_accepts_gzip(client):
    created = new_configuration(client, {"timeout_ms": 2500})
    assert len(created.content) < GZIP_MIN_BYTES
    answer = client.get(created.headers["location"], headers=GZIP)
    assert "content-encoding" not in answer.headers
    assert answer.headers["vary"] == "Accept-Encoding, Prefer, Config-Client"  # as if it were large


def test_the_runtime_client_accepts_gzip_and_gets_the_configuration_whole(database_url, tmp_path):
    app = create_app(make_settings(database_url))
    encodings: list[str | None] = []

    async def record_encodings(scope, receive, send):  # what the service sent the follower
        async def sent(message):
            if message["type"] == "http.response.start" and scope["path"].startswith(API):
                headers = dict(message["headers"])
                encodings.append(headers.get(b"content-encoding", b"identity").decode())
            await send(message)

        await service(scope, receive, sent)

    service = app.build_middleware_stack()
    app.middleware_stack = record_encodings
    with LiveServer(app) as server, httpx.Client(base_url=server.url, timeout=TIMEOUT) as http:
        configuration_id = new_configuration(http, LARGE).json()["id"]
        encodings.clear()
        runtime = ConfigClient(server.url, cache_dir=tmp_path, wait=1)  # held briefly
        follower = runtime.follow(configuration_id).start()
        try:
            assert follower.wait(TIMEOUT) == LARGE
        finally:
            follower.stop(timeout=TIMEOUT)
    assert encodings and encodings[0] == "gzip"
    saved = json.loads(next(tmp_path.rglob("*.json")).read_text())
    assert LARGE in (saved, saved.get("config"))  # the disk cache holds it decoded
