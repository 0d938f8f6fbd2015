"""Resources for end-to-end tests: created over HTTP, read by version, changed behind the service.

A configuration's version is its config document's "v". Direct SQL goes straight to PostgreSQL,
as another tool or a migration would: only the triggers tell the service about it.
"""

import httpx
from ulid import ULID

from test.postgres import execute
from test.random_refs import random_name

API = "/api/v1"


def create_application(http: httpx.Client) -> dict:
    response = http.post(f"{API}/applications", json={"name": random_name("app")})
    assert response.status_code == 201, response.text
    return {**response.json(), "path": f"{API}/applications/{response.json()['id']}"}


def create_configuration(http: httpx.Client, application: dict | None = None) -> dict:
    """A configuration at version 0, in `application` or a new one."""
    application = application or create_application(http)
    response = http.post(
        f"{API}/configurations",
        json={"application_id": application["id"], "name": random_name("cfg"), "config": {"v": 0}},
    )
    assert response.status_code == 201, response.text
    return {**response.json(), "path": f"{API}/configurations/{response.json()['id']}"}


def put_version(http: httpx.Client, configuration: dict, version: int) -> httpx.Response:
    return http.put(
        configuration["path"], json={"name": configuration["name"], "config": {"v": version}}
    )


def version(response: httpx.Response) -> int:
    """The version a configuration GET answered."""
    assert response.status_code == 200, response.text
    return response.json()["config"]["v"]


def insert_application(database_url: str) -> str:
    """An application INSERTed in SQL, as psql would; its id."""
    application_id = str(ULID())
    execute(
        database_url,
        "INSERT INTO applications (id, name) VALUES (%s, %s)",
        (application_id, random_name("app")),
    )
    return application_id


def set_version_in_sql(database_url: str, configuration: dict, new_version: int) -> None:
    execute(
        database_url,
        "UPDATE configurations SET config = jsonb_build_object('v', %s::int) WHERE id = %s",
        (new_version, configuration["id"]),
    )
