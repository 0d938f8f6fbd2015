import pytest
from fastapi.testclient import TestClient

from config_service.main import create_app
from conftest import make_settings
from test.random_refs import random_name

READ, WRITE = "read-token-1", "write-token-1"


@pytest.fixture(scope="module")
def guarded(database_url):
    settings = make_settings(
        database_url, api_read_tokens=frozenset({READ}), api_write_tokens=frozenset({WRITE})
    )
    with TestClient(create_app(settings)) as client:
        yield client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize(
    "headers",
    [
        {},
        bearer("wrong"),
        bearer(READ + "x"),
        {"Authorization": f"Basic {READ}"},
        {"Authorization": "Bearer "},
        {"Authorization": "Bearer tést".encode()},
    ],
)
def test_without_a_valid_token_api_calls_are_401_with_a_challenge(guarded, headers):
    response = guarded.get("/api/v1/applications", headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.headers["content-type"] == "application/problem+json"


def test_a_read_token_may_read_but_not_write(guarded):
    assert guarded.get("/api/v1/applications", headers=bearer(READ)).status_code == 200
    response = guarded.post(
        "/api/v1/applications", json={"name": random_name()}, headers=bearer(READ)
    )
    assert response.status_code == 403


def test_a_write_token_may_write_and_read(guarded):
    created = guarded.post(
        "/api/v1/applications", json={"name": random_name()}, headers=bearer(WRITE)
    )
    assert created.status_code == 201
    assert guarded.get(created.headers["location"], headers=bearer(WRITE)).status_code == 200


def test_nothing_is_written_without_a_write_token(guarded):
    name = random_name()
    guarded.post("/api/v1/applications", json={"name": name}, headers=bearer(READ))
    guarded.post("/api/v1/applications", json={"name": name})
    listed = guarded.get("/api/v1/applications?limit=1000", headers=bearer(READ)).json()
    assert name not in [application["name"] for application in listed]


def test_health_and_docs_need_no_token(guarded):
    assert guarded.get("/health/live").status_code == 200
    assert guarded.get("/health/ready").status_code == 200
    assert guarded.get("/openapi.json").status_code == 200


def test_without_tokens_the_api_is_open_and_says_so_once(database_url, caplog):
    with TestClient(create_app(make_settings(database_url))) as client:
        assert client.get("/api/v1/applications").status_code == 200
    warnings = [r.getMessage() for r in caplog.records if "open to anyone" in r.getMessage()]
    assert len(warnings) == 1


def test_tokens_are_never_logged(guarded, caplog):
    guarded.get("/api/v1/applications", headers=bearer(READ))
    guarded.get("/api/v1/applications", headers=bearer("wrong-secret"))
    assert READ not in caplog.text and "wrong-secret" not in caplog.text
