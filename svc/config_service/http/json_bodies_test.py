import pytest
from fastapi.testclient import TestClient

from config_service.main import create_app
from conftest import make_settings
from test.random_refs import random_name

API = "/api/v1/applications"


@pytest.fixture(scope="module")
def small_bodies(database_url):
    with TestClient(create_app(make_settings(database_url, max_body_bytes=2048))) as client:
        yield client


def test_a_body_over_the_limit_is_413_before_parsing(small_bodies):
    body = '{"name": "' + "x" * 3000 + '"}'
    response = small_bodies.post(API, content=body, headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"


def test_a_chunked_body_over_the_limit_is_413(small_bodies):
    def chunks():
        yield b'{"name": "'
        for _ in range(10):
            yield b"x" * 500
        yield b'"}'

    response = small_bodies.post(
        API, content=chunks(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413


def test_a_body_at_the_limit_is_accepted(small_bodies):
    name = random_name()
    body = f'{{"name": "{name}", "comments": "'
    body += "c" * min(1024, 2048 - len(body) - 2) + '"}'
    response = small_bodies.post(API, content=body, headers={"content-type": "application/json"})
    assert response.status_code == 201


@pytest.mark.parametrize(
    "content_type", [None, "text/plain", "application/x-www-form-urlencoded", "application/xml"]
)
def test_a_body_that_is_not_json_is_415(small_bodies, content_type):
    headers = {"content-type": content_type} if content_type else {}
    response = small_bodies.post(API, content=b'{"name": "x"}', headers=headers)
    assert response.status_code == 415
    assert response.json()["status"] == 415


@pytest.mark.parametrize(
    "content_type",
    ["application/json; charset=utf-8", "APPLICATION/JSON", "application/merge+json"],
)
def test_json_media_types_are_accepted(small_bodies, content_type):
    body = f'{{"name": "{random_name()}"}}'
    response = small_bodies.post(API, content=body, headers={"content-type": content_type})
    assert response.status_code == 201


@pytest.mark.parametrize(
    "method, path, status",
    [
        ("PUT", "/health/live", 405),
        ("POST", "/api/v1/configurations/01JDQ30A4B5C6D7E8F9G0H1J2K", 405),
        ("POST", "/api/v1/nothing-here", 404),
    ],
)
def test_a_method_no_route_serves_is_answered_by_routing_not_the_body_check(
    small_bodies, method, path, status
):
    response = small_bodies.request(
        method, path, content=b"x", headers={"content-type": "text/plain"}
    )
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"


def test_a_served_write_without_json_is_still_415(small_bodies):
    response = small_bodies.post(API, content=b"x", headers={"content-type": "text/plain"})
    assert response.status_code == 415
