from fastapi.testclient import TestClient

from config_service.main import create_app
from config_service.store.migration_files import discover
from config_service.store.migrations import apply_migrations
from conftest import make_settings
from test.migration_files import files_of, write_files


def test_live_is_200_without_any_token(database_url):
    app = create_app(make_settings(database_url, api_read_tokens=frozenset({"secret"})))
    with TestClient(app) as client:
        assert client.get("/health/live").json() == {"status": "ok"}
        assert client.get("/health/ready").status_code == 200


def test_ready_is_200_on_a_migrated_database(client):
    response = client.get("/health/ready")
    assert (response.status_code, response.json()) == (200, {"status": "ready"})


def test_ready_is_503_while_migrations_are_pending(empty_database, tmp_path):
    # Apply only the first migration: the service's later ones are pending.
    apply_migrations(empty_database, write_files(tmp_path, files_of(discover()[:1])))

    with TestClient(create_app(make_settings(empty_database))) as client:
        response = client.get("/health/ready")

    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert "0002_create_configurations" in response.json()["detail"]


def test_ready_is_503_when_an_applied_migration_differs_from_this_build(empty_database, tmp_path):
    files = files_of(discover())
    files["0001_create_applications.sql"] += "\n-- edited"
    apply_migrations(empty_database, write_files(tmp_path, files))

    with TestClient(create_app(make_settings(empty_database))) as client:
        response = client.get("/health/ready")

    assert response.status_code == 503
    assert "0001_create_applications changed after it was applied" in response.json()["detail"]


def test_ready_is_503_while_a_function_body_of_this_build_is_not_applied(empty_database, tmp_path):
    files = files_of(discover())
    files["functions/configuration_put.sql"] += "\n-- another build's body"
    apply_migrations(empty_database, write_files(tmp_path, files))

    with TestClient(create_app(make_settings(empty_database))) as client:
        response = client.get("/health/ready")

    assert response.status_code == 503
    assert response.json()["detail"] == "Migrations are pending: functions/configuration_put."
