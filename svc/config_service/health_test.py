import pytest
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


def edited(name: str):
    """The shipped migrations, `name` changed as another build would have it."""

    def edit(files: dict[str, str]) -> dict[str, str]:
        return {**files, name: files[name] + "\n-- another build's text"}

    return edit


@pytest.mark.parametrize(
    ("applied", "said"),
    [
        (lambda files: dict(list(files.items())[:1]), "pending: 0002_create_configurations, "),
        (edited("0001_create_applications.sql"), "0001_create_applications changed after it"),
        (edited("functions/configuration_put.sql"), "pending: functions/configuration_put."),
    ],
    ids=["a versioned file not applied", "an applied file changed", "a function body not applied"],
)
def test_ready_is_503_while_the_database_is_not_this_builds(
    empty_database, tmp_path, applied, said
):
    apply_migrations(empty_database, write_files(tmp_path, applied(files_of(discover()))))

    with TestClient(create_app(make_settings(empty_database))) as client:
        response = client.get("/health/ready")

    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert said in response.json()["detail"]
