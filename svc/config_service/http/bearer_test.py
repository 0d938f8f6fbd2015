import json
import logging
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from config_service.access.tokens import generated_name
from config_service.http.bearer import private
from config_service.main import create_app
from conftest import make_settings
from test.random_refs import MISSING_ID, random_name
from test.tokens import FileToken, write_tokens_file

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


def test_every_answer_to_a_guarded_request_is_private_and_varies_by_authorization(guarded):
    """Whatever shaped it (route, problem, this middleware's own 401): no shared cache may keep
    an answer that depends on the token; revisions stay immutable for the caller's cache."""
    application = guarded.post(
        "/api/v1/applications", json={"name": random_name()}, headers=bearer(WRITE)
    )
    body = {"application_id": application.json()["id"], "name": "private", "config": {"k": 1}}
    created = guarded.post("/api/v1/configurations", json=body, headers=bearer(WRITE))
    path = created.headers["location"]
    answers = {
        "created": (created, "private, no-cache"),
        "current": (guarded.get(path, headers=bearer(READ)), "private, no-cache"),
        "revision": (
            guarded.get(f"{path}?revision=1", headers=bearer(READ)),
            "private, max-age=86400, immutable",
        ),
        "history": (guarded.get(f"{path}?history", headers=bearer(READ)), "private, no-cache"),
        "list": (guarded.get("/api/v1/applications", headers=bearer(READ)), "private, no-cache"),
        "no token": (guarded.get(f"{path}?revision=1"), "private"),
        "wrong token": (guarded.get(path, headers=bearer("wrong")), "private"),
        "404": (
            guarded.get(f"/api/v1/configurations/{MISSING_ID}", headers=bearer(READ)),
            "private",
        ),
        "read token writing": (guarded.put(path, json={}, headers=bearer(READ)), "private"),
        "metrics": (guarded.get("/metrics", headers=bearer(READ)), "private"),
    }
    for name, (response, cache_control) in answers.items():
        assert response.headers["cache-control"] == cache_control, name
        assert response.headers["vary"].endswith("Authorization"), name
    assert answers["current"][0].headers["vary"] == "Accept-Encoding, Prefer, Config-Client, Authorization"
    assert answers["no token"][0].status_code == 401
    assert "private" not in guarded.get("/health/live").headers.get("cache-control", "")


def test_private_marks_cache_control_and_vary_whether_or_not_they_are_there():
    assert private([(b"etag", b'"e"'), (b"cache-control", b"no-cache"), (b"vary", b"Prefer")]) == [
        (b"etag", b'"e"'),
        (b"cache-control", b"private, no-cache"),
        (b"vary", b"Prefer, Authorization"),
    ]
    assert private([]) == [(b"cache-control", b"private"), (b"vary", b"Authorization")]


def test_health_and_docs_need_no_token(guarded):
    assert guarded.get("/health/live").status_code == 200
    assert guarded.get("/health/ready").status_code == 200
    assert guarded.get("/openapi.json").status_code == 200


def test_without_tokens_the_api_is_open_and_says_so_once(database_url, caplog):
    with TestClient(create_app(make_settings(database_url))) as client:
        assert client.get("/api/v1/applications").status_code == 200
    warnings = [r.getMessage() for r in caplog.records if "open to anyone" in r.getMessage()]
    assert len(warnings) == 1


def test_start_up_says_how_many_tokens_it_loaded(database_url, caplog):
    settings = make_settings(database_url, api_read_tokens=frozenset({READ}))
    with caplog.at_level(logging.INFO, logger="config_service.main"):
        with TestClient(create_app(settings)):
            pass
    assert "1 token(s) in force: 1 from API_READ_TOKENS/API_WRITE_TOKENS" in caplog.text


def test_tokens_are_never_logged(guarded, caplog):
    guarded.get("/api/v1/applications", headers=bearer(READ))
    guarded.get("/api/v1/applications", headers=bearer("wrong-secret"))
    assert READ not in caplog.text and "wrong-secret" not in caplog.text


SCOPED = FileToken("team-payments", "write", ("payments-*",))
GLOBAL_READER = FileToken("dashboards", "read", ("*",))
EXPIRED = FileToken(
    "old-ci", "write", ("*",), expires=(datetime.now(UTC) - timedelta(hours=1)).isoformat()
)


@pytest.fixture(scope="module")
def from_file(database_url, tmp_path_factory):
    path = write_tokens_file(
        tmp_path_factory.mktemp("tokens") / "tokens.toml", SCOPED, GLOBAL_READER, EXPIRED
    )
    settings = make_settings(database_url, api_tokens_file=path, log_level="info")
    with TestClient(create_app(settings)) as client:
        yield client


def test_file_tokens_authenticate_and_their_role_decides_writing(from_file):
    assert from_file.get("/api/v1/applications", headers=GLOBAL_READER.headers).status_code == 200
    body = {"name": f"payments-{random_name()}"}
    refused = from_file.post("/api/v1/applications", json=body, headers=GLOBAL_READER.headers)
    assert refused.status_code == 403
    assert refused.json()["detail"] == "This token may read but not write."
    assert (
        from_file.post("/api/v1/applications", json=body, headers=SCOPED.headers).status_code == 201
    )


def test_an_expired_token_is_401_and_says_so(from_file):
    response = from_file.get("/api/v1/applications", headers=EXPIRED.headers)
    assert response.status_code == 401
    assert "expired" in response.json()["detail"]
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_a_digest_sent_as_the_secret_is_unknown(from_file):
    response = from_file.get("/api/v1/applications", headers=bearer(SCOPED.digest))
    assert response.status_code == 401


def test_metrics_need_a_token_of_every_application(from_file):
    assert from_file.get("/metrics", headers=GLOBAL_READER.headers).status_code == 200
    refused = from_file.get("/metrics", headers=SCOPED.headers)
    assert refused.status_code == 403
    assert '"*"' in refused.json()["detail"]
    assert from_file.get("/metrics").status_code == 401


def request_lines(caplog) -> list[dict]:
    return [r.fields for r in caplog.records if r.name == "config_service.requests"]


def test_the_request_log_names_the_token_never_its_secret_or_digest(from_file, caplog):
    with caplog.at_level(logging.INFO, logger="config_service.requests"):
        from_file.get("/api/v1/applications", headers=SCOPED.headers)
        from_file.get("/api/v1/applications", headers=bearer("not-a-token"))
    named, unknown = request_lines(caplog)[-2:]
    assert named["token"] == "team-payments"
    assert "token" not in unknown  # nobody was authenticated
    logged = caplog.text + json.dumps(request_lines(caplog))
    for hidden in (SCOPED.secret, SCOPED.digest, "not-a-token"):
        assert hidden not in logged


def test_environment_tokens_are_logged_by_their_generated_name(guarded, caplog):
    with caplog.at_level(logging.INFO, logger="config_service.requests"):
        guarded.get("/api/v1/applications", headers=bearer(WRITE))
    assert request_lines(caplog)[-1]["token"] == generated_name("write", WRITE)
