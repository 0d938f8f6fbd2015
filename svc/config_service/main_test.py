from fastapi.testclient import TestClient

from config_service.main import VERSION, create_app
from config_service.store.migrations import apply_migrations
from conftest import make_settings
from test.postgres import value
from test.random_refs import random_name
from test.waiting import until


def open_connections(database_url: str) -> int:
    return value(
        database_url,
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE datname = current_database() AND application_name LIKE 'config-service%'",
    )


def test_the_lifespan_opens_the_pool_and_listener_and_closes_them(empty_database):
    apply_migrations(empty_database)
    with TestClient(create_app(make_settings(empty_database, db_pool_size=3))) as client:
        assert client.get("/health/ready").status_code == 200
        # The pool fills in the background, beside the listener.
        until(lambda: open_connections(empty_database) == 3 + 1, message="pool not filled")
    # A backend ends a moment after its client closes the connection.
    until(lambda: open_connections(empty_database) == 0, message="connections left open")


def test_an_unauthenticated_oversized_body_is_refused_for_the_token_first(database_url):
    settings = make_settings(database_url, api_write_tokens=frozenset({"w"}), max_body_bytes=1024)
    with TestClient(create_app(settings)) as client:
        response = client.post(
            "/api/v1/applications",
            content=b'{"name": "' + b"x" * 5000 + b'"}',
            headers={"content-type": "application/json"},
        )
    assert response.status_code == 401


def test_the_validation_limits_are_the_apps_own_settings(database_url):
    """A config nested 4 deep is refused by an app told MAX_JSON_DEPTH=2, whatever .env says."""
    with TestClient(create_app(make_settings(database_url, max_json_depth=2))) as client:
        application = client.post("/api/v1/applications", json={"name": random_name()}).json()
        response = client.post(
            "/api/v1/configurations",
            json={
                "application_id": application["id"],
                "name": "deep",
                "config": {"a": {"b": {"c": {}}}},
            },
        )
        created = client.post(
            "/api/v1/configurations",
            json={"application_id": application["id"], "name": "flat", "config": {"a": {}}},
        ).json()
        replaced = client.put(
            f"/api/v1/configurations/{created['id']}",
            json={"name": "flat", "config": {"a": {"b": {}}}},
        )
    assert response.status_code == replaced.status_code == 422
    for refused in (response, replaced):
        assert refused.json()["errors"] == [
            {
                "loc": ["body", "config"],
                "msg": "Value error, must not nest objects and arrays deeper than 2",
            }
        ]


def test_the_api_lives_under_api_v1_and_health_outside(client):
    paths = {route.path for route in client.app.routes}
    assert {
        "/api/v1/applications",
        "/api/v1/applications/{id}",
        "/api/v1/configurations",
        "/api/v1/configurations/{id}",
        "/health/live",
        "/health/ready",
    } <= paths


def test_the_version_is_the_projects(client):
    assert client.get("/openapi.json").json()["info"]["version"] == VERSION
    assert VERSION.count(".") == 2


def test_a_trailing_slash_on_an_api_path_is_a_404_problem_not_a_redirect(client):
    response = client.get("/api/v1/applications/", follow_redirects=False)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert "/api/v1/applications (without the trailing slash)" in response.json()["detail"]


def test_metrics_have_series_only_for_what_can_happen(client):
    client.get("/openapi.json")
    client.post("/openapi.json")
    lines = client.get("/metrics").text.splitlines()
    requests = [line for line in lines if line.startswith("config_service_http_requests_total{")]
    counts = {line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1]) for line in requests}
    prefix = 'config_service_http_requests_total{route="/openapi.json"'
    assert counts[f'{prefix},method="GET",status="2xx"}}'] >= 1  # the session's client shares
    assert counts[f'{prefix},method="other",status="4xx"}}'] >= 1
    assert not [line for line in requests if 'method="POST"' in line and "openapi" in line]
    assert not [line for line in requests if 'status="1xx"' in line]
    assert not [line for line in requests if 'method="PUT",status="3xx"' in line]
    unmatched = [line for line in requests if 'route="unmatched"' in line]
    assert unmatched and all('status="4xx"' in line or 'status="5xx"' in line for line in unmatched)


def test_an_app_told_to_migrate_migrates_its_database_before_serving(empty_database):
    settings = make_settings(empty_database)
    with TestClient(create_app(settings, migrate=True)) as client:
        assert client.get("/health/ready").status_code == 200
        created = client.post("/api/v1/applications", json={"name": random_name()})
    assert created.status_code == 201
